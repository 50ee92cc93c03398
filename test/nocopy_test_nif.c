/* nocopy_test_nif.c: the native test module `nocopy_test`.
 *
 * Written only against nocopy.h, so one source builds into both backends: the
 * NIF library (Erlang module nocopy_test) and the driver library (client module
 * nocopy_test_drv, where every function takes the port first). It is a test
 * fixture in the spirit of OTP's *_SUITE_data modules:
 *   - echoes every argument type, so the EUnit suites can feed bad inputs;
 *   - builds every result type, including the extremes;
 *   - reports the data addresses C sees and writes, for the zero-copy proofs,
 *     and offers copying twins of each no-copy path as negative controls;
 *   - counts handle destructors and foreign-memory releases in atomics;
 *   - reports the name of the thread that ran a call, and has a gate that holds
 *     calls until Erlang opens it, for the scheduling tests.
 * Globals are per library: the NIF and the driver build each have their own. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nocopy.h"

/* Ends the wrapped function with the reader's status when it failed: the
 * reader has recorded the error that names the argument. */
#define TRY(expr)                          \
    do {                                   \
        int st_ = (expr);                  \
        if (st_ != NOCOPY_OK)              \
            return st_;                    \
    } while (0)

#define ADDR(p) ((uint64_t)(uintptr_t)(p))

/* ---- atoms --------------------------------------------------------------- */

enum {
    A_RED, A_GREEN, A_BLUE,
    A_RELEASED, A_TIMEOUT,
    /* nocopy_type names, in enum order (NOCOPY_T_INTEGER is 1) */
    A_INTEGER, A_FLOAT, A_ATOM, A_BINARY, A_BITSTRING, A_TUPLE, A_LIST, A_NIL,
    A_HANDLE, A_OTHER,
    /* status names, for fail_status/1 and close_twice/1 */
    A_EBADARG, A_ENOMEM, A_ERANGE, A_ECLOSED, A_EPROTO, A_EOVERLOAD, A_ENOTSUP,
    A_EINTERNAL,
    A_NAN, A_INF, A_NEG_INF,
    A_COUNT
};

static const char *const test_atoms[] = {
    "red", "green", "blue",
    "released", "timeout",
    "integer", "float", "atom", "binary", "bitstring", "tuple", "list", "nil",
    "handle", "other",
    "ebadarg", "enomem", "erange", "eclosed", "eproto", "eoverload", "enotsup",
    "einternal",
    "nan", "inf", "neg_inf",
    NULL
};

static nocopy_value type_atom(nocopy_call *c, nocopy_type t)
{
    if (t < NOCOPY_T_INTEGER || t > NOCOPY_T_OTHER)
        return 0;
    return nocopy_make_atom(c, A_INTEGER + (int)(t - NOCOPY_T_INTEGER));
}

/* ---- handle types ---------------------------------------------------------- */

#define LIVE_MAGIC 0x11FE11FEu
#define DEAD_MAGIC 0xDEADDEADu

/* Every destructor checks and clears the magic: a second run on the same object
 * (or a run on an object never initialised) counts as a bad destructor call. */
static atomic_long handles_created, handles_destroyed, handles_bad_dtor;
static atomic_long others_created, others_destroyed;

typedef struct counter {
    unsigned magic;
    long id;                    /* index in counter_dtor_runs */
    atomic_long uses;
} counter;

/* Per-object counts, so a test can follow its own objects whatever other
 * tests' garbage does to the global counters. Ids past the table are not
 * tracked (the *_id functions refuse them). */
#define NTRACK (1 << 20)
static atomic_uchar counter_dtor_runs[NTRACK];
static atomic_uchar foreign_release_runs[NTRACK];

typedef struct other {
    unsigned magic;
} other;

static void counter_dtor(void *obj)
{
    counter *k = obj;
    if (k->magic != LIVE_MAGIC)
        atomic_fetch_add(&handles_bad_dtor, 1);
    k->magic = DEAD_MAGIC;
    if (k->id >= 0 && k->id < NTRACK)
        atomic_fetch_add(&counter_dtor_runs[k->id], 1);
    atomic_fetch_add(&handles_destroyed, 1);
}

static void other_dtor(void *obj)
{
    other *o = obj;
    if (o->magic != LIVE_MAGIC)
        atomic_fetch_add(&handles_bad_dtor, 1);
    o->magic = DEAD_MAGIC;
    atomic_fetch_add(&others_destroyed, 1);
}

static const nocopy_handle_type counter_type = {"counter", sizeof(counter), counter_dtor};
static const nocopy_handle_type other_type = {"other", sizeof(other), other_dtor};
/* Deliberately not listed in the module: creating one must fail cleanly. */
static const nocopy_handle_type unlisted_type = {"unlisted", sizeof(other), NULL};

/* No destructor: its borrow is a "closed?" check instead of a use count. */
typedef struct plain {
    int64_t uses;
} plain;
static const nocopy_handle_type plain_type = {"plain", sizeof(plain), NULL};

static const nocopy_handle_type *const test_handle_types[] = {
    &counter_type, &other_type, &plain_type, NULL
};

static long live_counters(void)
{
    return atomic_load(&handles_created) - atomic_load(&handles_destroyed);
}

/* ---- arguments ------------------------------------------------------------- */

static int f_echo_i64(nocopy_call *c)
{   /* (X) */
    int64_t x;
    TRY(nocopy_arg_i64(c, 0, &x));
    return nocopy_return(c, nocopy_make_i64(c, x));
}

static int f_echo_u64(nocopy_call *c)
{   /* (X) */
    uint64_t x;
    TRY(nocopy_arg_u64(c, 0, &x));
    return nocopy_return(c, nocopy_make_u64(c, x));
}

static int f_echo_size(nocopy_call *c)
{   /* (X) */
    size_t x;
    TRY(nocopy_arg_size(c, 0, &x));
    return nocopy_return(c, nocopy_make_u64(c, (uint64_t)x));
}

static int f_echo_range(nocopy_call *c)
{   /* (X) */
    int64_t x;
    TRY(nocopy_arg_int_range(c, 0, -10, 10, &x));
    return nocopy_return(c, nocopy_make_i64(c, x));
}

static int f_echo_double(nocopy_call *c)
{   /* (X) */
    double x;
    TRY(nocopy_arg_double(c, 0, &x));
    return nocopy_return(c, nocopy_make_double(c, x));
}

static int f_echo_bool(nocopy_call *c)
{   /* (X) */
    int x;
    TRY(nocopy_arg_bool(c, 0, &x));
    return nocopy_return(c, nocopy_make_bool(c, x));
}

static int f_echo_atom(nocopy_call *c)
{   /* (X) */
    nocopy_atom a;
    TRY(nocopy_arg_atom(c, 0, &a));
    return nocopy_return(c, nocopy_make_atom(c, a));
}

static int f_atom_index(nocopy_call *c)
{   /* (X) */
    nocopy_atom a;
    TRY(nocopy_arg_atom(c, 0, &a));
    return nocopy_return(c, nocopy_make_i64(c, a));
}

static int f_echo_bytes(nocopy_call *c)
{   /* (Bin) */
    nocopy_bytes b;
    TRY(nocopy_arg_bytes(c, 0, &b));
    return nocopy_return(c, nocopy_make_copy(c, b.data, b.size));
}

static int f_address_of(nocopy_call *c)
{   /* (Bin) */
    nocopy_bytes b;
    TRY(nocopy_arg_bytes(c, 0, &b));
    return nocopy_return(c, nocopy_make_u64(c, ADDR(b.data)));
}

static int f_address_of_elem(nocopy_call *c)
{   /* ({_, Bin}) */
    nocopy_term e[2];
    nocopy_bytes b;
    TRY(nocopy_arg_tuple(c, 0, 2, e));
    TRY(nocopy_term_bytes(c, e[1], &b));
    return nocopy_return(c, nocopy_make_u64(c, ADDR(b.data)));
}

static int f_list_addresses(nocopy_call *c)
{   /* ([Bin]) */
    size_t n;
    const nocopy_term *el;
    TRY(nocopy_term_list(c, nocopy_arg(c, 0), &n, &el));
    nocopy_value *v = calloc(n ? n : 1, sizeof *v);
    if (!v)
        return NOCOPY_ENOMEM;
    int st = NOCOPY_OK;
    for (size_t i = 0; i < n && st == NOCOPY_OK; i++) {
        nocopy_bytes b;
        st = nocopy_term_bytes(c, el[i], &b);
        if (st == NOCOPY_OK)
            v[i] = nocopy_make_u64(c, ADDR(b.data));
    }
    if (st == NOCOPY_OK)
        st = nocopy_return(c, nocopy_make_list(c, n, v));
    free(v);
    return st;
}

