/* nc_crypto_aead.c: the AEAD half of nc_crypto (see nc_crypto.c for the
 * whole binding): aead_seal/5, aead_open/6 and their traced probes, over
 * OpenSSL 3's EVP cipher API. AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305;
 * 12-byte nonces, 16-byte tags both ways.
 *
 * No copy: key, nonce, AAD and input are BORROWED views of the caller's
 * binaries, and the cipher writes the output once, into a nocopy_buf of the
 * final size that becomes the result binary (HANDED OVER). */
#include <stdint.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "nc_crypto.h"

#define NONCE_BYTES 12u
#define TAG_BYTES 16u

/* EVP_CipherUpdate takes an int length: larger pieces go in chunks. */
#define EVP_CHUNK ((size_t)1 << 30)

typedef struct aead_alg {
    nocopy_atom atom;
    const char *name;
    size_t key_bytes;
    const char *key_expected;     /* completes "expected ..." */
    EVP_CIPHER *cipher;
} aead_alg;

static aead_alg aeads[] = {
    {AM_AES_128_GCM, "AES-128-GCM", 16, "a 16-byte binary key for aes_128_gcm", NULL},
    {AM_AES_256_GCM, "AES-256-GCM", 32, "a 32-byte binary key for aes_256_gcm", NULL},
    {AM_CHACHA20_POLY1305, "ChaCha20-Poly1305", 32,
     "a 32-byte binary key for chacha20_poly1305", NULL},
};
#define NAEADS (sizeof aeads / sizeof aeads[0])
#define AEAD_EXPECTED "aes_128_gcm, aes_256_gcm or chacha20_poly1305"

/* Explicit fetches, once, as for the digests (nc_crypto.c). */
int nc_crypto_aead_load(void)
{
    for (size_t i = 0; i < NAEADS; i++)
        if (!(aeads[i].cipher = EVP_CIPHER_fetch(NULL, aeads[i].name, NULL)))
            return NOCOPY_EINTERNAL;
    return NOCOPY_OK;
}

/* Accepts a partial load. */
void nc_crypto_aead_unload(void)
{
    for (size_t i = 0; i < NAEADS; i++) {
        EVP_CIPHER_free(aeads[i].cipher);
        aeads[i].cipher = NULL;
    }
}

/* ---- arguments and EVP ---------------------------------------------------------- */

static int arg_aead(nocopy_call *call, unsigned index, const aead_alg **out)
{
    nocopy_atom a;
    if (nocopy_arg_atom(call, index, &a) == NOCOPY_OK)
        for (size_t i = 0; i < NAEADS; i++)
            if (aeads[i].atom == a) {
                *out = &aeads[i];
                return NOCOPY_OK;
            }
    return nocopy_fail_badarg(call, index, AEAD_EXPECTED);
}

/* out == NULL feeds AAD. Otherwise writes exactly v->total bytes at out (GCM
 * and ChaCha20-Poly1305 are stream modes: each update outputs its input). */
static int cipher_feed(EVP_CIPHER_CTX *c, uint8_t *out, const nocopy_iovec *v)
{
    for (size_t i = 0; i < v->count; i++) {
        const uint8_t *p = v->pieces[i].data;
        size_t len = v->pieces[i].size;
        while (len > 0) {
            int n = (int)(len > EVP_CHUNK ? EVP_CHUNK : len), outl = 0;
            if (!EVP_CipherUpdate(c, out, &outl, p, n) || (out && outl != n))
                return 0;
            if (out)
                out += n;
            p += n;
            len -= (size_t)n;
        }
    }
    return 1;
}

/* ---- seal and open ------------------------------------------------------------- */

enum aead_outcome { AEAD_DONE, AEAD_AUTH, AEAD_FAILED, AEAD_NOMEM };

/* One AEAD operation over iodata. Encrypt (enc = 1): writes in->total bytes
 * of ciphertext at `out` and the tag to `tag`. Decrypt: writes the plaintext
 * at `out` and checks `tag`. key, nonce, aad and in are BORROWED, read only. */
