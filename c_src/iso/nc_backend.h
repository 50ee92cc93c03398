/* nc_backend.h (isolated backend, child side): the core's primitives
 * (nc_prims.h states their contract) in the child process priv/NAME_iso. The
 * core compiled for this backend (core-iso) includes this header, so each
 * primitive is inlined where the core uses it.
 *
 * A term word is a pointer to a decoded request node (nocopy__wire_node,
 * wire/nc_wire.h), as on the driver. A binary argument's bytes are where the
 * VM put them: in the input region (mapped read-only here: C cannot write
 * them) or inline in the CALL message; the node's binref is the segment's
 * nc_iso_segref. A result is a tree of nc_iso_node in the call's arena,
 * encoded once into the REPLY (nc_iso_exec.c). Result buffers are blocks of
 * the output region, which the VM maps and makes into binaries by reference.
 *
 * What needs more than the state's data goes through nocopy__iso.hooks (see
 * nc_iso.h), so that core-iso depends on nothing of the backend but its
 * state file. */
#ifndef NC_ISO_BACKEND_H
#define NC_ISO_BACKEND_H

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "nc_iso.h"
#include "nc_prims.h"

#define NC_ISO_V(n) ((nocopy_value)(n))

/* The readers' hook (nc_wire_read.h): atoms arrive as text. */
static inline const nocopy__wire_atom_name *nocopy__wire_be_atoms(int *count)
{
    *count = NOCOPY_ATOM_BUILTIN_COUNT + nocopy__iso.natoms;
    return nocopy__iso.names;
}

#include "nc_wire_read.h"   /* the readers, the driver's: nocopy__be_type, nocopy__be_get_* */

/* ---- kept binaries ---------------------------------------------------------------- */

static inline void nc_iso_kept_release(nocopy_kept *k)
{
    nc_iso_kept *ik = (nc_iso_kept *)k;
    if (ik->region == NC_ISO_REGION_INPUT)
        nocopy__iso.hooks.in_release(ik->block);
    else if (ik->region == NC_ISO_REGION_OUTPUT)
        nocopy__iso.hooks.out_unref(ik->block);
    else
        free(ik->heap);
    free(ik);
}

/* An input block is kept by telling the VM (no copy); bytes that came inline
 * in the message, which dies with the call, are copied. */
static inline int nocopy__be_keep(nocopy_call *c, uintptr_t raw, const nocopy_bytes *view,
                                  nocopy_kept **out)
{
    (void)c;
    const nc_iso_segref *ref = nocopy__wire_node_of(raw)->v.bytes.binref;
    nc_iso_kept *ik = malloc(sizeof *ik);
    if (!ik)
        return NOCOPY_ENOMEM;
    ik->base.view = *view;
    ik->base.release = nc_iso_kept_release;
    ik->heap = NULL;
    if (ref && ref->region == NC_ISO_SEG_OUTPUT) {
        nocopy__iso.hooks.out_ref(ref->block);
        ik->region = NC_ISO_REGION_OUTPUT;
        ik->block = ref->block;
    } else if (ref && ref->region == NC_ISO_SEG_INPUT) {
        int st = nocopy__iso.hooks.in_keep(ref->block);
        if (st != NOCOPY_OK) {
            free(ik);
            return st;
        }
        ik->region = NC_ISO_REGION_INPUT;
        ik->block = ref->block;
    } else {
        ik->region = -1;
        ik->block = 0;
        ik->heap = malloc(view->size ? view->size : 1);
        if (!ik->heap) {
            free(ik);
            return NOCOPY_ENOMEM;
        }
        if (view->size)
            memcpy(ik->heap, view->data, view->size);
        ik->base.view.data = ik->heap;
    }
    *out = &ik->base;
    return NOCOPY_OK;
}

/* ---- result buffers: output blocks -------------------------------------------------- */

static inline int nc_iso_buf_resize(nocopy__buf *b, size_t size)
{
    nc_iso_buf *ib = (nc_iso_buf *)b;
    if (size <= ib->cap) {
        ib->base.pub.size = size;
        return NOCOPY_OK;
    }
    uint64_t off;
    if (nocopy__iso.hooks.out_take(size, &off) != NOCOPY_OK)
        return NOCOPY_ENOMEM;
    memcpy(nocopy__iso.out.base + off, ib->base.pub.data, ib->base.pub.size);
    nocopy__iso.hooks.out_unref(ib->off);
    ib->off = off;
    ib->cap = (size + NC_ISO_ALIGN - 1) & ~(size_t)(NC_ISO_ALIGN - 1);
    ib->base.pub.data = nocopy__iso.out.base + off;
    ib->base.pub.size = size;
    return NOCOPY_OK;
}

