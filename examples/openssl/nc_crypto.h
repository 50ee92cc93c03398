/* nc_crypto.h: what the two files of the nc_crypto binding share.
 * nc_crypto.c: digests, HMAC, streaming contexts, argument readers and the
 * module's table; nc_crypto_aead.c: AEAD. Not a public header: the binding's
 * interface is the Erlang one generated from the table. */
#ifndef NC_CRYPTO_H
#define NC_CRYPTO_H

#include <stddef.h>

#include "nocopy.h"

/* The module's atoms: indexes into the atom table of nc_crypto.c. */
enum {
    AM_SHA224, AM_SHA256, AM_SHA384, AM_SHA512,
    AM_AES_128_GCM, AM_AES_256_GCM, AM_CHACHA20_POLY1305,
    AM_AUTH
};

/* Argument readers (nc_crypto.c). Each returns NOCOPY_OK or records a badarg
 * for argument `index` and returns NOCOPY_EBADARG. */

/* A binary of exactly `size` bytes, else badarg "expected <expected>".
 * *out is BORROWED. */
int nc_crypto_arg_fixed(nocopy_call *call, unsigned index, size_t size, const char *expected,
                        nocopy_bytes *out);
/* iodata as pieces; a lone binary is one view kept in *one, which must live
 * as long as *out. *out is BORROWED. */
int nc_crypto_arg_data(nocopy_call *call, unsigned index, nocopy_bytes *one,
                       nocopy_iovec *out);

/* AEAD (nc_crypto_aead.c): the ciphers, fetched at load, and the wrapped
 * functions of the table. */
int nc_crypto_aead_load(void);
void nc_crypto_aead_unload(void);
int nc_crypto_aead_seal(nocopy_call *call);           /* (Cipher, Key, Nonce, AAD, PlainText) */
int nc_crypto_aead_open(nocopy_call *call);           /* (Cipher, Key, Nonce, AAD, CipherText, Tag) */
int nc_crypto_aead_seal_traced(nocopy_call *call);
int nc_crypto_aead_open_traced(nocopy_call *call);

#endif /* NC_CRYPTO_H */
