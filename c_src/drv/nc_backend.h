/* nc_backend.h (driver): the core's primitives on the driver backend
 * (nc_prims.h states their contract). The core compiled for the driver
 * includes this header, so each primitive is inlined where the core uses it;
 * the driver's own files include it for the few they use too (the handle
 * table's insert, handle references, result builders).
 *
 * A term word (uintptr_t raw) is a pointer to a decoded request node
 * (nocopy__wire_node, wire/nc_wire.h). Binaries are views straight into the
 * ErlIOVec the request arrived in: a large binary's bytes are the Erlang
 * binary's own, reached through ev->iov[i] and owned by ev->binv[i]. Nothing is
 * copied unless a comment says so. A result is written as it is made, as
 * ranges of the call's ErlDrvTermData spec (nc_drv.h, nc_drv_nodes.h), which
 * nc_drv_reply.c wraps into the reply.
 *
 * Reading a term is nc_wire_read.h's, shared with the isolated backend's
 * child, which reads the same nodes.
 *
 * Everything here uses only the core, the runtime and the backend's state
 * (nocopy__drv, nc_drv_state.c): the release functions a kept binary or a
 * buffer points to are static inline too, so a core file that makes one has
 * its own copy. */
#ifndef NC_DRV_BACKEND_H
#define NC_DRV_BACKEND_H

#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

#include "nc_drv.h"
#include "nc_drv_nodes.h"   /* the result builders: nocopy__be_make_* but handles */
#include "nc_prims.h"

/* The readers' hook (nc_wire_read.h): atoms arrive as text. */
static inline const nocopy__wire_atom_name *nocopy__wire_be_atoms(int *count)
{
    *count = NOCOPY_ATOM_BUILTIN_COUNT + nocopy__drv.natoms;
    return nocopy__drv.names;
}

#include "nc_wire_read.h"   /* the readers: nocopy__be_type, nocopy__be_get_* */

/* ---- handles: [refcount prefix][nocopy__handle header][object] --------------- */

/* The id's layout (NC_DRV_SLOT_BITS ...) is nc_drv.h's. */
#define NC_DRV_GEN_BITS 27
#define NC_DRV_NO_SLOT UINT32_MAX
#define NC_DRV_MIN_CAP 16u

typedef struct nc_drv_refs {
    _Atomic size_t refs;
    uint64_t id_plus1;                 /* its table id + 1 once in a table (a
                                        * handle belongs to one port); 0 before.
                                        * Read and written with the table's
                                        * mutex held. */
} nc_drv_refs;

#define NC_DRV_PREFIX_SIZE \
    ((sizeof(nc_drv_refs) + _Alignof(max_align_t) - 1) & ~(_Alignof(max_align_t) - 1))

static inline nc_drv_refs *nc_drv_refs_of(nocopy__handle *h)
{
    return h->backend;
}

static inline nocopy__handle *nocopy__be_handle_alloc(const nocopy_handle_type *type,
                                                      unsigned index)
{
    if (index >= (1u << NC_DRV_TYPE_BITS) ||
        type->size > SIZE_MAX - NC_DRV_PREFIX_SIZE - sizeof(nocopy__handle))
        return NULL;
    unsigned char *mem = driver_alloc(NC_DRV_PREFIX_SIZE + sizeof(nocopy__handle) + type->size);
    if (!mem)
        return NULL;
    nc_drv_refs *p = (nc_drv_refs *)mem;
    atomic_init(&p->refs, 1);          /* the creator's OWNED reference */
    p->id_plus1 = 0;
    nocopy__handle *h = (nocopy__handle *)(mem + NC_DRV_PREFIX_SIZE);
    nocopy__handle_init(h, type, index);
    h->backend = p;
    return h;
}

static inline void nocopy__be_handle_keep(nocopy__handle *h)
{
    atomic_fetch_add_explicit(&nc_drv_refs_of(h)->refs, 1, memory_order_relaxed);
}

static inline void nocopy__be_handle_release(nocopy__handle *h)
{
    nc_drv_refs *p = nc_drv_refs_of(h);
    if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1) {
        nocopy__handle_finalize(h);    /* runs the destructor unless it ran */
        driver_free(p);
    }
}

