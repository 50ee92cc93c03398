/* test_results.c: results, binary results and kept binaries, for the
 * `nocopy_test` module (see test_module.c).
 *
 * Builds every result type, including the extremes and the failure paths;
 * makes binaries in each of the four forms and reports the address C wrote or
 * viewed, next to copying twins as negative controls, for the zero-copy
 * proofs; and holds KEPT binaries in slots between calls. */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "test_module.h"

/* ---- results ----------------------------------------------------------------- */

int f_make_ints(nocopy_call *c)
{   /* () */
    nocopy_value v[] = {
        nocopy_make_i64(c, INT64_MIN), nocopy_make_i64(c, INT64_MAX),
        nocopy_make_i64(c, 0), nocopy_make_i64(c, -1),
        nocopy_make_u64(c, UINT64_MAX), nocopy_make_u64(c, (uint64_t)1 << 63),
        nocopy_make_i64(c, (int64_t)1 << 59), nocopy_make_i64(c, -((int64_t)1 << 59) - 1),
    };
    return nocopy_return(c, nocopy_make_list(c, sizeof v / sizeof v[0], v));
}

int f_make_doubles(nocopy_call *c)
{   /* () */
    nocopy_value v[] = {
        nocopy_make_double(c, 0.0), nocopy_make_double(c, 1.5),
        nocopy_make_double(c, -2.25), nocopy_make_double(c, DBL_MAX),
        nocopy_make_double(c, DBL_MIN), nocopy_make_double(c, 4.9406564584124654e-324),
    };
    return nocopy_return(c, nocopy_make_list(c, sizeof v / sizeof v[0], v));
}

int f_make_nonfinite(nocopy_call *c)
{   /* (Which) */
    nocopy_atom a;
    TRY(nocopy_arg_atom(c, 0, &a));
    double d = a == A_NAN ? (double)NAN : a == A_INF ? (double)INFINITY : -(double)INFINITY;
    return nocopy_return(c, nocopy_make_double(c, d));
}

int f_make_atoms(nocopy_call *c)
{   /* () */
    nocopy_value v[] = {
        nocopy_make_atom(c, NOCOPY_ATOM_OK), nocopy_make_atom(c, NOCOPY_ATOM_ERROR),
        nocopy_make_atom(c, NOCOPY_ATOM_TRUE), nocopy_make_atom(c, NOCOPY_ATOM_FALSE),
        nocopy_make_atom(c, NOCOPY_ATOM_UNDEFINED), nocopy_make_atom(c, A_RED),
        nocopy_make_atom(c, A_GREEN), nocopy_make_atom(c, A_BLUE),
    };
    return nocopy_return(c, nocopy_make_list(c, sizeof v / sizeof v[0], v));
}

int f_make_atom_index(nocopy_call *c)
{   /* (I) */
    int64_t i;
    TRY(nocopy_arg_int_range(c, 0, -1000, 1000, &i));
    return nocopy_return(c, nocopy_make_atom(c, (nocopy_atom)i));
}

int f_make_bools(nocopy_call *c)
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

int f_make_tuple(nocopy_call *c) { /* (N) */ return make_seq(c, true); }
int f_make_list(nocopy_call *c) { /* (N) */ return make_seq(c, false); }

/* {D, [{D-1, [... {0, []} ...]}]}: nesting of tuples in lists. */
int f_make_deep(nocopy_call *c)
{   /* (Depth) */
    int64_t depth;
    TRY(nocopy_arg_int_range(c, 0, 0, 10000, &depth));
    nocopy_value v = nocopy_build(c, "{i[]}", (int64_t)0);
    for (int64_t d = 1; d <= depth; d++)
        v = nocopy_build(c, "{i[v]}", d, v);
    return nocopy_return(c, v);
}

/* Values used out of the order they were made, twice, and inside one
 * another: on the driver, where results are written as they are made, the
 * elements of some of these are not in place (nc_drv.h), and all of them
 * must come out as the same term. */
int f_make_shapes(nocopy_call *c)
{   /* () */
    nocopy_value big = nocopy_make_i64(c, (int64_t)1 << 62);
    nocopy_value red = nocopy_make_atom(c, A_RED);
    nocopy_value pair = nocopy_make_tuple(c, 2, (nocopy_value[]){big, red});
    nocopy_value swapped = nocopy_make_list(c, 2, (nocopy_value[]){red, big});
    nocopy_value twice = nocopy_make_tuple(c, 2, (nocopy_value[]){pair, pair});
    nocopy_value half = nocopy_make_double(c, 1.5);
    nocopy_value all = nocopy_make_tuple(
        c, 5, (nocopy_value[]){half, swapped, twice, pair, nocopy_make_copy(c, "xy", 2)});
    nocopy_value empty = nocopy_make_list(c, 0, NULL);
    nocopy_value max = nocopy_make_u64(c, UINT64_MAX);
    return nocopy_return(c, nocopy_make_list(c, 3, (nocopy_value[]){all, max, empty}));
}

/* A 0 part must make the whole result fail with the recorded reason. */
int f_make_with_failed_part(nocopy_call *c)
{   /* () */
    nocopy_value parts[2] = {nocopy_make_i64(c, 1), nocopy_make_atom(c, 9999)};
    return nocopy_return(c, nocopy_make_tuple(c, 2, parts));
}

/* {1, ..., N} with part K (1-based; 0: none) a failed one: the tuple check has
 * no early exit and unrolls for literal arities, so every position counts. */