/* {Total, Count, [{Address, Size}]} of the pieces C sees. */
static int f_iovec_info(nocopy_call *c)
{   /* (Data) */
    nocopy_iovec iov;
    TRY(nocopy_arg_iovec(c, 0, &iov));
    nocopy_value *v = calloc(iov.count ? iov.count : 1, sizeof *v);
    if (!v)
        return NOCOPY_ENOMEM;
    for (size_t i = 0; i < iov.count; i++)
        v[i] = nocopy_build(c, "{II}", ADDR(iov.pieces[i].data),
                            (uint64_t)iov.pieces[i].size);
    nocopy_value list = nocopy_make_list(c, iov.count, v);
    free(v);
    return nocopy_return(c, nocopy_build(c, "{IIv}", (uint64_t)iov.total,
                                         (uint64_t)iov.count, list));
}

/* The pieces concatenated, in a new buffer: checks order and contents. */
static int f_iovec_flat(nocopy_call *c)
{   /* (Data) */
    nocopy_iovec iov;
    TRY(nocopy_arg_iovec(c, 0, &iov));
    nocopy_buf *buf = nocopy_buf_alloc(c, iov.total);
    if (!buf)
        return NOCOPY_ENOMEM;
    size_t at = 0;
    for (size_t i = 0; i < iov.count; i++) {
        memcpy(buf->data + at, iov.pieces[i].data, iov.pieces[i].size);
        at += iov.pieces[i].size;
    }
    return nocopy_return(c, nocopy_make_buf(c, buf));
}

static int f_echo_tuple(nocopy_call *c)
{   /* ({I, Bin, {A, F}}) */
    nocopy_term e[3], in[2];
    int64_t i;
    nocopy_bytes b;
    nocopy_atom a;
    double d;
    TRY(nocopy_arg_tuple(c, 0, 3, e));
    TRY(nocopy_term_i64(c, e[0], &i));
    TRY(nocopy_term_bytes(c, e[1], &b));
    TRY(nocopy_term_tuple(c, e[2], 2, in));
    TRY(nocopy_term_atom(c, in[0], &a));
    TRY(nocopy_term_double(c, in[1], &d));
    return nocopy_return(c, nocopy_build(c, "{ic{af}}", i, (const void *)b.data, b.size,
                                         a, d));
}

static int f_term_type(nocopy_call *c)
{   /* (X) */
    return nocopy_return(c, type_atom(c, nocopy_term_type(c, nocopy_arg(c, 0))));
}

static int types_of(nocopy_call *c, size_t n, const nocopy_term *el)
{
    nocopy_value *v = calloc(n ? n : 1, sizeof *v);
    if (!v)
        return NOCOPY_ENOMEM;
    for (size_t i = 0; i < n; i++)
        v[i] = type_atom(c, nocopy_term_type(c, el[i]));
    int st = nocopy_return(c, nocopy_make_list(c, n, v));
    free(v);
    return st;
}

static int f_tuple_types(nocopy_call *c)
{   /* (Tuple) */
    unsigned n;
    const nocopy_term *el;
    TRY(nocopy_term_tuple_any(c, nocopy_arg(c, 0), &n, &el));
    return types_of(c, n, el);
}

static int f_list_types(nocopy_call *c)
{   /* (List) */
    size_t n;
    const nocopy_term *el;
    TRY(nocopy_term_list(c, nocopy_arg(c, 0), &n, &el));
    return types_of(c, n, el);
}

static int f_sum_list(nocopy_call *c)
{   /* ([I]) */
    size_t n;
    const nocopy_term *el;
    int64_t sum = 0;
    TRY(nocopy_term_list(c, nocopy_arg(c, 0), &n, &el));
    for (size_t i = 0; i < n; i++) {
        int64_t x;
        TRY(nocopy_term_i64(c, el[i], &x));
        sum += x;
    }
    return nocopy_return(c, nocopy_make_i64(c, sum));
}

/* Every term_* reader on tuple elements: {U, Z, R, O, V} -> {U, Z, R, O, Total}. */
static int f_elem_readers(nocopy_call *c)
{   /* ({U, Z, R, O, V}) */
    nocopy_term e[5];
    uint64_t u;
    size_t z;
    int64_t r;
    int o;
    nocopy_iovec v;
    TRY(nocopy_arg_tuple(c, 0, 5, e));
    TRY(nocopy_term_u64(c, e[0], &u));
    TRY(nocopy_term_size(c, e[1], &z));
    TRY(nocopy_term_int_range(c, e[2], 0, 255, &r));
    TRY(nocopy_term_bool(c, e[3], &o));
    TRY(nocopy_term_iovec(c, e[4], &v));
    return nocopy_return(c, nocopy_build(c, "{IIioI}", u, (uint64_t)z, r, o,
                                         (uint64_t)v.total));
}

/* An argument that is either a known atom or an integer, as the GSS demo's Qop:
 * probing the first form records an error that must not leak into a success. */
static int f_atom_or_int(nocopy_call *c)
{   /* (X) */
    nocopy_atom a;
    int64_t i;
    if (nocopy_arg_atom(c, 0, &a) == NOCOPY_OK)
        return nocopy_return(c, nocopy_build(c, "{ai}", NOCOPY_ATOM_TRUE, (int64_t)a));
    if (nocopy_arg_i64(c, 0, &i) == NOCOPY_OK)
        return nocopy_return(c, nocopy_build(c, "{ai}", NOCOPY_ATOM_FALSE, i));
    return nocopy_fail_badarg(c, 0, "an integer or a known atom");
}

/* ---- format strings ---------------------------------------------------------- */

static int f_scan_flat(nocopy_call *c)
{   /* ({I, U, Z, F, O, A, Bin, Iodata}) */
    int64_t i;
    uint64_t u;
    size_t z;
    double f;
    int o;
    nocopy_atom a;
    nocopy_bytes b;
    nocopy_iovec v;
    TRY(nocopy_arg_scan(c, 0, "{iIzfoabv}", &i, &u, &z, &f, &o, &a, &b, &v));
    return nocopy_return(c, nocopy_build(c, "{i, I, I, f, o, a, c, I}", i, u, (uint64_t)z,
                                         f, o, a, (const void *)b.data, b.size,
                                         (uint64_t)v.total));
}

static int f_scan_nested(nocopy_call *c)
{   /* ({{I, {A}}, Bin}) */
    int64_t i;
    nocopy_atom a;
    nocopy_bytes b;
    TRY(nocopy_arg_scan(c, 0, "{{i{a}}b}", &i, &a, &b));
    return nocopy_return(c, nocopy_build(c, "{iaI}", i, a, (uint64_t)b.size));
}

static int f_scan_handle(nocopy_call *c)
{   /* ({Counter, T, _}) */
    void *obj;
    nocopy_term t;
    TRY(nocopy_arg_scan(c, 0, "{ht_}", &counter_type, &obj, &t));
    counter *k = obj;
    int64_t uses = atomic_fetch_add(&k->uses, 1) + 1;
    return nocopy_return(c, nocopy_build(c, "{iv}", uses,
                                         type_atom(c, nocopy_term_type(c, t))));
}

static int f_scan_term(nocopy_call *c)
{   /* (T) */
    int64_t i;
    TRY(nocopy_term_scan(c, nocopy_arg(c, 0), "{i_}", &i));
    return nocopy_return(c, nocopy_make_i64(c, i));
}

static int f_scan_malformed(nocopy_call *c)
{   /* (T) */
    int64_t i;
    TRY(nocopy_arg_scan(c, 0, "{q}", &i));
    return nocopy_return(c, nocopy_make_i64(c, i));
}

static int f_build_all(nocopy_call *c)
{   /* () */
    static const char abc[] = "abc";
    return nocopy_return(c, nocopy_build(c, "{i I f o o a a [i i] {} [] c}", (int64_t)-5,
                                         UINT64_MAX, 2.5, 1, 0, NOCOPY_ATOM_OK, A_RED,
                                         (int64_t)1, (int64_t)2, (const void *)abc,
                                         (size_t)3));
}

static int f_build_buf(nocopy_call *c)
{   /* (Size, Byte) */
    size_t size;
    int64_t byte;
    TRY(nocopy_arg_size(c, 0, &size));
    TRY(nocopy_arg_int_range(c, 1, 0, 255, &byte));
    nocopy_buf *buf = nocopy_buf_alloc(c, size);
    if (!buf)
        return NOCOPY_ENOMEM;
    memset(buf->data, (int)byte, size);
    uint64_t addr = ADDR(buf->data);
    return nocopy_return(c, nocopy_build(c, "{BI}", buf, addr));
}

static int f_build_slice(nocopy_call *c)
{   /* (Bin, Off, Len) */
    nocopy_bytes b;
    size_t off, len;
    TRY(nocopy_arg_bytes(c, 0, &b));
    TRY(nocopy_arg_size(c, 1, &off));
    TRY(nocopy_arg_size(c, 2, &len));
    return nocopy_return(c, nocopy_build(c, "{sI}", nocopy_arg(c, 0), off, len,
                                         ADDR(b.data) + off));
}

