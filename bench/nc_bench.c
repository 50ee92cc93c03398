/* nc_bench.c: the nocopy contender of the benchmark (make bench), written only
 * against nocopy.h and built like any user module: nc_bench_nif.so (module
 * nc_bench) and nc_bench_drv.so (module nc_bench_drv).
 *
 * Each workload does trivial work so that the binding cost dominates; the
 * hand-written baselines in this directory (hand_nif.c, hand_drv.c,
 * hand_drv_async.c) do exactly the same work without nocopy:
 *
 *   identity(Bin) -> Bin                the same bytes back, as a slice (no copy)
 *   seed(Ctx, Qop, Message) -> {Major, Minor, Conf, Qop, Out}
 *                                       the shape of the 2006 seed call (GSS wrap):
 *                                       Major = 0, Minor = first byte of Message
 *                                       (0 if empty), Conf = Qop =/= 0, Out = a
 *                                       slice of all of Message (no copy);
 *                                       written with format strings
 *   seed_calls(Ctx, Qop, Message)       the same, written with typed calls
 *   iodata(Data) -> TotalBytes          iodata of many pieces, read as a vector
 *                                       (nocopy_arg_iovec), never flattened
 *
 * Each has a *_dirty twin scheduled NOCOPY_DIRTY_CPU: a dirty CPU scheduler on
 * the NIF backend, a worker thread on the driver backend. So both driver paths
 * (inline in outputv, and worker threads) are measured.
 *
 * Two more functions measure the receiver's GC step on results that are new
 * references to a large binary (not the argument itself):
 *   blob_new(Size) -> Blob              a KEPT buffer of Size bytes in a handle
 *   blob_get(Blob) -> binary()          the buffer, by reference (no copy)
 * and address_of(Bin) tells where C sees a binary's bytes, so the benchmark can
 * check which contenders really return the caller's bytes without a copy. */
#include <string.h>

#include "nocopy.h"

/* ---- the seed call's context --------------------------------------------- */

typedef struct bench_ctx {
    uint32_t major;               /* always 0 (GSS_S_COMPLETE) */
} bench_ctx;

static const nocopy_handle_type bench_ctx_type = {
    .name = "bench_ctx",
    .size = sizeof(bench_ctx),
    .dtor = NULL,
};

/* ---- a kept blob, for the GC-step measurement ----------------------------- */

typedef struct bench_blob {
    nocopy_kept *data;            /* KEPT until the handle is destroyed */
} bench_blob;

static void blob_dtor(void *obj)
{
    bench_blob *b = obj;
    nocopy_kept_release(b->data);   /* accepts NULL: a failed blob_new */
}

static const nocopy_handle_type bench_blob_type = {
    .name = "bench_blob",
    .size = sizeof(bench_blob),
    .dtor = blob_dtor,
};

/* ---- the workloads ---------------------------------------------------------- */

static int fn_identity(nocopy_call *call)
{   /* (Bin) */
    nocopy_bytes b;                   /* BORROWED */
    int rc;
    if ((rc = nocopy_arg_bytes(call, 0, &b)) != NOCOPY_OK)
        return rc;
    /* The whole argument as a slice: the caller's own bytes, no copy. */
    return nocopy_return(call, nocopy_make_slice(call, nocopy_arg(call, 0), 0, b.size));
}

static int fn_new_ctx(nocopy_call *call)
{   /* () */
    bench_ctx *ctx = nocopy_handle_new(call, &bench_ctx_type);   /* OWNED, zeroed */
    if (!ctx)
        return NOCOPY_ENOMEM;
    return nocopy_return(call, nocopy_make_handle(call, ctx));   /* HANDED OVER */
}

/* The seed call written with format strings: nocopy_arg_scan for the handle
 * and the message, nocopy_build for the result tuple. */
