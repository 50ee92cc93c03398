/* fake_erl_nif.c: just enough of erl_nif, outside the VM, to run a NIF library's
 * functions in a plain process under valgrind --tool=callgrind.
 *
 * Why: callgrind cannot run OTP 25's JIT VM (the JIT's dual-mapped code pages
 * crash it, and +JMsingle only exists from OTP 26), and this machine's perf
 * has no hardware counters. Linking the real nocopy NIF backend (or the
 * hand-written NIF) against these stand-ins gives exact instruction counts of
 * the C code that runs per call. The stand-ins do the minimum the real
 * functions must do (type check, read a field, bump-allocate the result), so
 * their counts are a floor for the VM's, and are reported apart from the
 * library's own.
 *
 * Terms are pointers to `struct fterm`; an env is a bump heap reset per call. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <erl_nif.h>

#include "fake_erl_nif.h"

struct enif_environment_t {
    size_t used;
    _Alignas(16) unsigned char heap[1 << 16];
};

struct enif_resource_type_t {
    const char *name;
    void (*dtor)(ErlNifEnv *, void *);
};

typedef struct res_hdr {
    ErlNifResourceType *rt;
    long refc;
    _Alignas(16) unsigned char obj[];
} res_hdr;

#define T(t) ((struct fterm *)(uintptr_t)(t))
#define E(p) ((ERL_NIF_TERM)(uintptr_t)(p))

static void *heap_alloc(ErlNifEnv *env, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (!env || env->used + n > sizeof env->heap) {
        fprintf(stderr, "fake_erl_nif: env heap exhausted\n");
        abort();
    }
    void *p = env->heap + env->used;
    env->used += n;
    return p;
}

static ERL_NIF_TERM mk(ErlNifEnv *env, int kind)
{
    struct fterm *t = heap_alloc(env, sizeof *t);
    t->kind = kind;
    return E(t);
}

/* ---- used by the harness ------------------------------------------------- */

ErlNifEnv *fake_env_new(void)
{
    ErlNifEnv *env = calloc(1, sizeof *env);
    if (!env)
        abort();
    return env;
}

void fake_env_reset(ErlNifEnv *env)
{
    env->used = 0;
}

ERL_NIF_TERM fake_binary(ErlNifEnv *env, const unsigned char *data, size_t size)
{
    ERL_NIF_TERM t = mk(env, FK_BIN);
    T(t)->u.bin.data = (unsigned char *)data;
    T(t)->u.bin.size = size;
    return t;
}

ERL_NIF_TERM fake_int(ErlNifEnv *env, int64_t v)
{
    ERL_NIF_TERM t = mk(env, FK_INT);
    T(t)->u.i = v;
    return t;
}

/* ---- atoms ------------------------------------------------------------------- */

static struct fterm atoms[256];
static int natoms;

ERL_NIF_TERM enif_make_atom(ErlNifEnv *env, const char *name)
{
    (void)env;
    for (int i = 0; i < natoms; i++)
        if (strcmp(atoms[i].u.atom, name) == 0)
            return E(&atoms[i]);
    if (natoms == 256)
        abort();
    atoms[natoms].kind = FK_ATOM;
    atoms[natoms].u.atom = strdup(name);
    return E(&atoms[natoms++]);
}

int enif_is_atom(ErlNifEnv *env, ERL_NIF_TERM t)
{
    (void)env;
    return T(t)->kind == FK_ATOM;
}

/* ---- numbers ---------------------------------------------------------------- */

int enif_get_long(ErlNifEnv *env, ERL_NIF_TERM t, long *out)
{
    (void)env;
    if (T(t)->kind != FK_INT)
        return 0;
    *out = (long)T(t)->u.i;
    return 1;
}

int enif_get_ulong(ErlNifEnv *env, ERL_NIF_TERM t, unsigned long *out)
{
    (void)env;
    if (T(t)->kind != FK_INT || T(t)->u.i < 0)
        return 0;
    *out = (unsigned long)T(t)->u.i;
    return 1;
}

