/* nc_drv_pool.c: each port's worker threads, for calls that must not run on a
 * scheduler (NOCOPY_DIRTY_CPU, NOCOPY_DIRTY_IO, and NOCOPY_DIRTY_ABOVE above
 * the threshold). A worker runs each call it takes with nc_drv_exec.c and
 * replies with nc_drv_reply.c.
 *
 * Why the port's own threads and not driver_async: the async pool is shared by
 * the whole VM and has one thread by default (+A), so one long call would hold
 * up every file operation; and a call must be able to run next to other calls
 * of the same port, which driver_async's per-port key serialises.
 *
 * The queue is bounded twice: in calls (open option `queue`, default
 * NC_DRV_QUEUE_DEFAULT) and in the bytes of their decoded requests (option
 * `queue_bytes`, default NC_DRV_QUEUE_BYTES_DEFAULT), because a request of
 * small terms decodes into up to NC_WIRE_TREE_BYTES_PER_BYTE times its size,
 * and 1024 such requests of 1 MB would hold 40 GB. Input binaries are not
 * counted: a queued call holds them by reference, and they are the caller's.
 * When either bound is reached, the call is answered at once with eoverload,
 * instead of the port going busy, which would block every caller of the port,
 * including those of quick inline functions. Threads start with the first
 * queued call, so a port that only runs inline functions has none.
 *
 * Closing a pool cancels its queued calls and tells the workers to exit once
 * idle, without waiting for them; joining them is the janitor's (nc_drv_port.c).
 * It also answers the calls still running, so that every request the port
 * took gets exactly one reply even when the port dies: the runtime delivers a
 * port's messages during its stop but drops them once the port is gone, when
 * a running call's own reply would be lost. A caller can then wait for its
 * reply without a timer or a port monitor (nocopy_port:wait/4), each of which
 * costs about as much as the call under many callers. Each worker's `running`
 * says which call it runs; its reply and close's eclosed race for it:
 *
 *     call -> SENDING -> 0                  the worker replies
 *     call -> CLOSING -> CLOSED             close replies eclosed
 *
 * Neither side waits for user code: the worker claims the call after running
 * it, and the one who loses waits only for the other's send to finish.
 *
 * Waking a sleeping worker costs the scheduler that queues a call a futex
 * system call and the worker a context switch, more than the call itself
 * under many callers: a worker that finds the queue empty after a call first
 * yields its core up to IDLE_YIELDS times, watching `queued_hint` (the queue's
 * length, written under the lock, read without it), and only then waits on
 * the condition variable. A call queued meanwhile finds it awake: the
 * signal then wakes nobody and costs no system call. The yields give the
 * core to the schedulers and other workers when they have work; an idle port
 * pays them once per call, on a worker. */
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>

#include "nc_drv.h"

/* Marks in nc_drv_worker.running besides a call (never a valid address). */
#define RUNNING_SENDING ((uintptr_t)1)       /* the worker is sending its reply */
#define RUNNING_CLOSING ((uintptr_t)2)       /* close is sending eclosed */
#define RUNNING_CLOSED ((uintptr_t)3)        /* close has answered, and let go */

/* Worker stacks, in kilowords (erl_drv_thread_opts): wrapped C code (crypto,
 * compression) may want more than the small default of driver threads. */
#define WORKER_STACK_KW 256

/* How many times a worker that ran a call yields its core, while nothing is
 * queued, before it waits on the condition variable (see the top). */
#define IDLE_YIELDS 16

int nocopy__drv_pool_init(nc_drv_pool *p, unsigned workers, size_t limit,
                          size_t byte_limit)
{
    p->mu = erl_drv_mutex_create("nocopy_pool");
    p->cv = erl_drv_cond_create("nocopy_pool");
    p->head = p->tail = NULL;
    p->queued = 0;
    atomic_init(&p->queued_hint, 0);
    p->limit = limit;
    p->queued_bytes = 0;
    p->byte_limit = byte_limit;
    p->nworkers = workers;
    p->started = 0;
    p->stopping = 0;
    atomic_init(&p->outstanding, 0);
    for (unsigned i = 0; i < NC_DRV_WORKERS_MAX; i++) {
        p->workers[i].pool = p;
        atomic_init(&p->workers[i].running, 0);
    }
    if (!p->mu || !p->cv) {
        if (p->mu)
            erl_drv_mutex_destroy(p->mu);
        if (p->cv)
            erl_drv_cond_destroy(p->cv);
        return -1;
    }
    return 0;
}

