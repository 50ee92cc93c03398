/* nc_iso_host_send.c: every message the VM sends to its child, and the
 * VM-side queue of those the channel could not take at once.
 *
 * The channel (a socket pair) holds what the socket's send buffer holds: a
 * few hundred small CALLs. Nothing that sends may wait (a sender is a
 * scheduler, or a resource destructor), so a message that finds it full is
 * queued here: one queue per incarnation, in channel order, for CALLs and
 * RELEASE_OUTs alike. While the queue is not empty every new message goes
 * to its tail, after a try to send what is at its head, so no message
 * overtakes another: a RELEASE_OUT never reaches the child before a CALL
 * sent earlier that names its block (the child would free the block first),
 * nor a CALL before an earlier RELEASE_OUT. Messages are numbered
 * (nocopy__iso_hdr.seq) when they leave, so numbers stay dense and in
 * channel order.
 *
 * Who drains it: the next sender, and the incarnation's reader thread,
 * which polls the channel for POLLOUT while the queue holds anything (an
 * eventfd wakes it when the queue stops being empty), so queued RELEASE_OUTs
 * leave without waiting for another message of the child. The bound: CALLs
 * only (the isolate's queue and queue_bytes options), since a RELEASE_OUT
 * comes from a destructor that cannot fail; they are bounded by the
 * handovers Erlang held. The child's death empties it (the reader answers
 * the queued calls, as those in flight, from the calls' table). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nc_iso_chan.h"
#include "nc_iso_host.h"

/* One queued message: malloc'd (freed by whichever thread sends it). */
struct nc_host_qmsg {
    nc_host_qmsg *next;
    uint64_t call;                     /* a CALL's id, 0 for a RELEASE_OUT */
    size_t len;
    uint8_t msg[];
};

/* Numbers a message with the incarnation's next sequence number (counted
 * only once it is sent or posted). */
static int number(nc_host_inc *inc, uint8_t *msg, size_t len)
{
    nocopy__iso_hdr h;
    if (len < sizeof h)
        return NOCOPY_ERANGE;
    memcpy(&h, msg, sizeof h);
    h.seq = inc->send_seq;
    memcpy(msg, &h, sizeof h);
    return NOCOPY_OK;
}

int nocopy__host_inc_send_locked(nc_host_inc *inc, uint8_t *msg, size_t len)
{
    if (number(inc, msg, len) != NOCOPY_OK)
        return NOCOPY_ERANGE;
    int st = nocopy__iso_chan_try_send(inc->chan, msg, len);
    if (st == NOCOPY_OK)
        inc->send_seq++;               /* numbers stay dense: only sent ones count */
    return st;
}

/* ---- the queue (inc->mu held) ---------------------------------------------------------- */

static void unlink_head(nc_host_inc *inc)
{
    nc_host_qmsg *m = inc->q_head;
    inc->q_head = m->next;
    if (!inc->q_head)
        inc->q_tail = NULL;
    if (m->call)
        inc->q_calls--;
    else
        inc->q_releases--;
    inc->q_bytes -= m->len;
    free(m);
}

/* Sends from the head while the channel takes them. The number sent. */
static size_t flush_locked(nc_host_inc *inc)
{
    size_t sent = 0;
    while (inc->q_head && !inc->dead &&
           nocopy__host_inc_send_locked(inc, inc->q_head->msg, inc->q_head->len) == NOCOPY_OK) {
        unlink_head(inc);
        sent++;
    }
    /* A send that failed otherwise than full (the child is gone) leaves
     * the rest to the reader, which sees the end and drops the queue. */
    return sent;
}

static int push(nc_host_inc *inc, uint64_t call, const uint8_t *msg, size_t len)
{
    nc_host_qmsg *m = malloc(sizeof *m + len);
    if (!m)
        return -1;
    m->next = NULL;
    m->call = call;
    m->len = len;
    memcpy(m->msg, msg, len);
    int was_empty = !inc->q_head;
    if (inc->q_tail)
        inc->q_tail->next = m;
    else
        inc->q_head = m;
    inc->q_tail = m;
    if (call)
        inc->q_calls++;
    else
        inc->q_releases++;
    inc->q_bytes += len;
    if (was_empty && inc->wake >= 0) {
        /* The reader may be in poll without POLLOUT: make it look again.
         * An eventfd write never blocks while its counter is far from
         * overflow (one per time the queue fills). */
        uint64_t one = 1;
        (void)!write(inc->wake, &one, sizeof one);
    }
    return 0;
}