static enum aead_outcome aead_run(const aead_alg *a, int enc, const uint8_t *key,
                                  const uint8_t *nonce, const nocopy_iovec *aad,
                                  const nocopy_iovec *in, uint8_t *out,
                                  uint8_t tag[TAG_BYTES])
{
    enum aead_outcome r = AEAD_FAILED;
    uint8_t none[1];              /* final's output position when out is NULL */
    int outl = 0;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (!c)
        return AEAD_NOMEM;
    /* Both ciphers' default IV length is 12 bytes, NONCE_BYTES. */
    if (!EVP_CipherInit_ex2(c, a->cipher, key, nonce, enc, NULL) ||
        !cipher_feed(c, NULL, aad) || !cipher_feed(c, out, in))
        goto done;
    if (!enc && !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, TAG_BYTES, tag))
        goto done;
    /* Stream modes produce no bytes at final; the position is right anyway. */
    if (!EVP_CipherFinal_ex(c, out ? out + in->total : none, &outl)) {
        r = enc ? AEAD_FAILED : AEAD_AUTH;
        goto done;
    }
    if (enc && !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, TAG_BYTES, tag))
        goto done;
    r = AEAD_DONE;
done:
    EVP_CIPHER_CTX_free(c);
    return r;
}

/* (Cipher, Key, Nonce, AAD, In): the arguments seal and open share, checked in
 * argument order so that the first bad one is the one reported. */
static int aead_args(nocopy_call *call, const aead_alg **a, nocopy_bytes *key,
                     nocopy_bytes *nonce, nocopy_iovec *aad, nocopy_iovec *in,
                     nocopy_bytes one[2])
{
    int st;
    if ((st = arg_aead(call, 0, a)) ||
        (st = nc_crypto_arg_fixed(call, 1, (*a)->key_bytes, (*a)->key_expected, key)) ||
        (st = nc_crypto_arg_fixed(call, 2, NONCE_BYTES, "a 12-byte binary nonce", nonce)) ||
        (st = nc_crypto_arg_data(call, 3, &one[0], aad)) || (st = nc_crypto_arg_data(call, 4, &one[1], in)))
        return st;
    return NOCOPY_OK;
}

/* Where the input was read and the output written: for the *_traced probes. */
typedef struct trace {
    uint64_t in_addr;
    uint64_t out_addr;
} trace;

static int do_seal(nocopy_call *call, trace *tr, nocopy_value *v)
{
    const aead_alg *a;
    nocopy_bytes key, nonce, one[2];   /* BORROWED */
    nocopy_iovec aad, plain;      /* BORROWED: read where Erlang keeps them */
    nocopy_buf *ct = NULL;        /* OWNED until handed over in the result */
    uint8_t small[NOCOPY_HEAP_BINARY_LIMIT], *out = small;
    uint8_t tag[TAG_BYTES];
    int st;

    if ((st = aead_args(call, &a, &key, &nonce, &aad, &plain, one)) != NOCOPY_OK)
        return st;
    /* One allocation at the final size; the cipher writes the result into it.
     * Up to 64 bytes the runtime copies the result into the caller's heap
     * whatever C does, so the cipher writes to the stack instead. */
    if (plain.total > NOCOPY_HEAP_BINARY_LIMIT) {
        if (!(ct = nocopy_buf_alloc(call, plain.total)))
            return NOCOPY_ENOMEM;
        out = ct->data;
    }
    enum aead_outcome r = aead_run(a, 1, key.data, nonce.data, &aad, &plain, out, tag);
    nocopy_consume(call, aad.total + plain.total);
    if (r != AEAD_DONE) {
        nocopy_buf_free(ct);
        return r == AEAD_NOMEM ? NOCOPY_ENOMEM : NOCOPY_EINTERNAL;
    }
    if (tr) {
        tr->in_addr = plain.count ? (uintptr_t)plain.pieces[0].data : 0;
        tr->out_addr = (uintptr_t)out;           /* before the hand-over */
    }
    if (ct)
        *v = nocopy_build(call, "{Bc}", ct, tag, (size_t)TAG_BYTES);   /* ct HANDED OVER */
    else
        *v = nocopy_build(call, "{cc}", small, plain.total, tag, (size_t)TAG_BYTES);
    return NOCOPY_OK;
}

