/* nc_drv_reply.c: result terms on the driver backend, and the reply message.
 *
 * A wrapped function builds its result bottom-up with nocopy_make_*(), each
 * value's ErlDrvTermData entries appended to the call's spec as it is made
 * (nc_drv_nodes.h). The reply wraps the result's
 * range in place (or writes out an aggregate of ranges, nc_drv.h) and goes with
 * erl_drv_send_term to the process that called (the caller receives a real
 * term; nothing is unpacked in Erlang):
 *
 *     {nocopy_reply, Tag, Value}                            a sync call's (integer Tag)
 *     {nocopy_error, Tag, {'$nocopy_error', Reason, Cause}}
 *     {nocopy_reply, Ref, {ok, Value}}                      an async call's (reference),
 *     {nocopy_reply, Ref, {'$nocopy_error', Reason, Cause}} or no tag (undefined)
 *
 * A sync call's value is not wrapped: its reply is the smallest message that
 * says which call it answers and how it went (three words of garbage less a
 * call than {ok, Value} inside), and only nocopy_port receives it. An async
 * call's shape is the one users receive (nocopy_port:async_call/5).
 *
 * Binaries: a result buffer, a slice of an input and a kept binary all go as
 * ERL_DRV_BINARY, so the runtime references the driver binary (no copy above
 * 64 bytes). The runtime takes its own reference; the call drops the ones it
 * owns after sending, delivered or not (nocopy__drv_release_owned). */
#include <string.h>

#include "nc_backend.h"

void nocopy__drv_release_owned(nc_drv_call *call)
{
    for (nc_drv_owned *o = call->owned; o; o = o->next)
        driver_free_binary(o->bin);
    call->owned = NULL;
}

/* ---- the reply -------------------------------------------------------------- */

