/* nc_ffi_plan.c: binding, done once per function: from a parsed prototype
 * and the bind's options to a plan (how each parameter crosses, where its
 * value lives in a call's scratch) and a prepared libffi call interface. A
 * call (nc_ffi_call.c) then follows the plan with no lookup and no parsing.
 *
 * How a parameter crosses, by its C type (nc_ffi.h's roles):
 *   integer, enum, bool, float, double        an Erlang number (or boolean)
 *   struct S                                  a tuple of its fields
 *   const T *  (T a scalar or void)           a binary, by address, or null
 *   const char * (plain char)                 a binary (NUL-terminated: by
 *                                             address; else copied), or null;
 *                                             const unsigned char * is bytes
 *   T *  with {out, P, Size}                  an out-buffer: no Erlang value;
 *                                             returned as a binary
 *   T *  with {inout, P}  (T a scalar)        an integer in, returned as one
 *   T *  (T a scalar other than char)         returned as an integer
 *   char * / void * without a size            refused: C would write there
 *   anything else (T **, struct S *, ...)     null only
 * An integer parameter with {bound, Buf, Len} is checked against buffer Buf
 * before each call (with {fill, Len} it takes no Erlang value: it is Buf's
 * size). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nc_ffi.h"

#define SCRATCH_ALIGN 16

static ffi_type *scalar_ffi(nc_ffi_scalar s)
{
    switch (s.kind) {
    case NC_FFI_BOOL: return &ffi_type_uint8;
    case NC_FFI_FLOAT: return &ffi_type_float;
    case NC_FFI_DOUBLE: return &ffi_type_double;
    case NC_FFI_SINT:
        return s.size == 1 ? &ffi_type_sint8 : s.size == 2 ? &ffi_type_sint16
             : s.size == 4 ? &ffi_type_sint32 : &ffi_type_sint64;
    default:
        return s.size == 1 ? &ffi_type_uint8 : s.size == 2 ? &ffi_type_uint16
             : s.size == 4 ? &ffi_type_uint32 : &ffi_type_uint64;
    }
}

static int is_scalar(nc_ffi_type t)
{
    return t.ptr == 0 && t.kind != NC_FFI_VOID && t.kind != NC_FFI_STRUCT;
}

static nc_ffi_scalar scalar_of(nc_ffi_type t)
{
    nc_ffi_scalar s = {.kind = t.kind, .size = t.size};
    if (t.kind == NC_FFI_BOOL)
        s.size = sizeof(_Bool);
    else if (t.kind == NC_FFI_FLOAT)
        s.size = sizeof(float);
    else if (t.kind == NC_FFI_DOUBLE)
        s.size = sizeof(double);
    return s;
}

/* Plans for struct `si` of the decls and, first, the structs it holds by
 * value; memo[si] remembers each one's plan. */
