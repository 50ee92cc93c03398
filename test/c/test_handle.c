/* test_handle.c: the handle state machine (nc_handle.c) without a VM. The
 * backend's part (memory and references) is played by a fake backend below;
 * the state machine must run each destructor exactly once, never while a
 * call uses the object, in every order of begin/end use, close and finalize,
 * and under threads. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "check.h"
#include "nc_internal.h"

/* ---- a test object and its destructor ------------------------------------ */

typedef struct obj_t {
    atomic_int inside;          /* users between begin_use and end_use */
    int payload[7];
} obj_t;

static atomic_int dtor_runs;
static atomic_int dtor_while_used;

static void obj_dtor(void *p)
{
    obj_t *o = p;
    if (atomic_load(&o->inside) != 0)
        atomic_fetch_add(&dtor_while_used, 1);
    atomic_fetch_add(&dtor_runs, 1);
}

static const nocopy_handle_type obj_type = {"obj", sizeof(obj_t), obj_dtor};
static const nocopy_handle_type plain_type = {"plain", 24, NULL};
static const nocopy_handle_type unlisted_type = {"unlisted", 8, obj_dtor};

static void reset_counts(void)
{
    atomic_store(&dtor_runs, 0);
    atomic_store(&dtor_while_used, 0);
}

/* The memory a backend would allocate: header and object, aligned. */
static nocopy__handle *alloc_handle(const nocopy_handle_type *type, unsigned index)
{
    size_t align = _Alignof(nocopy__handle);
    size_t size = sizeof(nocopy__handle) + type->size;
    size = (size + align - 1) / align * align;
    nocopy__handle *h = aligned_alloc(align, size);
    if (h) {
        memset(h, 0xA5, size);  /* garbage: init must clear the object */
        nocopy__handle_init(h, type, index);
    }
    return h;
}

static int use(nocopy__handle *h)
{
    if (!nocopy__handle_begin_use(h))
        return 0;
    atomic_fetch_add(&((obj_t *)NC_HANDLE_OBJ(h))->inside, 1);
    return 1;
}

static void unuse(nocopy__handle *h)
{
    atomic_fetch_sub(&((obj_t *)NC_HANDLE_OBJ(h))->inside, 1);
    nocopy__handle_end_use(h);
}

/* ---- single-threaded ----------------------------------------------------- */

TEST(handle_init_zeroes_object)
{
    nocopy__handle *h = alloc_handle(&obj_type, 3);
    CHECK_NOT_NULL(h);
    CHECK_PTR_EQ(h->type, &obj_type);
    CHECK_EQ(h->type_index, 3);
    CHECK_EQ(atomic_load(&h->state), 0);
    const unsigned char *o = NC_HANDLE_OBJ(h);
    for (size_t i = 0; i < sizeof(obj_t); i++)
        CHECK_EQ(o[i], 0);
    free(h);
    return 0;
}

TEST(handle_obj_roundtrip)
{
    nocopy__handle *h = alloc_handle(&obj_type, 0);
    CHECK_NOT_NULL(h);
    /* NC_HANDLE_OF's parameter is spelled like the member it names in
     * offsetof(), so the argument must be a variable called `obj`. */
    void *obj = NC_HANDLE_OBJ(h);
    CHECK_PTR_EQ(NC_HANDLE_OF(obj), h);
    CHECK_EQ_U((uintptr_t)obj % NC_ALIGN, 0);
    free(h);
    return 0;
}

TEST(handle_close_idle_runs_dtor)
{
    reset_counts();
    nocopy__handle *h = alloc_handle(&obj_type, 0);
    CHECK_EQ(nocopy_handle_close(NC_HANDLE_OBJ(h)), NOCOPY_OK);
    CHECK_EQ(atomic_load(&dtor_runs), 1);
    free(h);
    return 0;
}

