/* nc_iso_host_nif.c: the NIFs of nocopy_iso (priv/nocopy_iso_nif.so).
 *
 * No NIF waits for the child: a call sends its CALL with a send that never
 * waits (nocopy__iso_chan_try_send), or queues it when the channel is full
 * (nc_iso_host_send.c), and returns; the reply arrives as a message from the incarnation's
 * reader thread (nc_iso_host_inc.c). Starting a child (posix_spawn and the
 * regions) runs on a dirty I/O scheduler.
 *
 * A request's walk and its CALL: nc_iso_host_request.c. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nc_iso_chan.h"
#include "nc_iso_host.h"
#include "nc_iso_host_options.h"
#include "nc_iso_host_stamps.h"


static ERL_NIF_TERM atom(ErlNifEnv *env, const char *name)
{
    return enif_make_atom(env, name);
}

static ERL_NIF_TERM error2(ErlNifEnv *env, const char *reason, const char *text)
{
    ERL_NIF_TERM bin;
    size_t n = strlen(text);
    memcpy(enif_make_new_binary(env, n, &bin), text, n);
    return enif_make_tuple3(env, atom(env, "error"), atom(env, reason), bin);
}

/* ---- the isolate ------------------------------------------------------------------ */

static void iso_stop(nc_host_iso *iso)
{
    enif_mutex_lock(iso->mu);
    iso->stopped = 1;
    nc_host_inc *inc = iso->inc;
    iso->inc = NULL;
    enif_mutex_unlock(iso->mu);
    if (inc) {
        enif_mutex_lock(inc->mu);
        inc->stopping = 1;
        enif_mutex_unlock(inc->mu);
        /* The reader sees the channel close and ends the calls in flight. */
        nocopy__host_inc_kill(inc, "the isolate was stopped");
        nocopy__host_inc_unref(inc);
    }
}

static void iso_dtor(ErlNifEnv *env, void *obj)
{
    (void)env;
    nc_host_iso *iso = obj;
    if (iso->mu) {
        iso_stop(iso);
        enif_mutex_destroy(iso->mu);
    }
    enif_free(iso->atoms);
    enif_free(iso->restart_times);
    nocopy__host_scratch_free(atomic_exchange(&iso->scratch, NULL));
}

