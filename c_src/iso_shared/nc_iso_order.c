/* nc_iso_order.c: messages finished out of order (see nc_iso_order.h). */
#include "nc_iso_order.h"

#include <stddef.h>

int nocopy__iso_order_done(nocopy__iso_order *o, uint32_t seq, int deferred, uint64_t arg,
                           void (*run)(uint64_t arg))
{
    if ((uint32_t)(seq - atomic_load(&o->next)) >= NC_ISO_ORDER_WINDOW)
        return -1;
    size_t i = seq % NC_ISO_ORDER_WINDOW;
    o->slot[i].deferred = deferred != 0;
    o->slot[i].arg = arg;
    atomic_store(&o->slot[i].done, 1);     /* then next is looked at (nc_iso_order.h) */
    nocopy__iso_order_catch_up(o, run);
    return 0;
}

void nocopy__iso_order_catch_up(nocopy__iso_order *o, void (*run)(uint64_t arg))
{
    uint32_t n = atomic_load(&o->next);
    size_t i;
    while (atomic_load(&o->slot[i = n % NC_ISO_ORDER_WINDOW].done)) {
        if (o->slot[i].deferred)
            run(o->slot[i].arg);
        atomic_store_explicit(&o->slot[i].done, 0, memory_order_relaxed);
        atomic_store(&o->next, ++n);
    }
}

uint32_t nocopy__iso_order_next(nocopy__iso_order *o)
{
    return atomic_load_explicit(&o->next, memory_order_acquire);
}

int nocopy__iso_order_done_first(nocopy__iso_order *o, uint32_t seq)
{
    uint32_t expect = seq;
    if (!atomic_compare_exchange_strong(&o->next, &expect, seq + 1))
        return -1;
    /* then seq + 1's flag is looked at (nc_iso_order.h) */
    return atomic_load(&o->slot[(seq + 1) % NC_ISO_ORDER_WINDOW].done) ? 1 : 0;
}
