/* nc_backend.h (fuzz): the core's primitives (c_src/core/nc_prims.h) bound
 * to the fake backend, for the fuzz targets and replays, which compile the
 * core with -iquote fuzz. Each primitive calls the fake's function of the same
 * name (fake_prims.c; handles: fake_backend.c), which checks every
 * precondition nc_prims.h states. The fake has no iodata fast path and does
 * not schedule. */
#ifndef NC_FUZZ_BACKEND_H
#define NC_FUZZ_BACKEND_H

#include "fake_backend.h"
#include "nc_prims.h"

static inline nocopy_type nocopy__be_type(nocopy_call *c, uintptr_t raw)
{
    return fk_be_type(c, raw);
}

static inline int nocopy__be_get_i64(nocopy_call *c, uintptr_t raw, int64_t *out)
{
    return fk_be_get_i64(c, raw, out);
}

static inline int nocopy__be_get_u64(nocopy_call *c, uintptr_t raw, uint64_t *out)
{
    return fk_be_get_u64(c, raw, out);
}

static inline int nocopy__be_get_double(nocopy_call *c, uintptr_t raw, double *out)
{
    return fk_be_get_double(c, raw, out);
}

static inline int nocopy__be_get_atom(nocopy_call *c, uintptr_t raw, nocopy_atom *out)
{
    return fk_be_get_atom(c, raw, out);
}

static inline int nocopy__be_get_bytes(nocopy_call *c, uintptr_t raw, nocopy_bytes *out)
{
    return fk_be_get_bytes(c, raw, out);
}

static inline int nocopy__be_get_tuple(nocopy_call *c, uintptr_t raw, unsigned *arity,
                                       const uintptr_t **elems)
{
    return fk_be_get_tuple(c, raw, arity, elems);
}

static inline int nocopy__be_get_list_cell(nocopy_call *c, uintptr_t raw, uintptr_t *head,
                                           uintptr_t *tail)
{
    return fk_be_get_list_cell(c, raw, head, tail);
}

static inline int nocopy__be_get_handle(nocopy_call *c, uintptr_t raw,
                                        nocopy__handle **out)
{
    return fk_be_get_handle(c, raw, out);
}

static inline int nocopy__be_get_iovec(nocopy_call *c, uintptr_t raw, nocopy_iovec *out)
{
    (void)c;
    (void)raw;
    (void)out;
    return NC_GET_TYPE;                /* no fast path: the core walks */
}

static inline int nocopy__be_keep(nocopy_call *c, uintptr_t raw, const nocopy_bytes *view,
                                  nocopy_kept **out)
{
    return fk_be_keep(c, raw, view, out);
}

static inline nocopy_value nocopy__be_make_i64(nocopy_call *c, int64_t v)
{
    return fk_be_make_i64(c, v);
}

static inline nocopy_value nocopy__be_make_u64(nocopy_call *c, uint64_t v)
{
    return fk_be_make_u64(c, v);
}

static inline nocopy_value nocopy__be_make_double(nocopy_call *c, double v)
{
    return fk_be_make_double(c, v);
}

static inline nocopy_value nocopy__be_make_atom(nocopy_call *c, nocopy_atom a)
{
    return fk_be_make_atom(c, a);
}

static inline nocopy_value nocopy__be_make_tuple(nocopy_call *c, unsigned n,
                                                 const nocopy_value *e)
{
    return fk_be_make_tuple(c, n, e);
}

static inline nocopy_value nocopy__be_make_list(nocopy_call *c, size_t n,
                                                const nocopy_value *e)
{
    return fk_be_make_list(c, n, e);
}

static inline nocopy_value nocopy__be_make_buf(nocopy_call *c, nocopy__buf *b)
{
    return fk_be_make_buf(c, b);
}

static inline nocopy_value nocopy__be_make_slice(nocopy_call *c, uintptr_t raw,
                                                 const nocopy_bytes *view, size_t offset,
                                                 size_t len)
{
    return fk_be_make_slice(c, raw, view, offset, len);
}

static inline nocopy_value nocopy__be_make_kept(nocopy_call *c, const nocopy_kept *k,
                                                size_t offset, size_t len)
{
    return fk_be_make_kept(c, k, offset, len);
}

static inline nocopy_value nocopy__be_make_foreign(nocopy_call *c, const void *data,
                                                   size_t size, nocopy_release_fn release,
                                                   void *obj)
{
    return fk_be_make_foreign(c, data, size, release, obj);
}

static inline nocopy_value nocopy__be_make_copy(nocopy_call *c, const void *data,
                                                size_t size)
{
    return fk_be_make_copy(c, data, size);
}

static inline nocopy_value nocopy__be_make_handle(nocopy_call *c, nocopy__handle *h)
{
    return fk_be_make_handle(c, h);
}

static inline nocopy__buf *nocopy__be_buf_alloc(size_t size)
{
    return fk_be_buf_alloc(size);
}

static inline nocopy_kept *nocopy__be_buf_share(nocopy_call *c, nocopy__buf *b)
{
    return fk_be_buf_share(c, b);
}

static inline nocopy__handle *nocopy__be_handle_alloc(const nocopy_handle_type *type,
                                                      unsigned index)
{
    return fk_handle_alloc(type, index);
}

static inline void nocopy__be_handle_keep(nocopy__handle *h)
{
    fk_handle_keep(h);
}

static inline void nocopy__be_handle_release(nocopy__handle *h)
{
    fk_handle_release(h);
}

static inline void nocopy__be_consume(nocopy_call *c, size_t bytes)
{
    (void)c;
    (void)bytes;
}

#endif /* NC_FUZZ_BACKEND_H */