int enif_get_uint(ErlNifEnv *env, ERL_NIF_TERM t, unsigned *out)
{
    (void)env;
    if (T(t)->kind != FK_INT || T(t)->u.i < 0 || T(t)->u.i > UINT32_MAX)
        return 0;
    *out = (unsigned)T(t)->u.i;
    return 1;
}

int enif_get_double(ErlNifEnv *env, ERL_NIF_TERM t, double *out)
{
    (void)env;
    if (T(t)->kind != FK_FLOAT)
        return 0;
    *out = T(t)->u.f;
    return 1;
}

int enif_is_number(ErlNifEnv *env, ERL_NIF_TERM t)
{
    (void)env;
    return T(t)->kind == FK_INT || T(t)->kind == FK_FLOAT;
}

ERL_NIF_TERM enif_make_long(ErlNifEnv *env, long v) { return fake_int(env, v); }
ERL_NIF_TERM enif_make_ulong(ErlNifEnv *env, unsigned long v) { return fake_int(env, (int64_t)v); }
ERL_NIF_TERM enif_make_uint(ErlNifEnv *env, unsigned v) { return fake_int(env, v); }

ERL_NIF_TERM enif_make_double(ErlNifEnv *env, double d)
{
    ERL_NIF_TERM t = mk(env, FK_FLOAT);
    T(t)->u.f = d;
    return t;
}

/* ---- binaries ------------------------------------------------------------ */

int enif_is_binary(ErlNifEnv *env, ERL_NIF_TERM t)
{
    (void)env;
    return T(t)->kind == FK_BIN;
}

int enif_inspect_binary(ErlNifEnv *env, ERL_NIF_TERM t, ErlNifBinary *bin)
{
    (void)env;
    if (T(t)->kind != FK_BIN)
        return 0;
    bin->data = T(t)->u.bin.data;
    bin->size = T(t)->u.bin.size;
    bin->ref_bin = NULL;
    return 1;
}

ERL_NIF_TERM enif_make_sub_binary(ErlNifEnv *env, ERL_NIF_TERM b, size_t pos, size_t size)
{
    return fake_binary(env, T(b)->u.bin.data + pos, size);
}

int enif_alloc_binary(size_t size, ErlNifBinary *bin)
{
    bin->data = malloc(size ? size : 1);
    bin->size = size;
    bin->ref_bin = NULL;
    return bin->data != NULL;
}

int enif_realloc_binary(ErlNifBinary *bin, size_t size)
{
    unsigned char *p = realloc(bin->data, size ? size : 1);
    if (!p)
        return 0;
    bin->data = p;
    bin->size = size;
    return 1;
}

void enif_release_binary(ErlNifBinary *bin)
{
    free(bin->data);
}

ERL_NIF_TERM enif_make_binary(ErlNifEnv *env, ErlNifBinary *bin)
{
    return fake_binary(env, bin->data, bin->size);   /* ownership: leaked, never freed */
}

unsigned char *enif_make_new_binary(ErlNifEnv *env, size_t size, ERL_NIF_TERM *termp)
{
    unsigned char *p = heap_alloc(env, size ? size : 1);
    *termp = fake_binary(env, p, size);
    return p;
}

ERL_NIF_TERM enif_make_resource_binary(ErlNifEnv *env, void *obj, const void *data, size_t size)
{
    (void)obj;
    return fake_binary(env, data, size);
}

/* ---- tuples and lists -------------------------------------------------------- */

ERL_NIF_TERM enif_make_tuple_from_array(ErlNifEnv *env, const ERL_NIF_TERM arr[], unsigned cnt)
{
    ERL_NIF_TERM t = mk(env, FK_TUPLE);
    ERL_NIF_TERM *e = heap_alloc(env, (cnt ? cnt : 1) * sizeof *e);
    memcpy(e, arr, cnt * sizeof *e);
    T(t)->u.tuple.n = (int)cnt;
    T(t)->u.tuple.e = e;
    return t;
}

