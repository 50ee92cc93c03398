/* nc_ffi_size.h: out-buffer sizes as expressions of parameters
 * (nc_ffi_size.c). Pure C, no nocopy or libffi header. */
#ifndef NC_FFI_SIZE_H
#define NC_FFI_SIZE_H

#include <stddef.h>
#include <stdint.h>

#define NC_FFI_SIZE_OPS 32
typedef struct nc_ffi_size {
    unsigned n;
    struct { uint8_t op; uint8_t param; int64_t k; } ops[NC_FFI_SIZE_OPS];
} nc_ffi_size;

/* The parameter named name[0..len), or -1 if it is not an integer one. */
typedef int (*nc_ffi_size_lookup)(const void *ctx, const char *name, size_t len);
/* The value parameter `param` has in the call being made. */
typedef int64_t (*nc_ffi_size_value)(const void *ctx, unsigned param);

/*! nocopy__ffi_size_compile() : `expr` (NUL-terminated) into *out.
 *  @return : 0, or -1 with a message in why. */
int nocopy__ffi_size_compile(const char *expr, nc_ffi_size_lookup lookup, const void *ctx,
                             nc_ffi_size *out, char *why, size_t cap);

/*! nocopy__ffi_size_eval() : runs a compiled size.
 *  @return : 0, or -1 (overflow, division by zero, a negative size). */
int nocopy__ffi_size_eval(const nc_ffi_size *s, nc_ffi_size_value value, const void *ctx,
                          int64_t *out);

#endif /* NC_FFI_SIZE_H */
