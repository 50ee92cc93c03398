/* nc_ffi_info.c: a bound function described for Erlang: its name, the
 * Erlang types of its parameters, outputs and result (the specs of the
 * modules nocopy_ffi:module/3 generates), and its structs' fields (shapes,
 * for maps). nc_ffi_module.c's table names these two functions. */
#include <stdio.h>
#include <string.h>

#include "nc_ffi.h"

/* The Erlang type of a scalar, for the specs of nocopy_ffi:module/3. */
static void scalar_type(nc_ffi_scalar s, char *buf, size_t cap)
{
    if (s.kind == NC_FFI_BOOL)
        snprintf(buf, cap, "boolean()");
    else if (s.kind == NC_FFI_FLOAT || s.kind == NC_FFI_DOUBLE)
        snprintf(buf, cap, "number()");
    else if (s.kind == NC_FFI_UINT)
        snprintf(buf, cap, "0..%llu", s.size == 8 ? (unsigned long long)UINT64_MAX
                                                 : (1ULL << (8 * s.size)) - 1);
    else
        snprintf(buf, cap, "%lld..%lld", s.size == 8 ? (long long)INT64_MIN : -(1LL << (8 * s.size - 1)),
                 s.size == 8 ? (long long)INT64_MAX : (1LL << (8 * s.size - 1)) - 1);
}

static void param_type(const nc_ffi_param_plan *pp, int as_out, char *buf, size_t cap)
{
    switch (pp->role) {
    case R_SCALAR: case R_OUT_SCALAR: case R_INOUT_SCALAR: scalar_type(pp->scalar, buf, cap); break;
    case R_STRUCT: case R_OUT_STRUCT: case R_INOUT_STRUCT: snprintf(buf, cap, "tuple()"); break;
    case R_STRUCT_IN: snprintf(buf, cap, "tuple() | null"); break;
    case R_HANDLE: snprintf(buf, cap, "nocopy:handle() | null"); break;
    case R_CONST_BUF: case R_CSTRING: snprintf(buf, cap, "binary() | null"); break;
    case R_OUT_BUF: snprintf(buf, cap, "binary()"); break;
    default: snprintf(buf, cap, as_out ? "term()" : "null"); break;
    }
}

static nocopy_value str(nocopy_call *call, const char *s)
{
    return nocopy_make_copy(call, s, strlen(s));
}

/* A struct's shape for nocopy_ffi's maps: [{Field, Shape}], Shape `none`
 * for a scalar or pointer field; `none` for no struct (si < 0). */
static nocopy_value shape(nocopy_call *call, const nc_ffi_fn *fn, int32_t si)
{
    if (si < 0)
        return nocopy_make_atom(call, NOCOPY_ATOM_UNDEFINED);
    const nc_ffi_struct_plan *sp = &fn->structs[si];
    nocopy_value f[NC_FFI_MAX_FIELDS];
    for (unsigned i = 0; i < sp->nfields; i++) {
        nocopy_value kv[2] = {str(call, sp->field_names[i]),
                              shape(call, fn, sp->field_ptr[i] ? -1 : sp->field_struct[i])};
        f[i] = nocopy_make_tuple(call, 2, kv);
    }
    return nocopy_make_list(call, sp->nfields, f);
}

static int has_struct(int role)
{
    return role == R_STRUCT || role == R_STRUCT_IN || role == R_OUT_STRUCT ||
           role == R_INOUT_STRUCT;
}

int nocopy__ffi_shapes(nocopy_call *call)
{   /* (Fn) -> {RetShape, [InShape], [OutShape]} */
    void *obj;
    int rc;
    if ((rc = nocopy_arg_handle(call, 0, &nocopy__ffi_fn_type, &obj)))
        return rc;
    const nc_ffi_fn *fn = nocopy__ffi_fn_of(obj);
    nocopy_value ins[NC_FFI_MAX_PARAMS * 2], outs[NC_FFI_MAX_PARAMS * 2];
    unsigned nin = 0, nout = 0;
    for (unsigned i = 0; i < fn->nparams; i++) {
        const nc_ffi_param_plan *pp = &fn->params[i];
        int32_t si = has_struct(pp->role) ? pp->strct : -1;
        if (pp->role != R_OUT_BUF && pp->role != R_OUT_SCALAR && pp->role != R_OUT_STRUCT &&
            !pp->filled)
            ins[nin++] = shape(call, fn, si);
        if (pp->role == R_OUT_BUF || pp->role == R_OUT_SCALAR || pp->role == R_INOUT_SCALAR ||
            pp->role == R_OUT_STRUCT || pp->role == R_INOUT_STRUCT)
            outs[nout++] = shape(call, fn, si);
    }
    nocopy_value v[3] = {shape(call, fn, fn->ret_struct), nocopy_make_list(call, nin, ins),
                         nocopy_make_list(call, nout, outs)};
    return nocopy_return(call, nocopy_make_tuple(call, 3, v));
}

int nocopy__ffi_info(nocopy_call *call)
{   /* (Fn) */
    void *fo;
    int rc;
    if ((rc = nocopy_arg_handle(call, 0, &nocopy__ffi_fn_type, &fo)))
        return rc;
    const nc_ffi_fn *fn = nocopy__ffi_fn_of(fo);
    nocopy_value ins[NC_FFI_MAX_PARAMS * 2], outs[NC_FFI_MAX_PARAMS * 2];
    unsigned nin = 0, nout = 0;
    char ty[64];
    for (unsigned i = 0; i < fn->nparams; i++) {
        const nc_ffi_param_plan *pp = &fn->params[i];
        if (pp->role != R_OUT_BUF && pp->role != R_OUT_SCALAR && pp->role != R_OUT_STRUCT &&
            !pp->filled) {
            param_type(pp, 0, ty, sizeof ty);
            nocopy_value t[3] = {str(call, pp->pname), str(call, pp->spell), str(call, ty)};
            ins[nin++] = nocopy_make_tuple(call, 3, t);
        }
        if (pp->role == R_OUT_BUF || pp->role == R_OUT_SCALAR || pp->role == R_INOUT_SCALAR ||
            pp->role == R_OUT_STRUCT || pp->role == R_INOUT_STRUCT) {
            param_type(pp, 1, ty, sizeof ty);
            outs[nout++] = str(call, ty);
        }
    }
    if (fn->ret_void)
        snprintf(ty, sizeof ty, "ok");
    else if (fn->ret_role == R_STRUCT)
        snprintf(ty, sizeof ty, "tuple()");
    else if (fn->ret_role == R_CSTRING)
        snprintf(ty, sizeof ty, "binary() | null");
    else if (fn->ret_role == R_NULL_ONLY)
        snprintf(ty, sizeof ty, "non_neg_integer()");
    else if (fn->ret_role == R_HANDLE)
        snprintf(ty, sizeof ty, "nocopy:handle() | null");
    else if (fn->ret_role == R_STRUCT_IN)
        snprintf(ty, sizeof ty, "tuple() | null");
    else
        scalar_type(fn->ret, ty, sizeof ty);
    nocopy_value v[5] = {str(call, fn->name), str(call, ty), nocopy_make_list(call, nin, ins),
                         nocopy_make_list(call, nout, outs), nocopy_make_bool(call, fn->errno_capture)};
    return nocopy_return(call, nocopy_make_tuple(call, 5, v));
}
