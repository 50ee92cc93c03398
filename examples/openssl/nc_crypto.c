/* nc_crypto.c: OpenSSL 3 digests, HMAC and AEAD ciphers for Erlang, written
 * once against nocopy.h and built as the NIF module nc_crypto and the driver
 * client nc_crypto_drv.
 *
 *   hash(Type, Data) -> Digest
 *   hash_init(Type) -> Ctx   hash_update(Ctx, Data) -> ok   hash_final(Ctx) -> Digest
 *   hmac(Type, Key, Data) -> Mac
 *   hmac_init(Type, Key) -> Ctx   hmac_update(Ctx, Data) -> ok   hmac_final(Ctx) -> Mac
 *   aead_seal(Cipher, Key, Nonce, AAD, PlainText) -> {CipherText, Tag}
 *   aead_open(Cipher, Key, Nonce, AAD, CipherText, Tag) -> {ok, PlainText} | {error, auth}
 *   live_contexts() -> N        (hash and HMAC contexts not yet destroyed)
 *
 * This file holds the digests, HMAC, the streaming contexts and the module's
 * table; nc_crypto_aead.c the AEAD functions; nc_crypto.h what they share.
 *
 * Type: sha224 | sha256 | sha384 | sha512. Cipher: aes_128_gcm (16-byte key),
 * aes_256_gcm or chacha20_poly1305 (32-byte keys). Nonce: 12 bytes. Tag: 16
 * bytes, both ways (truncated tags are refused). Key, Nonce and Tag are
 * binaries of exactly those sizes; Data, AAD, PlainText, CipherText and HMAC
 * keys are any iodata. A bad argument raises badarg naming it and what was
 * expected ("argument 2: expected a 32-byte binary key for aes_256_gcm").
 *
 * No copy: iodata is read with nocopy_arg_iovec, a vector of views of the
 * caller's binaries (a lone binary is read as one view); each piece goes to
 * EVP as it is, never flattened. The AEAD output is allocated once
 * (nocopy_buf_alloc) at its final size, the cipher writes into it, and it
 * becomes the result binary (nocopy_make_buf, HANDED OVER). Results of at
 * most 64 bytes are heap binaries in Erlang whatever C does (the runtime
 * copies them), so digests, MACs, tags and AEAD outputs that small are
 * written on the stack and returned as copies: no allocation for nothing.
 *
 * Streaming contexts are mutable, unlike OTP crypto's states: update changes
 * Ctx in place and returns ok, and final finishes it and closes it (later use
 * raises badarg "the hash_ctx handle is closed"). Its destructor frees the EVP
 * context exactly once: when final's call returns, or, for a context never
 * finished, when Erlang drops the last reference (NIF) or the port closes
 * (driver: driver handles are not garbage-collected). A context serves one
 * call at a time: a call that finds it in use by another raises badarg
 * instead of racing on OpenSSL's state.
 *
 * Probes for the tests and the benchmark, not part of the crypto API:
 * aead_seal_traced/5 and aead_open_traced/6 also return the address C read
 * the first input piece at and the address of the output buffer it wrote;
 * address_of/1 is the address of a binary's bytes as C sees them. */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "nc_crypto.h"

/* Scheduling. Calls whose binary arguments total more than these many bytes
 * move to a dirty CPU scheduler (NIF) or a worker thread (driver); smaller
 * ones run on the caller's scheduler and charge its time slice
 * (nocopy_consume). Measured on the reference 2-core machine with
 * `openssl speed`: SHA-256 and HMAC-SHA256 1.2 GB/s, SHA-512 450 MB/s,
 * AES-256-GCM 3.2 GB/s, ChaCha20-Poly1305 2.3 GB/s. So the slowest digest
 * spends at most about 150 us on 64 KiB and the slowest AEAD about 115 us on
 * 256 KiB, well under the 1 ms a NIF may hold a scheduler, while a dirty
 * hand-off costs 10 to 20 us, a fifth of the work or more below these sizes.
 * nocopy measures the binaries anywhere in the arguments (nested iodata too,
 * within its bound of 4096 terms and 64 levels; README: "Scheduling").
 * Their Erlang twin is ?HASH_DIRTY_ABOVE / ?AEAD_DIRTY_ABOVE in
 * nc_crypto_bench.erl, which reports where each cell ran. */