static int f_build_value(nocopy_call *c)
{   /* (I) */
    int64_t i;
    TRY(nocopy_arg_i64(c, 0, &i));
    nocopy_value v = nocopy_make_i64(c, i);
    return nocopy_return(c, nocopy_build(c, "{v[v v]}", v, v, v));
}

static int f_build_malformed(nocopy_call *c)
{   /* () */
    return nocopy_return(c, nocopy_build(c, "{i", (int64_t)1));
}

/* ---- results ----------------------------------------------------------------- */

static int f_make_ints(nocopy_call *c)
{   /* () */
    nocopy_value v[] = {
        nocopy_make_i64(c, INT64_MIN), nocopy_make_i64(c, INT64_MAX),
        nocopy_make_i64(c, 0), nocopy_make_i64(c, -1),
        nocopy_make_u64(c, UINT64_MAX), nocopy_make_u64(c, (uint64_t)1 << 63),
        nocopy_make_i64(c, (int64_t)1 << 59), nocopy_make_i64(c, -((int64_t)1 << 59) - 1),
    };
    return nocopy_return(c, nocopy_make_list(c, sizeof v / sizeof v[0], v));
}

static int f_make_doubles(nocopy_call *c)
{   /* () */
    nocopy_value v[] = {
        nocopy_make_double(c, 0.0), nocopy_make_double(c, 1.5),
        nocopy_make_double(c, -2.25), nocopy_make_double(c, DBL_MAX),
        nocopy_make_double(c, DBL_MIN), nocopy_make_double(c, 4.9406564584124654e-324),
    };
    return nocopy_return(c, nocopy_make_list(c, sizeof v / sizeof v[0], v));
}

static int f_make_nonfinite(nocopy_call *c)
{   /* (Which) */
    nocopy_atom a;
    TRY(nocopy_arg_atom(c, 0, &a));
    double d = a == A_NAN ? (double)NAN : a == A_INF ? (double)INFINITY : -(double)INFINITY;
    return nocopy_return(c, nocopy_make_double(c, d));
}

static int f_make_atoms(nocopy_call *c)
{   /* () */
    nocopy_value v[] = {
        nocopy_make_atom(c, NOCOPY_ATOM_OK), nocopy_make_atom(c, NOCOPY_ATOM_ERROR),
        nocopy_make_atom(c, NOCOPY_ATOM_TRUE), nocopy_make_atom(c, NOCOPY_ATOM_FALSE),
        nocopy_make_atom(c, NOCOPY_ATOM_UNDEFINED), nocopy_make_atom(c, A_RED),
        nocopy_make_atom(c, A_GREEN), nocopy_make_atom(c, A_BLUE),
    };
    return nocopy_return(c, nocopy_make_list(c, sizeof v / sizeof v[0], v));
}

static int f_make_atom_index(nocopy_call *c)
{   /* (I) */
    int64_t i;
    TRY(nocopy_arg_int_range(c, 0, -1000, 1000, &i));
    return nocopy_return(c, nocopy_make_atom(c, (nocopy_atom)i));
}

static int f_make_bools(nocopy_call *c)
{   /* () */
    nocopy_value v[] = {
        nocopy_make_bool(c, 1), nocopy_make_bool(c, 0), nocopy_make_bool(c, 42),
        nocopy_make_bool(c, -1),
    };
    return nocopy_return(c, nocopy_make_list(c, sizeof v / sizeof v[0], v));
}

/* {1, 2, ..., N} or [1, 2, ..., N]. */
static int make_seq(nocopy_call *c, bool tuple)
{
    size_t n;
    TRY(nocopy_arg_size(c, 0, &n));
    if (tuple && n > 1000000)
        return nocopy_fail_badarg(c, 0, "a tuple size up to 1000000");
    nocopy_value *v = calloc(n ? n : 1, sizeof *v);
    if (!v)
        return NOCOPY_ENOMEM;
    for (size_t i = 0; i < n; i++)
        v[i] = nocopy_make_i64(c, (int64_t)i + 1);
    nocopy_value r = tuple ? nocopy_make_tuple(c, (unsigned)n, v) : nocopy_make_list(c, n, v);
    free(v);
    return nocopy_return(c, r);
}

static int f_make_tuple(nocopy_call *c) { /* (N) */ return make_seq(c, true); }
static int f_make_list(nocopy_call *c) { /* (N) */ return make_seq(c, false); }

/* {D, [{D-1, [... {0, []} ...]}]}: nesting of tuples in lists. */
static int f_make_deep(nocopy_call *c)
{   /* (Depth) */
    int64_t depth;
    TRY(nocopy_arg_int_range(c, 0, 0, 10000, &depth));
    nocopy_value v = nocopy_build(c, "{i[]}", (int64_t)0);
    for (int64_t d = 1; d <= depth; d++)
        v = nocopy_build(c, "{i[v]}", d, v);
    return nocopy_return(c, v);
}

/* A 0 part must make the whole result fail with the recorded reason. */
static int f_make_with_failed_part(nocopy_call *c)
{   /* () */
    nocopy_value parts[2] = {nocopy_make_i64(c, 1), nocopy_make_atom(c, 9999)};
    return nocopy_return(c, nocopy_make_tuple(c, 2, parts));
}

static int f_return_ok(nocopy_call *c)
{   /* (I) */
    int64_t i;
    TRY(nocopy_arg_i64(c, 0, &i));
    return nocopy_return_ok(c, nocopy_make_i64(c, i));
}

static int f_return_error(nocopy_call *c)
{   /* (Reason) */
    nocopy_atom a;
    TRY(nocopy_arg_atom(c, 0, &a));
    return nocopy_return_error(c, nocopy_make_atom(c, a));
}

static int f_fail_badarg(nocopy_call *c)
{   /* (Which, Text, Pad) */
    int64_t which;
    nocopy_bytes text;
    char buf[128];
    TRY(nocopy_arg_int_range(c, 0, 0, 2, &which));
    TRY(nocopy_arg_bytes(c, 1, &text));
    size_t n = text.size < sizeof buf - 1 ? text.size : sizeof buf - 1;
    memcpy(buf, text.data, n);
    buf[n] = '\0';
    return nocopy_fail_badarg(c, (unsigned)which, buf);
}

static int f_fail_status(nocopy_call *c)
{   /* (Status) */
    static const int status_of[] = {
        [A_EBADARG] = NOCOPY_EBADARG, [A_ENOMEM] = NOCOPY_ENOMEM,
        [A_ERANGE] = NOCOPY_ERANGE, [A_ECLOSED] = NOCOPY_ECLOSED,
        [A_EPROTO] = NOCOPY_EPROTO, [A_EOVERLOAD] = NOCOPY_EOVERLOAD,
        [A_ENOTSUP] = NOCOPY_ENOTSUP, [A_EINTERNAL] = NOCOPY_EINTERNAL,
    };
    nocopy_atom a;
    TRY(nocopy_arg_atom(c, 0, &a));
    if (a < A_EBADARG || a > A_EINTERNAL)
        return nocopy_fail_badarg(c, 0, "a status name");
    return status_of[a];
}

static int f_fail_positive(nocopy_call *c)
{   /* () */
    (void)c;
    return 7;
}

static int f_no_result(nocopy_call *c)
{   /* () */
    (void)c;
    return NOCOPY_OK;
}

static int f_return_zero(nocopy_call *c)
{   /* () */
    return nocopy_return(c, 0);
}

/* ---- binary results: the four forms, with the address C wrote or viewed ---- */

static int f_buf_new(nocopy_call *c)
{   /* (Size, Byte) */
    size_t size;
    int64_t byte;
    TRY(nocopy_arg_size(c, 0, &size));
    TRY(nocopy_arg_int_range(c, 1, 0, 255, &byte));
    nocopy_buf *buf = nocopy_buf_alloc(c, size);
    if (!buf)
        return NOCOPY_ENOMEM;
    memset(buf->data, (int)byte, size);
    uint64_t addr = ADDR(buf->data);
    nocopy_value v[2] = {nocopy_make_buf(c, buf), nocopy_make_u64(c, addr)};
    return nocopy_return(c, nocopy_make_tuple(c, 2, v));
}

/* Allocates Size1 bytes of Byte, resizes to Size2 and fills any new tail with
 * Byte+1: the kept prefix shows that resize preserves contents. */
static int f_buf_resize(nocopy_call *c)
{   /* (Size1, Size2, Byte) */
    size_t s1, s2;
    int64_t byte;
    TRY(nocopy_arg_size(c, 0, &s1));
    TRY(nocopy_arg_size(c, 1, &s2));
    TRY(nocopy_arg_int_range(c, 2, 0, 254, &byte));
    nocopy_buf *buf = nocopy_buf_alloc(c, s1);
    if (!buf)
        return NOCOPY_ENOMEM;
    memset(buf->data, (int)byte, s1);
    int st = nocopy_buf_resize(buf, s2);
    if (st != NOCOPY_OK) {
        nocopy_buf_free(buf);
        return st;
    }
    if (buf->size != s2) {
        nocopy_buf_free(buf);
        return nocopy_fail_badarg(c, 1, "a size that nocopy_buf_resize honours");
    }
    if (s2 > s1)
        memset(buf->data + s1, (int)byte + 1, s2 - s1);
    uint64_t addr = ADDR(buf->data);
    return nocopy_return(c, nocopy_build(c, "{BI}", buf, addr));
}

