/* nc_drv_entry.c: the linked-in driver: its entry, the port lifecycle, and the
 * dispatch of each request (outputv).
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
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nc_drv.h"

/* I/O vectors up to this many entries are described on the stack. */
#define SEGS_INLINE 16

nc_drv_global nocopy__drv;

/* ---- atoms (scheduler thread: driver_mk_atom is not thread-safe) ------------ */

static ErlDrvTermData mk_atom(const char *name)
{
    return driver_mk_atom((char *)name);
}

int nocopy__drv_atoms_init(void)
{
    int rc = 0;
    erl_drv_mutex_lock(nocopy__drv.atoms_mu);
    if (!nocopy__drv.atoms_ready) {
        int n = nocopy__drv.natoms;
        nocopy__drv.mod_atoms = driver_alloc((n ? (size_t)n : 1) * sizeof(ErlDrvTermData));
        if (!nocopy__drv.mod_atoms) {
            rc = -1;
            goto done;
        }
        for (int i = 0; i < NOCOPY_ATOM_BUILTIN_COUNT; i++)
            nocopy__drv.builtin[i] = mk_atom(nocopy__drv.names[i].name);
        for (int i = 0; i < n; i++)
            nocopy__drv.mod_atoms[i] =
                mk_atom(nocopy__drv.names[NOCOPY_ATOM_BUILTIN_COUNT + i].name);
        nocopy__drv.am_reply = mk_atom("nocopy_reply");
        nocopy__drv.am_error_tag = mk_atom("$nocopy_error");
        nocopy__drv.am_badarg = mk_atom("badarg");
        nocopy__drv.am_general = mk_atom("general");
        nocopy__drv.am_handle = mk_atom("$nocopy_handle");
        nocopy__drv.am_wrong_port = mk_atom("wrong_port");
#define XX(name, value, ename, msg)                                                  \
        if (-(value) >= 0 && -(value) < (int)(sizeof nocopy__drv.am_status /         \
                                              sizeof nocopy__drv.am_status[0]))      \
            nocopy__drv.am_status[-(value)] = mk_atom(ename);
        NOCOPY_STATUS_MAP(XX)
#undef XX
        nocopy__drv.atoms_ready = 1;
    }
done:
    erl_drv_mutex_unlock(nocopy__drv.atoms_mu);
    return rc;
}

/* ---- driver load / unload --------------------------------------------------- */

static int names_init(const nocopy_module *m)
{
    static const char *const builtin[NOCOPY_ATOM_BUILTIN_COUNT] = {
        "ok", "error", "true", "false", "undefined"};
    int n = nocopy__module_atom_count(m);
    nocopy__drv.natoms = n;
    nocopy__drv.names = driver_alloc((size_t)(NOCOPY_ATOM_BUILTIN_COUNT + n) *
                                     sizeof *nocopy__drv.names);
    if (!nocopy__drv.names)
        return -1;
    for (int i = 0; i < NOCOPY_ATOM_BUILTIN_COUNT + n; i++) {
        const char *s = i < NOCOPY_ATOM_BUILTIN_COUNT ? builtin[i]
                                                      : m->atoms[i - NOCOPY_ATOM_BUILTIN_COUNT];
        size_t len = strlen(s);
        if (len > 255) {               /* the runtime's atom length limit */
            fprintf(stderr, "nocopy: atom \"%.40s...\" is too long\n", s);
            return -1;
        }
        nocopy__drv.names[i] = (nc_drv_atom_name){s, len};
    }
    return 0;
}

static void globals_free(void)
{
    nocopy__drv_tombstones_free();
    if (nocopy__drv.names)
        driver_free(nocopy__drv.names);
    if (nocopy__drv.mod_atoms)
        driver_free(nocopy__drv.mod_atoms);
    if (nocopy__drv.atoms_mu)
        erl_drv_mutex_destroy(nocopy__drv.atoms_mu);
    nocopy__drv.names = NULL;
    nocopy__drv.mod_atoms = NULL;
    nocopy__drv.atoms_mu = NULL;
    nocopy__drv.atoms_ready = 0;
}