int nocopy__host_inc_call_locked(nc_host_inc *inc, uint8_t *msg, size_t len, int may_post,
                                 int *posted)
{
    *posted = 0;
    if (inc->q_head && (flush_locked(inc), inc->q_head))
        return NOCOPY_EOVERLOAD;       /* behind the queue: the caller queues it */
    if (number(inc, msg, len) != NOCOPY_OK)
        return NOCOPY_ERANGE;
    nocopy__iso_slot *s = (nocopy__iso_slot *)(inc->slots.base +
                                               NC_ISO_CALL_SLOT * NC_ISO_SLOT_BYTES);
    if (may_post && nocopy__iso_call_post(s, msg, len) == 0) {
        inc->send_seq++;
        *posted = 1;
        return NOCOPY_OK;
    }
    return nocopy__host_inc_send_locked(inc, msg, len);
}

int nocopy__host_inc_queue_call_locked(nc_host_inc *inc, const uint8_t *msg, size_t len,
                                       uint64_t id, uint64_t max_calls, uint64_t max_bytes)
{
    if (inc->dead)
        return NC_HOST_QUEUE_DEAD;
    if (inc->q_calls >= max_calls)
        return NC_HOST_QUEUE_FULL_CALLS;
    if (inc->q_bytes + len > max_bytes)
        return NC_HOST_QUEUE_FULL_BYTES;
    return push(inc, id, msg, len) == 0 ? NC_HOST_QUEUED : NC_HOST_QUEUE_NOMEM;
}

int nocopy__host_inc_dequeue_call_locked(nc_host_inc *inc, uint64_t id)
{
    nc_host_qmsg *prev = NULL;
    for (nc_host_qmsg *m = inc->q_head; m; prev = m, m = m->next) {
        if (m->call != id)
            continue;
        if (!prev)
            unlink_head(inc);
        else {
            prev->next = m->next;
            if (inc->q_tail == m)
                inc->q_tail = prev;
            inc->q_calls--;
            inc->q_bytes -= m->len;
            free(m);
        }
        return 1;
    }
    return 0;
}

void nocopy__host_inc_queue_drop_locked(nc_host_inc *inc)
{
    while (inc->q_head)
        unlink_head(inc);
}

/* ---- the other messages ---------------------------------------------------------------- */

void nocopy__host_inc_nudge(nc_host_inc *inc)
{
    nocopy__iso_slot *s = (nocopy__iso_slot *)(inc->slots.base +
                                               NC_ISO_CALL_SLOT * NC_ISO_SLOT_BYTES);
    if (atomic_load_explicit(&s->state, memory_order_relaxed) != NC_ISO_CALL_POSTED)
        return;
    nocopy__iso_hdr h = {.kind = NC_ISO_MSG_NUDGE, .seq = 0, .id = 0};
    uint8_t msg[sizeof h];
    memcpy(msg, &h, sizeof h);
    enif_mutex_lock(inc->mu);
    /* Full, or a queue: the child's threads are busy and will come to the
     * slot (a NUDGE orders nothing, so it may pass the queue). */
    (void)nocopy__host_inc_send_locked(inc, msg, sizeof msg);
    enif_mutex_unlock(inc->mu);
}

void nocopy__host_inc_release_out(nc_host_inc *inc, uint64_t block)
{
    nocopy__iso_hdr h = {.kind = NC_ISO_MSG_RELEASE_OUT, .seq = 0, .id = block};
    uint8_t msg[sizeof h];
    memcpy(msg, &h, sizeof h);
    enif_mutex_lock(inc->mu);
    if (!inc->dead) {
        if (inc->q_head)
            (void)flush_locked(inc);
        if (inc->q_head || nocopy__host_inc_send_locked(inc, msg, sizeof msg) == NOCOPY_EOVERLOAD)
            (void)push(inc, 0, msg, sizeof msg);
        /* no memory to queue it: the block stays the child's until it ends */
    }
    enif_mutex_unlock(inc->mu);
}

size_t nocopy__host_inc_flush(nc_host_inc *inc, int *left)
{
    enif_mutex_lock(inc->mu);
    size_t sent = inc->q_head ? flush_locked(inc) : 0;
    *left = inc->q_head != NULL;
    enif_mutex_unlock(inc->mu);
    return sent;
}