static int f_buf_discard(nocopy_call *c)
{   /* (Size) */
    size_t size;
    TRY(nocopy_arg_size(c, 0, &size));
    nocopy_buf *buf = nocopy_buf_alloc(c, size);
    if (!buf)
        return NOCOPY_ENOMEM;
    memset(buf->data, 1, size);
    nocopy_buf_free(buf);
    nocopy_buf_free(NULL);
    return nocopy_return(c, nocopy_make_atom(c, NOCOPY_ATOM_OK));
}

static int f_slice(nocopy_call *c)
{   /* (Bin, Off, Len) */
    nocopy_bytes b;
    size_t off, len;
    TRY(nocopy_arg_bytes(c, 0, &b));
    TRY(nocopy_arg_size(c, 1, &off));
    TRY(nocopy_arg_size(c, 2, &len));
    nocopy_value v[2] = {nocopy_make_slice(c, nocopy_arg(c, 0), off, len),
                         nocopy_make_u64(c, ADDR(b.data) + off)};
    return nocopy_return(c, nocopy_make_tuple(c, 2, v));
}

static int f_slice_elem(nocopy_call *c)
{   /* ({_, Bin}, Off, Len) */
    nocopy_term e[2];
    nocopy_bytes b;
    size_t off, len;
    TRY(nocopy_arg_tuple(c, 0, 2, e));
    TRY(nocopy_term_bytes(c, e[1], &b));
    TRY(nocopy_arg_size(c, 1, &off));
    TRY(nocopy_arg_size(c, 2, &len));
    nocopy_value v[2] = {nocopy_make_slice(c, e[1], off, len),
                         nocopy_make_u64(c, ADDR(b.data) + off)};
    return nocopy_return(c, nocopy_make_tuple(c, 2, v));
}

/* Negative control of slice/3: the same bytes, copied. */
static int f_copy_slice(nocopy_call *c)
{   /* (Bin, Off, Len) */
    nocopy_bytes b;
    size_t off, len;
    TRY(nocopy_arg_bytes(c, 0, &b));
    TRY(nocopy_arg_size(c, 1, &off));
    TRY(nocopy_arg_size(c, 2, &len));
    if (off > b.size || len > b.size - off)
        return nocopy_fail_badarg(c, 2, "a slice inside the binary");
    nocopy_value v[2] = {nocopy_make_copy(c, b.data + off, len),
                         nocopy_make_u64(c, ADDR(b.data) + off)};
    return nocopy_return(c, nocopy_make_tuple(c, 2, v));
}

/* Negative control of buf_new/2: C fills its own memory, the result copies it. */
static int f_copy_new(nocopy_call *c)
{   /* (Size, Byte) */
    size_t size;
    int64_t byte;
    TRY(nocopy_arg_size(c, 0, &size));
    TRY(nocopy_arg_int_range(c, 1, 0, 255, &byte));
    uint8_t *mem = malloc(size ? size : 1);
    if (!mem)
        return NOCOPY_ENOMEM;
    memset(mem, (int)byte, size);
    nocopy_value v[2] = {nocopy_make_copy(c, mem, size), nocopy_make_u64(c, ADDR(mem))};
    int st = nocopy_return(c, nocopy_make_tuple(c, 2, v));
    free(mem);
    return st;
}

/* ---- kept binaries: slots that hold a KEPT reference between calls ---------- */

#define NSLOTS 8
static pthread_mutex_t slot_mu = PTHREAD_MUTEX_INITIALIZER;
static nocopy_kept *slots[NSLOTS];
static atomic_long kept_taken, kept_released;

static void slot_store(int64_t i, nocopy_kept *k)
{
    pthread_mutex_lock(&slot_mu);
    nocopy_kept *old = slots[i];
    slots[i] = k;
    pthread_mutex_unlock(&slot_mu);
    if (old) {
        nocopy_kept_release(old);
        atomic_fetch_add(&kept_released, 1);
    }
}

static int f_keep_put(nocopy_call *c)
{   /* (Slot, Bin) */
    int64_t i;
    nocopy_kept *k;
    TRY(nocopy_arg_int_range(c, 0, 0, NSLOTS - 1, &i));
    TRY(nocopy_arg_keep(c, 1, &k));
    atomic_fetch_add(&kept_taken, 1);
    uint64_t addr = ADDR(nocopy_kept_bytes(k).data);
    slot_store(i, k);
    return nocopy_return(c, nocopy_make_u64(c, addr));
}

/* Keeps the second element of a tuple argument (nocopy_term_keep). */
static int f_keep_put_elem(nocopy_call *c)
{   /* (Slot, {_, Bin}) */
    int64_t i;
    nocopy_term e[2];
    nocopy_kept *k;
    TRY(nocopy_arg_int_range(c, 0, 0, NSLOTS - 1, &i));
    TRY(nocopy_arg_tuple(c, 1, 2, e));
    TRY(nocopy_term_keep(c, e[1], &k));
    atomic_fetch_add(&kept_taken, 1);
    uint64_t addr = ADDR(nocopy_kept_bytes(k).data);
    slot_store(i, k);
    return nocopy_return(c, nocopy_make_u64(c, addr));
}

/* A buffer C allocated, shared read-only (nocopy_buf_share) into a slot. */
static int f_shared_put(nocopy_call *c)
{   /* (Slot, Size, Byte) */
    int64_t i, byte;
    size_t size;
    TRY(nocopy_arg_int_range(c, 0, 0, NSLOTS - 1, &i));
    TRY(nocopy_arg_size(c, 1, &size));
    TRY(nocopy_arg_int_range(c, 2, 0, 255, &byte));
    nocopy_buf *buf = nocopy_buf_alloc(c, size);
    if (!buf)
        return NOCOPY_ENOMEM;
    memset(buf->data, (int)byte, size);
    uint64_t addr = ADDR(buf->data);
    nocopy_kept *k = nocopy_buf_share(c, buf);
    if (!k)
        return NOCOPY_ENOMEM;
    atomic_fetch_add(&kept_taken, 1);
    slot_store(i, k);
    return nocopy_return(c, nocopy_make_u64(c, addr));
}

/* {Binary, Address} of bytes [Off, Off+Len) of the slot, or undefined. */
static int f_keep_get(nocopy_call *c)
{   /* (Slot, Off, Len) */
    int64_t i;
    size_t off, len;
    TRY(nocopy_arg_int_range(c, 0, 0, NSLOTS - 1, &i));
    TRY(nocopy_arg_size(c, 1, &off));
    TRY(nocopy_arg_size(c, 2, &len));
    pthread_mutex_lock(&slot_mu);
    nocopy_kept *k = slots[i];
    nocopy_value v;
    if (!k) {
        v = nocopy_make_atom(c, NOCOPY_ATOM_UNDEFINED);
    } else {
        nocopy_value pair[2] = {nocopy_make_kept(c, k, off, len),
                                nocopy_make_u64(c, ADDR(nocopy_kept_bytes(k).data) + off)};
        v = nocopy_make_tuple(c, 2, pair);
    }
    pthread_mutex_unlock(&slot_mu);
    return nocopy_return(c, v);
}

static int f_keep_get_all(nocopy_call *c)
{   /* (Slot) */
    int64_t i;
    TRY(nocopy_arg_int_range(c, 0, 0, NSLOTS - 1, &i));
    pthread_mutex_lock(&slot_mu);
    nocopy_kept *k = slots[i];
    nocopy_value v = k ? nocopy_build(c, "k", k, (size_t)0, nocopy_kept_bytes(k).size)
                       : nocopy_make_atom(c, NOCOPY_ATOM_UNDEFINED);
    pthread_mutex_unlock(&slot_mu);
    return nocopy_return(c, v);
}

static int f_keep_release(nocopy_call *c)
{   /* (Slot) */
    int64_t i;
    TRY(nocopy_arg_int_range(c, 0, 0, NSLOTS - 1, &i));
    pthread_mutex_lock(&slot_mu);
    nocopy_kept *k = slots[i];
    slots[i] = NULL;
    pthread_mutex_unlock(&slot_mu);
    if (k) {
        nocopy_kept_release(k);
        atomic_fetch_add(&kept_released, 1);
    }
    nocopy_kept_release(NULL);
    return nocopy_return(c, nocopy_make_bool(c, k != NULL));
}

static int f_kept_stats(nocopy_call *c)
{   /* () */
    return nocopy_return(c, nocopy_build(c, "{ii}", (int64_t)atomic_load(&kept_taken),
                                         (int64_t)atomic_load(&kept_released)));
}