static int drv_init(void)
{
    const nocopy_module *m = nocopy_module_definition();
    nocopy__drv.mod = m;
    nocopy__drv.fingerprint = nocopy__module_fingerprint(m);
    if (m->nfuncs > UINT32_MAX || names_init(m) != 0 || nocopy__drv_tombstones_init() != 0 ||
        !(nocopy__drv.atoms_mu = erl_drv_mutex_create("nocopy_atoms")) ||
        nocopy__drv_janitor_init() != 0)
        goto fail;
    nocopy__backend = &nocopy__drv_ops;
    if (m->load && m->load() != NOCOPY_OK)
        goto fail;
    return 0;
fail:
    nocopy__drv_janitor_finish();
    globals_free();
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
    globals_free();
}

/* ---- ports -------------------------------------------------------------------- */

typedef struct port_options {
    unsigned long long workers;
    unsigned long long queue;               /* calls */
    unsigned long long queue_bytes;         /* bytes of decoded requests */
    unsigned long long inline_normal;       /* 0: NOCOPY_NORMAL calls go to workers too */
} port_options;

/* "NAME_drv workers=4 queue=1024 queue_bytes=67108864 inline=1": the
 * open_port command after the name (the last of a repeated option counts),
 * options and limits from nc_drv_options.h. inline=0 sends every call to the
 * workers (for ports whose callers must never run C on a scheduler, and to
 * test the worker path). */
static int parse_options(const char *cmd, port_options *o)
{
    struct {
        const char *name;                   /* with its '=' */
        unsigned long long *value, min, max;
    } known[] = {
#define XX(name, field, dflt, min, max, boolean) {#name "=", &o->field, min, max},
        NC_DRV_OPTIONS(XX)
#undef XX
    };
    const char *p = strchr(cmd, ' ');
    while (p && *p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        size_t k = 0, nknown = sizeof known / sizeof known[0];
        while (k < nknown && strncmp(p, known[k].name, strlen(known[k].name)) != 0)
            k++;
        if (k == nknown)
            return -1;
        const char *v = p + strlen(known[k].name);
        if (*v < '0' || *v > '9')           /* strtoull takes signs and blanks */
            return -1;
        char *end;
        errno = 0;
        unsigned long long n = strtoull(v, &end, 10);
        if ((*end != ' ' && *end != '\0') || errno || n < known[k].min || n > known[k].max)
            return -1;
        *known[k].value = n;
        p = end;
    }
    return 0;
}

static ErlDrvData drv_start(ErlDrvPort port, char *command)
{
    port_options o = {
#define XX(name, field, dflt, min, max, boolean) .field = dflt,
        NC_DRV_OPTIONS(XX)
#undef XX
    };
    if (parse_options(command, &o) != 0)
        return ERL_DRV_ERROR_BADARG;
    if (nocopy__drv_atoms_init() != 0)
        return ERL_DRV_ERROR_GENERAL;
    nc_drv_port *dp = driver_alloc(sizeof *dp);
    if (!dp)
        return ERL_DRV_ERROR_GENERAL;
    dp->port = port;
    dp->port_term = driver_mk_port(port);
    dp->inline_normal = (int)o.inline_normal;
    size_t queue_bytes = o.queue_bytes > SIZE_MAX ? SIZE_MAX : (size_t)o.queue_bytes;
    if (nocopy__drv_pool_init(&dp->pool, (unsigned)o.workers, (size_t)o.queue,
                              queue_bytes) != 0) {
        driver_free(dp);
        return ERL_DRV_ERROR_GENERAL;
    }
    if (nocopy__drv_htable_init(&dp->handles) != 0) {
        nocopy__drv_pool_close(&dp->pool);
        nocopy__drv_pool_join(&dp->pool);
        driver_free(dp);
        return ERL_DRV_ERROR_GENERAL;
    }
    return (ErlDrvData)dp;
}

void nocopy__drv_port_free(nc_drv_port *dp)
{
    nocopy__drv_pool_join(&dp->pool);
    nocopy__drv_htable_destroy(&dp->handles);
    driver_free(dp);
}

/* The port closed (port_close, owner exit, driver unload with kill_ports).
 * Queued calls are cancelled and the port's handles dropped; calls running on
 * the workers are not waited for: they finish on their threads, release what
 * they hold, and their replies go nowhere (their callers see the port go
 * down). The janitor frees the port once they are done. */
static void drv_stop(ErlDrvData data)
{
    nc_drv_port *dp = (nc_drv_port *)data;
    unsigned workers = nocopy__drv_pool_close(&dp->pool);
    nocopy__drv_htable_close(&dp->handles);
    if (workers == 0)
        nocopy__drv_port_free(dp);
    else
        nocopy__drv_janitor_adopt(dp);
}

