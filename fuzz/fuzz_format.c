/* fuzz_format.c: the format-string parser (nc_format.c, and nc_format_site.c's
 * per-site programs: nocopy_term_scan,
 * nocopy_arg_scan, nocopy_build) against an independent reference, over the
 * fake backend (fake_backend.h).
 *
 * Input: [mode][len][format: len bytes][rest]. For reading, `rest` is the term
 * to read; for building, it is a pool term followed by the argument values.
 *
 * A variadic function can only be called with argument types fixed at compile
 * time, so each mode allows the letters of one argument type (plus every
 * structural character and any junk byte), and passes 64 arguments of that
 * type (pairs or triples for the letters that take several). An input using a
 * letter of another type is skipped. Across the modes every letter is covered.
 *
 * Checked against the reference (ref_scan / ref_build in fuzz_format_ref.c,
 * written from nocopy.h's description, not from nc_format.c):
 *   - the status: OK, EBADARG naming argument 1, or EINTERNAL for a malformed
 *     format or an invalid term; never anything else, never a crash;
 *   - on success, every output (scan) or the whole built term (build);
 *   - nocopy.h: "the whole format is checked before any argument is used: a
 *     malformed one records EINTERNAL, and nocopy_build then returns 0 having
 *     taken ownership of nothing", and "a group holds at most 64 items";
 *   - HANDED OVER arguments (B buffers, h handles) of a well-formed format are
 *     all consumed, even when a part failed; after a malformed one, none is.
 *     The harness frees what was not consumed, so a double hand-over is a
 *     double free and a missed one a leak (fk_end);
 *   - no read outside the format string: it is copied into an exact-size
 *     block. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_format.h"

/* Each round runs twice: through nc_format.c (no site: the format is parsed
 * on every call) and through nc_format_site.c (a fresh site: the format is
 * checked and compiled into a program, which then runs). Both must agree
 * with the reference. */
static nocopy__format_site *site_under_test;
#undef nocopy_build
#undef nocopy_arg_scan
#undef nocopy_term_scan
#define nocopy_build(c, ...) nocopy__build_at(c, site_under_test, __VA_ARGS__)
#define nocopy_arg_scan(c, i, ...) nocopy__arg_scan_at(c, site_under_test, i, __VA_ARGS__)
#define nocopy_term_scan(c, t, ...) nocopy__term_scan_at(c, site_under_test, t, __VA_ARGS__)

static const char *const mode_letters[NMODES] = {
    "i", "I", "z", "f", "oa", "b", "v", "t", "h",
    "i", "Iv", "f", "oa", "c", "B", "s", "k", "h",
};

/* Expansion helpers: F(j) for j = 0..63, comma separated. */
#define L4(F, b) F(b), F(b + 1), F(b + 2), F(b + 3)
#define L16(F, b) L4(F, b), L4(F, b + 4), L4(F, b + 8), L4(F, b + 12)
#define L64(F) L16(F, 0), L16(F, 16), L16(F, 32), L16(F, 48)

fz_state fz;

/* ---- reading ------------------------------------------------------------ */

#define ARG_I(j) &fz.slots[j].i
#define ARG_U(j) &fz.slots[j].u
#define ARG_Z(j) &fz.slots[j].z
#define ARG_F(j) &fz.slots[j].f
#define ARG_O(j) &fz.slots[j].o
#define ARG_B(j) &fz.slots[j].b
#define ARG_V(j) &fz.slots[j].v
#define ARG_T(j) &fz.slots[j].t
#define ARG_H(j) fz.htypes[j], &fz.slots[j].obj

#define SCAN(ARG)                                                              \
    (fz.root_argno ? nocopy_term_scan(c, root, fz.fmt, L64(ARG))                 \
                  : nocopy_arg_scan(c, 1, fz.fmt, L64(ARG)))

static int run_scan(nocopy_call *c)
{
    nocopy_term root = {fz.root, 1};
    switch (fz.mode) {
    case S_I: return SCAN(ARG_I);
    case S_UI: return SCAN(ARG_U);
    case S_Z: return SCAN(ARG_Z);
    case S_F: return SCAN(ARG_F);
    case S_OA: return SCAN(ARG_O);
    case S_B: return SCAN(ARG_B);
    case S_V: return SCAN(ARG_V);
    case S_T: return SCAN(ARG_T);
    default: return SCAN(ARG_H);
    }
}

