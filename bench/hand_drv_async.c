/* hand_drv_async.c: the hand-written threaded driver baseline. outputv keeps
 * the request (a reference on every binary of the ErlIOVec, no data copy) and
 * queues it; a pool of the driver's own worker threads does the work and
 * replies with erl_drv_send_term (thread-safe), then drops the references.
 * This is the worker-thread path nocopy's DIRTY functions take on the driver
 * backend. No nocopy layer. Protocol and reply: bench_proto.h. */
#include <string.h>

#include <erl_driver.h>

#include "bench_proto.h"

/* As many threads as a nocopy driver port starts by default
 * (NC_DRV_WORKERS_DEFAULT), so the two worker paths compare like for like. */
#define NWORKERS 4

typedef struct job {
    struct job *next;
    ErlDrvTermData port_term, caller;
    ErlIOVec ev;                    /* iov/binv point into this allocation */
} job;

typedef struct pool {
    ErlDrvMutex *mu;
    ErlDrvCond *cv;
    job *head, *tail;
    int quit;
    int nthreads;
    ErlDrvTid tids[NWORKERS];
} pool;

static pool P;
static bp_atoms atoms;

typedef struct async_port {
    ErlDrvPort port;
    ErlDrvTermData port_term;
} async_port;

static void run_job(job *j)
{
    bp_drv_reply(j->port_term, j->caller, &j->ev, &atoms);
    for (int i = 0; i < j->ev.vsize; i++)
        if (j->ev.binv[i])
            driver_free_binary(j->ev.binv[i]);   /* the reference outputv took */
    driver_free(j);
}

static void *worker(void *arg)
{
    (void)arg;
    for (;;) {
        erl_drv_mutex_lock(P.mu);
        while (!P.head && !P.quit)
            erl_drv_cond_wait(P.cv, P.mu);
        job *j = P.head;
        if (j) {
            P.head = j->next;
            if (!P.head)
                P.tail = NULL;
        }
        erl_drv_mutex_unlock(P.mu);
        if (!j)
            return NULL;               /* quit, queue drained */
        run_job(j);
    }
}

static int drv_init(void)
{
    P.mu = erl_drv_mutex_create("hand_drv_async.mu");
    P.cv = erl_drv_cond_create("hand_drv_async.cv");
    if (!P.mu || !P.cv)
        return -1;
    for (int i = 0; i < NWORKERS; i++) {
        if (erl_drv_thread_create("hand_drv_async.worker", &P.tids[i], worker, NULL, NULL) != 0)
            return -1;
        P.nthreads++;
    }
    return 0;
}

static void drv_finish(void)
{
    erl_drv_mutex_lock(P.mu);
    P.quit = 1;
    erl_drv_cond_broadcast(P.cv);
    erl_drv_mutex_unlock(P.mu);
    for (int i = 0; i < P.nthreads; i++)
        erl_drv_thread_join(P.tids[i], NULL);
    erl_drv_cond_destroy(P.cv);
    erl_drv_mutex_destroy(P.mu);
}

static ErlDrvData drv_start(ErlDrvPort port, char *command)
{
    (void)command;
    async_port *ap = driver_alloc(sizeof *ap);
    if (!ap)
        return ERL_DRV_ERROR_GENERAL;
    ap->port = port;
    ap->port_term = driver_mk_port(port);
    bp_make_atoms(&atoms);
    return (ErlDrvData)ap;
}

static void drv_stop(ErlDrvData d)
{
    /* Queued jobs hold only term data and binary references, no port state:
     * they finish on their own, their sends to a closed port are dropped. */
    driver_free(d);
}

static void drv_outputv(ErlDrvData d, ErlIOVec *ev)
{
    async_port *ap = (async_port *)d;
    size_t n = (size_t)ev->vsize;
    /* One allocation: the job, then the iov array, then the binv array. ev and
     * its arrays die with this callback; the bytes live as long as we keep a
     * reference on each binv. */
    job *j = driver_alloc(sizeof *j + n * (sizeof(SysIOVec) + sizeof(ErlDrvBinary *)));
    if (!j)
        return;
    j->next = NULL;
    j->port_term = ap->port_term;
    j->caller = driver_caller(ap->port);
    j->ev.vsize = ev->vsize;
    j->ev.size = ev->size;
    j->ev.iov = (SysIOVec *)(j + 1);
    j->ev.binv = (ErlDrvBinary **)(j->ev.iov + n);
    memcpy(j->ev.iov, ev->iov, n * sizeof(SysIOVec));
    for (size_t i = 0; i < n; i++) {
        j->ev.binv[i] = ev->binv[i];
        if (ev->binv[i])
            driver_binary_inc_refc(ev->binv[i]);
    }
    erl_drv_mutex_lock(P.mu);
    if (P.tail)
        P.tail->next = j;
    else
        P.head = j;
    P.tail = j;
    erl_drv_cond_signal(P.cv);
    erl_drv_mutex_unlock(P.mu);
}

static ErlDrvEntry hand_drv_async_entry = {
    .init = drv_init,
    .finish = drv_finish,
    .driver_name = "hand_drv_async",
    .start = drv_start,
    .stop = drv_stop,
    .outputv = drv_outputv,
    .extended_marker = ERL_DRV_EXTENDED_MARKER,
    .major_version = ERL_DRV_EXTENDED_MAJOR_VERSION,
    .minor_version = ERL_DRV_EXTENDED_MINOR_VERSION,
    .driver_flags = ERL_DRV_FLAG_USE_PORT_LOCKING,
};

DRIVER_INIT(hand_drv_async)
{
    return &hand_drv_async_entry;
}
