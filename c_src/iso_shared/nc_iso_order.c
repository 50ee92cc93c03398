/* nc_iso_order.c: messages finished out of order (see nc_iso_order.h). */
#include "nc_iso_order.h"

#include <stddef.h>

int nocopy__iso_order_done(nocopy__iso_order *o, uint32_t seq, int deferred, uint64_t arg,
                           void (*run)(uint64_t arg))
{
    if ((uint32_t)(seq - o->next) >= NC_ISO_ORDER_WINDOW)
        return -1;
    size_t i = seq % NC_ISO_ORDER_WINDOW;
    o->slot[i].done = 1;
    o->slot[i].deferred = deferred != 0;
    o->slot[i].arg = arg;
    while (o->slot[i = o->next % NC_ISO_ORDER_WINDOW].done) {
        if (o->slot[i].deferred)
            run(o->slot[i].arg);
        o->slot[i].done = 0;
        o->next++;
    }
    return 0;
}
