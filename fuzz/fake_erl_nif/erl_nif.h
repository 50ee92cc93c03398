/* erl_nif.h (fake): the part of the runtime's NIF API that the isolated
 * backend's reply decoder and its block accounting use
 * (c_src/iso_host/nc_iso_host_{reply,blocks,ref,state}.c), implemented over
 * plain malloc by fuzz/fake_erl_nif.c, so that fuzz_iso_reply can run them
 * without a VM. Terms are pointers to fake_term; an env owns the terms made
 * in it and one reference on each resource a term of it names, until
 * fake_env_clear(), as a process heap would until its GC. Only for fuzz/. */
#ifndef FAKE_ERL_NIF_H
#define FAKE_ERL_NIF_H

#include <stddef.h>
#include <stdint.h>

typedef uintptr_t ERL_NIF_TERM;
typedef int64_t ErlNifSInt64;
typedef struct fake_env ErlNifEnv;
typedef struct fake_mutex ErlNifMutex;
typedef struct { long pid; } ErlNifPid;
typedef void ErlNifResourceDtor(ErlNifEnv *env, void *obj);
typedef struct fake_rt {
    ErlNifResourceDtor *dtor;
} ErlNifResourceType;

enum fake_kind { FT_INT = 1, FT_UINT, FT_DOUBLE, FT_ATOM, FT_TUPLE, FT_LIST, FT_BIN, FT_RES };

typedef struct fake_term {
    enum fake_kind kind;
    union {
        int64_t i;
        uint64_t u;
        double d;
        const char *atom;
        struct {
            size_t n;
            ERL_NIF_TERM *kids;
        } agg;
        struct {
            const unsigned char *data;
            size_t len;
            void *res;                 /* the resource it holds, or NULL */
        } bin;
        void *res;
    } v;
} fake_term;

void *enif_alloc(size_t size);
void *enif_realloc(void *p, size_t size);
void enif_free(void *p);
ErlNifMutex *enif_mutex_create(char *name);
void enif_mutex_destroy(ErlNifMutex *mtx);
void enif_mutex_lock(ErlNifMutex *mtx);
void enif_mutex_unlock(ErlNifMutex *mtx);
void *enif_alloc_resource(ErlNifResourceType *type, size_t size);
void enif_keep_resource(void *obj);
void enif_release_resource(void *obj);
ERL_NIF_TERM enif_make_resource(ErlNifEnv *env, void *obj);
ERL_NIF_TERM enif_make_resource_binary(ErlNifEnv *env, void *obj, const void *data, size_t size);
ERL_NIF_TERM enif_make_int64(ErlNifEnv *env, ErlNifSInt64 i);
ERL_NIF_TERM enif_make_uint64(ErlNifEnv *env, uint64_t u);
ERL_NIF_TERM enif_make_uint(ErlNifEnv *env, unsigned u);
ERL_NIF_TERM enif_make_double(ErlNifEnv *env, double d);
unsigned char *enif_make_new_binary(ErlNifEnv *env, size_t size, ERL_NIF_TERM *termp);
ERL_NIF_TERM enif_make_tuple2(ErlNifEnv *env, ERL_NIF_TERM a, ERL_NIF_TERM b);
ERL_NIF_TERM enif_make_tuple3(ErlNifEnv *env, ERL_NIF_TERM a, ERL_NIF_TERM b, ERL_NIF_TERM c);
ERL_NIF_TERM enif_make_tuple_from_array(ErlNifEnv *env, const ERL_NIF_TERM arr[], unsigned cnt);
ERL_NIF_TERM enif_make_list_from_array(ErlNifEnv *env, const ERL_NIF_TERM arr[], unsigned cnt);

/* The harness's side. */
ErlNifEnv *fake_env_new(void);
/* Frees the env's terms and drops its resource references (destructors run
 * for the last ones). */
void fake_env_clear(ErlNifEnv *env);
/* An atom term, valid for the process's life. */
ERL_NIF_TERM fake_atom(const char *name);
/* Resources alive now (allocated and not yet destroyed). */
long fake_resources_alive(void);

#endif /* FAKE_ERL_NIF_H */
