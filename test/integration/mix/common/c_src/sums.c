/* sums.c: checksum/2 and middle/3 on binaries, without copying them (the
 * nocopy README's module). Built by `mix compile` into both backends. */
#include <nocopy.h>

enum { A_EMPTY };
static const char *const atoms[] = {"empty", NULL};

/* (Key, Data) -> {ok, Checksum} | {error, empty} */
static int checksum(nocopy_call *call)
{
    uint64_t key;
    nocopy_bytes data;                     /* BORROWED: a view of the caller's binary */
    int st;
    if ((st = nocopy_arg_u64(call, 0, &key)) || (st = nocopy_arg_bytes(call, 1, &data)))
        return st;                         /* badarg naming the argument, already recorded */
    if (data.size == 0)
        return nocopy_return_error(call, nocopy_make_atom(call, A_EMPTY));
    uint64_t sum = key;
    for (size_t i = 0; i < data.size; i++)
        sum = sum * 31 + data.data[i];
    nocopy_consume(call, data.size);       /* charge the time slice */
    return nocopy_return_ok(call, nocopy_make_u64(call, sum));
}

/* (Data, Offset, Length) -> binary(): a slice of the input, no copy */
static int middle(nocopy_call *call)
{
    size_t off, len;
    int st;
    if ((st = nocopy_arg_size(call, 1, &off)) || (st = nocopy_arg_size(call, 2, &len)))
        return st;
    return nocopy_return(call, nocopy_make_slice(call, nocopy_arg(call, 0), off, len));
}

static const nocopy_func funcs[] = {
    {.name = "checksum", .arity = 2, .fn = checksum,
     .args = "Key :: non_neg_integer(), Data :: binary()",
     .result = "{ok, non_neg_integer()} | {error, empty}",
     .sched = NOCOPY_DIRTY_ABOVE, .dirty_above = 1 << 20,
     .doc = "A checksum of Data; above 1 MiB it runs on a dirty CPU scheduler."},
    {.name = "middle", .arity = 3, .fn = middle,
     .args = "Data :: binary(), Offset :: non_neg_integer(), Length :: non_neg_integer()",
     .result = "binary()"},
};

static const nocopy_module sums = {
    .name = "sums", .funcs = funcs, .nfuncs = 2, .atoms = atoms};
NOCOPY_MODULE(sums)