static int plan_struct(nc_ffi_fn *fn, const nc_ffi_decls *d, unsigned si, int32_t *memo,
                       char *why, size_t cap)
{
    if (memo[si] >= 0)
        return memo[si];
    const nc_ffi_struct *s = &d->structs[si];
    unsigned n = s->nfields;
    int32_t sub[NC_FFI_MAX_FIELDS];
    for (unsigned i = 0; i < n; i++) {
        nc_ffi_type ft = s->fields[i].type;
        sub[i] = -1;
        /* Fields by value were complete when the struct was: no cycle. */
        if (ft.ptr == 0 && ft.kind == NC_FFI_STRUCT &&
            (sub[i] = plan_struct(fn, d, ft.ref, memo, why, cap)) < 0)
            return -1;
    }
    nc_ffi_struct_plan *sp = &fn->structs[fn->nstructs];
    sp->elements = calloc(n + 1, sizeof *sp->elements);
    sp->offsets = calloc(n, sizeof *sp->offsets);
    sp->field_struct = calloc(n, sizeof *sp->field_struct);
    sp->field_scalar = calloc(n, sizeof *sp->field_scalar);
    sp->field_ptr = calloc(n, 1);
    sp->field_names = calloc(n, sizeof *sp->field_names);
    sp->nfields = n;
    fn->nstructs++;               /* owned from here: freed with fn */
    if (!sp->elements || !sp->offsets || !sp->field_struct || !sp->field_scalar ||
        !sp->field_ptr || !sp->field_names) {
        snprintf(why, cap, "out of memory");
        return -1;
    }
    for (unsigned i = 0; i < n; i++) {
        nc_ffi_type ft = s->fields[i].type;
        sp->field_struct[i] = sub[i];
        snprintf(sp->field_names[i], sizeof sp->field_names[i], "%s",
                 nc_ffi_name(d, s->fields[i].name));
        if (ft.ptr) {
            sp->elements[i] = &ffi_type_pointer;
            sp->field_ptr[i] = 1;
        } else if (sub[i] >= 0) {
            sp->elements[i] = &fn->structs[sub[i]].type;
        } else {
            sp->field_scalar[i] = scalar_of(ft);
            sp->elements[i] = scalar_ffi(sp->field_scalar[i]);
        }
    }
    sp->type.type = FFI_TYPE_STRUCT;
    sp->type.elements = sp->elements;
    if (ffi_get_struct_offsets(FFI_DEFAULT_ABI, &sp->type, sp->offsets) != FFI_OK ||
        sp->type.size != s->size) {
        /* libffi's layout must be the parser's (it checks sizes with it). */
        snprintf(why, cap, "struct %s: libffi could not lay it out", nc_ffi_name(d, s->name));
        return -1;
    }
    memo[si] = (int32_t)(fn->nstructs - 1);
    return memo[si];
}

/* The option of `kind` for parameter `name`, or -1. */
static int find_out(const nc_ffi_opts *o, const char *name)
{
    for (unsigned i = 0; i < o->nout; i++)
        if (strcmp(o->out[i].param, name) == 0)
            return (int)i;
    return -1;
}

static int find_inout(const nc_ffi_opts *o, const char *name)
{
    for (unsigned i = 0; i < o->ninout; i++)
        if (strcmp(o->inout[i], name) == 0)
            return (int)i;
    return -1;
}

static int find_fill(const nc_ffi_opts *o, const char *name)
{
    for (unsigned i = 0; i < o->nfill; i++)
        if (strcmp(o->fill[i], name) == 0)
            return (int)i;
    return -1;
}

static int param_named(const nc_ffi_func *f, const char *const *names, const char *name)
{
    for (unsigned i = 0; i < f->nparams; i++)
        if (strcmp(names[i], name) == 0)
            return (int)i;
    return -1;
}

static int is_int(nc_ffi_scalar s)
{
    return s.kind == NC_FFI_SINT || s.kind == NC_FFI_UINT;
}

/* {bound, Buf, Len} and {fill, Len}: what each names must fit (see nc_ffi.h). */
static int plan_bounds(nc_ffi_fn *fn, const nc_ffi_func *f, const char *const *names,
                       const nc_ffi_opts *o, char *why, size_t cap)
{
    for (unsigned k = 0; k < o->nbound; k++) {
        int b = param_named(f, names, o->bound[k].buf);
        int l = param_named(f, names, o->bound[k].len);
        const nc_ffi_param_plan *bp = &fn->params[b], *lp = &fn->params[l];
        if (bp->role != R_CONST_BUF && bp->role != R_CSTRING && bp->role != R_OUT_BUF) {
            snprintf(why, cap, "%s: bound is for const buffers and out-buffers", bp->spell);
            return -1;
        }
        if ((lp->role != R_SCALAR && lp->role != R_INOUT_SCALAR) || !is_int(lp->scalar)) {
            snprintf(why, cap, "%s: a bound must be an integer parameter", lp->spell);
            return -1;
        }
        fn->bounds[k].buf = (uint8_t)b;
        fn->bounds[k].len = (uint8_t)l;
        fn->bounds[k].fill = lp->filled;
    }
    fn->nbounds = o->nbound;
    for (unsigned k = 0; k < o->nfill; k++) {
        int l = param_named(f, names, o->fill[k]);
        const nc_ffi_param_plan *lp = &fn->params[l];
        unsigned uses = 0, out = 0;
        for (unsigned j = 0; j < fn->nbounds; j++)
            if (fn->bounds[j].len == l) {
                uses++;
                out |= fn->params[fn->bounds[j].buf].role == R_OUT_BUF;
            }
        if (lp->role != R_SCALAR || !is_int(lp->scalar) || uses != 1 || out) {
            snprintf(why, cap, "%s: fill needs an integer parameter that bounds one const "
                     "buffer (bound => #{Buf => %s})", lp->spell, o->fill[k]);
            return -1;
        }
    }
    return 0;
}

