/* nc_prims_abort.h: every primitive of nc_prims.h, aborting. For builds of
 * the core that make no call and read no term: describe (c_src/describe/) and
 * the C unit tests (test/c/). Such a build includes this from its own
 * nc_backend.h. One that makes handles (the C tests count what the core asks
 * of the backend) defines NC_PRIMS_OWN_HANDLES first and defines
 * nocopy__be_make_handle, _handle_alloc, _handle_keep and _handle_release
 * itself. Each primitive aborts rather than returning a failure: a failure
 * would read as an ordinary error of a call that cannot exist, while an abort
 * makes the bug (such a build reaching a term) loud where it shows. */
#ifndef NC_PRIMS_ABORT_H
#define NC_PRIMS_ABORT_H

#include <stdlib.h>

#include "nc_prims.h"

static inline nocopy_type nocopy__be_type(nocopy_call *c, uintptr_t raw)
{
    (void)c;
    (void)raw;
    abort();
}

static inline int nocopy__be_get_i64(nocopy_call *c, uintptr_t raw, int64_t *out)
{
    (void)c;
    (void)raw;
    (void)out;
    abort();
}

static inline int nocopy__be_get_u64(nocopy_call *c, uintptr_t raw, uint64_t *out)
{
    (void)c;
    (void)raw;
    (void)out;
    abort();
}

static inline int nocopy__be_get_double(nocopy_call *c, uintptr_t raw, double *out)
{
    (void)c;
    (void)raw;
    (void)out;
    abort();
}

static inline int nocopy__be_get_atom(nocopy_call *c, uintptr_t raw, nocopy_atom *out)
{
    (void)c;
    (void)raw;
    (void)out;
    abort();
}

static inline int nocopy__be_get_bytes(nocopy_call *c, uintptr_t raw, nocopy_bytes *out)
{
    (void)c;
    (void)raw;
    (void)out;
    abort();
}

static inline int nocopy__be_get_tuple(nocopy_call *c, uintptr_t raw, unsigned *arity,
                                       const uintptr_t **elems)
{
    (void)c;
    (void)raw;
    (void)arity;
    (void)elems;
    abort();
}

static inline int nocopy__be_get_list_cell(nocopy_call *c, uintptr_t raw, uintptr_t *head,
                                           uintptr_t *tail)
{
    (void)c;
    (void)raw;
    (void)head;
    (void)tail;
    abort();
}

static inline int nocopy__be_get_handle(nocopy_call *c, uintptr_t raw, nocopy__handle **out)
{
    (void)c;
    (void)raw;
    (void)out;
    abort();
}

static inline int nocopy__be_get_iovec(nocopy_call *c, uintptr_t raw, nocopy_iovec *out)
{
    (void)c;
    (void)raw;
    (void)out;
    abort();
}

static inline int nocopy__be_keep(nocopy_call *c, uintptr_t raw, const nocopy_bytes *view,
                                  nocopy_kept **out)
{
    (void)c;
    (void)raw;
    (void)view;
    (void)out;
    abort();
}

static inline nocopy_value nocopy__be_make_i64(nocopy_call *c, int64_t v)
{
    (void)c;
    (void)v;
    abort();
}

static inline nocopy_value nocopy__be_make_u64(nocopy_call *c, uint64_t v)
{
    (void)c;
    (void)v;
    abort();
}

static inline nocopy_value nocopy__be_make_double(nocopy_call *c, double v)
{
    (void)c;
    (void)v;
    abort();
}

static inline nocopy_value nocopy__be_make_atom(nocopy_call *c, nocopy_atom a)
{
    (void)c;
    (void)a;
    abort();
}

static inline nocopy_value nocopy__be_make_tuple(nocopy_call *c, unsigned n,
                                                 const nocopy_value *e)
{
    (void)c;
    (void)n;
    (void)e;
    abort();
}

static inline nocopy_value nocopy__be_make_list(nocopy_call *c, size_t n,
                                                const nocopy_value *e)
{
    (void)c;
    (void)n;
    (void)e;
    abort();
}

static inline nocopy_value nocopy__be_make_buf(nocopy_call *c, nocopy__buf *b)
{
    (void)c;
    (void)b;
    abort();
}

static inline nocopy_value nocopy__be_make_slice(nocopy_call *c, uintptr_t raw,
                                                 const nocopy_bytes *view, size_t offset,
                                                 size_t len)
{
    (void)c;
    (void)raw;
    (void)view;
    (void)offset;
    (void)len;
    abort();
}

static inline nocopy_value nocopy__be_make_kept(nocopy_call *c, const nocopy_kept *k,
                                                size_t offset, size_t len)
{
    (void)c;
    (void)k;
    (void)offset;
    (void)len;
    abort();
}

static inline nocopy_value nocopy__be_make_foreign(nocopy_call *c, const void *data,
                                                   size_t size, nocopy_release_fn release,
                                                   void *obj)
{
    (void)c;
    (void)data;
    (void)size;
    (void)release;
    (void)obj;
    abort();
}

static inline nocopy_value nocopy__be_make_copy(nocopy_call *c, const void *data,
                                                size_t size)
{
    (void)c;
    (void)data;
    (void)size;
    abort();
}

#ifndef NC_PRIMS_OWN_HANDLES
static inline nocopy_value nocopy__be_make_handle(nocopy_call *c, nocopy__handle *h)
{
    (void)c;
    (void)h;
    abort();
}
#endif

static inline nocopy__buf *nocopy__be_buf_alloc(size_t size)
{
    (void)size;
    abort();
}

static inline nocopy_kept *nocopy__be_buf_share(nocopy_call *c, nocopy__buf *b)
{
    (void)c;
    (void)b;
    abort();
}

#ifndef NC_PRIMS_OWN_HANDLES
static inline nocopy__handle *nocopy__be_handle_alloc(const nocopy_handle_type *type,
                                                      unsigned index)
{
    (void)type;
    (void)index;
    abort();
}
#endif

#ifndef NC_PRIMS_OWN_HANDLES
static inline void nocopy__be_handle_keep(nocopy__handle *h)
{
    (void)h;
    abort();
}
#endif

#ifndef NC_PRIMS_OWN_HANDLES
static inline void nocopy__be_handle_release(nocopy__handle *h)
{
    (void)h;
    abort();
}
#endif

static inline void nocopy__be_consume(nocopy_call *c, size_t bytes)
{
    (void)c;
    (void)bytes;
    abort();
}

#endif /* NC_PRIMS_ABORT_H */
