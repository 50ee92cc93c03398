/* nc_ffi_value.c: C values from Erlang terms and back, for one call of a
 * bound function (nc_ffi_call.c): scalars by their C type's range, structs
 * from tuples of their fields and back, pointers to incomplete structs as
 * handles, and out-buffers handed over as binaries without a copy. Every
 * failure names the parameter (element N, its C spelling) and what was
 * expected, for nocopy_fail. */
#include <float.h>
#include <stdio.h>
#include <string.h>

#include "nc_ffi.h"

/* An out-buffer at least this large with a small slack is shared and
 * sliced instead of resized (nocopy__ffi_hand_over). */
#define SHARE_MIN ((size_t)512 << 10)

int nocopy__ffi_fail_elem(nocopy_call *call, const nc_ffi_param_plan *pp, const char *what)
{
    return nocopy_fail(call, NOCOPY_EBADARG, "element %u (%s): expected %s",
                       pp->erl + 1u, pp->spell, what);
}

int nocopy__ffi_is_null(nocopy_call *call, nocopy_term t)
{
    nocopy_atom a;
    return nocopy_term_type(call, t) == NOCOPY_T_ATOM && nocopy_term_atom(call, t, &a) == 0 &&
           a == A_NULL;
}

/* Reads scalar `s` from term t into `at`; fails naming the parameter. */
int nocopy__ffi_read_scalar(nocopy_call *call, nocopy_term t, nc_ffi_scalar s, void *at,
                            const nc_ffi_param_plan *pp)
{
    char what[64];
    if (s.kind == NC_FFI_BOOL) {
        int b;
        if (nocopy_term_bool(call, t, &b))
            return nocopy__ffi_fail_elem(call, pp, "true or false");
        *(_Bool *)at = b != 0;
        return 0;
    }
    if (s.kind == NC_FFI_FLOAT || s.kind == NC_FFI_DOUBLE) {
        double v;
        int64_t iv;
        if (nocopy_term_type(call, t) == NOCOPY_T_INTEGER) {
            if (nocopy_term_i64(call, t, &iv))
                return nocopy__ffi_fail_elem(call, pp, "a number within a 64-bit integer's range");
            v = (double)iv;
        } else if (nocopy_term_double(call, t, &v)) {
            return nocopy__ffi_fail_elem(call, pp, "a number");
        }
        if (s.kind == NC_FFI_DOUBLE) {
            *(double *)at = v;
        } else if (v > FLT_MAX || v < -FLT_MAX) {
            return nocopy__ffi_fail_elem(call, pp, "a number within float's range");
        } else {
            *(float *)at = (float)v;
        }
        return 0;
    }
    unsigned bits = 8u * s.size;
    if (s.kind == NC_FFI_UINT) {
        uint64_t v;
        uint64_t max = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
        if (nocopy_term_u64(call, t, &v) || v > max) {
            snprintf(what, sizeof what, "an integer in 0..%llu", (unsigned long long)max);
            return nocopy__ffi_fail_elem(call, pp, what);
        }
        nocopy__ffi_store_int(at, s.size, v);
    } else {
        int64_t v;
        int64_t max = bits == 64 ? INT64_MAX : (INT64_C(1) << (bits - 1)) - 1;
        int64_t min = -max - 1;
        if (nocopy_term_i64(call, t, &v) || v < min || v > max) {
            snprintf(what, sizeof what, "an integer in %lld..%lld", (long long)min, (long long)max);
            return nocopy__ffi_fail_elem(call, pp, what);
        }
        nocopy__ffi_store_int(at, s.size, (uint64_t)v);
    }
    return 0;
}

nocopy_value nocopy__ffi_make_scalar(nocopy_call *call, nc_ffi_scalar s, const void *at)
{
    switch (s.kind) {
    case NC_FFI_BOOL: return nocopy_make_bool(call, *(const _Bool *)at);
    case NC_FFI_FLOAT: return nocopy_make_double(call, *(const float *)at);
    case NC_FFI_DOUBLE: return nocopy_make_double(call, *(const double *)at);
    case NC_FFI_SINT:
        switch (s.size) {
        case 1: return nocopy_make_i64(call, *(const int8_t *)at);
        case 2: return nocopy_make_i64(call, *(const int16_t *)at);
        case 4: return nocopy_make_i64(call, *(const int32_t *)at);
        default: return nocopy_make_i64(call, *(const int64_t *)at);
        }
    default:
        switch (s.size) {
        case 1: return nocopy_make_u64(call, *(const uint8_t *)at);
        case 2: return nocopy_make_u64(call, *(const uint16_t *)at);
        case 4: return nocopy_make_u64(call, *(const uint32_t *)at);
        default: return nocopy_make_u64(call, *(const uint64_t *)at);
        }
    }
}

