/* nc_drv_nodes.h: the driver's result builders, part of its primitives
 * (nc_backend.h includes it; include that, not this). A result term is built
 * bottom-up as nc_drv_reply_node in the call's arena (nocopy_value points to
 * one) that knows how many ErlDrvTermData entries it expands to and how deep it
 * is; nc_drv_reply.c writes the tree once into a spec and sends it.
 *
 * Binaries: a result buffer, a slice of an input and a kept binary all become
 * ERL_DRV_BINARY nodes, so the runtime references the driver binary (no copy
 * above 64 bytes); the nodes that own a reference are listed in the call and
 * dropped after sending (nocopy__drv_release_owned). */
#ifndef NC_DRV_NODES_H
#define NC_DRV_NODES_H

#include <string.h>

#include "nc_drv.h"
#include "nc_prims.h"

/* ---- result nodes ------------------------------------------------------------- */

/* More spec entries than this is refused: erl_drv_send_term takes an int count,
 * and a value shared many times in a tree (a DAG) expands once per use. */
#define NC_DRV_MAX_SPEC ((size_t)1 << 27)

/* Erlang's largest tuple. */
#define NC_DRV_MAX_TUPLE_ARITY 0xFFFFFFu

#define NC_DRV_R(v) ((nc_drv_reply_node *)(v))
#define NC_DRV_V(n) ((nocopy_value)(n))

/* A node, with `extra` bytes after it (an aggregate's children: one arena
 * allocation per tuple or list, not two). */
static inline nc_drv_reply_node *nc_drv_rnew_extra(nocopy_call *c, int kind, size_t spec,
                                                   size_t extra)
{
    nc_drv_reply_node *n = nocopy__arena_alloc_fast(&c->arena, sizeof *n + extra);
    if (!n) {
        nocopy__fail(c, NOCOPY_ENOMEM, 0, "out of memory building the result");
        return NULL;
    }
    n->kind = (uint8_t)kind;
    n->depth = 1;
    n->spec = spec;
    n->next_owned = NULL;
    return n;
}

static inline nc_drv_reply_node *nc_drv_rnew(nocopy_call *c, int kind, size_t spec)
{
    return nc_drv_rnew_extra(c, kind, spec, 0);
}

static inline nocopy_value nocopy__be_make_i64(nocopy_call *c, int64_t v)
{
    nc_drv_reply_node *n = nc_drv_rnew(c, NC_R_INT, 2);
    if (n)
        n->v.i = v;
    return NC_DRV_V(n);
}

static inline nocopy_value nocopy__be_make_u64(nocopy_call *c, uint64_t v)
{
    nc_drv_reply_node *n = nc_drv_rnew(c, NC_R_UINT, 2);
    if (n)
        n->v.u = v;
    return NC_DRV_V(n);
}

static inline nocopy_value nocopy__be_make_double(nocopy_call *c, double v)
{
    nc_drv_reply_node *n = nc_drv_rnew(c, NC_R_FLOAT, 2);
    if (n)
        n->v.f = v;
    return NC_DRV_V(n);
}

static inline nocopy_value nocopy__be_make_atom(nocopy_call *c, nocopy_atom a)
{
    nc_drv_reply_node *n = nc_drv_rnew(c, NC_R_ATOM, 2);
    if (n)
        n->v.atom = a < 0 ? nocopy__drv.builtin[-a - 1] : nocopy__drv.mod_atoms[a];
    return NC_DRV_V(n);
}

/* Tuples and lists: the children are copied (the caller's array is read during
 * the call only) and their sizes summed, saturating at NC_DRV_MAX_SPEC. */
static inline nocopy_value nc_drv_make_agg(nocopy_call *c, int kind, size_t count,
                                           const nocopy_value *e)
{
    size_t spec = kind == NC_R_TUPLE ? 2 : (count ? 3 : 1);
    uint32_t depth = 0;
    if (count > (NC_DRV_MAX_SPEC - spec) / 2) {
        nocopy__fail(c, NOCOPY_ENOMEM, 0, "result too large for a driver reply");
        return 0;
    }
    /* count is below NC_DRV_MAX_SPEC / 2: the size cannot overflow. */
    nc_drv_reply_node *n = nc_drv_rnew_extra(c, kind, 0, count * sizeof(nc_drv_reply_node *));
    if (!n)
        return 0;
    nc_drv_reply_node **kids = count ? (nc_drv_reply_node **)(n + 1) : NULL;
    for (size_t i = 0; i < count; i++) {
        kids[i] = NC_DRV_R(e[i]);
        spec += kids[i]->spec;
        if (spec > NC_DRV_MAX_SPEC) {
            nocopy__fail(c, NOCOPY_ENOMEM, 0, "result too large for a driver reply");
            return 0;
        }
        if (kids[i]->depth > depth)
            depth = kids[i]->depth;
    }
    n->spec = spec;
    n->depth = depth + 1;
    n->v.agg.n = count;
    n->v.agg.kids = kids;
    return NC_DRV_V(n);
}

static inline nocopy_value nocopy__be_make_tuple(nocopy_call *c, unsigned n,
                                                 const nocopy_value *e)
{
    if (n > NC_DRV_MAX_TUPLE_ARITY) {
        nocopy__fail(c, NOCOPY_ERANGE, 0, "tuple of %u elements is too large", n);
        return 0;
    }
    return nc_drv_make_agg(c, NC_R_TUPLE, n, e);
}

static inline nocopy_value nocopy__be_make_list(nocopy_call *c, size_t n,
                                                const nocopy_value *e)
{
    return nc_drv_make_agg(c, NC_R_LIST, n, e);
}

