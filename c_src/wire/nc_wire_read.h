/* nc_wire_read.h: the core's reading primitives (nc_prims.h) over decoded
 * request nodes, written once for the backends whose term words are
 * nocopy__wire_node pointers: the driver (drv/) and the isolated backend's
 * child (iso/). Each includes this header from its nc_backend.h, so the
 * readers are inlined into that backend's core as its own would be.
 *
 * Unlike nc_wire.c/.h (pure C over include/), this header sits on the core's
 * primitive contract (nc_prims.h: nocopy_call, its arena, NC_GET_*), since
 * that is what it implements; it is only ever included above the core.
 *
 * What differs between the backends is one hook, which the including
 * nc_backend.h defines (static inline, before this header):
 *   nocopy__wire_be_atoms(&count): the backend's atom names, the built-in
 *   atoms then the module's (count of them), in its state.
 * The rest is the same on both: handles were looked up in the backend's
 * table when the request was decoded (a stale one reads as NC_W_HANDLE with
 * no object, or a tombstone the backend put there), and the rest of an
 * iodata list read cell by cell lives in the call's arena.
 *
 * Views returned (bytes, tuple elements, iodata pieces) are BORROWED from the
 * request, valid for the call; nothing is copied. */
#ifndef NC_WIRE_READ_H
#define NC_WIRE_READ_H

#include <string.h>

#include "nc_prims.h"
#include "nc_wire.h"

/* The hook (see above). The names stay valid while the backend is loaded. */
static inline const nocopy__wire_atom_name *nocopy__wire_be_atoms(int *count);

static inline const nocopy__wire_node *nocopy__wire_node_of(uintptr_t raw)
{
    return (const nocopy__wire_node *)raw;
}

static inline nocopy_type nocopy__be_type(nocopy_call *c, uintptr_t raw)
{
    (void)c;
    const nocopy__wire_node *n = nocopy__wire_node_of(raw);
    switch (n->kind) {
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
    case NC_W_IODATA: return n->v.iov.count ? NOCOPY_T_LIST : NOCOPY_T_NIL;
    default: return NOCOPY_T_OTHER;
    }
}

static inline int nocopy__be_get_i64(nocopy_call *c, uintptr_t raw, int64_t *out)
{
    (void)c;
    const nocopy__wire_node *n = nocopy__wire_node_of(raw);
    switch (n->kind) {
    case NC_W_INT: *out = n->v.i; return NC_GET_OK;
    case NC_W_UINT:
    case NC_W_BIGINT: return NC_GET_RANGE;
    default: return NC_GET_TYPE;
    }
}

static inline int nocopy__be_get_u64(nocopy_call *c, uintptr_t raw, uint64_t *out)
{
    (void)c;
    const nocopy__wire_node *n = nocopy__wire_node_of(raw);
    switch (n->kind) {
    case NC_W_INT:
        if (n->v.i < 0)
            return NC_GET_RANGE;
        *out = (uint64_t)n->v.i;
        return NC_GET_OK;
    case NC_W_UINT: *out = n->v.u; return NC_GET_OK;
    case NC_W_BIGINT: return NC_GET_RANGE;
    default: return NC_GET_TYPE;
    }
}

static inline int nocopy__be_get_double(nocopy_call *c, uintptr_t raw, double *out)
{
    (void)c;
    const nocopy__wire_node *n = nocopy__wire_node_of(raw);
    if (n->kind != NC_W_FLOAT)
        return NC_GET_TYPE;
    *out = n->v.f;
    return NC_GET_OK;
}

/* Atoms arrive as text (neither backend sees atom words): looked up in the
 * backend's names, compared by length first. */
static inline int nocopy__be_get_atom(nocopy_call *c, uintptr_t raw, nocopy_atom *out)
{
    (void)c;
    const nocopy__wire_node *n = nocopy__wire_node_of(raw);
    if (n->kind != NC_W_ATOM)
        return NC_GET_TYPE;
    int total;
    const nocopy__wire_atom_name *names = nocopy__wire_be_atoms(&total);
    for (int i = 0; i < total; i++) {
        const nocopy__wire_atom_name *a = &names[i];
        if (a->len == n->v.bytes.len && memcmp(a->name, n->v.bytes.data, a->len) == 0) {
            *out = i < NOCOPY_ATOM_BUILTIN_COUNT ? -i - 1 : i - NOCOPY_ATOM_BUILTIN_COUNT;
            return NC_GET_OK;
        }
    }
    return NC_GET_UNKNOWN;
}