static inline void nc_iso_buf_free(nocopy__buf *b)
{
    nc_iso_buf *ib = (nc_iso_buf *)b;
    nocopy__iso.hooks.out_unref(ib->off);
    free(ib);
}

static inline nocopy__buf *nocopy__be_buf_alloc(size_t size)
{
    nc_iso_buf *ib = malloc(sizeof *ib);
    if (!ib)
        return NULL;
    if (nocopy__iso.hooks.out_take(size, &ib->off) != NOCOPY_OK) {
        free(ib);
        return NULL;
    }
    ib->cap = size ? (size + NC_ISO_ALIGN - 1) & ~(size_t)(NC_ISO_ALIGN - 1) : NC_ISO_ALIGN;
    ib->base.pub.data = nocopy__iso.out.base + ib->off;
    ib->base.pub.size = size;
    ib->base.resize = nc_iso_buf_resize;
    ib->base.free = nc_iso_buf_free;
    return &ib->base;
}

/* The buffer's block reference becomes the kept object's. */
static inline nocopy_kept *nocopy__be_buf_share(nocopy_call *c, nocopy__buf *b)
{
    (void)c;
    nc_iso_buf *ib = (nc_iso_buf *)b;
    nc_iso_kept *ik = malloc(sizeof *ik);
    if (!ik) {
        nc_iso_buf_free(b);
        return NULL;
    }
    ik->base.view.data = ib->base.pub.data;
    ik->base.view.size = ib->base.pub.size;
    ik->base.release = nc_iso_kept_release;
    ik->region = NC_ISO_REGION_OUTPUT;
    ik->block = ib->off;
    ik->heap = NULL;
    free(ib);
    return &ik->base;
}

/* ---- handles ------------------------------------------------------------------------ */

/* [refcount][nocopy__handle header][object], as on the driver. */
typedef struct nc_iso_refs {
    _Atomic size_t refs;
    uint64_t id_plus1;                 /* its table id + 1 once in the table;
                                        * under the table's lock */
} nc_iso_refs;

#define NC_ISO_PREFIX_SIZE \
    ((sizeof(nc_iso_refs) + _Alignof(max_align_t) - 1) & ~(_Alignof(max_align_t) - 1))

static inline nocopy__handle *nocopy__be_handle_alloc(const nocopy_handle_type *type,
                                                      unsigned index)
{
    if (type->size > SIZE_MAX - NC_ISO_PREFIX_SIZE - sizeof(nocopy__handle))
        return NULL;
    unsigned char *mem = malloc(NC_ISO_PREFIX_SIZE + sizeof(nocopy__handle) + type->size);
    if (!mem)
        return NULL;
    nc_iso_refs *p = (nc_iso_refs *)mem;
    atomic_init(&p->refs, 1);
    p->id_plus1 = 0;
    nocopy__handle *h = (nocopy__handle *)(mem + NC_ISO_PREFIX_SIZE);
    nocopy__handle_init(h, type, index);
    h->backend = p;
    return h;
}

static inline void nocopy__be_handle_keep(nocopy__handle *h)
{
    atomic_fetch_add_explicit(&((nc_iso_refs *)h->backend)->refs, 1, memory_order_relaxed);
}

static inline void nocopy__be_handle_release(nocopy__handle *h)
{
    nc_iso_refs *p = h->backend;
    if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1) {
        nocopy__handle_finalize(h);
        free(p);
    }
}

static inline void nocopy__be_consume(nocopy_call *c, size_t bytes)
{
    (void)c;
    (void)bytes;
}

/* ---- result nodes -------------------------------------------------------------------- */

static inline nc_iso_node *nc_iso_rnew(nocopy_call *c, int kind)
{
    nc_iso_node *n = nocopy__arena_alloc(&c->arena, sizeof *n);
    if (!n) {
        nocopy__fail(c, NOCOPY_ENOMEM, 0, "out of memory building the result");
        return NULL;
    }
    n->kind = (uint8_t)kind;
    n->next_owned = NULL;
    return n;
}

