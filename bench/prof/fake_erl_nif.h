/* fake_erl_nif.h: the harness side of fake_erl_nif.c (see there). */
#ifndef FAKE_ERL_NIF_H
#define FAKE_ERL_NIF_H

#include <stddef.h>
#include <stdint.h>

#include <erl_nif.h>

enum { FK_ATOM = 1, FK_INT, FK_FLOAT, FK_BIN, FK_TUPLE, FK_LIST, FK_NIL, FK_RES, FK_EXCEPTION };

struct fterm {
    int kind;
    union {
        const char *atom;
        int64_t i;
        double f;
        struct { unsigned char *data; size_t size; } bin;
        struct { int n; ERL_NIF_TERM *e; } tuple;
        struct { ERL_NIF_TERM h, t; } cell;
        struct { void *obj; ErlNifResourceType *rt; } res;
    } u;
};

ErlNifEnv *fake_env_new(void);
void fake_env_reset(ErlNifEnv *env);
ERL_NIF_TERM fake_binary(ErlNifEnv *env, const unsigned char *data, size_t size);
ERL_NIF_TERM fake_int(ErlNifEnv *env, int64_t v);
ERL_NIF_TERM fake_nil(void);
ERL_NIF_TERM fake_cons(ErlNifEnv *env, ERL_NIF_TERM h, ERL_NIF_TERM t);
int fake_is_exception(ERL_NIF_TERM t);

#endif /* FAKE_ERL_NIF_H */