/* Waits, briefly, while the other side of a race for a call sends its
 * reply (nothing but erl_drv_send_term runs meanwhile). */
static uintptr_t wait_while(_Atomic(uintptr_t) *running, uintptr_t mark)
{
    uintptr_t v;
    while ((v = atomic_load_explicit(running, memory_order_acquire)) == mark)
        sched_yield();
    return v;
}

/* A worker about to send the reply of the call it runs: 1, it may (then
 * replied() once sent); 0, the port closed and its caller has been answered
 * already (by then close is done with the call). */
static int may_reply(nc_drv_worker *w, nc_drv_call *call)
{
    uintptr_t expect = (uintptr_t)call;
    if (atomic_compare_exchange_strong_explicit(&w->running, &expect, RUNNING_SENDING,
                                                memory_order_acq_rel,
                                                memory_order_acquire))
        return 1;
    /* Close took it: once it is done sending, the call is this thread's again. */
    wait_while(&w->running, RUNNING_CLOSING);
    return 0;
}

static void replied(nc_drv_worker *w)
{
    atomic_store_explicit(&w->running, 0, memory_order_release);
}

/* Answers the call worker w runs, if it has not replied yet. */
static void answer_running(nc_drv_worker *w)
{
    uintptr_t v = atomic_load_explicit(&w->running, memory_order_acquire);
    for (;;) {
        if (v == RUNNING_SENDING)
            v = wait_while(&w->running, RUNNING_SENDING);
        if (v == 0 || v == RUNNING_CLOSED)
            return;
        /* Once taken, the call stays alive until this thread lets go
         * (RUNNING_CLOSED): its worker waits in may_reply(). */
        if (atomic_compare_exchange_strong_explicit(&w->running, &v, RUNNING_CLOSING,
                                                    memory_order_acq_rel,
                                                    memory_order_acquire))
            break;
    }
    nc_drv_call *call = (nc_drv_call *)v;
    nocopy__drv_send_error(call->dp, call->caller, &call->req, &call->tag_int,
                           NOCOPY_ECLOSED, 0, "the port closed while the call ran");
    atomic_store_explicit(&w->running, RUNNING_CLOSED, memory_order_release);
}

static void *worker(void *arg)
{
    nc_drv_worker *w = arg;
    nc_drv_pool *p = w->pool;
    erl_drv_mutex_lock(p->mu);
    for (;;) {
        while (!p->head && !p->stopping)
            erl_drv_cond_wait(p->cv, p->mu);
        if (!p->head)
            break;                     /* stopping, and close took the queue */
        nc_drv_call *call = p->head;
        p->head = call->next;
        if (!p->head)
            p->tail = NULL;
        p->queued--;
        atomic_store_explicit(&p->queued_hint, p->queued, memory_order_relaxed);
        p->queued_bytes -= call->dec_bytes;
        /* Under the lock that close takes the queue with: every call is
         * queued, running here, or answered. */
        atomic_store_explicit(&w->running, (uintptr_t)call, memory_order_release);
        erl_drv_mutex_unlock(p->mu);
        int st = nocopy__drv_call_run(call);
        int delivered = 0;
        if (may_reply(w, call)) {
            delivered = nocopy__drv_send_outcome(call, st);
            replied(w);
        }
        /* A result that reached nobody gives its handles back (nc_drv_exec.c). */
        nocopy__drv_call_release(call, st == NOCOPY_OK && delivered);
        /* After the call's last touch of the handle table (resolve_handles). */
        atomic_fetch_sub_explicit(&p->outstanding, 1, memory_order_release);
        /* Before it sleeps, the worker gives its core away a few times
         * while nothing is queued: under many callers the next call is
         * usually queued meanwhile, and finds it awake. */
        for (int i = 0; i < IDLE_YIELDS &&
                        atomic_load_explicit(&p->queued_hint, memory_order_relaxed) == 0; i++)
            sched_yield();
        erl_drv_mutex_lock(p->mu);
    }
    erl_drv_mutex_unlock(p->mu);
    return NULL;
}

