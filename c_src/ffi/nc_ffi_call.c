/* nc_ffi_call.c: one call of a bound function, following its plan
 * (nc_ffi_plan.c): read the Erlang values into the call's scratch, allocate
 * the out-buffers, call through libffi, build the result (values to and from
 * terms: nc_ffi_value.c).
 *
 * What is copied and what is not:
 * - a binary for `const T *` is passed by the address nocopy_term_bytes gives
 *   (no copy); C gets a const pointer and must not write through it;
 * - a `const char *` binary that ends in a NUL byte likewise; one that does
 *   not is copied once, with a NUL added, into memory freed after the call;
 * - a `const T *` binary whose address is not aligned for T is copied when
 *   it has at most NC_FFI_ALIGN_COPY_MAX bytes (4096), refused above;
 * - an out-buffer is allocated by nocopy (nocopy_buf_alloc), zeroed (C may not
 *   write all of it, and Erlang must not see stale memory), written by C and
 *   handed over as the result binary: no copy. When only a part is returned
 *   (a `len` option), the cut follows nc_zlib's rule: a large slack is
 *   released with nocopy_buf_resize, a small one stays behind a slice;
 * - a returned `char *` is copied (C keeps ownership of its string);
 * - scalars and structs are values, copied by nature.
 * C never gets a writable pointer into an Erlang binary. A length bound to a
 * buffer ({bound, Buf, Len}) is checked against the buffer's elements before
 * C runs, so C is not told to read or write past it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nc_ffi.h"

#define STACK_SCRATCH 1024
/* Misaligned `const T *` binaries up to this size are copied (see below). */
#define NC_FFI_ALIGN_COPY_MAX 4096
#define NC_FFI_LIKELY(x) __builtin_expect(!!(x), 1)

/* The ABI fast path (nc_ffi.h, NC_FFI_DIRECT_ABI): each argument widened to
 * 64 bits as the ABI's callers extend narrow integers (sign or zero, by its
 * type), then a call through a pointer of six 64-bit integer parameters. The
 * result is stored as libffi stores one (an ffi_arg), and read back through
 * the same narrowing. */
typedef uint64_t (*direct_fn)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);

static uint64_t widen(const nc_ffi_param_plan *pp, const void *at)
{
    if (pp->role != R_SCALAR)
        return (uint64_t)(uintptr_t) * (void *const *)at;
    if (pp->scalar.kind == NC_FFI_BOOL)
        return *(const _Bool *)at;
    if (pp->scalar.kind == NC_FFI_SINT)
        return (uint64_t)nocopy__ffi_scalar_int(pp->scalar, at);
    switch (pp->scalar.size) {
    case 1: return *(const uint8_t *)at;
    case 2: return *(const uint16_t *)at;
    case 4: return *(const uint32_t *)at;
    default: return *(const uint64_t *)at;
    }
}

static void call_direct(const nc_ffi_fn *fn, void *const *avalues, void *ret)
{
    uint64_t a[NC_FFI_DIRECT_MAX] = {0};
    for (unsigned i = 0; i < fn->nparams; i++)
        a[i] = widen(&fn->params[i], avalues[i]);
    direct_fn f;
    memcpy(&f, &fn->sym, sizeof f);      /* a function pointer of another type */
    uint64_t r = f(a[0], a[1], a[2], a[3], a[4], a[5]);
    ffi_arg w = (ffi_arg)r;
    memcpy(ret, &w, sizeof w);
}

/* A bool, or an integer that failed read_int_arg's check: out of line, so
 * the hot path's frame stays small. */
static NC_FFI_OUTLINE int read_int_slow(nocopy_call *call, nocopy_term t,
                                         const nc_ffi_param_plan *pp, uint64_t *out)
{
    _Alignas(8) unsigned char v[8];
    int rc = nocopy__ffi_read_scalar(call, t, pp->scalar, v, pp);
    if (rc == 0)
        *out = widen(pp, v);
    return rc;
}

/* One value of the shortest path: an integer (or bool) read and checked
 * against its type's range in one step, widened to 64 bits as the ABI's
 * callers widen it (sign or zero, by its type). Any failure goes back through
 * read_scalar, which says what was expected. */