static void check_scan_output(const ref *r, unsigned j)
{
    uintptr_t raw = r->expect[j];
    const slot *s = &fz.slots[j];
    char ch = fz.letter[j];
    if (ch == 't') {
        FK_ASSERT(s->t.raw == raw && s->t.argno == (raw ? 1u : 0u));
        return;
    }
    fk_node *n = node(raw);
    switch (ch) {
    case 'i': FK_ASSERT(s->i == n->i); break;
    case 'I': FK_ASSERT(s->u == (n->kind == FK_INT ? (uint64_t)n->i : n->u)); break;
    case 'z': FK_ASSERT(s->z == (n->kind == FK_INT ? (uint64_t)n->i : n->u)); break;
    case 'f': FK_ASSERT(memcmp(&s->f, &n->f, sizeof s->f) == 0); break;
    case 'o': FK_ASSERT(s->o == (n->atom == NOCOPY_ATOM_TRUE)); break;
    case 'a': FK_ASSERT(s->o == n->atom); break;
    case 'b': FK_ASSERT(s->b.data == n->data && s->b.size == n->size); break;
    case 'h': FK_ASSERT(s->obj == NC_HANDLE_OBJ(n->h)); break;
    case 'v': {
        uint8_t *flat;
        size_t len, at = 0;
        FK_ASSERT(fk_flatten_iodata(raw, &flat, &len));
        FK_ASSERT(s->v.total == len);
        for (size_t i = 0; i < s->v.count; i++) {
            FK_ASSERT(s->v.pieces[i].size <= len - at);
            FK_ASSERT(memcmp(s->v.pieces[i].data, flat + at, s->v.pieces[i].size) == 0);
            at += s->v.pieces[i].size;
        }
        FK_ASSERT(at == len);
        free(flat);
        break;
    }
    default: fk_die("harness: unexpected letter");
    }
}

static void fuzz_scan(fk_in *in, bool past_argc)
{
    fz.root = fk_parse_term(in);
    fz.root_argno = past_argc ? 0 : 1;
    for (unsigned j = 0; j < NARGS; j++)
        fz.htypes[j] = j % 3 == 2 ? &fk_type_b : &fk_type_a;
    memset(fz.slots, 0, sizeof fz.slots);

    ref r;
    int expect = ref_scan(&r);

    uintptr_t argv[1] = {fz.root};
    nocopy_call c;
    fk_call_init(&c, 1, argv);
    int st = run_scan(&c);
    switch (expect) {
    case R_OK:
        FK_ASSERT(st == NOCOPY_OK);
        for (unsigned j = 0; j < r.k; j++)
            check_scan_output(&r, j);
        break;
    case R_FAIL:
        FK_ASSERT(st == NOCOPY_EBADARG && c.err_status == st && c.err_argno == 1);
        break;
    default:                                     /* malformed, or no such argument */
        FK_ASSERT(st == NOCOPY_EINTERNAL && c.err_status == st && c.err_argno == 0);
    }
    FK_ASSERT(memchr(c.err_text, '\0', sizeof c.err_text) != NULL);
    nocopy__call_finish(&c);
}

/* ---- building ------------------------------------------------------------ */

#define ARG_BI(j) fz.ivals[j]
#define ARG_BU(j) fz.uvals[j]
#define ARG_BF(j) fz.fvals[j]
#define ARG_BO(j) fz.ints[j]
#define ARG_BC(j) fz.cptr[j], fz.csize[j]
#define ARG_BB(j) fz.bufs[j]
#define ARG_BS(j) fz.sterm[j], fz.off[j], fz.len[j]
#define ARG_BK(j) (const nocopy_kept *)fz.kepts[j], fz.off[j], fz.len[j]
#define ARG_BH(j) fz.handles[j]

static nocopy_value run_build(nocopy_call *c)
{
    switch (fz.mode) {
    case B_I: return nocopy_build(c, fz.fmt, L64(ARG_BI));
    case B_UV: return nocopy_build(c, fz.fmt, L64(ARG_BU));
    case B_F: return nocopy_build(c, fz.fmt, L64(ARG_BF));
    case B_OA: return nocopy_build(c, fz.fmt, L64(ARG_BO));
    case B_C: return nocopy_build(c, fz.fmt, L64(ARG_BC));
    case B_BUF: return nocopy_build(c, fz.fmt, L64(ARG_BB));
    case B_S: return nocopy_build(c, fz.fmt, L64(ARG_BS));
    case B_K: return nocopy_build(c, fz.fmt, L64(ARG_BK));
    default: return nocopy_build(c, fz.fmt, L64(ARG_BH));
    }
}