/* Runs on the scheduler thread holding the port lock: no other submit or close
 * can run at the same time, so `started` needs no lock. */
static void start_workers(nc_drv_pool *p)
{
    ErlDrvThreadOpts *opts = erl_drv_thread_opts_create("nocopy_worker");
    if (opts)
        opts->suggested_stack_size = WORKER_STACK_KW;
    while (p->started < p->nworkers) {
        /* The runtime gives the OS thread this name (tests read it). */
        char name[24];
        snprintf(name, sizeof name, "nocopy_w%u", p->started);
        if (erl_drv_thread_create(name, &p->tids[p->started], worker,
                                  &p->workers[p->started], opts) != 0)
            break;
        p->started++;
    }
    if (opts)
        erl_drv_thread_opts_destroy(opts);
}

nc_drv_submit nocopy__drv_pool_submit(nc_drv_port *dp, nc_drv_call *call)
{
    nc_drv_pool *p = &dp->pool;
    if (p->started < p->nworkers)
        start_workers(p);
    if (p->started == 0)
        return NC_DRV_NO_WORKER;
    erl_drv_mutex_lock(p->mu);
    if (p->queued >= p->limit) {
        erl_drv_mutex_unlock(p->mu);
        return NC_DRV_QUEUE_FULL;
    }
    /* A call is always taken when none is queued, even one over the limit;
     * then nothing more is until it leaves (no wrap in the subtraction). */
    if (p->queued > 0 && (p->queued_bytes > p->byte_limit ||
                          call->dec_bytes > p->byte_limit - p->queued_bytes)) {
        erl_drv_mutex_unlock(p->mu);
        return NC_DRV_QUEUE_HEAVY;
    }
    call->next = NULL;
    if (p->tail)
        p->tail->next = call;
    else
        p->head = call;
    p->tail = call;
    p->queued++;
    atomic_store_explicit(&p->queued_hint, p->queued, memory_order_relaxed);
    p->queued_bytes += call->dec_bytes;
    /* Before a worker can take it; read by this thread only (resolve_handles). */
    atomic_fetch_add_explicit(&p->outstanding, 1, memory_order_relaxed);
    erl_drv_cond_signal(p->cv);
    erl_drv_mutex_unlock(p->mu);
    return NC_DRV_QUEUED;
}

unsigned nocopy__drv_pool_close(nc_drv_pool *p)
{
    erl_drv_mutex_lock(p->mu);
    p->stopping = 1;
    nc_drv_call *cancelled = p->head;
    p->head = p->tail = NULL;
    p->queued = 0;
    p->queued_bytes = 0;
    erl_drv_cond_broadcast(p->cv);
    erl_drv_mutex_unlock(p->mu);

    /* No worker takes a call any more: what they run now is all that runs. */
    for (unsigned i = 0; i < p->started; i++)
        answer_running(&p->workers[i]);
    while (cancelled) {
        nc_drv_call *next = cancelled->next;
        nocopy__drv_call_discard(cancelled);
        atomic_fetch_sub_explicit(&p->outstanding, 1, memory_order_release);
        cancelled = next;
    }
    return p->started;
}

void nocopy__drv_pool_join(nc_drv_pool *p)
{
    for (unsigned i = 0; i < p->started; i++)
        erl_drv_thread_join(p->tids[i], NULL);
    p->started = 0;
    erl_drv_cond_destroy(p->cv);
    erl_drv_mutex_destroy(p->mu);
}
