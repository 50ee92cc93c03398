/* nif_prof.c: runs one function of a NIF library (linked in statically, with
 * fake_erl_nif.c standing in for the VM) N times, for callgrind:
 *
 *   valgrind --tool=callgrind --toggle-collect=run_calls ./nif_prof_nc seed 100000
 *
 * collects only the calls, so every count divided by N is per call. The same
 * main links against nocopy (nc_bench.c + the core + the NIF backend:
 * nif_prof_nc) or against the hand-written NIF (hand_nif.c: nif_prof_hand).
 * Workloads as in the benchmark: identity, seed, seed_calls, iodata (64
 * pieces). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <erl_nif.h>

#include "fake_erl_nif.h"

ERL_NIF_INIT_EXPORT ErlNifEntry *nif_init(ERL_NIF_INIT_ARGS);

typedef ERL_NIF_TERM (*nif_fn)(ErlNifEnv *, int, const ERL_NIF_TERM[]);

static nif_fn find_opt(const ErlNifEntry *e, const char *name, unsigned arity)
{
    char prefixed[128];
    snprintf(prefixed, sizeof prefixed, "$nocopy_%s", name);
    for (int i = 0; i < e->num_of_funcs; i++)
        if (e->funcs[i].arity == arity &&
            (strcmp(e->funcs[i].name, name) == 0 || strcmp(e->funcs[i].name, prefixed) == 0))
            return e->funcs[i].fptr;
    return NULL;
}

static nif_fn find(const ErlNifEntry *e, const char *name, unsigned arity)
{
    nif_fn f = find_opt(e, name, arity);
    if (!f) {
        fprintf(stderr, "nif_prof: no function %s/%u\n", name, arity);
        exit(2);
    }
    return f;
}

/* The only function callgrind collects (--toggle-collect=run_calls). */
__attribute__((noinline)) ERL_NIF_TERM run_calls(nif_fn f, ErlNifEnv *env, int argc,
                                                 const ERL_NIF_TERM argv[], long n);
__attribute__((noinline)) ERL_NIF_TERM run_calls(nif_fn f, ErlNifEnv *env, int argc,
                                                 const ERL_NIF_TERM argv[], long n)
{
    ERL_NIF_TERM r = 0;
    for (long i = 0; i < n; i++) {
        fake_env_reset(env);          /* a fresh process heap for each call */
        r = f(env, argc, argv);
    }
    return r;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s identity|seed|seed_calls|iodata CALLS [SIZE]\n", argv[0]);
        return 2;
    }
    const char *w = argv[1];
    long n = atol(argv[2]);
    size_t size = argc > 3 ? (size_t)atol(argv[3]) : 4096;

    ErlNifEntry *e = nif_init();
    ErlNifEnv *args_env = fake_env_new(), *env = fake_env_new();
    void *priv = NULL;
    if (e->load && e->load(args_env, &priv, fake_int(args_env, 0)) != 0) {
        fprintf(stderr, "nif_prof: load failed\n");
        return 1;
    }
    unsigned char *payload = malloc(size ? size : 1);
    for (size_t i = 0; i < size; i++)
        payload[i] = (unsigned char)(i * 7 + 1);
    ERL_NIF_TERM bin = fake_binary(args_env, payload, size);

    ERL_NIF_TERM args[3];
    int nargs;
    nif_fn f;
    if (strcmp(w, "identity") == 0) {
        f = find(e, "identity", 1);
        args[0] = bin;
        nargs = 1;
    } else if (strcmp(w, "seed") == 0 || strcmp(w, "seed_calls") == 0) {
        ERL_NIF_TERM none[1] = {0};
        args[0] = find(e, "new_ctx", 0)(args_env, 0, none);
        args[1] = fake_int(args_env, 1);
        args[2] = bin;
        /* The hand-written NIF has one seed; nocopy's has both variants. */
        if (!(f = find_opt(e, w, 3)))
            f = find(e, "seed", 3);
        nargs = 3;
    } else if (strcmp(w, "iodata") == 0) {
        ERL_NIF_TERM l = fake_nil();
        size_t step = size / 64;
        for (int k = 63; k >= 0; k--) {
            size_t len = k == 63 ? size - 63 * step : step;
            l = fake_cons(args_env, fake_binary(args_env, payload + (size_t)k * step, len), l);
        }
        args[0] = l;
        f = find(e, "iodata", 1);
        nargs = 1;
    } else {
        fprintf(stderr, "nif_prof: unknown workload %s\n", w);
        return 2;
    }
    ERL_NIF_TERM r = run_calls(f, env, nargs, args, n);
    if (n > 0 && fake_is_exception(r)) {
        fprintf(stderr, "nif_prof: the call raised an exception\n");
        return 1;
    }
    printf("%s: %ld calls\n", w, n);
    return 0;
}
