/* nc_drv_ops.c: the core's operations on the driver backend (nocopy__ops).
 *
 * A term word (uintptr_t raw) is a pointer to a decoded request node
 * (nocopy__wire_node, nc_drv_wire.h). Binaries are views straight into the
 * ErlIOVec the request arrived in: a large binary's bytes are the Erlang
 * binary's own, reached through ev->iov[i] and owned by ev->binv[i]. Nothing is
 * copied unless a comment says so. */
#include <string.h>

#include "nc_drv.h"

#define N(raw) ((const nocopy__wire_node *)(raw))

/* ---- reading ------------------------------------------------------------ */

static nocopy_type d_type(nocopy_call *c, uintptr_t raw)
{
    (void)c;
    switch (N(raw)->kind) {
    case NC_W_INT:
    case NC_W_UINT:
    case NC_W_BIGINT: return NOCOPY_T_INTEGER;
    case NC_W_FLOAT: return NOCOPY_T_FLOAT;
    case NC_W_ATOM: return NOCOPY_T_ATOM;
    case NC_W_BINARY: return NOCOPY_T_BINARY;
    case NC_W_BITSTRING: return NOCOPY_T_BITSTRING;
    case NC_W_TUPLE: return NOCOPY_T_TUPLE;
    case NC_W_CONS: return NOCOPY_T_LIST;
    case NC_W_NIL: return NOCOPY_T_NIL;
    /* Any nocopy handle is a handle, as on the NIF backend; whether it may be
     * used here is get_handle's question. */
    case NC_W_HANDLE:
    case NC_W_FOREIGN_HANDLE: return NOCOPY_T_HANDLE;
    default: return NOCOPY_T_OTHER;
    }
}

static int d_get_i64(nocopy_call *c, uintptr_t raw, int64_t *out)
{
    (void)c;
    switch (N(raw)->kind) {
    case NC_W_INT: *out = N(raw)->v.i; return NC_GET_OK;
    case NC_W_UINT:
    case NC_W_BIGINT: return NC_GET_RANGE;
    default: return NC_GET_TYPE;
    }
}

static int d_get_u64(nocopy_call *c, uintptr_t raw, uint64_t *out)
{
    (void)c;
    switch (N(raw)->kind) {
    case NC_W_INT:
        if (N(raw)->v.i < 0)
            return NC_GET_RANGE;
        *out = (uint64_t)N(raw)->v.i;
        return NC_GET_OK;
    case NC_W_UINT: *out = N(raw)->v.u; return NC_GET_OK;
    case NC_W_BIGINT: return NC_GET_RANGE;
    default: return NC_GET_TYPE;
    }
}

static int d_get_double(nocopy_call *c, uintptr_t raw, double *out)
{
    (void)c;
    if (N(raw)->kind != NC_W_FLOAT)
        return NC_GET_TYPE;
    *out = N(raw)->v.f;
    return NC_GET_OK;
}

/* Atoms arrive as text (the driver cannot see atom words); the names table is
 * the built-in atoms then the module's, compared by length first. */
static int d_get_atom(nocopy_call *c, uintptr_t raw, nocopy_atom *out)
{
    (void)c;
    const nocopy__wire_node *n = N(raw);
    if (n->kind != NC_W_ATOM)
        return NC_GET_TYPE;
    int total = NOCOPY_ATOM_BUILTIN_COUNT + nocopy__drv.natoms;
    for (int i = 0; i < total; i++) {
        const nc_drv_atom_name *a = &nocopy__drv.names[i];
        if (a->len == n->v.bytes.len && memcmp(a->name, n->v.bytes.data, a->len) == 0) {
            *out = i < NOCOPY_ATOM_BUILTIN_COUNT ? -i - 1 : i - NOCOPY_ATOM_BUILTIN_COUNT;
            return NC_GET_OK;
        }
    }
    return NC_GET_UNKNOWN;
}

static int d_get_bytes(nocopy_call *c, uintptr_t raw, nocopy_bytes *out)
{
    (void)c;
    if (N(raw)->kind != NC_W_BINARY)
        return NC_GET_TYPE;
    out->data = N(raw)->v.bytes.data;
    out->size = N(raw)->v.bytes.len;
    return NC_GET_OK;
}

static int d_get_tuple(nocopy_call *c, uintptr_t raw, unsigned *arity,
                       const uintptr_t **elems)
{
    (void)c;
    if (N(raw)->kind != NC_W_TUPLE)
        return NC_GET_TYPE;
    *arity = N(raw)->arity;
    *elems = N(raw)->v.elems;
    return NC_GET_OK;
}

