/* fuzz_args.c: the typed argument readers and the checked result builders of
 * the core (nc_args.c, nc_call.c, nc_reply.c, nc_handle.c) against a reference,
 * over synthetic terms (fake_backend.h).
 *
 * Input: [argc][argc terms][script]. Each script step picks a term (an
 * argument by index, possibly past the arity, or any sub-term) and applies
 * one operation: every nocopy_term_* reader, keep/release, slices with huge
 * offsets, the NOCOPY_DIRTY_ABOVE measure, closing a handle the call is
 * using, extra handle references, nested results with failed parts,
 * nocopy_fail_badarg and nocopy_fail. Checked after every step:
 *   - the status is the reference's (OK, EBADARG naming the term's argument,
 *     ERANGE, or EINTERNAL for a term word that is not a term) and outputs
 *     are exact;
 *   - a handle closed while the call uses it is destroyed only when the call
 *     ends, exactly once (fk_dtor dies on a second run);
 *   - the recorded error text is always NUL-terminated, and nothing leaks. */
#include <stdlib.h>
#include <string.h>

#include "fake_backend.h"

#define MAX_ARGS 6
#define MAX_STEPS 64
#define MAX_BORROWED 64

typedef struct {
    nocopy_call c;
    uintptr_t argv[MAX_ARGS];
    unsigned argc;
    void *borrowed[MAX_BORROWED];   /* objects of handles this call has read */
    unsigned nborrowed;
    void *extra_refs[MAX_BORROWED]; /* nocopy_handle_keep()s to undo */
    unsigned nextra;
    nocopy_kept *kept[MAX_STEPS];
    unsigned nkept;
} state;

static nocopy_term pick_term(state *s, fk_in *in)
{
    uint8_t b = fk_u8(in);
    if (b < 0x40)
        return nocopy_arg(&s->c, b % (s->argc + 1));     /* may be past the arity */
    nocopy_term t = {1 + (uintptr_t)(fk_u16(in) % fk.n), 1 + b % s->argc};
    return t;
}

static void expect_status(state *s, nocopy_term t, int st, int want)
{
    if (fk.arena_exhausted) {
        /* The harness made an arena allocation fail (its limit, reached by
         * the scratch memory of this call's earlier steps): ENOMEM. */
        FK_ASSERT(st == NOCOPY_ENOMEM && s->c.err_status == NOCOPY_ENOMEM);
        fk.arena_exhausted = false;
        return;
    }
    if (t.raw == 0)
        want = NOCOPY_EINTERNAL;
    FK_ASSERT(st == want);
    if (st != NOCOPY_OK) {
        FK_ASSERT(s->c.err_status == st);
        FK_ASSERT(s->c.err_argno == (st == NOCOPY_EBADARG ? t.argno : 0u));
    }
    FK_ASSERT(memchr(s->c.err_text, '\0', sizeof s->c.err_text) != NULL);
}

#define OKIF(cond) ((cond) ? NOCOPY_OK : NOCOPY_EBADARG)

static bool is_unsigned(const fk_node *n)
{
    return (n->kind == FK_INT && n->i >= 0) || n->kind == FK_UINT;
}

static uint64_t unsigned_value(const fk_node *n)
{
    return n->kind == FK_INT ? (uint64_t)n->i : n->u;
}

static bool handle_open(const fk_node *n)
{
    return !(atomic_load(&n->h->state) & (NC_HANDLE_CLOSED | NC_HANDLE_DESTROYED));
}

/* The NOCOPY_DIRTY_ABOVE measure (nc_call.c), written the obvious recursive
 * way: depth-first, left to right, a list's tail at the list's depth, at most
 * 4096 terms visited, nothing opened at depth 64. */
#define REF_MEASURE_TERMS 4096
#define REF_MEASURE_DEPTH 64

