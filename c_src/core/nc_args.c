/* nc_args.c: typed argument readers. Each check failure records an error that
 * names the argument and what was expected, in the words OTP's BIFs use. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "nc_backend.h"   /* this build's backend: nc_prims.h */

/* "a" or "an" before a handle type's name (by its first letter: "an inflate
 * stream handle", "a gss_ctx handle"). */
static const char *article(const char *name)
{
    return name && strchr("aeiouAEIOU", name[0]) && name[0] ? "an" : "a";
}

/* The reporters below record why an argument was refused and return nothing:
 * the readers return the status as a constant (BADARG(...)), so the compiler
 * sees that a reader returning NOCOPY_OK set its out-parameter. */
NC_COLD static void bad(nocopy_call *c, nocopy_term t, const char *expected)
{
    nocopy__fail(c, NOCOPY_EBADARG, t.argno, "expected %s", expected);
}
#define BADARG(report) ((report), NOCOPY_EBADARG)

NC_COLD static void invalid_term(nocopy_call *c)
{
    nocopy__fail(c, NOCOPY_EINTERNAL, 0,
                 "an invalid term was read (argument index out of range?)");
}

#define CHECK_TERM(c, t)       \
    do {                       \
        if (!NC_LIKELY((t).raw != 0)) { \
            invalid_term(c);   \
            return NOCOPY_EINTERNAL; \
        }                      \
    } while (0)

NC_HOT nocopy_term nocopy_arg(nocopy_call *call, unsigned index)
{
    nocopy_term t = {0, 0};
    if (index < call->argc) {
        t.raw = call->argv[index];
        t.argno = index + 1;
    }
    return t;
}

unsigned nocopy_arity(const nocopy_call *call)
{
    return call->argc;
}

nocopy_type nocopy_term_type(nocopy_call *call, nocopy_term t)
{
    if (t.raw == 0)
        return NOCOPY_T_OTHER;
    return nocopy__be_type(call, t.raw);
}

NC_COLD static void bad_i64(nocopy_call *c, nocopy_term t, int why)
{
    bad(c, t, why == NC_GET_RANGE ? "an integer that fits in 64 bits (signed)"
                                  : "an integer");
}

NC_HOT int nocopy_term_i64(nocopy_call *c, nocopy_term t, int64_t *out)
{
    CHECK_TERM(c, t);
    int r = nocopy__be_get_i64(c, t.raw, out);
    return NC_LIKELY(r == NC_GET_OK) ? NOCOPY_OK : BADARG(bad_i64(c, t, r));
}

NC_COLD static void bad_u64(nocopy_call *c, nocopy_term t, int why)
{
    bad(c, t, why == NC_GET_RANGE ? "a non-negative integer below 2^64"
                                  : "a non-negative integer");
}

NC_HOT int nocopy_term_u64(nocopy_call *c, nocopy_term t, uint64_t *out)
{
    CHECK_TERM(c, t);
    int r = nocopy__be_get_u64(c, t.raw, out);
    return NC_LIKELY(r == NC_GET_OK) ? NOCOPY_OK : BADARG(bad_u64(c, t, r));
}

NC_COLD static void bad_size(nocopy_call *c, nocopy_term t, int why)
{
    bad(c, t, why == NC_GET_TYPE ? "a size (a non-negative integer)"
                                 : "a size (a non-negative integer that fits size_t)");
}

NC_HOT int nocopy_term_size(nocopy_call *c, nocopy_term t, size_t *out)
{
    CHECK_TERM(c, t);
    uint64_t v;
    int r = nocopy__be_get_u64(c, t.raw, &v);
    if (NC_LIKELY(r == NC_GET_OK && v <= SIZE_MAX)) {
        *out = (size_t)v;
        return NOCOPY_OK;
    }
    return BADARG(bad_size(c, t, r == NC_GET_OK ? NC_GET_RANGE : r));
}

