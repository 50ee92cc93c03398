/* gss_demo.c: the 2006 seed scenario (GSS-API style wrap/unwrap of large
 * messages) written once against nocopy.h and run through either backend.
 *
 *   new_context(Key) -> Ctx
 *   wrap(Ctx, QopReq, Message) -> {Major, Minor, ConfState, QopState, Token}
 *   unwrap(Ctx, QopReq, Token) -> {Major, Minor, ConfState, QopState, Message}
 *   close_context(Ctx) -> ok
 *
 * The cipher is AES-256-GCM from OpenSSL's libcrypto (EVP). The shapes follow
 * RFC 2743 GSS_Wrap / GSS_Unwrap, with the status codes of the RFC 2744 C
 * bindings; this is not a real GSS mechanism (no context establishment, no
 * replay detection), only the data path the seed asked about.
 *
 * QOP (QopReq and QopState). An atom or an integer:
 *   default         = 0  wrap: same as confidentiality. unwrap: accept any QOP.
 *   confidentiality = 1  AEAD encryption: the token holds ciphertext.
 *   integrity       = 2  integrity only: the token holds the message in clear,
 *                        followed by a tag (GMAC) over header and message.
 * Other integers in 0..2^32-1 are well-typed but unsupported: wrap answers
 * Major = GSS_S_BAD_QOP. On unwrap a non-default QopReq must equal the
 * token's QOP, otherwise Major = GSS_S_BAD_QOP. QopState is the QOP actually
 * applied (1 or 2; 0 on failure). ConfState is true exactly for QOP 1.
 *
 * Token format, version 1 (all of it is produced by wrap, nothing else):
 *   offset  size  field
 *        0     1  version, 1
 *        1     1  QOP applied: 1 confidentiality, 2 integrity
 *        2     1  flags: bit 0 = confidentiality (must agree with the QOP)
 *        3     1  reserved, 0
 *        4    12  nonce: 4-byte per-context random salt, 8-byte big-endian
 *                 sequence number (per context, atomically incremented)
 *       16     n  payload: ciphertext (QOP 1) or the message in clear (QOP 2)
 *     16+n    16  GCM tag
 * AAD: QOP 1 authenticates the 16-byte header; QOP 2 authenticates header and
 * message together (GCM with an empty plaintext). So a token is n + 32 bytes.
 * With OTP's crypto module, QOP 1 is
 *   crypto:crypto_one_time_aead(aes_256_gcm, Key, Nonce, Msg, Header, 16, true)
 * and QOP 2 is the same call with Msg = <<>> and AAD = <<Header, Msg>>.
 *
 * No copy: the message (wrap) and the token (unwrap) are read through a
 * BORROWED view of the caller's binary. The token (wrap) and the plaintext
 * (QOP 1 unwrap) are written by the cipher straight into a nocopy_buf that
 * becomes the result binary (HANDED OVER). QOP 2 unwrap returns the message as
 * a slice of the input token. The one unavoidable copy: a QOP 2 token contains
 * the message in clear, so wrap must put those bytes into the token.
 *
 * Demo instrumentation (not part of the GSS shape, clearly separate below):
 * wrap_traced/3 and unwrap_traced/3 also return the address C read the input
 * from and the address the result's bytes live at, and address_of/1 returns
 * the data address of any binary as C sees it. The demo and the tests compare
 * these to prove that nothing was copied. */
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "nocopy.h"

/* ---- GSS status values (RFC 2744: routine errors are shifted by 16) ------ */

#define GSS_S_COMPLETE        0u
#define GSS_S_BAD_SIG         (6u << 16)   /* also GSS_S_BAD_MIC */
#define GSS_S_DEFECTIVE_TOKEN (9u << 16)
#define GSS_S_CONTEXT_EXPIRED (12u << 16)
#define GSS_S_FAILURE         (13u << 16)
#define GSS_S_BAD_QOP         (14u << 16)

