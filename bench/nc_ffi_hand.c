/* nc_ffi_hand.c: the FFI benchmark's baseline, the same C functions wrapped
 * by hand with nocopy (module nc_ffi_hand; driver nc_ffi_hand_drv), as a user
 * who writes C would: labs and zlib's crc32. nocopy_bench_ffi compares calls
 * through nocopy_ffi with these. */
#include <stdlib.h>

#include <zlib.h>

#include "nocopy.h"

static int fn_labs(nocopy_call *call)
{   /* (X) */
    int64_t x;
    int rc;
    if ((rc = nocopy_arg_i64(call, 0, &x)))
        return rc;
    return nocopy_return(call, nocopy_make_i64(call, labs((long)x)));
}

static int fn_crc32(nocopy_call *call)
{   /* (Crc, Data) */
    uint64_t crc;
    nocopy_bytes b;               /* BORROWED */
    int rc;
    if ((rc = nocopy_arg_u64(call, 0, &crc)) || (rc = nocopy_arg_bytes(call, 1, &b)))
        return rc;
    if (crc > 0xffffffffu)
        return nocopy_fail_badarg(call, 0, "a 32-bit CRC");
    uLong c = (uLong)crc;
    for (size_t off = 0; off < b.size;) {  /* crc32 takes an unsigned int length */
        size_t n = b.size - off > (1u << 30) ? (1u << 30) : b.size - off;
        c = crc32(c, b.data + off, (uInt)n);
        off += n;
    }
    nocopy_consume(call, b.size);
    return nocopy_return(call, nocopy_make_u64(call, c));
}

static const nocopy_func funcs[] = {
    {.name = "labs", .arity = 1, .fn = fn_labs, .args = "X :: integer()",
     .result = "non_neg_integer()", .doc = "libc's labs, wrapped by hand."},
    {.name = "crc32", .arity = 2, .fn = fn_crc32,
     .args = "Crc :: non_neg_integer(), Data :: binary()", .result = "non_neg_integer()",
     .doc = "zlib's crc32, wrapped by hand."},
};

static const nocopy_module nc_ffi_hand = {
    .name = "nc_ffi_hand", .funcs = funcs, .nfuncs = sizeof funcs / sizeof funcs[0]};
NOCOPY_MODULE(nc_ffi_hand)