NC_COLD static void bad_range(nocopy_call *c, nocopy_term t, int64_t min, int64_t max)
{
    char what[96];
    snprintf(what, sizeof what, "an integer in %" PRId64 "..%" PRId64, min, max);
    bad(c, t, what);
}

NC_HOT int nocopy_term_int_range(nocopy_call *c, nocopy_term t, int64_t min, int64_t max,
                          int64_t *out)
{
    CHECK_TERM(c, t);
    int64_t v;
    if (NC_LIKELY(nocopy__be_get_i64(c, t.raw, &v) == NC_GET_OK && v >= min && v <= max)) {
        *out = v;
        return NOCOPY_OK;
    }
    return BADARG(bad_range(c, t, min, max));
}

NC_HOT int nocopy_term_double(nocopy_call *c, nocopy_term t, double *out)
{
    CHECK_TERM(c, t);
    if (nocopy__be_get_double(c, t.raw, out) == NC_GET_OK)
        return NOCOPY_OK;
    return BADARG(bad(c, t, "a float"));
}

NC_HOT int nocopy_term_bool(nocopy_call *c, nocopy_term t, int *out)
{
    CHECK_TERM(c, t);
    nocopy_atom a;
    if (nocopy__be_get_atom(c, t.raw, &a) == NC_GET_OK &&
        (a == NOCOPY_ATOM_TRUE || a == NOCOPY_ATOM_FALSE)) {
        *out = (a == NOCOPY_ATOM_TRUE);
        return NOCOPY_OK;
    }
    return BADARG(bad(c, t, "a boolean"));
}

/* Names the accepted atoms, whole names only, as many as fit. */
NC_COLD static void bad_atom(nocopy_call *c, nocopy_term t, int why)
{
    switch (why) {
    case NC_GET_UNKNOWN: {
        char list[NC_ERR_TEXT_MAX - 40];
        size_t used = 0;
        int n = nocopy__module_atom_count(c->mod);
        for (int i = 0; i < n; i++) {
            size_t len = strlen(c->mod->atoms[i]) + (i ? 2 : 0);
            if (used + len + sizeof ", ..." > sizeof list) {
                memcpy(list + used, ", ...", sizeof ", ...");
                used += sizeof ", ..." - 1;
                break;
            }
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                                     c->mod->atoms[i]);
        }
        list[used] = '\0';
        nocopy__fail(c, NOCOPY_EBADARG, t.argno, "expected one of the atoms %s",
                     n ? list : "(none)");
        break;
    }
    default:
        bad(c, t, "an atom");
    }
}

NC_HOT int nocopy_term_atom(nocopy_call *c, nocopy_term t, nocopy_atom *out)
{
    CHECK_TERM(c, t);
    int r = nocopy__be_get_atom(c, t.raw, out);
    return NC_LIKELY(r == NC_GET_OK) ? NOCOPY_OK : BADARG(bad_atom(c, t, r));
}

NC_HOT int nocopy_term_bytes(nocopy_call *c, nocopy_term t, nocopy_bytes *out)
{
    CHECK_TERM(c, t);
    nocopy_bytes b;
    if (NC_LIKELY(nocopy__be_get_bytes(c, t.raw, &b) == NC_GET_OK)) {
        /* Stored from the local copy: reading *out back just after the
         * primitive wrote it field by field stalls the CPU (a 16-byte load
         * cannot be forwarded from two 8-byte stores). */
        c->bytes_raw = t.raw;
        c->bytes_view = b;
        *out = b;
        return NOCOPY_OK;
    }
    /* A bitstring with trailing bits is "not a binary" too; the got: part of the
     * Erlang message shows which. */
    return BADARG(bad(c, t, "a binary"));
}

static int tuple_elems(nocopy_term t, unsigned n, const uintptr_t *raw,
                       nocopy_term *elems)
{
    for (unsigned i = 0; i < n; i++) {
        elems[i].raw = raw[i];
        elems[i].argno = t.argno;
    }
    return NOCOPY_OK;
}