/* A binary node over `bin`. owned: the call holds a reference it must drop
 * after sending (a result buffer, a copy, an extra ref on a kept binary). */
static inline nocopy_value nc_drv_bin_node(nocopy_call *c, ErlDrvBinary *bin, size_t off,
                                           size_t len,
                             int owned)
{
    nc_drv_reply_node *n = nc_drv_rnew(c, NC_R_BIN, 4);
    if (!n) {
        if (owned)
            driver_free_binary(bin);
        return 0;
    }
    n->v.bin.bin = bin;
    n->v.bin.off = off;
    n->v.bin.len = len;
    n->v.bin.owned = owned;
    if (owned) {
        n->next_owned = DRV_CALL(c)->owned;
        DRV_CALL(c)->owned = n;
    }
    return NC_DRV_V(n);
}

static inline nocopy_value nocopy__be_make_buf(nocopy_call *c, nocopy__buf *b)
{
    nc_drv_buf *db = (nc_drv_buf *)b;
    ErlDrvBinary *bin = db->bin;
    size_t size = db->base.pub.size;
    driver_free(db);
    /* The buffer's reference now belongs to the result node. */
    return nc_drv_bin_node(c, bin, 0, size, 1);
}

/* Bytes that stay valid until the reply is sent: BUF2BINARY copies them into
 * the message (the runtime makes a heap binary of <= 64 bytes anyway). */
static inline nocopy_value nc_drv_copy_node(nocopy_call *c, const uint8_t *data, size_t len)
{
    nc_drv_reply_node *n = nc_drv_rnew(c, NC_R_COPY, 3);
    if (n) {
        n->v.copy.data = data;
        n->v.copy.len = len;
    }
    return NC_DRV_V(n);
}

static inline nocopy_value nocopy__be_make_copy(nocopy_call *c, const void *data,
                                                size_t size)
{
    /* The caller's bytes may be gone by the time the reply is sent (a stack
     * buffer): small ones are copied into the arena, large ones into a driver
     * binary that becomes the result without a second copy. */
    if (size <= NOCOPY_HEAP_BINARY_LIMIT) {
        uint8_t *p = nocopy__arena_alloc_fast(&c->arena, size);
        if (!p) {
            nocopy__fail(c, NOCOPY_ENOMEM, 0, "out of memory copying %zu bytes", size);
            return 0;
        }
        if (size)
            memcpy(p, data, size);
        return nc_drv_copy_node(c, p, size);
    }
    ErlDrvBinary *bin = driver_alloc_binary((ErlDrvSizeT)size);
    if (!bin) {
        nocopy__fail(c, NOCOPY_ENOMEM, 0, "out of memory copying %zu bytes", size);
        return 0;
    }
    memcpy(bin->orig_bytes, data, size);
    return nc_drv_bin_node(c, bin, 0, size, 1);
}

/* The driver has no way to wrap foreign memory in a binary (unlike the NIF's
 * resource binaries), so the bytes are copied and the owner released now. */
static inline nocopy_value nocopy__be_make_foreign(nocopy_call *c, const void *data,
                                                   size_t size,
                                      nocopy_release_fn release, void *obj)
{
    nocopy_value v = nocopy__be_make_copy(c, data, size);
    if (release)
        release(obj);
    return v;
}

/* Whether [data, data+len) lies inside bin's bytes, so that ERL_DRV_BINARY can
 * name it by offset. Not the case for resource (magic) binaries, whose
 * orig_bytes do not describe the data; those slices are copied. */
static inline int nocopy__drv_slice_fits(const ErlDrvBinary *bin, const uint8_t *data,
                                         size_t len,
                           size_t *offset)
{
    const uint8_t *base = (const uint8_t *)bin->orig_bytes;
    size_t size = (size_t)bin->orig_size;
    if (data < base || (size_t)(data - base) > size || len > size - (size_t)(data - base))
        return 0;
    *offset = (size_t)(data - base);
    return 1;
}

static inline nocopy_value nocopy__be_make_slice(nocopy_call *c, uintptr_t raw,
                                                 const nocopy_bytes *view,
                                    size_t offset, size_t len)
{
    const nocopy__wire_node *n = (const nocopy__wire_node *)raw;
    ErlDrvBinary *bin = n->v.bytes.binref;
    const uint8_t *data = view->data + offset;
    size_t at;
    /* The input binary is referenced by the request until the call ends, and
     * the runtime takes its own reference when it builds the term: nothing to
     * keep here. */
    if (bin && nocopy__drv_slice_fits(bin, data, len, &at))
        return nc_drv_bin_node(c, bin, at, len, 0);
    return nc_drv_copy_node(c, data, len);
}

static inline nocopy_value nocopy__be_make_kept(nocopy_call *c, const nocopy_kept *k,
                                                size_t offset,
                                   size_t len)
{
    const nc_drv_kept *dk = (const nc_drv_kept *)k;
    const uint8_t *data = k->view.data + offset;
    size_t at;
    if (!nocopy__drv_slice_fits(dk->bin, data, len, &at))
        return nocopy__be_make_copy(c, data, len);
    /* C may release its kept reference before the reply goes out: the node
     * holds one of its own. */
    driver_binary_inc_refc(dk->bin);
    return nc_drv_bin_node(c, dk->bin, at, len, 1);
}

static inline nocopy_value nocopy__drv_reply_handle(nocopy_call *c, uint64_t id)
{
    nc_drv_reply_node *n = nc_drv_rnew(c, NC_R_HANDLE, 8);
    if (n)
        n->v.handle_id = id;
    return NC_DRV_V(n);
}

#endif /* NC_DRV_NODES_H */
