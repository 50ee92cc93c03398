/* nc_iso_host_wait.c: the fast path's wait (docs/design.md, "The fast
 * path"): a calling NIF waits, for at most the isolate's spin, for its reply
 * in the reply slot it armed, and otherwise lets the reply come as a message
 * from the reader; a wait that did not pay turns the fast path off for a
 * while (the backoff). Everything the child wrote in the slot is hostile
 * input: read once, bounded, and decoded by the reply decoder. */
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "nc_iso_host.h"
#include "nc_iso_host_stamps.h"

/* Racy between schedulers, which only blurs it. */
int nocopy__host_skip_spin(nc_host_iso *iso)
{
    uint64_t until = atomic_load_explicit(&iso->spin_skip_until, memory_order_relaxed);
    if (!until || nocopy__iso_now_ns() >= until)
        return 0;
    atomic_fetch_add(&iso->slot_skipped, 1);
    return 1;
}

/* A wait on a reply slot did not pay: the backoff (nc_iso_slot.h), unless
 * it was cold (no poller took the CALL: no wait was made). Racy between
 * schedulers, which only blurs it. */
static void wait_failed(nc_host_iso *iso, int posted)
{
    if (!posted) {
        atomic_fetch_add(&iso->slot_cold, 1);
        return;
    }
    int b = atomic_load_explicit(&iso->spin_backoff, memory_order_relaxed);
    atomic_store_explicit(&iso->spin_skip_until, nocopy__iso_now_ns() + (uint64_t)b * iso->spin_ns,
                          memory_order_relaxed);
    atomic_store_explicit(&iso->spin_backoff, b < NC_ISO_SPIN_BACKOFF_MAX ? 2 * b : b,
                          memory_order_relaxed);
}

/* The wait itself: polls the slot's state word, publishes this CPU for the
 * child's yields, nudges a poller that lost its core, and gives up with one
 * exchange at the spin's end. */
ERL_NIF_TERM nocopy__host_slot_reply(ErlNifEnv *env, nc_host_iso *iso, nc_host_inc *inc,
                                     uint64_t id, int slot, int posted, nc_host_stacks *stacks)
{
    nocopy__iso_slot *s = (nocopy__iso_slot *)(inc->slots.base +
                                               (size_t)slot * NC_ISO_SLOT_BYTES);
    uint8_t buf[NC_ISO_SLOT_MSG_MAX];
    int was_posted = posted;
    /* Cold (no poller took the CALL: a thread must be woken): one look,
     * then the slot is given up, which tells the child to poll for the
     * caller's next call (nc_iso_slot.h). */
    uint64_t spin_ns = posted ? iso->spin_ns : 0;
    uint64_t t0 = nocopy__iso_now_ns(), t = t0;
    size_t len = 0;
    int got;
    nocopy__iso_slot *cs = (nocopy__iso_slot *)(inc->slots.base +
                                                NC_ISO_CALL_SLOT * NC_ISO_SLOT_BYTES);
    int32_t me = spin_ns ? (int32_t)sched_getcpu() : -1;   /* published by call_nif */
    for (unsigned i = 1;
         (got = nocopy__iso_slot_poll(s, id, buf, sizeof buf, &len)) == NC_ISO_SLOT_PENDING &&
         (t = nocopy__iso_now_ns()) - t0 < spin_ns;
         i++) {
        if (posted && t - t0 >= NC_ISO_NUDGE_NS) {
            posted = 0;
            nocopy__host_inc_nudge(inc);
        }
        if ((i & (NC_ISO_SPIN_CHECK - 1)) == 0)
            me = nocopy__iso_spin_publish(&cs->vm_cpu);
        nocopy__iso_spin_step(&cs->child_cpu, me);   /* the child may wait for this core */
    }
    VM_STAMP(NC_ISO_STAMP_SEEN_VM);
    int declined = got == NC_ISO_SLOT_LOST;
    if (got == NC_ISO_SLOT_PENDING)
        got = nocopy__iso_slot_abandon(s, id, buf, sizeof buf, &len);
    /* A timeslice is about 1 ms: 1% per 10 us spun. */
    int pct = (int)((t - t0) / 10000);
    enif_consume_timeslice(env, pct < 1 ? 1 : pct > 100 ? 100 : pct);
    if (got == NC_ISO_SLOT_LOST) {
        atomic_fetch_add(declined ? &iso->slot_declined : &iso->slot_abandoned, 1);
        if (!declined)
            wait_failed(iso, was_posted);
        return 0;
    }
    /* The reply is ours to answer, unless the reader ended the call as
     * the child died (its message is on its way). */
    nc_host_call *call = nocopy__host_inc_unregister(inc, id);
    if (!call)
        return 0;
    nocopy__iso_hdr h;
    const char *why = "a reply slot's length out of bounds";
    ERL_NIF_TERM r = 0;
    if (got == NC_ISO_SLOT_TAKEN) {
        why = "a reply slot holding another message";
        if (len >= sizeof h) {
            memcpy(&h, buf, sizeof h);
            if (h.kind == NC_ISO_MSG_REPLY && h.id == id)
                r = nocopy__host_reply_term(env, inc, call, buf + sizeof h, len - sizeof h,
                                            stacks, &why);
        }
    }
    if (r) {
        VM_STAMP(NC_ISO_STAMP_TAKEN);
        nocopy__host_stamp_child(s->pad);
        atomic_fetch_add(&iso->slot_replies, 1);
        atomic_store_explicit(&iso->spin_backoff, NC_ISO_SPIN_BACKOFF, memory_order_relaxed);
    } else {
        char text[160];
        snprintf(text, sizeof text, "the isolate sent a malformed reply (%s)", why);
        nocopy__host_inc_kill(inc, "it broke the protocol");
        r = nocopy__host_error_term(env, call, nocopy__host_am.eproto, text);
    }
    nocopy__host_call_free(call);
    return r;
}
