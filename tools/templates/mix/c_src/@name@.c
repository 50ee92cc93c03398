/* @name@.c: a nocopy module. Each function reads its arguments with
 * nocopy_arg_*(), which raise badarg naming the argument on a wrong type,
 * and returns one value; the table at the end is the only place the Erlang
 * signatures are written (the stubs @name@.erl and @name@_drv.erl, with their
 * -specs, are generated from it). The API is in nocopy's include/nocopy.h. */
#include <string.h>

#include <nocopy.h>

enum { A_NO_FIELD };
static const char *const atoms[] = {"no_field", NULL};

/* (Data) -> Hash: the 64-bit FNV-1a hash of Data's bytes. */
static int checksum(nocopy_call *call)
{
    nocopy_bytes data;                  /* BORROWED: the caller's bytes, not a copy */
    int st;
    if ((st = nocopy_arg_bytes(call, 0, &data)))
        return st;                      /* badarg naming argument 1, already recorded */
    uint64_t hash = UINT64_C(14695981039346656037);
    for (size_t i = 0; i < data.size; i++) {
        hash ^= data.data[i];
        hash *= UINT64_C(1099511628211);
    }
    nocopy_consume(call, data.size);    /* charge the time slice */
    return nocopy_return(call, nocopy_make_u64(call, hash));
}

/* The offset of the first byte `sep` in data[from..], or data.size. */
static size_t find(nocopy_bytes data, size_t from, int sep)
{
    const uint8_t *hit = from < data.size ? memchr(data.data + from, sep, data.size - from)
                                          : NULL;
    return hit ? (size_t)(hit - data.data) : data.size;
}

/* (Data, Sep, N) -> {ok, Field} | {error, no_field}: field N (from 0) of Data
 * split at the byte Sep. Field is a slice of Data: no copy. */
static int field(nocopy_call *call)
{
    nocopy_bytes data;
    int64_t sep;
    size_t n;
    int st;
    if ((st = nocopy_arg_bytes(call, 0, &data)) ||
        (st = nocopy_arg_int_range(call, 1, 0, 255, &sep)) ||
        (st = nocopy_arg_size(call, 2, &n)))
        return st;
    size_t start = 0, end = find(data, 0, (int)sep);
    for (; n > 0; n--) {
        if (end == data.size)           /* no separator left: no field N */
            return nocopy_return_error(call, nocopy_make_atom(call, A_NO_FIELD));
        start = end + 1;
        end = find(data, start, (int)sep);
    }
    nocopy_consume(call, end);
    return nocopy_return_ok(call, nocopy_make_slice(call, nocopy_arg(call, 0), start,
                                                    end - start));
}

/* Calls with more than 1 MiB of binaries run on a dirty scheduler (NIF) or a
 * worker thread (driver): they would hold a normal scheduler too long. */
static const nocopy_func funcs[] = {
    {.name = "checksum", .arity = 1, .fn = checksum,
     .args = "Data :: binary()",
     .result = "non_neg_integer()",
     .sched = NOCOPY_DIRTY_ABOVE, .dirty_above = 1 << 20,
     .doc = "The 64-bit FNV-1a hash of Data."},
    {.name = "field", .arity = 3, .fn = field,
     .args = "Data :: binary(), Sep :: byte(), N :: non_neg_integer()",
     .result = "{ok, binary()} | {error, no_field}",
     .sched = NOCOPY_DIRTY_ABOVE, .dirty_above = 1 << 20,
     .doc = "Field N (from 0) of Data split at the byte Sep: a slice of Data, not a copy."},
};

static const nocopy_module @name@_module = {
    .name = "@name@", .funcs = funcs, .nfuncs = sizeof funcs / sizeof funcs[0],
    .atoms = atoms};
NOCOPY_MODULE(@name@_module)
