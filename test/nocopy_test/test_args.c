/* test_args.c: arguments and format strings, for the `nocopy_test` module
 * (see test_module.c).
 *
 * Echoes every argument type back, so the EUnit suites can feed good values
 * and tables of bad inputs; reports the data addresses C sees, for the
 * zero-copy proofs; and runs nocopy_arg_scan/nocopy_build over every
 * format-string directive, malformed formats included. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "test_module.h"

/* The atom naming a nocopy_type (the A_INTEGER.. run of the atom enum). */
static nocopy_value type_atom(nocopy_call *c, nocopy_type t)
{
    if (t < NOCOPY_T_INTEGER || t > NOCOPY_T_OTHER)
        return 0;
    return nocopy_make_atom(c, A_INTEGER + (int)(t - NOCOPY_T_INTEGER));
}

/* ---- arguments ------------------------------------------------------------- */

int f_echo_i64(nocopy_call *c)
{   /* (X) */
    int64_t x;
    TRY(nocopy_arg_i64(c, 0, &x));
    return nocopy_return(c, nocopy_make_i64(c, x));
}

int f_echo_u64(nocopy_call *c)
{   /* (X) */
    uint64_t x;
    TRY(nocopy_arg_u64(c, 0, &x));
    return nocopy_return(c, nocopy_make_u64(c, x));
}

int f_echo_size(nocopy_call *c)
{   /* (X) */
    size_t x;
    TRY(nocopy_arg_size(c, 0, &x));
    return nocopy_return(c, nocopy_make_u64(c, (uint64_t)x));
}

int f_echo_range(nocopy_call *c)
{   /* (X) */
    int64_t x;
    TRY(nocopy_arg_int_range(c, 0, -10, 10, &x));
    return nocopy_return(c, nocopy_make_i64(c, x));
}

int f_echo_double(nocopy_call *c)
{   /* (X) */
    double x;
    TRY(nocopy_arg_double(c, 0, &x));
    return nocopy_return(c, nocopy_make_double(c, x));
}

int f_echo_bool(nocopy_call *c)
{   /* (X) */
    int x;
    TRY(nocopy_arg_bool(c, 0, &x));
    return nocopy_return(c, nocopy_make_bool(c, x));
}

int f_echo_atom(nocopy_call *c)
{   /* (X) */
    nocopy_atom a;
    TRY(nocopy_arg_atom(c, 0, &a));
    return nocopy_return(c, nocopy_make_atom(c, a));
}

int f_atom_index(nocopy_call *c)
{   /* (X) */
    nocopy_atom a;
    TRY(nocopy_arg_atom(c, 0, &a));
    return nocopy_return(c, nocopy_make_i64(c, a));
}

int f_echo_bytes(nocopy_call *c)
{   /* (Bin) */
    nocopy_bytes b;
    TRY(nocopy_arg_bytes(c, 0, &b));
    return nocopy_return(c, nocopy_make_copy(c, b.data, b.size));
}

int f_address_of(nocopy_call *c)
{   /* (Bin) */
    nocopy_bytes b;
    TRY(nocopy_arg_bytes(c, 0, &b));
    return nocopy_return(c, nocopy_make_u64(c, ADDR(b.data)));
}

int f_address_of_elem(nocopy_call *c)
{   /* ({_, Bin}) */
    nocopy_term e[2];
    nocopy_bytes b;
    TRY(nocopy_arg_tuple(c, 0, 2, e));
    TRY(nocopy_term_bytes(c, e[1], &b));
    return nocopy_return(c, nocopy_make_u64(c, ADDR(b.data)));
}

int f_list_addresses(nocopy_call *c)
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
int f_iovec_info(nocopy_call *c)
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
int f_iovec_flat(nocopy_call *c)
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

int f_echo_tuple(nocopy_call *c)
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

int f_term_type(nocopy_call *c)
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

int f_tuple_types(nocopy_call *c)
{   /* (Tuple) */
    unsigned n;
    const nocopy_term *el;
    TRY(nocopy_term_tuple_any(c, nocopy_arg(c, 0), &n, &el));
    return types_of(c, n, el);
}

int f_list_types(nocopy_call *c)
{   /* (List) */
    size_t n;
    const nocopy_term *el;
    TRY(nocopy_term_list(c, nocopy_arg(c, 0), &n, &el));
    return types_of(c, n, el);
}

