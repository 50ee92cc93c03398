/* nc_iso_host_ref.c: an incarnation's references and its end, and the
 * RELEASE_OUT messages its output handovers send when Erlang drops them
 * (from any thread: a resource destructor). Below the blocks, the reply
 * decoder and the reader (nc_iso_host_inc.c), which all hold references.
 *
 * A RELEASE_OUT that finds the channel full (the child is busy) is queued,
 * in order, and sent by the reader once the child has read; none is sent
 * after the child's end. */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "nc_iso_chan.h"
#include "nc_iso_host.h"

void nocopy__host_inc_ref(nc_host_inc *inc)
{
    atomic_fetch_add_explicit(&inc->refs, 1, memory_order_relaxed);
}

static void inc_free(nc_host_inc *inc)
{
    nocopy__iso_child_release(&inc->child);   /* kills and reaps if need be */
    if (inc->chan >= 0)
        close(inc->chan);
    nocopy__iso_region_unmap(&inc->in);
    nocopy__iso_region_unmap(&inc->out);
    nocopy__iso_region_unmap(&inc->slots);
    nocopy__iso_alloc_destroy(&inc->in_alloc);
    if (inc->mu)
        enif_mutex_destroy(inc->mu);
    enif_free(inc->calls);
    enif_free(inc->blocks);
    enif_free(inc->pending);
    enif_free(inc);
}

void nocopy__host_inc_unref(nc_host_inc *inc)
{
    if (atomic_fetch_sub_explicit(&inc->refs, 1, memory_order_acq_rel) == 1)
        inc_free(inc);
}

void nocopy__host_inc_kill(nc_host_inc *inc, const char *why)
{
    enif_mutex_lock(inc->mu);
    if (!inc->vm_killed)
        inc->vm_killed = why;
    enif_mutex_unlock(inc->mu);
    nocopy__iso_child_kill(&inc->child, SIGKILL);
}

/* ---- releases of output blocks ------------------------------------------------------ */

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

int nocopy__host_inc_call_locked(nc_host_inc *inc, uint8_t *msg, size_t len, int may_post,
                                 int *posted)
{
    *posted = 0;
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
    (void)nocopy__host_inc_send_locked(inc, msg, sizeof msg);   /* full: threads are busy */
    enif_mutex_unlock(inc->mu);
}

static int send_release(nc_host_inc *inc, uint64_t block)
{
    nocopy__iso_hdr h = {.kind = NC_ISO_MSG_RELEASE_OUT, .seq = 0, .id = block};
    uint8_t msg[sizeof h];
    memcpy(msg, &h, sizeof h);
    return nocopy__host_inc_send_locked(inc, msg, sizeof msg);
}

void nocopy__host_inc_release_out(nc_host_inc *inc, uint64_t block)
{
    enif_mutex_lock(inc->mu);
    if (!inc->dead && (inc->npending > 0 || send_release(inc, block) == NOCOPY_EOVERLOAD)) {
        /* Queued (in order) for the reader to send once the child has read. */
        if (inc->npending == inc->pending_cap) {
            size_t cap = inc->pending_cap ? inc->pending_cap * 2 : 64;
            uint64_t *np = enif_realloc(inc->pending, cap * sizeof *np);
            if (np) {
                inc->pending = np;
                inc->pending_cap = cap;
            }
        }
        if (inc->npending < inc->pending_cap)
            inc->pending[inc->npending++] = block;
        /* else: no memory; the block stays the child's until it ends */
    }
    enif_mutex_unlock(inc->mu);
}

void nocopy__host_inc_flush_releases(nc_host_inc *inc)
{
    enif_mutex_lock(inc->mu);
    size_t sent = 0;
    while (sent < inc->npending && send_release(inc, inc->pending[sent]) == NOCOPY_OK)
        sent++;
    if (sent > 0) {
        memmove(inc->pending, inc->pending + sent, (inc->npending - sent) * sizeof *inc->pending);
        inc->npending -= sent;
    }
    enif_mutex_unlock(inc->mu);
}

