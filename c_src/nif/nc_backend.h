/* nc_backend.h (NIF): the core's primitives on erl_nif terms (nc_prims.h
 * states their contract). The core compiled for the NIF backend includes this
 * header, so each primitive is inlined where the core uses it.
 * Every pointer handed to the core here is into the call's env or into a
 * refcounted binary, exactly as erl_nif documents; nothing is copied unless
 * a comment says so. What must have an address the runtime calls (the
 * resource destructors) is in nc_nif_setup.c; the release functions that a
 * kept binary or a buffer points to are static inline here, so a core file
 * that makes one has its own copy and needs no symbol of this backend but its
 * state (nocopy__nif, nc_nif_state.c). */
#ifndef NC_NIF_BACKEND_H
#define NC_NIF_BACKEND_H

#include <string.h>

#include "nc_nif.h"
#include "nc_prims.h"

_Static_assert(sizeof(ERL_NIF_TERM) == sizeof(uintptr_t),
               "nocopy passes ERL_NIF_TERM through uintptr_t");

#define NC_NIF_T(raw) ((ERL_NIF_TERM)(raw))
#define NC_NIF_V(term) ((nocopy_value)(term))

/* ---- reading ------------------------------------------------------------ */

static inline nocopy_type nocopy__be_type(nocopy_call *c, uintptr_t raw)
{
    ErlNifEnv *env = NIF_ENV(c);
    void *obj;
    switch (enif_term_type(env, NC_NIF_T(raw))) {
    case ERL_NIF_TERM_TYPE_INTEGER: return NOCOPY_T_INTEGER;
    case ERL_NIF_TERM_TYPE_FLOAT: return NOCOPY_T_FLOAT;
    case ERL_NIF_TERM_TYPE_ATOM: return NOCOPY_T_ATOM;
    case ERL_NIF_TERM_TYPE_BITSTRING:
        return enif_is_binary(env, NC_NIF_T(raw)) ? NOCOPY_T_BINARY : NOCOPY_T_BITSTRING;
    case ERL_NIF_TERM_TYPE_TUPLE: return NOCOPY_T_TUPLE;
    case ERL_NIF_TERM_TYPE_LIST:
        return enif_is_empty_list(env, NC_NIF_T(raw)) ? NOCOPY_T_NIL : NOCOPY_T_LIST;
    case ERL_NIF_TERM_TYPE_REFERENCE:
        return enif_get_resource(env, NC_NIF_T(raw), nocopy__nif.handle_rt, &obj)
                   ? NOCOPY_T_HANDLE : NOCOPY_T_OTHER;
    default: return NOCOPY_T_OTHER;
    }
}

static inline int nocopy__be_get_i64(nocopy_call *c, uintptr_t raw, int64_t *out)
{
    ErlNifSInt64 v;
    if (enif_get_int64(NIF_ENV(c), NC_NIF_T(raw), &v)) {
        *out = v;
        return NC_GET_OK;
    }
    return enif_is_number(NIF_ENV(c), NC_NIF_T(raw)) &&
                   enif_term_type(NIF_ENV(c), NC_NIF_T(raw)) == ERL_NIF_TERM_TYPE_INTEGER
               ? NC_GET_RANGE : NC_GET_TYPE;
}

static inline int nocopy__be_get_u64(nocopy_call *c, uintptr_t raw, uint64_t *out)
{
    ErlNifUInt64 v;
    if (enif_get_uint64(NIF_ENV(c), NC_NIF_T(raw), &v)) {
        *out = v;
        return NC_GET_OK;
    }
    return enif_term_type(NIF_ENV(c), NC_NIF_T(raw)) == ERL_NIF_TERM_TYPE_INTEGER ? NC_GET_RANGE
                                                                          : NC_GET_TYPE;
}

static inline int nocopy__be_get_double(nocopy_call *c, uintptr_t raw, double *out)
{
    return enif_get_double(NIF_ENV(c), NC_NIF_T(raw), out) ? NC_GET_OK : NC_GET_TYPE;
}

static inline int nocopy__be_get_atom(nocopy_call *c, uintptr_t raw, nocopy_atom *out)
{
    ERL_NIF_TERM t = NC_NIF_T(raw);
    if (!enif_is_atom(NIF_ENV(c), t))
        return NC_GET_TYPE;
    /* Atoms were created once at load; comparing words is all a match costs. */
    for (int i = 0; i < NOCOPY_ATOM_BUILTIN_COUNT; i++)
        if (nocopy__nif.builtin[i] == t) {
            *out = -i - 1;
            return NC_GET_OK;
        }
    for (int i = 0; i < nocopy__nif.natoms; i++)
        if (nocopy__nif.atoms[i] == t) {
            *out = i;
            return NC_GET_OK;
        }
    return NC_GET_UNKNOWN;
}