TEST(handle_close_twice)
{
    reset_counts();
    nocopy__handle *h = alloc_handle(&obj_type, 0);
    CHECK_EQ(nocopy_handle_close(NC_HANDLE_OBJ(h)), NOCOPY_OK);
    CHECK_EQ(nocopy_handle_close(NC_HANDLE_OBJ(h)), NOCOPY_ECLOSED);
    CHECK_EQ(nocopy_handle_close(NC_HANDLE_OBJ(h)), NOCOPY_ECLOSED);
    nocopy__handle_finalize(h);
    CHECK_EQ(atomic_load(&dtor_runs), 1);
    free(h);
    return 0;
}

TEST(handle_close_null)
{
    CHECK_EQ(nocopy_handle_close(NULL), NOCOPY_EBADARG);
    return 0;
}

TEST(handle_finalize_without_close)
{
    reset_counts();
    nocopy__handle *h = alloc_handle(&obj_type, 0);
    nocopy__handle_finalize(h);
    CHECK_EQ(atomic_load(&dtor_runs), 1);
    CHECK(!nocopy__handle_begin_use(h));
    free(h);
    return 0;
}

TEST(handle_close_then_finalize)
{
    reset_counts();
    nocopy__handle *h = alloc_handle(&obj_type, 0);
    CHECK_EQ(nocopy_handle_close(NC_HANDLE_OBJ(h)), NOCOPY_OK);
    CHECK_EQ(atomic_load(&dtor_runs), 1);
    nocopy__handle_finalize(h);
    CHECK_EQ(atomic_load(&dtor_runs), 1);
    free(h);
    return 0;
}

TEST(handle_close_while_in_use)
{
    reset_counts();
    nocopy__handle *h = alloc_handle(&obj_type, 0);
    CHECK(use(h));
    CHECK_EQ(nocopy_handle_close(NC_HANDLE_OBJ(h)), NOCOPY_OK);
    CHECK_EQ(atomic_load(&dtor_runs), 0);        /* the call still uses it */
    unuse(h);
    CHECK_EQ(atomic_load(&dtor_runs), 1);
    CHECK_EQ(atomic_load(&dtor_while_used), 0);
    nocopy__handle_finalize(h);
    CHECK_EQ(atomic_load(&dtor_runs), 1);
    free(h);
    return 0;
}

TEST(handle_two_users)
{
    reset_counts();
    nocopy__handle *h = alloc_handle(&obj_type, 0);
    CHECK(use(h));
    CHECK(use(h));
    CHECK_EQ(nocopy_handle_close(NC_HANDLE_OBJ(h)), NOCOPY_OK);
    unuse(h);
    CHECK_EQ(atomic_load(&dtor_runs), 0);
    unuse(h);
    CHECK_EQ(atomic_load(&dtor_runs), 1);
    CHECK_EQ(atomic_load(&dtor_while_used), 0);
    free(h);
    return 0;
}

TEST(handle_begin_after_close)
{
    reset_counts();
    nocopy__handle *h = alloc_handle(&obj_type, 0);
    CHECK(use(h));
    CHECK_EQ(nocopy_handle_close(NC_HANDLE_OBJ(h)), NOCOPY_OK);
    CHECK(!nocopy__handle_begin_use(h));         /* closed: no new users */
    unuse(h);
    CHECK(!nocopy__handle_begin_use(h));         /* destroyed: still none */
    CHECK_EQ(atomic_load(&dtor_runs), 1);
    free(h);
    return 0;
}

TEST(handle_null_dtor)
{
    nocopy__handle *h = alloc_handle(&plain_type, 1);
    CHECK(nocopy__handle_begin_use(h));
    CHECK_EQ(nocopy_handle_close(NC_HANDLE_OBJ(h)), NOCOPY_OK);
    nocopy__handle_end_use(h);
    nocopy__handle_finalize(h);
    free(h);
    return 0;
}