static int fn_seed(nocopy_call *call)
{   /* (Ctx, Qop, Message) */
    void *obj;                        /* BORROWED for the call */
    int64_t qop;
    nocopy_bytes msg;                 /* BORROWED */
    int rc;
    if ((rc = nocopy_arg_scan(call, 0, "h", &bench_ctx_type, &obj)) != NOCOPY_OK ||
        (rc = nocopy_arg_int_range(call, 1, 0, UINT32_MAX, &qop)) != NOCOPY_OK ||
        (rc = nocopy_arg_scan(call, 2, "b", &msg)) != NOCOPY_OK)
        return rc;
    const bench_ctx *ctx = obj;
    int64_t minor = msg.size ? msg.data[0] : 0;
    return nocopy_return(call, nocopy_build(call, "{iiois}", (int64_t)ctx->major, minor,
                                            qop != 0, qop, nocopy_arg(call, 2),
                                            (size_t)0, msg.size));
}

/* The same call written with the typed calls only. */
static int fn_seed_calls(nocopy_call *call)
{   /* (Ctx, Qop, Message) */
    void *obj;                        /* BORROWED for the call */
    int64_t qop;
    nocopy_bytes msg;                 /* BORROWED */
    int rc;
    if ((rc = nocopy_arg_handle(call, 0, &bench_ctx_type, &obj)) != NOCOPY_OK ||
        (rc = nocopy_arg_int_range(call, 1, 0, UINT32_MAX, &qop)) != NOCOPY_OK ||
        (rc = nocopy_arg_bytes(call, 2, &msg)) != NOCOPY_OK)
        return rc;
    const bench_ctx *ctx = obj;
    nocopy_value elems[5] = {
        nocopy_make_i64(call, ctx->major),
        nocopy_make_i64(call, msg.size ? msg.data[0] : 0),
        nocopy_make_bool(call, qop != 0),
        nocopy_make_i64(call, qop),
        nocopy_make_slice(call, nocopy_arg(call, 2), 0, msg.size),
    };
    return nocopy_return(call, nocopy_make_tuple(call, 5, elems));
}

static int fn_iodata(nocopy_call *call)
{   /* (Data) */
    nocopy_iovec v;                   /* BORROWED pieces */
    int rc;
    if ((rc = nocopy_arg_iovec(call, 0, &v)) != NOCOPY_OK)
        return rc;
    uint64_t total = 0;
    for (size_t i = 0; i < v.count; i++)
        total += v.pieces[i].size;
    return nocopy_return(call, nocopy_make_u64(call, total));
}

static int fn_address_of(nocopy_call *call)
{   /* (Bin) */
    nocopy_bytes b;                   /* BORROWED; only its address leaves */
    int rc;
    if ((rc = nocopy_arg_bytes(call, 0, &b)) != NOCOPY_OK)
        return rc;
    return nocopy_return(call, nocopy_make_u64(call, (uint64_t)(uintptr_t)b.data));
}

static int fn_blob_new(nocopy_call *call)
{   /* (Size) */
    size_t size;
    int rc;
    if ((rc = nocopy_arg_size(call, 0, &size)) != NOCOPY_OK)
        return rc;
    nocopy_buf *buf = nocopy_buf_alloc(call, size);              /* OWNED */
    if (!buf)
        return NOCOPY_ENOMEM;
    memset(buf->data, 0x5a, size);
    bench_blob *blob = nocopy_handle_new(call, &bench_blob_type);
    if (!blob) {
        nocopy_buf_free(buf);
        return NOCOPY_ENOMEM;
    }
    /* buf is HANDED OVER to the kept reference, which the handle owns. */
    if (!(blob->data = nocopy_buf_share(call, buf))) {
        nocopy_handle_release(blob);
        return NOCOPY_ENOMEM;
    }
    return nocopy_return(call, nocopy_make_handle(call, blob));
}

static int fn_blob_get(nocopy_call *call)
{   /* (Blob) */
    void *obj;
    int rc;
    if ((rc = nocopy_arg_handle(call, 0, &bench_blob_type, &obj)) != NOCOPY_OK)
        return rc;
    const bench_blob *blob = obj;
    nocopy_bytes b = nocopy_kept_bytes(blob->data);
    return nocopy_return(call, nocopy_make_kept(call, blob->data, 0, b.size));
}