static inline int nocopy__be_get_bytes(nocopy_call *c, uintptr_t raw, nocopy_bytes *out)
{
    ErlNifBinary bin;
    if (!enif_inspect_binary(NIF_ENV(c), NC_NIF_T(raw), &bin))
        return NC_GET_TYPE;
    out->data = bin.data;
    out->size = bin.size;
    return NC_GET_OK;
}

static inline int nocopy__be_get_tuple(nocopy_call *c, uintptr_t raw, unsigned *arity,
                       const uintptr_t **elems)
{
    int n;
    const ERL_NIF_TERM *arr;
    if (!enif_get_tuple(NIF_ENV(c), NC_NIF_T(raw), &n, &arr))
        return NC_GET_TYPE;
    *arity = (unsigned)n;
    *elems = (const uintptr_t *)arr;
    return NC_GET_OK;
}

static inline int nocopy__be_get_list_cell(nocopy_call *c, uintptr_t raw, uintptr_t *head,
                                           uintptr_t *tail)
{
    ERL_NIF_TERM h, t;
    if (!enif_get_list_cell(NIF_ENV(c), NC_NIF_T(raw), &h, &t))
        return NC_GET_TYPE;
    *head = h;
    *tail = t;
    return NC_GET_OK;
}

static inline int nocopy__be_get_handle(nocopy_call *c, uintptr_t raw, nocopy__handle **out)
{
    void *obj;
    if (!enif_get_resource(NIF_ENV(c), NC_NIF_T(raw), nocopy__nif.handle_rt, &obj))
        return NC_GET_TYPE;
    *out = obj;
    return NC_GET_OK;
}

/* A proper list of binaries, the common iodata, in one runtime call: refc
 * binaries are referenced, heap binaries copied into one buffer owned by the
 * env (both valid for the call). Anything else (bytes, nesting, a binary tail)
 * is left to the core's generic walk. */
static inline int nocopy__be_get_iovec(nocopy_call *c, uintptr_t raw, nocopy_iovec *out)
{
    ErlNifIOVec vec, *iov = &vec;
    ERL_NIF_TERM head, tail = NC_NIF_T(raw);
    /* enif_inspect_iovec (OTP 25) takes a bitstring with trailing bits as its
     * whole bytes, silently: so only lists of true binaries take this path. */
    while (enif_get_list_cell(NIF_ENV(c), tail, &head, &tail))
        if (!enif_is_binary(NIF_ENV(c), head))
            return NC_GET_TYPE;
    if (!enif_inspect_iovec(NIF_ENV(c), ~(size_t)0, NC_NIF_T(raw), &tail, &iov) ||
        !enif_is_empty_list(NIF_ENV(c), tail))
        return NC_GET_TYPE;
    size_t n = (size_t)iov->iovcnt;
    nocopy_bytes *pieces = nocopy__arena_alloc(&c->arena, (n ? n : 1) * sizeof *pieces);
    if (!pieces)
        return NC_GET_TYPE;                /* the walk reports the shortage */
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (iov->iov[i].iov_len) {
            pieces[count].data = (const uint8_t *)iov->iov[i].iov_base;
            pieces[count].size = iov->iov[i].iov_len;
            count++;
        }
    out->pieces = pieces;
    out->count = count;
    out->total = iov->size;
    return NC_GET_OK;
}

/* ---- kept binaries: a private env holding a copy of the term -------------- */

typedef struct nif_kept {
    nocopy_kept base;
    ErlNifEnv *penv;                   /* OWNED; holds `term` */
    ERL_NIF_TERM term;
} nif_kept;

static inline void nc_nif_kept_release(nocopy_kept *k)
{
    nif_kept *nk = (nif_kept *)k;
    enif_free_env(nk->penv);           /* drops the refc binary reference */
    enif_free(nk);
}

/* enif_make_copy of a refc binary takes a reference (refc++), no data copy;
 * a heap binary (<= 64 bytes) is copied, so the view is re-read in the copy. */
