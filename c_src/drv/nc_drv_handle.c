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

#include "nc_drv.h"

#define SLOT_BITS 24
#define TYPE_BITS 8
#define GEN_BITS 27
#define MAX_SLOTS (1u << SLOT_BITS)
#define NO_SLOT UINT32_MAX
#define MIN_CAP 16u

typedef struct refs_prefix {
    _Atomic size_t refs;
    uint64_t id_plus1;                 /* its table id + 1 once in a table (a
                                        * handle belongs to one port); 0 before.
                                        * Read and written with the table's
                                        * mutex held. */
} refs_prefix;

#define PREFIX_SIZE \
    ((sizeof(refs_prefix) + _Alignof(max_align_t) - 1) & ~(_Alignof(max_align_t) - 1))

static refs_prefix *prefix_of(nocopy__handle *h)
{
    return h->backend;
}

nocopy__handle *nocopy__drv_handle_alloc(const nocopy_handle_type *type, unsigned index)
{
    if (index >= (1u << TYPE_BITS) ||
        type->size > SIZE_MAX - PREFIX_SIZE - sizeof(nocopy__handle))
        return NULL;
    unsigned char *mem = driver_alloc(PREFIX_SIZE + sizeof(nocopy__handle) + type->size);
    if (!mem)
        return NULL;
    refs_prefix *p = (refs_prefix *)mem;
    atomic_init(&p->refs, 1);          /* the creator's OWNED reference */
    p->id_plus1 = 0;
    nocopy__handle *h = (nocopy__handle *)(mem + PREFIX_SIZE);
    nocopy__handle_init(h, type, index);
    h->backend = p;
    return h;
}

void nocopy__drv_handle_keep(nocopy__handle *h)
{
    atomic_fetch_add_explicit(&prefix_of(h)->refs, 1, memory_order_relaxed);
}

void nocopy__drv_handle_release(nocopy__handle *h)
{
    refs_prefix *p = prefix_of(h);
    if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1) {
        nocopy__handle_finalize(h);    /* runs the destructor unless it ran */
        driver_free(p);
    }
}

/* ---- tombstones ------------------------------------------------------------- */

/* One per handle type, made at driver load and read-only until unload. */
static nocopy__handle **tombstones;
static unsigned ntypes;

_Static_assert(NC_MAX_HANDLE_TYPES <= (1u << TYPE_BITS),
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
    t->free_head = NO_SLOT;
    t->closed = 0;
    return t->mu ? 0 : -1;
}

static uint64_t make_id(const nc_drv_handle_slot *s, uint32_t slot)
{
    return ((uint64_t)s->gen << 32) | ((uint64_t)s->h->type_index << SLOT_BITS) | slot;
}

/* Empties a slot (with t->mu held); returns the reference it held. */
static nocopy__handle *clear_slot(nc_drv_htable *t, uint32_t i)
{
    nc_drv_handle_slot *s = &t->slots[i];
    nocopy__handle *h = s->h;
    s->h = NULL;
    s->gen = (s->gen + 1) & ((1u << GEN_BITS) - 1);   /* old ids go stale */
    s->next_free = t->free_head;
    t->free_head = i;
    t->live--;
    return h;
}

/* Reclaims the slots of destroyed (closed) handles. With t->mu held: the
 * releases only free memory, since their destructors have run. */
static uint32_t sweep(nc_drv_htable *t)
{
    uint32_t freed = 0;
    for (uint32_t i = 0; i < t->cap; i++) {
        nocopy__handle *h = t->slots[i].h;
        if (h && (atomic_load(&h->state) & NC_HANDLE_DESTROYED)) {
            nocopy__drv_handle_release(clear_slot(t, i));
            freed++;
        }
    }
    return freed;
}

static int grow(nc_drv_htable *t)
{
    uint32_t cap = t->cap ? t->cap * 2 : MIN_CAP;
    if (cap > MAX_SLOTS || cap <= t->cap)
        return -1;
    nc_drv_handle_slot *s = driver_realloc(t->slots, cap * sizeof *s);
    if (!s)
        return -1;
    /* New slots go on the free list, lowest index first. */
    for (uint32_t i = cap; i-- > t->cap;) {
        s[i].h = NULL;
        s[i].gen = 0;
        s[i].next_free = t->free_head;
        t->free_head = i;
    }
    t->slots = s;
    t->cap = cap;
    return 0;
}