/* iodata read as a term, not as a vector: {Type, [ElementType], Bytes, First}
 * with Bytes the binary elements concatenated and First a slice of the first
 * one (<<>> if none). The driver sends an iodata() argument as its bytes
 * ("v"), which reads as a list of its pieces. */
int f_iodata_walk(nocopy_call *c)
{   /* (Data) */
    size_t n, total = 0;
    const nocopy_term *el;
    nocopy_bytes b;
    nocopy_type t = nocopy_term_type(c, nocopy_arg(c, 0));
    TRY(nocopy_term_list(c, nocopy_arg(c, 0), &n, &el));
    for (size_t i = 0; i < n; i++)
        if (nocopy_term_type(c, el[i]) == NOCOPY_T_BINARY) {
            TRY(nocopy_term_bytes(c, el[i], &b));
            total += b.size;
        }
    nocopy_buf *buf = nocopy_buf_alloc(c, total);
    if (!buf)
        return NOCOPY_ENOMEM;
    nocopy_value first = 0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++)
        if (nocopy_term_type(c, el[i]) == NOCOPY_T_BINARY) {
            nocopy_term_bytes(c, el[i], &b);
            memcpy(buf->data + at, b.data, b.size);
            at += b.size;
            if (!first)
                first = nocopy_make_slice(c, el[i], 0, b.size);
        }
    nocopy_value v[4] = {type_atom(c, t), 0, nocopy_make_buf(c, buf),
                         first ? first : nocopy_make_copy(c, "", 0)};
    nocopy_value *types = calloc(n ? n : 1, sizeof *types);
    if (!types)
        return NOCOPY_ENOMEM;
    for (size_t i = 0; i < n; i++)
        types[i] = type_atom(c, nocopy_term_type(c, el[i]));
    v[1] = nocopy_make_list(c, n, types);
    free(types);
    return nocopy_return(c, nocopy_make_tuple(c, 4, v));
}

int f_sum_list(nocopy_call *c)
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
int f_elem_readers(nocopy_call *c)
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
int f_atom_or_int(nocopy_call *c)
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

int f_scan_flat(nocopy_call *c)
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

int f_scan_nested(nocopy_call *c)
{   /* ({{I, {A}}, Bin}) */
    int64_t i;
    nocopy_atom a;
    nocopy_bytes b;
    TRY(nocopy_arg_scan(c, 0, "{{i{a}}b}", &i, &a, &b));
    return nocopy_return(c, nocopy_build(c, "{iaI}", i, a, (uint64_t)b.size));
}

int f_scan_handle(nocopy_call *c)
{   /* ({Counter, T, _}) */
    void *obj;
    nocopy_term t;
    TRY(nocopy_arg_scan(c, 0, "{ht_}", &counter_type, &obj, &t));
    counter *k = obj;
    int64_t uses = atomic_fetch_add(&k->uses, 1) + 1;
    return nocopy_return(c, nocopy_build(c, "{iv}", uses,
                                         type_atom(c, nocopy_term_type(c, t))));
}

int f_scan_term(nocopy_call *c)
{   /* (T) */
    int64_t i;
    TRY(nocopy_term_scan(c, nocopy_arg(c, 0), "{i_}", &i));
    return nocopy_return(c, nocopy_make_i64(c, i));
}

int f_scan_malformed(nocopy_call *c)
{   /* (T) */
    int64_t i;
    TRY(nocopy_arg_scan(c, 0, "{q}", &i));
    return nocopy_return(c, nocopy_make_i64(c, i));
}

int f_build_all(nocopy_call *c)
{   /* () */
    static const char abc[] = "abc";
    return nocopy_return(c, nocopy_build(c, "{i I f o o a a [i i] {} [] c}", (int64_t)-5,
                                         UINT64_MAX, 2.5, 1, 0, NOCOPY_ATOM_OK, A_RED,
                                         (int64_t)1, (int64_t)2, (const void *)abc,
                                         (size_t)3));
}

int f_build_buf(nocopy_call *c)
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

int f_build_slice(nocopy_call *c)
{   /* (Bin, Off, Len) */
    nocopy_bytes b;
    size_t off, len;
    TRY(nocopy_arg_bytes(c, 0, &b));
    TRY(nocopy_arg_size(c, 1, &off));
    TRY(nocopy_arg_size(c, 2, &len));
    return nocopy_return(c, nocopy_build(c, "{sI}", nocopy_arg(c, 0), off, len,
                                         ADDR(b.data) + off));
}

