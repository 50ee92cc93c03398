/* test_handles.c: handle types, destructor counters, foreign memory and
 * handles, for the `nocopy_test` module (see test_module.c).
 *
 * Every destructor and release callback counts its runs in atomics, in total
 * and per object, so the EUnit suites can prove that each handle object and
 * foreign block is freed exactly once, and never while a call still uses it. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "test_module.h"

/* ---- handle types ---------------------------------------------------------- */

#define DEAD_MAGIC 0xDEADDEADu

/* Every destructor checks and clears the magic: a second run on the same object
 * (or a run on an object never initialised) counts as a bad destructor call. */
static atomic_long handles_created, handles_destroyed, handles_bad_dtor;
static atomic_long others_created, others_destroyed;

/* Per-object counts (see NTRACK in test_module.h). */
atomic_uchar counter_dtor_runs[NTRACK];
static atomic_uchar foreign_release_runs[NTRACK];

typedef struct other {
    unsigned magic;
} other;

static void counter_dtor(void *obj)
{
    counter *k = obj;
    if (k->dtor_gate_ms > 0)
        (void)test_wait_gate(k->dtor_gate_ms);
    if (k->magic != LIVE_MAGIC)
        atomic_fetch_add(&handles_bad_dtor, 1);
    k->magic = DEAD_MAGIC;
    if (k->id >= 0 && k->id < NTRACK)
        atomic_fetch_add(&counter_dtor_runs[k->id], 1);
    atomic_fetch_add(&handles_destroyed, 1);
}

static void other_dtor(void *obj)
{
    other *o = obj;
    if (o->magic != LIVE_MAGIC)
        atomic_fetch_add(&handles_bad_dtor, 1);
    o->magic = DEAD_MAGIC;
    atomic_fetch_add(&others_destroyed, 1);
}

const nocopy_handle_type counter_type = {"counter", sizeof(counter), counter_dtor};
static const nocopy_handle_type other_type = {"other", sizeof(other), other_dtor};
/* Deliberately not listed in the module: creating one must fail cleanly. */
static const nocopy_handle_type unlisted_type = {"unlisted", sizeof(other), NULL};

/* No destructor: its borrow is a "closed?" check instead of a use count. */
typedef struct plain {
    int64_t uses;
} plain;
static const nocopy_handle_type plain_type = {"plain", sizeof(plain), NULL};

const nocopy_handle_type *const test_handle_types[] = {
    &counter_type, &other_type, &plain_type, NULL
};

static long live_counters(void)
{
    return atomic_load(&handles_created) - atomic_load(&handles_destroyed);
}

/* ---- foreign memory ------------------------------------------------------------ */

static atomic_long foreign_made, foreign_released, foreign_bad_release;

typedef struct foreign {
    unsigned magic;
    long id;                    /* index in foreign_release_runs */
    size_t size;
    uint8_t data[];
} foreign;

static void foreign_release(void *obj)
{
    foreign *f = obj;
    if (f->magic != LIVE_MAGIC)
        atomic_fetch_add(&foreign_bad_release, 1);
    f->magic = DEAD_MAGIC;
    if (f->id >= 0 && f->id < NTRACK)
        atomic_fetch_add(&foreign_release_runs[f->id], 1);
    free(f);
    atomic_fetch_add(&foreign_released, 1);
}

/* {Binary, Address, Id} of a new foreign-memory binary. */
static int foreign_new(nocopy_call *c, bool with_id)
{
    size_t size;
    int64_t byte;
    TRY(nocopy_arg_size(c, 0, &size));
    TRY(nocopy_arg_int_range(c, 1, 0, 255, &byte));
    if (size > SIZE_MAX - sizeof(foreign))
        return nocopy_fail_badarg(c, 0, "a size that can be allocated");
    foreign *f = malloc(sizeof *f + size);
    if (!f)
        return NOCOPY_ENOMEM;
    f->magic = LIVE_MAGIC;
    f->size = size;
    memset(f->data, (int)byte, size);
    f->id = atomic_fetch_add(&foreign_made, 1);
    long id = f->id;
    uint64_t addr = ADDR(f->data);
    /* After this call f belongs to the release callback: do not touch it. */
    nocopy_value bin = nocopy_make_foreign(c, f->data, size, foreign_release, f);
    nocopy_value v[3] = {bin, nocopy_make_u64(c, addr), nocopy_make_i64(c, id)};
    return nocopy_return(c, nocopy_make_tuple(c, with_id ? 3 : 2, v));
}

