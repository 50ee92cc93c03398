/* nc_iso_host_inc.c: one incarnation of an isolate's child: its two regions,
 * its channel and process, the calls in flight, and the reader thread that
 * answers them.
 *
 * The reader is the only thread that receives on the channel. It waits in
 * poll (it is not a scheduler), turns each REPLY into the caller's message
 * (enif_send), applies KEEP_IN and RELEASE_IN, and sends the VM's queued
 * messages (nc_iso_host_send.c) as the channel takes them: it polls for
 * POLLOUT while the queue holds any. End of file on the channel is the child's
 * end (or its closing the channel, after which it is killed): the reader
 * reaps it, fails every call in flight with ecrashed (eclosed after stop/1)
 * naming the signal or exit status, drops the child's keeps, and exits.
 * A message that breaks the protocol (a reply to no call, a malformed
 * reply, a keep of a block the child may not name) gets the child killed:
 * the VM never guesses what a hostile child meant. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "nc_iso_chan.h"
#include "nc_iso_host.h"

#define SLOT_BITS 20
#define MAX_CALLS (1u << SLOT_BITS)

static nocopy__iso_slot *slot_at(nc_host_inc *inc, int k)
{
    return (nocopy__iso_slot *)(inc->slots.base + (size_t)k * NC_ISO_SLOT_BYTES);
}

void nocopy__host_slot_arm(nc_host_inc *inc, nc_host_call *call)
{
    enif_mutex_lock(inc->mu);
    for (int k = 0; k < NC_ISO_SLOTS; k++)
        if (!(inc->slots_busy & (UINT32_C(1) << k))) {
            inc->slots_busy |= UINT32_C(1) << k;
            call->slot = k;
            nocopy__iso_slot_arm(slot_at(inc, k), call->id);
            break;
        }
    enif_mutex_unlock(inc->mu);
}

void nocopy__host_call_free(nc_host_call *call)
{
    if (call->slot >= 0) {
        /* Its call ended, so an honest child is done with it: a reply it
         * gave up on (abandoned) came on the channel after its last write. */
        nocopy__iso_slot_disarm(slot_at(call->inc, call->slot));
        enif_mutex_lock(call->inc->mu);
        call->inc->slots_busy &= ~(UINT32_C(1) << call->slot);
        enif_mutex_unlock(call->inc->mu);
    }
    for (size_t i = 0; i < call->nlent; i++)
        nocopy__host_block_return(call->lent[i]);
    free(call->lent);
    if (call->iso)
        enif_release_resource(call->iso);
    free(call);                        /* malloc'd: see call_nif */
}

void nocopy__host_slot_unarm_locked(nc_host_inc *inc, nc_host_call *call)
{
    if (call->slot < 0)
        return;
    nocopy__iso_slot_disarm(slot_at(inc, call->slot));
    inc->slots_busy &= ~(UINT32_C(1) << call->slot);
    call->slot = -1;
}

/* ---- calls in flight: a table by slot, ids = sequence << SLOT_BITS | slot ----- */

int nocopy__host_inc_register(nc_host_inc *inc, nc_host_call *call)
{
    int r = -1;
    enif_mutex_lock(inc->mu);
    if (inc->dead || inc->stopping)
        goto done;
    r = -2;
    size_t slot = inc->calls_cap;
    if (inc->ncalls < inc->calls_cap)
        for (slot = 0; slot < inc->calls_cap && inc->calls[slot]; slot++)
            ;
    if (slot == inc->calls_cap) {
        size_t cap = inc->calls_cap ? inc->calls_cap * 2 : 64;
        if (cap > MAX_CALLS)
            goto done;
        nc_host_call **nc = enif_realloc(inc->calls, cap * sizeof *nc);
        if (!nc)
            goto done;
        memset(nc + inc->calls_cap, 0, (cap - inc->calls_cap) * sizeof *nc);
        inc->calls = nc;
        inc->calls_cap = cap;
    }
    call->id = (++inc->call_seq << SLOT_BITS) | slot;
    inc->calls[slot] = call;
    inc->ncalls++;
    r = 0;
done:
    enif_mutex_unlock(inc->mu);
    return r;
}