static inline int nocopy__be_get_bytes(nocopy_call *c, uintptr_t raw, nocopy_bytes *out)
{
    (void)c;
    const nocopy__wire_node *n = nocopy__wire_node_of(raw);
    if (n->kind != NC_W_BINARY)
        return NC_GET_TYPE;
    out->data = n->v.bytes.data;
    out->size = n->v.bytes.len;
    return NC_GET_OK;
}

static inline int nocopy__be_get_tuple(nocopy_call *c, uintptr_t raw, unsigned *arity,
                                       const uintptr_t **elems)
{
    (void)c;
    const nocopy__wire_node *n = nocopy__wire_node_of(raw);
    if (n->kind != NC_W_TUPLE)
        return NC_GET_TYPE;
    *arity = n->arity;
    *elems = n->v.elems;
    return NC_GET_OK;
}

/* An iodata argument (NC_W_IODATA) read as a list: a proper list of its
 * pieces as binaries, made a cell at a time in the call's arena (what the
 * iodata fast path below never needs). Its bytes are the I/O list's, each
 * binary's binref the piece's owner (so keeping or slicing one is zero copy
 * as for any binary argument); its shape is the pieces the runtime made, not
 * the one Erlang built. */
static inline int nocopy__wire_iodata_cell(nocopy_call *c, const nocopy__wire_node *n,
                                           uintptr_t *head, uintptr_t *tail)
{
    nocopy__wire_node *h = nocopy__arena_alloc(&c->arena, 2 * sizeof *h);
    if (!h) {
        nocopy__fail(c, NOCOPY_ENOMEM, 0, "out of memory reading iodata as a list");
        return NC_GET_TYPE;
    }
    nocopy__wire_node *rest = h + 1;
    h->kind = NC_W_BINARY;
    h->arity = 0;
    h->v.bytes.data = n->v.iov.pieces[0].data;
    h->v.bytes.len = n->v.iov.pieces[0].size;
    h->v.bytes.binref = nocopy__wire_iov_binref(n, 0);
    rest->kind = NC_W_IODATA;
    rest->arity = 0;
    rest->v.iov.pieces = n->v.iov.pieces + 1;
    rest->v.iov.count = n->v.iov.count - 1;
    rest->v.iov.total = n->v.iov.total - n->v.iov.pieces[0].size;
    *head = (uintptr_t)h;
    *tail = (uintptr_t)rest;
    return NC_GET_OK;
}

static inline int nocopy__be_get_list_cell(nocopy_call *c, uintptr_t raw, uintptr_t *head,
                                           uintptr_t *tail)
{
    const nocopy__wire_node *n = nocopy__wire_node_of(raw);
    if (n->kind == NC_W_CONS) {
        *head = n->v.cell[0];
        *tail = n->v.cell[1];
        return NC_GET_OK;
    }
    if (n->kind == NC_W_IODATA && n->v.iov.count > 0)
        return nocopy__wire_iodata_cell(c, n, head, tail);
    return NC_GET_TYPE;
}

/* The handle's object was found by the backend's lookup when the request was
 * decoded; a stale id resolved to a tombstone of its type (the core then
 * reports "the T handle is closed") or to none. */
static inline int nocopy__be_get_handle(nocopy_call *c, uintptr_t raw, nocopy__handle **out)
{
    (void)c;
    const nocopy__wire_node *n = nocopy__wire_node_of(raw);
    if (n->kind != NC_W_HANDLE || !n->v.handle.obj)
        return NC_GET_TYPE;
    *out = n->v.handle.obj;
    return NC_GET_OK;
}

/* The fast path for an argument its stub sent as iodata (wire term "v"):
 * the pieces are the request's own runs, decoded once with it (in memory
 * that lives as long as the call). Any other list: the core walks the
 * decoded nodes. */
static inline int nocopy__be_get_iovec(nocopy_call *c, uintptr_t raw, nocopy_iovec *out)
{
    (void)c;
    const nocopy__wire_node *n = nocopy__wire_node_of(raw);
    if (n->kind != NC_W_IODATA)
        return NC_GET_TYPE;
    out->pieces = n->v.iov.pieces;
    out->count = n->v.iov.count;
    out->total = n->v.iov.total;
    return NC_GET_OK;
}

#endif /* NC_WIRE_READ_H */