/* ---- one call ------------------------------------------------------------------ */

static void release_call(nc_drv_call *call, int committed)
{
    nocopy__drv_release_owned(call);
    if (!committed)
        for (nc_drv_made *m = call->made; m; m = m->next)
            nocopy__drv_htable_remove(&call->dp->handles, m->id, m->h);
    call->made = NULL;
    /* Ends the handle borrows (a handle closed during the call is destroyed
     * here) before the references taken at decode time go. */
    nocopy__call_finish(&call->base);
    for (nocopy__wnode *n = call->req.handles; n; n = n->v.handle.next)
        if (n->v.handle.obj && !nocopy__drv_is_tombstone(n->v.handle.obj))
            nocopy__drv_handle_release(n->v.handle.obj);
    for (size_t i = 0; i < call->nkeeps; i++)
        driver_free_binary(call->keeps[i]);
    nocopy__arena_free(&call->dec);
    if (call->heap)
        driver_free(call);
}

void nocopy__drv_call_execute(nc_drv_call *call)
{
    int st = nocopy__call_run(&call->base);
    int delivered = nocopy__drv_send_outcome(call, st);
    /* A result that reached nobody (the caller died) gives its handles back,
     * as a NIF term that is never kept would. */
    release_call(call, st == NOCOPY_OK && delivered);
}

void nocopy__drv_call_discard(nc_drv_call *call)
{
    /* Usually undeliverable (the port is closing); the caller's port monitor
     * tells it anyway. */
    nocopy__drv_send_error(call->dp, call->caller, &call->req, &call->tag_int,
                           NOCOPY_ECLOSED, 0, "the port closed before the call ran");
    release_call(call, 0);
}

/* The decoder's allocator: the call's arena, counting what a queued call
 * will hold. */
static void *dec_alloc(void *ctx, size_t size)
{
    nc_drv_call *call = ctx;
    call->dec_bytes += size;
    return nocopy__arena_alloc(&call->dec, size);
}

/* Looks up every handle of the request in the port's table, KEPT for the
 * call. Done on the scheduler thread, so a queued call holds its handles. */
static void resolve_handles(nc_drv_call *call)
{
    for (nocopy__wnode *n = call->req.handles; n; n = n->v.handle.next)
        n->v.handle.obj = nocopy__drv_htable_lookup(&call->dp->handles, n->v.handle.id);
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
    call->keeps = dec_alloc(call, (n ? n : 1) * sizeof *call->keeps);
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
    __attribute__((format(printf, 3, 4)));

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
    call->owned = NULL;
    call->made = NULL;
    call->keeps = NULL;
    call->nkeeps = 0;
    call->next = NULL;
    call->dec.head = NULL;
    call->dec.inline_used = 0;
    call->dec_bytes = 0;
}

/* The function a request's fixed header names, or NULL after answering the
 * request: a request for another module (the port was mixed up), an index
 * out of the table or a wrong argument count. The tag is read into `call`
 * first, so that the answer reaches the caller's receive. */
static const nocopy_func *checked_func(nc_drv_call *call, nocopy__wreader *rd)
{
    const nocopy_module *m = nocopy__drv.mod;
    const nocopy__wreq *req = &call->req;
    int module_ok = req->module == nocopy__drv.fingerprint;
    const nocopy_func *f = module_ok && req->func < m->nfuncs ? &m->funcs[req->func] : NULL;
    if (f && req->argc == f->arity)
        return f;
    int st = nocopy__wire_read_tag(rd, dec_alloc, call, &call->req);
    if (st != NOCOPY_OK)
        reject(call, st, "%s", st == NOCOPY_ENOMEM ? "out of memory reading the request"
                                                   : call->req.err);
    else if (!module_ok)
        nocopy__drv_send_wrong_port(call->dp, call->caller, &call->req, &call->tag_int);
    else if (!f)
        reject(call, NOCOPY_EPROTO, "no function with index %u (the module has %zu)",
               req->func, m->nfuncs);
    else
        reject(call, NOCOPY_EPROTO, "%s/%u called with %u arguments", f->name, f->arity,
               req->argc);
    return NULL;
}