/* ---- foreign memory ------------------------------------------------------------ */

static atomic_long foreign_made, foreign_released, foreign_bad_release;

typedef struct foreign {
    unsigned magic;
    long id;                    /* index in foreign_release_runs */
    size_t size;
    uint8_t data[];
} foreign;

static void foreign_release(void *obj)
{
    foreign *f = obj;
    if (f->magic != LIVE_MAGIC)
        atomic_fetch_add(&foreign_bad_release, 1);
    f->magic = DEAD_MAGIC;
    if (f->id >= 0 && f->id < NTRACK)
        atomic_fetch_add(&foreign_release_runs[f->id], 1);
    free(f);
    atomic_fetch_add(&foreign_released, 1);
}

/* {Binary, Address, Id} of a new foreign-memory binary. */
static int foreign_new(nocopy_call *c, bool with_id)
{
    size_t size;
    int64_t byte;
    TRY(nocopy_arg_size(c, 0, &size));
    TRY(nocopy_arg_int_range(c, 1, 0, 255, &byte));
    if (size > SIZE_MAX - sizeof(foreign))
        return nocopy_fail_badarg(c, 0, "a size that can be allocated");
    foreign *f = malloc(sizeof *f + size);
    if (!f)
        return NOCOPY_ENOMEM;
    f->magic = LIVE_MAGIC;
    f->size = size;
    memset(f->data, (int)byte, size);
    f->id = atomic_fetch_add(&foreign_made, 1);
    long id = f->id;
    uint64_t addr = ADDR(f->data);
    /* After this call f belongs to the release callback: do not touch it. */
    nocopy_value bin = nocopy_make_foreign(c, f->data, size, foreign_release, f);
    nocopy_value v[3] = {bin, nocopy_make_u64(c, addr), nocopy_make_i64(c, id)};
    return nocopy_return(c, nocopy_make_tuple(c, with_id ? 3 : 2, v));
}

static int f_foreign_new(nocopy_call *c) { /* (Size, Byte) */ return foreign_new(c, false); }
static int f_foreign_new_id(nocopy_call *c) { /* (Size, Byte) */ return foreign_new(c, true); }

/* How many times the release callback of foreign object Id has run. */
static int f_foreign_releases(nocopy_call *c)
{   /* (Id) */
    int64_t id;
    TRY(nocopy_arg_int_range(c, 0, 0, NTRACK - 1, &id));
    return nocopy_return(c, nocopy_make_i64(c, atomic_load(&foreign_release_runs[id])));
}

static int f_foreign_stats(nocopy_call *c)
{   /* () */
    return nocopy_return(c, nocopy_build(c, "{iii}", (int64_t)atomic_load(&foreign_made),
                                         (int64_t)atomic_load(&foreign_released),
                                         (int64_t)atomic_load(&foreign_bad_release)));
}

/* ---- handles -------------------------------------------------------------------- */

static counter *new_counter(nocopy_call *c)
{
    counter *k = nocopy_handle_new(c, &counter_type);
    if (k) {
        k->magic = LIVE_MAGIC;
        atomic_init(&k->uses, 0);
        k->id = atomic_fetch_add(&handles_created, 1);
    }
    return k;
}

static int f_new_counter_handle(nocopy_call *c)
{   /* () */
    counter *k = new_counter(c);
    if (!k)
        return NOCOPY_ENOMEM;
    return nocopy_return(c, nocopy_make_handle(c, k));
}

static int f_new_counter_handle_id(nocopy_call *c)
{   /* () */
    counter *k = new_counter(c);
    if (!k)
        return NOCOPY_ENOMEM;
    long id = k->id;
    return nocopy_return(c, nocopy_build(c, "{hi}", (void *)k, (int64_t)id));
}

/* How many times the destructor of counter handle Id has run. */
static int f_handle_dtor_runs(nocopy_call *c)
{   /* (Id) */
    int64_t id;
    TRY(nocopy_arg_int_range(c, 0, 0, NTRACK - 1, &id));
    return nocopy_return(c, nocopy_make_i64(c, atomic_load(&counter_dtor_runs[id])));
}

/* A handle's object is aligned to 8 bytes, as documented in nocopy.h (what
 * erl_nif resources and driver_alloc give): enough for pointers, 64-bit
 * integers and doubles. Creates N
 * handles at once (so they sit at different places) and returns the list of
 * their addresses modulo 8, 0 when aligned. */
static int f_handle_misalignment(nocopy_call *c)
{   /* (N) */
    int64_t n;
    TRY(nocopy_arg_int_range(c, 0, 1, 1024, &n));
    counter *k[1024];
    nocopy_value rem[1024];
    int64_t made = 0;
    for (; made < n; made++) {
        k[made] = new_counter(c);
        if (!k[made])
            break;
        rem[made] = nocopy_make_u64(c, ADDR(k[made]) % 8);
    }
    for (int64_t i = 0; i < made; i++)
        nocopy_handle_release(k[i]);
    if (made < n)
        return NOCOPY_ENOMEM;
    return nocopy_return(c, nocopy_make_list(c, (size_t)n, rem));
}

static int f_new_other_handle(nocopy_call *c)
{   /* () */
    other *o = nocopy_handle_new(c, &other_type);
    if (!o)
        return NOCOPY_ENOMEM;
    o->magic = LIVE_MAGIC;
    atomic_fetch_add(&others_created, 1);
    return nocopy_return(c, nocopy_make_handle(c, o));
}

static int f_new_plain_handle(nocopy_call *c)
{   /* () */
    plain *p = nocopy_handle_new(c, &plain_type);
    if (!p)
        return NOCOPY_ENOMEM;
    return nocopy_return(c, nocopy_make_handle(c, p));
}

/* Counts and returns this handle's uses: it is the same object every time. */
static int f_use_plain(nocopy_call *c)
{   /* (H) */
    plain *p;
    TRY(nocopy_arg_handle(c, 0, &plain_type, (void **)&p));
    return nocopy_return(c, nocopy_make_i64(c, ++p->uses));
}

static int f_close_plain(nocopy_call *c)
{   /* (H) */
    plain *p;
    TRY(nocopy_arg_handle(c, 0, &plain_type, (void **)&p));
    nocopy_handle_close(p);
    return nocopy_return(c, nocopy_make_atom(c, NOCOPY_ATOM_OK));
}

static int f_new_unlisted_handle(nocopy_call *c)
{   /* () */
    void *obj = nocopy_handle_new(c, &unlisted_type);
    if (!obj)
        return NOCOPY_EINTERNAL;
    return nocopy_return(c, nocopy_make_handle(c, obj));
}

/* A handle created and given back without reaching Erlang. */
static int f_new_unreturned_handle(nocopy_call *c)
{   /* () */
    counter *k = new_counter(c);
    if (!k)
        return NOCOPY_ENOMEM;
    nocopy_handle_release(k);
    nocopy_handle_release(NULL);
    return nocopy_return(c, nocopy_make_atom(c, NOCOPY_ATOM_OK));
}

static int f_new_handle_pair(nocopy_call *c)
{   /* () */
    counter *a = new_counter(c);
    counter *b = a ? new_counter(c) : NULL;
    if (!b) {
        nocopy_handle_release(a);
        return NOCOPY_ENOMEM;
    }
    return nocopy_return(c, nocopy_build(c, "{hh}", (void *)a, (void *)b));
}

static int f_use_handle(nocopy_call *c)
{   /* (Counter) */
    void *obj;
    TRY(nocopy_arg_handle(c, 0, &counter_type, &obj));
    counter *k = obj;
    return nocopy_return(c, nocopy_make_i64(c, atomic_fetch_add(&k->uses, 1) + 1));
}

static int f_use_other(nocopy_call *c)
{   /* (Other) */
    void *obj;
    TRY(nocopy_arg_handle(c, 0, &other_type, &obj));
    return nocopy_return(c, nocopy_make_atom(c, NOCOPY_ATOM_OK));
}

static int f_use_handle_list(nocopy_call *c)
{   /* ([Counter]) */
    size_t n;
    const nocopy_term *el;
    int64_t sum = 0;
    TRY(nocopy_term_list(c, nocopy_arg(c, 0), &n, &el));
    for (size_t i = 0; i < n; i++) {
        void *obj;
        TRY(nocopy_term_handle(c, el[i], &counter_type, &obj));
        counter *k = obj;
        sum += atomic_fetch_add(&k->uses, 1) + 1;
    }
    return nocopy_return(c, nocopy_make_i64(c, sum));
}

static int f_close_handle(nocopy_call *c)
{   /* (Counter) */
    void *obj;
    TRY(nocopy_arg_handle(c, 0, &counter_type, &obj));
    TRY(nocopy_handle_close(obj));
    return nocopy_return(c, nocopy_make_atom(c, NOCOPY_ATOM_OK));
}

