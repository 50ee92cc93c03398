/* nc_iso_handle.c: the child's handle table.
 *
 * A handle given to Erlang is an entry here, and its term is
 *     {'$nocopy_handle', Iso, Id}
 * with Id = Incarnation << 40 | TypeIndex << 32 | Generation << 24 | Slot
 * (below 2^56: a small integer). The table holds one reference per entry,
 * for every copy of the term. A handle lives until C closes it or the child
 * ends: the table dies with the process, so every handle of a dead child is
 * gone. An Id of a closed handle, a reused slot or an earlier incarnation
 * resolves to a closed tombstone of its type, so the core reports "the T
 * handle is closed", as on the other backends; an Id with no such type is
 * not a handle ("expected a T handle"). */
#include <stdatomic.h>
#include <stdlib.h>

#include "nc_backend.h"

#define SLOT_BITS 24
#define GEN_BITS 8
#define TYPE_SHIFT 32
#define INC_SHIFT 40
#define MAX_SLOTS (1u << SLOT_BITS)

typedef struct slot {
    nocopy__handle *h;
    uint32_t gen;
} slot;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static slot *slots;
static uint32_t nslots;
static nocopy__handle **tombstones;
static unsigned ntypes;

int nocopy__iso_handles_init(const nocopy_module *m)
{
    unsigned n = 0;
    if (m->handle_types)
        while (m->handle_types[n])
            n++;
    if (n == 0)
        return 0;
    tombstones = calloc(n, sizeof *tombstones);
    if (!tombstones)
        return -1;
    for (unsigned i = 0; i < n; i++) {
        nocopy__handle *t = calloc(1, sizeof *t);
        if (!t)
            return -1;
        t->type = m->handle_types[i];
        t->type_index = i;
        atomic_init(&t->state, NC_HANDLE_CLOSED | NC_HANDLE_DESTROYED);
        t->backend = NULL;                 /* marks a tombstone */
        tombstones[i] = t;
        ntypes = i + 1;
    }
    return 0;
}

int nocopy__iso_is_tombstone(const nocopy__handle *h)
{
    return h->backend == NULL;
}

static uint64_t make_id(uint32_t i)
{
    return ((uint64_t)(nocopy__iso.incarnation & 0xFFFF) << INC_SHIFT) |
           ((uint64_t)slots[i].h->type_index << TYPE_SHIFT) | ((uint64_t)slots[i].gen << SLOT_BITS) |
           i;
}

int nocopy__iso_handle_insert(nocopy__handle *h, uint64_t *id)
{
    nc_iso_refs *p = h->backend;
    pthread_mutex_lock(&mu);
    if (p->id_plus1) {
        /* Made into a term before: the same id, one entry. */
        *id = p->id_plus1 - 1;
        pthread_mutex_unlock(&mu);
        nocopy__be_handle_release(h);
        return NOCOPY_OK;
    }
    uint32_t i = 0;
    /* Reuse a slot whose handle was destroyed (closed by C), else append. */
    for (; i < nslots; i++)
        if (!slots[i].h || (atomic_load(&slots[i].h->state) & NC_HANDLE_DESTROYED))
            break;
    nocopy__handle *old = NULL;
    if (i == nslots) {
        if (nslots == MAX_SLOTS) {
            pthread_mutex_unlock(&mu);
            nocopy__be_handle_release(h);
            return NOCOPY_ENOMEM;
        }
        if ((nslots & (nslots - 1)) == 0) {   /* 0, 1, 2, 4...: grow at powers of two */
            slot *ns = realloc(slots, (nslots ? nslots * 2 : 16) * sizeof *ns);
            if (!ns) {
                pthread_mutex_unlock(&mu);
                nocopy__be_handle_release(h);
                return NOCOPY_ENOMEM;
            }
            slots = ns;
        }
        slots[nslots].h = NULL;
        slots[nslots].gen = 0;
        nslots++;
    } else {
        old = slots[i].h;
        slots[i].gen = (slots[i].gen + 1) & ((1u << GEN_BITS) - 1);
    }
    slots[i].h = h;
    *id = make_id(i);
    p->id_plus1 = *id + 1;
    pthread_mutex_unlock(&mu);
    if (old)
        nocopy__be_handle_release(old);
    return NOCOPY_OK;
}

nocopy__handle *nocopy__iso_handle_lookup(uint64_t id)
{
    uint32_t i = (uint32_t)(id & (MAX_SLOTS - 1));
    uint32_t gen = (uint32_t)((id >> SLOT_BITS) & ((1u << GEN_BITS) - 1));
    unsigned type = (unsigned)((id >> TYPE_SHIFT) & 0xFF);
    uint64_t inc = id >> INC_SHIFT;
    nocopy__handle *h = NULL;
    pthread_mutex_lock(&mu);
    if (inc == (nocopy__iso.incarnation & 0xFFFF) && i < nslots && slots[i].h &&
        slots[i].gen == gen && slots[i].h->type_index == type &&
        !(atomic_load(&slots[i].h->state) & NC_HANDLE_DESTROYED)) {
        h = slots[i].h;
        nocopy__be_handle_keep(h);        /* for the call; released at its end */
    }
    pthread_mutex_unlock(&mu);
    if (h)
        return h;
    return type < ntypes ? tombstones[type] : NULL;
}