ERL_NIF_TERM enif_make_tuple(ErlNifEnv *env, unsigned cnt, ...)
{
    ERL_NIF_TERM e[16];
    va_list ap;
    va_start(ap, cnt);
    for (unsigned i = 0; i < cnt && i < 16; i++)
        e[i] = va_arg(ap, ERL_NIF_TERM);
    va_end(ap);
    return enif_make_tuple_from_array(env, e, cnt);
}

int enif_get_tuple(ErlNifEnv *env, ERL_NIF_TERM t, int *arity, const ERL_NIF_TERM **array)
{
    (void)env;
    if (T(t)->kind != FK_TUPLE)
        return 0;
    *arity = T(t)->u.tuple.n;
    *array = T(t)->u.tuple.e;
    return 1;
}

static struct fterm nil = {.kind = FK_NIL};

ERL_NIF_TERM fake_nil(void)
{
    return E(&nil);
}

ERL_NIF_TERM fake_cons(ErlNifEnv *env, ERL_NIF_TERM h, ERL_NIF_TERM t)
{
    ERL_NIF_TERM c = mk(env, FK_LIST);
    T(c)->u.cell.h = h;
    T(c)->u.cell.t = t;
    return c;
}

ERL_NIF_TERM enif_make_list_from_array(ErlNifEnv *env, const ERL_NIF_TERM arr[], unsigned cnt)
{
    ERL_NIF_TERM l = fake_nil();
    while (cnt > 0)
        l = fake_cons(env, arr[--cnt], l);
    return l;
}

ERL_NIF_TERM enif_make_list(ErlNifEnv *env, unsigned cnt, ...)
{
    ERL_NIF_TERM e[16];
    va_list ap;
    va_start(ap, cnt);
    for (unsigned i = 0; i < cnt && i < 16; i++)
        e[i] = va_arg(ap, ERL_NIF_TERM);
    va_end(ap);
    return enif_make_list_from_array(env, e, cnt);
}

int enif_get_list_cell(ErlNifEnv *env, ERL_NIF_TERM list, ERL_NIF_TERM *head, ERL_NIF_TERM *tail)
{
    (void)env;
    if (T(list)->kind != FK_LIST)
        return 0;
    *head = T(list)->u.cell.h;
    *tail = T(list)->u.cell.t;
    return 1;
}

int enif_is_empty_list(ErlNifEnv *env, ERL_NIF_TERM t)
{
    (void)env;
    return T(t)->kind == FK_NIL;
}

/* Binaries only (what the benchmark sends); the VM also takes bytes and
 * nested lists. */
int enif_inspect_iovec(ErlNifEnv *env, size_t max, ERL_NIF_TERM term, ERL_NIF_TERM *tail,
                       ErlNifIOVec **iovec)
{
    (void)max;
    size_t n = 0;
    for (ERL_NIF_TERM l = term; T(l)->kind == FK_LIST; l = T(l)->u.cell.t)
        n++;
    ErlNifIOVec *v = heap_alloc(env, sizeof *v);
    v->iov = n <= ERL_NIF_IOVEC_SIZE ? v->small_iov : heap_alloc(env, n * sizeof(SysIOVec));
    v->iovcnt = 0;
    v->size = 0;
    ERL_NIF_TERM l = term;
    for (; T(l)->kind == FK_LIST; l = T(l)->u.cell.t) {
        struct fterm *h = T(T(l)->u.cell.h);
        if (h->kind != FK_BIN)
            return 0;
        v->iov[v->iovcnt].iov_base = (char *)h->u.bin.data;
        v->iov[v->iovcnt].iov_len = h->u.bin.size;
        v->iovcnt++;
        v->size += h->u.bin.size;
    }
    *tail = l;
    *iovec = v;
    return 1;
}

/* ---- types ------------------------------------------------------------------- */

ErlNifTermType enif_term_type(ErlNifEnv *env, ERL_NIF_TERM t)
{
    (void)env;
    switch (T(t)->kind) {
    case FK_ATOM: return ERL_NIF_TERM_TYPE_ATOM;
    case FK_INT: return ERL_NIF_TERM_TYPE_INTEGER;
    case FK_FLOAT: return ERL_NIF_TERM_TYPE_FLOAT;
    case FK_BIN: return ERL_NIF_TERM_TYPE_BITSTRING;
    case FK_TUPLE: return ERL_NIF_TERM_TYPE_TUPLE;
    case FK_LIST: case FK_NIL: return ERL_NIF_TERM_TYPE_LIST;
    case FK_RES: return ERL_NIF_TERM_TYPE_REFERENCE;
    default: return ERL_NIF_TERM_TYPE_PID;
    }
}

