/* nc_drv_handle.c: handles on the driver backend.
 *
 * A driver cannot make NIF resources, and cannot know when Erlang drops a term.
 * So a handle given to Erlang is an entry in its port's table, and the term is
 *     {'$nocopy_handle', Port, Id}
 * with Id = Generation << 32 | TypeIndex << 24 | Slot (always below 2^59, a
 * small integer). The table's entry holds one reference on the object, which
 * stands for every copy of the term. Lifetime:
 *   - nocopy_handle_close() from C: later calls get "the T handle is closed";
 *     the destructor runs when the calls using it return (core, nc_handle.c),
 *     and the slot is reclaimed lazily (lookup, or a sweep before the table
 *     grows);
 *   - the port closes: the table drops every reference, after the calls in
 *     flight have finished, so each destructor runs then (or when the last C
 *     reference, nocopy_handle_keep, is released);
 *   - a handle never made into a term dies with its last C reference.
 * A stale Id (closed, or from before a slot was reused) resolves to a
 * "tombstone" of its type: a header that is closed forever, so the core's
 * usual check reports "the T handle is closed". A handle of another port, or
 * a NIF resource, never reaches the table: "expected a T handle".
 *
 * Memory: [refcount prefix][nocopy__handle header][object], one allocation. */
#include <stdatomic.h>
#include <string.h>

#include "nc_backend.h"

/* ---- tombstones ------------------------------------------------------------- */

/* One per handle type, made at driver load and read-only until unload. */
static nocopy__handle **tombstones;
static unsigned ntypes;

_Static_assert(NC_MAX_HANDLE_TYPES <= (1u << NC_DRV_TYPE_BITS),
               "a handle id has room for every type index the table check allows");

int nocopy__drv_tombstones_init(const nocopy_module *m)
{
    unsigned n = 0;
    if (m->handle_types)
        while (m->handle_types[n])
            n++;
    ntypes = n;
    if (n == 0)
        return 0;
    tombstones = driver_alloc(n * sizeof(nocopy__handle *));
    if (!tombstones)
        return -1;
    for (unsigned i = 0; i < n; i++) {
        nocopy__handle *t = driver_alloc(sizeof *t);
        if (!t) {
            ntypes = i;
            return -1;
        }
        t->type = m->handle_types[i];
        t->type_index = i;
        atomic_init(&t->state, NC_HANDLE_CLOSED | NC_HANDLE_DESTROYED);
        t->backend = NULL;             /* marks a tombstone: never kept or released */
        tombstones[i] = t;
    }
    return 0;
}

void nocopy__drv_tombstones_free(void)
{
    for (unsigned i = 0; i < ntypes; i++)
        driver_free(tombstones[i]);
    if (tombstones)
        driver_free(tombstones);
    tombstones = NULL;
    ntypes = 0;
}

int nocopy__drv_is_tombstone(const nocopy__handle *h)
{
    return h->backend == NULL;
}

/* ---- the per-port table ------------------------------------------------------ */

int nocopy__drv_htable_init(nc_drv_htable *t)
{
    t->mu = erl_drv_mutex_create("nocopy_handles");
    t->slots = NULL;
    t->cap = t->live = 0;
    t->free_head = NC_DRV_NO_SLOT;
    t->closed = 0;
    t->pinned = 0;
    return t->mu ? 0 : -1;
}

/* The handle for id, with a reference for the call when `keep`, else the
 * tombstone of its type (NULL: no such type). Without the table's mutex when
 * `alone`. A destroyed handle found here leaves the table. */
static nocopy__handle *find(nc_drv_htable *t, uint64_t id, int alone, int keep)
{
    uint32_t i = (uint32_t)(id & (NC_DRV_MAX_SLOTS - 1));
    unsigned type = (unsigned)((id >> NC_DRV_SLOT_BITS) & ((1u << NC_DRV_TYPE_BITS) - 1));
    uint64_t gen = id >> 32;
    nocopy__handle *h = NULL, *dead = NULL;

    if (!alone)
        erl_drv_mutex_lock(t->mu);
    if (i < t->cap && t->slots[i].h && t->slots[i].gen == gen &&
        t->slots[i].h->type_index == type) {
        h = t->slots[i].h;
        if (atomic_load(&h->state) & NC_HANDLE_DESTROYED) {
            dead = nc_drv_clear_slot(t, i);
            h = NULL;
        } else if (keep) {
            nocopy__be_handle_keep(h);   /* for the call; released at its end */
        }
    }
    if (!alone)
        erl_drv_mutex_unlock(t->mu);
    if (dead)
        nocopy__be_handle_release(dead);
    if (h)
        return h;
    return type < ntypes ? tombstones[type] : NULL;
}

nocopy__handle *nocopy__drv_htable_lookup(nc_drv_htable *t, uint64_t id, int alone)
{
    return find(t, id, alone, 1);
}

nocopy__handle *nocopy__drv_htable_peek_slow(nc_drv_htable *t, uint64_t id)
{
    return find(t, id, 1, 0);
}

void nocopy__drv_htable_remove(nc_drv_htable *t, uint64_t id, nocopy__handle *h)
{
    uint32_t i = (uint32_t)(id & (NC_DRV_MAX_SLOTS - 1));
    nocopy__handle *gone = NULL;
    erl_drv_mutex_lock(t->mu);
    if (i < t->cap && t->slots[i].h == h && t->slots[i].gen == (id >> 32))
        gone = nc_drv_clear_slot(t, i);
    erl_drv_mutex_unlock(t->mu);
    if (gone)
        nocopy__be_handle_release(gone);
}

void nocopy__drv_htable_close(nc_drv_htable *t)
{
    /* The slots are taken out of the table under the lock: a call still
     * running on a worker (the port closed under it) may try to undo an
     * insert meanwhile, and must find nothing rather than a slot being
     * emptied here. Destructors then run outside the lock. */
    erl_drv_mutex_lock(t->mu);
    t->closed = 1;
    nc_drv_handle_slot *slots = t->slots;
    uint32_t cap = t->cap;
    t->slots = NULL;
    t->cap = t->live = 0;
    t->free_head = NC_DRV_NO_SLOT;
    erl_drv_mutex_unlock(t->mu);
    for (uint32_t i = 0; i < cap; i++)
        if (slots[i].h)
            nocopy__be_handle_release(slots[i].h);
    if (slots)
        driver_free(slots);
}

void nocopy__drv_htable_destroy(nc_drv_htable *t)
{
    if (t->slots)
        driver_free(t->slots);
    t->slots = NULL;
    if (t->mu)
        erl_drv_mutex_destroy(t->mu);
    t->mu = NULL;
}