#define HASH_DIRTY_ABOVE (64u * 1024u)
#define AEAD_DIRTY_ABOVE (256u * 1024u)

/* ---- algorithms, fetched once at load ---------------------------------------- */

static const char *const atoms[] = {
    "sha224", "sha256", "sha384", "sha512",
    "aes_128_gcm", "aes_256_gcm", "chacha20_poly1305",
    "auth", NULL};

typedef struct digest_alg {
    nocopy_atom atom;
    const char *name;             /* OpenSSL's name, also HMAC's digest parameter */
    EVP_MD *md;
    EVP_MAC_CTX *hmac;            /* HMAC with this digest and an empty key: each
                                   * call duplicates it and sets its own key, so no
                                   * call looks the digest up by name. Read only. */
} digest_alg;

static digest_alg digests[] = {
    {AM_SHA224, "SHA2-224", NULL, NULL},
    {AM_SHA256, "SHA2-256", NULL, NULL},
    {AM_SHA384, "SHA2-384", NULL, NULL},
    {AM_SHA512, "SHA2-512", NULL, NULL},
};
#define NDIGESTS (sizeof digests / sizeof digests[0])
#define DIGEST_EXPECTED "sha224, sha256, sha384 or sha512"

static EVP_MAC *hmac_alg;

/* HMAC takes a NULL key as "keep the previous one": empty keys point here. */
static const unsigned char empty_key[1];

static void crypto_unload(void)
{
    for (size_t i = 0; i < NDIGESTS; i++) {
        EVP_MD_free(digests[i].md);
        digests[i].md = NULL;
        EVP_MAC_CTX_free(digests[i].hmac);
        digests[i].hmac = NULL;
    }
    nc_crypto_aead_unload();
    EVP_MAC_free(hmac_alg);
    hmac_alg = NULL;
}

/* Explicit fetches, once: the implicit ones (EVP_sha256(), a digest name in
 * every call's parameters) take a lock and search the provider store per call. */
static int crypto_load(void)
{
    int ok = (hmac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL)) != NULL;
    for (size_t i = 0; ok && i < NDIGESTS; i++) {
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digests[i].name, 0),
            OSSL_PARAM_construct_end()};
        ok = (digests[i].md = EVP_MD_fetch(NULL, digests[i].name, NULL)) != NULL &&
             (digests[i].hmac = EVP_MAC_CTX_new(hmac_alg)) != NULL &&
             EVP_MAC_init(digests[i].hmac, empty_key, 0, params);
    }
    if (ok && nc_crypto_aead_load() == NOCOPY_OK)
        return NOCOPY_OK;
    crypto_unload();
    return NOCOPY_EINTERNAL;
}

/* ---- streaming contexts (handles) ---------------------------------------------- */

typedef struct stream_ctx {
    EVP_MD_CTX *md;               /* a hash_ctx's state, OWNED by the handle */
    EVP_MAC_CTX *mac;             /* an hmac_ctx's state, OWNED by the handle */
    atomic_bool busy;             /* a call is using md/mac */
    bool finished;                /* final ran; read and written only while busy */
} stream_ctx;

/* Contexts made and not yet destroyed, both types: live_contexts/0. */
static atomic_long live;

/* Runs exactly once per context (nocopy's guarantee), on any thread. `obj` is
 * BORROWED: nocopy frees its memory. EVP_MAC_CTX_free wipes the HMAC key. */
static void stream_dtor(void *obj)
{
    stream_ctx *s = obj;
    EVP_MD_CTX_free(s->md);
    EVP_MAC_CTX_free(s->mac);
    atomic_fetch_sub(&live, 1);
}

static const nocopy_handle_type hash_ctx_type = {
    .name = "hash_ctx", .size = sizeof(stream_ctx), .dtor = stream_dtor};
static const nocopy_handle_type hmac_ctx_type = {
    .name = "hmac_ctx", .size = sizeof(stream_ctx), .dtor = stream_dtor};

/* A new context, OWNED until nocopy_make_handle or nocopy_handle_release
 * (which runs the destructor, so the live count stays balanced). */
static stream_ctx *stream_new(nocopy_call *call, const nocopy_handle_type *type)
{
    stream_ctx *s = nocopy_handle_new(call, type);
    if (s) {
        atomic_fetch_add(&live, 1);
        atomic_init(&s->busy, false);
    }
    return s;
}

