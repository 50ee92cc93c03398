/* nc_drv_nodes.h: the driver's result builders, part of its primitives
 * (nc_backend.h includes it; include that, not this). Each nocopy_make_*()
 * appends its value's entries to the call's spec, the ErlDrvTermData array
 * erl_drv_send_term takes, and returns their range (nc_drv.h); nc_drv_reply.c
 * wraps the result's range into the reply and sends it.
 *
 * Binaries: a result buffer, a slice of an input and a kept binary all become
 * ERL_DRV_BINARY entries, so the runtime references the driver binary (no
 * copy above 64 bytes); the references the call owns are listed in it and
 * dropped after sending (nocopy__drv_release_owned). */
#ifndef NC_DRV_NODES_H
#define NC_DRV_NODES_H

#include <string.h>

#include "nc_drv.h"
#include "nc_prims.h"

/* ---- result values: ranges of the call's spec (nc_drv.h) ----------------- */

/* More spec entries than this in one value is refused: erl_drv_send_term
 * takes an int count, and a value used many times in a tree (a DAG) expands
 * once per use. */
#define NC_DRV_MAX_SPEC ((size_t)1 << 27)

/* The whole buffer, copies of shared values included: its ranges' starts
 * stay below 2^32. */
#define NC_DRV_MAX_SPEC_BUFFER ((size_t)1 << 30)

/* Erlang's largest tuple. */
#define NC_DRV_MAX_TUPLE_ARITY 0xFFFFFFu

/* Makes room for k more entries: a buffer twice as large in the arena (the
 * old one stays where it is, the call or the arena, until the call ends).
 * NULL: no memory or too large, with the call's error set. Out of line and
 * cold: a result that outgrows the call's inline entries grows a few times
 * at most, and the builders inlined into every wrapped function stay small. */
__attribute__((cold, noinline)) static ErlDrvTermData *nocopy__drv_spec_grow(nocopy_call *c,
                                                                             size_t k)
{
    nc_drv_call *dc = DRV_CALL(c);
    size_t used = dc->spec_used;
    if (k > NC_DRV_MAX_SPEC_BUFFER - used) {
        nocopy__fail(c, NOCOPY_ENOMEM, 0, "result too large for a driver reply");
        return NULL;
    }
    size_t cap = dc->spec_cap * 2;
    if (cap < used + k)
        cap = used + k;
    if (cap > NC_DRV_MAX_SPEC_BUFFER)
        cap = NC_DRV_MAX_SPEC_BUFFER;
    ErlDrvTermData *spec = nocopy__arena_alloc(&c->arena, cap * sizeof *spec);
    if (!spec) {
        nocopy__fail(c, NOCOPY_ENOMEM, 0, "out of memory building the result");
        return NULL;
    }
    /* The old buffer stays where it is (the call or its arena) until the
     * call ends. */
    memcpy(spec, dc->spec, used * sizeof *spec);
    dc->spec = spec;
    dc->spec_cap = cap;
    dc->spec_used = used + k;
    return spec + used;
}

/* k entries at the end of the call's spec, to be written now. */
static inline ErlDrvTermData *nc_drv_spec_room(nocopy_call *c, size_t k)
{
    nc_drv_call *dc = DRV_CALL(c);
    if (NC_LIKELY(k <= dc->spec_cap - dc->spec_used)) {
        ErlDrvTermData *s = dc->spec + dc->spec_used;
        dc->spec_used += k;
        return s;
    }
    return nocopy__drv_spec_grow(c, k);
}

/* The value of the last k entries written. */
static inline nocopy_value nc_drv_last(nocopy_call *c, size_t k)
{
    return NC_DRV_RANGE(DRV_CALL(c)->spec_used - k, k);
}

/* Integers the runtime keeps small (a word less its 4 tag bits): sent as
 * ERL_DRV_INT / ERL_DRV_UINT, which the runtime builds in line, rather than
 * ERL_DRV_INT64 / ERL_DRV_UINT64, a call of its 64-bit builder per integer
 * (erts_bld_sint64: 0.8 % of the samples of inline seed_calls, in perf). */
#define NC_DRV_SMALL_BITS ((int)sizeof(ErlDrvSInt) * 8 - 4)
#define NC_DRV_SMALL_MAX ((ErlDrvSInt)(((ErlDrvUInt)1 << (NC_DRV_SMALL_BITS - 1)) - 1))
#define NC_DRV_SMALL_MIN (-NC_DRV_SMALL_MAX - 1)

/* Writes an unsigned integer's 2 entries at s; a large one's value goes to
 * the arena, which the entry points to. 0: no memory (error set). */