static int d_get_list_cell(nocopy_call *c, uintptr_t raw, uintptr_t *head, uintptr_t *tail)
{
    (void)c;
    if (N(raw)->kind != NC_W_CONS)
        return NC_GET_TYPE;
    *head = N(raw)->v.cell[0];
    *tail = N(raw)->v.cell[1];
    return NC_GET_OK;
}

/* Handles were looked up in the port's table when the request was decoded
 * (nc_drv_entry.c), on the scheduler thread; a stale id resolved to a
 * tombstone of its type, so the core reports "the T handle is closed". */
static int d_get_handle(nocopy_call *c, uintptr_t raw, nocopy__handle **out)
{
    (void)c;
    const nocopy__wire_node *n = N(raw);
    if (n->kind != NC_W_HANDLE || !n->v.handle.obj)
        return NC_GET_TYPE;
    *out = n->v.handle.obj;
    return NC_GET_OK;
}

/* ---- kept binaries ---------------------------------------------------------- */

static void kept_release(nocopy_kept *k)
{
    nc_drv_kept *dk = (nc_drv_kept *)k;
    driver_free_binary(dk->bin);       /* drops our reference */
    driver_free(dk);
}

/* Keeps the binary that owns the view: one more refcount on the ErlDrvBinary
 * of the request's I/O vector entry, no data copy. The runtime may have copied
 * a small binary into its merged copy buffer first; then that buffer is what
 * is kept (a few hundred bytes at most). */
static int d_keep(nocopy_call *c, uintptr_t raw, const nocopy_bytes *view, nocopy_kept **out)
{
    (void)c;
    ErlDrvBinary *bin = N(raw)->v.bytes.binref;
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
    dk->base.release = kept_release;
    *out = &dk->base;
    return NOCOPY_OK;
}

/* ---- result buffers ------------------------------------------------------------ */

static int buf_resize(nocopy__buf *b, size_t size)
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

static void buf_free(nocopy__buf *b)
{
    nc_drv_buf *db = (nc_drv_buf *)b;
    driver_free_binary(db->bin);
    driver_free(db);
}

static nocopy__buf *d_buf_alloc(size_t size)
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
    db->base.resize = buf_resize;
    db->base.free = buf_free;
    return &db->base;
}

/* The buffer's binary becomes the kept object's reference: a refcounted
 * ErlDrvBinary that any number of replies can reference with ERL_DRV_BINARY. */
static nocopy_kept *d_buf_share(nocopy_call *c, nocopy__buf *b)
{
    (void)c;
    nc_drv_buf *db = (nc_drv_buf *)b;
    nc_drv_kept *dk = driver_alloc(sizeof *dk);
    if (!dk) {
        buf_free(b);
        return NULL;
    }
    dk->bin = db->bin;
    dk->base.view.data = (const uint8_t *)db->bin->orig_bytes;
    dk->base.view.size = db->base.pub.size;
    dk->base.release = kept_release;
    driver_free(db);
    return &dk->base;
}

const nocopy__ops nocopy__drv_ops = {
    .name = "driver",
    .type = d_type,
    .get_i64 = d_get_i64,
    .get_u64 = d_get_u64,
    .get_double = d_get_double,
    .get_atom = d_get_atom,
    .get_bytes = d_get_bytes,
    .get_tuple = d_get_tuple,
    .get_list_cell = d_get_list_cell,
    .get_handle = d_get_handle,
    .keep = d_keep,
    .make_i64 = nocopy__drv_make_i64,
    .make_u64 = nocopy__drv_make_u64,
    .make_double = nocopy__drv_make_double,
    .make_atom = nocopy__drv_make_atom,
    .make_tuple = nocopy__drv_make_tuple,
    .make_list = nocopy__drv_make_list,
    .make_buf = nocopy__drv_make_buf,
    .make_slice = nocopy__drv_make_slice,
    .make_kept = nocopy__drv_make_kept,
    .make_foreign = nocopy__drv_make_foreign,
    .make_copy = nocopy__drv_make_copy,
    .make_handle = nocopy__drv_make_handle,
    .buf_alloc = d_buf_alloc,
    .buf_share = d_buf_share,
    .handle_alloc = nocopy__drv_handle_alloc,
    .handle_keep = nocopy__drv_handle_keep,
    .handle_release = nocopy__drv_handle_release,
    .consume = NULL,   /* a driver call cannot yield; long work goes to workers */
};