static void ref_measure(uintptr_t raw, unsigned depth, size_t *visited, size_t *total)
{
    while (*visited < REF_MEASURE_TERMS) {
        const fk_node *n = fk_get(raw);
        (*visited)++;
        if (n->kind == FK_BIN) {
            *total = *total > SIZE_MAX - n->size ? SIZE_MAX : *total + n->size;
        } else if (n->kind == FK_TUPLE && depth < REF_MEASURE_DEPTH) {
            for (unsigned k = 0; k < n->arity && *visited < REF_MEASURE_TERMS; k++)
                ref_measure(n->elems[k], depth + 1, visited, total);
        } else if (n->kind == FK_CONS && depth < REF_MEASURE_DEPTH) {
            uintptr_t tail = n->tail;
            ref_measure(n->head, depth + 1, visited, total);
            raw = tail;
            continue;
        }
        return;
    }
}

static size_t ref_arg_bytes(const state *s)
{
    size_t visited = 0, total = 0;
    for (unsigned i = 0; i < s->argc && visited < REF_MEASURE_TERMS; i++)
        ref_measure(s->argv[i], 0, &visited, &total);
    return total;
}

static void step(state *s, fk_in *in)
{
    nocopy_call *c = &s->c;
    uint8_t op = fk_u8(in);
    nocopy_term t = pick_term(s, in);
    const fk_node *n = t.raw ? fk_get(t.raw) : NULL;
    int st;
    switch (op % 23) {
    case 0: {
        int64_t v = 0;
        st = nocopy_term_i64(c, t, &v);
        expect_status(s, t, st, OKIF(n && n->kind == FK_INT));
        if (st == NOCOPY_OK)
            FK_ASSERT(v == n->i);
        break;
    }
    case 1: {
        uint64_t v = 0;
        st = nocopy_term_u64(c, t, &v);
        expect_status(s, t, st, OKIF(n && is_unsigned(n)));
        if (st == NOCOPY_OK)
            FK_ASSERT(v == unsigned_value(n));
        break;
    }
    case 2: {
        size_t v = 0;
        st = nocopy_term_size(c, t, &v);
        expect_status(s, t, st, OKIF(n && is_unsigned(n) && unsigned_value(n) <= SIZE_MAX));
        if (st == NOCOPY_OK)
            FK_ASSERT(v == unsigned_value(n));
        break;
    }
    case 3: {
        int64_t lo = (int64_t)fk_u64(in), hi = (int64_t)fk_u64(in), v = 0;
        if (fk_u8(in) & 1) {             /* mostly small ranges */
            lo = (int8_t)lo;
            hi = (int8_t)hi;
        }
        st = nocopy_term_int_range(c, t, lo, hi, &v);
        expect_status(s, t, st, OKIF(n && n->kind == FK_INT && n->i >= lo && n->i <= hi));
        if (st == NOCOPY_OK)
            FK_ASSERT(v == n->i);
        break;
    }
    case 4: {
        double v = 0;
        st = nocopy_term_double(c, t, &v);
        expect_status(s, t, st, OKIF(n && n->kind == FK_FLOAT));
        if (st == NOCOPY_OK)
            FK_ASSERT(memcmp(&v, &n->f, sizeof v) == 0);
        break;
    }
    case 5: {
        int v = -1;
        bool ok = n && n->kind == FK_ATOM && n->atom_known &&
                  (n->atom == NOCOPY_ATOM_TRUE || n->atom == NOCOPY_ATOM_FALSE);
        st = nocopy_term_bool(c, t, &v);
        expect_status(s, t, st, OKIF(ok));
        if (st == NOCOPY_OK)
            FK_ASSERT(v == (n->atom == NOCOPY_ATOM_TRUE));
        break;
    }
    case 6: {
        nocopy_atom a = 99;
        st = nocopy_term_atom(c, t, &a);
        expect_status(s, t, st, OKIF(n && n->kind == FK_ATOM && n->atom_known));
        if (st == NOCOPY_OK)
            FK_ASSERT(a == n->atom);
        break;
    }
    case 7: {
        nocopy_bytes b = {NULL, 0};
        st = nocopy_term_bytes(c, t, &b);
        expect_status(s, t, st, OKIF(n && n->kind == FK_BIN));
        if (st == NOCOPY_OK)
            FK_ASSERT(b.data == n->data && b.size == n->size);
        break;
    }
    case 8: {
        nocopy_iovec v;
        uint8_t *flat = NULL;
        size_t len = 0;
        bool io = t.raw && fk_flatten_iodata(t.raw, &flat, &len);
        st = nocopy_term_iovec(c, t, &v);
        if (fk.arena_exhausted) {
            /* The harness made an allocation fail (its arena limit):
             * ENOMEM, and the call goes on. */
            FK_ASSERT(st == NOCOPY_ENOMEM && c->err_status == NOCOPY_ENOMEM);
            fk.arena_exhausted = false;
            free(flat);
            break;
        }
        expect_status(s, t, st, OKIF(io));
        if (st == NOCOPY_OK) {
            size_t at = 0;
            for (size_t i = 0; i < v.count; i++) {
                FK_ASSERT(v.pieces[i].size <= len - at);
                FK_ASSERT(memcmp(v.pieces[i].data, flat + at, v.pieces[i].size) == 0);
                at += v.pieces[i].size;
            }
            FK_ASSERT(at == len && v.total == len);
        }
        free(flat);
        break;
    }
    case 9: {
        unsigned arity = fk_u8(in) % 8;
        nocopy_term el[8];
        st = nocopy_term_tuple(c, t, arity, el);
        expect_status(s, t, st, OKIF(n && n->kind == FK_TUPLE && n->arity == arity));
        for (unsigned i = 0; st == NOCOPY_OK && i < arity; i++)
            FK_ASSERT(el[i].raw == n->elems[i] && el[i].argno == t.argno);
        break;
    }
    case 10: {
        unsigned arity = 12345;
        const nocopy_term *el = NULL;
        st = nocopy_term_tuple_any(c, t, &arity, &el);
        expect_status(s, t, st, OKIF(n && n->kind == FK_TUPLE));
        if (st == NOCOPY_OK) {
            FK_ASSERT(arity == n->arity && el != NULL);
            for (unsigned i = 0; i < arity; i++)
                FK_ASSERT(el[i].raw == n->elems[i] && el[i].argno == t.argno);
        }
        break;
    }
    case 11: {
        size_t len = 0, want = 0;
        const nocopy_term *el = NULL;
        uintptr_t cell = t.raw;
        while (cell && fk_get(cell)->kind == FK_CONS) {
            want++;
            cell = fk_get(cell)->tail;
        }
        bool proper = cell && fk_get(cell)->kind == FK_NIL;
        st = nocopy_term_list(c, t, &len, &el);
        expect_status(s, t, st, OKIF(proper));
        if (st == NOCOPY_OK) {
            FK_ASSERT(len == want && el != NULL);
            cell = t.raw;
            for (size_t i = 0; i < len; i++) {
                FK_ASSERT(el[i].raw == fk_get(cell)->head && el[i].argno == t.argno);
                cell = fk_get(cell)->tail;
            }
        }
        break;
    }
    case 12: {
        uint8_t b = fk_u8(in);
        const nocopy_handle_type *type =
            b % 3 == 0 ? &fk_type_a : b % 3 == 1 ? &fk_type_b : &fk_type_unlisted;
        void *obj = NULL;
        bool ok = n && n->kind == FK_HANDLE && n->h->type == type && handle_open(n);
        st = nocopy_term_handle(c, t, type, &obj);
        expect_status(s, t, st, OKIF(ok));
        if (st == NOCOPY_OK) {
            FK_ASSERT(obj == NC_HANDLE_OBJ(n->h));
            FK_ASSERT(((fk_obj *)obj)->magic == FK_LIVE);
            if (s->nborrowed < MAX_BORROWED)
                s->borrowed[s->nborrowed++] = obj;
        }
        break;
    }
    case 13: {
        nocopy_kept *k = NULL;
        st = nocopy_term_keep(c, t, &k);
        expect_status(s, t, st, OKIF(n && n->kind == FK_BIN));
        if (st == NOCOPY_OK) {
            nocopy_bytes kb = nocopy_kept_bytes(k);
            FK_ASSERT(kb.size == n->size && (kb.size == 0 || memcmp(kb.data, n->data, kb.size) == 0));
            /* A slice of it, with offsets that may be huge. */
            size_t off = fk_u8(in) & 1 ? (size_t)fk_u64(in) : fk_u8(in);
            size_t len = fk_u8(in) & 1 ? (size_t)fk_u64(in) : fk_u8(in);
            bool in_range = off <= kb.size && len <= kb.size - off;
            nocopy_value v = nocopy_make_kept(c, k, off, len);
            FK_ASSERT((v != 0) == in_range);
            if (v) {
                FK_ASSERT(fk_get(v)->data == kb.data + off && fk_get(v)->size == len);
            } else {
                FK_ASSERT(c->err_status == NOCOPY_ERANGE);
            }
            /* Released at the end: terms made from it refer to its bytes, as
             * they would hold a reference in a real backend. */
            s->kept[s->nkept++] = k;
        }
        break;
    }
    case 14: {
        nocopy_type ty = nocopy_term_type(c, t);
        static const nocopy_type of_kind[] = {
            [FK_INT] = NOCOPY_T_INTEGER, [FK_UINT] = NOCOPY_T_INTEGER,
            [FK_BIG] = NOCOPY_T_INTEGER, [FK_FLOAT] = NOCOPY_T_FLOAT,
            [FK_ATOM] = NOCOPY_T_ATOM, [FK_BIN] = NOCOPY_T_BINARY,
            [FK_BITS] = NOCOPY_T_BITSTRING, [FK_TUPLE] = NOCOPY_T_TUPLE,
            [FK_CONS] = NOCOPY_T_LIST, [FK_NIL] = NOCOPY_T_NIL,
            [FK_HANDLE] = NOCOPY_T_HANDLE, [FK_OTHER] = NOCOPY_T_OTHER};
        FK_ASSERT(ty == (n ? of_kind[n->kind] : NOCOPY_T_OTHER));
        break;
    }
    case 15: {
        size_t off = fk_u8(in) & 1 ? (size_t)fk_u64(in) : fk_u8(in);
        size_t len = fk_u8(in) & 1 ? (size_t)fk_u64(in) : (size_t)fk_u16(in);
        /* Read the node before building: a new node may move the table. */
        bool is_bin = n && n->kind == FK_BIN;
        size_t bsize = is_bin ? n->size : 0;
        const uint8_t *bdata = is_bin ? n->data : NULL;
        nocopy_value v = nocopy_make_slice(c, t, off, len);
        if (!n) {
            FK_ASSERT(v == 0 && c->err_status == NOCOPY_EINTERNAL);
        } else if (!is_bin) {
            /* A term of another type: a bad argument, as if C had read it. */
            FK_ASSERT(v == 0 && c->err_status == NOCOPY_EBADARG && c->err_argno == t.argno);
        } else if (off > bsize || len > bsize - off) {
            FK_ASSERT(v == 0 && c->err_status == NOCOPY_ERANGE);
        } else {
            FK_ASSERT(v != 0);
            FK_ASSERT(fk_get(v)->data == bdata + off && fk_get(v)->size == len);
        }
        break;
    }
    case 16:
        FK_ASSERT(nocopy__binary_arg_bytes(c) == ref_arg_bytes(s));
        break;
    case 17: {
        /* Close a handle this call is using: it stays usable by the call, its
         * destructor waits for the call's end. */
        if (s->nborrowed == 0)
            break;
        void *obj = s->borrowed[fk_u8(in) % s->nborrowed];
        long before = fk.dtor_runs;
        bool was_closed = atomic_load(&NC_HANDLE_OF(obj)->state) & NC_HANDLE_CLOSED;
        st = nocopy_handle_close(obj);
        FK_ASSERT(st == (was_closed ? NOCOPY_ECLOSED : NOCOPY_OK));
        FK_ASSERT(fk.dtor_runs == before);
        FK_ASSERT(((fk_obj *)obj)->magic == FK_LIVE);
        break;
    }
    case 18: {
        /* An extra C reference on a handle in use, dropped at the end. */
        if (s->nborrowed == 0 || s->nextra == MAX_BORROWED)
            break;
        void *obj = s->borrowed[fk_u8(in) % s->nborrowed];
        nocopy_handle_keep(obj);
        s->extra_refs[s->nextra++] = obj;
        break;
    }
    case 19: {
        /* A new handle: returned in a term, or given back. */
        uint8_t b = fk_u8(in);
        const nocopy_handle_type *type = b & 1 ? &fk_type_a : &fk_type_unlisted;
        void *obj = nocopy_handle_new(c, type);
        if (type == &fk_type_unlisted) {
            FK_ASSERT(obj == NULL && c->err_status == NOCOPY_EINTERNAL);
            break;
        }
        FK_ASSERT(obj != NULL && ((fk_obj *)obj)->magic == 0);
        ((fk_obj *)obj)->magic = FK_LIVE;
        if (b & 2)
            FK_ASSERT(nocopy_make_handle(c, obj) != 0);
        else
            nocopy_handle_release(obj);
        break;
    }
    case 20: {
        /* Compound results: any failed part fails the whole. */
        nocopy_value parts[4];
        bool ok = true;
        for (int i = 0; i < 4; i++) {
            uint8_t b = fk_u8(in);
            parts[i] = b % 5 == 0 ? 0 : nocopy_make_i64(c, b);
            ok = ok && parts[i] != 0;
        }
        unsigned k = fk_u8(in) % 5;
        nocopy_value tv = nocopy_make_tuple(c, k, parts);
        nocopy_value lv = nocopy_make_list(c, k, parts);
        bool want = true;
        for (unsigned i = 0; i < k; i++)
            want = want && parts[i] != 0;
        FK_ASSERT((tv != 0) == want && (lv != 0) == want);
        (void)ok;
        break;
    }
    case 22: {
        /* A status and a message of the function's own: any status, any
         * bytes (the message is cut, never overrun). */
        int status = (int)(int8_t)fk_u8(in);
        char text[300];
        size_t len = fk_u8(in);
        for (size_t i = 0; i < len; i++)
            text[i] = (char)(1 + fk_u8(in) % 255);
        text[len] = '\0';
        st = nocopy_fail(c, status, "%s", text);
        FK_ASSERT(st == (status < 0 ? status : NOCOPY_EINTERNAL));
        FK_ASSERT(c->err_status == st && c->err_argno == 0);
        FK_ASSERT(strncmp(c->err_text, text, sizeof c->err_text - 1) == 0);
        break;
    }
    default: {
        unsigned index = fk_u8(in);
        st = nocopy_fail_badarg(c, index, fk_u8(in) & 1 ? NULL : "a thing");
        FK_ASSERT(st == NOCOPY_EBADARG && c->err_status == st && c->err_argno == index + 1);
        break;
    }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fk_begin();
    fk_in in = {data, size};
    state *s = calloc(1, sizeof *s);
    if (!s)
        return 0;
    s->argc = 1 + fk_u8(&in) % MAX_ARGS;
    for (unsigned i = 0; i < s->argc; i++)
        s->argv[i] = fk_parse_term(&in);
    fk_call_init(&s->c, s->argc, s->argv);
    for (int i = 0; i < MAX_STEPS && in.n > 0; i++)
        step(s, &in);

    /* The call ends: borrows end, closed handles are destroyed now. */
    for (unsigned i = 0; i < s->nextra; i++)
        nocopy_handle_release(s->extra_refs[i]);
    nocopy__call_finish(&s->c);
    for (unsigned i = 0; i < s->nborrowed; i++) {
        nocopy__handle *h = NC_HANDLE_OF(s->borrowed[i]);
        unsigned state_now = atomic_load(&h->state);
        FK_ASSERT(state_now / NC_HANDLE_USER == 0);
        if (state_now & NC_HANDLE_CLOSED)
            FK_ASSERT((state_now & NC_HANDLE_DESTROYED) &&
                      ((fk_obj *)s->borrowed[i])->magic == FK_DEAD);
    }
    for (unsigned i = 0; i < s->nkept; i++)
        nocopy_kept_release(s->kept[i]);
    free(s);
    fk_end();
    return 0;
}