static inline nocopy_kept *nc_nif_keep_term(ErlNifEnv *penv, ERL_NIF_TERM term)
{
    ErlNifBinary bin;
    nif_kept *k = enif_alloc(sizeof *k);
    if (!k || !enif_inspect_binary(penv, term, &bin)) {
        enif_free(k);
        enif_free_env(penv);
        return NULL;
    }
    k->base.view.data = bin.data;
    k->base.view.size = bin.size;
    k->base.release = nc_nif_kept_release;
    k->penv = penv;
    k->term = term;
    return &k->base;
}

static inline int nocopy__be_keep(nocopy_call *c, uintptr_t raw, const nocopy_bytes *view,
                                  nocopy_kept **out)
{
    (void)c;
    (void)view;
    ErlNifEnv *penv = enif_alloc_env();
    if (!penv)
        return NOCOPY_ENOMEM;
    *out = nc_nif_keep_term(penv, enif_make_copy(penv, NC_NIF_T(raw)));
    return *out ? NOCOPY_OK : NOCOPY_ENOMEM;
}

/* ---- building ----------------------------------------------------------- */

static inline nocopy_value nocopy__be_make_i64(nocopy_call *c, int64_t v)
{
    return NC_NIF_V(enif_make_int64(NIF_ENV(c), v));
}

static inline nocopy_value nocopy__be_make_u64(nocopy_call *c, uint64_t v)
{
    return NC_NIF_V(enif_make_uint64(NIF_ENV(c), v));
}

static inline nocopy_value nocopy__be_make_double(nocopy_call *c, double v)
{
    return NC_NIF_V(enif_make_double(NIF_ENV(c), v));      /* finite: the core checked */
}

static inline nocopy_value nocopy__be_make_atom(nocopy_call *c, nocopy_atom a)
{
    (void)c;
    return NC_NIF_V(a < 0 ? nocopy__nif.builtin[-a - 1] : nocopy__nif.atoms[a]);
}

static inline nocopy_value nocopy__be_make_tuple(nocopy_call *c, unsigned n,
                                                 const nocopy_value *e)
{
    return NC_NIF_V(enif_make_tuple_from_array(NIF_ENV(c), (const ERL_NIF_TERM *)e, n));
}

static inline nocopy_value nocopy__be_make_list(nocopy_call *c, size_t n,
                                                const nocopy_value *e)
{
    if (n > UINT32_MAX) {
        nocopy__fail(c, NOCOPY_ERANGE, 0, "list too long");
        return 0;
    }
    return NC_NIF_V(enif_make_list_from_array(NIF_ENV(c), (const ERL_NIF_TERM *)e, (unsigned)n));
}

typedef struct nif_buf {
    nocopy__buf base;
    ErlNifBinary bin;                  /* OWNED until made into a term */
} nif_buf;

static inline nocopy_value nocopy__be_make_buf(nocopy_call *c, nocopy__buf *b)
{
    nif_buf *nb = (nif_buf *)b;
    /* Ownership of the refc binary moves to the term: no copy above 64 bytes. */
    ERL_NIF_TERM t = enif_make_binary(NIF_ENV(c), &nb->bin);
    enif_free(nb);
    return NC_NIF_V(t);
}

static inline nocopy_value nocopy__be_make_slice(nocopy_call *c, uintptr_t raw,
                                                 const nocopy_bytes *view,
                                 size_t offset, size_t len)
{
    if (offset == 0 && len == view->size)
        return NC_NIF_V(raw);
    return NC_NIF_V(enif_make_sub_binary(NIF_ENV(c), NC_NIF_T(raw), offset, len));
}

static inline nocopy_value nocopy__be_make_kept(nocopy_call *c, const nocopy_kept *k,
                                                size_t offset,
                                size_t len)
{
    const nif_kept *nk = (const nif_kept *)k;
    ERL_NIF_TERM t = enif_make_copy(NIF_ENV(c), nk->term);   /* refc++, no data copy */
    if (offset == 0 && len == k->view.size)
        return NC_NIF_V(t);
    return NC_NIF_V(enif_make_sub_binary(NIF_ENV(c), t, offset, len));
}

