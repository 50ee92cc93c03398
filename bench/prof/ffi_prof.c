/* ffi_prof.c: nocopy_ffi's call path outside the VM, for callgrind (as
 * nif_prof.c does for the main benchmark): links nc_ffi (c_src/ffi/) or the
 * hand-wrapped nc_ffi_hand.c with the nocopy core, the NIF backend and
 * fake_erl_nif.c, binds labs (or crc32) once and calls it N times:
 *
 *   valgrind --tool=callgrind --toggle-collect=run_calls ./ffi_prof_nc labs 100000
 *
 * Workloads: labs (the values as arguments, invoke1), labs_list (a list,
 * invoke), crc32 (4 KiB, invoke3). The hand-wrapped build runs labs and
 * crc32 through nc_ffi_hand's own functions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <erl_nif.h>

#include "fake_erl_nif.h"

ERL_NIF_INIT_EXPORT ErlNifEntry *nif_init(ERL_NIF_INIT_ARGS);

typedef ERL_NIF_TERM (*nif_fn)(ErlNifEnv *, int, const ERL_NIF_TERM[]);

static nif_fn find(const ErlNifEntry *e, const char *name, unsigned arity)
{
    char prefixed[128];
    snprintf(prefixed, sizeof prefixed, "$nocopy_%s", name);
    for (int i = 0; i < e->num_of_funcs; i++)
        if (e->funcs[i].arity == arity &&
            (strcmp(e->funcs[i].name, name) == 0 || strcmp(e->funcs[i].name, prefixed) == 0))
            return e->funcs[i].fptr;
    return NULL;
}

__attribute__((noinline)) ERL_NIF_TERM run_calls(nif_fn f, ErlNifEnv *env, int argc,
                                                 const ERL_NIF_TERM argv[], long n);
__attribute__((noinline)) ERL_NIF_TERM run_calls(nif_fn f, ErlNifEnv *env, int argc,
                                                 const ERL_NIF_TERM argv[], long n)
{
    ERL_NIF_TERM r = 0;
    for (long i = 0; i < n; i++) {
        fake_env_reset(env);
        r = f(env, argc, argv);
    }
    return r;
}

static ERL_NIF_TERM str(ErlNifEnv *env, const char *s)
{
    return fake_binary(env, (const unsigned char *)s, strlen(s));
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s labs|labs_list|crc32 CALLS\n", argv[0]);
        return 2;
    }
    const char *w = argv[1];
    long n = atol(argv[2]);
    ErlNifEntry *e = nif_init();
    ErlNifEnv *aenv = fake_env_new(), *env = fake_env_new();
    void *priv = NULL;
    if (e->load && e->load(aenv, &priv, fake_int(aenv, 0)) != 0)
        return 1;
    static unsigned char data[4096];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 7 + 1);
    ERL_NIF_TERM bin = fake_binary(aenv, data, sizeof data);
    ERL_NIF_TERM args[4];
    int nargs;
    nif_fn f;
    nif_fn bind = find(e, "bind", 4);
    if (bind) {                                   /* nc_ffi */
        int crc = strcmp(w, "crc32") == 0;
        ERL_NIF_TERM oa[1] = {str(aenv, crc ? "libz.so.1" : "libc.so.6")};
        ERL_NIF_TERM ok_lib = find(e, "open", 1)(aenv, 1, oa);
        const ERL_NIF_TERM *t;
        int ar;
        if (!enif_get_tuple(aenv, ok_lib, &ar, &t) || ar != 2)
            return 1;
        ERL_NIF_TERM ba[4] = {t[1], str(aenv, crc ? "unsigned long crc32(unsigned long crc, "
                                                     "const unsigned char *buf, unsigned int len)"
                                                   : "long labs(long j)"),
                              str(aenv, crc ? "crc32" : "labs"), fake_nil()};
        ERL_NIF_TERM ok_fn = bind(aenv, 4, ba);
        if (!enif_get_tuple(aenv, ok_fn, &ar, &t) || ar != 2)
            return 1;
        args[0] = t[1];
        if (crc) {
            f = find(e, "invoke3", 4);
            args[1] = fake_int(aenv, 0);
            args[2] = bin;
            args[3] = fake_int(aenv, sizeof data);
            nargs = 4;
        } else if (strcmp(w, "labs_list") == 0) {
            f = find(e, "invoke", 2);
            args[1] = fake_cons(aenv, fake_int(aenv, -5), fake_nil());
            nargs = 2;
        } else {
            f = find(e, "invoke1", 2);
            args[1] = fake_int(aenv, -5);
            nargs = 2;
        }
    } else if (strcmp(w, "crc32") == 0) {         /* nc_ffi_hand */
        f = find(e, "crc32", 2);
        args[0] = fake_int(aenv, 0);
        args[1] = bin;
        nargs = 2;
    } else {
        f = find(e, "labs", 1);
        args[0] = fake_int(aenv, -5);
        nargs = 1;
    }
    ERL_NIF_TERM r = run_calls(f, env, nargs, args, n);
    if (n > 0 && fake_is_exception(r)) {
        fprintf(stderr, "ffi_prof: the call raised an exception\n");
        return 1;
    }
    printf("%s: %ld calls\n", w, n);
    return 0;
}