static nocopy_value status_atom(nocopy_call *c, int st)
{
    switch (st) {
    case NOCOPY_OK: return nocopy_make_atom(c, NOCOPY_ATOM_OK);
    case NOCOPY_ECLOSED: return nocopy_make_atom(c, A_ECLOSED);
    case NOCOPY_EBADARG: return nocopy_make_atom(c, A_EBADARG);
    default: return nocopy_make_atom(c, A_EINTERNAL);
    }
}

/* Closes twice within one call, then uses the object, still BORROWED by this
 * call: {FirstClose, SecondClose, Uses, DestroyedDuringCall}. */
static int f_close_twice(nocopy_call *c)
{   /* (Counter) */
    void *obj;
    TRY(nocopy_arg_handle(c, 0, &counter_type, &obj));
    counter *k = obj;
    long destroyed = atomic_load(&handles_destroyed);
    int st1 = nocopy_handle_close(obj);
    int st2 = nocopy_handle_close(obj);
    int64_t uses = atomic_fetch_add(&k->uses, 1) + 1;
    bool early = atomic_load(&handles_destroyed) != destroyed || k->magic != LIVE_MAGIC;
    return nocopy_return(c, nocopy_build(c, "{vvio}", status_atom(c, st1),
                                         status_atom(c, st2), uses, (int)early));
}

static int f_close_null(nocopy_call *c)
{   /* () */
    return nocopy_return(c, status_atom(c, nocopy_handle_close(NULL)));
}

static int f_live_handles(nocopy_call *c)
{   /* () */
    return nocopy_return(c, nocopy_make_i64(c, live_counters()));
}

static int f_handle_stats(nocopy_call *c)
{   /* () */
    return nocopy_return(c, nocopy_build(c, "{iiiii}", (int64_t)atomic_load(&handles_created),
                                         (int64_t)atomic_load(&handles_destroyed),
                                         (int64_t)atomic_load(&handles_bad_dtor),
                                         (int64_t)atomic_load(&others_created),
                                         (int64_t)atomic_load(&others_destroyed)));
}

/* C references (nocopy_handle_keep) held in a small table between calls. */
#define NKEPT_HANDLES 64
static pthread_mutex_t kh_mu = PTHREAD_MUTEX_INITIALIZER;
static void *kept_handles[NKEPT_HANDLES];
static size_t n_kept_handles;

static int f_keep_handle(nocopy_call *c)
{   /* (Counter) */
    void *obj;
    TRY(nocopy_arg_handle(c, 0, &counter_type, &obj));
    pthread_mutex_lock(&kh_mu);
    bool room = n_kept_handles < NKEPT_HANDLES;
    if (room) {
        nocopy_handle_keep(obj);
        kept_handles[n_kept_handles++] = obj;
    }
    pthread_mutex_unlock(&kh_mu);
    if (!room)
        return nocopy_fail_badarg(c, 0, "a handle while the keep table has room");
    return nocopy_return(c, nocopy_make_atom(c, NOCOPY_ATOM_OK));
}

static int f_release_kept_handles(nocopy_call *c)
{   /* () */
    pthread_mutex_lock(&kh_mu);
    size_t n = n_kept_handles;
    for (size_t i = 0; i < n; i++)
        nocopy_handle_release(kept_handles[i]);
    n_kept_handles = 0;
    pthread_mutex_unlock(&kh_mu);
    return nocopy_return(c, nocopy_make_i64(c, (int64_t)n));
}

/* ---- scheduling: thread names and a gate ---------------------------------------- */

/* The OS name of the thread running the call. The runtime names its threads:
 * "1_scheduler", "1_dirty_cpu_sch" (truncated to 15 bytes), "1_dirty_io_sche";
 * the driver backend names its workers. */
static nocopy_value thread_name(nocopy_call *c)
{
    char name[64] = "";
    if (pthread_getname_np(pthread_self(), name, sizeof name) != 0)
        strcpy(name, "?");
    return nocopy_make_copy(c, name, strlen(name));
}

static int f_thread_name(nocopy_call *c)
{   /* () or (Bin) or (Bin1, Bin2) or ([Bin]) */
    return nocopy_return(c, thread_name(c));
}

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static bool gate_is_open;
static long gate_waiting, gate_released, gate_timeouts;

/* Waits until Erlang calls gate_open/0. The timeout only breaks a deadlock
 * when the call wrongly blocks the scheduler that would open the gate; the
 * tests assert `released`, never a duration. */
static bool wait_gate(int64_t ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&gate_mu);
    gate_waiting++;
    int rc = 0;
    while (!gate_is_open && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&gate_cv, &gate_mu, &until);
    bool released = gate_is_open;
    gate_waiting--;
    if (released)
        gate_released++;
    else
        gate_timeouts++;
    pthread_mutex_unlock(&gate_mu);
    return released;
}

static int gate_wait(nocopy_call *c, unsigned timeout_index)
{
    int64_t ms;
    TRY(nocopy_arg_int_range(c, timeout_index, 0, 600000, &ms));
    bool released = wait_gate(ms);
    return nocopy_return(c, nocopy_build(c, "{av}", released ? A_RELEASED : A_TIMEOUT,
                                         thread_name(c)));
}

static int f_gate_wait(nocopy_call *c) { /* (TimeoutMs) */ return gate_wait(c, 0); }
static int f_gate_wait_above(nocopy_call *c) { /* (Bin, TimeoutMs) */ return gate_wait(c, 1); }

/* Borrows a counter handle across the wait: {released | timeout, Alive}, where
 * Alive says the object was not destroyed while this call used it. */
static int f_gate_wait_handle(nocopy_call *c)
{   /* (Counter, TimeoutMs) */
    void *obj;
    int64_t ms;
    TRY(nocopy_arg_handle(c, 0, &counter_type, &obj));
    TRY(nocopy_arg_int_range(c, 1, 0, 600000, &ms));
    counter *k = obj;
    atomic_fetch_add(&k->uses, 1);
    bool released = wait_gate(ms);
    bool alive = k->magic == LIVE_MAGIC && counter_dtor_runs[k->id] == 0;
    return nocopy_return(c, nocopy_build(c, "{ao}", released ? A_RELEASED : A_TIMEOUT,
                                         (int)alive));
}

static int set_gate(nocopy_call *c, bool open)
{
    pthread_mutex_lock(&gate_mu);
    gate_is_open = open;
    if (open)
        pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mu);
    return nocopy_return(c, nocopy_make_atom(c, NOCOPY_ATOM_OK));
}

static int f_gate_open(nocopy_call *c) { /* () */ return set_gate(c, true); }
static int f_gate_close(nocopy_call *c) { /* () */ return set_gate(c, false); }

static int f_gate_stats(nocopy_call *c)
{   /* () */
    pthread_mutex_lock(&gate_mu);
    int64_t w = gate_waiting, r = gate_released, t = gate_timeouts;
    pthread_mutex_unlock(&gate_mu);
    return nocopy_return(c, nocopy_build(c, "{iii}", w, r, t));
}

static int f_consume(nocopy_call *c)
{   /* (Bytes) */
    size_t n;
    TRY(nocopy_arg_size(c, 0, &n));
    nocopy_consume(c, n);
    return nocopy_return(c, nocopy_make_atom(c, NOCOPY_ATOM_OK));
}

/* ---- module hooks ------------------------------------------------------------------ */

static atomic_long loads;

static int test_load(void)
{
    atomic_fetch_add(&loads, 1);
    return NOCOPY_OK;
}

static int f_load_count(nocopy_call *c)
{   /* () */
    return nocopy_return(c, nocopy_make_i64(c, atomic_load(&loads)));
}

/* ---- the table ------------------------------------------------------------------- */

#define BIN_ADDR "{binary(), non_neg_integer()}"
#define STATUS_ATOMS "ebadarg | enomem | erange | eclosed | eproto | eoverload | enotsup | einternal"
#define TYPE_ATOMS "integer | float | atom | binary | bitstring | tuple | list | nil | handle | other"

/* Bytes of binary arguments above which the *_above functions go dirty. */
#define DIRTY_ABOVE_BYTES 1000