/* With inc->mu held. */
static nc_host_call *take_call(nc_host_inc *inc, uint64_t id)
{
    size_t slot = (size_t)(id & (MAX_CALLS - 1));
    if (slot >= inc->calls_cap || !inc->calls[slot] || inc->calls[slot]->id != id)
        return NULL;
    nc_host_call *call = inc->calls[slot];
    inc->calls[slot] = NULL;
    inc->ncalls--;
    return call;
}

nc_host_call *nocopy__host_inc_unregister(nc_host_inc *inc, uint64_t id)
{
    enif_mutex_lock(inc->mu);
    nc_host_call *call = take_call(inc, id);
    enif_mutex_unlock(inc->mu);
    return call;
}

int nocopy__host_inc_holds(nc_host_inc *inc, const ErlNifPid *caller, int64_t tag)
{
    int found = 0;
    enif_mutex_lock(inc->mu);
    for (size_t i = 0; i < inc->calls_cap && !found; i++) {
        const nc_host_call *c = inc->calls[i];
        found = c && c->tag == tag && enif_compare_pids(&c->caller, caller) == 0;
    }
    enif_mutex_unlock(inc->mu);
    return found;
}

nc_host_call *nocopy__host_inc_take_queued(nc_host_inc *inc, const ErlNifPid *caller,
                                           int64_t tag)
{
    nc_host_call *call = NULL;
    enif_mutex_lock(inc->mu);
    for (size_t i = 0; i < inc->calls_cap && !call; i++) {
        const nc_host_call *c = inc->calls[i];
        if (c && c->tag == tag && enif_compare_pids(&c->caller, caller) == 0 &&
            nocopy__host_inc_dequeue_call_locked(inc, c->id))
            call = take_call(inc, c->id);
    }
    enif_mutex_unlock(inc->mu);
    return call;
}

/* ---- the reader ---------------------------------------------------------------------- */

static void answer(nc_host_call *call, ErlNifEnv *env, ERL_NIF_TERM msg)
{
    enif_send(NULL, &call->caller, env, msg);   /* a dead caller: dropped */
    enif_clear_env(env);
    nocopy__host_call_free(call);
}


/* One message from the child. 0, or -1: the child broke the protocol. */
static int on_message(nc_host_inc *inc, ErlNifEnv *env, const uint8_t *m, size_t len)
{
    nocopy__iso_hdr h;
    if (len < sizeof h)
        return -1;
    memcpy(&h, m, sizeof h);
    switch (h.kind) {
    case NC_ISO_MSG_REPLY: {
        nc_host_call *call = nocopy__host_inc_unregister(inc, h.id);
        if (!call)
            return -1;
        const char *why = NULL;
        ERL_NIF_TERM t = nocopy__host_reply_term(env, inc, call, m + sizeof h, len - sizeof h, NULL,
                                                 &why);
        if (!t) {
            enif_clear_env(env);
            char text[160];
            snprintf(text, sizeof text, "the isolate sent a malformed reply (%s)", why);
            answer(call, env, nocopy__host_error_term(env, call, nocopy__host_am.eproto, text));
            return -1;
        }
        answer(call, env, t);
        return 0;
    }
    case NC_ISO_MSG_KEEP_IN:
        return nocopy__host_block_child_keep(inc, h.id);
    case NC_ISO_MSG_RELEASE_IN:
        return nocopy__host_block_child_release(inc, h.id);
    case NC_ISO_MSG_DYING:
        enif_mutex_lock(inc->mu);
        if (!inc->told_how) {
            inc->told_how = (int)(h.id >> 32);
            inc->told_code = (int)(uint32_t)h.id;
        }
        enif_mutex_unlock(inc->mu);
        return 0;
    case NC_ISO_MSG_HELLO: {
        nocopy__iso_hello hello;
        if (len != sizeof h + sizeof hello || inc->hello)
            return -1;
        memcpy(&hello, m + sizeof h, sizeof hello);
        enif_mutex_lock(inc->mu);
        inc->child_in_base = hello.input_base;
        inc->child_out_base = hello.output_base;
        inc->hello = 1;
        enif_mutex_unlock(inc->mu);
        return 0;
    }
    default:
        return -1;
    }
}

/* How the child ended, in words: from waitid when the VM may reap its
 * children; else (the BEAM ignores SIGCHLD, so the kernel reaps them and
 * keeps no status) from the VM's own kill, or from what the child said as
 * it ended. */