/* A pinned handle (nocopy_handle_pin) refuses close, so its destructor runs
 * only at finalize, once; users (counted by another path) still come and go
 * without the pin counting as one. */
TEST(handle_pin_refuses_close)
{
    reset_counts();
    nocopy__handle *h = alloc_handle(&obj_type, 0);
    nocopy_handle_pin(NC_HANDLE_OBJ(h));
    nocopy_handle_pin(NC_HANDLE_OBJ(h));          /* twice: the same */
    CHECK_EQ(nocopy_handle_close(NC_HANDLE_OBJ(h)), NOCOPY_EBADARG);
    CHECK_EQ(atomic_load(&dtor_runs), 0);
    CHECK(use(h));
    unuse(h);
    CHECK_EQ(atomic_load(&dtor_runs), 0);
    nocopy__handle_finalize(h);
    CHECK_EQ(atomic_load(&dtor_runs), 1);
    CHECK_EQ(atomic_load(&dtor_while_used), 0);
    nocopy_handle_pin(NULL);
    free(h);
    return 0;
}

/* Every interleaving of two users (begin, end), up to two closes, then
 * finalize, checked step by step against a model of the state machine. */
enum { EV_B1, EV_E1, EV_B2, EV_E2, EV_C1, EV_C2, EV_N };

static int run_order(const int *order, int n)
{
    reset_counts();
    nocopy__handle *h = alloc_handle(&obj_type, 0);
    CHECK_NOT_NULL(h);
    int closed = 0, users = 0, destroyed = 0, in[2] = {0, 0};
    for (int i = 0; i < n; i++) {
        int ev = order[i];
        if (ev == EV_B1 || ev == EV_B2) {
            int u = ev == EV_B1 ? 0 : 1;
            int got = use(h);
            CHECK_EQ(got, !(closed || destroyed));
            in[u] = got;
            users += got;
        } else if (ev == EV_E1 || ev == EV_E2) {
            int u = ev == EV_E1 ? 0 : 1;
            if (in[u]) {
                unuse(h);
                in[u] = 0;
                users--;
                if (closed && users == 0)
                    destroyed = 1;
            }
        } else {
            CHECK_EQ(nocopy_handle_close(NC_HANDLE_OBJ(h)),
                     closed ? NOCOPY_ECLOSED : NOCOPY_OK);
            closed = 1;
            if (users == 0)
                destroyed = 1;
        }
        CHECK_EQ(atomic_load(&dtor_runs), destroyed);
    }
    nocopy__handle_finalize(h);
    CHECK_EQ(atomic_load(&dtor_runs), 1);
    CHECK_EQ(atomic_load(&dtor_while_used), 0);
    free(h);
    return 0;
}

/* Orders that keep each user's begin before its end and close 1 before close 2. */
static int valid_order(const int *order, int n)
{
    int pos[EV_N];
    for (int e = 0; e < EV_N; e++)
        pos[e] = -1;
    for (int i = 0; i < n; i++)
        pos[order[i]] = i;
    return pos[EV_B1] < pos[EV_E1] && pos[EV_B2] < pos[EV_E2] &&
           (pos[EV_C2] < 0 || pos[EV_C1] < pos[EV_C2]);
}

static int permute(int *order, int k, int n, int *count)
{
    if (k == n) {
        if (!valid_order(order, n))
            return 0;
        (*count)++;
        return run_order(order, n);
    }
    for (int i = k; i < n; i++) {
        int t = order[k]; order[k] = order[i]; order[i] = t;
        int rc = permute(order, k + 1, n, count);
        t = order[k]; order[k] = order[i]; order[i] = t;
        if (rc)
            return rc;
    }
    return 0;
}

