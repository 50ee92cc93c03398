/* hand_nif.c: the hand-written erl_nif baseline of the benchmark: the same work
 * as nc_bench.c, written straight against erl_nif with no nocopy layer, the way
 * a careful programmer would (atoms made at load, arguments checked, results by
 * reference). Module hand_nif (bench/hand_nif.erl holds the stubs).
 *
 *   identity(Bin) -> Bin
 *   seed(Ctx, Qop, Message) -> {0, Minor, Conf, Qop, Message}
 *   iodata(Data) -> TotalBytes          enif_inspect_iovec, never flattened
 *   new_ctx() -> Ctx
 * and *_dirty twins on a dirty CPU scheduler. */
#include <stdint.h>

#include <erl_nif.h>

typedef struct hand_ctx {
    uint32_t major;
} hand_ctx;

static ErlNifResourceType *ctx_rt;
static ERL_NIF_TERM am_true, am_false;

static ERL_NIF_TERM nif_identity(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{   /* (Bin) */
    ErlNifBinary b;
    (void)argc;
    if (!enif_inspect_binary(env, argv[0], &b))
        return enif_make_badarg(env);
    return argv[0];
}

static ERL_NIF_TERM nif_new_ctx(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{   /* () */
    (void)argc;
    (void)argv;
    hand_ctx *ctx = enif_alloc_resource(ctx_rt, sizeof *ctx);
    if (!ctx)
        return enif_raise_exception(env, enif_make_atom(env, "enomem"));
    ctx->major = 0;
    ERL_NIF_TERM t = enif_make_resource(env, ctx);
    enif_release_resource(ctx);
    return t;
}

static ERL_NIF_TERM nif_seed(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{   /* (Ctx, Qop, Message) */
    void *obj;
    unsigned qop;
    ErlNifBinary msg;
    (void)argc;
    if (!enif_get_resource(env, argv[0], ctx_rt, &obj) || !enif_get_uint(env, argv[1], &qop) ||
        !enif_inspect_binary(env, argv[2], &msg))
        return enif_make_badarg(env);
    const hand_ctx *ctx = obj;
    unsigned minor = msg.size ? msg.data[0] : 0;
    /* Out is all of Message: the term itself, no copy. */
    return enif_make_tuple5(env, enif_make_uint(env, ctx->major), enif_make_uint(env, minor),
                            qop ? am_true : am_false, enif_make_uint(env, qop), argv[2]);
}

static ERL_NIF_TERM nif_iodata(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{   /* (Data) */
    ErlNifIOVec vec, *iov = &vec;
    ERL_NIF_TERM tail;
    (void)argc;
    /* With an env, the vector is freed when the NIF returns. */
    if (!enif_inspect_iovec(env, ~(size_t)0, argv[0], &tail, &iov) ||
        !enif_is_empty_list(env, tail))
        return enif_make_badarg(env);
    uint64_t total = 0;
    for (int i = 0; i < iov->iovcnt; i++)
        total += iov->iov[i].iov_len;
    return enif_make_uint64(env, total);
}

static int load(ErlNifEnv *env, void **priv, ERL_NIF_TERM info)
{
    (void)priv;
    (void)info;
    ctx_rt = enif_open_resource_type(env, NULL, "hand_ctx", NULL, ERL_NIF_RT_CREATE, NULL);
    am_true = enif_make_atom(env, "true");
    am_false = enif_make_atom(env, "false");
    return ctx_rt ? 0 : -1;
}

static ErlNifFunc funcs[] = {
    {"identity", 1, nif_identity, 0},
    {"identity_dirty", 1, nif_identity, ERL_NIF_DIRTY_JOB_CPU_BOUND},
    {"new_ctx", 0, nif_new_ctx, 0},
    {"seed", 3, nif_seed, 0},
    {"seed_dirty", 3, nif_seed, ERL_NIF_DIRTY_JOB_CPU_BOUND},
    {"iodata", 1, nif_iodata, 0},
    {"iodata_dirty", 1, nif_iodata, ERL_NIF_DIRTY_JOB_CPU_BOUND},
};

ERL_NIF_INIT(hand_nif, funcs, load, NULL, NULL, NULL)
