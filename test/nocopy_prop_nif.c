/* nocopy_prop_nif.c: the native module `nocopy_prop`, a fixture for the
 * property tests (test/nocopy_prop_tests.erl) and the stress tests.
 *
 * Its main function echoes any term through the public API only: C reads the
 * term with nocopy_term_type() and the typed readers, then builds it again
 * with the nocopy_make_*() calls. On the driver backend that is the whole
 * wire format round trip: Erlang encodes (nocopy_wire:request/5), the
 * driver decodes, C reads and rebuilds, the driver builds the reply term.
 * What the API cannot carry back comes back as a marker atom, which the
 * Erlang model of the echo predicts:
 *   '$bignum'          an integer outside [-2^63, 2^64)
 *   '$unknown_atom'    an atom that is not in this module's table
 *   '$bitstring'       a bitstring that is not whole bytes
 *   '$improper'        an improper list (the API reads proper lists only)
 *   '$foreign_handle'  a handle that is not an open `prop' handle of this
 *                      library (NIF) or port (driver)
 *   '$other'           a pid, port, reference, map or fun
 *   '$deep'            nesting deeper than ECHO_MAX_DEPTH (the echo recurses)
 * Binaries come back as slices of the input (no copy above 64 bytes). */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "nocopy.h"

#define TRY(expr)                          \
    do {                                   \
        int st_ = (expr);                  \
        if (st_ != NOCOPY_OK)              \
            return st_;                    \
    } while (0)

#define ECHO_MAX_DEPTH 100

enum {
    A_BIGNUM, A_UNKNOWN_ATOM, A_BITSTRING, A_IMPROPER, A_FOREIGN_HANDLE, A_OTHER, A_DEEP,
    A_COUNT
};

/* The marker atoms, then the ordinary atoms the generators use as "known". */
static const char *const prop_atoms[] = {
    "$bignum", "$unknown_atom", "$bitstring", "$improper", "$foreign_handle", "$other",
    "$deep",
    "red", "green", "blue", "a_longer_atom_name_in_the_table",
    NULL
};

#define LIVE 0x50524F50u
#define DEAD 0x44454144u

typedef struct prop_obj {
    unsigned magic;
} prop_obj;

static atomic_long objs_created, objs_destroyed, objs_bad_dtor;

static void prop_dtor(void *obj)
{
    prop_obj *o = obj;
    if (o->magic != LIVE)
        atomic_fetch_add(&objs_bad_dtor, 1);
    o->magic = DEAD;
    atomic_fetch_add(&objs_destroyed, 1);
}

static const nocopy_handle_type prop_type = {"prop", sizeof(prop_obj), prop_dtor};
static const nocopy_handle_type *const prop_types[] = {&prop_type, NULL};

static nocopy_value echo(nocopy_call *c, nocopy_term t, int depth);

static nocopy_value echo_elems(nocopy_call *c, const nocopy_term *el, size_t n, int depth,
                               bool tuple)
{
    nocopy_value *v = calloc(n ? n : 1, sizeof *v);
    if (!v)
        return 0;
    for (size_t i = 0; i < n; i++)
        v[i] = echo(c, el[i], depth + 1);
    nocopy_value r = tuple ? nocopy_make_tuple(c, (unsigned)n, v) : nocopy_make_list(c, n, v);
    free(v);
    return r;
}

/* Probing readers record errors when a form does not match; the call still
 * succeeds, and the last recorded error is ignored (nocopy.h). */
static nocopy_value echo(nocopy_call *c, nocopy_term t, int depth)
{
    if (depth > ECHO_MAX_DEPTH)
        return nocopy_make_atom(c, A_DEEP);
    switch (nocopy_term_type(c, t)) {
    case NOCOPY_T_INTEGER: {
        int64_t i;
        uint64_t u;
        if (nocopy_term_i64(c, t, &i) == NOCOPY_OK)
            return nocopy_make_i64(c, i);
        if (nocopy_term_u64(c, t, &u) == NOCOPY_OK)
            return nocopy_make_u64(c, u);
        return nocopy_make_atom(c, A_BIGNUM);
    }
    case NOCOPY_T_FLOAT: {
        double d;
        if (nocopy_term_double(c, t, &d) != NOCOPY_OK)
            return 0;
        return nocopy_make_double(c, d);
    }
    case NOCOPY_T_ATOM: {
        nocopy_atom a;
        if (nocopy_term_atom(c, t, &a) == NOCOPY_OK)
            return nocopy_make_atom(c, a);
        return nocopy_make_atom(c, A_UNKNOWN_ATOM);
    }
    case NOCOPY_T_BINARY: {
        nocopy_bytes b;
        if (nocopy_term_bytes(c, t, &b) != NOCOPY_OK)
            return 0;
        return nocopy_make_slice(c, t, 0, b.size);
    }
    case NOCOPY_T_BITSTRING:
        return nocopy_make_atom(c, A_BITSTRING);
    case NOCOPY_T_TUPLE: {
        unsigned n;
        const nocopy_term *el;
        if (nocopy_term_tuple_any(c, t, &n, &el) != NOCOPY_OK)
            return 0;
        return echo_elems(c, el, n, depth, true);
    }
    case NOCOPY_T_LIST:
    case NOCOPY_T_NIL: {
        size_t n;
        const nocopy_term *el;
        if (nocopy_term_list(c, t, &n, &el) != NOCOPY_OK)
            return nocopy_make_atom(c, A_IMPROPER);
        return echo_elems(c, el, n, depth, false);
    }
    case NOCOPY_T_HANDLE: {
        void *obj;
        if (nocopy_term_handle(c, t, &prop_type, &obj) != NOCOPY_OK)
            return nocopy_make_atom(c, A_FOREIGN_HANDLE);
        /* A second reference for the result term (HANDED OVER to it); the
         * argument keeps its own. */
        nocopy_handle_keep(obj);
        return nocopy_make_handle(c, obj);
    }
    default:
        return nocopy_make_atom(c, A_OTHER);
    }
}