static const nocopy_func test_funcs[] = {
    /* arguments */
    {"echo_i64", 1, f_echo_i64, "X :: integer()", "integer()", NOCOPY_NORMAL, 0,
     "Returns X, read as a signed 64-bit integer."},
    {"echo_u64", 1, f_echo_u64, "X :: non_neg_integer()", "non_neg_integer()", NOCOPY_NORMAL, 0,
     "Returns X, read as an unsigned 64-bit integer."},
    {"echo_size", 1, f_echo_size, "X :: non_neg_integer()", "non_neg_integer()", NOCOPY_NORMAL, 0,
     "Returns X, read as a size."},
    {"echo_range", 1, f_echo_range, "X :: -10..10", "-10..10", NOCOPY_NORMAL, 0,
     "Returns X, read as an integer in -10..10."},
    {"echo_double", 1, f_echo_double, "X :: float()", "float()", NOCOPY_NORMAL, 0, NULL},
    {"echo_bool", 1, f_echo_bool, "X :: boolean()", "boolean()", NOCOPY_NORMAL, 0, NULL},
    {"echo_atom", 1, f_echo_atom, "X :: color()", "color()", NOCOPY_NORMAL, 0,
     "Returns X, read as an atom of the module's table."},
    {"atom_index", 1, f_atom_index, "X :: atom()", "integer()", NOCOPY_NORMAL, 0,
     "The nocopy_atom index of X (negative for built-in atoms)."},
    {"echo_bytes", 1, f_echo_bytes, "Bin :: binary()", "binary()", NOCOPY_NORMAL, 0,
     "A copy of Bin."},
    {"address_of", 1, f_address_of, "Bin :: binary()", "non_neg_integer()", NOCOPY_NORMAL, 0,
     "The data address C sees for Bin."},
    {"address_of_elem", 1, f_address_of_elem, "T :: {term(), binary()}", "non_neg_integer()",
     NOCOPY_NORMAL, 0, NULL},
    {"list_addresses", 1, f_list_addresses, "L :: [binary()]", "[non_neg_integer()]",
     NOCOPY_NORMAL, 0, NULL},
    {"iovec_info", 1, f_iovec_info, "Data :: iodata()",
     "{non_neg_integer(), non_neg_integer(), [{non_neg_integer(), non_neg_integer()}]}",
     NOCOPY_NORMAL, 0, "{Total, Count, [{Address, Size}]} of the pieces C sees."},
    {"iovec_flat", 1, f_iovec_flat, "Data :: iodata()", "binary()", NOCOPY_NORMAL, 0, NULL},
    {"echo_tuple", 1, f_echo_tuple, "T :: {integer(), binary(), {color(), float()}}",
     "{integer(), binary(), {color(), float()}}", NOCOPY_NORMAL, 0, NULL},
    {"term_type", 1, f_term_type, "X :: term()", "type_name()", NOCOPY_NORMAL, 0, NULL},
    {"tuple_types", 1, f_tuple_types, "T :: tuple()", "[type_name()]", NOCOPY_NORMAL, 0, NULL},
    {"list_types", 1, f_list_types, "L :: list()", "[type_name()]", NOCOPY_NORMAL, 0, NULL},
    {"sum_list", 1, f_sum_list, "L :: [integer()]", "integer()", NOCOPY_NORMAL, 0, NULL},
    {"elem_readers", 1, f_elem_readers,
     "T :: {non_neg_integer(), non_neg_integer(), byte(), boolean(), iodata()}",
     "{non_neg_integer(), non_neg_integer(), byte(), boolean(), non_neg_integer()}",
     NOCOPY_NORMAL, 0, NULL},
    {"atom_or_int", 1, f_atom_or_int, "X :: color() | integer()", "{boolean(), integer()}",
     NOCOPY_NORMAL, 0, NULL},
    /* format strings */
    {"scan_flat", 1, f_scan_flat,
     "T :: {integer(), non_neg_integer(), non_neg_integer(), float(), boolean(), color(), "
     "binary(), iodata()}",
     "{integer(), non_neg_integer(), non_neg_integer(), float(), boolean(), color(), "
     "binary(), non_neg_integer()}", NOCOPY_NORMAL, 0, NULL},
    {"scan_nested", 1, f_scan_nested, "T :: {{integer(), {color()}}, binary()}",
     "{integer(), color(), non_neg_integer()}", NOCOPY_NORMAL, 0, NULL},
    {"scan_handle", 1, f_scan_handle, "T :: {nocopy:handle(), term(), term()}",
     "{integer(), type_name()}", NOCOPY_NORMAL, 0, NULL},
    {"scan_term", 1, f_scan_term, "T :: {integer(), term()}", "integer()", NOCOPY_NORMAL, 0,
     NULL},
    {"scan_malformed", 1, f_scan_malformed, "T :: term()", "no_return()", NOCOPY_NORMAL, 0,
     NULL},
    {"build_all", 0, f_build_all, "", "tuple()", NOCOPY_NORMAL, 0, NULL},
    {"build_buf", 2, f_build_buf, "Size :: non_neg_integer(), Byte :: byte()", BIN_ADDR,
     NOCOPY_NORMAL, 0, NULL},
    {"build_slice", 3, f_build_slice,
     "Bin :: binary(), Off :: non_neg_integer(), Len :: non_neg_integer()", BIN_ADDR,
     NOCOPY_NORMAL, 0, NULL},
    {"build_value", 1, f_build_value, "I :: integer()", "{integer(), [integer()]}",
     NOCOPY_NORMAL, 0, NULL},
    {"build_malformed", 0, f_build_malformed, "", "no_return()", NOCOPY_NORMAL, 0, NULL},
    /* results */
    {"make_ints", 0, f_make_ints, "", "[integer()]", NOCOPY_NORMAL, 0, NULL},
    {"make_doubles", 0, f_make_doubles, "", "[float()]", NOCOPY_NORMAL, 0, NULL},
    {"make_nonfinite", 1, f_make_nonfinite, "Which :: nan | inf | neg_inf", "float()",
     NOCOPY_NORMAL, 0, NULL},
    {"make_atoms", 0, f_make_atoms, "", "[atom()]", NOCOPY_NORMAL, 0, NULL},
    {"make_atom_index", 1, f_make_atom_index, "I :: integer()", "atom()", NOCOPY_NORMAL, 0,
     NULL},
    {"make_bools", 0, f_make_bools, "", "[boolean()]", NOCOPY_NORMAL, 0, NULL},
    {"make_tuple", 1, f_make_tuple, "N :: non_neg_integer()", "tuple()", NOCOPY_NORMAL, 0,
     NULL},
    {"make_list", 1, f_make_list, "N :: non_neg_integer()", "[pos_integer()]", NOCOPY_NORMAL,
     0, NULL},
    {"make_deep", 1, f_make_deep, "Depth :: non_neg_integer()", "tuple()", NOCOPY_NORMAL, 0,
     NULL},
    {"make_with_failed_part", 0, f_make_with_failed_part, "", "no_return()", NOCOPY_NORMAL, 0,
     NULL},
    {"return_ok", 1, f_return_ok, "I :: integer()", "{ok, integer()}", NOCOPY_NORMAL, 0, NULL},
    {"return_error", 1, f_return_error, "Reason :: color()", "{error, color()}",
     NOCOPY_NORMAL, 0, NULL},
    {"fail_badarg", 3, f_fail_badarg, "Which :: 0..2, Text :: binary(), Pad :: term()",
     "no_return()", NOCOPY_NORMAL, 0, "Fails with badarg naming argument Which+1."},
    {"fail_status", 1, f_fail_status, "Status :: " STATUS_ATOMS, "no_return()", NOCOPY_NORMAL,
     0, NULL},
    {"fail_positive", 0, f_fail_positive, "", "no_return()", NOCOPY_NORMAL, 0, NULL},
    {"no_result", 0, f_no_result, "", "no_return()", NOCOPY_NORMAL, 0, NULL},
    {"return_zero", 0, f_return_zero, "", "no_return()", NOCOPY_NORMAL, 0, NULL},
    /* binary results and address probes */
    {"buf_new", 2, f_buf_new, "Size :: non_neg_integer(), Byte :: byte()", BIN_ADDR,
     NOCOPY_NORMAL, 0, "A new buffer of Size bytes Byte, and the address C wrote to."},
    {"buf_resize", 3, f_buf_resize,
     "Size1 :: non_neg_integer(), Size2 :: non_neg_integer(), Byte :: 0..254", BIN_ADDR,
     NOCOPY_NORMAL, 0, NULL},
    {"buf_discard", 1, f_buf_discard, "Size :: non_neg_integer()", "ok", NOCOPY_NORMAL, 0,
     NULL},
    {"slice", 3, f_slice, "Bin :: binary(), Off :: non_neg_integer(), Len :: non_neg_integer()",
     BIN_ADDR, NOCOPY_NORMAL, 0, "A slice of Bin, and the address C computed for it."},
    {"slice_elem", 3, f_slice_elem,
     "T :: {term(), binary()}, Off :: non_neg_integer(), Len :: non_neg_integer()", BIN_ADDR,
     NOCOPY_NORMAL, 0, NULL},
    {"copy_slice", 3, f_copy_slice,
     "Bin :: binary(), Off :: non_neg_integer(), Len :: non_neg_integer()", BIN_ADDR,
     NOCOPY_NORMAL, 0, "Negative control of slice/3: copies."},
    {"copy_new", 2, f_copy_new, "Size :: non_neg_integer(), Byte :: byte()", BIN_ADDR,
     NOCOPY_NORMAL, 0, "Negative control of buf_new/2: copies."},
    {"keep_put", 2, f_keep_put, "Slot :: 0..7, Bin :: binary()", "non_neg_integer()",
     NOCOPY_NORMAL, 0, "Keeps Bin in Slot; returns the address of the kept bytes."},
    {"keep_put_elem", 2, f_keep_put_elem, "Slot :: 0..7, T :: {term(), binary()}",
     "non_neg_integer()", NOCOPY_NORMAL, 0, NULL},
    {"shared_put", 3, f_shared_put, "Slot :: 0..7, Size :: non_neg_integer(), Byte :: byte()",
     "non_neg_integer()", NOCOPY_NORMAL, 0, NULL},
    {"keep_get", 3, f_keep_get,
     "Slot :: 0..7, Off :: non_neg_integer(), Len :: non_neg_integer()",
     BIN_ADDR " | undefined", NOCOPY_NORMAL, 0, NULL},
    {"keep_get_all", 1, f_keep_get_all, "Slot :: 0..7", "binary() | undefined", NOCOPY_NORMAL,
     0, NULL},
    {"keep_release", 1, f_keep_release, "Slot :: 0..7", "boolean()", NOCOPY_NORMAL, 0, NULL},
    {"kept_stats", 0, f_kept_stats, "", "{non_neg_integer(), non_neg_integer()}",
     NOCOPY_NORMAL, 0, "{Taken, Released} kept references."},
    {"foreign_new", 2, f_foreign_new, "Size :: non_neg_integer(), Byte :: byte()", BIN_ADDR,
     NOCOPY_NORMAL, 0, NULL},
    {"foreign_new_id", 2, f_foreign_new_id, "Size :: non_neg_integer(), Byte :: byte()",
     "{binary(), non_neg_integer(), non_neg_integer()}", NOCOPY_NORMAL, 0,
     "{Binary, Address, Id}: foreign_new/2 with the object's id."},
    {"foreign_releases", 1, f_foreign_releases, "Id :: non_neg_integer()", "non_neg_integer()",
     NOCOPY_NORMAL, 0, "How many times foreign object Id was released."},
    {"foreign_stats", 0, f_foreign_stats, "",
     "{non_neg_integer(), non_neg_integer(), non_neg_integer()}", NOCOPY_NORMAL, 0,
     "{Made, Released, BadReleases}."},
    /* handles */
    {"new_counter_handle", 0, f_new_counter_handle, "", "nocopy:handle()", NOCOPY_NORMAL, 0,
     NULL},
    {"new_counter_handle_id", 0, f_new_counter_handle_id, "",
     "{nocopy:handle(), non_neg_integer()}", NOCOPY_NORMAL, 0, NULL},
    {"handle_dtor_runs", 1, f_handle_dtor_runs, "Id :: non_neg_integer()", "non_neg_integer()",
     NOCOPY_NORMAL, 0, "How many times the destructor of counter Id has run."},
    {"handle_misalignment", 1, f_handle_misalignment, "N :: 1..1024", "[non_neg_integer()]",
     NOCOPY_NORMAL, 0, "N new handle objects' addresses modulo 8."},
    {"new_other_handle", 0, f_new_other_handle, "", "nocopy:handle()", NOCOPY_NORMAL, 0, NULL},
    {"new_plain_handle", 0, f_new_plain_handle, "", "nocopy:handle()", NOCOPY_NORMAL, 0,
     "A handle whose type has no destructor."},
    {"use_plain", 1, f_use_plain, "H :: nocopy:handle()", "pos_integer()", NOCOPY_NORMAL, 0,
     "Counts the plain handle's uses."},
    {"close_plain", 1, f_close_plain, "H :: nocopy:handle()", "ok", NOCOPY_NORMAL, 0, NULL},
    {"new_unlisted_handle", 0, f_new_unlisted_handle, "", "no_return()", NOCOPY_NORMAL, 0,
     NULL},
    {"new_unreturned_handle", 0, f_new_unreturned_handle, "", "ok", NOCOPY_NORMAL, 0, NULL},
    {"new_handle_pair", 0, f_new_handle_pair, "", "{nocopy:handle(), nocopy:handle()}",
     NOCOPY_NORMAL, 0, NULL},
    {"use_handle", 1, f_use_handle, "H :: nocopy:handle()", "pos_integer()", NOCOPY_NORMAL, 0,
     "Counts a use of a counter handle; returns the uses so far."},
    {"use_other", 1, f_use_other, "H :: nocopy:handle()", "ok", NOCOPY_NORMAL, 0, NULL},
    {"use_handle_list", 1, f_use_handle_list, "L :: [nocopy:handle()]", "non_neg_integer()",
     NOCOPY_NORMAL, 0, NULL},
    {"close_handle", 1, f_close_handle, "H :: nocopy:handle()", "ok", NOCOPY_NORMAL, 0, NULL},
    {"close_twice", 1, f_close_twice, "H :: nocopy:handle()",
     "{ok | eclosed, ok | eclosed, pos_integer(), boolean()}", NOCOPY_NORMAL, 0, NULL},
    {"close_null", 0, f_close_null, "", "ok | eclosed | ebadarg", NOCOPY_NORMAL, 0, NULL},
    {"live_handles", 0, f_live_handles, "", "integer()", NOCOPY_NORMAL, 0,
     "Counter handles created and not yet destroyed."},
    {"handle_stats", 0, f_handle_stats, "",
     "{non_neg_integer(), non_neg_integer(), non_neg_integer(), non_neg_integer(), "
     "non_neg_integer()}", NOCOPY_NORMAL, 0,
     "{Created, Destroyed, BadDestructorRuns, OthersCreated, OthersDestroyed}."},
    {"keep_handle", 1, f_keep_handle, "H :: nocopy:handle()", "ok", NOCOPY_NORMAL, 0, NULL},
    {"release_kept_handles", 0, f_release_kept_handles, "", "non_neg_integer()",
     NOCOPY_NORMAL, 0, NULL},
    /* scheduling */
    {"thread_name", 0, f_thread_name, "", "binary()", NOCOPY_NORMAL, 0,
     "The name of the OS thread running the call."},
    {"thread_name_dirty_cpu", 0, f_thread_name, "", "binary()", NOCOPY_DIRTY_CPU, 0, NULL},
    {"thread_name_dirty_io", 0, f_thread_name, "", "binary()", NOCOPY_DIRTY_IO, 0, NULL},
    {"thread_name_above", 1, f_thread_name, "Bin :: binary()", "binary()", NOCOPY_DIRTY_ABOVE,
     DIRTY_ABOVE_BYTES, NULL},
    {"thread_name_above2", 2, f_thread_name, "Bin1 :: binary(), Bin2 :: binary()", "binary()",
     NOCOPY_DIRTY_ABOVE, DIRTY_ABOVE_BYTES, NULL},
    {"thread_name_above_list", 1, f_thread_name, "L :: [binary()]", "binary()",
     NOCOPY_DIRTY_ABOVE, DIRTY_ABOVE_BYTES, NULL},
    {"thread_name_above_tuple", 1, f_thread_name, "T :: tuple()", "binary()",
     NOCOPY_DIRTY_ABOVE, DIRTY_ABOVE_BYTES, NULL},
    {"gate_wait", 1, f_gate_wait, "TimeoutMs :: non_neg_integer()", "{released | timeout, binary()}",
     NOCOPY_DIRTY_CPU, 0, "Blocks until gate_open/0 (or the timeout)."},
    {"gate_wait_above", 2, f_gate_wait_above, "Bin :: binary(), TimeoutMs :: non_neg_integer()",
     "{released | timeout, binary()}", NOCOPY_DIRTY_ABOVE, DIRTY_ABOVE_BYTES, NULL},
    {"gate_wait_handle", 2, f_gate_wait_handle,
     "H :: nocopy:handle(), TimeoutMs :: non_neg_integer()", "{released | timeout, boolean()}",
     NOCOPY_DIRTY_CPU, 0, "Uses H while blocked on the gate."},
    {"gate_open", 0, f_gate_open, "", "ok", NOCOPY_NORMAL, 0, NULL},
    {"gate_close", 0, f_gate_close, "", "ok", NOCOPY_NORMAL, 0, NULL},
    {"gate_stats", 0, f_gate_stats, "",
     "{non_neg_integer(), non_neg_integer(), non_neg_integer()}", NOCOPY_NORMAL, 0,
     "{Waiting, Released, TimedOut}."},
    {"consume", 1, f_consume, "Bytes :: non_neg_integer()", "ok", NOCOPY_NORMAL, 0, NULL},
    {"load_count", 0, f_load_count, "", "pos_integer()", NOCOPY_NORMAL, 0, NULL},
};

static const nocopy_module test_module = {
    .name = "nocopy_test",
    .funcs = test_funcs,
    .nfuncs = sizeof test_funcs / sizeof test_funcs[0],
    .atoms = test_atoms,
    .handle_types = test_handle_types,
    .types = "-type color() :: red | green | blue.\n"
             "-type type_name() :: " TYPE_ATOMS ".\n",
    .load = test_load,
    .unload = NULL,
};

NOCOPY_MODULE(test_module)