int f_foreign_new(nocopy_call *c) { /* (Size, Byte) */ return foreign_new(c, false); }
int f_foreign_new_id(nocopy_call *c) { /* (Size, Byte) */ return foreign_new(c, true); }

/* How many times the release callback of foreign object Id has run. */
int f_foreign_releases(nocopy_call *c)
{   /* (Id) */
    int64_t id;
    TRY(nocopy_arg_int_range(c, 0, 0, NTRACK - 1, &id));
    return nocopy_return(c, nocopy_make_i64(c, atomic_load(&foreign_release_runs[id])));
}

int f_foreign_stats(nocopy_call *c)
{   /* () */
    return nocopy_return(c, nocopy_build(c, "{iii}", (int64_t)atomic_load(&foreign_made),
                                         (int64_t)atomic_load(&foreign_released),
                                         (int64_t)atomic_load(&foreign_bad_release)));
}

/* ---- handles -------------------------------------------------------------------- */

static counter *new_counter(nocopy_call *c)
{
    counter *k = nocopy_handle_new(c, &counter_type);
    if (k) {
        k->magic = LIVE_MAGIC;
        atomic_init(&k->uses, 0);
        k->dtor_gate_ms = 0;
        k->id = atomic_fetch_add(&handles_created, 1);
    }
    return k;
}

int f_new_counter_handle(nocopy_call *c)
{   /* () */
    counter *k = new_counter(c);
    if (!k)
        return NOCOPY_ENOMEM;
    return nocopy_return(c, nocopy_make_handle(c, k));
}

int f_new_counter_handle_id(nocopy_call *c)
{   /* () */
    counter *k = new_counter(c);
    if (!k)
        return NOCOPY_ENOMEM;
    long id = k->id;
    return nocopy_return(c, nocopy_build(c, "{hi}", (void *)k, (int64_t)id));
}

/* How many times the destructor of counter handle Id has run. */
int f_handle_dtor_runs(nocopy_call *c)
{   /* (Id) */
    int64_t id;
    TRY(nocopy_arg_int_range(c, 0, 0, NTRACK - 1, &id));
    return nocopy_return(c, nocopy_make_i64(c, atomic_load(&counter_dtor_runs[id])));
}

/* A handle's object is aligned to 8 bytes, as documented in nocopy.h (what
 * erl_nif resources and driver_alloc give): enough for pointers, 64-bit
 * integers and doubles. Creates N
 * handles at once (so they sit at different places) and returns the list of
 * their addresses modulo 8, 0 when aligned. */
int f_handle_misalignment(nocopy_call *c)
{   /* (N) */
    int64_t n;
    TRY(nocopy_arg_int_range(c, 0, 1, 1024, &n));
    counter *k[1024];
    nocopy_value rem[1024];
    int64_t made = 0;
    for (; made < n; made++) {
        k[made] = new_counter(c);
        if (!k[made])
            break;
        rem[made] = nocopy_make_u64(c, ADDR(k[made]) % 8);
    }
    for (int64_t i = 0; i < made; i++)
        nocopy_handle_release(k[i]);
    if (made < n)
        return NOCOPY_ENOMEM;
    return nocopy_return(c, nocopy_make_list(c, (size_t)n, rem));
}

int f_new_other_handle(nocopy_call *c)
{   /* () */
    other *o = nocopy_handle_new(c, &other_type);
    if (!o)
        return NOCOPY_ENOMEM;
    o->magic = LIVE_MAGIC;
    atomic_fetch_add(&others_created, 1);
    return nocopy_return(c, nocopy_make_handle(c, o));
}

int f_new_plain_handle(nocopy_call *c)
{   /* () */
    plain *p = nocopy_handle_new(c, &plain_type);
    if (!p)
        return NOCOPY_ENOMEM;
    return nocopy_return(c, nocopy_make_handle(c, p));
}