static inline nocopy_value nocopy__be_make_i64(nocopy_call *c, int64_t v)
{
    nc_iso_node *n = nc_iso_rnew(c, NC_IR_INT);
    if (n)
        n->v.i = v;
    return NC_ISO_V(n);
}

static inline nocopy_value nocopy__be_make_u64(nocopy_call *c, uint64_t v)
{
    nc_iso_node *n = nc_iso_rnew(c, NC_IR_UINT);
    if (n)
        n->v.u = v;
    return NC_ISO_V(n);
}

static inline nocopy_value nocopy__be_make_double(nocopy_call *c, double v)
{
    nc_iso_node *n = nc_iso_rnew(c, NC_IR_FLOAT);
    if (n)
        n->v.f = v;
    return NC_ISO_V(n);
}

static inline nocopy_value nocopy__be_make_atom(nocopy_call *c, nocopy_atom a)
{
    nc_iso_node *n = nc_iso_rnew(c, NC_IR_ATOM);
    if (n)
        n->v.atom = a;
    return NC_ISO_V(n);
}

/* Tuples and lists: the children are copied (the caller's array is read
 * during the call only). */
static inline nocopy_value nc_iso_make_agg(nocopy_call *c, int kind, size_t count,
                                           const nocopy_value *e)
{
    nc_iso_node *n = nc_iso_rnew(c, kind);
    nc_iso_node **kids =
        count && count <= SIZE_MAX / sizeof *kids
            ? nocopy__arena_alloc(&c->arena, count * sizeof *kids) : NULL;
    if (!n || (count && !kids)) {
        nocopy__fail(c, NOCOPY_ENOMEM, 0, "out of memory building the result");
        return 0;
    }
    for (size_t i = 0; i < count; i++)
        kids[i] = (nc_iso_node *)e[i];
    n->v.agg.n = count;
    n->v.agg.kids = kids;
    return NC_ISO_V(n);
}

static inline nocopy_value nocopy__be_make_tuple(nocopy_call *c, unsigned n,
                                                 const nocopy_value *e)
{
    if (n > 0xFFFFFFu) {
        nocopy__fail(c, NOCOPY_ERANGE, 0, "tuple of %u elements is too large", n);
        return 0;
    }
    return nc_iso_make_agg(c, NC_IR_TUPLE, n, e);
}

static inline nocopy_value nocopy__be_make_list(nocopy_call *c, size_t n,
                                                const nocopy_value *e)
{
    return nc_iso_make_agg(c, NC_IR_LIST, n, e);
}

/* A node over a region block's bytes. owned: it holds a reference (output
 * block) or a keep (input block) that the call drops once the reply is out;
 * on failure that reference is dropped here. */
static inline nocopy_value nc_iso_bin_node(nocopy_call *c, int region, uint64_t block,
                                           uint64_t off, size_t len, int owned)
{
    nc_iso_node *n = nc_iso_rnew(c, NC_IR_BIN);
    if (!n) {
        if (owned && region == NC_ISO_REGION_OUTPUT)
            nocopy__iso.hooks.out_unref(block);
        else if (owned)
            nocopy__iso.hooks.in_release(block);
        return 0;
    }
    n->v.bin.region = region;
    n->v.bin.block = block;
    n->v.bin.off = off;
    n->v.bin.len = len;
    n->v.bin.owned = owned;
    if (owned) {
        n->next_owned = ISO_CALL(c)->owned;
        ISO_CALL(c)->owned = n;
    }
    return NC_ISO_V(n);
}

static inline nocopy_value nocopy__be_make_buf(nocopy_call *c, nocopy__buf *b)
{
    nc_iso_buf *ib = (nc_iso_buf *)b;
    uint64_t off = ib->off;
    size_t size = ib->base.pub.size;
    free(ib);
    /* The buffer's reference now belongs to the node. */
    return nc_iso_bin_node(c, NC_ISO_REGION_OUTPUT, off, 0, size, 1);
}

/* A copy: small bytes go in the call's arena (inline in the reply), larger
 * ones into an output block, so the VM references them (one copy, here). */