static inline int nc_drv_put_uint(nocopy_call *c, ErlDrvTermData *s, uint64_t v)
{
    if (v <= (uint64_t)NC_DRV_SMALL_MAX) {
        s[0] = ERL_DRV_UINT;
        s[1] = (ErlDrvTermData)(ErlDrvUInt)v;
        return 1;
    }
    ErlDrvUInt64 *p = nocopy__arena_alloc_fast(&c->arena, sizeof *p);
    if (!p) {
        nocopy__fail(c, NOCOPY_ENOMEM, 0, "out of memory building the result");
        return 0;
    }
    *p = v;
    s[0] = ERL_DRV_UINT64;
    s[1] = (ErlDrvTermData)p;
    return 1;
}

static inline nocopy_value nocopy__be_make_i64(nocopy_call *c, int64_t v)
{
    ErlDrvSInt64 *p = NULL;
    if (v < NC_DRV_SMALL_MIN || v > NC_DRV_SMALL_MAX) {
        if (!(p = nocopy__arena_alloc_fast(&c->arena, sizeof *p))) {
            nocopy__fail(c, NOCOPY_ENOMEM, 0, "out of memory building the result");
            return 0;
        }
        *p = v;
    }
    ErlDrvTermData *s = nc_drv_spec_room(c, 2);
    if (!s)
        return 0;
    if (p) {
        s[0] = ERL_DRV_INT64;
        s[1] = (ErlDrvTermData)p;
    } else {
        s[0] = ERL_DRV_INT;
        s[1] = (ErlDrvTermData)(ErlDrvSInt)v;
    }
    return nc_drv_last(c, 2);
}

static inline nocopy_value nocopy__be_make_u64(nocopy_call *c, uint64_t v)
{
    ErlDrvTermData *s = nc_drv_spec_room(c, 2);
    if (!s || !nc_drv_put_uint(c, s, v))
        return 0;
    return nc_drv_last(c, 2);
}

static inline nocopy_value nocopy__be_make_double(nocopy_call *c, double v)
{
    double *p = nocopy__arena_alloc_fast(&c->arena, sizeof *p);
    if (!p) {
        nocopy__fail(c, NOCOPY_ENOMEM, 0, "out of memory building the result");
        return 0;
    }
    *p = v;
    ErlDrvTermData *s = nc_drv_spec_room(c, 2);
    if (!s)
        return 0;
    s[0] = ERL_DRV_FLOAT;
    s[1] = (ErlDrvTermData)p;
    return nc_drv_last(c, 2);
}

static inline nocopy_value nocopy__be_make_atom(nocopy_call *c, nocopy_atom a)
{
    ErlDrvTermData *s = nc_drv_spec_room(c, 2);
    if (!s)
        return 0;
    s[0] = ERL_DRV_ATOM;
    s[1] = a < 0 ? nocopy__drv.builtin[-a - 1] : nocopy__drv.mod_atoms[a];
    return nc_drv_last(c, 2);
}

/* An aggregate that lists its elements (nc_drv.h), `tail` its own entries;
 * 0 with the error set when too large or out of memory. */
static inline nocopy_value nocopy__drv_make_agg_node(nocopy_call *c, int tuple, size_t count,
                                                     const nocopy_value *e, size_t tail)
{
    if (count > (NC_DRV_MAX_SPEC - tail) / 2) {
        nocopy__fail(c, NOCOPY_ENOMEM, 0, "result too large for a driver reply");
        return 0;
    }
    size_t total = tail;
    uint32_t depth = 0;
    for (size_t i = 0; i < count; i++) {
        /* Each element is at most NC_DRV_MAX_SPEC: total cannot wrap. */
        total += nc_drv_val_spec(e[i]);
        if (total > NC_DRV_MAX_SPEC) {
            nocopy__fail(c, NOCOPY_ENOMEM, 0, "result too large for a driver reply");
            return 0;
        }
        if (nc_drv_val_depth(e[i]) > depth)
            depth = nc_drv_val_depth(e[i]);
    }
    nc_drv_agg *g = nocopy__arena_alloc(&c->arena, sizeof *g + count * sizeof *e);
    if (!g) {
        nocopy__fail(c, NOCOPY_ENOMEM, 0, "out of memory building the result");
        return 0;
    }
    g->tuple = tuple;
    g->depth = depth + 1;
    g->spec = total;
    g->n = count;
    if (count)
        memcpy(g->kids, e, count * sizeof *e);
    return (nocopy_value)g;
}