/* Minor status: this mechanism's own codes, stable, documented here. */
enum gss_minor {
    MINOR_NONE = 0,
    MINOR_TOKEN_TOO_SHORT = 1,   /* fewer than header + tag bytes */
    MINOR_BAD_VERSION = 2,       /* version byte is not 1 */
    MINOR_BAD_HEADER = 3,        /* unknown QOP, flags or reserved byte */
    MINOR_TAG_MISMATCH = 4,      /* authentication failed: tampered or wrong key */
    MINOR_QOP_MISMATCH = 5,      /* unwrap: token QOP is not the one required */
    MINOR_UNSUPPORTED_QOP = 6,   /* wrap: QopReq names no supported QOP */
    MINOR_CRYPTO = 7,            /* libcrypto reported an internal failure */
    MINOR_SEQ_EXHAUSTED = 8      /* the context used up its sequence numbers */
};

enum gss_qop { QOP_DEFAULT = 0, QOP_CONF = 1, QOP_INTEG = 2 };

#define TOKEN_VERSION   1u
#define FLAG_CONF       0x01u
#define KEY_BYTES       32u
#define SALT_BYTES      4u
#define NONCE_OFFSET    4u       /* the nonce is header bytes 4..15 */
#define NONCE_BYTES     12u
#define HEADER_BYTES    16u      /* version, qop, flags, reserved, nonce */
#define TAG_BYTES       16u
#define TOKEN_OVERHEAD  (HEADER_BYTES + TAG_BYTES)

/* wrap/unwrap run on a normal scheduler up to this many bytes of binary
 * arguments and move to a dirty CPU scheduler above it. Measured on the
 * reference 2-core machine: AES-256-GCM runs at about 5 GB/s, so 256 KiB is
 * ~50 us of work, 20 times under the 1 ms a NIF may hold a scheduler; the
 * dirty hand-off of such a call costs ~12-16 us (thread wake-up, the data
 * and the result crossing cores), as much as the whole work at 64 KiB, which
 * is why the threshold is not lower. Below it, nocopy_consume() charges the
 * time slice. Its Erlang twin is DIRTY_ABOVE in gss_demo_main.erl. */
#define GSS_DIRTY_ABOVE (256u * 1024u)

/* EVP's update functions take an int length; larger inputs go in chunks. */
#define EVP_CHUNK ((size_t)1 << 30)

/* Sequence numbers at or above this are refused (GSS_S_CONTEXT_EXPIRED), so
 * the atomic counter can never wrap around to a nonce already used: getting
 * from here to a wrap would take 2^62 more calls. */
#define SEQ_LIMIT ((uint64_t)1 << 62)

/* ---- the context handle --------------------------------------------------- */

typedef struct gss_ctx {
    uint8_t key[KEY_BYTES];
    uint8_t salt[SALT_BYTES];     /* random per context: two contexts made from
                                     one key do not share nonces (up to 2^-32) */
    _Atomic uint64_t next_seq;    /* concurrent wraps on one context each get
                                     their own nonce */
} gss_ctx;

/* Wipes the key. `obj` is BORROWED: nocopy frees the memory itself. */
static void gss_ctx_dtor(void *obj)
{
    OPENSSL_cleanse(obj, sizeof(gss_ctx));
}

static const nocopy_handle_type gss_ctx_type = {
    .name = "gss_ctx",
    .size = sizeof(gss_ctx),
    .dtor = gss_ctx_dtor,
};

/* Atoms of the module's table; the index is the nocopy_atom value. */
enum { AM_DEFAULT, AM_CONFIDENTIALITY, AM_INTEGRITY };
static const char *const gss_atoms[] = {"default", "confidentiality", "integrity", NULL};

#define QOP_EXPECTED "default | confidentiality | integrity, or a QOP integer"

/* Fetched once at load: an implicit fetch per call (EVP_aes_256_gcm()) would
 * take a lock and a lookup in the provider store on every wrap. */
static EVP_CIPHER *aead;

static int gss_load(void)
{
    aead = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    return aead ? NOCOPY_OK : NOCOPY_EINTERNAL;
}

static void gss_unload(void)
{
    EVP_CIPHER_free(aead);
    aead = NULL;
}

/* ---- AES-256-GCM over possibly huge buffers -------------------------------- */

