/* nc_backend.h (C unit tests): the primitives (c_src/core/nc_prims.h) of the
 * core as the C tests compile it. The tests never read or build a term through
 * a backend: only handles are made, kept and released (test_handle.c), through
 * the hooks below, which count what the core asks for. Any other primitive
 * reached is a test that needs a real backend: it aborts (nc_prims_abort.h). */
#ifndef NC_TEST_BACKEND_H
#define NC_TEST_BACKEND_H

#define NC_PRIMS_OWN_HANDLES
#include "nc_prims_abort.h"

/* Defined by test_handle.c. */
nocopy__handle *test_be_handle_alloc(const nocopy_handle_type *type, unsigned index);
void test_be_handle_keep(nocopy__handle *h);
void test_be_handle_release(nocopy__handle *h);
nocopy_value test_be_make_handle(nocopy_call *c, nocopy__handle *h);

static inline nocopy_value nocopy__be_make_handle(nocopy_call *c, nocopy__handle *h)
{
    return test_be_make_handle(c, h);
}

static inline nocopy__handle *nocopy__be_handle_alloc(const nocopy_handle_type *type,
                                                      unsigned index)
{
    return test_be_handle_alloc(type, index);
}

static inline void nocopy__be_handle_keep(nocopy__handle *h)
{
    test_be_handle_keep(h);
}

static inline void nocopy__be_handle_release(nocopy__handle *h)
{
    test_be_handle_release(h);
}

#endif /* NC_TEST_BACKEND_H */