static bool stream_claim(stream_ctx *s)
{
    return !atomic_exchange_explicit(&s->busy, true, memory_order_acquire);
}

static void stream_unclaim(stream_ctx *s)
{
    atomic_store_explicit(&s->busy, false, memory_order_release);
}

/* ---- arguments ------------------------------------------------------------------ */

static int arg_digest(nocopy_call *call, unsigned index, const digest_alg **out)
{
    nocopy_atom a;
    if (nocopy_arg_atom(call, index, &a) == NOCOPY_OK)
        for (size_t i = 0; i < NDIGESTS; i++)
            if (digests[i].atom == a) {
                *out = &digests[i];
                return NOCOPY_OK;
            }
    /* Recorded last, so this message replaces the reader's (the last error
     * recorded wins): one text for a non-atom, an unknown atom, a wrong one. */
    return nocopy_fail_badarg(call, index, DIGEST_EXPECTED);
}

/* Declared in nc_crypto.h, for both files. */
int nc_crypto_arg_fixed(nocopy_call *call, unsigned index, size_t size, const char *expected,
                        nocopy_bytes *out)
{
    if (nocopy_arg_bytes(call, index, out) == NOCOPY_OK && out->size == size)
        return NOCOPY_OK;
    return nocopy_fail_badarg(call, index, expected);
}

/* A lone binary, the common case, is read as one view: the same result as
 * nocopy_arg_iovec for less work. */
int nc_crypto_arg_data(nocopy_call *call, unsigned index, nocopy_bytes *one, nocopy_iovec *out)
{
    if (nocopy_term_type(call, nocopy_arg(call, index)) == NOCOPY_T_BINARY &&
        nocopy_arg_bytes(call, index, one) == NOCOPY_OK) {
        out->pieces = one;
        out->count = 1;
        out->total = one->size;
        return NOCOPY_OK;
    }
    return nocopy_arg_iovec(call, index, out);
}

/* Claims the streaming context `s` (argument `index`, already read) for this
 * call, or fails if another call is using it; stream_unclaim when done. */
static int claim_stream(nocopy_call *call, unsigned index, const nocopy_handle_type *type,
                        stream_ctx *s)
{
    if (stream_claim(s))
        return NOCOPY_OK;
    char expected[80];
    snprintf(expected, sizeof expected, "a %s handle that no other call is using", type->name);
    return nocopy_fail_badarg(call, index, expected);
}

/* ---- feeding iodata to EVP, piece by piece ------------------------------------------ */

static int md_feed(EVP_MD_CTX *c, const nocopy_iovec *v)
{
    for (size_t i = 0; i < v->count; i++)
        if (v->pieces[i].size && !EVP_DigestUpdate(c, v->pieces[i].data, v->pieces[i].size))
            return 0;
    return 1;
}

static int mac_feed(EVP_MAC_CTX *c, const nocopy_iovec *v)
{
    for (size_t i = 0; i < v->count; i++)
        if (v->pieces[i].size && !EVP_MAC_update(c, v->pieces[i].data, v->pieces[i].size))
            return 0;
    return 1;
}

/* An HMAC context keyed with `key` (iodata). HMAC needs the key in one piece:
 * a one-piece key (a binary) is used in place, other shapes are gathered into
 * a scratch copy that is wiped at once. @return : NULL with *st set on failure. */
static EVP_MAC_CTX *hmac_start(const digest_alg *d, const nocopy_iovec *key, int *st)
{
    const unsigned char *k = empty_key;
    unsigned char *gathered = NULL;
    EVP_MAC_CTX *c = NULL;

    *st = NOCOPY_ENOMEM;
    if (key->count == 1 && key->total > 0) {
        k = key->pieces[0].data;
    } else if (key->total > 0) {
        if (!(gathered = malloc(key->total)))
            return NULL;
        size_t at = 0;
        for (size_t i = 0; i < key->count; i++) {
            memcpy(gathered + at, key->pieces[i].data, key->pieces[i].size);
            at += key->pieces[i].size;
        }
        k = gathered;
    }
    if ((c = EVP_MAC_CTX_dup(d->hmac)) && !EVP_MAC_init(c, k, key->total, NULL)) {
        EVP_MAC_CTX_free(c);
        c = NULL;
        *st = NOCOPY_EINTERNAL;
    }
    if (gathered) {
        OPENSSL_cleanse(gathered, key->total);
        free(gathered);
    }
    return c;
}

