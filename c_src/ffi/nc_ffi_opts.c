/* nc_ffi_opts.c: a bind's options, from the list src/nocopy_ffi.erl writes
 * (nc_ffi_opts.h). Each is checked for shape here; what it names (a
 * parameter, a size expression) is checked against the prototype when the
 * function is planned (nc_ffi_plan.c). */
#include <string.h>

#include "nc_ffi_opts.h"

static int copy_name(nocopy_call *call, nocopy_term t, char *buf, size_t cap)
{
    nocopy_bytes b;
    if (nocopy_term_bytes(call, t, &b) || b.size == 0 || b.size >= cap || memchr(b.data, 0, b.size))
        return -1;
    memcpy(buf, b.data, b.size);
    buf[b.size] = '\0';
    return 0;
}

int nocopy__ffi_read_opts(nocopy_call *call, unsigned index, nc_ffi_opts *o,
                          nocopy_bytes *vtypes)
{
    return nocopy__ffi_read_opts_term(call, nocopy_arg(call, index), index, o, vtypes);
}

int nocopy__ffi_read_opts_term(nocopy_call *call, nocopy_term t, unsigned index,
                               nc_ffi_opts *o, nocopy_bytes *vtypes)
{
    size_t n;
    const nocopy_term *opts;
    *vtypes = (nocopy_bytes){0};
    if (nocopy_term_list(call, t, &n, &opts))
        return nocopy_fail_badarg(call, index, "a list of options");
    for (size_t i = 0; i < n; i++) {
        unsigned arity;
        const nocopy_term *e;
        nocopy_atom key;
        int b;
        if (nocopy_term_tuple_any(call, opts[i], &arity, &e) || arity < 2 ||
            nocopy_term_type(call, e[0]) != NOCOPY_T_ATOM || nocopy_term_atom(call, e[0], &key))
            goto bad;
        if (key == A_ERRNO && arity == 2 && nocopy_term_bool(call, e[1], &b) == 0) {
            o->errno_capture = b;
        } else if (key == A_OUT && arity == 3 && o->nout < NC_FFI_MAX_PARAMS &&
                   copy_name(call, e[1], o->out[o->nout].param, sizeof o->out[0].param) == 0 &&
                   copy_name(call, e[2], o->out[o->nout].expr, sizeof o->out[0].expr) == 0) {
            o->nout++;
        } else if (key == A_INOUT && arity == 2 && o->ninout < NC_FFI_MAX_PARAMS &&
                   copy_name(call, e[1], o->inout[o->ninout], sizeof o->inout[0]) == 0) {
            o->ninout++;
        } else if (key == A_LEN && arity == 3 && o->nlen < NC_FFI_MAX_PARAMS &&
                   copy_name(call, e[1], o->len[o->nlen].param, sizeof o->len[0].param) == 0) {
            nocopy_atom how;
            if (nocopy_term_type(call, e[2]) == NOCOPY_T_ATOM) {
                if (nocopy_term_atom(call, e[2], &how) || (how != A_RETURN && how != A_NUL))
                    goto bad;
                o->len[o->nlen].how = how == A_RETURN ? L_RETURN : L_NUL;
            } else if (copy_name(call, e[2], o->len[o->nlen].of, sizeof o->len[0].of) == 0) {
                o->len[o->nlen].how = L_PARAM;
            } else {
                goto bad;
            }
            o->nlen++;
        } else if (key == A_BOUND && arity == 3 && o->nbound < NC_FFI_MAX_PARAMS &&
                   copy_name(call, e[1], o->bound[o->nbound].buf, sizeof o->bound[0].buf) == 0 &&
                   copy_name(call, e[2], o->bound[o->nbound].len, sizeof o->bound[0].len) == 0) {
            o->nbound++;
        } else if (key == A_FILL && arity == 2 && o->nfill < NC_FFI_MAX_PARAMS &&
                   copy_name(call, e[1], o->fill[o->nfill], sizeof o->fill[0]) == 0) {
            o->nfill++;
        } else if (key == A_DESTRUCTOR && arity == 2 &&
                   nocopy_term_handle(call, e[1], &nocopy__ffi_fn_type, &o->dtor) == 0) {
            /* BORROWED for the bind, which keeps it if it is used */
        } else if (key == A_VARARGS && arity == 2 && nocopy_term_bytes(call, e[1], vtypes) == 0) {
            /* read */
        } else {
            goto bad;
        }
    }
    return NOCOPY_OK;
bad:
    return nocopy_fail_badarg(call, index, "options of nocopy_ffi:bind/3 (see nocopy_ffi)");
}