int f_build_value(nocopy_call *c)
{   /* (I) */
    int64_t i;
    TRY(nocopy_arg_i64(c, 0, &i));
    nocopy_value v = nocopy_make_i64(c, i);
    return nocopy_return(c, nocopy_build(c, "{v[v v]}", v, v, v));
}

/* Per-site format programs (nc_format_site.c): one site that sees two
 * formats (as a static shared by two inlined callers would) must serve each
 * its own result, and a format too long for a site's program must still
 * work (through the path that parses on every call). Also the scan side. */
int f_build_sites(nocopy_call *c)
{   /* (T) */
    static nocopy__format_site shared, shared_scan;
    int64_t a, b;
    TRY(nocopy__term_scan_at(c, &shared_scan, nocopy_arg(c, 0), "{ii}", &a, &b));
    TRY(nocopy__term_scan_at(c, &shared_scan, nocopy_arg(c, 0), "{_i}", &b));
    nocopy_value tuple = nocopy__build_at(c, &shared, "{ii}", a, b);
    nocopy_value list = nocopy__build_at(c, &shared, "[ii]", a, b);
    nocopy_value fifty = nocopy_build(
        c, "[iiiiiiiiii iiiiiiiiii iiiiiiiiii iiiiiiiiii iiiiiiiiii]",
        (int64_t)1, (int64_t)2, (int64_t)3, (int64_t)4, (int64_t)5, (int64_t)6, (int64_t)7,
        (int64_t)8, (int64_t)9, (int64_t)10, (int64_t)11, (int64_t)12, (int64_t)13,
        (int64_t)14, (int64_t)15, (int64_t)16, (int64_t)17, (int64_t)18, (int64_t)19,
        (int64_t)20, (int64_t)21, (int64_t)22, (int64_t)23, (int64_t)24, (int64_t)25,
        (int64_t)26, (int64_t)27, (int64_t)28, (int64_t)29, (int64_t)30, (int64_t)31,
        (int64_t)32, (int64_t)33, (int64_t)34, (int64_t)35, (int64_t)36, (int64_t)37,
        (int64_t)38, (int64_t)39, (int64_t)40, (int64_t)41, (int64_t)42, (int64_t)43,
        (int64_t)44, (int64_t)45, (int64_t)46, (int64_t)47, (int64_t)48, (int64_t)49,
        (int64_t)50);
    return nocopy_return(c, nocopy_build(c, "{vvv}", tuple, list, fifty));
}

/* The two paths of a format string (include/nocopy_format.h): a literal
 * that fits is unrolled inline at compile time; the same text through a
 * pointer the compiler cannot see (volatile) takes the library's. Both must
 * read, build and fail alike, message for message. */
int f_format_paths(nocopy_call *c)
{   /* (Library, {I, U, F, O, A, Bin}) */
    static const char scan_text[] = "{iIfoat}", build_text[] = "{i I f o a {s} [v] c}";
    const char *volatile scan_fmt = scan_text, *volatile build_fmt = build_text;
    int library;
    int64_t i;
    uint64_t u;
    double f;
    int o;
    nocopy_atom a;
    nocopy_term bin;
    nocopy_bytes b;
    TRY(nocopy_arg_bool(c, 0, &library));
    if (library)
        TRY(nocopy_arg_scan(c, 1, scan_fmt, &i, &u, &f, &o, &a, &bin));
    else
        TRY(nocopy_arg_scan(c, 1, "{iIfoat}", &i, &u, &f, &o, &a, &bin));
    TRY(nocopy_term_bytes(c, bin, &b));
    /* A slice from byte 1: an empty binary fails with erange. */
    nocopy_value listed = nocopy_make_i64(c, i);
    nocopy_value v =
        library ? nocopy_build(c, build_fmt, i, u, f, o, a, bin, (size_t)1, b.size - 1,
                               listed, (const void *)b.data, b.size)
                : nocopy_build(c, "{i I f o a {s} [v] c}", i, u, f, o, a, bin, (size_t)1,
                               b.size - 1, listed, (const void *)b.data, b.size);
    return nocopy_return(c, v);
}

int f_build_malformed(nocopy_call *c)
{   /* () */
    return nocopy_return(c, nocopy_build(c, "{i", (int64_t)1));
}