/* ---- digests and HMAC -------------------------------------------------------------- */

static int nc_hash(nocopy_call *call)
{   /* (Type, Data) */
    const digest_alg *d;
    nocopy_bytes one;
    nocopy_iovec data;            /* BORROWED: views of the caller's binaries */
    uint8_t out[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    int st, ok;

    if ((st = arg_digest(call, 0, &d)) || (st = nc_crypto_arg_data(call, 1, &one, &data)))
        return st;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c)
        return NOCOPY_ENOMEM;
    ok = EVP_DigestInit_ex2(c, d->md, NULL) && md_feed(c, &data) &&
         EVP_DigestFinal_ex(c, out, &len);
    EVP_MD_CTX_free(c);
    nocopy_consume(call, data.total);
    if (!ok)
        return NOCOPY_EINTERNAL;
    return nocopy_return(call, nocopy_make_copy(call, out, len));
}

static int nc_hmac(nocopy_call *call)
{   /* (Type, Key, Data) */
    const digest_alg *d;
    nocopy_bytes one[2];
    nocopy_iovec key, data;       /* BORROWED */
    uint8_t out[EVP_MAX_MD_SIZE];
    size_t len = 0;
    int st, ok;

    if ((st = arg_digest(call, 0, &d)) || (st = nc_crypto_arg_data(call, 1, &one[0], &key)) ||
        (st = nc_crypto_arg_data(call, 2, &one[1], &data)))
        return st;
    EVP_MAC_CTX *c = hmac_start(d, &key, &st);
    if (!c)
        return st;
    ok = mac_feed(c, &data) && EVP_MAC_final(c, out, &len, sizeof out);
    EVP_MAC_CTX_free(c);
    nocopy_consume(call, data.total);
    if (!ok)
        return NOCOPY_EINTERNAL;
    return nocopy_return(call, nocopy_make_copy(call, out, len));
}

static int nc_hash_init(nocopy_call *call)
{   /* (Type) */
    const digest_alg *d;
    stream_ctx *s;
    int st;
    if ((st = arg_digest(call, 0, &d)) != NOCOPY_OK)
        return st;
    if (!(s = stream_new(call, &hash_ctx_type)))
        return NOCOPY_ENOMEM;
    if (!(s->md = EVP_MD_CTX_new()) || !EVP_DigestInit_ex2(s->md, d->md, NULL)) {
        st = s->md ? NOCOPY_EINTERNAL : NOCOPY_ENOMEM;
        nocopy_handle_release(s);          /* runs stream_dtor */
        return st;
    }
    return nocopy_return(call, nocopy_make_handle(call, s));   /* HANDED OVER */
}

static int nc_hmac_init(nocopy_call *call)
{   /* (Type, Key) */
    const digest_alg *d;
    nocopy_bytes one;
    nocopy_iovec key;             /* BORROWED; HMAC keeps its own copy */
    stream_ctx *s;
    int st;
    if ((st = arg_digest(call, 0, &d)) || (st = nc_crypto_arg_data(call, 1, &one, &key)))
        return st;
    if (!(s = stream_new(call, &hmac_ctx_type)))
        return NOCOPY_ENOMEM;
    if (!(s->mac = hmac_start(d, &key, &st))) {
        nocopy_handle_release(s);
        return st;
    }
    return nocopy_return(call, nocopy_make_handle(call, s));
}

/* (Ctx, Data) -> ok, for either context type. */
static int stream_update(nocopy_call *call, const nocopy_handle_type *type)
{
    void *obj;                    /* BORROWED: the handle cannot die during the call */
    nocopy_bytes one;
    nocopy_iovec data;            /* BORROWED */
    int st, ok;
    /* Claimed last, once nothing else can fail before the unclaim. */
    if ((st = nocopy_arg_handle(call, 0, type, &obj)) ||
        (st = nc_crypto_arg_data(call, 1, &one, &data)) || (st = claim_stream(call, 0, type, obj)))
        return st;
    stream_ctx *s = obj;
    if (s->finished) {            /* lost a race with final: it closed the handle */
        stream_unclaim(s);
        return NOCOPY_ECLOSED;
    }
    ok = s->md ? md_feed(s->md, &data) : mac_feed(s->mac, &data);
    stream_unclaim(s);
    nocopy_consume(call, data.total);
    if (!ok)
        return NOCOPY_EINTERNAL;
    return nocopy_return(call, nocopy_make_atom(call, NOCOPY_ATOM_OK));
}

