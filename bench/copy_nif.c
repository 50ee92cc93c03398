/* copy_nif.c: the copying NIF a user often writes first: every input is read
 * with enif_inspect_iolist_as_binary (which flattens iodata into a new buffer,
 * a copy; a plain binary is returned as is) and every binary result is a new
 * binary the data is copied into. Same functions as hand_nif.c. Module
 * copy_nif (bench/copy_nif.erl holds the stubs). */
#include <stdint.h>
#include <string.h>

#include <erl_nif.h>

typedef struct copy_ctx {
    uint32_t major;
} copy_ctx;

static ErlNifResourceType *ctx_rt;
static ERL_NIF_TERM am_true, am_false;

/* A new binary holding a copy of b. */
static ERL_NIF_TERM copy_of(ErlNifEnv *env, const ErlNifBinary *b)
{
    ERL_NIF_TERM t;
    unsigned char *p = enif_make_new_binary(env, b->size, &t);
    if (!p)
        return enif_raise_exception(env, enif_make_atom(env, "enomem"));
    if (b->size)
        memcpy(p, b->data, b->size);
    return t;
}

static ERL_NIF_TERM nif_identity(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{   /* (Data) */
    ErlNifBinary b;
    (void)argc;
    if (!enif_inspect_iolist_as_binary(env, argv[0], &b))
        return enif_make_badarg(env);
    return copy_of(env, &b);
}

static ERL_NIF_TERM nif_new_ctx(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{   /* () */
    (void)argc;
    (void)argv;
    copy_ctx *ctx = enif_alloc_resource(ctx_rt, sizeof *ctx);
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
        !enif_inspect_iolist_as_binary(env, argv[2], &msg))
        return enif_make_badarg(env);
    const copy_ctx *ctx = obj;
    unsigned minor = msg.size ? msg.data[0] : 0;
    return enif_make_tuple5(env, enif_make_uint(env, ctx->major), enif_make_uint(env, minor),
                            qop ? am_true : am_false, enif_make_uint(env, qop),
                            copy_of(env, &msg));
}

static ERL_NIF_TERM nif_iodata(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{   /* (Data) */
    ErlNifBinary b;
    (void)argc;
    if (!enif_inspect_iolist_as_binary(env, argv[0], &b))
        return enif_make_badarg(env);
    return enif_make_uint64(env, b.size);
}

static int load(ErlNifEnv *env, void **priv, ERL_NIF_TERM info)
{
    (void)priv;
    (void)info;
    ctx_rt = enif_open_resource_type(env, NULL, "copy_ctx", NULL, ERL_NIF_RT_CREATE, NULL);
    am_true = enif_make_atom(env, "true");
    am_false = enif_make_atom(env, "false");
    return ctx_rt ? 0 : -1;
}

static ErlNifFunc funcs[] = {
    {"identity", 1, nif_identity, 0},
    {"new_ctx", 0, nif_new_ctx, 0},
    {"seed", 3, nif_seed, 0},
    {"iodata", 1, nif_iodata, 0},
};

ERL_NIF_INIT(copy_nif, funcs, load, NULL, NULL, NULL)
