/* nc_drv_spare.c: the port's spare calls. A call that may be queued lives on
 * the heap (3 032 bytes on x86-64: its two arenas' inline buffers and its
 * result's first spec entries), made by
 * the scheduler in outputv and released by whichever thread ran it, usually a
 * worker. Rather than driver_alloc and driver_free per call (a free on a
 * worker thread of memory a scheduler allocated goes back through the
 * allocator's cross-thread queue), released calls go onto the port's spare
 * list, up to NC_DRV_SPARES_MAX of them, and outputv takes them from there.
 *
 * The list has one taker, the scheduler holding the port lock, and many
 * givers (any thread that releases a call): givers push onto `given` with a
 * compare-and-swap; the taker moves the whole of `given` to its own list
 * `kept` with one exchange and pops from that without atomics. One taker
 * means no ABA: no node can leave `given` while a giver's swap is pending
 * except by the exchange, which makes that swap fail and retry. */
#include <stdatomic.h>

#include "nc_drv.h"

void nocopy__drv_spares_init(nc_drv_spares *s)
{
    atomic_init(&s->given, NULL);
    atomic_init(&s->count, 0);
    s->kept = NULL;
}

nc_drv_call *nocopy__drv_call_new(nc_drv_port *dp)
{
    nc_drv_spares *s = &dp->spares;
    if (!s->kept)
        s->kept = atomic_exchange_explicit(&s->given, NULL, memory_order_acquire);
    nc_drv_call *call = s->kept;
    if (!call)
        return driver_alloc(sizeof *call);
    s->kept = call->next;
    atomic_fetch_sub_explicit(&s->count, 1, memory_order_relaxed);
    return call;
}

void nocopy__drv_call_free(nc_drv_call *call)
{
    nc_drv_spares *s = &call->dp->spares;
    if (atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed) >= NC_DRV_SPARES_MAX) {
        atomic_fetch_sub_explicit(&s->count, 1, memory_order_relaxed);
        driver_free(call);
        return;
    }
    nc_drv_call *head = atomic_load_explicit(&s->given, memory_order_relaxed);
    do
        call->next = head;
    while (!atomic_compare_exchange_weak_explicit(&s->given, &head, call,
                                                  memory_order_release,
                                                  memory_order_relaxed));
}

void nocopy__drv_spares_free(nc_drv_spares *s)
{
    nc_drv_call *lists[2] = {s->kept, atomic_exchange(&s->given, NULL)};
    for (int i = 0; i < 2; i++)
        while (lists[i]) {
            nc_drv_call *next = lists[i]->next;
            driver_free(lists[i]);
            lists[i] = next;
        }
    s->kept = NULL;
    atomic_store(&s->count, 0);
}