static void describe_end(nc_host_inc *inc, int ended, int code)
{
    char *d = inc->death;
    size_t n = sizeof inc->death;
    if (inc->vm_killed) {
        snprintf(d, n, "the isolate's process was killed (SIGKILL): %s", inc->vm_killed);
        return;
    }
    if (ended == NC_ISO_EXIT_UNKNOWN && inc->told_how) {
        ended = inc->told_how;
        code = inc->told_code;
    }
    if (ended == NC_ISO_EXIT_SIGNAL && code > 0 && code < 65) {
        const char *name = sigabbrev_np(code);
        snprintf(d, n, "the isolate's process was killed by signal %d (SIG%s)", code,
                 name ? name : "?");
    } else if (ended == NC_ISO_EXIT_CODE) {
        snprintf(d, n, "the isolate's process exited with status %d", code);
    } else {
        snprintf(d, n, "the isolate's process ended (killed from outside, or it did not "
                       "say how)");
    }
}

static void on_death(nc_host_inc *inc, ErlNifEnv *env)
{
    int code = 0;
    int ended = nocopy__iso_child_wait(&inc->child, 1000, &code);
    if (ended == NC_ISO_EXIT_RUNNING) {
        /* The channel closed but the process lives on: it is of no use. */
        nocopy__host_inc_kill(inc, "it closed its channel");
        ended = nocopy__iso_child_wait(&inc->child, -1, &code);
    }
    enif_mutex_lock(inc->mu);
    describe_end(inc, ended, code);
    inc->dead = 1;
    /* Queued CALLs are in the calls' table too: answered below, once. */
    nocopy__host_inc_queue_drop_locked(inc);
    enif_mutex_unlock(inc->mu);
    /* No call can be registered now: fail those in flight. */
    for (;;) {
        nc_host_call *call = NULL;
        enif_mutex_lock(inc->mu);
        for (size_t i = 0; i < inc->calls_cap && !call; i++)
            if (inc->calls[i])
                call = take_call(inc, inc->calls[i]->id);
        enif_mutex_unlock(inc->mu);
        if (!call)
            break;
        if (inc->stopping)
            answer(call, env, nocopy__host_error_term(env, call, nocopy__host_am.eclosed,
                                                      "the isolate was stopped"));
        else
            answer(call, env, nocopy__host_error_term(env, call, nocopy__host_am.ecrashed,
                                                      inc->death));
    }
    nocopy__host_blocks_drop_child_keeps(inc);
}

static void *reader(void *arg)
{
    nc_host_inc *inc = arg;
    ErlNifEnv *env = enif_alloc_env();
    uint8_t *buf = enif_alloc(NC_ISO_MSG_MAX);
    int broken = 0, left = 0, stalled = 0;
    /* Two system calls per message, poll then recv: a recv blocked on the
     * channel could not be woken when the queue fills (nothing but the
     * child's next message ends it), and queued RELEASE_OUTs would wait for
     * that message, perhaps forever. Every send on the VM's end never
     * waits (nocopy__iso_chan_try_send). */
    while (env && buf) {
        struct pollfd p[2] = {{.fd = inc->chan, .events = POLLIN},
                              {.fd = inc->wake, .events = POLLIN}};
        /* stalled: the channel said it takes messages and took none (no
         * kernel memory): look again in a millisecond, not at once. */
        if (left && !stalled)
            p[0].events |= POLLOUT;
        int n = poll(p, 2, left && stalled ? 1 : -1);
        if (n < 0 && errno != EINTR && errno != ENOMEM)
            break;                     /* cannot happen: the fds are ours */
        if (n > 0 && (p[1].revents & POLLIN)) {
            uint64_t v;
            (void)!read(inc->wake, &v, sizeof v);
        }
        if (n > 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            size_t len;
            int st = nocopy__iso_chan_try_recv(inc->chan, buf, NC_ISO_MSG_MAX, &len);
            if (st == NOCOPY_ECLOSED)
                break;
            if (st != NOCOPY_EOVERLOAD && !broken &&
                (st != NOCOPY_OK || on_message(inc, env, buf, len) != 0)) {
                broken = 1;
                nocopy__host_inc_kill(inc, "it broke the protocol");
            }
            enif_clear_env(env);
        }
        size_t sent = nocopy__host_inc_flush(inc, &left);
        stalled = n > 0 && (p[0].revents & POLLOUT) && sent == 0 && left;
    }
    if (env)
        on_death(inc, env);
    if (env)
        enif_free_env(env);
    enif_free(buf);
    nocopy__host_inc_unref(inc);
    return NULL;
}