/* ---- the per-port handle table: making an id (the rest is nc_drv_handle.c) ---- */

static inline uint64_t nc_drv_make_id(const nc_drv_handle_slot *s, uint32_t slot)
{
    return ((uint64_t)s->gen << 32) | ((uint64_t)s->h->type_index << NC_DRV_SLOT_BITS) | slot;
}

/* Empties a slot (with t->mu held); returns the reference it held. */
static inline nocopy__handle *nc_drv_clear_slot(nc_drv_htable *t, uint32_t i)
{
    nc_drv_handle_slot *s = &t->slots[i];
    nocopy__handle *h = s->h;
    s->h = NULL;
    s->gen = (s->gen + 1) & ((1u << NC_DRV_GEN_BITS) - 1);   /* old ids go stale */
    s->next_free = t->free_head;
    t->free_head = i;
    t->live--;
    return h;
}

/* Reclaims the slots of destroyed (closed) handles. With t->mu held: the
 * releases only free memory, since their destructors have run. */
static inline uint32_t nc_drv_sweep(nc_drv_htable *t)
{
    uint32_t freed = 0;
    if (t->pinned)
        return 0;                      /* a running call peeked at them */
    for (uint32_t i = 0; i < t->cap; i++) {
        nocopy__handle *h = t->slots[i].h;
        if (h && (atomic_load(&h->state) & NC_HANDLE_DESTROYED)) {
            nocopy__be_handle_release(nc_drv_clear_slot(t, i));
            freed++;
        }
    }
    return freed;
}