/* A struct from a tuple of its fields, in order (nested structs as tuples;
 * pointer fields take only null). */
int nocopy__ffi_read_struct(nocopy_call *call, const nc_ffi_fn *fn, int32_t si, nocopy_term t,
                            unsigned char *at, const nc_ffi_param_plan *pp, unsigned depth)
{
    const nc_ffi_struct_plan *sp = &fn->structs[si];
    const nocopy_term *elems;
    unsigned arity;
    char what[64];
    if (nocopy_term_tuple_any(call, t, &arity, &elems) || arity != sp->nfields) {
        snprintf(what, sizeof what, "a%s struct: a map of its %u fields or a tuple of them",
                 depth ? " nested" : "", sp->nfields);
        return nocopy__ffi_fail_elem(call, pp, what);
    }
    for (unsigned i = 0; i < sp->nfields; i++) {
        unsigned char *f = at + sp->offsets[i];
        int rc;
        if (sp->field_ptr[i]) {
            if (!nocopy__ffi_is_null(call, elems[i]))
                return nocopy__ffi_fail_elem(call, pp, "null in a pointer field");
            *(void **)f = NULL;
            rc = 0;
        } else if (sp->field_struct[i] >= 0) {
            rc = nocopy__ffi_read_struct(call, fn, sp->field_struct[i], elems[i], f, pp, depth + 1);
        } else {
            rc = nocopy__ffi_read_scalar(call, elems[i], sp->field_scalar[i], f, pp);
        }
        if (rc)
            return rc;
    }
    return 0;
}

nocopy_value nocopy__ffi_make_struct(nocopy_call *call, const nc_ffi_fn *fn, int32_t si,
                                     const unsigned char *at)
{
    const nc_ffi_struct_plan *sp = &fn->structs[si];
    nocopy_value v[NC_FFI_MAX_FIELDS];
    for (unsigned i = 0; i < sp->nfields; i++) {
        const unsigned char *f = at + sp->offsets[i];
        v[i] = sp->field_ptr[i] ? nocopy_make_u64(call, (uintptr_t) * (void *const *)f)
             : sp->field_struct[i] >= 0 ? nocopy__ffi_make_struct(call, fn, sp->field_struct[i], f)
             : nocopy__ffi_make_scalar(call, sp->field_scalar[i], f);
    }
    return nocopy_make_tuple(call, sp->nfields, v);
}

/* A returned pointer to an incomplete struct: null, or a handle of its
 * type, which runs the function's destructor (if it has one) on it exactly
 * once. If the handle cannot be made, the destructor runs now: nothing leaks. */
nocopy_value nocopy__ffi_make_ptr_handle(nocopy_call *call, const nc_ffi_fn *fn, void *ptr)
{
    if (!ptr)
        return nocopy_make_atom(call, A_NULL);
    nc_ffi_ptr *p = nocopy_handle_new(call, &nocopy__ffi_ptr_type);
    if (!p) {
        if (fn->dtor)
            nocopy__ffi_run_dtor(fn->dtor, ptr);
        return 0;
    }
    atomic_fetch_add(&nocopy__ffi_live_ptrs, 1);    /* its destructor takes it off */
    p->ptr = ptr;
    memcpy(p->tname, fn->ret_tname, sizeof p->tname);
    if (fn->dtor) {
        nocopy_handle_keep(fn->dtor);     /* released by the pointer's destructor */
        p->dtor = fn->dtor;
    }
    return nocopy_make_handle(call, p);
}

/* The first `used` bytes of out-buffer `buf` (HANDED OVER here) as a binary,
 * without copying them (see the file's comment). */
nocopy_value nocopy__ffi_hand_over(nocopy_call *call, nocopy_buf *buf, size_t used)
{
    size_t slack = buf->size - used;
    if (slack > 0 && buf->size >= SHARE_MIN && slack < buf->size / 8) {
        nocopy_kept *k = nocopy_buf_share(call, buf);
        if (!k)
            return 0;
        nocopy_value v = nocopy_make_kept(call, k, 0, used);   /* holds its own reference */
        nocopy_kept_release(k);
        return v;
    }
    if (slack > 0 && nocopy_buf_resize(buf, used) != NOCOPY_OK) {
        nocopy_buf_free(buf);
        return 0;
    }
    return nocopy_make_buf(call, buf);
}