/* An offset or length: small and exact most of the time, huge sometimes. */
static size_t pick_size(fk_in *in)
{
    uint8_t b = fk_u8(in);
    switch (b >> 6) {
    case 0: case 1: return b & 0x7F;
    case 2: return (size_t)fk_u16(in);
    default: return SIZE_MAX - (b & 0x3F);
    }
}

static void make_build_args(nocopy_call *c, fk_in *in, const uint8_t *pool, size_t poolsize)
{
    for (unsigned j = 0; j < NARGS; j++) {
        char ch = fz.letter[j];
        uint8_t b;
        switch (fz.mode) {
        case B_I: fz.ivals[j] = (int64_t)fk_u64(in); break;
        case B_UV:
            if (ch == 'v') {
                b = fk_u8(in);
                fz.uvals[j] = b % 8 == 0 ? 0 : 1 + (uint64_t)(b % fk.n);
            } else {
                fz.uvals[j] = fk_u64(in);
            }
            break;
        case B_F: {
            uint64_t bits = fk_u64(in);
            memcpy(&fz.fvals[j], &bits, sizeof bits);
            break;
        }
        case B_OA: fz.ints[j] = (int8_t)fk_u8(in) % 24; break;
        case B_C:
            b = fk_u8(in);
            if (b % 8 == 0) {
                fz.cptr[j] = NULL;
                fz.csize[j] = b % 16 == 0 ? 0 : 1 + fk_u8(in);
            } else {
                size_t at = fk_u16(in) % (poolsize + 1);
                fz.cptr[j] = pool + at;
                fz.csize[j] = fk_u16(in) % (poolsize - at + 1);
            }
            break;
        case B_BUF:
            b = fk_u8(in);
            fz.bufs[j] = NULL;
            if (ch && b % 8 != 0) {
                size_t size = b % 4 == 1 ? 65 + fk_u8(in) : fk_u8(in) % 70;
                fz.bufs[j] = nocopy_buf_alloc(c, size);
                FK_ASSERT(fz.bufs[j] != NULL);
                if (b & 0x80) {
                    FK_ASSERT(nocopy_buf_resize(fz.bufs[j], fk_u8(in)) == NOCOPY_OK);
                }
                memset(fz.bufs[j]->data, (int)j, fz.bufs[j]->size);
                fz.bufdata[j] = fz.bufs[j]->data;
                fz.bufsize[j] = fz.bufs[j]->size;
            }
            break;
        case B_S:
            b = fk_u8(in);
            fz.sterm[j].raw = b % 16 == 0 ? 0 : 1 + (uintptr_t)(b % fk.n);
            fz.sterm[j].argno = 1;
            fz.off[j] = pick_size(in);
            fz.len[j] = pick_size(in);
            break;
        case B_K: {
            b = fk_u8(in);
            fz.kepts[j] = NULL;
            if (ch && b % 8 != 0) {
                /* Either a kept input binary or a shared buffer. */
                uintptr_t raw = 1 + (uintptr_t)(fk_u8(in) % fk.n);
                nocopy_term t = {raw, 1};
                if (b & 1 && node(raw)->kind == FK_BIN) {
                    FK_ASSERT(nocopy_term_keep(c, t, &fz.kepts[j]) == NOCOPY_OK);
                } else {
                    nocopy_buf *buf = nocopy_buf_alloc(c, fk_u8(in));
                    FK_ASSERT(buf != NULL);
                    memset(buf->data, 0x5A, buf->size);
                    fz.kepts[j] = nocopy_buf_share(c, buf);
                    FK_ASSERT(fz.kepts[j] != NULL);
                }
            }
            fz.off[j] = pick_size(in);
            fz.len[j] = pick_size(in);
            break;
        }
        case B_H:
            b = fk_u8(in);
            fz.handles[j] = NULL;
            if (ch && b % 8 != 0) {
                fz.handles[j] = nocopy_handle_new(c, b & 1 ? &fk_type_b : &fk_type_a);
                FK_ASSERT(fz.handles[j] != NULL);
                ((fk_obj *)fz.handles[j])->magic = FK_LIVE;
            }
            break;
        default: break;
        }
    }
}