static int find_len(const nc_ffi_opts *o, const char *name)
{
    for (unsigned i = 0; i < o->nlen; i++)
        if (strcmp(o->len[i].param, name) == 0)
            return (int)i;
    return -1;
}

typedef struct plan_ctx {
    const nc_ffi_fn *fn;
    const char *const *names;     /* per parameter */
} plan_ctx;

/* An integer parameter with an Erlang value, by name: what a size may use. */
static int lookup_int_param(const void *vctx, const char *name, size_t len)
{
    const plan_ctx *ctx = vctx;
    for (unsigned i = 0; i < ctx->fn->nparams; i++) {
        const nc_ffi_param_plan *pp = &ctx->fn->params[i];
        if (strlen(ctx->names[i]) == len && memcmp(ctx->names[i], name, len) == 0 &&
            (pp->role == R_SCALAR || pp->role == R_INOUT_SCALAR) &&
            (pp->scalar.kind == NC_FFI_SINT || pp->scalar.kind == NC_FFI_UINT))
            return (int)i;
    }
    return -1;
}

static uint32_t take_slot(size_t *scratch, size_t size)
{
    size_t at = (*scratch + SCRATCH_ALIGN - 1) / SCRATCH_ALIGN * SCRATCH_ALIGN;
    *scratch = at + (size < 8 ? 8 : size);
    return (uint32_t)at;
}

/* The role of parameter `t` named `name`; -1 with a message if it cannot be
 * given from Erlang. */
static int role_of(const nc_ffi_decls *d, const nc_ffi_opts *o, const char *name,
                   const char *spell, nc_ffi_type t, char *why, size_t cap)
{
    int out = *name ? find_out(o, name) : -1;
    int inout = *name ? find_inout(o, name) : -1;
    if (t.ptr == 0)
        return t.kind == NC_FFI_STRUCT ? R_STRUCT : R_SCALAR;
    if (t.ptr == 1 && t.kind == NC_FFI_STRUCT) {
        int complete = d->structs[t.ref].complete;
        if (out >= 0 || (inout >= 0 && (!complete || (t.flags & NC_FFI_CONST)))) {
            snprintf(why, cap, "%s: %s", spell, out >= 0
                     ? "a struct pointer is returned by default; out is for buffers"
                     : "inout needs a pointer to a non-const struct with fields");
            return -1;
        }
        if (!complete)
            return R_HANDLE;
        if (t.flags & NC_FFI_CONST)
            return R_STRUCT_IN;
        return inout >= 0 ? R_INOUT_STRUCT : R_OUT_STRUCT;
    }
    int scalar_base = t.ptr == 1 && t.kind != NC_FFI_VOID && t.kind != NC_FFI_STRUCT;
    int byte_base = t.ptr == 1 && (t.kind == NC_FFI_VOID || (t.flags & NC_FFI_CHAR) ||
                                   ((t.kind == NC_FFI_SINT || t.kind == NC_FFI_UINT) && t.size == 1));
    if (out >= 0 || inout >= 0) {
        if (t.flags & NC_FFI_CONST) {
            snprintf(why, cap, "%s: a const pointer cannot be %s", spell,
                     out >= 0 ? "an out-buffer" : "in-out");
            return -1;
        }
        if (out >= 0 && inout >= 0) {
            snprintf(why, cap, "%s: both out and inout", spell);
            return -1;
        }
        if (out >= 0 && (scalar_base || t.kind == NC_FFI_VOID) && t.ptr == 1)
            return R_OUT_BUF;
        if (inout >= 0 && scalar_base && t.kind != NC_FFI_BOOL)
            return R_INOUT_SCALAR;
        snprintf(why, cap, "%s: %s needs a pointer to %s", spell, out >= 0 ? "out" : "inout",
                 out >= 0 ? "a number or void" : "an integer or float");
        return -1;
    }
    if (t.ptr == 1 && (t.flags & NC_FFI_CONST)) {
        if (t.flags & NC_FFI_PLAIN)   /* const char *: a string; unsigned char: bytes */
            return R_CSTRING;
        if (scalar_base || t.kind == NC_FFI_VOID)
            return R_CONST_BUF;
        return R_NULL_ONLY;
    }
    if (byte_base) {
        snprintf(why, cap, "%s: C may write there, so it is an out-buffer: give its size "
                 "({out, \"%s\", Size})", spell, *name ? name : "Name");
        return -1;
    }
    if (scalar_base)
        return R_OUT_SCALAR;
    return R_NULL_ONLY;
}

