/* nc_drv_entry.c: the linked-in driver: its entry, its load and unload, and
 * the dispatch of each request (outputv). Ports are nc_drv_port.c's, running
 * a call nc_drv_exec.c's.
 *
 * The seed's mechanism (Raimo Niskanen, erlang-questions, 2006): a driver with
 * outputv receives an iolist as an ErlIOVec whose large binaries arrive by
 * reference in ev->binv; replies are built as ErlDrvTermData terms. One port
 * serves many callers: each request carries a tag, and the reply goes to the
 * calling process (driver_caller) rather than to the port owner.
 *
 * A NOCOPY_NORMAL function runs right here in outputv, on the scheduler
 * thread, with its call context on the C stack: a thread hand-off costs about
 * a microsecond, ten times a whole short call. Other functions are queued to
 * the port's workers (nc_drv_pool.c) with every input binary KEPT. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nc_drv.h"

/* I/O vectors up to this many entries are described on the stack (3 KiB of a
 * scheduler's stack, which is 1 MiB by default): an iodata argument of 64
 * binaries is 64 entries and more, which should not cost an allocation. */
#define SEGS_INLINE 128

/* ---- driver load / unload --------------------------------------------------- */

/* The table passed nocopy__module_check in the describe build; it is checked
 * again here (cheap) for a library built otherwise. */
static int drv_init(void)
{
    const nocopy_module *m = nocopy_module_definition();
    char err[NC_MODULE_ERR_MAX];
    if (nocopy__module_check(m, err) != 0) {
        fprintf(stderr, "nocopy: module %s: %s\n", m && m->name ? m->name : "?", err);
        return -1;
    }
    if (nocopy__drv_state_init(m) != 0 || nocopy__drv_tombstones_init(m) != 0 ||
        nocopy__drv_janitor_init() != 0)
        goto fail;
    if (m->load && m->load() != NOCOPY_OK)
        goto fail;
    return 0;
fail:
    nocopy__drv_janitor_finish();
    nocopy__drv_tombstones_free();
    nocopy__drv_state_free();
    return -1;
}

/* erl_ddll unloads the driver only when no port uses it (or after killing
 * them, with kill_ports), so every port's stop has run by now; but calls that
 * were running when their port closed may still run on its workers, in this
 * library's code. So the unload waits for them, through the janitor: the one
 * place where a scheduler waits for user code, and only when the driver goes. */
static void drv_finish(void)
{
    nocopy__drv_janitor_finish();
    if (nocopy__drv.mod && nocopy__drv.mod->unload)
        nocopy__drv.mod->unload();
    nocopy__drv_tombstones_free();
    nocopy__drv_state_free();
}

/* ---- one request ------------------------------------------------------------- */

/* Room on dispatch()'s stack for what an inline call's decoded request needs
 * beyond its arena's inline buffer (NC_ARENA_INLINE): an iodata argument of
 * 64 pieces takes 1.5 KiB of piece views and owners, which would otherwise
 * cost a malloc'd arena block and its free on every call. An inline call
 * never outlives dispatch(); a heap call may (a worker runs it), so it has
 * none. With the entries described in drv_outputv and the call itself, an
 * inline request takes about 10 KiB of the scheduler's stack. */
#define DEC_SPILL_BYTES 3072

/* The decoder's allocator for one call. */
typedef struct dec_ctx {
    nc_drv_call *call;
    unsigned char *spill;          /* DEC_SPILL_BYTES, or NULL: a heap call */
    size_t spill_used;
} dec_ctx;

/* The call's arena, counting what a queued call will hold. */
static void *call_alloc(nc_drv_call *call, size_t size)
{
    call->dec_bytes += size;
    return nocopy__arena_alloc_fast(&call->dec, size);
}

/* The decoder's allocator: the arena's inline buffer, then the spill (inline
 * calls), then the arena's blocks. */
static void *dec_alloc(void *ctx, size_t size)
{
    dec_ctx *d = ctx;
    nc_drv_call *call = d->call;
    size_t need = (size + NC_ALIGN - 1) & ~(size_t)(NC_ALIGN - 1);
    call->dec_bytes += size;
    if (size - 1 < NC_ARENA_INLINE && need <= NC_ARENA_INLINE - call->dec.inline_used) {
        void *p = call->dec.inline_buf + call->dec.inline_used;
        call->dec.inline_used += need;
        return p;
    }
    if (d->spill && size - 1 < DEC_SPILL_BYTES && need <= DEC_SPILL_BYTES - d->spill_used) {
        void *p = d->spill + d->spill_used;
        d->spill_used += need;
        return p;
    }
    return nocopy__arena_alloc(&call->dec, size);
}