static inline int read_int_arg(nocopy_call *call, nocopy_term t, const nc_ffi_param_plan *pp,
                               uint64_t *out)
{
    nc_ffi_scalar s = pp->scalar;
    unsigned shift = 64u - 8u * s.size;
    if (s.kind == NC_FFI_SINT) {
        int64_t v = 0;
        /* in range: v survives narrowing to its size and sign-extending back */
        if (NC_FFI_LIKELY(nocopy_term_i64(call, t, &v) == 0 &&
                          (s.size == 8 || (int64_t)((uint64_t)v << shift) >> shift == v))) {
            *out = (uint64_t)v;
            return 0;
        }
    } else if (s.kind == NC_FFI_UINT) {
        uint64_t v = 0;
        if (NC_FFI_LIKELY(nocopy_term_u64(call, t, &v) == 0 && (s.size == 8 || v >> (64u - shift) == 0))) {
            *out = v;
            return 0;
        }
    }
    return read_int_slow(call, t, pp, out);
}

/* An integer result of the shortest path, narrowed to its type as C returns
 * it (the upper bits of the register are not defined). */
static nocopy_value make_int_result(nocopy_call *call, nc_ffi_scalar s, uint64_t r)
{
    unsigned shift = 64u - 8u * s.size;
    switch (s.kind) {
    case NC_FFI_BOOL: return nocopy_make_bool(call, (uint8_t)r != 0);
    case NC_FFI_SINT: return nocopy_make_i64(call, (int64_t)(r << shift) >> shift);
    default: return nocopy_make_u64(call, s.size == 8 ? r : r & ((UINT64_C(1) << (64u - shift)) - 1));
    }
}

/* The shortest path: integers (and bools) in, an integer, a bool or nothing
 * out, through the ABI fast path, with no scratch and no roles: the values
 * are elems[0..] (a list's), or, with elems NULL, the call's own arguments
 * from `first` on. The same checks and messages as the general path. */
static int call_ints(nocopy_call *call, const nc_ffi_fn *fn, const nocopy_term *elems,
                     unsigned first)
{
    uint64_t a[NC_FFI_DIRECT_MAX] = {0};
    int rc;
    for (unsigned i = 0; i < fn->nparams; i++) {
        nocopy_term t = elems ? elems[i] : nocopy_arg(call, first + i);
        if ((rc = read_int_arg(call, t, &fn->params[i], &a[i])))
            return rc;
    }
    direct_fn f;
    memcpy(&f, &fn->sym, sizeof f);
    uint64_t r = f(a[0], a[1], a[2], a[3], a[4], a[5]);
    if (fn->ret_void)
        return nocopy_return(call, nocopy_make_atom(call, NOCOPY_ATOM_OK));
    return nocopy_return(call, make_int_result(call, fn->ret, r));
}

typedef struct call_ctx {
    const nc_ffi_fn *fn;
    const unsigned char *scratch;
} call_ctx;

static int64_t param_value(const void *vctx, unsigned i)
{
    const call_ctx *c = vctx;
    const nc_ffi_param_plan *pp = &c->fn->params[i];
    int indirect = pp->role == R_INOUT_SCALAR || pp->role == R_OUT_SCALAR;
    return nocopy__ffi_scalar_int(pp->scalar, c->scratch + (indirect ? pp->slot2 : pp->slot));
}

NC_FFI_OUTLINE static int nocopy__ffi_call_values(nocopy_call *call, const nc_ffi_fn *fn,
                                   const nocopy_term *elems, unsigned index);
static int fail_count(nocopy_call *call, const nc_ffi_fn *fn, unsigned index);
static int call_args_values(nocopy_call *call, const nc_ffi_fn *fn, unsigned first);

/* Each {bound, Buf, Len} of const buffers (outs == 0: before out-buffers are
 * sized, which may use a filled Len) or of out-buffers (outs == 1: once they
 * are allocated): Len in 0..Buf's elements, or, filled, written as that (if
 * its type can hold it). Fails naming Len (Buf for a filled one). */