/* Counts and returns this handle's uses: it is the same object every time. */
int f_use_plain(nocopy_call *c)
{   /* (H) */
    plain *p;
    TRY(nocopy_arg_handle(c, 0, &plain_type, (void **)&p));
    return nocopy_return(c, nocopy_make_i64(c, ++p->uses));
}

int f_close_plain(nocopy_call *c)
{   /* (H) */
    plain *p;
    TRY(nocopy_arg_handle(c, 0, &plain_type, (void **)&p));
    nocopy_handle_close(p);
    return nocopy_return(c, nocopy_make_atom(c, NOCOPY_ATOM_OK));
}

/* Closes H (a plain handle: destroyed at once, no destructor to wait for),
 * then makes N new plain handles into the result, which grows the port's
 * table and sweeps it, and then touches H's object again: the call still
 * holds it. {Intact, Handles}: Intact is false if H's memory went away
 * meanwhile (a new handle got its address, or its count changed). */
int f_close_plain_churn(nocopy_call *c)
{   /* (H, N) */
    plain *p;
    int64_t n;
    TRY(nocopy_arg_handle(c, 0, &plain_type, (void **)&p));
    TRY(nocopy_arg_int_range(c, 1, 0, 1024, &n));
    int64_t uses = p->uses;
    nocopy_handle_close(p);
    nocopy_value made[1024];
    bool reused = false;
    for (int64_t i = 0; i < n; i++) {
        plain *q = nocopy_handle_new(c, &plain_type);
        if (!q)
            return NOCOPY_ENOMEM;
        reused |= q == p;
        q->uses = -1;
        made[i] = nocopy_make_handle(c, q);
    }
    bool intact = !reused && p->uses == uses;
    p->uses++;                          /* a write, for the sanitizers */
    return nocopy_return(c, nocopy_make_tuple(c, 2, (nocopy_value[]){
        nocopy_make_bool(c, intact), nocopy_make_list(c, (size_t)n, made)}));
}

int f_new_unlisted_handle(nocopy_call *c)
{   /* () */
    void *obj = nocopy_handle_new(c, &unlisted_type);
    if (!obj)
        return NOCOPY_EINTERNAL;
    return nocopy_return(c, nocopy_make_handle(c, obj));
}

/* A handle created and given back without reaching Erlang. */
int f_new_unreturned_handle(nocopy_call *c)
{   /* () */
    counter *k = new_counter(c);
    if (!k)
        return NOCOPY_ENOMEM;
    nocopy_handle_release(k);
    nocopy_handle_release(NULL);
    return nocopy_return(c, nocopy_make_atom(c, NOCOPY_ATOM_OK));
}

int f_new_handle_pair(nocopy_call *c)
{   /* () */
    counter *a = new_counter(c);
    counter *b = a ? new_counter(c) : NULL;
    if (!b) {
        nocopy_handle_release(a);
        return NOCOPY_ENOMEM;
    }
    return nocopy_return(c, nocopy_build(c, "{hh}", (void *)a, (void *)b));
}

int f_use_handle(nocopy_call *c)
{   /* (Counter) */
    void *obj;
    TRY(nocopy_arg_handle(c, 0, &counter_type, &obj));
    counter *k = obj;
    return nocopy_return(c, nocopy_make_i64(c, atomic_fetch_add(&k->uses, 1) + 1));
}

int f_use_other(nocopy_call *c)
{   /* (Other) */
    void *obj;
    TRY(nocopy_arg_handle(c, 0, &other_type, &obj));
    return nocopy_return(c, nocopy_make_atom(c, NOCOPY_ATOM_OK));
}

int f_use_handle_list(nocopy_call *c)
{   /* ([Counter]) */
    size_t n;
    const nocopy_term *el;
    int64_t sum = 0;
    TRY(nocopy_term_list(c, nocopy_arg(c, 0), &n, &el));
    for (size_t i = 0; i < n; i++) {
        void *obj;
        TRY(nocopy_term_handle(c, el[i], &counter_type, &obj));
        counter *k = obj;
        sum += atomic_fetch_add(&k->uses, 1) + 1;
    }
    return nocopy_return(c, nocopy_make_i64(c, sum));
}

int f_close_handle(nocopy_call *c)
{   /* (Counter) */
    void *obj;
    TRY(nocopy_arg_handle(c, 0, &counter_type, &obj));
    TRY(nocopy_handle_close(obj));
    return nocopy_return(c, nocopy_make_atom(c, NOCOPY_ATOM_OK));
}