int nocopy__ffi_plan(const nc_ffi_decls *d, const nc_ffi_func *f, const nc_ffi_type *extra,
                     unsigned nextra, const nc_ffi_opts *o, nc_ffi_fn **out,
                     char *why, size_t cap)
{
    unsigned np = f->nparams + nextra;
    /* One block: the function, its parameters' plans, their libffi types. */
    nc_ffi_fn *fn = calloc(1, sizeof *fn + np * sizeof fn->params[0] + (np + 1) * sizeof(ffi_type *));
    int32_t *memo = calloc(d->nstructs ? d->nstructs : 1, sizeof *memo);
    const char *names[NC_FFI_MAX_PARAMS * 2];
    *out = NULL;
    if (!fn || !memo || !(fn->structs = calloc(d->nstructs ? d->nstructs : 1,
                                                sizeof *fn->structs))) {
        snprintf(why, cap, "out of memory");
        goto fail;
    }
    fn->atypes = (ffi_type **)(void *)&fn->params[np];
    for (unsigned i = 0; i < d->nstructs; i++)
        memo[i] = -1;
    snprintf(fn->name, sizeof fn->name, "%s", nc_ffi_name(d, f->name));
    fn->nparams = f->nparams + nextra;
    fn->errno_capture = o->errno_capture;
    size_t scratch = 0;
    unsigned nerl = 0;
    size_t names_len = 0;

    for (unsigned i = 0; i < fn->nparams; i++) {
        nc_ffi_param_plan *pp = &fn->params[i];
        nc_ffi_type t;
        if (i < f->nparams) {
            t = f->params[i].type;
            names[i] = nc_ffi_name(d, f->params[i].name);
            snprintf(pp->spell, sizeof pp->spell, "%s", nc_ffi_name(d, f->params[i].spell));
        } else {
            /* C promotes a variadic argument: float to double, small
             * integers to int. */
            t = extra[i - f->nparams];
            if (t.ptr == 0 && t.kind == NC_FFI_FLOAT)
                t.kind = NC_FFI_DOUBLE;
            if (t.ptr == 0 && (t.kind == NC_FFI_BOOL ||
                               ((t.kind == NC_FFI_SINT || t.kind == NC_FFI_UINT) && t.size < 4))) {
                t.kind = NC_FFI_SINT;
                t.size = sizeof(int);
            }
            names[i] = "";
            char ts[60];
            nc_ffi_type_spell(d, extra[i - f->nparams], ts, sizeof ts);
            snprintf(pp->spell, sizeof pp->spell, "variadic %s", ts);
        }
        snprintf(pp->pname, sizeof pp->pname, "%s", names[i]);
        int role = role_of(d, o, names[i], pp->spell, t, why, cap);
        if (role < 0)
            goto fail;
        pp->role = (uint8_t)role;
        pp->strct = -1;
        /* Checked with the bounds, below: an integer bounding a const buffer. */
        pp->filled = role == R_SCALAR && *names[i] && find_fill(o, names[i]) >= 0;
        if (role == R_STRUCT) {
            if ((pp->strct = plan_struct(fn, d, t.ref, memo, why, cap)) < 0)
                goto fail;
            fn->atypes[i] = &fn->structs[pp->strct].type;
            pp->slot = take_slot(&scratch, fn->structs[pp->strct].type.size);
        } else if (role == R_SCALAR) {
            pp->scalar = scalar_of(t);
            fn->atypes[i] = scalar_ffi(pp->scalar);
            pp->slot = take_slot(&scratch, 8);
        } else if (role == R_HANDLE) {
            fn->atypes[i] = &ffi_type_pointer;
            pp->slot = take_slot(&scratch, sizeof(void *));
            snprintf(pp->tname, sizeof pp->tname, "%s", nc_ffi_name(d, d->structs[t.ref].name));
        } else if (role == R_STRUCT_IN || role == R_OUT_STRUCT || role == R_INOUT_STRUCT) {
            if ((pp->strct = plan_struct(fn, d, t.ref, memo, why, cap)) < 0)
                goto fail;
            fn->atypes[i] = &ffi_type_pointer;
            pp->slot = take_slot(&scratch, sizeof(void *));
            pp->slot2 = take_slot(&scratch, fn->structs[pp->strct].type.size);
        } else {
            fn->atypes[i] = &ffi_type_pointer;
            pp->slot = take_slot(&scratch, sizeof(void *));
            nc_ffi_type base = t;
            base.ptr = 0;
            if (t.ptr == 1 && is_scalar(base))
                pp->scalar = scalar_of(base);
            else
                pp->scalar = (nc_ffi_scalar){.kind = NC_FFI_UINT, .size = 1};  /* bytes */
            pp->align = pp->scalar.size;
            if (role == R_OUT_SCALAR || role == R_INOUT_SCALAR)
                pp->slot2 = take_slot(&scratch, 8);
        }
        if (role != R_OUT_BUF && role != R_OUT_SCALAR && role != R_OUT_STRUCT && !pp->filled) {
            pp->erl = (uint8_t)nerl++;
            const char *shown = *names[i] ? names[i] : "_";
            size_t sl = strlen(shown);
            if (names_len + sl + 3 < sizeof fn->names) {
                if (names_len)
                    memcpy(fn->names + names_len, ", ", 2), names_len += 2;
                memcpy(fn->names + names_len, shown, sl + 1);
                names_len += sl;
            }
        }
        if (role == R_OUT_BUF || role == R_OUT_SCALAR || role == R_INOUT_SCALAR ||
            role == R_OUT_STRUCT || role == R_INOUT_STRUCT)
            fn->nouts++;
    }
    fn->nerl = nerl;

    /* Options naming no parameter are mistakes, not no-ops. */
    unsigned nnamed = o->nout + o->ninout + o->nlen;
    for (unsigned k = 0; k < nnamed + 2 * o->nbound + o->nfill; k++) {
        const char *nm = k < o->nout ? o->out[k].param
                       : k < o->nout + o->ninout ? o->inout[k - o->nout]
                       : k < nnamed ? o->len[k - o->nout - o->ninout].param
                       : k < nnamed + 2 * o->nbound
                       ? ((k - nnamed) % 2 ? o->bound[(k - nnamed) / 2].len
                                           : o->bound[(k - nnamed) / 2].buf)
                       : o->fill[k - nnamed - 2 * o->nbound];
        unsigned i;
        for (i = 0; i < f->nparams && strcmp(names[i], nm) != 0; i++)
            ;
        if (i == f->nparams) {
            snprintf(why, cap, "an option names %s, which is not a parameter of %s", nm, fn->name);
            goto fail;
        }
    }

    if (plan_bounds(fn, f, names, o, why, cap) != 0)
        goto fail;

    /* Out-buffers: their size programs, what part of them is returned. */
    plan_ctx pctx = {.fn = fn, .names = names};
    for (unsigned i = 0; i < f->nparams; i++) {
        nc_ffi_param_plan *pp = &fn->params[i];
        int li = find_len(o, names[i]);
        if (pp->role != R_OUT_BUF) {
            if (li >= 0) {
                snprintf(why, cap, "%s: len is for out-buffers", pp->spell);
                goto fail;
            }
            continue;
        }
        int oi = find_out(o, names[i]);
        if (!(pp->size = malloc(sizeof *pp->size))) {
            snprintf(why, cap, "out of memory");
            goto fail;
        }
        if (nocopy__ffi_size_compile(o->out[oi].expr, lookup_int_param, &pctx, pp->size,
                                     why, cap) != 0)
            goto fail;
        pp->len = L_ALL;
        if (li < 0)
            continue;
        pp->len = o->len[li].how;
        if (pp->len == L_RETURN && (f->ret.ptr || (f->ret.kind != NC_FFI_SINT &&
                                                   f->ret.kind != NC_FFI_UINT))) {
            snprintf(why, cap, "%s: {len, return} needs an integer return value", pp->spell);
            goto fail;
        }
        if (pp->len == L_PARAM) {
            unsigned j;
            for (j = 0; j < f->nparams && strcmp(names[j], o->len[li].of) != 0; j++)
                ;
            const nc_ffi_param_plan *lp = &fn->params[j < f->nparams ? j : 0];
            if (j == f->nparams ||
                (lp->role != R_SCALAR && lp->role != R_OUT_SCALAR && lp->role != R_INOUT_SCALAR) ||
                (lp->scalar.kind != NC_FFI_SINT && lp->scalar.kind != NC_FFI_UINT)) {
                snprintf(why, cap, "%s: its length must be an integer parameter, not %s",
                         pp->spell, o->len[li].of);
                goto fail;
            }
            pp->len_param = (uint8_t)j;
        }
    }

    /* The return value. */
    nc_ffi_type r = f->ret;
    ffi_type *rtype;
    fn->ret_struct = -1;
    if (r.ptr == 0 && r.kind == NC_FFI_VOID) {
        fn->ret_void = 1;
        fn->ret_role = R_SCALAR;
        rtype = &ffi_type_void;
        fn->ret_slot = take_slot(&scratch, 8);
    } else if (r.ptr == 0 && r.kind == NC_FFI_STRUCT) {
        fn->ret_role = R_STRUCT;
        if ((fn->ret_struct = plan_struct(fn, d, r.ref, memo, why, cap)) < 0)
            goto fail;
        rtype = &fn->structs[fn->ret_struct].type;
        fn->ret_slot = take_slot(&scratch, rtype->size);
    } else if (r.ptr == 0) {
        fn->ret_role = R_SCALAR;
        fn->ret = scalar_of(r);
        rtype = scalar_ffi(fn->ret);
        fn->ret_slot = take_slot(&scratch, sizeof(ffi_arg));   /* libffi widens */
    } else {
        /* char * comes back as a copied string, a pointer to an incomplete
         * struct as a handle, to a complete one as a copy of its fields; any
         * other pointer as its address, an integer no parameter accepts back. */
        int sp = r.ptr == 1 && r.kind == NC_FFI_STRUCT;
        fn->ret_role = r.ptr == 1 && (r.flags & NC_FFI_PLAIN) ? R_CSTRING
                     : sp && !d->structs[r.ref].complete ? R_HANDLE
                     : sp ? R_STRUCT_IN : R_NULL_ONLY;
        if (fn->ret_role == R_HANDLE)
            snprintf(fn->ret_tname, sizeof fn->ret_tname, "%s", nc_ffi_name(d, d->structs[r.ref].name));
        if (fn->ret_role == R_STRUCT_IN &&
            (fn->ret_struct = plan_struct(fn, d, r.ref, memo, why, cap)) < 0)
            goto fail;
        rtype = &ffi_type_pointer;
        fn->ret_slot = take_slot(&scratch, sizeof(void *));
    }
    if (o->dtor) {
        /* The destructor runs once per handle this function returns: a
         * function of one parameter, a handle of the same type. */
        const nc_ffi_fn *dt = nocopy__ffi_fn_of(o->dtor);
        if (fn->ret_role != R_HANDLE) {
            snprintf(why, cap, "a destructor is for functions that return a pointer to an "
                     "incomplete struct (a handle)");
            goto fail;
        }
        if (dt->nparams != 1 || dt->params[0].role != R_HANDLE ||
            strcmp(dt->params[0].tname, fn->ret_tname) != 0 || dt->ret_role == R_STRUCT) {
            snprintf(why, cap, "the destructor %s must take one struct %s * and return a scalar "
                     "or void", dt->name, fn->ret_tname);
            goto fail;
        }
        nocopy_handle_keep(o->dtor);
        fn->dtor = o->dtor;
    }
    fn->scratch = scratch;

    /* The ABI fast path (nc_ffi_call.c): a non-variadic function of at most
     * NC_FFI_DIRECT_MAX integer or pointer parameters returning an integer,
     * a pointer or nothing passes everything in general registers. */
    fn->direct = NC_FFI_DIRECT_ABI && !f->variadic && fn->nparams <= NC_FFI_DIRECT_MAX &&
                 fn->ret_role != R_STRUCT && !(fn->ret_role == R_SCALAR && !fn->ret_void &&
                                              (fn->ret.kind == NC_FFI_FLOAT ||
                                               fn->ret.kind == NC_FFI_DOUBLE));
    for (unsigned i = 0; i < fn->nparams; i++) {
        const nc_ffi_param_plan *pp = &fn->params[i];
        if (pp->role == R_STRUCT || (pp->role == R_SCALAR && (pp->scalar.kind == NC_FFI_FLOAT ||
                                                            pp->scalar.kind == NC_FFI_DOUBLE)))
            fn->direct = 0;
    }
    fn->has_outs = fn->nouts > 0;
    fn->ints_only = fn->direct && !fn->errno_capture && fn->ret_role == R_SCALAR &&
                    fn->nbounds == 0;
    for (unsigned i = 0; i < fn->nparams; i++)
        if (fn->params[i].role != R_SCALAR)
            fn->ints_only = 0;
    ffi_status st = f->variadic
        ? ffi_prep_cif_var(&fn->cif, FFI_DEFAULT_ABI, f->nparams, fn->nparams, rtype, fn->atypes)
        : ffi_prep_cif(&fn->cif, FFI_DEFAULT_ABI, fn->nparams, rtype, fn->atypes);
    if (!f->variadic && nextra) {
        snprintf(why, cap, "%s is not variadic: it takes no extra arguments", fn->name);
        goto fail;
    }
    if (st != FFI_OK) {
        snprintf(why, cap, "libffi cannot prepare a call of %s (status %d)", fn->name, (int)st);
        goto fail;
    }
    free(memo);
    *out = fn;
    return 0;
fail:
    free(memo);
    nocopy__ffi_fn_free(fn);
    return -1;
}

void nocopy__ffi_fn_free(nc_ffi_fn *fn)
{
    if (!fn)
        return;
    for (unsigned i = 0; i < fn->nstructs; i++) {
        free(fn->structs[i].elements);
        free(fn->structs[i].offsets);
        free(fn->structs[i].field_struct);
        free(fn->structs[i].field_scalar);
        free(fn->structs[i].field_ptr);
        free(fn->structs[i].field_names);
    }
    free(fn->structs);
    for (unsigned i = 0; i < fn->nparams; i++)
        free(fn->params[i].size);
    nocopy_handle_release(fn->dtor);
    nocopy__ffi_lib_release(fn->lib);
    free(fn);
}