/* ---- starting ------------------------------------------------------------------------ */

static void discard(void *region, size_t off, size_t len)
{
    nocopy__iso_region_discard(region, off, len);
}

int nocopy__host_inc_start(nc_host_iso *iso, uint32_t number, nc_host_inc **out, char *why,
                           size_t why_len)
{
    nc_host_inc *inc = enif_alloc(sizeof *inc);
    int fds[2] = {-1, -1};
    if (!inc) {
        snprintf(why, why_len, "out of memory");
        return NOCOPY_ENOMEM;
    }
    memset(inc, 0, sizeof *inc);
    atomic_init(&inc->refs, 1);
    atomic_init(&inc->outs, 0);
    inc->number = number;
    inc->chan = -1;
    inc->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    inc->in.fd = inc->out.fd = inc->slots.fd = -1;
    inc->mu = enif_mutex_create("nocopy_iso_inc");
    char name[64];
    snprintf(name, sizeof name, "nocopy_iso_in_%u", number);
    int st = inc->mu && inc->wake >= 0 ? nocopy__iso_region_create(&inc->in, name, iso->region_bytes, 1)
                     : NOCOPY_ENOMEM;
    snprintf(name, sizeof name, "nocopy_iso_out_%u", number);
    if (st == NOCOPY_OK)
        st = nocopy__iso_region_create(&inc->out, name, iso->region_bytes, 0);
    if (st == NOCOPY_OK) {
        snprintf(name, sizeof name, "nocopy_iso_slots_%u", number);
        st = nocopy__iso_region_create(&inc->slots, name, NC_ISO_SLOTS_BYTES, 1);
    }
    if (st == NOCOPY_OK)
        st = nocopy__iso_region_freeze(&inc->in);
    if (st == NOCOPY_OK)
        st = nocopy__iso_alloc_init(&inc->in_alloc, iso->region_bytes,
                                    discard, &inc->in);
    if (st == NOCOPY_OK)
        st = nocopy__iso_chan_pair(fds, 0);
    if (st != NOCOPY_OK) {
        snprintf(why, why_len, "the regions or the channel could not be made (status %d)", st);
        nocopy__host_inc_unref(inc);
        return st;
    }
    inc->chan = fds[0];
    char a1[32], a2[32], a3[32], a4[32], a5[32];
    snprintf(a1, sizeof a1, "%zu", iso->region_bytes);
    snprintf(a2, sizeof a2, "%zu", iso->region_bytes);
    snprintf(a3, sizeof a3, "%zu", iso->threads);
    snprintf(a4, sizeof a4, "%u", number);
    snprintf(a5, sizeof a5, "%llu", (unsigned long long)(iso->spin_ns / 1000));
    char *argv[] = {iso->path, a1, a2, a3, a4, a5, NULL};
    int child_fds[NC_ISO_CHILD_FDS] = {fds[1], inc->in.fd, inc->out.fd, inc->slots.fd};
    /* The child's environment is empty but for the sanitizers' options, so
     * that a child built with them (make asan) reports where the VM's
     * runtime does. */
    static const char *const keep[] = {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"};
    char *envp[4];
    size_t ne = 0;
    for (size_t i = 0; i < 3; i++) {
        char *v = getenv(keep[i]);
        if (v)
            envp[ne++] = v - strlen(keep[i]) - 1;   /* "NAME=value" */
    }
    envp[ne] = NULL;
    st = nocopy__iso_spawn(&inc->child, iso->path, argv, envp, child_fds, NC_ISO_CHILD_FDS);
    close(fds[1]);
    if (st != NOCOPY_OK) {
        snprintf(why, why_len, st == NOCOPY_EBADARG ? "%s cannot be run" : "%s: no process",
                 iso->path);
        nocopy__host_inc_unref(inc);
        return st;
    }
    nocopy__host_inc_ref(inc);         /* the reader's */
    if (pthread_create(&inc->reader, NULL, reader, inc) != 0) {
        snprintf(why, why_len, "no reader thread could be started");
        nocopy__host_inc_unref(inc);   /* the reader's */
        nocopy__host_inc_unref(inc);
        return NOCOPY_ENOMEM;
    }
    pthread_detach(inc->reader);
    *out = inc;
    return NOCOPY_OK;
}