/* Feeds `len` bytes in EVP-sized chunks. out == NULL feeds AAD. */
static int aead_update(EVP_CIPHER_CTX *ec, uint8_t *out, const uint8_t *in, size_t len)
{
    while (len > 0) {
        int n = (int)(len > EVP_CHUNK ? EVP_CHUNK : len), outl = 0;
        if (!EVP_CipherUpdate(ec, out, &outl, in, n))
            return 0;
        if (out)
            out += outl;   /* GCM is a stream mode: outl == n */
        in += n;
        len -= (size_t)n;
    }
    return 1;
}

/* One AEAD operation. Encrypt (enc = 1): writes `len` bytes of ciphertext to
 * `out` and the tag to `tag`. Decrypt (enc = 0): writes plaintext to `out`
 * and returns 0 if `tag` does not verify. `in`/`aad` are BORROWED, read only.
 * `in` may be NULL with len 0 (integrity-only: everything is AAD). */
static int aead_run(int enc, const uint8_t key[KEY_BYTES], const uint8_t nonce[NONCE_BYTES],
                    const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
                    uint8_t *out, uint8_t tag[TAG_BYTES])
{
    int ok = 0, outl = 0;
    uint8_t none[1];               /* final's output position when out is NULL */
    EVP_CIPHER_CTX *ec = EVP_CIPHER_CTX_new();
    if (!ec || !aead)
        goto done;
    /* The default GCM IV length is 12 bytes, our nonce size. */
    if (!EVP_CipherInit_ex2(ec, aead, key, nonce, enc, NULL))
        goto done;
    if (!aead_update(ec, NULL, aad, aad_len) || !aead_update(ec, out, in, len))
        goto done;
    if (!enc && !EVP_CIPHER_CTX_ctrl(ec, EVP_CTRL_AEAD_SET_TAG, TAG_BYTES, tag))
        goto done;
    /* GCM produces no bytes at final, but give it the right position anyway. */
    if (!EVP_CipherFinal_ex(ec, out ? out + len : none, &outl))
        goto done;
    if (enc && !EVP_CIPHER_CTX_ctrl(ec, EVP_CTRL_AEAD_GET_TAG, TAG_BYTES, tag))
        goto done;
    ok = 1;
done:
    EVP_CIPHER_CTX_free(ec);
    return ok;
}

/* ---- arguments ------------------------------------------------------------ */

/* QopReq: an atom of the table or an integer in 0..2^32-1 (gss_qop_t is an
 * OM_uint32 in the C bindings). Unsupported values are a GSS status, not a
 * badarg: they are well-typed. */
static int arg_qop(nocopy_call *call, unsigned index, uint32_t *qop)
{
    nocopy_term t = nocopy_arg(call, index);
    nocopy_atom a;
    int64_t v;
    int rc;

    switch (nocopy_term_type(call, t)) {
    case NOCOPY_T_ATOM:
        if ((rc = nocopy_term_atom(call, t, &a)) != NOCOPY_OK)
            return rc;
        switch (a) {
        case AM_DEFAULT: *qop = QOP_DEFAULT; return NOCOPY_OK;
        case AM_CONFIDENTIALITY: *qop = QOP_CONF; return NOCOPY_OK;
        case AM_INTEGRITY: *qop = QOP_INTEG; return NOCOPY_OK;
        default: return nocopy_fail_badarg(call, index, QOP_EXPECTED);   /* ok, true, ... */
        }
    case NOCOPY_T_INTEGER:
        if ((rc = nocopy_term_int_range(call, t, 0, UINT32_MAX, &v)) != NOCOPY_OK)
            return rc;
        *qop = (uint32_t)v;
        return NOCOPY_OK;
    default:
        return nocopy_fail_badarg(call, index, QOP_EXPECTED);
    }
}

/* (Ctx, QopReq, Data): the common arguments of wrap and unwrap, checked in
 * argument order so the first bad one is the one reported.
 * *ctx and *data are BORROWED. */
static int read_args(nocopy_call *call, gss_ctx **ctx, uint32_t *qop, nocopy_bytes *data)
{
    void *obj;
    int rc;
    if ((rc = nocopy_arg_handle(call, 0, &gss_ctx_type, &obj)) != NOCOPY_OK)
        return rc;
    if ((rc = arg_qop(call, 1, qop)) != NOCOPY_OK)
        return rc;
    if ((rc = nocopy_arg_bytes(call, 2, data)) != NOCOPY_OK)
        return rc;
    *ctx = obj;
    return NOCOPY_OK;
}

