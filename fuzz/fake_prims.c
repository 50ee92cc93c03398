/* fake_prims.c: the fake backend's primitives (fk_be_*, bound to the core by
 * fuzz/nc_backend.h) over the term table of fake_backend.c: every
 * precondition nc_prims.h documents is asserted, and
 * every binary it makes lives in an exact-size malloc block. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fake_backend.h"

/* ---- reading ------------------------------------------------------------ */

nocopy_type fk_be_type(nocopy_call *c, uintptr_t raw)
{
    (void)c;
    switch (fk_get(raw)->kind) {
    case FK_INT: case FK_UINT: case FK_BIG: return NOCOPY_T_INTEGER;
    case FK_FLOAT: return NOCOPY_T_FLOAT;
    case FK_ATOM: return NOCOPY_T_ATOM;
    case FK_BIN: return NOCOPY_T_BINARY;
    case FK_BITS: return NOCOPY_T_BITSTRING;
    case FK_TUPLE: return NOCOPY_T_TUPLE;
    case FK_CONS: return NOCOPY_T_LIST;
    case FK_NIL: return NOCOPY_T_NIL;
    case FK_HANDLE: return NOCOPY_T_HANDLE;
    default: return NOCOPY_T_OTHER;
    }
}

int fk_be_get_i64(nocopy_call *c, uintptr_t raw, int64_t *out)
{
    (void)c;
    fk_node *n = fk_get(raw);
    switch (n->kind) {
    case FK_INT: *out = n->i; return NC_GET_OK;
    case FK_UINT: case FK_BIG: return NC_GET_RANGE;
    default: return NC_GET_TYPE;
    }
}

int fk_be_get_u64(nocopy_call *c, uintptr_t raw, uint64_t *out)
{
    (void)c;
    fk_node *n = fk_get(raw);
    switch (n->kind) {
    case FK_INT:
        if (n->i < 0)
            return NC_GET_RANGE;
        *out = (uint64_t)n->i;
        return NC_GET_OK;
    case FK_UINT: *out = n->u; return NC_GET_OK;
    case FK_BIG: return NC_GET_RANGE;
    default: return NC_GET_TYPE;
    }
}

int fk_be_get_double(nocopy_call *c, uintptr_t raw, double *out)
{
    (void)c;
    fk_node *n = fk_get(raw);
    if (n->kind != FK_FLOAT)
        return NC_GET_TYPE;
    *out = n->f;
    return NC_GET_OK;
}

int fk_be_get_atom(nocopy_call *c, uintptr_t raw, nocopy_atom *out)
{
    (void)c;
    fk_node *n = fk_get(raw);
    if (n->kind != FK_ATOM)
        return NC_GET_TYPE;
    if (!n->atom_known)
        return NC_GET_UNKNOWN;
    *out = n->atom;
    return NC_GET_OK;
}

int fk_be_get_bytes(nocopy_call *c, uintptr_t raw, nocopy_bytes *out)
{
    (void)c;
    fk_node *n = fk_get(raw);
    if (n->kind != FK_BIN)
        return NC_GET_TYPE;
    out->data = n->data;
    out->size = n->size;
    return NC_GET_OK;
}

int fk_be_get_tuple(nocopy_call *c, uintptr_t raw, unsigned *arity,
                       const uintptr_t **elems)
{
    (void)c;
    fk_node *n = fk_get(raw);
    if (n->kind != FK_TUPLE)
        return NC_GET_TYPE;
    *arity = n->arity;
    *elems = n->elems;
    return NC_GET_OK;
}

int fk_be_get_list_cell(nocopy_call *c, uintptr_t raw, uintptr_t *head, uintptr_t *tail)
{
    (void)c;
    fk_node *n = fk_get(raw);
    if (n->kind != FK_CONS)
        return NC_GET_TYPE;
    *head = n->head;
    *tail = n->tail;
    return NC_GET_OK;
}