int nocopy__drv_htable_insert(nc_drv_htable *t, nocopy__handle *h, uint64_t *id,
                              int *existed)
{
    int st = NOCOPY_OK;
    *existed = 0;
    erl_drv_mutex_lock(t->mu);
    if (t->closed) {
        st = NOCOPY_ECLOSED;
        goto done;
    }
    /* Made into a term before, and still in its slot: the same id again, so a
     * function that returns one object many times holds one slot, and the
     * terms compare equal, as one NIF resource's would. */
    uint64_t known = prefix_of(h)->id_plus1;
    if (known) {
        uint32_t slot = (uint32_t)((known - 1) & (MAX_SLOTS - 1));
        if (slot < t->cap && t->slots[slot].h == h &&
            make_id(&t->slots[slot], slot) == known - 1) {
            *id = known - 1;
            *existed = 1;
            goto done;
        }
    }
    if (t->free_head == NO_SLOT) {
        /* Sweep before growing, and grow anyway unless a quarter of the table
         * came free: the next sweep is then at least cap/4 inserts away, so
         * sweeping costs O(1) per insert, amortised. */
        uint32_t freed = sweep(t);
        if ((freed < t->cap / 4 || t->free_head == NO_SLOT) && grow(t) != 0 &&
            t->free_head == NO_SLOT) {
            st = NOCOPY_ENOMEM;
            goto done;
        }
    }
    uint32_t i = t->free_head;
    nc_drv_handle_slot *s = &t->slots[i];
    t->free_head = s->next_free;
    s->h = h;
    t->live++;
    *id = make_id(s, i);
    prefix_of(h)->id_plus1 = *id + 1;
done:
    erl_drv_mutex_unlock(t->mu);
    return st;
}

nocopy__handle *nocopy__drv_htable_lookup(nc_drv_htable *t, uint64_t id)
{
    uint32_t i = (uint32_t)(id & (MAX_SLOTS - 1));
    unsigned type = (unsigned)((id >> SLOT_BITS) & ((1u << TYPE_BITS) - 1));
    uint64_t gen = id >> 32;
    nocopy__handle *h = NULL, *dead = NULL;

    erl_drv_mutex_lock(t->mu);
    if (i < t->cap && t->slots[i].h && t->slots[i].gen == gen &&
        t->slots[i].h->type_index == type) {
        h = t->slots[i].h;
        if (atomic_load(&h->state) & NC_HANDLE_DESTROYED) {
            dead = clear_slot(t, i);
            h = NULL;
        } else {
            nocopy__drv_handle_keep(h);   /* for the call; released at its end */
        }
    }
    erl_drv_mutex_unlock(t->mu);
    if (dead)
        nocopy__drv_handle_release(dead);
    if (h)
        return h;
    return type < ntypes ? tombstones[type] : NULL;
}

void nocopy__drv_htable_remove(nc_drv_htable *t, uint64_t id, nocopy__handle *h)
{
    uint32_t i = (uint32_t)(id & (MAX_SLOTS - 1));
    nocopy__handle *gone = NULL;
    erl_drv_mutex_lock(t->mu);
    if (i < t->cap && t->slots[i].h == h && t->slots[i].gen == (id >> 32))
        gone = clear_slot(t, i);
    erl_drv_mutex_unlock(t->mu);
    if (gone)
        nocopy__drv_handle_release(gone);
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
    t->free_head = NO_SLOT;
    erl_drv_mutex_unlock(t->mu);
    for (uint32_t i = 0; i < cap; i++)
        if (slots[i].h)
            nocopy__drv_handle_release(slots[i].h);
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

/* ---- making a handle term ------------------------------------------------------ */

nocopy_value nocopy__drv_make_handle(nocopy_call *c, nocopy__handle *h)
{
    nc_drv_call *dc = DRV_CALL(c);
    uint64_t id;
    nc_drv_made *m = nocopy__arena_alloc(&c->arena, sizeof *m);
    if (!m) {
        nocopy__drv_handle_release(h);   /* it was HANDED OVER to us */
        nocopy__fail(c, NOCOPY_ENOMEM, 0, "out of memory making a handle");
        return 0;
    }
    int existed;
    int st = nocopy__drv_htable_insert(&dc->dp->handles, h, &id, &existed);
    if (st != NOCOPY_OK) {
        nocopy__drv_handle_release(h);
        nocopy__fail(c, st, 0, st == NOCOPY_ECLOSED ? "the port is closing"
                                                    : "too many handles on this port");
        return 0;
    }
    if (existed) {
        /* The table already holds a reference for every copy of the term:
         * drop the one HANDED OVER, and nothing to undo if the reply fails. */
        nocopy__drv_handle_release(h);
        return nocopy__drv_reply_handle(c, id);
    }
    /* Remembered so that the entry is undone if the reply never reaches
     * Erlang (an error, or the caller died): like a NIF term never kept. */
    m->id = id;
    m->h = h;
    m->next = dc->made;
    dc->made = m;
    return nocopy__drv_reply_handle(c, id);
}