/* ---- results -------------------------------------------------------------- */

/* Where the input was read and where the result bytes live: filled for the
 * *_traced demo probes only. Plain integers, never dereferenced. */
typedef struct trace {
    uint64_t in_addr;
    uint64_t out_addr;
} trace;

/* {Major, Minor, false, 0, <<>>}: a GSS failure is a value, not an exception. */
static nocopy_value gss_failure(nocopy_call *call, uint32_t major, enum gss_minor minor)
{
    return nocopy_build(call, "{iioic}", (int64_t)major, (int64_t)minor, 0, (int64_t)0,
                        "", (size_t)0);
}

/* ---- wrap ------------------------------------------------------------------ */

static void write_header(uint8_t *h, uint32_t qop, const gss_ctx *ctx, uint64_t seq)
{
    h[0] = TOKEN_VERSION;
    h[1] = (uint8_t)qop;
    h[2] = qop == QOP_CONF ? FLAG_CONF : 0;
    h[3] = 0;
    memcpy(h + NONCE_OFFSET, ctx->salt, SALT_BYTES);
    for (int i = 0; i < 8; i++)   /* big-endian sequence number */
        h[NONCE_OFFSET + SALT_BYTES + i] = (uint8_t)(seq >> (56 - 8 * i));
}

/* Builds the wrap result into *out (0 only if building failed, which
 * nocopy_return reports). Returns a status for exceptions (badarg, enomem). */
static int do_wrap(nocopy_call *call, trace *tr, nocopy_value *out)
{
    gss_ctx *ctx;
    uint32_t qop;
    nocopy_bytes msg;                  /* BORROWED: the caller's binary, read in place */
    nocopy_buf *tok;                   /* OWNED until handed over in the result */
    uint8_t *payload, *tag;
    int rc, ok;

    if ((rc = read_args(call, &ctx, &qop, &msg)) != NOCOPY_OK)
        return rc;
    if (qop == QOP_DEFAULT)
        qop = QOP_CONF;
    if (qop != QOP_CONF && qop != QOP_INTEG) {
        *out = gss_failure(call, GSS_S_BAD_QOP, MINOR_UNSUPPORTED_QOP);
        return NOCOPY_OK;
    }
    uint64_t seq = atomic_fetch_add(&ctx->next_seq, 1);
    if (seq >= SEQ_LIMIT) {
        *out = gss_failure(call, GSS_S_CONTEXT_EXPIRED, MINOR_SEQ_EXHAUSTED);
        return NOCOPY_OK;
    }
    if (msg.size > SIZE_MAX - TOKEN_OVERHEAD)
        return NOCOPY_ENOMEM;
    if (!(tok = nocopy_buf_alloc(call, msg.size + TOKEN_OVERHEAD)))
        return NOCOPY_ENOMEM;          /* the error is already recorded */

    write_header(tok->data, qop, ctx, seq);
    payload = tok->data + HEADER_BYTES;
    tag = payload + msg.size;
    if (qop == QOP_CONF) {
        /* The cipher reads the message where Erlang keeps it and writes the
         * ciphertext where the result binary will be: no copy either side. */
        ok = aead_run(1, ctx->key, tok->data + NONCE_OFFSET, tok->data, HEADER_BYTES,
                      msg.data, msg.size, payload, tag);
    } else {
        /* Integrity only: the token carries the message in clear, so this
         * copy IS the output; then one MAC over header + message. */
        if (msg.size > 0)
            memcpy(payload, msg.data, msg.size);
        ok = aead_run(1, ctx->key, tok->data + NONCE_OFFSET, tok->data,
                      HEADER_BYTES + msg.size, NULL, 0, payload, tag);
    }
    nocopy_consume(call, msg.size);
    if (!ok) {
        nocopy_buf_free(tok);
        *out = gss_failure(call, GSS_S_FAILURE, MINOR_CRYPTO);
        return NOCOPY_OK;
    }
    if (tr) {
        tr->in_addr = (uintptr_t)msg.data;
        tr->out_addr = (uintptr_t)tok->data;   /* recorded before the hand-over */
    }
    /* tok is HANDED OVER to the result: no copy (unless it is <= 64 bytes). */
    *out = nocopy_build(call, "{iioiB}", (int64_t)GSS_S_COMPLETE, (int64_t)MINOR_NONE,
                        qop == QOP_CONF, (int64_t)qop, tok);
    return NOCOPY_OK;
}