static nc_host_iso *get_iso(ErlNifEnv *env, ERL_NIF_TERM t)
{
    nc_host_iso *iso;
    return enif_get_resource(env, t, nocopy__host_iso_rt, (void **)&iso) ? iso : NULL;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Starts a new incarnation if the current one is dead (or none), within the
 * restart budget; first: the first start, which the budget does not count. */
static ERL_NIF_TERM iso_restart(ErlNifEnv *env, nc_host_iso *iso, int first)
{
    char why[256];
    enif_mutex_lock(iso->mu);
    if (iso->stopped) {
        enif_mutex_unlock(iso->mu);
        return error2(env, "eclosed", "the isolate was stopped");
    }
    nc_host_inc *old = iso->inc;
    if (old && !old->dead) {
        enif_mutex_unlock(iso->mu);
        return atom(env, "ok");        /* another caller restarted it */
    }
    if (!first) {
        long long now = now_ms();
        int recent = 0;
        for (int i = 0; i < iso->nrestarts; i++)
            if (now - iso->restart_times[i] < iso->period_ms)
                recent++;
        if (recent >= iso->intensity) {
            snprintf(why, sizeof why,
                     "%s; not restarted: %d restarts within %ld ms is the isolate's budget",
                     old ? old->death : "the isolate's process ended", iso->intensity,
                     iso->period_ms);
            enif_mutex_unlock(iso->mu);
            return error2(env, "ecrashed", why);
        }
        if (iso->intensity > 0) {
            /* The oldest time makes room for now. */
            int at = iso->nrestarts < iso->intensity ? iso->nrestarts++ : 0;
            if (at == 0 && iso->nrestarts == iso->intensity)
                for (int i = 1; i < iso->intensity; i++)
                    if (iso->restart_times[i] < iso->restart_times[at])
                        at = i;
            iso->restart_times[at] = now;
        }
    }
    nc_host_inc *inc;
    int st = nocopy__host_inc_start(iso, ++iso->incarnations, &inc, why, sizeof why);
    if (st != NOCOPY_OK) {
        enif_mutex_unlock(iso->mu);
        return error2(env, first ? "start_failed" : "ecrashed", why);
    }
    iso->inc = inc;
    enif_mutex_unlock(iso->mu);
    if (old)
        nocopy__host_inc_unref(old);
    return atom(env, "ok");
}

/* start_nif(Path, Module, Atoms, RegionBytes, Threads, TimeoutMs, Intensity, PeriodMs,
 *           SpinUs) */
static ERL_NIF_TERM start_nif(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    ErlNifBinary path;
    unsigned len;
    unsigned long region, threads;
    long timeout, period;
    int intensity;
    unsigned long spin_us;
    if (!enif_inspect_binary(env, argv[0], &path) || path.size == 0 || path.size >= 4096 ||
        memchr(path.data, 0, path.size) || !enif_is_atom(env, argv[1]) ||
        !enif_get_list_length(env, argv[2], &len) || !enif_get_ulong(env, argv[3], &region) ||
        !enif_get_ulong(env, argv[4], &threads) || !enif_get_long(env, argv[5], &timeout) ||
        !enif_get_int(env, argv[6], &intensity) || !enif_get_long(env, argv[7], &period) ||
        !enif_get_ulong(env, argv[8], &spin_us) || intensity < 0 || intensity > 1000 ||
        spin_us > 1000000)
        return enif_make_badarg(env);
    nc_host_iso *iso = enif_alloc_resource(nocopy__host_iso_rt, sizeof *iso);
    if (!iso)
        return error2(env, "enomem", "out of memory");
    memset(iso, 0, sizeof *iso);
    memcpy(iso->path, path.data, path.size);
    iso->module = argv[1];
    iso->region_bytes = region;
    iso->threads = threads;
    iso->timeout_ms = timeout;
    iso->intensity = intensity;
    iso->period_ms = period;
    iso->spin_ns = (uint64_t)spin_us * 1000;
    iso->atoms = enif_alloc((len ? len : 1) * sizeof *iso->atoms);
    iso->restart_times = enif_alloc((size_t)(intensity ? intensity : 1) * sizeof(long long));
    iso->mu = enif_mutex_create("nocopy_iso");
    atomic_init(&iso->copied_bytes, 0);
    atomic_init(&iso->inline_bytes, 0);
    atomic_init(&iso->slot_replies, 0);
    atomic_init(&iso->slot_abandoned, 0);
    atomic_init(&iso->slot_declined, 0);
    atomic_init(&iso->spin_skip_until, 0);
    atomic_init(&iso->spin_backoff, NC_ISO_SPIN_BACKOFF);
    atomic_init(&iso->slot_skipped, 0);
    atomic_init(&iso->slot_cold, 0);
    atomic_init(&iso->slot_posted, 0);
    ERL_NIF_TERM list = argv[2], head;
    for (size_t i = 0; iso->atoms && enif_get_list_cell(env, list, &head, &list); i++) {
        if (!enif_is_atom(env, head)) {
            enif_release_resource(iso);
            return enif_make_badarg(env);
        }
        iso->atoms[i] = head;          /* atoms are valid in every env */
        iso->natoms = i + 1;
    }
    if (!iso->atoms || !iso->restart_times || !iso->mu) {
        enif_release_resource(iso);
        return error2(env, "enomem", "out of memory");
    }
    ERL_NIF_TERM r = iso_restart(env, iso, 1);
    if (!enif_is_identical(r, atom(env, "ok"))) {
        enif_release_resource(iso);
        return r;
    }
    ERL_NIF_TERM t = enif_make_resource(env, iso);
    enif_release_resource(iso);
    return enif_make_tuple2(env, atom(env, "ok"), t);
}

static ERL_NIF_TERM restart_nif(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    nc_host_iso *iso = get_iso(env, argv[0]);
    return iso ? iso_restart(env, iso, 0) : enif_make_badarg(env);
}

static ERL_NIF_TERM stop_nif(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    nc_host_iso *iso = get_iso(env, argv[0]);
    if (!iso)
        return enif_make_badarg(env);
    iso_stop(iso);
    return atom(env, "ok");
}

/* option_limits_nif(): the queue's options, [{Name, Default, Min, Max}]
 * from nc_iso_host_options.h, for nocopy_iso:start/2 to check and fill in. */
static ERL_NIF_TERM option_limits_nif(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    (void)argv;
    ERL_NIF_TERM l = enif_make_list(env, 0);
#define XX(name, def, min, max)                                                        \
    l = enif_make_list_cell(env,                                                        \
                            enif_make_tuple4(env, atom(env, #name), enif_make_uint64(env, def), \
                                             enif_make_uint64(env, min),                \
                                             enif_make_uint64(env, max)),               \
                            l);
    NC_ISO_HOST_OPTIONS(XX)
#undef XX
    return l;
}

/* set_queue_nif(Iso, Calls, Bytes): the queue's bounds, set by start/2
 * before it returns the isolate. */
static ERL_NIF_TERM set_queue_nif(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    nc_host_iso *iso = get_iso(env, argv[0]);
    ErlNifUInt64 calls, bytes;
    if (!iso || !enif_get_uint64(env, argv[1], &calls) || !enif_get_uint64(env, argv[2], &bytes) ||
        calls > NC_ISO_QUEUE_MAX || bytes > NC_ISO_QUEUE_BYTES_MAX)
        return enif_make_badarg(env);
    atomic_store(&iso->queue_max, calls);
    atomic_store(&iso->queue_bytes_max, bytes);
    return atom(env, "ok");
}

/* kill_nif(Iso, Tag): a call's timeout. Kills the current child only if the
 * caller's call Tag is in flight on it: a timer that fires after that call's
 * child died and another caller restarted the isolate must not kill the new
 * child. true if it killed, false if the call has its answer (sent, or on its
 * way from the reader of a dead child), queued if its CALL was still in the
 * VM's queue: taken out, never sent, nothing killed, no answer to come. */
static ERL_NIF_TERM kill_nif(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    nc_host_iso *iso = get_iso(env, argv[0]);
    ErlNifSInt64 tag;
    if (!iso || !enif_get_int64(env, argv[1], &tag))
        return enif_make_badarg(env);
    ErlNifPid caller;
    enif_self(env, &caller);
    int killed = 0;
    nc_host_call *queued = NULL;
    enif_mutex_lock(iso->mu);
    /* A CALL still queued never reached the child, which may be well: it
     * is taken back, and the caller times out alone (no answer will come). */
    if (iso->inc && (queued = nocopy__host_inc_take_queued(iso->inc, &caller, tag)) == NULL &&
        nocopy__host_inc_holds(iso->inc, &caller, tag)) {
        nocopy__host_inc_kill(iso->inc, "a call took longer than the isolate's timeout");
        killed = 1;
    }
    enif_mutex_unlock(iso->mu);
    if (queued) {
        nocopy__host_call_free(queued);
        return atom(env, "queued");
    }
    return atom(env, killed ? "true" : "false");
}

/* The current incarnation, referenced, or NULL (dead or stopped). */
static nc_host_inc *current(nc_host_iso *iso)
{
    enif_mutex_lock(iso->mu);
    nc_host_inc *inc = iso->inc;
    if (inc && !inc->dead)
        nocopy__host_inc_ref(inc);
    else
        inc = NULL;
    enif_mutex_unlock(iso->mu);
    return inc;
}

/* binary_nif(Iso, Bin): Bin copied into a new input block; the binary over
 * it, or `dead`. */
/* binary_nif(Iso, IoData): {ok, Binary} in a new input block holding the
 * bytes of IoData (walked piece by piece: never flattened in the VM first),
 * `dead`, or {error, Reason, Text}. A copy of more than NC_HOST_DIRTY_COPY
 * bytes is rescheduled on a dirty CPU scheduler. */
static ERL_NIF_TERM binary_nif(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    nc_host_iso *iso = get_iso(env, argv[0]);
    if (!iso)
        return enif_make_badarg(env);
    nc_host_scratch *scratch = nocopy__host_scratch_take(iso);
    if (!scratch)
        return error2(env, "enomem", "out of memory");
    if (nocopy__host_request_pieces(env, argv[1], scratch) != 0) {
        nocopy__host_scratch_give(iso, scratch);
        return enif_make_badarg(env);
    }
    size_t size = nocopy__host_request_bytes(scratch);
    if (size > NC_HOST_DIRTY_COPY && enif_thread_type() == ERL_NIF_THR_NORMAL_SCHEDULER) {
        nocopy__host_scratch_give(iso, scratch);
        return enif_schedule_nif(env, "binary_nif", ERL_NIF_DIRTY_JOB_CPU_BOUND, binary_nif,
                                 argc, argv);
    }
    nc_host_inc *inc = current(iso);
    nc_host_block *b = inc ? nocopy__host_block_new(inc, size) : NULL;
    ERL_NIF_TERM r;
    if (!inc) {
        r = atom(env, "dead");
    } else if (!b) {
        r = error2(env, "enomem", "the isolate's input region is full");
    } else {
        uint8_t *p = inc->in.base + b->off;
        nocopy__host_request_gather(scratch, p);
        if (enif_thread_type() == ERL_NIF_THR_DIRTY_CPU_SCHEDULER)
            atomic_fetch_add(&iso->dirty_copies, 1);
        r = enif_make_tuple2(env, atom(env, "ok"), enif_make_resource_binary(env, b, p, size));
        enif_release_resource(b);
    }
    nocopy__host_scratch_give(iso, scratch);
    if (inc)
        nocopy__host_inc_unref(inc);
    return r;
}

/* ---- a call ----------------------------------------------------------------------- */


/* Sends the CALL, or queues it when the channel is full or the queue holds
 * messages (its reply slot given back first: the caller will not wait for
 * it). NOCOPY_OK (sent, posted or queued), or the send's status, *queued
 * saying why it was not queued. */
static int send_or_queue(nc_host_iso *iso, nc_host_inc *inc, nc_host_call *call,
                         uint8_t *msg, size_t len, int *slot, int *posted, int *queued)
{
    enif_mutex_lock(inc->mu);
    int st = nocopy__host_inc_call_locked(inc, msg, len, *slot >= 0, posted);
    if (st == NOCOPY_EOVERLOAD) {
        nocopy__host_slot_unarm_locked(inc, call);
        *slot = -1;
        *queued = nocopy__host_inc_queue_call_locked(
            inc, msg, len, call->id, atomic_load_explicit(&iso->queue_max, memory_order_relaxed),
            atomic_load_explicit(&iso->queue_bytes_max, memory_order_relaxed));
        if (*queued == NC_HOST_QUEUED) {
            st = NOCOPY_OK;
            atomic_fetch_add_explicit(&iso->queued_total, 1, memory_order_relaxed);
        } else if (*queued == NC_HOST_QUEUE_DEAD) {
            st = NOCOPY_ECLOSED;
        }
    }
    enif_mutex_unlock(inc->mu);
    return st;
}

static ERL_NIF_TERM queue_full(ErlNifEnv *env, const char *what, uint64_t max,
                               const char *option)
{
    char text[160];
    snprintf(text, sizeof text,
             "the isolate's queue is full: its channel is full and the calls waiting in "
             "the VM reach its bound of %llu %s (option %s)", (unsigned long long)max, what, option);
    return error2(env, "eoverload", text);
}

/* call_nif(Iso, Module, Tag, Request): sends the call; the reply comes as
 * {nocopy_reply, Tag, Reply}. Returns that reply itself when it came in the
 * call's reply slot within the isolate's spin, else the isolate's timeout
 * (infinity or ms) once sent, `dead` (restart, then call again),
 * {wrong_module, M}, or {error, Reason, Text}. */
static ERL_NIF_TERM call_nif(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    VM_STAMP(NC_ISO_STAMP_ENTRY);
    nc_host_iso *iso = get_iso(env, argv[0]);
    ErlNifSInt64 tag;
    if (!iso || !enif_get_int64(env, argv[2], &tag))
        return enif_make_badarg(env);
    if (!enif_is_identical(argv[1], iso->module))
        return enif_make_tuple2(env, atom(env, "wrong_module"), iso->module);
    nc_host_scratch *scratch = nocopy__host_scratch_take(iso);
    if (!scratch)
        return error2(env, "enomem", "out of memory");
    if (nocopy__host_request_pieces(env, argv[3], scratch) != 0) {
        nocopy__host_scratch_give(iso, scratch);
        return enif_make_badarg(env);
    }
    nc_host_inc *inc = current(iso);
    /* A copy of more than NC_HOST_DIRTY_COPY bytes into the input region
     * runs on a dirty CPU scheduler (this NIF, rescheduled): a NIF on a
     * normal scheduler should return within a millisecond, and 256 MiB
     * take tens of them. */
    if (inc && nocopy__host_request_bytes(scratch) > NC_HOST_DIRTY_COPY &&
        enif_thread_type() == ERL_NIF_THR_NORMAL_SCHEDULER &&
        nocopy__host_request_copy_bytes(inc, scratch) > NC_HOST_DIRTY_COPY) {
        nocopy__host_scratch_give(iso, scratch);
        nocopy__host_inc_unref(inc);
        return enif_schedule_nif(env, "call_nif", ERL_NIF_DIRTY_JOB_CPU_BOUND, call_nif, argc,
                                 argv);
    }
    if (!inc) {
        nocopy__host_scratch_give(iso, scratch);
        enif_mutex_lock(iso->mu);
        int stopped = iso->stopped;
        enif_mutex_unlock(iso->mu);
        return stopped ? error2(env, "eclosed", "the isolate was stopped") : atom(env, "dead");
    }
    /* malloc, not enif_alloc: the reader thread frees the call, and a block
     * of a scheduler's allocator freed by another thread is handed back to
     * that scheduler (a delayed deallocation that can wake it): measured
     * with perf in the reader's profile, on every call. */
    nc_host_call *call = malloc(sizeof *call);
    uint8_t *msg = nocopy__host_scratch_msg(scratch);
    ERL_NIF_TERM r;
    const char *err = "out of memory";
    if (!call) {
        r = error2(env, "enomem", err);
        goto done;
    }
    memset(call, 0, sizeof *call);
    call->slot = -1;
    call->inc = inc;
    enif_self(env, &call->caller);
    call->tag = tag;
    enif_keep_resource(iso);
    call->iso = iso;
    int reg = nocopy__host_inc_register(inc, call);
    if (reg != 0) {
        nocopy__host_call_free(call);
        r = reg == -1 ? atom(env, "dead")
                      : error2(env, "eoverload", "too many calls in flight on the isolate");
        goto done;
    }
    VM_STAMP(NC_ISO_STAMP_PREPARED);
    size_t len = nocopy__host_build_call(iso, inc, call, scratch, &err);
    if (len && enif_thread_type() == ERL_NIF_THR_DIRTY_CPU_SCHEDULER)
        atomic_fetch_add(&iso->dirty_copies, 1);
    int st = NOCOPY_ENOMEM;
    VM_STAMP(NC_ISO_STAMP_BUILT);
    if (len && iso->spin_ns && !nocopy__host_skip_spin(iso))
        nocopy__host_slot_arm(inc, call);
    VM_STAMP(NC_ISO_STAMP_ARMED);
    /* Read before the send: once sent, the reader may end and free the
     * call (the child's death). */
    uint64_t id = call->id;
    int slot = call->slot, posted = 0, queued = NC_HOST_QUEUED;
    /* Before the send: a child thread woken on this core runs while this
     * thread waits for it, and its poll must know to yield. */
    if (slot >= 0)
        nocopy__iso_spin_publish(&((nocopy__iso_slot *)(inc->slots.base + NC_ISO_CALL_SLOT *
                                                        NC_ISO_SLOT_BYTES))->vm_cpu);
    if (len)
        st = send_or_queue(iso, inc, call, msg, len, &slot, &posted, &queued);
    if (st == NOCOPY_OK) {
        if (posted) {
            VM_STAMP(NC_ISO_STAMP_POSTED);
            atomic_fetch_add(&iso->slot_posted, 1);
        }
        r = slot >= 0 ? nocopy__host_slot_reply(env, iso, inc, id, slot, posted,
                                    nocopy__host_scratch_stacks(scratch))
                      : 0;
        if (!r)
            r = iso->timeout_ms < 0 ? atom(env, "infinity")
                                    : enif_make_long(env, iso->timeout_ms);
        goto done;
    }
    /* Not sent: take it back, unless the reader failed it meanwhile (its
     * caller gets that answer). */
    nc_host_call *back = nocopy__host_inc_unregister(inc, id);
    if (!back) {
        r = iso->timeout_ms < 0 ? atom(env, "infinity") : enif_make_long(env, iso->timeout_ms);
        goto done;
    }
    nocopy__host_call_free(back);
    if (!len)
        r = error2(env, "enomem", err);
    else if (queued == NC_HOST_QUEUE_FULL_CALLS)
        r = queue_full(env, "calls", atomic_load(&iso->queue_max), "queue");
    else if (queued == NC_HOST_QUEUE_FULL_BYTES)
        r = queue_full(env, "bytes", atomic_load(&iso->queue_bytes_max), "queue_bytes");
    else if (queued == NC_HOST_QUEUE_NOMEM)
        r = error2(env, "enomem", "no memory to queue the call");
    else
        r = atom(env, "dead");
done:
    nocopy__host_scratch_give(iso, scratch);
    nocopy__host_inc_unref(inc);
    VM_STAMP(NC_ISO_STAMP_EXIT);
    nocopy__host_stamps_record();
    return r;
}

/* ---- info --------------------------------------------------------------------------- */

static ERL_NIF_TERM info_nif(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    nc_host_iso *iso = get_iso(env, argv[0]);
    if (!iso)
        return enif_make_badarg(env);
    ERL_NIF_TERM m = enif_make_new_map(env);
#define PUT(k, v) enif_make_map_put(env, m, atom(env, k), v, &m)
    PUT("copied_bytes", enif_make_uint64(env, atomic_load(&iso->copied_bytes)));
    PUT("inline_bytes", enif_make_uint64(env, atomic_load(&iso->inline_bytes)));
    PUT("slot_replies", enif_make_uint64(env, atomic_load(&iso->slot_replies)));
    PUT("slot_abandoned", enif_make_uint64(env, atomic_load(&iso->slot_abandoned)));
    PUT("slot_declined", enif_make_uint64(env, atomic_load(&iso->slot_declined)));
    PUT("slot_skipped", enif_make_uint64(env, atomic_load(&iso->slot_skipped)));
    PUT("queued_total", enif_make_uint64(env, atomic_load(&iso->queued_total)));
    PUT("slot_cold", enif_make_uint64(env, atomic_load(&iso->slot_cold)));
    PUT("slot_posted", enif_make_uint64(env, atomic_load(&iso->slot_posted)));
    PUT("dirty_copies", enif_make_uint64(env, atomic_load(&iso->dirty_copies)));
    enif_mutex_lock(iso->mu);
    PUT("incarnation", enif_make_uint(env, iso->incarnations));
    PUT("stopped", iso->stopped ? atom(env, "true") : atom(env, "false"));
    nc_host_inc *inc = iso->inc;
    if (inc)
        nocopy__host_inc_ref(inc);
    enif_mutex_unlock(iso->mu);
    if (inc) {
        size_t blocks, bytes;
        nocopy__iso_alloc_usage(&inc->in_alloc, &blocks, &bytes);
        enif_mutex_lock(inc->mu);
        size_t keeps = 0;
        for (size_t i = 0; i < inc->nblocks; i++)
            keeps += inc->blocks[i]->child_keeps;
        PUT("os_pid", enif_make_int(env, inc->child.pid));
        PUT("alive", inc->dead ? atom(env, "false") : atom(env, "true"));
        PUT("calls_in_flight", enif_make_uint64(env, inc->ncalls));
        PUT("input_blocks", enif_make_uint64(env, blocks));
        PUT("input_bytes", enif_make_uint64(env, bytes));
        PUT("child_keeps", enif_make_uint64(env, keeps));
        PUT("queued_calls", enif_make_uint64(env, inc->q_calls));
        PUT("queued_releases", enif_make_uint64(env, inc->q_releases));
        PUT("queued_bytes", enif_make_uint64(env, inc->q_bytes));
        PUT("output_handovers", enif_make_long(env, atomic_load(&inc->outs)));
        PUT("input_base", enif_make_uint64(env, (uint64_t)(uintptr_t)inc->in.base));
        PUT("output_base", enif_make_uint64(env, (uint64_t)(uintptr_t)inc->out.base));
        PUT("region_bytes", enif_make_uint64(env, inc->in.size));
        /* Memory the regions hold now (pages written and not given back):
         * the output region's is the child's allocator seen from here. */
        PUT("input_resident", enif_make_uint64(env, nocopy__iso_region_resident(&inc->in)));
        PUT("output_resident", enif_make_uint64(env, nocopy__iso_region_resident(&inc->out)));
        if (inc->hello) {
            PUT("child_input_base", enif_make_uint64(env, inc->child_in_base));
            PUT("child_output_base", enif_make_uint64(env, inc->child_out_base));
        }
        enif_mutex_unlock(inc->mu);
        nocopy__host_inc_unref(inc);
    }
#undef PUT
    return m;
}

/* The address of a binary's bytes in this VM (for the zero-copy tests). */
static ERL_NIF_TERM address_nif(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    ErlNifBinary b;
    if (!enif_inspect_binary(env, argv[0], &b))
        return enif_make_badarg(env);
    return enif_make_uint64(env, (uint64_t)(uintptr_t)b.data);
}

/* ---- loading ------------------------------------------------------------------------ */

static int load(ErlNifEnv *env, void **priv, ERL_NIF_TERM info)
{
    (void)priv;
    (void)info;
    ErlNifResourceFlags f = ERL_NIF_RT_CREATE;
    nocopy__host_iso_rt = enif_open_resource_type(env, NULL, "nocopy_iso", iso_dtor, f, NULL);
    nocopy__host_block_rt = enif_open_resource_type(env, NULL, "nocopy_iso_input_block",
                                                    nocopy__host_block_dtor, f, NULL);
    nocopy__host_out_rt = enif_open_resource_type(env, NULL, "nocopy_iso_output_block",
                                                  nocopy__host_out_dtor, f, NULL);
    if (!nocopy__host_iso_rt || !nocopy__host_block_rt || !nocopy__host_out_rt)
        return -1;
    nc_host_atoms *a = &nocopy__host_am;
    a->ok = atom(env, "ok");
    a->error = atom(env, "error");
    a->true_ = atom(env, "true");
    a->false_ = atom(env, "false");
    a->undefined = atom(env, "undefined");
    a->nocopy_reply = atom(env, "nocopy_reply");
    a->error_tag = atom(env, "$nocopy_error");
    a->general = atom(env, "general");
    a->handle_tag = atom(env, "$nocopy_handle");
    a->ecrashed = atom(env, "ecrashed");
    a->eclosed = atom(env, "eclosed");
    a->eproto = atom(env, "eproto");
    /* The Reason of each status, as the core names them (core/nc_error.c):
     * badarg for a bad argument, the status's own name otherwise. */
    a->nreasons = 0;
#define XX(name, value, ename, msg)                                                  \
    a->reasons[a->nreasons++] = atom(env, NOCOPY_##name == NOCOPY_EBADARG ? "badarg" : ename);
    NOCOPY_STATUS_MAP(XX)
#undef XX
    return 0;
}

/* An upgrade would leave reader threads running this library's code. */
static int upgrade(ErlNifEnv *env, void **priv, void **old, ERL_NIF_TERM info)
{
    (void)env;
    (void)priv;
    (void)old;
    (void)info;
    return -1;
}

static ErlNifFunc funcs[] = {
    {"start_nif", 9, start_nif, ERL_NIF_DIRTY_JOB_IO_BOUND},
    {"restart_nif", 1, restart_nif, ERL_NIF_DIRTY_JOB_IO_BOUND},
    {"stop_nif", 1, stop_nif, 0},
    {"kill_nif", 2, kill_nif, 0},
    {"binary_nif", 2, binary_nif, 0},
    {"call_nif", 4, call_nif, 0},
    {"info_nif", 1, info_nif, 0},
    {"option_limits_nif", 0, option_limits_nif, 0},
    {"set_queue_nif", 3, set_queue_nif, 0},
    {"address_nif", 1, address_nif, 0},
};

ERL_NIF_INIT(nocopy_iso, funcs, load, NULL, upgrade, NULL)