int f_make_failed_at(nocopy_call *c)
{   /* (N, K) */
    int64_t n, k;
    nocopy_value parts[16];
    TRY(nocopy_arg_int_range(c, 0, 1, 16, &n));
    TRY(nocopy_arg_int_range(c, 1, 0, n, &k));
    for (int64_t i = 0; i < n; i++)
        parts[i] = i + 1 == k ? nocopy_make_atom(c, 9999) : nocopy_make_i64(c, i + 1);
    return nocopy_return(c, nocopy_make_tuple(c, (unsigned)n, parts));
}

/* {1, {2, 3}, 4} from a literal format (the inline path of nocopy_build) with
 * value K (1-based; 0: none) a failed one: the failure reaches the top
 * through the nested tuple. */
int f_build_failed_at(nocopy_call *c)
{   /* (K) */
    int64_t k;
    nocopy_value v[4];
    TRY(nocopy_arg_int_range(c, 0, 0, 4, &k));
    for (int64_t i = 0; i < 4; i++)
        v[i] = i + 1 == k ? nocopy_make_atom(c, 9999) : nocopy_make_i64(c, i + 1);
    return nocopy_return(c, nocopy_build(c, "{v{vv}v}", v[0], v[1], v[2], v[3]));
}

int f_return_ok(nocopy_call *c)
{   /* (I) */
    int64_t i;
    TRY(nocopy_arg_i64(c, 0, &i));
    return nocopy_return_ok(c, nocopy_make_i64(c, i));
}

int f_return_error(nocopy_call *c)
{   /* (Reason) */
    nocopy_atom a;
    TRY(nocopy_arg_atom(c, 0, &a));
    return nocopy_return_error(c, nocopy_make_atom(c, a));
}

int f_fail_badarg(nocopy_call *c)
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

static const int status_of[] = {
    [A_EBADARG] = NOCOPY_EBADARG, [A_ENOMEM] = NOCOPY_ENOMEM,
    [A_ERANGE] = NOCOPY_ERANGE, [A_ECLOSED] = NOCOPY_ECLOSED,
    [A_EPROTO] = NOCOPY_EPROTO, [A_EOVERLOAD] = NOCOPY_EOVERLOAD,
    [A_ENOTSUP] = NOCOPY_ENOTSUP, [A_EINTERNAL] = NOCOPY_EINTERNAL,
};

int f_fail_status(nocopy_call *c)
{   /* (Status) */
    nocopy_atom a;
    TRY(nocopy_arg_atom(c, 0, &a));
    if (a < A_EBADARG || a > A_EINTERNAL)
        return nocopy_fail_badarg(c, 0, "a status name");
    return status_of[a];
}

/* nocopy_fail with a status (a name, or any integer) and a message of its own. */
int f_fail_with(nocopy_call *c)
{   /* (Status, Text) */
    nocopy_atom a;
    int64_t status;
    nocopy_bytes text;
    if (nocopy_term_type(c, nocopy_arg(c, 0)) == NOCOPY_T_INTEGER) {
        TRY(nocopy_arg_int_range(c, 0, INT32_MIN, INT32_MAX, &status));
    } else {
        TRY(nocopy_arg_atom(c, 0, &a));
        if (a < A_EBADARG || a > A_EINTERNAL)
            return nocopy_fail_badarg(c, 0, "a status name");
        status = status_of[a];
    }
    TRY(nocopy_arg_bytes(c, 1, &text));
    return nocopy_fail(c, (int)status, "%.*s", (int)text.size, (const char *)text.data);
}

int f_fail_positive(nocopy_call *c)
{   /* () */
    (void)c;
    return 7;
}

int f_no_result(nocopy_call *c)
{   /* () */
    (void)c;
    return NOCOPY_OK;
}

int f_return_zero(nocopy_call *c)
{   /* () */
    return nocopy_return(c, 0);
}

/* ---- binary results: the four forms, with the address C wrote or viewed ---- */

int f_buf_new(nocopy_call *c)
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
int f_buf_resize(nocopy_call *c)
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

int f_buf_discard(nocopy_call *c)
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

int f_slice(nocopy_call *c)
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

int f_slice_elem(nocopy_call *c)
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

/* Slices without reading the term as a binary first (as examples/sums does):
 * a term of another type must still be a badarg on its argument. */
int f_slice_unread(nocopy_call *c)
{   /* (T, Off, Len) */
    nocopy_term t = nocopy_arg(c, 0);
    size_t off, len;
    TRY(nocopy_arg_size(c, 1, &off));
    TRY(nocopy_arg_size(c, 2, &len));
    if (nocopy_term_type(c, t) == NOCOPY_T_TUPLE) {
        unsigned n;
        const nocopy_term *e;
        TRY(nocopy_term_tuple_any(c, t, &n, &e));
        if (n > 0)
            t = e[n - 1];
    }
    return nocopy_return(c, nocopy_make_slice(c, t, off, len));
}

/* Negative control of slice/3: the same bytes, copied. */
int f_copy_slice(nocopy_call *c)
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
int f_copy_new(nocopy_call *c)
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

int f_keep_put(nocopy_call *c)
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
int f_keep_put_elem(nocopy_call *c)
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
int f_shared_put(nocopy_call *c)
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
int f_keep_get(nocopy_call *c)
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

int f_keep_get_all(nocopy_call *c)
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

int f_keep_release(nocopy_call *c)
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

int f_kept_stats(nocopy_call *c)
{   /* () */
    return nocopy_return(c, nocopy_build(c, "{ii}", (int64_t)atomic_load(&kept_taken),
                                         (int64_t)atomic_load(&kept_released)));
}
