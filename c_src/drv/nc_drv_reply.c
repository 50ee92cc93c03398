/* nc_drv_reply.c: result terms on the driver backend, and the reply message.
 *
 * A wrapped function builds its result bottom-up with nocopy_make_*(), each
 * piece a node in the call's arena (nc_drv_nodes.h) that knows how many
 * ErlDrvTermData entries it expands to and how deep it is. Here the tree is
 * written once, in postfix order, into one spec and sent with
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

#include "nc_backend.h"

/* Replies whose spec fits here are built on the stack. */
#define SPEC_INLINE 96

/* Entries around the value in {nocopy_reply, Tag, {ok, Value}}. */
#define WRAP_SPEC 13

#define R(v) ((nc_drv_reply_node *)(v))
#define V(n) ((nocopy_value)(n))

void nocopy__drv_release_owned(nc_drv_call *call)
{
    for (nc_drv_reply_node *n = call->owned; n; n = n->next_owned)
        driver_free_binary(n->v.bin.bin);
    call->owned = NULL;
}

/* ---- writing the spec ------------------------------------------------------ */

/* Integers the runtime keeps small (a word less its 4 tag bits): sent as
 * ERL_DRV_INT / ERL_DRV_UINT, which the runtime builds in line, rather than
 * ERL_DRV_INT64 / ERL_DRV_UINT64, a call of its 64-bit builder per integer
 * (erts_bld_sint64: 0.8 % of the samples of inline seed_calls, in perf). */
#define SMALL_BITS ((int)sizeof(ErlDrvSInt) * 8 - 4)
#define SMALL_MAX ((ErlDrvSInt)(((ErlDrvUInt)1 << (SMALL_BITS - 1)) - 1))
#define SMALL_MIN (-SMALL_MAX - 1)

static ErlDrvTermData *put_int(ErlDrvTermData *s, const ErlDrvSInt64 *v)
{
    if (*v >= SMALL_MIN && *v <= SMALL_MAX) {
        *s++ = ERL_DRV_INT;
        *s++ = (ErlDrvTermData)(ErlDrvSInt)*v;
    } else {
        *s++ = ERL_DRV_INT64;
        *s++ = (ErlDrvTermData)v;
    }
    return s;
}

static ErlDrvTermData *put_uint(ErlDrvTermData *s, const ErlDrvUInt64 *v)
{
    if (*v <= (ErlDrvUInt64)SMALL_MAX) {
        *s++ = ERL_DRV_UINT;
        *s++ = (ErlDrvTermData)(ErlDrvUInt)*v;
    } else {
        *s++ = ERL_DRV_UINT64;
        *s++ = (ErlDrvTermData)v;
    }
    return s;
}

typedef struct emit_frame {
    const nc_drv_reply_node *n;
    size_t next;
} emit_frame;

/* In line (GCC's choice was a call per node): one switch per leaf. */
static inline __attribute__((always_inline)) ErlDrvTermData *
put_leaf(ErlDrvTermData *s, const nc_drv_reply_node *n, ErlDrvTermData port)
{
    switch (n->kind) {
    case NC_R_INT:
        s = put_int(s, &n->v.i);
        break;
    case NC_R_UINT:
        s = put_uint(s, &n->v.u);
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
        s = put_uint(s, &n->v.handle_id);
        *s++ = ERL_DRV_TUPLE;
        *s++ = 3;
        break;
    }
    return s;
}

static int has_kids(const nc_drv_reply_node *n)
{
    return (n->kind == NC_R_TUPLE || n->kind == NC_R_LIST) && n->v.agg.n > 0;
}

/* Postfix order without recursion: results may nest deeply. Only aggregates
 * with children take a frame (at most root->depth - 1 of them); a leaf child
 * is written as soon as its parent reaches it. */
static ErlDrvTermData *put_value(ErlDrvTermData *s, const nc_drv_reply_node *root,
                                 emit_frame *stack, ErlDrvTermData port)
{
    if (!has_kids(root))
        return put_leaf(s, root, port);
    size_t sp = 0;
    stack[sp++] = (emit_frame){root, 0};
    while (sp > 0) {
        emit_frame *f = &stack[sp - 1];
        const nc_drv_reply_node *n = f->n;
        size_t i = f->next, count = n->v.agg.n;
        while (i < count && !has_kids(n->v.agg.kids[i]))
            s = put_leaf(s, n->v.agg.kids[i++], port);
        if (i < count) {
            f->next = i + 1;
            stack[sp++] = (emit_frame){n->v.agg.kids[i], 0};
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
        s = put_int(s, tag_int);
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