int fk_be_get_handle(nocopy_call *c, uintptr_t raw, nocopy__handle **out)
{
    (void)c;
    fk_node *n = fk_get(raw);
    if (n->kind != FK_HANDLE)
        return NC_GET_TYPE;
    *out = n->h;
    return NC_GET_OK;
}

typedef struct fk_kept {
    nocopy_kept base;
    uint8_t *copy;
} fk_kept;

static void kept_release(nocopy_kept *k)
{
    fk_kept *fkk = (fk_kept *)k;
    if (fk.live_kept <= 0)
        fk_die("kept binary released more often than kept");
    free(fkk->copy);
    free(fkk);
    fk.live_kept--;
}

static fk_kept *kept_new(uint8_t *owned, size_t size)
{
    fk_kept *k = malloc(sizeof *k);
    if (!k)
        fk_die("out of memory in the harness");
    k->copy = owned;
    k->base.view.data = owned;
    k->base.view.size = size;
    k->base.release = kept_release;
    fk.live_kept++;
    return k;
}

int fk_be_keep(nocopy_call *c, uintptr_t raw, const nocopy_bytes *view, nocopy_kept **out)
{
    (void)c;
    fk_node *n = fk_get(raw);
    if (n->kind != FK_BIN || view->data != n->data || view->size != n->size)
        fk_die("keep of a term that is not the binary viewed");
    uint8_t *copy = fk_exact_alloc(n->size);
    if (n->size)
        memcpy(copy, n->data, n->size);
    *out = &kept_new(copy, n->size)->base;
    return NOCOPY_OK;
}

/* ---- building ------------------------------------------------------------ */

nocopy_value fk_be_make_i64(nocopy_call *c, int64_t v)
{
    (void)c;
    return fk_new_int(v);
}

nocopy_value fk_be_make_u64(nocopy_call *c, uint64_t v)
{
    (void)c;
    if (v <= INT64_MAX)
        return fk_new_int((int64_t)v);
    uintptr_t r = fk_new(FK_UINT);
    fk_get(r)->u = v;
    return r;
}

nocopy_value fk_be_make_double(nocopy_call *c, double v)
{
    (void)c;
    FK_ASSERT(isfinite(v));        /* the core refuses NaN and infinities */
    uintptr_t r = fk_new(FK_FLOAT);
    fk_get(r)->f = v;
    return r;
}

nocopy_value fk_be_make_atom(nocopy_call *c, nocopy_atom a)
{
    (void)c;
    if (!(a < 0 ? a >= -NOCOPY_ATOM_BUILTIN_COUNT : a < FK_NATOMS))
        fk_die("make_atom given an atom index the core should have refused");
    uintptr_t r = fk_new(FK_ATOM);
    fk_get(r)->atom = a;
    fk_get(r)->atom_known = true;
    return r;
}

nocopy_value fk_be_make_tuple(nocopy_call *c, unsigned n, const nocopy_value *e)
{
    (void)c;
    uintptr_t *copy = malloc((n ? n : 1) * sizeof *copy);
    if (!copy)
        fk_die("out of memory in the harness");
    for (unsigned i = 0; i < n; i++) {
        fk_get(e[i]);
        copy[i] = e[i];
    }
    uintptr_t r = fk_new(FK_TUPLE);
    fk_get(r)->elems = copy;
    fk_get(r)->arity = n;
    return r;
}

nocopy_value fk_be_make_list(nocopy_call *c, size_t n, const nocopy_value *e)
{
    (void)c;
    for (size_t i = 0; i < n; i++)
        fk_get(e[i]);
    uintptr_t tail = fk_new(FK_NIL);
    for (size_t i = n; i-- > 0;) {
        uintptr_t cell = fk_new(FK_CONS);
        fk_get(cell)->head = e[i];
        fk_get(cell)->tail = tail;
        tail = cell;
    }
    return tail;
}

typedef struct fk_buf {
    nocopy__buf base;
} fk_buf;