/* ---- unwrap ---------------------------------------------------------------- */

/* Checks the fixed part of a token. Returns MINOR_NONE or why it is defective. */
static enum gss_minor check_header(nocopy_bytes tok, uint32_t *tok_qop)
{
    const uint8_t *h = tok.data;
    if (tok.size < TOKEN_OVERHEAD)
        return MINOR_TOKEN_TOO_SHORT;
    if (h[0] != TOKEN_VERSION)
        return MINOR_BAD_VERSION;
    if ((h[1] != QOP_CONF && h[1] != QOP_INTEG) || h[3] != 0 ||
        h[2] != (h[1] == QOP_CONF ? FLAG_CONF : 0))
        return MINOR_BAD_HEADER;
    *tok_qop = h[1];
    return MINOR_NONE;
}

static int do_unwrap(nocopy_call *call, trace *tr, nocopy_value *out)
{
    gss_ctx *ctx;
    uint32_t qop_req, qop = 0;
    nocopy_bytes tok;                  /* BORROWED: the caller's token, read in place */
    nocopy_buf *plain = NULL;          /* OWNED until handed over (QOP 1 only) */
    uint8_t tag[TAG_BYTES];
    enum gss_minor why;
    int rc, ok;

    if ((rc = read_args(call, &ctx, &qop_req, &tok)) != NOCOPY_OK)
        return rc;
    if ((why = check_header(tok, &qop)) != MINOR_NONE) {
        *out = gss_failure(call, GSS_S_DEFECTIVE_TOKEN, why);
        return NOCOPY_OK;
    }
    if (qop_req != QOP_DEFAULT && qop_req != qop) {
        *out = gss_failure(call, GSS_S_BAD_QOP, MINOR_QOP_MISMATCH);
        return NOCOPY_OK;
    }
    const uint8_t *nonce = tok.data + NONCE_OFFSET;
    const uint8_t *payload = tok.data + HEADER_BYTES;
    size_t n = tok.size - TOKEN_OVERHEAD;
    /* EVP wants a writable tag pointer; the token is read-only, so the
     * 16-byte tag is the one thing copied out of it. */
    memcpy(tag, payload + n, TAG_BYTES);

    if (qop == QOP_CONF) {
        if (!(plain = nocopy_buf_alloc(call, n)))
            return NOCOPY_ENOMEM;
        ok = aead_run(0, ctx->key, nonce, tok.data, HEADER_BYTES, payload, n,
                      plain->data, tag);
    } else {
        ok = aead_run(0, ctx->key, nonce, tok.data, HEADER_BYTES + n, NULL, 0,
                      NULL, tag);
    }
    nocopy_consume(call, n);
    if (!ok) {
        /* Unauthenticated plaintext never reaches Erlang: the buffer was ours. */
        nocopy_buf_free(plain);
        *out = gss_failure(call, GSS_S_BAD_SIG, MINOR_TAG_MISMATCH);
        return NOCOPY_OK;
    }
    if (tr) {
        tr->in_addr = (uintptr_t)tok.data;
        tr->out_addr = (uintptr_t)(plain ? plain->data : payload);
    }
    if (plain) {
        /* plain is HANDED OVER: no copy (unless it is <= 64 bytes). */
        *out = nocopy_build(call, "{iioiB}", (int64_t)GSS_S_COMPLETE, (int64_t)MINOR_NONE,
                            1, (int64_t)qop, plain);
    } else {
        /* Integrity only: the message is a slice of the token, no copy. */
        *out = nocopy_build(call, "{iiois}", (int64_t)GSS_S_COMPLETE, (int64_t)MINOR_NONE,
                            0, (int64_t)qop, nocopy_arg(call, 2), (size_t)HEADER_BYTES, n);
    }
    return NOCOPY_OK;
}