static inline nocopy_value nocopy__be_make_copy(nocopy_call *c, const void *data,
                                                size_t size)
{
    if (size <= NC_ISO_INLINE_RESULT) {
        nc_iso_node *n = nc_iso_rnew(c, NC_IR_COPY);
        uint8_t *p = n ? nocopy__arena_alloc(&c->arena, size ? size : 1) : NULL;
        if (!p) {
            nocopy__fail(c, NOCOPY_ENOMEM, 0, "out of memory copying %zu bytes", size);
            return 0;
        }
        if (size)
            memcpy(p, data, size);
        n->v.copy.data = p;
        n->v.copy.len = size;
        return NC_ISO_V(n);
    }
    uint64_t off;
    if (nocopy__iso.hooks.out_take(size, &off) != NOCOPY_OK) {
        nocopy__fail(c, NOCOPY_ENOMEM, 0, "out of memory copying %zu bytes", size);
        return 0;
    }
    memcpy(nocopy__iso.out.base + off, data, size);
    return nc_iso_bin_node(c, NC_ISO_REGION_OUTPUT, off, 0, size, 1);
}

/* Foreign memory cannot be shared with the VM: copied, and released now. */
static inline nocopy_value nocopy__be_make_foreign(nocopy_call *c, const void *data,
                                                   size_t size, nocopy_release_fn release,
                                                   void *obj)
{
    nocopy_value v = nocopy__be_make_copy(c, data, size);
    if (release)
        release(obj);
    return v;
}

/* A slice of an input in a region is a reference to its block: the call's
 * loan (input) or reference (output) keeps the block alive until the reply
 * has handed it over. */
static inline nocopy_value nocopy__be_make_slice(nocopy_call *c, uintptr_t raw,
                                                 const nocopy_bytes *view, size_t offset,
                                                 size_t len)
{
    const nc_iso_segref *ref = nocopy__wire_node_of(raw)->v.bytes.binref;
    const uint8_t *data = view->data + offset;
    if (ref && ref->region == NC_ISO_SEG_INPUT && len > NC_ISO_INLINE_RESULT) {
        const uint8_t *block = nocopy__iso.in.base + ref->block;
        return nc_iso_bin_node(c, NC_ISO_REGION_INPUT, ref->block, (uint64_t)(data - block),
                               len, 0);
    }
    if (ref && ref->region == NC_ISO_SEG_OUTPUT && len > NC_ISO_INLINE_RESULT) {
        const uint8_t *block = nocopy__iso.out.base + ref->block;
        return nc_iso_bin_node(c, NC_ISO_REGION_OUTPUT, ref->block, (uint64_t)(data - block),
                               len, 0);
    }
    return nocopy__be_make_copy(c, data, len);
}

static inline nocopy_value nocopy__be_make_kept(nocopy_call *c, const nocopy_kept *k,
                                                size_t offset, size_t len)
{
    const nc_iso_kept *ik = (const nc_iso_kept *)k;
    const uint8_t *data = k->view.data + offset;
    if (ik->region < 0 || len <= NC_ISO_INLINE_RESULT)
        return nocopy__be_make_copy(c, data, len);
    /* C may release its keep before the reply goes out: the node takes a
     * reference of its own. */
    const uint8_t *base = ik->region == NC_ISO_REGION_INPUT ? nocopy__iso.in.base
                                                            : nocopy__iso.out.base;
    if (ik->region == NC_ISO_REGION_INPUT) {
        if (nocopy__iso.hooks.in_keep(ik->block) != NOCOPY_OK) {
            nocopy__fail(c, NOCOPY_ECLOSED, 0, "the VM is gone");
            return 0;
        }
    } else {
        nocopy__iso.hooks.out_ref(ik->block);
    }
    return nc_iso_bin_node(c, ik->region, ik->block, (uint64_t)(data - (base + ik->block)),
                           len, 1);
}

static inline nocopy_value nocopy__be_make_handle(nocopy_call *c, nocopy__handle *h)
{
    uint64_t id;
    int st = nocopy__iso.hooks.handle_insert(h, &id);   /* takes h's reference */
    if (st != NOCOPY_OK) {
        nocopy__fail(c, st, 0, "too many handles in the isolate");
        return 0;
    }
    nc_iso_node *n = nc_iso_rnew(c, NC_IR_HANDLE);
    if (n)
        n->v.handle = id;
    return NC_ISO_V(n);
}

#endif /* NC_ISO_BACKEND_H */
