/* nc_iso_host_ref.c: an incarnation's references, its end and its child's
 * kill. Below everything else of the library, which holds references. */
#include <signal.h>
#include <string.h>
#include <unistd.h>

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
    nocopy__host_inc_queue_drop_locked(inc);   /* the last reference: no one else */
    if (inc->wake >= 0)
        close(inc->wake);
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