static int do_open(nocopy_call *call, trace *tr, nocopy_value *v)
{
    const aead_alg *a;
    nocopy_bytes key, nonce, tag_in, one[2];   /* BORROWED */
    nocopy_iovec aad, ct;              /* BORROWED */
    nocopy_buf *plain = NULL;          /* OWNED until handed over */
    uint8_t small[NOCOPY_HEAP_BINARY_LIMIT], *out = small;
    uint8_t tag[TAG_BYTES];            /* EVP wants a writable tag */
    int st;

    if ((st = aead_args(call, &a, &key, &nonce, &aad, &ct, one)) ||
        (st = nc_crypto_arg_fixed(call, 5, TAG_BYTES, "a 16-byte binary tag", &tag_in)))
        return st;
    memcpy(tag, tag_in.data, TAG_BYTES);
    if (ct.total > NOCOPY_HEAP_BINARY_LIMIT) {   /* as in do_seal */
        if (!(plain = nocopy_buf_alloc(call, ct.total)))
            return NOCOPY_ENOMEM;
        out = plain->data;
    }
    enum aead_outcome r = aead_run(a, 0, key.data, nonce.data, &aad, &ct, out, tag);
    nocopy_consume(call, aad.total + ct.total);
    if (r != AEAD_DONE) {
        /* Unauthenticated plaintext never reaches Erlang: the buffer was ours. */
        OPENSSL_cleanse(out, ct.total);
        nocopy_buf_free(plain);
        if (r == AEAD_AUTH) {
            *v = nocopy_build(call, "{aa}", (nocopy_atom)NOCOPY_ATOM_ERROR, (nocopy_atom)AM_AUTH);
            return NOCOPY_OK;
        }
        return r == AEAD_NOMEM ? NOCOPY_ENOMEM : NOCOPY_EINTERNAL;
    }
    if (tr) {
        tr->in_addr = ct.count ? (uintptr_t)ct.pieces[0].data : 0;
        tr->out_addr = (uintptr_t)out;
    }
    if (plain)
        *v = nocopy_build(call, "{aB}", (nocopy_atom)NOCOPY_ATOM_OK, plain);   /* HANDED OVER */
    else
        *v = nocopy_build(call, "{ac}", (nocopy_atom)NOCOPY_ATOM_OK, small, ct.total);
    return NOCOPY_OK;
}

int nc_crypto_aead_seal(nocopy_call *call)
{   /* (Cipher, Key, Nonce, AAD, PlainText) */
    nocopy_value v;
    int st = do_seal(call, NULL, &v);
    return st != NOCOPY_OK ? st : nocopy_return(call, v);
}

int nc_crypto_aead_open(nocopy_call *call)
{   /* (Cipher, Key, Nonce, AAD, CipherText, Tag) */
    nocopy_value v;
    int st = do_open(call, NULL, &v);
    return st != NOCOPY_OK ? st : nocopy_return(call, v);
}

int nc_crypto_aead_seal_traced(nocopy_call *call)
{   /* (Cipher, Key, Nonce, AAD, PlainText) */
    trace tr = {0, 0};
    nocopy_value v;
    int st = do_seal(call, &tr, &v);
    if (st != NOCOPY_OK)
        return st;
    return nocopy_return(call, nocopy_build(call, "{vII}", v, tr.in_addr, tr.out_addr));
}

int nc_crypto_aead_open_traced(nocopy_call *call)
{   /* (Cipher, Key, Nonce, AAD, CipherText, Tag) */
    trace tr = {0, 0};
    nocopy_value v;
    int st = do_open(call, &tr, &v);
    if (st != NOCOPY_OK)
        return st;
    return nocopy_return(call, nocopy_build(call, "{vII}", v, tr.in_addr, tr.out_addr));
}
