/* nc_iso_slot.c: reply slots (see nc_iso_slot.h). */
#include "nc_iso_slot.h"

#include <string.h>

static uint64_t word(uint64_t id, unsigned st)
{
    return id << 2 | st;
}

void nocopy__iso_slot_arm(nocopy__iso_slot *s, uint64_t id)
{
    atomic_store_explicit(&s->len, 0, memory_order_relaxed);
    atomic_store_explicit(&s->state, word(id, NC_ISO_SLOT_WAITING), memory_order_release);
}

void nocopy__iso_slot_disarm(nocopy__iso_slot *s)
{
    atomic_store_explicit(&s->state, NC_ISO_SLOT_OFF, memory_order_release);
}

/* The state was READY for id (acquired): the length once, checked, then
 * the bytes into the VM's memory, where the child cannot change them. */
static int copy_out(nocopy__iso_slot *s, uint8_t *dst, size_t cap, size_t *len)
{
    size_t n = atomic_load_explicit(&s->len, memory_order_relaxed);
    if (n > cap || n > NC_ISO_SLOT_MSG_MAX)
        return NC_ISO_SLOT_BAD;
    memcpy(dst, s->msg, n);
    *len = n;
    return NC_ISO_SLOT_TAKEN;
}

int nocopy__iso_slot_poll(nocopy__iso_slot *s, uint64_t id, uint8_t *dst, size_t cap,
                          size_t *len)
{
    uint64_t v = atomic_load_explicit(&s->state, memory_order_acquire);
    if (v == word(id, NC_ISO_SLOT_READY))
        return copy_out(s, dst, cap, len);
    if (v == word(id, NC_ISO_SLOT_WAITING) || v == word(id, NC_ISO_SLOT_WRITING))
        return NC_ISO_SLOT_PENDING;
    return NC_ISO_SLOT_LOST;
}

int nocopy__iso_slot_abandon(nocopy__iso_slot *s, uint64_t id, uint8_t *dst, size_t cap,
                             size_t *len)
{
    /* OFF, with the id: the child learns the VM was waiting for it. */
    uint64_t v = atomic_exchange_explicit(&s->state, word(id, NC_ISO_SLOT_OFF),
                                          memory_order_acq_rel);
    if (v == word(id, NC_ISO_SLOT_READY))
        return copy_out(s, dst, cap, len);
    return NC_ISO_SLOT_LOST;
}

int nocopy__iso_slot_deliver(nocopy__iso_slot *slots, size_t n, uint64_t id, const void *msg,
                             size_t len)
{
    if (len > NC_ISO_SLOT_MSG_MAX)
        return -1;
    uint64_t waiting = word(id, NC_ISO_SLOT_WAITING), given_up = word(id, NC_ISO_SLOT_OFF);
    for (size_t i = 0; i < n; i++) {
        nocopy__iso_slot *s = &slots[i];
        uint64_t v = atomic_load_explicit(&s->state, memory_order_relaxed);
        if (v == given_up)
            return -2;
        if (v != waiting)
            continue;
        /* The bytes first, then one CAS publishes them (WAITING -> READY):
         * the state word, which the VM is spinning on, changes hands once
         * instead of three times (claim, length, publish). Writing before
         * the claim is safe: the VM reads the bytes only once READY, and
         * re-arms this slot only after the call has ended, which it cannot
         * before this reply reaches it (here or, the CAS failed, on the
         * channel). The length sits in the state's line: stored just
         * before the CAS, it goes over with it. */
        memcpy(s->msg, msg, len);
        atomic_store_explicit(&s->len, (uint32_t)len, memory_order_relaxed);
        uint64_t expect = waiting;
        return atomic_compare_exchange_strong_explicit(&s->state, &expect,
                                                       word(id, NC_ISO_SLOT_READY),
                                                       memory_order_release,
                                                       memory_order_relaxed)
                   ? 0
                   : -2;               /* the VM gave up meanwhile */
    }
    return -1;
}

void nocopy__iso_slot_decline(nocopy__iso_slot *slots, size_t n, uint64_t id)
{
    uint64_t waiting = word(id, NC_ISO_SLOT_WAITING);
    for (size_t i = 0; i < n; i++) {
        uint64_t expect = waiting;
        if (atomic_compare_exchange_strong_explicit(&slots[i].state, &expect, NC_ISO_SLOT_OFF,
                                                    memory_order_relaxed,
                                                    memory_order_relaxed))
            return;
    }
}

/* ---- the call slot ---- */

static int cas(nocopy__iso_slot *s, uint64_t from, uint64_t to, memory_order ok)
{
    return atomic_compare_exchange_strong_explicit(&s->state, &from, to, ok,
                                                   memory_order_relaxed);
}

int nocopy__iso_call_post(nocopy__iso_slot *s, const void *msg, size_t len)
{
    if (len > NC_ISO_SLOT_MSG_MAX || !cas(s, NC_ISO_CALL_POLLING, NC_ISO_CALL_POSTING,
                                          memory_order_acquire))
        return -1;
    memcpy(s->msg, msg, len);
    atomic_store_explicit(&s->len, (uint32_t)len, memory_order_relaxed);
    atomic_store_explicit(&s->state, NC_ISO_CALL_POSTED, memory_order_release);
    return 0;
}

int nocopy__iso_call_poll_begin(nocopy__iso_slot *s)
{
    return cas(s, NC_ISO_CALL_OFF, NC_ISO_CALL_POLLING, memory_order_relaxed) ? 0 : -1;
}

int nocopy__iso_call_poll_end(nocopy__iso_slot *s)
{
    return cas(s, NC_ISO_CALL_POLLING, NC_ISO_CALL_OFF, memory_order_relaxed) ? 0 : -1;
}

int nocopy__iso_call_take(nocopy__iso_slot *s, uint8_t *buf, size_t cap, size_t *len)
{
    if (!cas(s, NC_ISO_CALL_POSTED, NC_ISO_CALL_TAKING, memory_order_acquire))
        return 0;
    size_t n = atomic_load_explicit(&s->len, memory_order_relaxed);
    if (n > cap || n > NC_ISO_SLOT_MSG_MAX)
        n = 0;
    else
        memcpy(buf, s->msg, n);
    *len = n;
    atomic_store_explicit(&s->state, NC_ISO_CALL_OFF, memory_order_release);
    return 1;
}