static ErlDrvTermData *put_int(ErlDrvTermData *s, const ErlDrvSInt64 *v)
{
    if (*v >= NC_DRV_SMALL_MIN && *v <= NC_DRV_SMALL_MAX) {
        *s++ = ERL_DRV_INT;
        *s++ = (ErlDrvTermData)(ErlDrvSInt)*v;
    } else {
        *s++ = ERL_DRV_INT64;
        *s++ = (ErlDrvTermData)v;
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

/* {nocopy_error, Tag, {'$nocopy_error', Reason, {Where, Text}}} for an
 * integer tag, {nocopy_reply, Tag, ...} for any other; Where an atom, or the
 * argument number when `where` is 0. */
static int send_error_cause(nc_drv_port *dp, ErlDrvTermData to, const nocopy__wreq *req,
                            ErlDrvSInt64 *tag_int, int status, ErlDrvTermData where,
                            unsigned argno, const char *text)
{
    ErlDrvTermData spec[32], *s = spec;
    *s++ = ERL_DRV_ATOM;
    *s++ = req->tag_kind == NC_WTAG_INT ? nocopy__drv.am_error_reply : nocopy__drv.am_reply;
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

/* {nocopy_reply, Tag, {ok, Value}} around the result's range, in place: the
 * head goes in the entries before it (there are NC_DRV_SPEC_HEAD at least),
 * the tail over whatever was made after it. */
/* A range of this call's spec, copied to s; NULL if it is not one (a value
 * of another call: a bug in the wrapped function, refused rather than read). */
static ErlDrvTermData *put_range(ErlDrvTermData *s, const nc_drv_call *call, nocopy_value v)
{
    size_t start = nc_drv_range_start(v), len = nc_drv_range_len(v);
    if (start < NC_DRV_SPEC_HEAD || start > call->spec_used || len > call->spec_used - start)
        return NULL;
    memcpy(s, call->spec + start, len * sizeof *s);
    return s + len;
}

static ErlDrvTermData *put_agg_tail(ErlDrvTermData *s, const nc_drv_agg *g)
{
    if (g->tuple) {
        *s++ = ERL_DRV_TUPLE;
        *s++ = (ErlDrvTermData)g->n;
    } else {
        *s++ = ERL_DRV_NIL;
        if (g->n) {
            *s++ = ERL_DRV_LIST;
            *s++ = (ErlDrvTermData)(g->n + 1);
        }
    }
    return s;
}

typedef struct emit_frame {
    const nc_drv_agg *g;
    size_t next;
} emit_frame;

/* An nc_drv_agg in postfix order, without recursion (results may nest
 * deeply): ranges are copied whole, and only aggregates take a frame (at
 * most root->depth of them). NULL: an element is no value of this call. */
static ErlDrvTermData *put_agg(ErlDrvTermData *s, const nc_drv_call *call,
                               const nc_drv_agg *root, emit_frame *stack)
{
    size_t sp = 0;
    stack[sp++] = (emit_frame){root, 0};
    while (sp > 0) {
        emit_frame *f = &stack[sp - 1];
        const nc_drv_agg *g = f->g;
        size_t i = f->next;
        while (i < g->n && nc_drv_is_range(g->kids[i]))
            if (!(s = put_range(s, call, g->kids[i++])))
                return NULL;
        if (i < g->n) {
            f->next = i + 1;
            stack[sp++] = (emit_frame){(const nc_drv_agg *)g->kids[i], 0};
            continue;
        }
        s = put_agg_tail(s, g);
        sp--;
    }
    return s;
}

/* {nocopy_reply, Tag, Value} for an integer tag, {nocopy_reply, Tag, {ok,
 * Value}} for a reference. A range is wrapped in place: the head goes in the
 * entries before it (there are NC_DRV_SPEC_HEAD at least), the tail over
 * whatever was made after it. An nc_drv_agg is written out into a spec of
 * its own. */
static int send_result(nc_drv_call *call)
{
    nocopy_call *c = &call->base;
    nocopy_value v = c->result;
    int wrapped = call->req.tag_kind != NC_WTAG_INT;
    /* The reply atom, the tag (put_tag: 2 entries, or 3 for a reference) and
     * for a wrapped value the ok atom; the tail: the tuples' entries. */
    size_t nhead = 2 + (call->req.tag_kind == NC_WTAG_REF ? 3 : 2) + (wrapped ? 2 : 0);
    size_t ntail = wrapped ? 4 : 2;
    size_t len = nc_drv_val_spec(v);
    ErlDrvTermData *spec, *s;
    if (nc_drv_is_range(v)) {
        size_t start = nc_drv_range_start(v);
        if (start < NC_DRV_SPEC_HEAD || start > call->spec_used || len > call->spec_used - start)
            return -1;                 /* not a value of this call */
        call->spec_used = start + len;
        if (!(s = nc_drv_spec_room(c, ntail)))
            return -2;
        spec = call->spec + start - nhead;
    } else {
        const nc_drv_agg *g = (const nc_drv_agg *)v;
        emit_frame small[16], *stack = small;
        if (g->depth > 16 && !(stack = nocopy__arena_alloc(&c->arena, g->depth * sizeof *stack)))
            return -2;
        if (!(spec = nocopy__arena_alloc(&c->arena, (nhead + len + ntail) * sizeof *spec)))
            return -2;
        if (!(s = put_agg(spec + nhead, call, g, stack)))
            return -1;
    }
    if (wrapped) {
        *s++ = ERL_DRV_TUPLE;
        *s++ = 2;
    }
    s[0] = ERL_DRV_TUPLE;
    s[1] = 3;
    ErlDrvTermData *h = spec;
    *h++ = ERL_DRV_ATOM;
    *h++ = nocopy__drv.am_reply;
    h = put_tag(h, &call->req, &call->tag_int);
    if (wrapped) {
        *h++ = ERL_DRV_ATOM;
        *h++ = nocopy__drv.builtin[-NOCOPY_ATOM_OK - 1];
    }
    return erl_drv_send_term(call->dp->port_term, call->caller, spec,
                             (int)(nhead + len + ntail));
}

/* The common reply, in line: a sync call's (an integer tag) whose result is
 * one range, {nocopy_reply, Tag, Value} around it in place, the tag a small
 * integer. -3: not that case (send_result() does the rest). */
static inline int send_sync_range(nc_drv_call *call)
{
    nocopy_value v = call->base.result;
    ErlDrvSInt64 tag = call->req.tag_int;
    if (!nc_drv_is_range(v) || call->req.tag_kind != NC_WTAG_INT || tag < NC_DRV_SMALL_MIN ||
        tag > NC_DRV_SMALL_MAX)
        return -3;
    size_t start = nc_drv_range_start(v), len = nc_drv_range_len(v), used = call->spec_used;
    if (start < NC_DRV_SPEC_HEAD || start > used || len > used - start ||
        call->spec_cap - (start + len) < 2)
        return -3;
    ErlDrvTermData *spec = call->spec + start - 4, *tail = call->spec + start + len;
    spec[0] = ERL_DRV_ATOM;
    spec[1] = nocopy__drv.am_reply;
    spec[2] = ERL_DRV_INT;
    spec[3] = (ErlDrvTermData)(ErlDrvSInt)tag;
    tail[0] = ERL_DRV_TUPLE;
    tail[1] = 3;
    call->spec_used = start + len + 2;
    return erl_drv_send_term(call->dp->port_term, call->caller, spec, (int)(len + 6));
}

int nocopy__drv_send_outcome(nc_drv_call *call, int status)
{
    nocopy_call *c = &call->base;
    int r;
    if (status == NOCOPY_OK) {
        r = send_sync_range(call);
        if (r == -3)
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