static nocopy_value status_atom(nocopy_call *c, int st)
{
    switch (st) {
    case NOCOPY_OK: return nocopy_make_atom(c, NOCOPY_ATOM_OK);
    case NOCOPY_ECLOSED: return nocopy_make_atom(c, A_ECLOSED);
    case NOCOPY_EBADARG: return nocopy_make_atom(c, A_EBADARG);
    default: return nocopy_make_atom(c, A_EINTERNAL);
    }
}

/* Closes twice within one call, then uses the object, still BORROWED by this
 * call: {FirstClose, SecondClose, Uses, DestroyedDuringCall}. */
int f_close_twice(nocopy_call *c)
{   /* (Counter) */
    void *obj;
    TRY(nocopy_arg_handle(c, 0, &counter_type, &obj));
    counter *k = obj;
    long destroyed = atomic_load(&handles_destroyed);
    int st1 = nocopy_handle_close(obj);
    int st2 = nocopy_handle_close(obj);
    int64_t uses = atomic_fetch_add(&k->uses, 1) + 1;
    bool early = atomic_load(&handles_destroyed) != destroyed || k->magic != LIVE_MAGIC;
    return nocopy_return(c, nocopy_build(c, "{vvio}", status_atom(c, st1),
                                         status_atom(c, st2), uses, (int)early));
}

/* Closes the counter, whose destructor will wait at the gate (up to
 * TimeoutMs) before it counts its run: it runs when this call's borrow ends,
 * so a test can see whether the reply went out before or after it. */
int f_close_gated(nocopy_call *c)
{   /* (Counter, TimeoutMs) */
    void *obj;
    int64_t ms;
    TRY(nocopy_arg_handle(c, 0, &counter_type, &obj));
    TRY(nocopy_arg_int_range(c, 1, 1, 600000, &ms));
    counter *k = obj;
    k->dtor_gate_ms = ms;
    TRY(nocopy_handle_close(obj));
    return nocopy_return(c, nocopy_make_atom(c, NOCOPY_ATOM_OK));
}

int f_close_null(nocopy_call *c)
{   /* () */
    return nocopy_return(c, status_atom(c, nocopy_handle_close(NULL)));
}

int f_live_handles(nocopy_call *c)
{   /* () */
    return nocopy_return(c, nocopy_make_i64(c, live_counters()));
}

int f_handle_stats(nocopy_call *c)
{   /* () */
    return nocopy_return(c, nocopy_build(c, "{iiiii}", (int64_t)atomic_load(&handles_created),
                                         (int64_t)atomic_load(&handles_destroyed),
                                         (int64_t)atomic_load(&handles_bad_dtor),
                                         (int64_t)atomic_load(&others_created),
                                         (int64_t)atomic_load(&others_destroyed)));
}

/* C references (nocopy_handle_keep) held in a small table between calls. */
#define NKEPT_HANDLES 64
static pthread_mutex_t kh_mu = PTHREAD_MUTEX_INITIALIZER;
static void *kept_handles[NKEPT_HANDLES];
static size_t n_kept_handles;

int f_keep_handle(nocopy_call *c)
{   /* (Counter) */
    void *obj;
    TRY(nocopy_arg_handle(c, 0, &counter_type, &obj));
    pthread_mutex_lock(&kh_mu);
    bool room = n_kept_handles < NKEPT_HANDLES;
    if (room) {
        nocopy_handle_keep(obj);
        kept_handles[n_kept_handles++] = obj;
    }
    pthread_mutex_unlock(&kh_mu);
    if (!room)
        return nocopy_fail_badarg(c, 0, "a handle while the keep table has room");
    return nocopy_return(c, nocopy_make_atom(c, NOCOPY_ATOM_OK));
}

int f_release_kept_handles(nocopy_call *c)
{   /* () */
    pthread_mutex_lock(&kh_mu);
    size_t n = n_kept_handles;
    for (size_t i = 0; i < n; i++)
        nocopy_handle_release(kept_handles[i]);
    n_kept_handles = 0;
    pthread_mutex_unlock(&kh_mu);
    return nocopy_return(c, nocopy_make_i64(c, (int64_t)n));
}