/* ---- the table ------------------------------------------------------------- */

#define SEED_ARGS "Ctx :: nc_bench:ctx(), Qop :: 0..4294967295, Message :: binary()"
#define SEED_RESULT                                                              \
    "{Major :: non_neg_integer(), Minor :: 0..255, Conf :: boolean(),"           \
    " Qop :: non_neg_integer(), Out :: binary()}"

static const nocopy_func bench_funcs[] = {
    {.name = "identity", .arity = 1, .fn = fn_identity,
     .args = "Bin :: binary()", .result = "binary()", .sched = NOCOPY_NORMAL,
     .doc = "Returns Bin itself, as a slice: no copy."},
    {.name = "identity_dirty", .arity = 1, .fn = fn_identity,
     .args = "Bin :: binary()", .result = "binary()", .sched = NOCOPY_DIRTY_CPU,
     .doc = "identity/1 on a dirty scheduler or a driver worker thread."},
    {.name = "new_ctx", .arity = 0, .fn = fn_new_ctx,
     .args = "", .result = "nc_bench:ctx()", .sched = NOCOPY_NORMAL,
     .doc = "A context handle for seed/3."},
    {.name = "seed", .arity = 3, .fn = fn_seed,
     .args = SEED_ARGS, .result = SEED_RESULT, .sched = NOCOPY_NORMAL,
     .doc = "The seed call's shape with a trivial transform."},
    {.name = "seed_calls", .arity = 3, .fn = fn_seed_calls,
     .args = SEED_ARGS, .result = SEED_RESULT, .sched = NOCOPY_NORMAL,
     .doc = "seed/3 written with typed calls instead of format strings."},
    {.name = "seed_dirty", .arity = 3, .fn = fn_seed,
     .args = SEED_ARGS, .result = SEED_RESULT, .sched = NOCOPY_DIRTY_CPU,
     .doc = "seed/3 on a dirty scheduler or a driver worker thread."},
    {.name = "iodata", .arity = 1, .fn = fn_iodata,
     .args = "Data :: iodata()", .result = "non_neg_integer()", .sched = NOCOPY_NORMAL,
     .doc = "The byte size of Data, read as a vector of pieces."},
    {.name = "iodata_dirty", .arity = 1, .fn = fn_iodata,
     .args = "Data :: iodata()", .result = "non_neg_integer()", .sched = NOCOPY_DIRTY_CPU,
     .doc = "iodata/1 on a dirty scheduler or a driver worker thread."},
    {.name = "address_of", .arity = 1, .fn = fn_address_of,
     .args = "Bin :: binary()", .result = "non_neg_integer()", .sched = NOCOPY_NORMAL,
     .doc = "Where C sees Bin's bytes (a zero-copy probe)."},
    {.name = "blob_new", .arity = 1, .fn = fn_blob_new,
     .args = "Size :: non_neg_integer()", .result = "nc_bench:blob()",
     .sched = NOCOPY_NORMAL, .doc = "A kept buffer of Size bytes."},
    {.name = "blob_get", .arity = 1, .fn = fn_blob_get,
     .args = "Blob :: nc_bench:blob()", .result = "binary()", .sched = NOCOPY_NORMAL,
     .doc = "The kept buffer, by reference."},
};

static const nocopy_handle_type *const bench_handle_types[] = {
    &bench_ctx_type, &bench_blob_type, NULL};

static const nocopy_module bench_module = {
    .name = "nc_bench",
    .funcs = bench_funcs,
    .nfuncs = sizeof bench_funcs / sizeof bench_funcs[0],
    .atoms = NULL,
    .handle_types = bench_handle_types,
    .types = "-type ctx() :: nocopy:handle().\n"
             "-type blob() :: nocopy:handle().\n"
             "-export_type([ctx/0, blob/0]).",
};

NOCOPY_MODULE(bench_module)
