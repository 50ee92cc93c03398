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
 * Checked against the reference (ref_scan / ref_build below, written from
 * nocopy.h's description, not from nc_format.c):
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
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fake_backend.h"

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

#define NARGS 64
#define MAX_ITEMS 64

enum mode {
    /* reading: the letters allowed, then what each one takes */
    S_I, S_UI, S_Z, S_F, S_OA, S_B, S_V, S_T, S_H,
    /* building */
    B_I, B_UV, B_F, B_OA, B_C, B_BUF, B_S, B_K, B_H,
    NMODES
};

static const char *const mode_letters[NMODES] = {
    "i", "I", "z", "f", "oa", "b", "v", "t", "h",
    "i", "Iv", "f", "oa", "c", "B", "s", "k", "h",
};

#define SCAN_LETTERS "iIzfoabvht"
#define BUILD_LETTERS "iIfoacBskhv"

/* Expansion helpers: F(j) for j = 0..63, comma separated. */
#define L4(F, b) F(b), F(b + 1), F(b + 2), F(b + 3)
#define L16(F, b) L4(F, b), L4(F, b + 4), L4(F, b + 8), L4(F, b + 12)
#define L64(F) L16(F, 0), L16(F, 16), L16(F, 32), L16(F, 48)

/* ---- per-input state ------------------------------------------------------- */

typedef union slot {
    int64_t i;
    uint64_t u;
    size_t z;
    double f;
    int o;
    nocopy_bytes b;
    nocopy_iovec v;
    nocopy_term t;
    void *obj;
} slot;

static struct {
    const char *fmt;
    enum mode mode;
    bool building;
    uintptr_t root;              /* the term read, or the pool for building */
    unsigned root_argno;         /* 0 when reading an argument index past argc */
    /* reading */
    slot slots[NARGS];
    const nocopy_handle_type *htypes[NARGS];
    /* building */
    int64_t ivals[NARGS];
    uint64_t uvals[NARGS];
    double fvals[NARGS];
    int ints[NARGS];
    const void *cptr[NARGS];
    size_t csize[NARGS];
    nocopy_buf *bufs[NARGS];
    const uint8_t *bufdata[NARGS];
    size_t bufsize[NARGS];
    nocopy_term sterm[NARGS];
    size_t off[NARGS], len[NARGS];
    nocopy_kept *kepts[NARGS];
    void *handles[NARGS];
    char letter[NARGS];          /* the letter that takes argument j */
    bool reached[NARGS];         /* the reference reached argument j's letter */
    unsigned nvalues;
} g;

/* ---- the reference ---------------------------------------------------------- */

enum { R_OK, R_FAIL, R_MALFORMED, R_INVALID };

static bool blank(char ch)
{
    return ch == ' ' || ch == ',';
}

/* Items of the group opened just before p, closed by `close`: items are the
 * characters and groups at the group's own level; inner brackets only change
 * the level (their kinds are checked when that inner group is parsed). */
static int ref_group_items(const char *p, char close)
{
    int items = 0;
    int level = 0;
    while (*p) {
        char ch = *p++;
        if (blank(ch))
            continue;
        if (ch == '{' || ch == '[') {
            items += level == 0;
            level++;
        } else if (ch == '}' || ch == ']') {
            if (level-- == 0)
                return ch == close ? items : -1;
        } else {
            items += level == 0;
        }
    }
    return -1;
}

/* The documented grammar: term := letter | group; group := an opening
 * bracket, at most 64 terms, the matching closing bracket; blanks anywhere.
 * Reading knows '{' groups only, building '{' and '['. Nesting deeper than
 * NEST_MAX groups is refused by the implementation (an undocumented limit,
 * see docs/hardening-review.md) and taken as malformed here too. */
#define NEST_MAX 33

static bool ref_term_ok(const char **pp, int nest)
{
    const char *p = *pp;
    while (blank(*p))
        p++;
    char ch = *p;
    char close = ch == '{' ? '}' : (ch == '[' && g.building) ? ']' : 0;
    if (close) {
        if (nest + 1 > NEST_MAX)
            return false;
        p++;
        int items = 0;
        for (;;) {
            while (blank(*p))
                p++;
            if (*p == close)
                break;
            if (++items > MAX_ITEMS || !ref_term_ok(&p, nest + 1))
                return false;
        }
        *pp = p + 1;
        return true;
    }
    if (ch == '\0' || !strchr(g.building ? BUILD_LETTERS : SCAN_LETTERS "_", ch))
        return false;
    *pp = p + 1;
    return true;
}

static bool ref_format_ok(void)
{
    const char *p = g.fmt;
    if (!p || !ref_term_ok(&p, 0))
        return false;
    while (blank(*p))
        p++;
    return *p == '\0';
}

static fk_node *node(uintptr_t raw)
{
    return fk_get(raw);
}

static bool handle_open(fk_node *n)
{
    return !(atomic_load(&n->h->state) & (NC_HANDLE_CLOSED | NC_HANDLE_DESTROYED));
}

/* Does term `raw` satisfy scan letter `ch` (given its handle type)? */
static int ref_scan_value(char ch, uintptr_t raw, const nocopy_handle_type *ht)
{
    if (raw == 0)
        return ch == 't' ? R_OK : R_INVALID;
    fk_node *n = node(raw);
    switch (ch) {
    case 'i': return n->kind == FK_INT ? R_OK : R_FAIL;
    case 'I': case 'z':
        return (n->kind == FK_INT && n->i >= 0) || n->kind == FK_UINT ? R_OK : R_FAIL;
    case 'f': return n->kind == FK_FLOAT ? R_OK : R_FAIL;
    case 'o':
        return n->kind == FK_ATOM && n->atom_known &&
                       (n->atom == NOCOPY_ATOM_TRUE || n->atom == NOCOPY_ATOM_FALSE)
                   ? R_OK : R_FAIL;
    case 'a': return n->kind == FK_ATOM && n->atom_known ? R_OK : R_FAIL;
    case 'b': return n->kind == FK_BIN ? R_OK : R_FAIL;
    case 'v': {
        uint8_t *flat;
        size_t len;
        if (!fk_flatten_iodata(raw, &flat, &len))
            return R_FAIL;
        free(flat);
        return R_OK;
    }
    case 'h':
        return n->kind == FK_HANDLE && n->h->type == ht && handle_open(n) ? R_OK : R_FAIL;
    default:
        return R_OK;                             /* 't' */
    }
}

typedef struct ref {
    const char *p;
    unsigned k;                                  /* next argument (value letter) */
    uintptr_t expect[NARGS];                     /* scan: the term each letter read */
} ref;

static int ref_scan_one(ref *r, uintptr_t raw)
{
    while (blank(*r->p))
        r->p++;
    char ch = *r->p;
    if (ch == '\0')
        return R_MALFORMED;
    r->p++;
    if (ch == '_')
        return R_OK;
    if (ch == '{') {
        int n = ref_group_items(r->p, '}');
        if (n < 0 || n > MAX_ITEMS)
            return R_MALFORMED;
        if (raw == 0)
            return R_INVALID;
        fk_node *t = node(raw);
        if (t->kind != FK_TUPLE || t->arity != (unsigned)n)
            return R_FAIL;
        for (int i = 0; i < n; i++) {
            int st = ref_scan_one(r, node(raw)->elems[i]);
            if (st != R_OK)
                return st;
        }
        while (blank(*r->p))
            r->p++;
        r->p++;
        return R_OK;
    }
    if (!strchr(SCAN_LETTERS, ch))
        return R_MALFORMED;
    unsigned j = r->k++;
    if (j >= NARGS)
        fk_die("harness: more value letters than arguments");
    g.reached[j] = true;
    r->expect[j] = raw;
    return ref_scan_value(ch, raw, g.htypes[j]);
}

static int ref_scan(ref *r)
{
    r->k = 0;
    if (!ref_format_ok())
        return R_MALFORMED;
    r->p = g.fmt;
    r->k = 0;
    int st = ref_scan_one(r, g.root_argno ? g.root : 0);
    if (st != R_OK)
        return st;
    while (blank(*r->p))
        r->p++;
    return *r->p ? R_MALFORMED : R_OK;
}

/* Building: is argument j, taken by letter ch, a valid value? */
static bool ref_build_valid(char ch, unsigned j)
{
    switch (ch) {
    case 'f': return isfinite(g.fvals[j]);
    case 'a': {
        int a = g.ints[j];
        return a < 0 ? a >= -NOCOPY_ATOM_BUILTIN_COUNT : a < FK_NATOMS;
    }
    case 'c': return g.cptr[j] != NULL || g.csize[j] == 0;
    case 'B': return g.bufs[j] != NULL;
    case 's': {
        if (g.sterm[j].raw == 0 || node(g.sterm[j].raw)->kind != FK_BIN)
            return false;
        size_t size = node(g.sterm[j].raw)->size;
        return g.off[j] <= size && g.len[j] <= size - g.off[j];
    }
    case 'k': {
        if (!g.kepts[j])
            return false;
        size_t size = nocopy_kept_bytes(g.kepts[j]).size;
        return g.off[j] <= size && g.len[j] <= size - g.off[j];
    }
    case 'h': return g.handles[j] != NULL;
    case 'v': return g.uvals[j] != 0;
    default: return true;                        /* i I o */
    }
}

static int ref_build_one(ref *r)
{
    while (blank(*r->p))
        r->p++;
    char ch = *r->p;
    if (ch == '\0')
        return R_MALFORMED;
    r->p++;
    if (ch == '{' || ch == '[') {
        int n = ref_group_items(r->p, ch == '{' ? '}' : ']');
        if (n < 0 || n > MAX_ITEMS)
            return R_MALFORMED;
        int all = R_OK;
        for (int i = 0; i < n; i++) {
            int st = ref_build_one(r);
            if (st == R_MALFORMED)
                return st;
            if (st != R_OK)
                all = R_FAIL;
        }
        while (blank(*r->p))
            r->p++;
        r->p++;
        return all;
    }
    if (!strchr(BUILD_LETTERS, ch))
        return R_MALFORMED;
    unsigned j = r->k++;
    if (j >= NARGS)
        fk_die("harness: more value letters than arguments");
    g.reached[j] = true;
    return ref_build_valid(ch, j) ? R_OK : R_FAIL;
}

static int ref_build(ref *r)
{
    r->k = 0;
    if (!ref_format_ok())
        return R_MALFORMED;
    r->p = g.fmt;
    r->k = 0;
    int st = ref_build_one(r);
    if (st == R_MALFORMED)
        return st;
    while (blank(*r->p))
        r->p++;
    return *r->p ? R_MALFORMED : st;
}

/* Compares built term `raw` with the format from r->p (already known valid). */
static void check_built(ref *r, uintptr_t raw)
{
    while (blank(*r->p))
        r->p++;
    char ch = *r->p++;
    fk_node *n = node(raw);
    if (ch == '{' || ch == '[') {
        int items = ref_group_items(r->p, ch == '{' ? '}' : ']');
        if (ch == '{') {
            FK_ASSERT(n->kind == FK_TUPLE && n->arity == (unsigned)items);
            for (int i = 0; i < items; i++)
                check_built(r, node(raw)->elems[i]);
        } else {
            uintptr_t cell = raw;
            for (int i = 0; i < items; i++) {
                FK_ASSERT(node(cell)->kind == FK_CONS);
                check_built(r, node(cell)->head);
                cell = node(cell)->tail;
            }
            FK_ASSERT(node(cell)->kind == FK_NIL);
        }
        while (blank(*r->p))
            r->p++;
        r->p++;
        return;
    }
    unsigned j = r->k++;
    n = node(raw);
    switch (ch) {
    case 'i': FK_ASSERT(n->kind == FK_INT && n->i == g.ivals[j]); break;
    case 'I':
        FK_ASSERT((n->kind == FK_INT && (uint64_t)n->i == g.uvals[j] && n->i >= 0) ||
                  (n->kind == FK_UINT && n->u == g.uvals[j]));
        break;
    case 'v': FK_ASSERT(raw == g.uvals[j]); break;
    case 'f': FK_ASSERT(n->kind == FK_FLOAT && memcmp(&n->f, &g.fvals[j], sizeof n->f) == 0); break;
    case 'o':
        FK_ASSERT(n->kind == FK_ATOM &&
                  n->atom == (g.ints[j] ? NOCOPY_ATOM_TRUE : NOCOPY_ATOM_FALSE));
        break;
    case 'a': FK_ASSERT(n->kind == FK_ATOM && n->atom == g.ints[j]); break;
    case 'c':
        FK_ASSERT(n->kind == FK_BIN && n->size == g.csize[j]);
        FK_ASSERT(n->size == 0 || memcmp(n->data, g.cptr[j], n->size) == 0);
        break;
    case 'B':
        FK_ASSERT(n->kind == FK_BIN && n->data == g.bufdata[j] && n->size == g.bufsize[j]);
        break;
    case 's':
        FK_ASSERT(n->kind == FK_BIN && n->size == g.len[j] &&
                  n->data == node(g.sterm[j].raw)->data + g.off[j]);
        break;
    case 'k':
        FK_ASSERT(n->kind == FK_BIN && n->size == g.len[j] &&
                  n->data == nocopy_kept_bytes(g.kepts[j]).data + g.off[j]);
        break;
    case 'h': FK_ASSERT(n->kind == FK_HANDLE && NC_HANDLE_OBJ(n->h) == g.handles[j]); break;
    default: fk_die("harness: unexpected letter");
    }
}

/* ---- reading ------------------------------------------------------------ */

#define ARG_I(j) &g.slots[j].i
#define ARG_U(j) &g.slots[j].u
#define ARG_Z(j) &g.slots[j].z
#define ARG_F(j) &g.slots[j].f
#define ARG_O(j) &g.slots[j].o
#define ARG_B(j) &g.slots[j].b
#define ARG_V(j) &g.slots[j].v
#define ARG_T(j) &g.slots[j].t
#define ARG_H(j) g.htypes[j], &g.slots[j].obj

#define SCAN(ARG)                                                              \
    (g.root_argno ? nocopy_term_scan(c, root, g.fmt, L64(ARG))                 \
                  : nocopy_arg_scan(c, 1, g.fmt, L64(ARG)))

static int run_scan(nocopy_call *c)
{
    nocopy_term root = {g.root, 1};
    switch (g.mode) {
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
    const slot *s = &g.slots[j];
    char ch = g.letter[j];
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
    g.root = fk_parse_term(in);
    g.root_argno = past_argc ? 0 : 1;
    for (unsigned j = 0; j < NARGS; j++)
        g.htypes[j] = j % 3 == 2 ? &fk_type_b : &fk_type_a;
    memset(g.slots, 0, sizeof g.slots);

    ref r;
    int expect = ref_scan(&r);

    uintptr_t argv[1] = {g.root};
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

#define ARG_BI(j) g.ivals[j]
#define ARG_BU(j) g.uvals[j]
#define ARG_BF(j) g.fvals[j]
#define ARG_BO(j) g.ints[j]
#define ARG_BC(j) g.cptr[j], g.csize[j]
#define ARG_BB(j) g.bufs[j]
#define ARG_BS(j) g.sterm[j], g.off[j], g.len[j]
#define ARG_BK(j) (const nocopy_kept *)g.kepts[j], g.off[j], g.len[j]
#define ARG_BH(j) g.handles[j]

static nocopy_value run_build(nocopy_call *c)
{
    switch (g.mode) {
    case B_I: return nocopy_build(c, g.fmt, L64(ARG_BI));
    case B_UV: return nocopy_build(c, g.fmt, L64(ARG_BU));
    case B_F: return nocopy_build(c, g.fmt, L64(ARG_BF));
    case B_OA: return nocopy_build(c, g.fmt, L64(ARG_BO));
    case B_C: return nocopy_build(c, g.fmt, L64(ARG_BC));
    case B_BUF: return nocopy_build(c, g.fmt, L64(ARG_BB));
    case B_S: return nocopy_build(c, g.fmt, L64(ARG_BS));
    case B_K: return nocopy_build(c, g.fmt, L64(ARG_BK));
    default: return nocopy_build(c, g.fmt, L64(ARG_BH));
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
        char ch = g.letter[j];
        uint8_t b;
        switch (g.mode) {
        case B_I: g.ivals[j] = (int64_t)fk_u64(in); break;
        case B_UV:
            if (ch == 'v') {
                b = fk_u8(in);
                g.uvals[j] = b % 8 == 0 ? 0 : 1 + (uint64_t)(b % fk.n);
            } else {
                g.uvals[j] = fk_u64(in);
            }
            break;
        case B_F: {
            uint64_t bits = fk_u64(in);
            memcpy(&g.fvals[j], &bits, sizeof bits);
            break;
        }
        case B_OA: g.ints[j] = (int8_t)fk_u8(in) % 24; break;
        case B_C:
            b = fk_u8(in);
            if (b % 8 == 0) {
                g.cptr[j] = NULL;
                g.csize[j] = b % 16 == 0 ? 0 : 1 + fk_u8(in);
            } else {
                size_t at = fk_u16(in) % (poolsize + 1);
                g.cptr[j] = pool + at;
                g.csize[j] = fk_u16(in) % (poolsize - at + 1);
            }
            break;
        case B_BUF:
            b = fk_u8(in);
            g.bufs[j] = NULL;
            if (ch && b % 8 != 0) {
                size_t size = b % 4 == 1 ? 65 + fk_u8(in) : fk_u8(in) % 70;
                g.bufs[j] = nocopy_buf_alloc(c, size);
                FK_ASSERT(g.bufs[j] != NULL);
                if (b & 0x80) {
                    FK_ASSERT(nocopy_buf_resize(g.bufs[j], fk_u8(in)) == NOCOPY_OK);
                }
                memset(g.bufs[j]->data, (int)j, g.bufs[j]->size);
                g.bufdata[j] = g.bufs[j]->data;
                g.bufsize[j] = g.bufs[j]->size;
            }
            break;
        case B_S:
            b = fk_u8(in);
            g.sterm[j].raw = b % 16 == 0 ? 0 : 1 + (uintptr_t)(b % fk.n);
            g.sterm[j].argno = 1;
            g.off[j] = pick_size(in);
            g.len[j] = pick_size(in);
            break;
        case B_K: {
            b = fk_u8(in);
            g.kepts[j] = NULL;
            if (ch && b % 8 != 0) {
                /* Either a kept input binary or a shared buffer. */
                uintptr_t raw = 1 + (uintptr_t)(fk_u8(in) % fk.n);
                nocopy_term t = {raw, 1};
                if (b & 1 && node(raw)->kind == FK_BIN) {
                    FK_ASSERT(nocopy_term_keep(c, t, &g.kepts[j]) == NOCOPY_OK);
                } else {
                    nocopy_buf *buf = nocopy_buf_alloc(c, fk_u8(in));
                    FK_ASSERT(buf != NULL);
                    memset(buf->data, 0x5A, buf->size);
                    g.kepts[j] = nocopy_buf_share(c, buf);
                    FK_ASSERT(g.kepts[j] != NULL);
                }
            }
            g.off[j] = pick_size(in);
            g.len[j] = pick_size(in);
            break;
        }
        case B_H:
            b = fk_u8(in);
            g.handles[j] = NULL;
            if (ch && b % 8 != 0) {
                g.handles[j] = nocopy_handle_new(c, b & 1 ? &fk_type_b : &fk_type_a);
                FK_ASSERT(g.handles[j] != NULL);
                ((fk_obj *)g.handles[j])->magic = FK_LIVE;
            }
            break;
        default: break;
        }
    }
}

static void fuzz_build(fk_in *in)
{
    g.root = fk_parse_term(in);
    /* Bytes for 'c' arguments to copy from: the rest of the input, in its own
     * exact-size block. */
    size_t poolsize = in->n;
    uint8_t *pool = malloc(poolsize ? poolsize : 1);
    if (!pool)
        fk_die("out of memory in the harness");
    memcpy(pool, in->p, poolsize);

    uintptr_t argv[1] = {g.root};
    nocopy_call c;
    fk_call_init(&c, 1, argv);
    make_build_args(&c, in, pool, poolsize);

    ref r;
    int expect = ref_build(&r);
    nocopy_value v = run_build(&c);
    switch (expect) {
    case R_OK:
        FK_ASSERT(v != 0);
        r.p = g.fmt;
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
        if (g.reached[j])
            continue;
        if (g.mode == B_BUF)
            nocopy_buf_free(g.bufs[j]);
        if (g.mode == B_H)
            nocopy_handle_release(g.handles[j]);
    }
    nocopy__call_finish(&c);
    if (g.mode == B_K)
        for (unsigned j = 0; j < NARGS; j++)
            nocopy_kept_release(g.kepts[j]);
    free(pool);
}

/* ---- entry ---------------------------------------------------------------- */

/* Which letter takes argument j: the value letters in format order, which is
 * the order the parser consumes them in. Returns false when the format uses a
 * letter this mode cannot pass, or more letters than there are arguments. */
static bool assign_letters(void)
{
    const char *value = g.building ? BUILD_LETTERS : SCAN_LETTERS;
    const char *allowed = mode_letters[g.mode];
    unsigned k = 0;
    memset(g.letter, 0, sizeof g.letter);
    for (const char *p = g.fmt; p && *p; p++) {
        if (!strchr(value, *p))
            continue;
        if (!strchr(allowed, *p) || k == NARGS)
            return false;
        g.letter[k++] = *p;
    }
    g.nvalues = k;
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
    memset(&g, 0, sizeof g);
    g.fmt = null_format ? NULL : fmt;
    g.mode = (enum mode)(mode_byte % NMODES);
    g.building = g.mode >= B_I;
    if (assign_letters()) {
        fk_begin();
        if (g.building)
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
