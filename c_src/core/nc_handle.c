/* nc_handle.c: the state of a handle's C object, backend-neutral.
 *
 * The backend owns the memory (NIF resource, driver refcounted block); this file
 * owns the object's state, packed in one atomic word: CLOSED, DESTROYED and the
 * number of calls currently using the object. The destructor runs exactly once,
 * by whoever first sees "closed and unused" or "memory going away". */
#include <string.h>

#include "nc_backend.h"   /* this build's backend: nc_prims.h */

#define USERS(s) (((s) & ~NC_HANDLE_PINNED) / NC_HANDLE_USER)

static void run_dtor(nocopy__handle *h)
{
    if (h->type->dtor)
        h->type->dtor(NC_HANDLE_OBJ(h));
}

/* Destroys the object if it is closed and no call uses it. */
static void destroy_if_idle(nocopy__handle *h)
{
    unsigned s = atomic_load(&h->state);
    for (;;) {
        if ((s & NC_HANDLE_DESTROYED) || USERS(s) != 0)
            return;
        if (atomic_compare_exchange_weak(&h->state, &s, s | NC_HANDLE_DESTROYED)) {
            run_dtor(h);
            return;
        }
    }
}

void nocopy__handle_init(nocopy__handle *h, const nocopy_handle_type *type,
                         unsigned type_index)
{
    h->type = type;
    h->type_index = type_index;
    atomic_init(&h->state, 0u);
    memset(h->obj, 0, type->size);
}

bool nocopy__handle_begin_use(nocopy__handle *h)
{
    unsigned s = atomic_load(&h->state);
    for (;;) {
        if (s & (NC_HANDLE_CLOSED | NC_HANDLE_DESTROYED))
            return false;
        if (atomic_compare_exchange_weak(&h->state, &s, s + NC_HANDLE_USER))
            return true;
    }
}

void nocopy__handle_end_use(nocopy__handle *h)
{
    unsigned s = atomic_fetch_sub(&h->state, NC_HANDLE_USER) - NC_HANDLE_USER;
    if ((s & NC_HANDLE_CLOSED) && USERS(s) == 0)
        destroy_if_idle(h);
}

void nocopy__handle_finalize(nocopy__handle *h)
{
    /* No reference is left, so no call can be using the object. */
    unsigned s = atomic_fetch_or(&h->state, NC_HANDLE_DESTROYED | NC_HANDLE_CLOSED);
    if (!(s & NC_HANDLE_DESTROYED))
        run_dtor(h);
}

void nocopy_handle_pin(void *obj)
{
    if (obj)
        atomic_fetch_or(&NC_HANDLE_OF(obj)->state, NC_HANDLE_PINNED);
}

int nocopy_handle_close(void *obj)
{
    if (!obj)
        return NOCOPY_EBADARG;
    nocopy__handle *h = NC_HANDLE_OF(obj);
    if (atomic_load(&h->state) & NC_HANDLE_PINNED)
        return NOCOPY_EBADARG;        /* promised never closed: calls do not count */
    unsigned s = atomic_fetch_or(&h->state, NC_HANDLE_CLOSED);
    if (s & NC_HANDLE_CLOSED)
        return NOCOPY_ECLOSED;
    destroy_if_idle(h);
    return NOCOPY_OK;
}

void *nocopy_handle_new(nocopy_call *call, const nocopy_handle_type *type)
{
    int idx = nocopy__handle_type_index(call->mod, type);
    if (idx < 0) {
        nocopy__fail(call, NOCOPY_EINTERNAL, 0,
                     "handle type %s is not listed in the module's handle_types",
                     type && type->name ? type->name : "(null)");
        return NULL;
    }
    nocopy__handle *h = nocopy__be_handle_alloc(type, (unsigned)idx);
    if (!h) {
        nocopy__fail(call, NOCOPY_ENOMEM, 0, "out of memory allocating a %s handle",
                     type->name);
        return NULL;
    }
    return NC_HANDLE_OBJ(h);
}

nocopy_value nocopy_make_handle(nocopy_call *call, void *obj)
{
    if (!obj)
        return 0;
    return nocopy__be_make_handle(call, NC_HANDLE_OF(obj));
}

void nocopy_handle_keep(void *obj)
{
    if (obj)
        nocopy__be_handle_keep(NC_HANDLE_OF(obj));
}

void nocopy_handle_release(void *obj)
{
    if (obj)
        nocopy__be_handle_release(NC_HANDLE_OF(obj));
}