static inline nocopy_value nocopy__be_make_foreign(nocopy_call *c, const void *data,
                                                   size_t size,
                                   nocopy_release_fn release, void *obj)
{
    nocopy__nif_foreign *o = enif_alloc_resource(nocopy__nif.foreign_rt, sizeof *o);
    if (!o) {
        if (release)
            release(obj);
        nocopy__fail(c, NOCOPY_ENOMEM, 0, "out of memory wrapping foreign memory");
        return 0;
    }
    o->release = release;
    o->obj = obj;
    /* The binary keeps the resource; its destructor calls release(obj) once the
     * last binary referring to it is collected. */
    ERL_NIF_TERM t = enif_make_resource_binary(NIF_ENV(c), o, data, size);
    enif_release_resource(o);
    return NC_NIF_V(t);
}

static inline nocopy_value nocopy__be_make_copy(nocopy_call *c, const void *data,
                                                size_t size)
{
    ERL_NIF_TERM t;
    unsigned char *dst = enif_make_new_binary(NIF_ENV(c), size, &t);
    if (!dst) {
        nocopy__fail(c, NOCOPY_ENOMEM, 0, "out of memory copying %zu bytes", size);
        return 0;
    }
    if (size)
        memcpy(dst, data, size);
    return NC_NIF_V(t);
}

static inline nocopy_value nocopy__be_make_handle(nocopy_call *c, nocopy__handle *h)
{
    ERL_NIF_TERM t = enif_make_resource(NIF_ENV(c), h);
    enif_release_resource(h);          /* the term now holds the reference */
    return NC_NIF_V(t);
}

/* ---- memory that outlives calls ------------------------------------------ */

static inline int nc_nif_buf_resize(nocopy__buf *b, size_t size)
{
    nif_buf *nb = (nif_buf *)b;
    if (!enif_realloc_binary(&nb->bin, size))
        return NOCOPY_ENOMEM;
    nb->base.pub.data = nb->bin.data;
    nb->base.pub.size = nb->bin.size;
    return NOCOPY_OK;
}

static inline void nc_nif_buf_free(nocopy__buf *b)
{
    nif_buf *nb = (nif_buf *)b;
    enif_release_binary(&nb->bin);
    enif_free(nb);
}

static inline nocopy__buf *nocopy__be_buf_alloc(size_t size)
{
    nif_buf *nb = enif_alloc(sizeof *nb);
    if (!nb)
        return NULL;
    if (!enif_alloc_binary(size, &nb->bin)) {
        enif_free(nb);
        return NULL;
    }
    nb->base.pub.data = nb->bin.data;
    nb->base.pub.size = nb->bin.size;
    nb->base.resize = nc_nif_buf_resize;
    nb->base.free = nc_nif_buf_free;
    return &nb->base;
}

static inline nocopy_kept *nocopy__be_buf_share(nocopy_call *c, nocopy__buf *b)
{
    (void)c;
    nif_buf *nb = (nif_buf *)b;
    ErlNifEnv *penv = enif_alloc_env();
    if (!penv) {
        nc_nif_buf_free(b);
        return NULL;
    }
    ERL_NIF_TERM t = enif_make_binary(penv, &nb->bin);   /* binary moves into penv */
    enif_free(nb);
    return nc_nif_keep_term(penv, t);
}

static inline nocopy__handle *nocopy__be_handle_alloc(const nocopy_handle_type *type,
                                                      unsigned index)
{
    if (type->size > SIZE_MAX - sizeof(nocopy__handle))
        return NULL;
    nocopy__handle *h = enif_alloc_resource(nocopy__nif.handle_rt,
                                            sizeof(nocopy__handle) + type->size);
    if (h)
        nocopy__handle_init(h, type, index);
    return h;
}

static inline void nocopy__be_handle_keep(nocopy__handle *h)
{
    enif_keep_resource(h);
}

static inline void nocopy__be_handle_release(nocopy__handle *h)
{
    enif_release_resource(h);
}

/* A normal-scheduler call should take about 1 ms per time slice. Assume the
 * wrapped work moves about 1 GB/s: 1% of a slice per 10 KB processed. */
#define NC_NIF_BYTES_PER_PERCENT 10000

static inline void nocopy__be_consume(nocopy_call *c, size_t bytes)
{
    if (enif_thread_type() != ERL_NIF_THR_NORMAL_SCHEDULER ||
        bytes < NC_NIF_BYTES_PER_PERCENT)
        return;
    size_t pct = bytes / NC_NIF_BYTES_PER_PERCENT;
    enif_consume_timeslice(NIF_ENV(c), pct > 100 ? 100 : (int)pct);
}

#undef NC_NIF_T
#undef NC_NIF_V

#endif /* NC_NIF_BACKEND_H */