/* ---- the wrapped functions -------------------------------------------------- */

static int gss_new_context(nocopy_call *call)
{   /* (Key) */
    nocopy_bytes key;              /* BORROWED; copied into the context: a key
                                      is 32 bytes and must outlive the call */
    gss_ctx *ctx;                  /* OWNED until handed over as the handle */

    /* Check the type first so that a non-binary also gets the key message. */
    if (nocopy_term_type(call, nocopy_arg(call, 0)) != NOCOPY_T_BINARY ||
        nocopy_arg_bytes(call, 0, &key) != NOCOPY_OK || key.size != KEY_BYTES)
        return nocopy_fail_badarg(call, 0, "a 32-byte binary key");
    if (!(ctx = nocopy_handle_new(call, &gss_ctx_type)))
        return NOCOPY_ENOMEM;
    memcpy(ctx->key, key.data, KEY_BYTES);
    if (RAND_bytes(ctx->salt, SALT_BYTES) != 1) {
        nocopy_handle_release(ctx);
        return NOCOPY_EINTERNAL;
    }
    atomic_init(&ctx->next_seq, 0);
    return nocopy_return(call, nocopy_make_handle(call, ctx));   /* HANDED OVER */
}

static int gss_wrap(nocopy_call *call)
{   /* (Ctx, QopReq, Message) */
    nocopy_value v;
    int rc = do_wrap(call, NULL, &v);
    return rc != NOCOPY_OK ? rc : nocopy_return(call, v);
}

static int gss_unwrap(nocopy_call *call)
{   /* (Ctx, QopReq, Token) */
    nocopy_value v;
    int rc = do_unwrap(call, NULL, &v);
    return rc != NOCOPY_OK ? rc : nocopy_return(call, v);
}

static int gss_close_context(nocopy_call *call)
{   /* (Ctx) */
    void *ctx;                     /* BORROWED */
    int rc;
    if ((rc = nocopy_arg_handle(call, 0, &gss_ctx_type, &ctx)) != NOCOPY_OK)
        return rc;
    /* The key is wiped by the destructor once no call is using it. A close
     * racing with another close loses here and raises eclosed. */
    if ((rc = nocopy_handle_close(ctx)) != NOCOPY_OK)
        return rc;
    return nocopy_return(call, nocopy_make_atom(call, NOCOPY_ATOM_OK));
}

/* ---- demo instrumentation: address probes ----------------------------------- */

static int gss_wrap_traced(nocopy_call *call)
{   /* (Ctx, QopReq, Message) */
    trace tr = {0, 0};
    nocopy_value v;
    int rc = do_wrap(call, &tr, &v);
    if (rc != NOCOPY_OK)
        return rc;
    return nocopy_return(call, nocopy_build(call, "{vII}", v, tr.in_addr, tr.out_addr));
}

static int gss_unwrap_traced(nocopy_call *call)
{   /* (Ctx, QopReq, Token) */
    trace tr = {0, 0};
    nocopy_value v;
    int rc = do_unwrap(call, &tr, &v);
    if (rc != NOCOPY_OK)
        return rc;
    return nocopy_return(call, nocopy_build(call, "{vII}", v, tr.in_addr, tr.out_addr));
}

static int gss_address_of(nocopy_call *call)
{   /* (Binary) */
    nocopy_bytes b;                /* BORROWED; only its address is returned */
    int rc;
    if ((rc = nocopy_arg_bytes(call, 0, &b)) != NOCOPY_OK)
        return rc;
    return nocopy_return(call, nocopy_make_u64(call, (uint64_t)(uintptr_t)b.data));
}

/* A deliberate crash, for `make demo` on the isolated backend: a store to a
 * page with no access, a real SIGSEGV (and no undefined behaviour for the
 * sanitizers to stop first). On the NIF or the driver it would take the VM
 * down; on the isolated backend it costs the calls in flight on the child. */
static int gss_crash(nocopy_call *call)
{
    (void)call;
    volatile int *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NOCOPY_ENOMEM;
    *p = 1;                            /* SIGSEGV */
    return NOCOPY_EINTERNAL;
}