/* ---- resources ----------------------------------------------------------------- */

ErlNifResourceType *enif_open_resource_type(ErlNifEnv *env, const char *module_str,
                                            const char *name, void (*dtor)(ErlNifEnv *, void *),
                                            ErlNifResourceFlags flags, ErlNifResourceFlags *tried)
{
    (void)env;
    (void)module_str;
    (void)flags;
    ErlNifResourceType *rt = calloc(1, sizeof *rt);
    rt->name = name;
    rt->dtor = dtor;
    if (tried)
        *tried = ERL_NIF_RT_CREATE;
    return rt;
}

void *enif_alloc_resource(ErlNifResourceType *type, size_t size)
{
    res_hdr *h = calloc(1, sizeof *h + size);
    h->rt = type;
    h->refc = 1;
    return h->obj;
}

static res_hdr *hdr_of(void *obj)
{
    return (res_hdr *)((unsigned char *)obj - offsetof(res_hdr, obj));
}

void enif_keep_resource(void *obj)
{
    __atomic_add_fetch(&hdr_of(obj)->refc, 1, __ATOMIC_RELAXED);
}

void enif_release_resource(void *obj)
{
    res_hdr *h = hdr_of(obj);
    if (__atomic_sub_fetch(&h->refc, 1, __ATOMIC_ACQ_REL) == 0) {
        if (h->rt->dtor)
            h->rt->dtor(NULL, obj);
        free(h);
    }
}

ERL_NIF_TERM enif_make_resource(ErlNifEnv *env, void *obj)
{
    enif_keep_resource(obj);              /* the term's reference; never dropped here */
    ERL_NIF_TERM t = mk(env, FK_RES);
    T(t)->u.res.obj = obj;
    T(t)->u.res.rt = hdr_of(obj)->rt;
    return t;
}

int enif_get_resource(ErlNifEnv *env, ERL_NIF_TERM t, ErlNifResourceType *type, void **objp)
{
    (void)env;
    if (T(t)->kind != FK_RES || T(t)->u.res.rt != type)
        return 0;
    *objp = T(t)->u.res.obj;
    return 1;
}

/* ---- envs, memory, scheduling, errors ------------------------------------------- */

ErlNifEnv *enif_alloc_env(void) { return fake_env_new(); }
void enif_free_env(ErlNifEnv *env) { free(env); }
ERL_NIF_TERM enif_make_copy(ErlNifEnv *dst, ERL_NIF_TERM t) { (void)dst; return t; }
void *enif_alloc(size_t size) { return malloc(size); }
void enif_free(void *p) { free(p); }
int enif_thread_type(void) { return ERL_NIF_THR_NORMAL_SCHEDULER; }
int enif_consume_timeslice(ErlNifEnv *env, int percent) { (void)env; (void)percent; return 0; }

ERL_NIF_TERM enif_schedule_nif(ErlNifEnv *env, const char *name, int flags,
                               ERL_NIF_TERM (*fp)(ErlNifEnv *, int, const ERL_NIF_TERM[]),
                               int argc, const ERL_NIF_TERM argv[])
{
    (void)name;
    (void)flags;
    return fp(env, argc, argv);
}

static struct fterm exception = {.kind = FK_EXCEPTION};

ERL_NIF_TERM enif_raise_exception(ErlNifEnv *env, ERL_NIF_TERM reason)
{
    (void)env;
    (void)reason;
    return E(&exception);
}

ERL_NIF_TERM enif_make_badarg(ErlNifEnv *env)
{
    (void)env;
    return E(&exception);
}

int fake_is_exception(ERL_NIF_TERM t)
{
    return T(t)->kind == FK_EXCEPTION;
}