TEST(handle_every_order)
{
    int count = 0;
    int none[] = {EV_B1, EV_E1, EV_B2, EV_E2};
    int one[] = {EV_B1, EV_E1, EV_B2, EV_E2, EV_C1};
    int two[] = {EV_B1, EV_E1, EV_B2, EV_E2, EV_C1, EV_C2};
    CHECK_OK(permute(none, 0, 4, &count));
    CHECK_OK(permute(one, 0, 5, &count));
    CHECK_OK(permute(two, 0, 6, &count));
    /* 4!/(2*2) + 5!/(2*2) + 6!/(2*2*2) orders. */
    CHECK_EQ(count, 6 + 30 + 90);
    return 0;
}

/* ---- threads ----------------------------------------------------------------- */

typedef struct {
    nocopy__handle *h;
    atomic_int *go;
    long uses;
    long refused;
} user_arg;

static void *user_thread(void *p)
{
    user_arg *u = p;
    /* Yield while waiting: under valgrind, which runs one thread at a time,
     * a bare spin takes whole time slices from the thread that sets go. */
    while (!atomic_load(u->go))
        sched_yield();
    for (int i = 0; i < 20000; i++) {
        if (use(u->h)) {
            u->uses++;
            unuse(u->h);
        } else {
            u->refused++;
        }
    }
    return NULL;
}

/* Users hammer one handle while the main thread closes it; the destructor
 * runs once, never while a user is inside, and after the close nobody gets in. */
TEST(handle_threads_use_and_close)
{
    enum { THREADS = 4, ROUNDS = 50 };
    for (int round = 0; round < ROUNDS; round++) {
        reset_counts();
        nocopy__handle *h = alloc_handle(&obj_type, 0);
        atomic_int go = 0;
        pthread_t th[THREADS];
        user_arg ua[THREADS];
        for (int i = 0; i < THREADS; i++) {
            ua[i] = (user_arg){h, &go, 0, 0};
            CHECK_EQ(pthread_create(&th[i], NULL, user_thread, &ua[i]), 0);
        }
        atomic_store(&go, 1);
        for (volatile int spin = 0; spin < round * 1000; spin++)
            ;
        CHECK_EQ(nocopy_handle_close(NC_HANDLE_OBJ(h)), NOCOPY_OK);
        CHECK(!nocopy__handle_begin_use(h));
        for (int i = 0; i < THREADS; i++)
            CHECK_EQ(pthread_join(th[i], NULL), 0);
        CHECK_EQ(atomic_load(&dtor_runs), 1);
        CHECK_EQ(atomic_load(&dtor_while_used), 0);
        nocopy__handle_finalize(h);
        CHECK_EQ(atomic_load(&dtor_runs), 1);
        free(h);
    }
    return 0;
}

typedef struct {
    nocopy__handle *h;
    atomic_int *go;
    int status;
} closer_arg;

static void *closer_thread(void *p)
{
    closer_arg *c = p;
    while (!atomic_load(c->go))
        sched_yield();              /* as in user_thread */
    c->status = nocopy_handle_close(NC_HANDLE_OBJ(c->h));
    return NULL;
}

/* Several threads close the same handle at once: exactly one succeeds. */
TEST(handle_threads_race_close)
{
    enum { THREADS = 4, ROUNDS = 300 };
    for (int round = 0; round < ROUNDS; round++) {
        reset_counts();
        nocopy__handle *h = alloc_handle(&obj_type, 0);
        atomic_int go = 0;
        pthread_t th[THREADS];
        closer_arg ca[THREADS];
        for (int i = 0; i < THREADS; i++) {
            ca[i] = (closer_arg){h, &go, 99};
            CHECK_EQ(pthread_create(&th[i], NULL, closer_thread, &ca[i]), 0);
        }
        atomic_store(&go, 1);
        int ok = 0, closed = 0;
        for (int i = 0; i < THREADS; i++) {
            CHECK_EQ(pthread_join(th[i], NULL), 0);
            ok += ca[i].status == NOCOPY_OK;
            closed += ca[i].status == NOCOPY_ECLOSED;
        }
        CHECK_EQ(ok, 1);
        CHECK_EQ(closed, THREADS - 1);
        CHECK_EQ(atomic_load(&dtor_runs), 1);
        nocopy__handle_finalize(h);
        CHECK_EQ(atomic_load(&dtor_runs), 1);
        free(h);
    }
    return 0;
}