static void fuzz_build(fk_in *in)
{
    fz.root = fk_parse_term(in);
    /* Bytes for 'c' arguments to copy from: the rest of the input, in its own
     * exact-size block. */
    size_t poolsize = in->n;
    uint8_t *pool = malloc(poolsize ? poolsize : 1);
    if (!pool)
        fk_die("out of memory in the harness");
    memcpy(pool, in->p, poolsize);

    uintptr_t argv[1] = {fz.root};
    nocopy_call c;
    fk_call_init(&c, 1, argv);
    make_build_args(&c, in, pool, poolsize);

    ref r;
    int expect = ref_build(&r);
    nocopy_value v = run_build(&c);
    switch (expect) {
    case R_OK:
        FK_ASSERT(v != 0);
        r.p = fz.fmt;
        r.k = 0;
        check_built(&r, v);
        break;
    case R_FAIL:
        FK_ASSERT(v == 0);
        break;
    default:
        FK_ASSERT(v == 0 && c.err_status == NOCOPY_EINTERNAL);
    }
    /* What the parser did not reach is still the caller's. */
    for (unsigned j = 0; j < NARGS; j++) {
        if (fz.reached[j])
            continue;
        if (fz.mode == B_BUF)
            nocopy_buf_free(fz.bufs[j]);
        if (fz.mode == B_H)
            nocopy_handle_release(fz.handles[j]);
    }
    nocopy__call_finish(&c);
    if (fz.mode == B_K)
        for (unsigned j = 0; j < NARGS; j++)
            nocopy_kept_release(fz.kepts[j]);
    free(pool);
}

/* ---- entry ---------------------------------------------------------------- */

/* Which letter takes argument j: the value letters in format order, which is
 * the order the parser consumes them in. Returns false when the format uses a
 * letter this mode cannot pass, or more letters than there are arguments. */
static bool assign_letters(void)
{
    const char *value = fz.building ? BUILD_LETTERS : SCAN_LETTERS;
    const char *allowed = mode_letters[fz.mode];
    unsigned k = 0;
    memset(fz.letter, 0, sizeof fz.letter);
    for (const char *p = fz.fmt; p && *p; p++) {
        if (!strchr(value, *p))
            continue;
        if (!strchr(allowed, *p) || k == NARGS)
            return false;
        fz.letter[k++] = *p;
    }
    fz.nvalues = k;
    return true;
}


/* Formats built at run time in a reused buffer must be checked on every call
 * (nocopy.h: the whole format is checked before any argument is used), so
 * each input runs twice with the same buffer: the format as given, then with
 * one byte changed, at the same address. Bug F3 (docs/hardening-review.md):
 * a cache of checked formats keyed by the pointer alone skipped the check of
 * the second text; fixed in a9697ef, regression input
 * fuzz/corpus/fuzz_format/format_cache_by_pointer_skips_check. */
static void run_round(char *fmt, bool null_format, uint8_t mode_byte, fk_in in)
{
    memset(&fz, 0, sizeof fz);
    fz.fmt = null_format ? NULL : fmt;
    fz.mode = (enum mode)(mode_byte % NMODES);
    fz.building = fz.mode >= B_I;
    if (assign_letters()) {
        fk_begin();
        if (fz.building)
            fuzz_build(&in);
        else
            fuzz_scan(&in, (mode_byte & 0xE0) == 0xE0);
        fk_end();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    fk_in in = {data + 2, size - 2};
    size_t flen = data[1];
    if (flen > in.n)
        flen = in.n;
    char *fmt = malloc(flen + 1);               /* exact: the NUL is the last byte */
    if (!fmt)
        return 0;
    memcpy(fmt, in.p, flen);
    fmt[flen] = '\0';
    in.p += flen;
    in.n -= flen;

    nocopy__format_site site;
    for (int path = 0; path < 2; path++) {
        memset(&site, 0, sizeof site);
        site_under_test = path ? &site : NULL;
        run_round(fmt, data[1] == 0xFF, data[0], in);   /* a NULL format is malformed */
    }
    /* Round two, same buffer: one byte of the format changed (position and
     * value from the last two input bytes), same mode and terms. */
    if (flen > 0 && size >= 4) {
        fmt[data[size - 2] % flen] = (char)(data[size - 1] ? data[size - 1] : ' ');
        for (int path = 0; path < 2; path++) {
            memset(&site, 0, sizeof site);
            site_under_test = path ? &site : NULL;
            run_round(fmt, false, data[0], in);
        }
    }
    free(fmt);
    return 0;
}
