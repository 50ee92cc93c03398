/* nc_ffi_opts.h: reading a bind's options (nc_ffi_opts.c). */
#ifndef NC_FFI_OPTS_H
#define NC_FFI_OPTS_H

#include "nc_ffi.h"

/*! nocopy__ffi_read_opts() :
 *  Reads argument `index`, a list of the options src/nocopy_ffi.erl writes:
 *    {errno, boolean()}, {out, Param, SizeExpr}, {inout, Param},
 *    {len, Param, return | nul | OfParam}, {varargs, Types}, {destructor, Fn},
 *    {bound, Buf, Len}, {fill, Len}
 *  (Param, SizeExpr, OfParam, Buf, Len and Types binaries; Types the variadic
 *  arguments' C types, comma separated). *vtypes is BORROWED, {NULL, 0}
 *  without varargs.
 *  @return : NOCOPY_OK, or NOCOPY_EBADARG naming the argument. */
int nocopy__ffi_read_opts(nocopy_call *call, unsigned index, nc_ffi_opts *o,
                          nocopy_bytes *vtypes);
/* The same on term `t`, a part of argument `index` (errors name that). */
int nocopy__ffi_read_opts_term(nocopy_call *call, nocopy_term t, unsigned index,
                               nc_ffi_opts *o, nocopy_bytes *vtypes);

#endif /* NC_FFI_OPTS_H */