static int check_bounds(nocopy_call *call, const nc_ffi_fn *fn, unsigned char *scratch,
                        const uint64_t *elems_of, int outs)
{
    call_ctx cctx = {.fn = fn, .scratch = scratch};
    char what[200];
    for (unsigned k = 0; k < fn->nbounds; k++) {
        const nc_ffi_param_plan *bp = &fn->params[fn->bounds[k].buf];
        const nc_ffi_param_plan *lp = &fn->params[fn->bounds[k].len];
        uint64_t n = elems_of[fn->bounds[k].buf];
        if ((bp->role == R_OUT_BUF) != outs)
            continue;
        if (fn->bounds[k].fill) {
            unsigned bits = 8u * lp->scalar.size - (lp->scalar.kind == NC_FFI_SINT);
            if (bits < 64 && n > (UINT64_C(1) << bits) - 1) {
                snprintf(what, sizeof what, "a buffer of at most %llu elements (its size is "
                         "given as %s)", (unsigned long long)((UINT64_C(1) << bits) - 1),
                         lp->spell);
                return nocopy__ffi_fail_elem(call, bp, what);
            }
            nocopy__ffi_store_int(scratch + lp->slot, lp->scalar.size, n);
            continue;
        }
        int64_t v = param_value(&cctx, fn->bounds[k].len);
        if (v < 0 || (uint64_t)v > n) {
            snprintf(what, sizeof what, "an integer in 0..%llu (the size of %s%s%s)",
                     (unsigned long long)n, outs ? "out-buffer " : "", bp->spell,
                     outs ? "" : bp->scalar.size == 1 ? ", in bytes" : ", in elements");
            return nocopy__ffi_fail_elem(call, lp, what);
        }
    }
    return 0;
}

int nocopy__ffi_call(nocopy_call *call, const nc_ffi_fn *fn, unsigned index)
{
    size_t len;
    const nocopy_term *elems;
    int rc;
    if ((rc = nocopy_term_list(call, nocopy_arg(call, index), &len, &elems)) != 0)
        return rc;
    if (len != fn->nerl)
        return fail_count(call, fn, index);
    if (fn->ints_only)
        return call_ints(call, fn, elems, 0);
    return nocopy__ffi_call_values(call, fn, elems, index);
}

/* A list of the wrong length (kept out of the hot path: its buffer). */
static NC_FFI_OUTLINE int fail_count(nocopy_call *call, const nc_ffi_fn *fn, unsigned index)
{
    char what[300];
    snprintf(what, sizeof what, "a list of %u values (%s) for %s", fn->nerl, fn->names,
             fn->name);
    return nocopy_fail_badarg(call, index, what);
}

int nocopy__ffi_call_args(nocopy_call *call, const nc_ffi_fn *fn, unsigned first)
{
    unsigned n = nocopy_arity(call) - first;
    if (n != fn->nerl)
        return nocopy_fail(call, NOCOPY_EBADARG, "expected a list of %u values (%s) for %s",
                           fn->nerl, fn->names, fn->name);
    if (fn->ints_only)
        return call_ints(call, fn, NULL, first);
    return call_args_values(call, fn, first);
}

/* The general path with the call's own arguments (kept out of line: its
 * array would make the shortest path's frame larger). */
static NC_FFI_OUTLINE int call_args_values(nocopy_call *call, const nc_ffi_fn *fn,
                                            unsigned first)
{
    nocopy_term elems[NC_FFI_MAX_PARAMS * 2];
    unsigned n = nocopy_arity(call) - first;
    for (unsigned i = 0; i < n; i++)
        elems[i] = nocopy_arg(call, first + i);
    return nocopy__ffi_call_values(call, fn, elems, first);
}

