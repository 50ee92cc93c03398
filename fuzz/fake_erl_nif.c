/* fake_erl_nif.c: the fake NIF API of fuzz/fake_erl_nif/erl_nif.h, over
 * malloc: every allocation of a term or a binary is its own block (ASan sees
 * a write past it), resources are refcounted and their destructors run when
 * the last reference goes. Single-threaded use only (fuzz_iso_reply). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "erl_nif.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

struct fake_mutex {
    pthread_mutex_t mu;
};

typedef struct fake_res {
    ErlNifResourceType *type;
    long refs;
    _Alignas(16) unsigned char obj[];
} fake_res;

typedef struct owned {
    struct owned *next;
    void *res;                         /* a reference held, or NULL */
    _Alignas(16) unsigned char data[];
} owned;

struct fake_env {
    owned *head;
};

static long alive;

void *enif_alloc(size_t size) { return malloc(size ? size : 1); }
void *enif_realloc(void *p, size_t size) { return realloc(p, size ? size : 1); }
void enif_free(void *p) { free(p); }

ErlNifMutex *enif_mutex_create(char *name)
{
    (void)name;
    ErlNifMutex *m = malloc(sizeof *m);
    if (m)
        pthread_mutex_init(&m->mu, NULL);
    return m;
}

void enif_mutex_destroy(ErlNifMutex *m)
{
    pthread_mutex_destroy(&m->mu);
    free(m);
}

void enif_mutex_lock(ErlNifMutex *m) { CHECK(pthread_mutex_lock(&m->mu) == 0); }
void enif_mutex_unlock(ErlNifMutex *m) { CHECK(pthread_mutex_unlock(&m->mu) == 0); }

static fake_res *res_of(void *obj)
{
    return (fake_res *)((unsigned char *)obj - offsetof(fake_res, obj));
}

void *enif_alloc_resource(ErlNifResourceType *type, size_t size)
{
    fake_res *r = malloc(sizeof *r + size);
    if (!r)
        return NULL;
    r->type = type;
    r->refs = 1;
    alive++;
    return r->obj;
}

void enif_keep_resource(void *obj)
{
    fake_res *r = res_of(obj);
    CHECK(r->refs > 0);
    r->refs++;
}

void enif_release_resource(void *obj)
{
    fake_res *r = res_of(obj);
    CHECK(r->refs > 0);
    if (--r->refs == 0) {
        if (r->type->dtor)
            r->type->dtor(NULL, obj);
        alive--;
        free(r);
    }
}

long fake_resources_alive(void) { return alive; }

ErlNifEnv *fake_env_new(void)
{
    ErlNifEnv *e = malloc(sizeof *e);
    CHECK(e);
    e->head = NULL;
    return e;
}

void fake_env_clear(ErlNifEnv *env)
{
    while (env->head) {
        owned *o = env->head;
        env->head = o->next;
        if (o->res)
            enif_release_resource(o->res);
        free(o);
    }
}

static void *own(ErlNifEnv *env, size_t size, void *res)
{
    owned *o = malloc(sizeof *o + size);
    CHECK(o);
    o->next = env->head;
    o->res = res;
    env->head = o;
    if (res)
        enif_keep_resource(res);
    return o->data;
}

static ERL_NIF_TERM term(ErlNifEnv *env, fake_term t, void *res)
{
    fake_term *p = own(env, sizeof *p, res);
    *p = t;
    return (ERL_NIF_TERM)p;
}

ERL_NIF_TERM fake_atom(const char *name)
{
    fake_term *p = malloc(sizeof *p);
    CHECK(p);
    p->kind = FT_ATOM;
    p->v.atom = name;
    return (ERL_NIF_TERM)p;
}

ERL_NIF_TERM enif_make_resource(ErlNifEnv *env, void *obj)
{
    return term(env, (fake_term){.kind = FT_RES, .v.res = obj}, obj);
}

ERL_NIF_TERM enif_make_resource_binary(ErlNifEnv *env, void *obj, const void *data, size_t size)
{
    return term(env, (fake_term){.kind = FT_BIN, .v.bin = {data, size, obj}}, obj);
}

ERL_NIF_TERM enif_make_int64(ErlNifEnv *env, ErlNifSInt64 i)
{
    return term(env, (fake_term){.kind = FT_INT, .v.i = i}, NULL);
}

ERL_NIF_TERM enif_make_uint64(ErlNifEnv *env, uint64_t u)
{
    return term(env, (fake_term){.kind = FT_UINT, .v.u = u}, NULL);
}

ERL_NIF_TERM enif_make_uint(ErlNifEnv *env, unsigned u)
{
    return enif_make_uint64(env, u);
}

ERL_NIF_TERM enif_make_double(ErlNifEnv *env, double d)
{
    return term(env, (fake_term){.kind = FT_DOUBLE, .v.d = d}, NULL);
}

unsigned char *enif_make_new_binary(ErlNifEnv *env, size_t size, ERL_NIF_TERM *termp)
{
    unsigned char *data = own(env, size, NULL);
    *termp = term(env, (fake_term){.kind = FT_BIN, .v.bin = {data, size, NULL}}, NULL);
    return data;
}

static ERL_NIF_TERM agg(ErlNifEnv *env, enum fake_kind kind, const ERL_NIF_TERM *arr, size_t n)
{
    ERL_NIF_TERM *kids = own(env, n * sizeof *kids, NULL);
    if (n)
        memcpy(kids, arr, n * sizeof *kids);
    return term(env, (fake_term){.kind = kind, .v.agg = {n, kids}}, NULL);
}

ERL_NIF_TERM enif_make_tuple2(ErlNifEnv *env, ERL_NIF_TERM a, ERL_NIF_TERM b)
{
    ERL_NIF_TERM arr[2] = {a, b};
    return agg(env, FT_TUPLE, arr, 2);
}

ERL_NIF_TERM enif_make_tuple3(ErlNifEnv *env, ERL_NIF_TERM a, ERL_NIF_TERM b, ERL_NIF_TERM c)
{
    ERL_NIF_TERM arr[3] = {a, b, c};
    return agg(env, FT_TUPLE, arr, 3);
}

ERL_NIF_TERM enif_make_tuple_from_array(ErlNifEnv *env, const ERL_NIF_TERM arr[], unsigned cnt)
{
    return agg(env, FT_TUPLE, arr, cnt);
}

ERL_NIF_TERM enif_make_list_from_array(ErlNifEnv *env, const ERL_NIF_TERM arr[], unsigned cnt)
{
    return agg(env, FT_LIST, arr, cnt);
}