static inline int nc_drv_grow(nc_drv_htable *t)
{
    uint32_t cap = t->cap ? t->cap * 2 : NC_DRV_MIN_CAP;
    if (cap > NC_DRV_MAX_SLOTS || cap <= t->cap)
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

static inline int nocopy__drv_htable_insert(nc_drv_htable *t, nocopy__handle *h,
                                            uint64_t *id,
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
    uint64_t known = nc_drv_refs_of(h)->id_plus1;
    if (known) {
        uint32_t slot = (uint32_t)((known - 1) & (NC_DRV_MAX_SLOTS - 1));
        if (slot < t->cap && t->slots[slot].h == h &&
            nc_drv_make_id(&t->slots[slot], slot) == known - 1) {
            *id = known - 1;
            *existed = 1;
            goto done;
        }
    }
    if (t->free_head == NC_DRV_NO_SLOT) {
        /* Sweep before growing, and grow anyway unless a quarter of the table
         * came free: the next sweep is then at least cap/4 inserts away, so
         * sweeping costs O(1) per insert, amortised. */
        uint32_t freed = nc_drv_sweep(t);
        if ((freed < t->cap / 4 || t->free_head == NC_DRV_NO_SLOT) && nc_drv_grow(t) != 0 &&
            t->free_head == NC_DRV_NO_SLOT) {
            st = NOCOPY_ENOMEM;
            goto done;
        }
    }
    uint32_t i = t->free_head;
    nc_drv_handle_slot *s = &t->slots[i];
    t->free_head = s->next_free;
    s->h = h;
    t->live++;
    *id = nc_drv_make_id(s, i);
    nc_drv_refs_of(h)->id_plus1 = *id + 1;
done:
    erl_drv_mutex_unlock(t->mu);
    return st;
}

/* ---- kept binaries ---------------------------------------------------------- */

static inline void nc_drv_kept_release(nocopy_kept *k)
{
    nc_drv_kept *dk = (nc_drv_kept *)k;
    driver_free_binary(dk->bin);       /* drops our reference */
    driver_free(dk);
}

/* Keeps the binary that owns the view: one more refcount on the ErlDrvBinary
 * of the request's I/O vector entry, no data copy. The runtime may have copied
 * a small binary into its merged copy buffer first; then that buffer is what
 * is kept (a few hundred bytes at most). */
static inline int nocopy__be_keep(nocopy_call *c, uintptr_t raw, const nocopy_bytes *view,
                                  nocopy_kept **out)
{
    (void)c;
    ErlDrvBinary *bin = nocopy__wire_node_of(raw)->v.bytes.binref;
    nc_drv_kept *dk = driver_alloc(sizeof *dk);
    if (!dk)
        return NOCOPY_ENOMEM;
    if (bin) {
        driver_binary_inc_refc(bin);
        dk->base.view = *view;
    } else {
        /* No owner to reference (an empty binary): a copy of our own. */
        bin = driver_alloc_binary((ErlDrvSizeT)view->size);
        if (!bin) {
            driver_free(dk);
            return NOCOPY_ENOMEM;
        }
        if (view->size)
            memcpy(bin->orig_bytes, view->data, view->size);
        dk->base.view.data = (const uint8_t *)bin->orig_bytes;
        dk->base.view.size = view->size;
    }
    dk->bin = bin;
    dk->base.release = nc_drv_kept_release;
    *out = &dk->base;
    return NOCOPY_OK;
}

/* ---- result buffers ------------------------------------------------------------ */

static inline int nc_drv_buf_resize(nocopy__buf *b, size_t size)
{
    nc_drv_buf *db = (nc_drv_buf *)b;
    /* Only ever on our own unshared binary: driver_realloc_binary does no
     * refcount check. */
    ErlDrvBinary *nb = driver_realloc_binary(db->bin, (ErlDrvSizeT)size);
    if (!nb)
        return NOCOPY_ENOMEM;
    db->bin = nb;
    db->base.pub.data = (uint8_t *)nb->orig_bytes;
    db->base.pub.size = size;
    return NOCOPY_OK;
}

static inline void nc_drv_buf_free(nocopy__buf *b)
{
    nc_drv_buf *db = (nc_drv_buf *)b;
    driver_free_binary(db->bin);
    driver_free(db);
}

static inline nocopy__buf *nocopy__be_buf_alloc(size_t size)
{
    nc_drv_buf *db = driver_alloc(sizeof *db);
    if (!db)
        return NULL;
    db->bin = driver_alloc_binary((ErlDrvSizeT)size);
    if (!db->bin) {
        driver_free(db);
        return NULL;
    }
    db->base.pub.data = (uint8_t *)db->bin->orig_bytes;
    db->base.pub.size = size;
    db->base.resize = nc_drv_buf_resize;
    db->base.free = nc_drv_buf_free;
    return &db->base;
}

/* The buffer's binary becomes the kept object's reference: a refcounted
 * ErlDrvBinary that any number of replies can reference with ERL_DRV_BINARY. */
static inline nocopy_kept *nocopy__be_buf_share(nocopy_call *c, nocopy__buf *b)
{
    (void)c;
    nc_drv_buf *db = (nc_drv_buf *)b;
    nc_drv_kept *dk = driver_alloc(sizeof *dk);
    if (!dk) {
        nc_drv_buf_free(b);
        return NULL;
    }
    dk->bin = db->bin;
    dk->base.view.data = (const uint8_t *)db->bin->orig_bytes;
    dk->base.view.size = db->base.pub.size;
    dk->base.release = nc_drv_kept_release;
    driver_free(db);
    return &dk->base;
}

/* ---- making a handle term -------------------------------------------------------- */

static inline nocopy_value nocopy__be_make_handle(nocopy_call *c, nocopy__handle *h)
{
    nc_drv_call *dc = DRV_CALL(c);
    uint64_t id;
    nc_drv_made *m = nocopy__arena_alloc(&c->arena, sizeof *m);
    if (!m) {
        nocopy__be_handle_release(h);   /* it was HANDED OVER to us */
        nocopy__fail(c, NOCOPY_ENOMEM, 0, "out of memory making a handle");
        return 0;
    }
    int existed;
    int st = nocopy__drv_htable_insert(&dc->dp->handles, h, &id, &existed);
    if (st != NOCOPY_OK) {
        nocopy__be_handle_release(h);
        nocopy__fail(c, st, 0, st == NOCOPY_ECLOSED ? "the port is closing"
                                                    : "too many handles on this port");
        return 0;
    }
    if (existed) {
        /* The table already holds a reference for every copy of the term:
         * drop the one HANDED OVER, and nothing to undo if the reply fails. */
        nocopy__be_handle_release(h);
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

static inline void nocopy__be_consume(nocopy_call *c, size_t bytes)
{
    /* A driver call cannot yield; long work goes to the workers. */
    (void)c;
    (void)bytes;
}

#endif /* NC_DRV_BACKEND_H */