/* ---- the public functions that go through the backend ---------------------- */

static int keeps, releases, allocs, made;
static nocopy__handle *last_kept, *last_released, *last_made;
static int fail_alloc;

/* The C tests' backend (test/c/nc_backend.h) calls these. */
void test_be_handle_keep(nocopy__handle *h) { keeps++; last_kept = h; }
void test_be_handle_release(nocopy__handle *h) { releases++; last_released = h; }

nocopy__handle *test_be_handle_alloc(const nocopy_handle_type *type, unsigned index)
{
    allocs++;
    return fail_alloc ? NULL : alloc_handle(type, index);
}

nocopy_value test_be_make_handle(nocopy_call *c, nocopy__handle *h)
{
    (void)c;
    made++;
    last_made = h;
    return (nocopy_value)h;
}

static const nocopy_handle_type *const types[] = {&plain_type, &obj_type, NULL};
static const nocopy_module fake_module = {.name = "fake", .handle_types = types};
static const nocopy_func fake_func = {.name = "f", .arity = 0};

TEST(handle_keep_release_use_backend)
{
    nocopy__handle *h = alloc_handle(&obj_type, 1);
    nocopy_handle_keep(NC_HANDLE_OBJ(h));
    CHECK_EQ(keeps, 1);
    CHECK_PTR_EQ(last_kept, h);
    nocopy_handle_release(NC_HANDLE_OBJ(h));
    CHECK_EQ(releases, 1);
    CHECK_PTR_EQ(last_released, h);
    nocopy_handle_keep(NULL);                    /* accepts NULL */
    nocopy_handle_release(NULL);
    CHECK_EQ(keeps, 1);
    CHECK_EQ(releases, 1);
    free(h);
    return 0;
}

TEST(handle_new_checks_type)
{
    nocopy_call c;
    nocopy__call_init(&c, &fake_module, &fake_func, 0, NULL);
    void *obj = nocopy_handle_new(&c, &obj_type);
    obj_t *o = obj;
    CHECK_NOT_NULL(o);
    nocopy__handle *h = NC_HANDLE_OF(obj);
    CHECK_PTR_EQ(h->type, &obj_type);
    CHECK_EQ(h->type_index, 1);                  /* its place in handle_types */
    CHECK_EQ(o->payload[0], 0);
    CHECK_EQ(c.err_status, NOCOPY_OK);
    CHECK_EQ_U(nocopy_make_handle(&c, o), (nocopy_value)h);
    CHECK_EQ(made, 1);
    CHECK_EQ_U(nocopy_make_handle(&c, NULL), 0);
    CHECK_EQ(made, 1);
    free(h);

    /* A type missing from the module's table is the programmer's error. */
    int before = allocs;
    CHECK_NULL(nocopy_handle_new(&c, &unlisted_type));
    CHECK_EQ(allocs, before);
    CHECK_EQ(c.err_status, NOCOPY_EINTERNAL);
    CHECK_NOT_NULL(strstr(c.err_text, "unlisted"));
    nocopy__call_finish(&c);
    return 0;
}

TEST(handle_new_out_of_memory)
{
    nocopy_call c;
    nocopy__call_init(&c, &fake_module, &fake_func, 0, NULL);
    fail_alloc = 1;
    CHECK_NULL(nocopy_handle_new(&c, &obj_type));
    CHECK_EQ(c.err_status, NOCOPY_ENOMEM);
    CHECK_EQ(c.err_argno, 0);
    CHECK_NOT_NULL(strstr(c.err_text, "obj"));
    fail_alloc = 0;
    nocopy__call_finish(&c);
    return 0;
}