/* Hands a decoded call to the port's workers, or answers it at once. */
static void submit(nc_drv_call *call, const ErlIOVec *ev)
{
    nc_drv_port *dp = call->dp;
    if (keep_binaries(call, ev) != 0) {
        reject(call, NOCOPY_ENOMEM, "out of memory keeping the request's binaries");
        release_call(call, 0);
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
    release_call(call, 0);
}

/* One request, decoded once: the fixed header decides where the call lives
 * (on this stack for a call that runs inline, which never allocates in the
 * common case; on the heap for one that may be queued) and the rest is decoded
 * straight into it. */
static void dispatch(nc_drv_port *dp, ErlDrvTermData caller, const ErlIOVec *ev,
                     const nocopy__wseg *segs, size_t nsegs)
{
    nc_drv_call on_stack, *call = &on_stack;
    nocopy__wreader rd;

    call_reset(call, dp, caller, 0);
    int st = nocopy__wire_begin(&rd, segs, nsegs, &call->req);
    if (st != NOCOPY_OK) {
        reject(call, st, "%s", call->req.err);
        return;
    }
    const nocopy_func *f = checked_func(call, &rd);
    if (!f)
        goto drop;
    int may_queue = may_go_to_worker(dp, f, (size_t)ev->size);
    if (may_queue) {
        nc_drv_call *h = driver_alloc(sizeof *h);
        if (!h) {
            if (nocopy__wire_read_tag(&rd, dec_alloc, call, &call->req) == NOCOPY_OK)
                reject(call, NOCOPY_ENOMEM, "out of memory queueing the call");
            else
                reject(call, NOCOPY_ENOMEM, "out of memory reading the request");
            goto drop;
        }
        call_reset(h, dp, caller, 1);
        h->req = call->req;              /* the fixed header */
        call = h;
    }
    st = nocopy__wire_read_tag(&rd, dec_alloc, call, &call->req);
    if (st == NOCOPY_OK)
        st = nocopy__wire_read_args(&rd, dec_alloc, call, &call->req);
    if (st != NOCOPY_OK) {
        reject(call, st, "%s", st == NOCOPY_ENOMEM ? "out of memory decoding the request"
                                                   : call->req.err);
        goto drop;
    }
    resolve_handles(call);
    nocopy__call_init(&call->base, &nocopy__drv_ops, nocopy__drv.mod, f, call->req.argc,
                      call->req.argv);
    if (may_queue && measured_to_worker(call, f))
        submit(call, ev);
    else
        nocopy__drv_call_execute(call);  /* frees a heap call */
    return;

drop:
    nocopy__arena_free(&call->dec);
    if (call->heap)
        driver_free(call);
}

static void drv_outputv(ErlDrvData data, ErlIOVec *ev)
{
    nc_drv_port *dp = (nc_drv_port *)data;
    /* The process that called port_command: replies go to it, not to the
     * port owner. Only valid here, on the scheduler thread. */
    ErlDrvTermData caller = driver_caller(dp->port);
    nocopy__wseg small[SEGS_INLINE], *segs = small;
    size_t nsegs = ev->vsize > 0 ? (size_t)ev->vsize : 0;

    if (nsegs > SEGS_INLINE && !(segs = driver_alloc(nsegs * sizeof *segs))) {
        nocopy__wreq none = {.tag_kind = NC_WTAG_NONE};
        ErlDrvSInt64 unused;
        nocopy__drv_send_error(dp, caller, &none, &unused, NOCOPY_ENOMEM, 0,
                               "out of memory reading the request");
        return;
    }
    for (size_t i = 0; i < nsegs; i++) {
        segs[i].base = (const uint8_t *)ev->iov[i].iov_base;
        segs[i].len = (size_t)ev->iov[i].iov_len;
        segs[i].binref = ev->binv ? ev->binv[i] : NULL;
    }
    dispatch(dp, caller, ev, segs, nsegs);
    if (segs != small)
        driver_free(segs);
}

static ErlDrvEntry nocopy_driver_entry = {
    .init = drv_init,
    .start = drv_start,
    .stop = drv_stop,
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
    const nocopy_module *m = nocopy_module_definition();
    int n = snprintf(nocopy__drv.driver_name, sizeof nocopy__drv.driver_name, "%s_drv",
                     m->name);
    if (n < 0 || (size_t)n >= sizeof nocopy__drv.driver_name)
        return NULL;
    return &nocopy_driver_entry;
}