int nocopy_term_tuple(nocopy_call *c, nocopy_term t, unsigned arity, nocopy_term *elems)
{
    CHECK_TERM(c, t);
    unsigned n;
    const uintptr_t *raw;
    if (nocopy__be_get_tuple(c, t.raw, &n, &raw) != NC_GET_OK || n != arity) {
        char what[48];
        snprintf(what, sizeof what, "a tuple of size %u", arity);
        return BADARG(bad(c, t, what));
    }
    return tuple_elems(t, n, raw, elems);
}

int nocopy_term_tuple_any(nocopy_call *c, nocopy_term t, unsigned *arity,
                          const nocopy_term **elems)
{
    CHECK_TERM(c, t);
    unsigned n;
    const uintptr_t *raw;
    if (nocopy__be_get_tuple(c, t.raw, &n, &raw) != NC_GET_OK)
        return BADARG(bad(c, t, "a tuple"));
    nocopy_term *out = nocopy__arena_alloc(&c->arena, (n ? n : 1) * sizeof *out);
    if (!out)
        return nocopy__fail(c, NOCOPY_ENOMEM, 0, "out of memory reading a tuple");
    *arity = n;
    *elems = out;
    return tuple_elems(t, n, raw, out);
}

int nocopy_term_list(nocopy_call *c, nocopy_term t, size_t *len, const nocopy_term **elems)
{
    CHECK_TERM(c, t);
    /* Two passes: count (and check properness), then fill one array. */
    size_t n = 0;
    uintptr_t head = 0, tail = t.raw;
    while (nocopy__be_get_list_cell(c, tail, &head, &tail) == NC_GET_OK)
        n++;
    if (nocopy__be_type(c, tail) != NOCOPY_T_NIL)
        return BADARG(bad(c, t, "a proper list"));
    if (n > SIZE_MAX / sizeof(nocopy_term))
        return nocopy__fail(c, NOCOPY_ENOMEM, 0, "list too long");
    nocopy_term *out = nocopy__arena_alloc(&c->arena, (n ? n : 1) * sizeof *out);
    if (!out)
        return nocopy__fail(c, NOCOPY_ENOMEM, 0, "out of memory reading a list");
    tail = t.raw;
    for (size_t i = 0; i < n; i++) {
        nocopy__be_get_list_cell(c, tail, &head, &tail);
        out[i].raw = head;
        out[i].argno = t.argno;
    }
    *len = n;
    *elems = out;
    return NOCOPY_OK;
}

/* Why handle argument t was refused: not a handle (h NULL), a handle of
 * another type, or a closed one. */
NC_COLD static void bad_handle(nocopy_call *c, nocopy_term t, const nocopy_handle_type *type,
                               const nocopy__handle *h)
{
    if (!h)
        nocopy__fail(c, NOCOPY_EBADARG, t.argno, "expected %s %s handle",
                     article(type->name), type->name);
    else if (h->type != type)
        nocopy__fail(c, NOCOPY_EBADARG, t.argno,
                     "expected %s %s handle, not a handle of type %s", article(type->name),
                     type->name, h->type->name);
    else
        nocopy__fail(c, NOCOPY_EBADARG, t.argno, "the %s handle is closed", type->name);
}

/* The call's second and later borrowed handles: a list in its arena. */
NC_COLD static int borrow_more(nocopy_call *c, nocopy__handle *h, void **obj)
{
    nocopy__borrow *b = nocopy__arena_alloc(&c->arena, sizeof *b);
    if (!b) {
        nocopy__handle_end_use(h);
        return nocopy__fail(c, NOCOPY_ENOMEM, 0, "out of memory borrowing a handle");
    }
    b->h = h;
    b->next = c->borrows;
    c->borrows = b;
    *obj = NC_HANDLE_OBJ(h);
    return NOCOPY_OK;
}

