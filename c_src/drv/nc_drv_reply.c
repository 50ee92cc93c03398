/* nc_drv_reply.c: result terms on the driver backend, and the reply message.
 *
 * A wrapped function builds its result bottom-up with nocopy_make_*(); here each
 * piece is a node in the call's arena (nocopy_value points to it) that knows
 * how many ErlDrvTermData entries it expands to and how deep it is. At the end
 * the tree is written once, in postfix order, into one spec and sent with
 * erl_drv_send_term to the process that called (the caller receives a real
 * term; nothing is unpacked in Erlang):
 *
 *     {nocopy_reply, Tag, {ok, Value}}
 *     {nocopy_reply, Tag, {'$nocopy_error', Reason, Cause}}
 *
 * Binaries: a result buffer, a slice of an input and a kept binary all go as
 * ERL_DRV_BINARY, so the runtime references the driver binary (no copy above
 * 64 bytes). The runtime takes its own reference; the call drops the ones it
 * owns after sending, delivered or not (nocopy__drv_release_owned). */
#include <string.h>

#include "nc_drv.h"

/* More spec entries than this is refused: erl_drv_send_term takes an int count,
 * and a value shared many times in a tree (a DAG) expands once per use. */
#define MAX_SPEC ((size_t)1 << 27)

/* Erlang's largest tuple. */
#define MAX_TUPLE_ARITY 0xFFFFFFu

/* Replies whose spec fits here are built on the stack. */
#define SPEC_INLINE 96

/* Entries around the value in {nocopy_reply, Tag, {ok, Value}}. */
#define WRAP_SPEC 13

#define R(v) ((nc_drv_reply_node *)(v))
#define V(n) ((nocopy_value)(n))

