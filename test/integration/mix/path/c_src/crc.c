/* crc.c: zlib's CRC-32 of iodata, read piece by piece and never flattened. A
 * module linked with a library: mix.exs gives it `ldlibs: "-lz"`, and
 * `cflags: "-DCRC_CHUNK=65536"` (a define this file requires). */
#include <nocopy.h>
#include <zlib.h>

#ifndef CRC_CHUNK
#error "CRC_CHUNK is not defined: mix.exs sets it with cflags"
#endif

/* (Data) -> non_neg_integer(): erlang:crc32(Data) */
static int crc(nocopy_call *call)
{
    nocopy_iovec data;                     /* BORROWED: views of the caller's binaries */
    int st;
    if ((st = nocopy_arg_iovec(call, 0, &data)))
        return st;
    uLong sum = crc32_z(0, Z_NULL, 0);
    for (size_t i = 0; i < data.count; i++)
        for (size_t off = 0; off < data.pieces[i].size; off += CRC_CHUNK) {
            size_t n = data.pieces[i].size - off;
            sum = crc32_z(sum, data.pieces[i].data + off, n < CRC_CHUNK ? n : CRC_CHUNK);
        }
    nocopy_consume(call, data.total);
    return nocopy_return(call, nocopy_make_u64(call, sum));
}

static const nocopy_func funcs[] = {
    {.name = "crc", .arity = 1, .fn = crc, .args = "Data :: iodata()",
     .result = "non_neg_integer()", .sched = NOCOPY_DIRTY_ABOVE, .dirty_above = 1 << 20,
     .doc = "The CRC-32 of Data, as erlang:crc32/1 computes it."},
};

static const nocopy_module crc_module = {.name = "crc", .funcs = funcs, .nfuncs = 1};
NOCOPY_MODULE(crc_module)
