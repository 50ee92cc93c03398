/* test_sched.c: scheduling probes for the `nocopy_test` module (see
 * test_module.c): the name of the OS thread that ran a call, a gate that holds
 * calls until Erlang opens it, and nocopy_consume. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "test_module.h"

/* ---- scheduling: thread names and a gate ---------------------------------------- */

/* The OS name of the thread running the call. The runtime names its threads:
 * "1_scheduler", "1_dirty_cpu_sch" (truncated to 15 bytes), "1_dirty_io_sche";
 * the driver backend names its workers. */
static nocopy_value thread_name(nocopy_call *c)
{
    char name[64] = "";
    if (pthread_getname_np(pthread_self(), name, sizeof name) != 0)
        strcpy(name, "?");
    return nocopy_make_copy(c, name, strlen(name));
}

int f_thread_name(nocopy_call *c)
{   /* () or (Bin) or (Bin1, Bin2) or ([Bin]) */
    return nocopy_return(c, thread_name(c));
}

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static bool gate_is_open;
static long gate_waiting, gate_released, gate_timeouts;

/* Waits until Erlang calls gate_open/0. The timeout only breaks a deadlock
 * when the call wrongly blocks the scheduler that would open the gate; the
 * tests assert `released`, never a duration. */
bool test_wait_gate(int64_t ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&gate_mu);
    gate_waiting++;
    int rc = 0;
    while (!gate_is_open && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&gate_cv, &gate_mu, &until);
    bool released = gate_is_open;
    gate_waiting--;
    if (released)
        gate_released++;
    else
        gate_timeouts++;
    pthread_mutex_unlock(&gate_mu);
    return released;
}

static int gate_wait(nocopy_call *c, unsigned timeout_index)
{
    int64_t ms;
    TRY(nocopy_arg_int_range(c, timeout_index, 0, 600000, &ms));
    bool released = test_wait_gate(ms);
    return nocopy_return(c, nocopy_build(c, "{av}", released ? A_RELEASED : A_TIMEOUT,
                                         thread_name(c)));
}

int f_gate_wait(nocopy_call *c) { /* (TimeoutMs) */ return gate_wait(c, 0); }
int f_gate_wait_above(nocopy_call *c) { /* (Bin, TimeoutMs) */ return gate_wait(c, 1); }

/* Borrows a counter handle across the wait: {released | timeout, Alive}, where
 * Alive says the object was not destroyed while this call used it. */
int f_gate_wait_handle(nocopy_call *c)
{   /* (Counter, TimeoutMs) */
    void *obj;
    int64_t ms;
    TRY(nocopy_arg_handle(c, 0, &counter_type, &obj));
    TRY(nocopy_arg_int_range(c, 1, 0, 600000, &ms));
    counter *k = obj;
    atomic_fetch_add(&k->uses, 1);
    bool released = test_wait_gate(ms);
    bool alive = k->magic == LIVE_MAGIC && counter_dtor_runs[k->id] == 0;
    return nocopy_return(c, nocopy_build(c, "{ao}", released ? A_RELEASED : A_TIMEOUT,
                                         (int)alive));
}

static int set_gate(nocopy_call *c, bool open)
{
    pthread_mutex_lock(&gate_mu);
    gate_is_open = open;
    if (open)
        pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mu);
    return nocopy_return(c, nocopy_make_atom(c, NOCOPY_ATOM_OK));
}

int f_gate_open(nocopy_call *c) { /* () */ return set_gate(c, true); }
int f_gate_close(nocopy_call *c) { /* () */ return set_gate(c, false); }

int f_gate_stats(nocopy_call *c)
{   /* () */
    pthread_mutex_lock(&gate_mu);
    int64_t w = gate_waiting, r = gate_released, t = gate_timeouts;
    pthread_mutex_unlock(&gate_mu);
    return nocopy_return(c, nocopy_build(c, "{iii}", w, r, t));
}

int f_consume(nocopy_call *c)
{   /* (Bytes) */
    size_t n;
    TRY(nocopy_arg_size(c, 0, &n));
    nocopy_consume(c, n);
    return nocopy_return(c, nocopy_make_atom(c, NOCOPY_ATOM_OK));
}