static int f_echo(nocopy_call *c)
{   /* (T) */
    return nocopy_return(c, echo(c, nocopy_arg(c, 0), 0));
}

/* Every argument echoed, in a tuple: the driver's several-argument requests
 * (and its one-binary fast path for up to four small leaves plus a binary). */
static int f_echo_args(nocopy_call *c)
{   /* (A, B, ...) */
    unsigned n = nocopy_arity(c);
    nocopy_value v[8];
    for (unsigned i = 0; i < n && i < 8; i++)
        v[i] = echo(c, nocopy_arg(c, i), 0);
    return nocopy_return(c, nocopy_make_tuple(c, n, v));
}

static int f_new_handle(nocopy_call *c)
{   /* () */
    prop_obj *o = nocopy_handle_new(c, &prop_type);
    if (!o)
        return NOCOPY_ENOMEM;
    o->magic = LIVE;
    atomic_fetch_add(&objs_created, 1);
    return nocopy_return(c, nocopy_make_handle(c, o));
}

/* N handles in a list: the stress tests create and drop them in bulk. */
static int f_new_handles(nocopy_call *c)
{   /* (N) */
    int64_t n;
    TRY(nocopy_arg_int_range(c, 0, 0, 100000, &n));
    nocopy_value *v = calloc(n ? (size_t)n : 1, sizeof *v);
    if (!v)
        return NOCOPY_ENOMEM;
    for (int64_t i = 0; i < n; i++) {
        prop_obj *o = nocopy_handle_new(c, &prop_type);
        if (o) {
            o->magic = LIVE;
            atomic_fetch_add(&objs_created, 1);
        }
        v[i] = nocopy_make_handle(c, o);     /* 0 (failed) when o is NULL */
    }
    int st = nocopy_return(c, nocopy_make_list(c, (size_t)n, v));
    free(v);
    return st;
}

static int f_close_handle(nocopy_call *c)
{   /* (H) */
    void *obj;
    TRY(nocopy_arg_handle(c, 0, &prop_type, &obj));
    TRY(nocopy_handle_close(obj));
    return nocopy_return(c, nocopy_make_atom(c, NOCOPY_ATOM_OK));
}

/* {Created, Destroyed, BadDestructorRuns}. */
static int f_handle_stats(nocopy_call *c)
{   /* () */
    return nocopy_return(c, nocopy_build(c, "{iii}", (int64_t)atomic_load(&objs_created),
                                         (int64_t)atomic_load(&objs_destroyed),
                                         (int64_t)atomic_load(&objs_bad_dtor)));
}

static const nocopy_func prop_funcs[] = {
    {"echo", 1, f_echo, "T :: term()", "term()", NOCOPY_NORMAL, 0,
     "T rebuilt by C through the public API (markers for what it cannot carry)."},
    {"echo_args2", 2, f_echo_args, "A :: term(), B :: term()", "tuple()", NOCOPY_NORMAL, 0,
     NULL},
    {"echo_args4", 4, f_echo_args, "A :: term(), B :: term(), C :: term(), D :: term()",
     "tuple()", NOCOPY_NORMAL, 0, NULL},
    {"echo_args5", 5, f_echo_args,
     "A :: term(), B :: term(), C :: term(), D :: term(), E :: term()", "tuple()",
     NOCOPY_NORMAL, 0, NULL},
    {"echo_dirty", 1, f_echo, "T :: term()", "term()", NOCOPY_DIRTY_CPU, 0,
     "echo/1 on a dirty scheduler (NIF) or a worker thread (driver)."},
    {"new_handle", 0, f_new_handle, "", "nocopy:handle()", NOCOPY_NORMAL, 0, NULL},
    {"new_handles", 1, f_new_handles, "N :: 0..100000", "[nocopy:handle()]", NOCOPY_NORMAL,
     0, NULL},
    {"close_handle", 1, f_close_handle, "H :: nocopy:handle()", "ok", NOCOPY_NORMAL, 0, NULL},
    {"handle_stats", 0, f_handle_stats, "",
     "{non_neg_integer(), non_neg_integer(), non_neg_integer()}", NOCOPY_NORMAL, 0, NULL},
};

static const nocopy_module prop_module = {
    .name = "nocopy_prop",
    .funcs = prop_funcs,
    .nfuncs = sizeof prop_funcs / sizeof prop_funcs[0],
    .atoms = prop_atoms,
    .handle_types = prop_types,
};

NOCOPY_MODULE(prop_module)