/* Looks up every handle of the request in the port's table, KEPT for the
 * call. Done on the scheduler thread, so a queued call holds its handles.
 * Without the table's lock while no call is on the port's workers: then no
 * other thread can touch the table (the port lock keeps other schedulers out,
 * and only this thread queues calls). The acquire pairs with the release of
 * the worker that lowered `outstanding` last. A call that surely runs inline
 * then takes no references at all (two atomic operations per handle, about
 * an eighth of a short seed call's samples in the driver, perf): the table
 * is pinned instead, and holds on to every
 * handle until the call ends (end_handles in nc_drv_exec.c). */
static void resolve_handles(nc_drv_call *call, int may_queue)
{
    nc_drv_port *dp = call->dp;
    if (!call->req.handles)
        return;
    int alone = atomic_load_explicit(&dp->pool.outstanding, memory_order_acquire) == 0;
    if (alone && !may_queue) {
        call->pinned = 1;
        dp->handles.pinned = 1;
        for (nocopy__wire_node *n = call->req.handles; n; n = n->v.handle.next)
            n->v.handle.obj = nocopy__drv_htable_peek(&dp->handles, n->v.handle.id);
        return;
    }
    for (nocopy__wire_node *n = call->req.handles; n; n = n->v.handle.next)
        n->v.handle.obj = nocopy__drv_htable_lookup(&dp->handles, n->v.handle.id, alone);
}

/* A queued call outlives the ErlIOVec: keep every binary of it (the runtime's
 * copy buffer of small pieces included). 0, or -1 when an entry has bytes but
 * no binary to keep (never seen from port_command) or there is no memory: the
 * call is then refused, never run here instead. */
static int keep_binaries(nc_drv_call *call, const ErlIOVec *ev)
{
    size_t n = 0;
    for (int i = 0; i < ev->vsize; i++) {
        if (ev->iov[i].iov_len > 0 && (!ev->binv || !ev->binv[i]))
            return -1;
        if (ev->binv && ev->binv[i] && (i == 0 || ev->binv[i] != ev->binv[i - 1]))
            n++;
    }
    call->keeps = call_alloc(call, (n ? n : 1) * sizeof *call->keeps);
    if (!call->keeps)
        return -1;
    for (int i = 0; i < ev->vsize; i++)
        if (ev->binv && ev->binv[i] && (i == 0 || ev->binv[i] != ev->binv[i - 1])) {
            driver_binary_inc_refc(ev->binv[i]);
            call->keeps[call->nkeeps++] = ev->binv[i];
        }
    return 0;
}

/* Whether a call of f may go to a worker, judged from the fixed header:
 * NOCOPY_DIRTY_ABOVE calls whose whole request is under the threshold surely
 * stay inline; larger ones are measured once decoded (measured_to_worker). */
static int may_go_to_worker(const nc_drv_port *dp, const nocopy_func *f, size_t request_bytes)
{
    if (!dp->inline_normal)
        return 1;
    switch (f->sched) {
    case NOCOPY_DIRTY_CPU:
    case NOCOPY_DIRTY_IO:
        return 1;
    case NOCOPY_DIRTY_ABOVE:
        return request_bytes > f->dirty_above;
    default:
        return 0;
    }
}

/* NOCOPY_DIRTY_ABOVE measures the decoded arguments as the NIF backend does. */
static int measured_to_worker(nc_drv_call *call, const nocopy_func *f)
{
    if (!call->dp->inline_normal || f->sched != NOCOPY_DIRTY_ABOVE)
        return 1;
    return nocopy__binary_arg_bytes(&call->base) > f->dirty_above;
}

static void reject(nc_drv_call *call, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), cold));