/* ---- the table: single source of truth for the Erlang stubs ------------------ */

#define CTX "Ctx :: gss_demo:context()"
#define STATUS "gss_demo:status()"

static const nocopy_func gss_funcs[] = {
    {.name = "new_context", .arity = 1, .fn = gss_new_context,
     .args = "Key :: <<_:256>>", .result = "gss_demo:context()",
     .sched = NOCOPY_NORMAL,
     .doc = "Makes a security context holding a 32-byte AES-256-GCM key."},
    {.name = "wrap", .arity = 3, .fn = gss_wrap,
     .args = CTX ", QopReq :: gss_demo:qop(), Message :: binary()", .result = STATUS,
     .sched = NOCOPY_DIRTY_ABOVE, .dirty_above = GSS_DIRTY_ABOVE,
     .doc = "GSS_Wrap: protects Message; the token is the 5th element."},
    {.name = "unwrap", .arity = 3, .fn = gss_unwrap,
     .args = CTX ", QopReq :: gss_demo:qop(), Token :: binary()", .result = STATUS,
     .sched = NOCOPY_DIRTY_ABOVE, .dirty_above = GSS_DIRTY_ABOVE,
     .doc = "GSS_Unwrap: verifies (and decrypts) Token; the message is the 5th element."},
    {.name = "close_context", .arity = 1, .fn = gss_close_context,
     .args = CTX, .result = "ok", .sched = NOCOPY_NORMAL,
     .doc = "Wipes the context's key now; later use of Ctx raises badarg."},
    {.name = "wrap_traced", .arity = 3, .fn = gss_wrap_traced,
     .args = CTX ", QopReq :: gss_demo:qop(), Message :: binary()",
     .result = "{" STATUS ", InAddr :: non_neg_integer(), OutAddr :: non_neg_integer()}",
     .sched = NOCOPY_DIRTY_ABOVE, .dirty_above = GSS_DIRTY_ABOVE,
     .doc = "Demo probe: wrap/3 plus the address C read Message at and wrote the token to."},
    {.name = "unwrap_traced", .arity = 3, .fn = gss_unwrap_traced,
     .args = CTX ", QopReq :: gss_demo:qop(), Token :: binary()",
     .result = "{" STATUS ", InAddr :: non_neg_integer(), OutAddr :: non_neg_integer()}",
     .sched = NOCOPY_DIRTY_ABOVE, .dirty_above = GSS_DIRTY_ABOVE,
     .doc = "Demo probe: unwrap/3 plus the address C read Token at and the message's address."},
    {.name = "address_of", .arity = 1, .fn = gss_address_of,
     .args = "Binary :: binary()", .result = "non_neg_integer()",
     .sched = NOCOPY_NORMAL,
     .doc = "Demo probe: the address of Binary's bytes as C sees them."},
    {.name = "crash", .arity = 0, .fn = gss_crash, .args = "", .result = "no_return()",
     .sched = NOCOPY_NORMAL,
     .doc = "Demo probe: segfaults. Only for the isolated backend (gss_demo_iso:crash/1), "
            "whose child dies instead of the VM."},
};

static const nocopy_handle_type *const gss_handle_types[] = {&gss_ctx_type, NULL};

static const nocopy_module gss_demo_module = {
    .name = "gss_demo",
    .funcs = gss_funcs,
    .nfuncs = sizeof gss_funcs / sizeof gss_funcs[0],
    .atoms = gss_atoms,
    .handle_types = gss_handle_types,
    /* The stub generator exports these, so the driver client's specs (and
     * users) can name them as gss_demo:context() and so on. */
    .types =
        "-type context() :: nocopy:handle().\n"
        "-type qop() :: default | confidentiality | integrity | 0..4294967295.\n"
        "-type status() :: {Major :: non_neg_integer(), Minor :: non_neg_integer(),"
        " ConfState :: boolean(), QopState :: non_neg_integer(), Data :: binary()}.\n",
    .load = gss_load,
    .unload = gss_unload,
};

NOCOPY_MODULE(gss_demo_module)