NC_FFI_OUTLINE static int nocopy__ffi_call_values(nocopy_call *call, const nc_ffi_fn *fn,
                                   const nocopy_term *elems, unsigned index)
{
    _Alignas(16) unsigned char stack_scratch[STACK_SCRATCH];
    unsigned char *scratch = stack_scratch;
    void *avalues[NC_FFI_MAX_PARAMS * 2];
    nocopy_buf *bufs[NC_FFI_MAX_PARAMS * 2];
    char *copies[NC_FFI_MAX_PARAMS * 2];
    unsigned nbufs = 0, ncopies = 0;
    size_t consumed = 0;
    /* Per parameter: a const buffer's size in elements (null: 0), an
     * out-buffer's allocated elements; read by the bounds. */
    uint64_t elems_of[NC_FFI_MAX_PARAMS * 2];
    int rc;

    if (fn->scratch > STACK_SCRATCH && !(scratch = calloc(1, fn->scratch)))
        return NOCOPY_ENOMEM;

    for (unsigned i = 0; i < fn->nparams; i++) {
        const nc_ffi_param_plan *pp = &fn->params[i];
        unsigned char *slot = scratch + pp->slot;
        /* Out-buffers and out-scalars have no Erlang value (and the list may be empty). */
        int no_value = pp->role == R_OUT_BUF || pp->role == R_OUT_SCALAR ||
                       pp->role == R_OUT_STRUCT || pp->filled;
        nocopy_term t = no_value ? nocopy_arg(call, index) : elems[pp->erl];
        nocopy_bytes b = {0};     /* null: no bytes */
        avalues[i] = slot;
        switch (pp->role) {
        case R_SCALAR:
            /* a filled one is written with the bounds, below */
            rc = pp->filled ? 0 : nocopy__ffi_read_scalar(call, t, pp->scalar, slot, pp);
            break;
        case R_STRUCT:
            rc = nocopy__ffi_read_struct(call, fn, pp->strct, t, slot, pp, 0);
            break;
        case R_CONST_BUF:
        case R_CSTRING:
            if (nocopy__ffi_is_null(call, t)) {
                *(const void **)slot = NULL;
                rc = 0;
            } else if (nocopy_term_bytes(call, t, &b)) {
                rc = nocopy__ffi_fail_elem(call, pp, "a binary or null");
            } else if (pp->role == R_CONST_BUF && ((uintptr_t)b.data % pp->align) != 0) {
                /* C may not read a T at an address not aligned for T. A small
                 * binary is copied to aligned memory (the driver packs small
                 * binaries into its request at any offset); a large one, the
                 * copy a caller would not expect, is refused. */
                if (b.size > NC_FFI_ALIGN_COPY_MAX) {
                    char what[96];
                    snprintf(what, sizeof what, "a binary aligned to %u bytes (it is a "
                             "sub-binary at an odd offset?)", pp->align);
                    rc = nocopy__ffi_fail_elem(call, pp, what);
                    break;
                }
                char *c = malloc(b.size ? b.size : 1);    /* malloc aligns for any T */
                if (!c) {
                    rc = NOCOPY_ENOMEM;
                    break;
                }
                memcpy(c, b.data, b.size);
                copies[ncopies++] = c;
                *(const void **)slot = c;
                rc = 0;
            } else if (pp->role == R_CSTRING && (b.size == 0 || b.data[b.size - 1] != 0)) {
                /* No NUL at the end: a copy with one (documented). */
                char *c = malloc(b.size + 1);
                if (!c) {
                    rc = NOCOPY_ENOMEM;
                    break;
                }
                memcpy(c, b.data, b.size);
                c[b.size] = '\0';
                copies[ncopies++] = c;
                *(const void **)slot = c;
                rc = 0;
            } else {
                *(const void **)slot = b.data;    /* BORROWED for the call: no copy */
                consumed += b.size;
                rc = 0;
            }
            break;
        case R_INOUT_SCALAR:
            rc = nocopy__ffi_read_scalar(call, t, pp->scalar, scratch + pp->slot2, pp);
            *(void **)slot = scratch + pp->slot2;
            break;
        case R_OUT_SCALAR:
            memset(scratch + pp->slot2, 0, 8);
            *(void **)slot = scratch + pp->slot2;
            rc = 0;
            break;
        case R_HANDLE:
            rc = 0;
            if (nocopy__ffi_is_null(call, t)) {
                *(void **)slot = NULL;
            } else {
                nc_ffi_ptr *p;            /* BORROWED: not destroyed while this call runs */
                if (nocopy_term_handle(call, t, &nocopy__ffi_ptr_type, (void **)&p) ||
                    strcmp(p->tname, pp->tname) != 0) {
                    char what[NC_FFI_TYPE_NAME + 40];
                    snprintf(what, sizeof what, "a %s handle or null", pp->tname);
                    rc = nocopy__ffi_fail_elem(call, pp, what);
                } else {
                    *(void **)slot = p->ptr;
                }
            }
            break;
        case R_STRUCT_IN:
        case R_INOUT_STRUCT:
            /* a tuple, copied into the scratch; a const one may be null */
            if (pp->role == R_STRUCT_IN && nocopy__ffi_is_null(call, t)) {
                *(void **)slot = NULL;
                rc = 0;
                break;
            }
            rc = nocopy__ffi_read_struct(call, fn, pp->strct, t, scratch + pp->slot2, pp, 0);
            *(void **)slot = scratch + pp->slot2;
            break;
        case R_OUT_STRUCT:
            memset(scratch + pp->slot2, 0, fn->structs[pp->strct].type.size);
            *(void **)slot = scratch + pp->slot2;
            rc = 0;
            break;
        case R_NULL_ONLY:
            rc = nocopy__ffi_is_null(call, t) ? 0 : nocopy__ffi_fail_elem(call, pp, "null (only null is accepted here)");
            *(void **)slot = NULL;
            break;
        default:  /* R_OUT_BUF: below, once every value is read */
            rc = 0;
            break;
        }
        if (rc)
            goto done;
        /* its elements, for the bounds (a partial last one is not one) */
        if (pp->role == R_CONST_BUF || pp->role == R_CSTRING)
            elems_of[i] = b.size / pp->scalar.size;
    }
    if (fn->nbounds && (rc = check_bounds(call, fn, scratch, elems_of, 0)))
        goto done;

    /* Out-buffers, sized from the values just read (filled ones included). */
    call_ctx cctx = {.fn = fn, .scratch = scratch};
    for (unsigned i = 0; fn->has_outs && i < fn->nparams; i++) {
        const nc_ffi_param_plan *pp = &fn->params[i];
        if (pp->role != R_OUT_BUF)
            continue;
        int64_t n;
        if (nocopy__ffi_size_eval(pp->size, param_value, &cctx, &n) != 0 ||
            (uint64_t)n > SIZE_MAX / pp->scalar.size) {
            rc = nocopy_fail(call, NOCOPY_EBADARG,
                             "the size of out-buffer %s is negative, overflows or divides by zero",
                             pp->spell);
            goto done;
        }
        nocopy_buf *buf = nocopy_buf_alloc(call, (size_t)n * pp->scalar.size);
        if (!buf) {
            rc = NOCOPY_ENOMEM;
            goto done;
        }
        memset(buf->data, 0, buf->size);
        bufs[nbufs++] = buf;
        *(void **)(scratch + pp->slot) = buf->data;
        elems_of[i] = (uint64_t)n;
    }
    if (fn->nbounds && (rc = check_bounds(call, fn, scratch, elems_of, 1)))
        goto done;

    int err = 0;
    if (fn->errno_capture)
        errno = 0;
    if (fn->direct)
        call_direct(fn, avalues, scratch + fn->ret_slot);
    else
        ffi_call((ffi_cif *)&fn->cif, fn->sym, scratch + fn->ret_slot, avalues);
    if (fn->errno_capture)
        err = errno;
    if (consumed)
        nocopy_consume(call, consumed);

    /* The result: Ret, or {Ret, Out..., [Errno]}. */
    nocopy_value vals[NC_FFI_MAX_PARAMS * 2 + 2];
    unsigned nv = 0;
    const unsigned char *rs = scratch + fn->ret_slot;
    if (fn->ret_void) {
        vals[nv++] = nocopy_make_atom(call, NOCOPY_ATOM_OK);
    } else if (fn->ret_role == R_STRUCT) {
        vals[nv++] = nocopy__ffi_make_struct(call, fn, fn->ret_struct, rs);
    } else if (fn->ret_role == R_CSTRING) {
        const char *s = *(const char *const *)rs;
        vals[nv++] = s ? nocopy_make_copy(call, s, strlen(s)) : nocopy_make_atom(call, A_NULL);
    } else if (fn->ret_role == R_HANDLE) {
        vals[nv++] = nocopy__ffi_make_ptr_handle(call, fn, *(void *const *)rs);
    } else if (fn->ret_role == R_STRUCT_IN) {
        const unsigned char *p = *(const unsigned char *const *)rs;
        vals[nv++] = p ? nocopy__ffi_make_struct(call, fn, fn->ret_struct, p) : nocopy_make_atom(call, A_NULL);
    } else if (fn->ret_role == R_NULL_ONLY) {
        vals[nv++] = nocopy_make_u64(call, (uintptr_t) * (void *const *)rs);
    } else if (fn->ret.kind == NC_FFI_SINT || fn->ret.kind == NC_FFI_UINT ||
               fn->ret.kind == NC_FFI_BOOL) {
        /* libffi returns integers widened to ffi_arg. */
        ffi_arg w = *(const ffi_arg *)rs;
        _Alignas(8) unsigned char narrow[8];
        nocopy__ffi_store_int(narrow, fn->ret.kind == NC_FFI_BOOL ? 1 : fn->ret.size, (uint64_t)w);
        vals[nv++] = nocopy__ffi_make_scalar(call, fn->ret, narrow);
    } else {
        vals[nv++] = nocopy__ffi_make_scalar(call, fn->ret, rs);
    }
    unsigned b = 0;
    for (unsigned i = 0; fn->has_outs && i < fn->nparams; i++) {
        const nc_ffi_param_plan *pp = &fn->params[i];
        if (pp->role == R_OUT_SCALAR || pp->role == R_INOUT_SCALAR) {
            vals[nv++] = nocopy__ffi_make_scalar(call, pp->scalar, scratch + pp->slot2);
        } else if (pp->role == R_OUT_STRUCT || pp->role == R_INOUT_STRUCT) {
            vals[nv++] = nocopy__ffi_make_struct(call, fn, pp->strct, scratch + pp->slot2);
        } else if (pp->role == R_OUT_BUF) {
            nocopy_buf *buf = bufs[b];
            bufs[b++] = NULL;
            int64_t used = (int64_t)buf->size;
            if (pp->len == L_RETURN) {
                _Alignas(8) unsigned char narrow[8];
                nocopy__ffi_store_int(narrow, fn->ret.size, (uint64_t) * (const ffi_arg *)rs);
                int64_t count = nocopy__ffi_scalar_int(fn->ret, narrow);   /* elements, as C counts */
                used = count > (int64_t)(buf->size / pp->scalar.size) ? (int64_t)buf->size
                                                                      : count * pp->scalar.size;
            } else if (pp->len == L_NUL) {
                used = (int64_t)strnlen((const char *)buf->data, buf->size);
            } else if (pp->len == L_PARAM) {
                int64_t count = param_value(&cctx, pp->len_param);
                used = count > (int64_t)(buf->size / pp->scalar.size) ? (int64_t)buf->size
                                                                      : count * pp->scalar.size;
            }
            if (used < 0)
                used = 0;
            if ((uint64_t)used > buf->size)
                used = (int64_t)buf->size;
            vals[nv++] = nocopy__ffi_hand_over(call, buf, (size_t)used);   /* HANDED OVER */
        }
    }
    if (fn->errno_capture)
        vals[nv++] = nocopy_make_i64(call, err);
    rc = nocopy_return(call, nv == 1 ? vals[0] : nocopy_make_tuple(call, nv, vals));
    nbufs = 0;
done:
    for (unsigned i = 0; i < nbufs; i++)
        nocopy_buf_free(bufs[i]);
    for (unsigned i = 0; i < ncopies; i++)
        free(copies[i]);
    if (scratch != stack_scratch)
        free(scratch);
    return rc;
}