static void reject(nc_drv_call *call, int status, const char *fmt, ...)
{
    char text[NC_ERR_TEXT_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    nocopy__drv_send_error(call->dp, call->caller, &call->req, &call->tag_int, status, 0, text);
}

static void call_reset(nc_drv_call *call, nc_drv_port *dp, ErlDrvTermData caller, int heap)
{
    call->heap = heap;
    call->dp = dp;
    call->caller = caller;
    call->spec = call->spec_inline;
    call->spec_used = NC_DRV_SPEC_HEAD;
    call->spec_cap = NC_DRV_SPEC_INLINE;
    call->owned = NULL;
    call->made = NULL;
    call->keeps = NULL;
    call->nkeeps = 0;
    call->next = NULL;
    call->pinned = 0;
    call->dec.head = NULL;
    call->dec.inline_used = 0;
    call->dec_bytes = 0;
}

/* The function a request's fixed header names: the port's module, an index
 * in its table and that function's argument count; or NULL. */
static inline const nocopy_func *request_func(const nocopy__wreq *req)
{
    const nocopy_module *m = nocopy__drv.mod;
    if (req->module != nocopy__drv.fingerprint || req->func >= m->nfuncs)
        return NULL;
    const nocopy_func *f = &m->funcs[req->func];
    return req->argc == f->arity ? f : NULL;
}

/* request_func(), or NULL after answering the request: a request for another
 * module (the port was mixed up), an index out of the table or a wrong
 * argument count. The tag is read into `call` first, so that the answer
 * reaches the caller's receive. */
static const nocopy_func *checked_func(dec_ctx *dc, nocopy__wreader *rd)
{
    nc_drv_call *call = dc->call;
    const nocopy_module *m = nocopy__drv.mod;
    const nocopy__wreq *req = &call->req;
    const nocopy_func *f = request_func(req);
    if (f)
        return f;
    int st = nocopy__wire_read_tag(rd, dec_alloc, dc, &call->req);
    if (st != NOCOPY_OK)
        reject(call, st, "%s", st == NOCOPY_ENOMEM ? "out of memory reading the request"
                                                   : call->req.err);
    else if (req->module != nocopy__drv.fingerprint)
        nocopy__drv_send_wrong_port(call->dp, call->caller, &call->req, &call->tag_int);
    else if (req->func >= m->nfuncs)
        reject(call, NOCOPY_EPROTO, "no function with index %u (the module has %zu)",
               req->func, m->nfuncs);
    else
        reject(call, NOCOPY_EPROTO, "%s/%u called with %u arguments", m->funcs[req->func].name,
               m->funcs[req->func].arity, req->argc);
    return NULL;
}

/* Hands a decoded call to the port's workers, or answers it at once. */
static void submit(nc_drv_call *call, const ErlIOVec *ev)
{
    nc_drv_port *dp = call->dp;
    if (keep_binaries(call, ev) != 0) {
        reject(call, NOCOPY_ENOMEM, "out of memory keeping the request's binaries");
        nocopy__drv_call_release(call, 0);
        return;
    }
    switch (nocopy__drv_pool_submit(dp, call)) {
    case NC_DRV_QUEUED:
        return;                        /* HANDED OVER to the pool */
    case NC_DRV_QUEUE_FULL:
        reject(call, NOCOPY_EOVERLOAD, "the port's queue of %zu calls is full", dp->pool.limit);
        break;
    case NC_DRV_QUEUE_HEAVY:
        reject(call, NOCOPY_EOVERLOAD,
               "the port's queued calls would hold more than %zu bytes of decoded "
               "requests (this one: %zu)", dp->pool.byte_limit, call->dec_bytes);
        break;
    case NC_DRV_NO_WORKER:
        reject(call, NOCOPY_ENOMEM, "no worker thread could be started");
        break;
    }
    nocopy__drv_call_release(call, 0);
}

/* An inline call of at most this many arguments, in the stubs' common
 * shape, is decoded in one pass with its nodes on dispatch()'s stack
 * (nocopy__wire_decode_flat): no node tree, no allocation. */
#define FLAT_ARGS_MAX 8

/* A decoded call that runs here, on the scheduler thread. */
static inline void run_inline(nc_drv_call *call, const nocopy_func *f)
{
    resolve_handles(call, 0);
    nocopy__call_init(&call->base, nocopy__drv.mod, f, call->req.argc, call->req.argv);
    nocopy__drv_call_execute(call);
}

/* One request, decoded once: the fixed header decides where the call lives
 * (on this stack for a call that runs inline, which never allocates in the
 * common case; on the heap for one that may be queued) and the rest is decoded
 * straight into it. The common shape of an inline call first, in one pass;
 * any other request (or one that may be queued, or a malformed one, whose
 * error the steps report) is decoded from the start by the three steps. */
static void dispatch(nc_drv_port *dp, ErlDrvTermData caller, const ErlIOVec *ev,
                     const nocopy__wire_segment *segs, size_t nsegs)
{
    nc_drv_call on_stack, *call = &on_stack;
    _Alignas(NC_ALIGN) unsigned char spill[DEC_SPILL_BYTES];
    dec_ctx dc = {call, spill, 0};
    nocopy__wreader rd;
    uintptr_t flat_argv[FLAT_ARGS_MAX];
    nocopy__wire_node flat_nodes[FLAT_ARGS_MAX];

    call_reset(call, dp, caller, 0);
    if (nocopy__wire_decode_flat(segs, nsegs, (size_t)ev->size, &call->req, flat_argv,
                                 flat_nodes, FLAT_ARGS_MAX, dec_alloc, &dc) == NOCOPY_OK) {
        const nocopy_func *f = request_func(&call->req);
        if (f && !may_go_to_worker(dp, f, (size_t)ev->size)) {
            run_inline(call, f);
            return;
        }
        /* Decoded again below, into the call's own place. */
        nocopy__arena_free(&call->dec);
        call_reset(call, dp, caller, 0);
        dc.spill_used = 0;
    }
    int st = nocopy__wire_begin_sized(&rd, segs, nsegs, (size_t)ev->size, &call->req);
    if (st != NOCOPY_OK) {
        reject(call, st, "%s", call->req.err);
        return;
    }
    const nocopy_func *f = checked_func(&dc, &rd);
    if (!f)
        goto drop;
    int may_queue = may_go_to_worker(dp, f, (size_t)ev->size);
    if (may_queue) {
        nc_drv_call *h = nocopy__drv_call_new(dp);
        if (!h) {
            if (nocopy__wire_read_tag(&rd, dec_alloc, &dc, &call->req) == NOCOPY_OK)
                reject(call, NOCOPY_ENOMEM, "out of memory queueing the call");
            else
                reject(call, NOCOPY_ENOMEM, "out of memory reading the request");
            goto drop;
        }
        call_reset(h, dp, caller, 1);
        h->req = call->req;              /* the fixed header */
        call = h;
        dc = (dec_ctx){h, NULL, 0};      /* the call may outlive this frame */
    }
    st = nocopy__wire_read_tag(&rd, dec_alloc, &dc, &call->req);
    if (st == NOCOPY_OK)
        st = nocopy__wire_read_args(&rd, dec_alloc, &dc, &call->req);
    if (st != NOCOPY_OK) {
        reject(call, st, "%s", st == NOCOPY_ENOMEM ? "out of memory decoding the request"
                                                   : call->req.err);
        goto drop;
    }
    if (!may_queue) {
        run_inline(call, f);
        return;
    }
    resolve_handles(call, may_queue);
    nocopy__call_init(&call->base, nocopy__drv.mod, f, call->req.argc,
                      call->req.argv);
    if (measured_to_worker(call, f))
        submit(call, ev);
    else
        nocopy__drv_call_execute(call);  /* frees a heap call */
    return;

drop:
    nocopy__arena_free(&call->dec);
    if (call->heap)
        nocopy__drv_call_free(call);
}

static void drv_outputv(ErlDrvData data, ErlIOVec *ev)
{
    nc_drv_port *dp = (nc_drv_port *)data;
    /* The process that called port_command: replies go to it, not to the
     * port owner. Only valid here, on the scheduler thread. */
    ErlDrvTermData caller = driver_caller(dp->port);
    nocopy__wire_segment small[SEGS_INLINE], *segs = small;
    size_t nsegs = ev->vsize > 0 ? (size_t)ev->vsize : 0;

    if (nsegs > SEGS_INLINE && !(segs = driver_alloc(nsegs * sizeof *segs))) {
        nocopy__wreq none = {.tag_kind = NC_WTAG_NONE};
        ErlDrvSInt64 unused;
        nocopy__drv_send_error(dp, caller, &none, &unused, NOCOPY_ENOMEM, 0,
                               "out of memory reading the request");
        return;
    }
    ErlDrvBinary *const *binv = ev->binv;
    for (size_t i = 0; i < nsegs; i++)
        segs[i] = (nocopy__wire_segment){(const uint8_t *)ev->iov[i].iov_base,
                                         (size_t)ev->iov[i].iov_len, binv ? binv[i] : NULL};
    dispatch(dp, caller, ev, segs, nsegs);
    if (segs != small)
        driver_free(segs);
}

static ErlDrvEntry nocopy_driver_entry = {
    .init = drv_init,
    .start = nocopy__drv_port_start,
    .stop = nocopy__drv_port_stop,
    .driver_name = nocopy__drv.driver_name,
    .finish = drv_finish,
    .outputv = drv_outputv,             /* binaries arrive by reference in ev->binv */
    .extended_marker = ERL_DRV_EXTENDED_MARKER,
    .major_version = ERL_DRV_EXTENDED_MAJOR_VERSION,
    .minor_version = ERL_DRV_EXTENDED_MINOR_VERSION,
    /* Port-level locking: calls on different ports run in parallel; a port's
     * own state is guarded by the port lock (outputv, start, stop) and by the
     * pool's and handle table's mutexes (workers). */
    .driver_flags = ERL_DRV_FLAG_USE_PORT_LOCKING,
};

/* erl_ddll requires the entry's name to match the file name, NAME_drv.so. */
DRIVER_INIT(nocopy_drv)
{
    /* The table is checked in drv_init, which the runtime calls next. */
    if (nocopy__drv_name_init(nocopy_module_definition()) != 0)
        return NULL;
    return &nocopy_driver_entry;
}