/* A handle of a type with a destructor: the call borrows it (a use count),
 * so that a concurrent close cannot destroy it while the call runs. */
__attribute__((noinline)) static int borrow(nocopy_call *c, nocopy_term t,
                                            const nocopy_handle_type *type, nocopy__handle *h,
                                            void **obj)
{
    if (!nocopy__handle_begin_use(h))
        return BADARG(bad_handle(c, t, type, h));
    if (c->borrow1)
        return borrow_more(c, h, obj);
    c->borrow1 = h;
    *obj = NC_HANDLE_OBJ(h);
    return NOCOPY_OK;
}

NC_HOT int nocopy_term_handle(nocopy_call *c, nocopy_term t, const nocopy_handle_type *type,
                              void **obj)
{
    CHECK_TERM(c, t);
    nocopy__handle *h;
    if (!NC_LIKELY(nocopy__be_get_handle(c, t.raw, &h) == NC_GET_OK))
        return BADARG(bad_handle(c, t, type, NULL));
    if (!NC_LIKELY(h->type == type))
        return BADARG(bad_handle(c, t, type, h));
    unsigned s = atomic_load_explicit(&h->state, memory_order_acquire);
    if (type->dtor && !(s & NC_HANDLE_PINNED))
        return borrow(c, t, type, h, obj);
    /* Nothing can be destroyed early (no destructor, or pinned: never
     * closed), so there is nothing to protect from a concurrent close:
     * checking "closed" is enough, no use count. (The memory itself is held
     * by the argument term, or by the driver's lookup, for the whole call.) */
    if (s & NC_HANDLE_CLOSED)
        return BADARG(bad_handle(c, t, type, h));
    *obj = NC_HANDLE_OBJ(h);
    return NOCOPY_OK;
}

int nocopy_term_keep(nocopy_call *c, nocopy_term t, nocopy_kept **out)
{
    nocopy_bytes view;
    int st = nocopy_term_bytes(c, t, &view);
    if (st != NOCOPY_OK)
        return st;
    st = nocopy__be_keep(c, t.raw, &view, out);
    if (st != NOCOPY_OK)
        return nocopy__fail(c, st, 0, "could not keep a binary: %s", nocopy_strerror(st));
    return NOCOPY_OK;
}

nocopy_bytes nocopy_kept_bytes(const nocopy_kept *k)
{
    return k->view;
}

void nocopy_kept_release(nocopy_kept *k)
{
    if (k)
        k->release(k);
}

/* Argument-index forms: thin wrappers over the term forms. */
#define ARG_FORM(name, type)                                                   \
    NC_HOT int nocopy_arg_##name(nocopy_call *c, unsigned index, type out)            \
    {                                                                          \
        return nocopy_term_##name(c, nocopy_arg(c, index), out);               \
    }
ARG_FORM(i64, int64_t *)
ARG_FORM(u64, uint64_t *)
ARG_FORM(size, size_t *)
ARG_FORM(double, double *)
ARG_FORM(bool, int *)
ARG_FORM(atom, nocopy_atom *)
ARG_FORM(bytes, nocopy_bytes *)
ARG_FORM(iovec, nocopy_iovec *)
ARG_FORM(keep, nocopy_kept **)
#undef ARG_FORM

NC_HOT int nocopy_arg_int_range(nocopy_call *c, unsigned index, int64_t min, int64_t max,
                         int64_t *out)
{
    return nocopy_term_int_range(c, nocopy_arg(c, index), min, max, out);
}

int nocopy_arg_tuple(nocopy_call *c, unsigned index, unsigned arity, nocopy_term *elems)
{
    return nocopy_term_tuple(c, nocopy_arg(c, index), arity, elems);
}

NC_HOT int nocopy_arg_handle(nocopy_call *c, unsigned index, const nocopy_handle_type *type,
                      void **obj)
{
    return nocopy_term_handle(c, nocopy_arg(c, index), type, obj);
}