/* (Ctx) -> Digest | Mac, and the context is closed. */
static int stream_final(nocopy_call *call, const nocopy_handle_type *type)
{
    void *obj;                    /* BORROWED */
    uint8_t out[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    size_t len = 0;
    int st, ok;
    if ((st = nocopy_arg_handle(call, 0, type, &obj)) || (st = claim_stream(call, 0, type, obj)))
        return st;
    stream_ctx *s = obj;
    if (s->finished) {
        stream_unclaim(s);
        return NOCOPY_ECLOSED;
    }
    if (s->md) {
        ok = EVP_DigestFinal_ex(s->md, out, &mdlen);
        len = mdlen;
    } else {
        ok = EVP_MAC_final(s->mac, out, &len, sizeof out);
    }
    s->finished = true;
    stream_unclaim(s);
    /* The destructor frees the EVP state once this call has returned. */
    nocopy_handle_close(s);
    if (!ok)
        return NOCOPY_EINTERNAL;
    return nocopy_return(call, nocopy_make_copy(call, out, len));
}

static int nc_hash_update(nocopy_call *call) { return stream_update(call, &hash_ctx_type); }
static int nc_hmac_update(nocopy_call *call) { return stream_update(call, &hmac_ctx_type); }
static int nc_hash_final(nocopy_call *call) { return stream_final(call, &hash_ctx_type); }
static int nc_hmac_final(nocopy_call *call) { return stream_final(call, &hmac_ctx_type); }

static int nc_live_contexts(nocopy_call *call)
{   /* () */
    long n = atomic_load(&live);
    return nocopy_return(call, nocopy_make_i64(call, n));
}

static int nc_address_of(nocopy_call *call)
{   /* (Binary) */
    nocopy_bytes b;               /* BORROWED; only its address is returned */
    int st;
    if ((st = nocopy_arg_bytes(call, 0, &b)) != NOCOPY_OK)
        return st;
    return nocopy_return(call, nocopy_make_u64(call, (uint64_t)(uintptr_t)b.data));
}

/* ---- the table: the single source of the Erlang stubs and their specs ---------------- */

#define DIGEST "Type :: nc_crypto:digest()"
#define SEAL_ARGS                                                                 \
    "Cipher :: nc_crypto:aead(), Key :: binary(), Nonce :: <<_:96>>, AAD :: iodata(), " \
    "PlainText :: iodata()"
#define OPEN_ARGS                                                                 \
    "Cipher :: nc_crypto:aead(), Key :: binary(), Nonce :: <<_:96>>, AAD :: iodata(), " \
    "CipherText :: iodata(), Tag :: <<_:128>>"
#define SEALED "{CipherText :: binary(), Tag :: <<_:128>>}"
#define OPENED "{ok, PlainText :: binary()} | {error, auth}"
#define ADDRS "InAddr :: non_neg_integer(), OutAddr :: non_neg_integer()"

static const nocopy_func funcs[] = {
    {.name = "hash", .arity = 2, .fn = nc_hash,
     .args = DIGEST ", Data :: iodata()", .result = "binary()",
     .sched = NOCOPY_DIRTY_ABOVE, .dirty_above = HASH_DIRTY_ABOVE,
     .doc = "The digest of Data, read piece by piece where it lies (never flattened)."},
    {.name = "hash_init", .arity = 1, .fn = nc_hash_init,
     .args = DIGEST, .result = "nc_crypto:hash_ctx()", .sched = NOCOPY_NORMAL,
     .doc = "A streaming digest context. It is mutable: hash_update/2 changes it in place."},
    {.name = "hash_update", .arity = 2, .fn = nc_hash_update,
     .args = "Ctx :: nc_crypto:hash_ctx(), Data :: iodata()", .result = "ok",
     .sched = NOCOPY_DIRTY_ABOVE, .dirty_above = HASH_DIRTY_ABOVE,
     .doc = "Adds Data to Ctx. One call at a time per context; others raise badarg."},
    {.name = "hash_final", .arity = 1, .fn = nc_hash_final,
     .args = "Ctx :: nc_crypto:hash_ctx()", .result = "binary()", .sched = NOCOPY_NORMAL,
     .doc = "The digest of everything added to Ctx; Ctx is closed (later use raises badarg)."},
    {.name = "hmac", .arity = 3, .fn = nc_hmac,
     .args = DIGEST ", Key :: iodata(), Data :: iodata()", .result = "binary()",
     .sched = NOCOPY_DIRTY_ABOVE, .dirty_above = HASH_DIRTY_ABOVE,
     .doc = "HMAC (RFC 2104) of Data with Key, using the digest Type."},
    {.name = "hmac_init", .arity = 2, .fn = nc_hmac_init,
     .args = DIGEST ", Key :: iodata()", .result = "nc_crypto:hmac_ctx()",
     .sched = NOCOPY_NORMAL,
     .doc = "A streaming HMAC context holding a copy of Key (wiped when it is destroyed)."},
    {.name = "hmac_update", .arity = 2, .fn = nc_hmac_update,
     .args = "Ctx :: nc_crypto:hmac_ctx(), Data :: iodata()", .result = "ok",
     .sched = NOCOPY_DIRTY_ABOVE, .dirty_above = HASH_DIRTY_ABOVE,
     .doc = "Adds Data to Ctx. One call at a time per context; others raise badarg."},
    {.name = "hmac_final", .arity = 1, .fn = nc_hmac_final,
     .args = "Ctx :: nc_crypto:hmac_ctx()", .result = "binary()", .sched = NOCOPY_NORMAL,
     .doc = "The MAC of everything added to Ctx; Ctx is closed (later use raises badarg)."},
    {.name = "aead_seal", .arity = 5, .fn = nc_crypto_aead_seal,
     .args = SEAL_ARGS, .result = SEALED,
     .sched = NOCOPY_DIRTY_ABOVE, .dirty_above = AEAD_DIRTY_ABOVE,
     .doc = "Encrypts and authenticates; the ciphertext is written once, into the result."},
    {.name = "aead_open", .arity = 6, .fn = nc_crypto_aead_open,
     .args = OPEN_ARGS, .result = OPENED,
     .sched = NOCOPY_DIRTY_ABOVE, .dirty_above = AEAD_DIRTY_ABOVE,
     .doc = "Verifies and decrypts; {error, auth} if CipherText, AAD, Nonce or Tag was altered."},
    {.name = "live_contexts", .arity = 0, .fn = nc_live_contexts,
     .args = "", .result = "non_neg_integer()", .sched = NOCOPY_NORMAL,
     .doc = "Hash and HMAC contexts of this library (backend) not yet destroyed."},
    {.name = "aead_seal_traced", .arity = 5, .fn = nc_crypto_aead_seal_traced,
     .args = SEAL_ARGS, .result = "{" SEALED ", " ADDRS "}",
     .sched = NOCOPY_DIRTY_ABOVE, .dirty_above = AEAD_DIRTY_ABOVE,
     .doc = "Probe: aead_seal/5, the address of PlainText's first piece and of the output."},
    {.name = "aead_open_traced", .arity = 6, .fn = nc_crypto_aead_open_traced,
     .args = OPEN_ARGS, .result = "{" OPENED ", " ADDRS "}",
     .sched = NOCOPY_DIRTY_ABOVE, .dirty_above = AEAD_DIRTY_ABOVE,
     .doc = "Probe: aead_open/6, the address of CipherText's first piece and of the output."},
    {.name = "address_of", .arity = 1, .fn = nc_address_of,
     .args = "Binary :: binary()", .result = "non_neg_integer()", .sched = NOCOPY_NORMAL,
     .doc = "Probe: the address of Binary's bytes as C sees them."},
};

static const nocopy_handle_type *const handle_types[] = {&hash_ctx_type, &hmac_ctx_type, NULL};

static const nocopy_module nc_crypto_module = {
    .name = "nc_crypto",
    .funcs = funcs,
    .nfuncs = sizeof funcs / sizeof funcs[0],
    .atoms = atoms,
    .handle_types = handle_types,
    .types =
        "-type digest() :: sha224 | sha256 | sha384 | sha512.\n"
        "-type aead() :: aes_128_gcm | aes_256_gcm | chacha20_poly1305.\n"
        "-type hash_ctx() :: nocopy:handle().\n"
        "-type hmac_ctx() :: nocopy:handle().\n",
    .load = crypto_load,
    .unload = crypto_unload,
};

NOCOPY_MODULE(nc_crypto_module)