/* Tuples and lists: ERL_DRV_TUPLE n, or ERL_DRV_NIL then ERL_DRV_LIST n + 1
 * (an empty list: ERL_DRV_NIL alone), after the elements' entries. When the
 * elements are the spec's last ranges, in order (a result made bottom-up,
 * each value used once), they are already in place; otherwise the aggregate
 * lists them (nc_drv.h). */
static inline nocopy_value nc_drv_make_agg(nocopy_call *c, int tuple, size_t count,
                                           const nocopy_value *e)
{
    nc_drv_call *dc = DRV_CALL(c);
    size_t tail = tuple ? 2 : (count ? 3 : 1);
    size_t at = count ? nc_drv_range_start(e[0]) : dc->spec_used, end = at;
    for (size_t i = 0; i < count; i++) {
        if (!nc_drv_is_range(e[i]) || nc_drv_range_start(e[i]) != end)
            return nocopy__drv_make_agg_node(c, tuple, count, e, tail);
        end += nc_drv_range_len(e[i]);
    }
    if (end != dc->spec_used || end - at > NC_DRV_MAX_SPEC - tail)
        return nocopy__drv_make_agg_node(c, tuple, count, e, tail);
    ErlDrvTermData *s = nc_drv_spec_room(c, tail);
    if (!s)
        return 0;
    if (tuple) {
        s[0] = ERL_DRV_TUPLE;
        s[1] = (ErlDrvTermData)count;
    } else {
        s[0] = ERL_DRV_NIL;
        if (count) {
            s[1] = ERL_DRV_LIST;
            s[2] = (ErlDrvTermData)(count + 1);
        }
    }
    return NC_DRV_RANGE(at, end - at + tail);
}

static inline nocopy_value nocopy__be_make_tuple(nocopy_call *c, unsigned n,
                                                 const nocopy_value *e)
{
    if (n > NC_DRV_MAX_TUPLE_ARITY) {
        nocopy__fail(c, NOCOPY_ERANGE, 0, "tuple of %u elements is too large", n);
        return 0;
    }
    return nc_drv_make_agg(c, 1, n, e);
}

static inline nocopy_value nocopy__be_make_list(nocopy_call *c, size_t n,
                                                const nocopy_value *e)
{
    return nc_drv_make_agg(c, 0, n, e);
}

/* ERL_DRV_BINARY over `bin`. owned: the call holds a reference it must drop
 * after sending (a result buffer, a copy, an extra ref on a kept binary);
 * it is dropped here when the value cannot be made. */
static inline nocopy_value nc_drv_bin_node(nocopy_call *c, ErlDrvBinary *bin, size_t off,
                                           size_t len, int owned)
{
    if (owned) {
        nc_drv_owned *o = nocopy__arena_alloc_fast(&c->arena, sizeof *o);
        if (!o) {
            driver_free_binary(bin);
            nocopy__fail(c, NOCOPY_ENOMEM, 0, "out of memory building the result");
            return 0;
        }
        o->bin = bin;                  /* the list owns it from here on */
        o->next = DRV_CALL(c)->owned;
        DRV_CALL(c)->owned = o;
    }
    ErlDrvTermData *s = nc_drv_spec_room(c, 4);
    if (!s)
        return 0;
    s[0] = ERL_DRV_BINARY;
    s[1] = (ErlDrvTermData)bin;
    s[2] = (ErlDrvTermData)len;
    s[3] = (ErlDrvTermData)off;
    return nc_drv_last(c, 4);
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
    ErlDrvTermData *s = nc_drv_spec_room(c, 3);
    if (!s)
        return 0;
    s[0] = ERL_DRV_BUF2BINARY;
    s[1] = (ErlDrvTermData)data;
    s[2] = (ErlDrvTermData)len;
    return nc_drv_last(c, 3);
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

/* A handle result: {'$nocopy_handle', Port, Id}. */
static inline nocopy_value nocopy__drv_reply_handle(nocopy_call *c, uint64_t id)
{
    ErlDrvTermData *s = nc_drv_spec_room(c, 8);
    if (!s)
        return 0;
    s[0] = ERL_DRV_ATOM;
    s[1] = nocopy__drv.am_handle;
    s[2] = ERL_DRV_PORT;
    s[3] = DRV_CALL(c)->dp->port_term;
    if (!nc_drv_put_uint(c, s + 4, id))
        return 0;
    s[6] = ERL_DRV_TUPLE;
    s[7] = 3;
    return nc_drv_last(c, 8);
}

#endif /* NC_DRV_NODES_H */