static int buf_resize(nocopy__buf *b, size_t size)
{
    if (size > fk.max_alloc)
        return NOCOPY_ENOMEM;
    uint8_t *n = fk_exact_alloc(size);
    size_t keep = size < b->pub.size ? size : b->pub.size;
    if (keep)
        memcpy(n, b->pub.data, keep);
    free(b->pub.data);
    b->pub.data = n;
    b->pub.size = size;
    return NOCOPY_OK;
}

static void buf_free(nocopy__buf *b)
{
    if (fk.live_bufs <= 0)
        fk_die("nocopy_buf freed more often than allocated");
    free(b->pub.data);
    free(b);
    fk.live_bufs--;
}

nocopy__buf *fk_be_buf_alloc(size_t size)
{
    if (size > fk.max_alloc)
        return NULL;
    fk_buf *b = malloc(sizeof *b);
    if (!b)
        fk_die("out of memory in the harness");
    b->base.pub.data = fk_exact_alloc(size);
    b->base.pub.size = size;
    b->base.resize = buf_resize;
    b->base.free = buf_free;
    fk.live_bufs++;
    return &b->base;
}

nocopy_value fk_be_make_buf(nocopy_call *c, nocopy__buf *b)
{
    (void)c;
    if (fk.live_bufs <= 0)
        fk_die("make_buf of a buffer that is not live");
    uintptr_t r = fk_new(FK_BIN);
    fk_node *n = fk_get(r);
    n->data = b->pub.data;
    n->size = b->pub.size;
    n->owns_data = true;
    free(b);
    fk.live_bufs--;
    return r;
}

nocopy_kept *fk_be_buf_share(nocopy_call *c, nocopy__buf *b)
{
    (void)c;
    if (fk.live_bufs <= 0)
        fk_die("buf_share of a buffer that is not live");
    fk_kept *k = kept_new(b->pub.data, b->pub.size);
    free(b);
    fk.live_bufs--;
    return &k->base;
}

nocopy_value fk_be_make_slice(nocopy_call *c, uintptr_t raw, const nocopy_bytes *view,
                                 size_t offset, size_t len)
{
    (void)c;
    fk_node *n = fk_get(raw);
    if (n->kind != FK_BIN || view->data != n->data || view->size != n->size)
        fk_die("make_slice of a term that is not the binary viewed");
    if (offset > n->size || len > n->size - offset)
        fk_die("make_slice with an offset/length the core should have refused");
    const uint8_t *data = n->data + offset;
    uintptr_t r = fk_new(FK_BIN);
    fk_get(r)->data = data;
    fk_get(r)->size = len;
    return r;
}

nocopy_value fk_be_make_kept(nocopy_call *c, const nocopy_kept *k, size_t offset,
                                size_t len)
{
    (void)c;
    if (offset > k->view.size || len > k->view.size - offset)
        fk_die("make_kept with an offset/length the core should have refused");
    /* The term refers to the kept bytes; as in the NIF, it copies nothing. The
     * harness releases kept binaries only after it stops reading terms. */
    uintptr_t r = fk_new(FK_BIN);
    fk_get(r)->data = k->view.data + offset;
    fk_get(r)->size = len;
    return r;
}

nocopy_value fk_be_make_foreign(nocopy_call *c, const void *data, size_t size,
                                   nocopy_release_fn release, void *obj)
{
    (void)c;
    uintptr_t r = fk_new(FK_BIN);
    fk_node *n = fk_get(r);
    n->data = data;
    n->size = size;
    n->release = release;
    n->release_obj = obj;
    if (release)
        fk.foreign_made++;
    return r;
}

nocopy_value fk_be_make_copy(nocopy_call *c, const void *data, size_t size)
{
    (void)c;
    return fk_new_bin_copy(data, size);
}

nocopy_value fk_be_make_handle(nocopy_call *c, nocopy__handle *h)
{
    (void)c;
    if (fk_handle_refs(h) <= 0)
        fk_die("make_handle of a handle with no reference");
    uintptr_t r = fk_new(FK_HANDLE);
    fk_get(r)->h = h;
    return r;
}