static nc_drv_reply_node *rnew(nocopy_call *c, int kind, size_t spec)
{
    nc_drv_reply_node *n = nocopy__arena_alloc(&c->arena, sizeof *n);
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

nocopy_value nocopy__drv_make_i64(nocopy_call *c, int64_t v)
{
    nc_drv_reply_node *n = rnew(c, NC_R_INT, 2);
    if (n)
        n->v.i = v;
    return V(n);
}

nocopy_value nocopy__drv_make_u64(nocopy_call *c, uint64_t v)
{
    nc_drv_reply_node *n = rnew(c, NC_R_UINT, 2);
    if (n)
        n->v.u = v;
    return V(n);
}

nocopy_value nocopy__drv_make_double(nocopy_call *c, double v)
{
    nc_drv_reply_node *n = rnew(c, NC_R_FLOAT, 2);
    if (n)
        n->v.f = v;
    return V(n);
}

nocopy_value nocopy__drv_make_atom(nocopy_call *c, nocopy_atom a)
{
    nc_drv_reply_node *n = rnew(c, NC_R_ATOM, 2);
    if (n)
        n->v.atom = a < 0 ? nocopy__drv.builtin[-a - 1] : nocopy__drv.mod_atoms[a];
    return V(n);
}

/* Tuples and lists: the children are copied (the caller's array is read during
 * the call only) and their sizes summed, saturating at MAX_SPEC. */
static nocopy_value make_agg(nocopy_call *c, int kind, size_t count, const nocopy_value *e)
{
    size_t spec = kind == NC_R_TUPLE ? 2 : (count ? 3 : 1);
    uint32_t depth = 0;
    if (count > (MAX_SPEC - spec) / 2) {
        nocopy__fail(c, NOCOPY_ENOMEM, 0, "result too large for a driver reply");
        return 0;
    }
    nc_drv_reply_node *n = rnew(c, kind, 0);
    nc_drv_reply_node **kids =
        count ? nocopy__arena_alloc(&c->arena, count * sizeof *kids) : NULL;
    if (!n || (count && !kids)) {
        nocopy__fail(c, NOCOPY_ENOMEM, 0, "out of memory building the result");
        return 0;
    }
    for (size_t i = 0; i < count; i++) {
        kids[i] = R(e[i]);
        spec += kids[i]->spec;
        if (spec > MAX_SPEC) {
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
    return V(n);
}

nocopy_value nocopy__drv_make_tuple(nocopy_call *c, unsigned n, const nocopy_value *e)
{
    if (n > MAX_TUPLE_ARITY) {
        nocopy__fail(c, NOCOPY_ERANGE, 0, "tuple of %u elements is too large", n);
        return 0;
    }
    return make_agg(c, NC_R_TUPLE, n, e);
}

nocopy_value nocopy__drv_make_list(nocopy_call *c, size_t n, const nocopy_value *e)
{
    return make_agg(c, NC_R_LIST, n, e);
}

/* A binary node over `bin`. owned: the call holds a reference it must drop
 * after sending (a result buffer, a copy, an extra ref on a kept binary). */
static nocopy_value bin_node(nocopy_call *c, ErlDrvBinary *bin, size_t off, size_t len,
                             int owned)
{
    nc_drv_reply_node *n = rnew(c, NC_R_BIN, 4);
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
    return V(n);
}

nocopy_value nocopy__drv_make_buf(nocopy_call *c, nocopy__buf *b)
{
    nc_drv_buf *db = (nc_drv_buf *)b;
    ErlDrvBinary *bin = db->bin;
    size_t size = db->base.pub.size;
    driver_free(db);
    /* The buffer's reference now belongs to the result node. */
    return bin_node(c, bin, 0, size, 1);
}

/* Bytes that stay valid until the reply is sent: BUF2BINARY copies them into
 * the message (the runtime makes a heap binary of <= 64 bytes anyway). */
static nocopy_value copy_node(nocopy_call *c, const uint8_t *data, size_t len)
{
    nc_drv_reply_node *n = rnew(c, NC_R_COPY, 3);
    if (n) {
        n->v.copy.data = data;
        n->v.copy.len = len;
    }
    return V(n);
}

nocopy_value nocopy__drv_make_copy(nocopy_call *c, const void *data, size_t size)
{
    /* The caller's bytes may be gone by the time the reply is sent (a stack
     * buffer): small ones are copied into the arena, large ones into a driver
     * binary that becomes the result without a second copy. */
    if (size <= NOCOPY_HEAP_BINARY_LIMIT) {
        uint8_t *p = nocopy__arena_alloc(&c->arena, size);
        if (!p) {
            nocopy__fail(c, NOCOPY_ENOMEM, 0, "out of memory copying %zu bytes", size);
            return 0;
        }
        if (size)
            memcpy(p, data, size);
        return copy_node(c, p, size);
    }
    ErlDrvBinary *bin = driver_alloc_binary((ErlDrvSizeT)size);
    if (!bin) {
        nocopy__fail(c, NOCOPY_ENOMEM, 0, "out of memory copying %zu bytes", size);
        return 0;
    }
    memcpy(bin->orig_bytes, data, size);
    return bin_node(c, bin, 0, size, 1);
}

/* The driver has no way to wrap foreign memory in a binary (unlike the NIF's
 * resource binaries), so the bytes are copied and the owner released now. */
nocopy_value nocopy__drv_make_foreign(nocopy_call *c, const void *data, size_t size,
                                      nocopy_release_fn release, void *obj)
{
    nocopy_value v = nocopy__drv_make_copy(c, data, size);
    if (release)
        release(obj);
    return v;
}

int nocopy__drv_slice_fits(const ErlDrvBinary *bin, const uint8_t *data, size_t len,
                           size_t *offset)
{
    const uint8_t *base = (const uint8_t *)bin->orig_bytes;
    size_t size = (size_t)bin->orig_size;
    if (data < base || (size_t)(data - base) > size || len > size - (size_t)(data - base))
        return 0;
    *offset = (size_t)(data - base);
    return 1;
}

nocopy_value nocopy__drv_make_slice(nocopy_call *c, uintptr_t raw, const nocopy_bytes *view,
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
        return bin_node(c, bin, at, len, 0);
    return copy_node(c, data, len);
}

nocopy_value nocopy__drv_make_kept(nocopy_call *c, const nocopy_kept *k, size_t offset,
                                   size_t len)
{
    const nc_drv_kept *dk = (const nc_drv_kept *)k;
    const uint8_t *data = k->view.data + offset;
    size_t at;
    if (!nocopy__drv_slice_fits(dk->bin, data, len, &at))
        return nocopy__drv_make_copy(c, data, len);
    /* C may release its kept reference before the reply goes out: the node
     * holds one of its own. */
    driver_binary_inc_refc(dk->bin);
    return bin_node(c, dk->bin, at, len, 1);
}

nocopy_value nocopy__drv_reply_handle(nocopy_call *c, uint64_t id)
{
    nc_drv_reply_node *n = rnew(c, NC_R_HANDLE, 8);
    if (n)
        n->v.handle_id = id;
    return V(n);
}

void nocopy__drv_release_owned(nc_drv_call *call)
{
    for (nc_drv_reply_node *n = call->owned; n; n = n->next_owned)
        driver_free_binary(n->v.bin.bin);
    call->owned = NULL;
}

/* ---- writing the spec ------------------------------------------------------ */

typedef struct emit_frame {
    const nc_drv_reply_node *n;
    size_t next;
} emit_frame;

static ErlDrvTermData *put_leaf(ErlDrvTermData *s, const nc_drv_reply_node *n,
                                ErlDrvTermData port)
{
    switch (n->kind) {
    case NC_R_INT:
        *s++ = ERL_DRV_INT64;
        *s++ = (ErlDrvTermData)&n->v.i;
        break;
    case NC_R_UINT:
        *s++ = ERL_DRV_UINT64;
        *s++ = (ErlDrvTermData)&n->v.u;
        break;
    case NC_R_FLOAT:
        *s++ = ERL_DRV_FLOAT;
        *s++ = (ErlDrvTermData)&n->v.f;
        break;
    case NC_R_ATOM:
        *s++ = ERL_DRV_ATOM;
        *s++ = n->v.atom;
        break;
    case NC_R_TUPLE:
        *s++ = ERL_DRV_TUPLE;
        *s++ = (ErlDrvTermData)n->v.agg.n;
        break;
    case NC_R_LIST:
        *s++ = ERL_DRV_NIL;
        if (n->v.agg.n) {
            *s++ = ERL_DRV_LIST;
            *s++ = (ErlDrvTermData)(n->v.agg.n + 1);
        }
        break;
    case NC_R_BIN:
        *s++ = ERL_DRV_BINARY;
        *s++ = (ErlDrvTermData)n->v.bin.bin;
        *s++ = (ErlDrvTermData)n->v.bin.len;
        *s++ = (ErlDrvTermData)n->v.bin.off;
        break;
    case NC_R_COPY:
        *s++ = ERL_DRV_BUF2BINARY;
        *s++ = (ErlDrvTermData)n->v.copy.data;
        *s++ = (ErlDrvTermData)n->v.copy.len;
        break;
    case NC_R_HANDLE:
        *s++ = ERL_DRV_ATOM;
        *s++ = nocopy__drv.am_handle;
        *s++ = ERL_DRV_PORT;
        *s++ = port;
        *s++ = ERL_DRV_UINT64;
        *s++ = (ErlDrvTermData)&n->v.handle_id;
        *s++ = ERL_DRV_TUPLE;
        *s++ = 3;
        break;
    }
    return s;
}

/* Postfix order without recursion: results may nest deeply. */
static ErlDrvTermData *put_value(ErlDrvTermData *s, const nc_drv_reply_node *root,
                                 emit_frame *stack, ErlDrvTermData port)
{
    size_t sp = 0;
    stack[sp++] = (emit_frame){root, 0};
    while (sp > 0) {
        emit_frame *f = &stack[sp - 1];
        const nc_drv_reply_node *n = f->n;
        if ((n->kind == NC_R_TUPLE || n->kind == NC_R_LIST) && f->next < n->v.agg.n) {
            stack[sp++] = (emit_frame){n->v.agg.kids[f->next++], 0};
            continue;
        }
        s = put_leaf(s, n, port);
        sp--;
    }
    return s;
}

static ErlDrvTermData *put_tag(ErlDrvTermData *s, const nocopy__wreq *req,
                               ErlDrvSInt64 *tag_int)
{
    switch (req->tag_kind) {
    case NC_WTAG_INT:
        *tag_int = req->tag_int;
        *s++ = ERL_DRV_INT64;
        *s++ = (ErlDrvTermData)tag_int;
        break;
    case NC_WTAG_REF:
        /* Validated by the decoder to be exactly one encoded reference. */
        *s++ = ERL_DRV_EXT2TERM;
        *s++ = (ErlDrvTermData)req->tag_ext;
        *s++ = (ErlDrvTermData)req->tag_ext_len;
        break;
    default:
        *s++ = ERL_DRV_ATOM;
        *s++ = nocopy__drv.builtin[-NOCOPY_ATOM_UNDEFINED - 1];
        break;
    }
    return s;
}

/* {nocopy_reply, Tag, {'$nocopy_error', Reason, {Where, Text}}}, Where an
 * atom, or the argument number when `where` is 0. */
static int send_error_cause(nc_drv_port *dp, ErlDrvTermData to, const nocopy__wreq *req,
                            ErlDrvSInt64 *tag_int, int status, ErlDrvTermData where,
                            unsigned argno, const char *text)
{
    ErlDrvTermData spec[32], *s = spec;
    *s++ = ERL_DRV_ATOM;
    *s++ = nocopy__drv.am_reply;
    s = put_tag(s, req, tag_int);
    *s++ = ERL_DRV_ATOM;
    *s++ = nocopy__drv.am_error_tag;
    *s++ = ERL_DRV_ATOM;
    *s++ = nocopy__drv.am_reason[nocopy__reason_index(status)];
    if (where) {
        *s++ = ERL_DRV_ATOM;
        *s++ = where;
    } else {
        *s++ = ERL_DRV_UINT;
        *s++ = (ErlDrvTermData)argno;
    }
    *s++ = ERL_DRV_BUF2BINARY;
    *s++ = (ErlDrvTermData)text;
    *s++ = (ErlDrvTermData)strlen(text);
    *s++ = ERL_DRV_TUPLE;
    *s++ = 2;
    *s++ = ERL_DRV_TUPLE;
    *s++ = 3;
    *s++ = ERL_DRV_TUPLE;
    *s++ = 3;
    int r = erl_drv_send_term(dp->port_term, to, spec, (int)(s - spec));
    if (r < 0 && req->tag_kind == NC_WTAG_REF) {
        /* The decoder checks a reference tag's structure, but the runtime may
         * still refuse to decode it (a forged or corrupted request): then no
         * reply with that tag can be sent. Answer untagged rather than not at
         * all, as the wire format promises for garbage. */
        nocopy__wreq untagged = {.tag_kind = NC_WTAG_NONE};
        return send_error_cause(dp, to, &untagged, tag_int, NOCOPY_EPROTO,
                                nocopy__drv.am_general, 0,
                                "the request's reference tag was refused by the runtime");
    }
    return r;
}

int nocopy__drv_send_error(nc_drv_port *dp, ErlDrvTermData to, const nocopy__wreq *req,
                           ErlDrvSInt64 *tag_int, int status, unsigned argno,
                           const char *text)
{
    /* The Cause of nc_error.c: {ArgNo, Text} or {general, Text}. */
    unsigned cause_argno = nocopy__cause_argno(status, argno);
    return send_error_cause(dp, to, req, tag_int, status,
                            cause_argno ? 0 : nocopy__drv.am_general, cause_argno, text);
}

int nocopy__drv_send_wrong_port(nc_drv_port *dp, ErlDrvTermData to, const nocopy__wreq *req,
                                ErlDrvSInt64 *tag_int)
{
    return send_error_cause(dp, to, req, tag_int, NOCOPY_EBADARG, nocopy__drv.am_wrong_port, 0,
                            nocopy__drv.driver_name);
}

static int send_result(nc_drv_call *call)
{
    nocopy_call *c = &call->base;
    const nc_drv_reply_node *root = R(c->result);
    size_t n = root->spec + WRAP_SPEC;
    ErlDrvTermData small[SPEC_INLINE], *spec = small, *s;
    emit_frame stack_small[16], *stack = stack_small;

    if (n > SPEC_INLINE && !(spec = nocopy__arena_alloc(&c->arena, n * sizeof *spec)))
        return -2;
    if (root->depth > 16 &&
        !(stack = nocopy__arena_alloc(&c->arena, root->depth * sizeof *stack)))
        return -2;
    s = spec;
    *s++ = ERL_DRV_ATOM;
    *s++ = nocopy__drv.am_reply;
    s = put_tag(s, &call->req, &call->tag_int);
    *s++ = ERL_DRV_ATOM;
    *s++ = nocopy__drv.builtin[-NOCOPY_ATOM_OK - 1];
    s = put_value(s, root, stack, call->dp->port_term);
    *s++ = ERL_DRV_TUPLE;
    *s++ = 2;
    *s++ = ERL_DRV_TUPLE;
    *s++ = 3;
    return erl_drv_send_term(call->dp->port_term, call->caller, spec, (int)(s - spec));
}

int nocopy__drv_send_outcome(nc_drv_call *call, int status)
{
    nocopy_call *c = &call->base;
    int r;
    if (status == NOCOPY_OK) {
        r = send_result(call);
        if (r >= 0)
            return r == 1;
        /* -1: the runtime refused the spec; that is a bug here, but the caller
         * must still get an answer. -2: no memory for the spec. */
        nocopy__fail(c, r == -2 ? NOCOPY_ENOMEM : NOCOPY_EINTERNAL, 0, "%s",
                     r == -2 ? "out of memory sending the result"
                             : "the runtime refused the result term");
        status = c->err_status;
    }
    r = nocopy__drv_send_error(call->dp, call->caller, &call->req, &call->tag_int, status,
                               c->err_argno, c->err_text);
    /* An error reply carries no handle, so nothing to commit. */
    (void)r;
    return 0;
}
