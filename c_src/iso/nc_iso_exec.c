/* nc_iso_exec.c: one call in the child: the CALL's segments rebuilt over the
 * input region and the message, the request decoded by the shared decoder
 * (wire/), the function run, the outcome encoded into a REPLY
 * (iso_shared/nc_iso_msg.h states the format) and sent, and everything the
 * call holds released, exactly once.
 *
 * The child trusts the VM, but checks every segment against the region and
 * the message anyway: a bad CALL gets an eproto reply, never a wild read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nc_backend.h"
#include "nc_iso_chan.h"

static void *dec_alloc(void *ctx, size_t size)
{
    nc_iso_call *call = ctx;
    return nocopy__arena_alloc(&call->dec, size);
}

/* ---- the reply ------------------------------------------------------------------- */

/* A growing buffer, up to NC_ISO_MAX_REPLY bytes; `full` once past it or
 * out of memory. It starts in the thread's reply_first (no allocation for
 * a small reply) and moves to the heap when that is too small: release it
 * with writer_free. One writer per thread at a time (a call's replies are
 * written one after the other). */
typedef struct writer {
    uint8_t *p;
    size_t n, cap;
    int full;
} writer;

#define REPLY_FIRST 4096
static _Thread_local _Alignas(8) uint8_t reply_first[REPLY_FIRST];

static void writer_free(writer *w)
{
    if (w->p != reply_first)
        free(w->p);
    w->p = NULL;
}

static void put(writer *w, const void *data, size_t len)
{
    if (w->full)
        return;
    if (len > w->cap - w->n) {
        size_t cap = w->cap;
        while (len > cap - w->n && cap <= NC_ISO_MAX_REPLY)
            cap *= 2;
        uint8_t *np = NULL;
        if (len <= cap - w->n) {
            if (w->p == reply_first) {
                if ((np = malloc(cap)) != NULL)
                    memcpy(np, w->p, w->n);
            } else {
                np = realloc(w->p, cap);
            }
        }
        if (!np) {
            w->full = 1;
            return;
        }
        w->p = np;
        w->cap = cap;
    }
    memcpy(w->p + w->n, data, len);
    w->n += len;
}

static void put_u8(writer *w, uint8_t v) { put(w, &v, 1); }
static void put_u32(writer *w, uint32_t v) { put(w, &v, 4); }
static void put_u64(writer *w, uint64_t v) { put(w, &v, 8); }

static writer reply_start(nc_iso_call *call, uint8_t outcome)
{
    writer w = {.p = reply_first, .n = 0, .cap = REPLY_FIRST, .full = 0};
    nocopy__iso_hdr h = {.kind = NC_ISO_MSG_REPLY, .seq = 0, .id = call->id};
    put(&w, &h, sizeof h);
    put_u8(&w, outcome);
    return w;
}

static void release_handles(nc_iso_call *call);

/* Sends a REPLY message: into the reply slot the VM armed for the call when
 * it is one and the thread sent nothing else during the call (nc_iso.h,
 * nocopy__iso_sent_here), else on the channel. */
_Thread_local int nocopy__iso_slot_hit;
_Thread_local int nocopy__iso_poll_role;
#ifdef NC_ISO_STAMPS
_Thread_local uint64_t nocopy__iso_stamp[NC_ISO_STAMP_CHILD_N];

/* The stamps into the slot armed for the call, before the reply is. */
static void stamp_slot(nocopy__iso_slot *slots, uint64_t id)
{
    NC_ISO_CHILD_STAMP(NC_ISO_STAMP_REPLY);
    for (size_t i = 0; i < NC_ISO_SLOTS; i++)
        if (atomic_load(&slots[i].state) == (id << 2 | NC_ISO_SLOT_WAITING))
            memcpy(slots[i].pad, nocopy__iso_stamp, sizeof nocopy__iso_stamp);
    nocopy__iso_stamp[NC_ISO_STAMP_SEEN] = 0;   /* the next call may come on the channel */
}
#else
#define stamp_slot(slots, id) ((void)0)
#endif

static int deliver(const nc_iso_call *call, const uint8_t *msg, size_t len)
{
    nocopy__iso_slot *slots = (nocopy__iso_slot *)nocopy__iso.slots.base;
    nocopy__iso_slot_hit = 0;
    if (slots) {
        if (nocopy__iso_sent_here == call->sent_at && len <= NC_ISO_SLOT_MSG_MAX) {
            nocopy__iso_slot *cs = &slots[NC_ISO_CALL_SLOT];
            if (!nocopy__iso_poll_role && nocopy__iso.spin_ns)
                nocopy__iso_poll_role = nocopy__iso_call_poll_begin(cs) == 0;
            stamp_slot(slots, call->id);
            int d = nocopy__iso_slot_deliver(slots, NC_ISO_SLOTS, call->id, msg, len);
            /* No slot armed: the VM is not waiting on slots, no poller
             * needed (unless a CALL is being posted to it already). */
            if (d == -1 && nocopy__iso_poll_role && nocopy__iso_call_poll_end(cs) == 0)
                nocopy__iso_poll_role = 0;
            if (d == 0) {
                nocopy__iso_slot_hit = NC_ISO_HIT_TAKEN;
                /* The VM waits on this core: it takes the reply now, this
                 * thread's clean-up after (nc_iso_slot.h). */
                if (atomic_load_explicit(&cs->vm_cpu, memory_order_relaxed) == sched_getcpu())
                    sched_yield();
                return NOCOPY_OK;
            }
            if (d == -2)
                nocopy__iso_slot_hit = NC_ISO_HIT_GIVEN_UP;
        } else {
            nocopy__iso_slot_decline(slots, NC_ISO_SLOTS, call->id);
        }
    }
    return nocopy__iso_chan_send(nocopy__iso.chan, msg, len);
}

/* Ends the call's hold on the handles it was given (the core's borrows, the
 * lookups' references), once, before the reply goes out: a caller who has
 * the reply finds a handle closed during the call already destroyed
 * (nocopy_ffi:release/1, then a count of live handles), as on the other
 * backends. The reply is encoded by then; the result's nodes, in the
 * core's arena, live on until the call is freed. */
static void end_handles(nc_iso_call *call)
{
    if (call->handles_ended)
        return;
    call->handles_ended = 1;
    if (call->ran)
        nocopy__call_end_borrows(&call->base);
    release_handles(call);
}

/* Sends an error reply; the text is cut to what the core allows. */
static void send_error(nc_iso_call *call, int status, unsigned argno, const char *text)
{
    writer w = reply_start(call, NC_ISO_OUT_ERROR);
    size_t len = strnlen(text, NC_ERR_TEXT_MAX);
    put_u32(&w, nocopy__reason_index(status));
    put_u32(&w, nocopy__cause_argno(status, argno));
    uint16_t l16 = (uint16_t)len;
    put(&w, &l16, 2);
    put(&w, text, len);
    end_handles(call);
    if (!w.full)
        (void)deliver(call, w.p, w.n);
    writer_free(&w);
}

/* The output blocks a reply hands over, so that a reply never sent can
 * give their references back. */
typedef struct handed {
    uint64_t *off;
    size_t n, cap;
} handed;

static int hand(handed *h, uint64_t off)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 16;
        uint64_t *np = realloc(h->off, cap * sizeof *np);
        if (!np)
            return -1;
        h->off = np;
        h->cap = cap;
    }
    nocopy__iso_out_ref(off);
    h->off[h->n++] = off;
    return 0;
}

static void unhand(handed *h)
{
    for (size_t i = 0; i < h->n; i++)
        nocopy__iso_out_unref(h->off[i]);
    free(h->off);
    h->off = NULL;
    h->n = h->cap = 0;
}

/* Bytes of a region block, as a binary: inline when small (the runtime would
 * copy them anyway), otherwise by reference. An output block handed over
 * gains a reference. */
static void put_bin(writer *w, const nc_iso_node *n, handed *hd)
{
    const nocopy__iso_region *r = n->v.bin.region == NC_ISO_REGION_INPUT ? &nocopy__iso.in
                                                                           : &nocopy__iso.out;
    if (n->v.bin.len <= NC_ISO_INLINE_RESULT) {
        put_u8(w, 'b');
        put_u32(w, (uint32_t)n->v.bin.len);
        put(w, r->base + n->v.bin.block + n->v.bin.off, n->v.bin.len);
        return;
    }
    put_u8(w, 'B');
    put_u8(w, (uint8_t)n->v.bin.region);
    put_u64(w, n->v.bin.block);
    put_u64(w, n->v.bin.off);
    put_u64(w, n->v.bin.len);
    if (n->v.bin.region == NC_ISO_REGION_OUTPUT && !w->full && hand(hd, n->v.bin.block) != 0)
        w->full = 1;
}

/* The result tree in prefix order, walked with an explicit stack (results
 * may nest deeply). */
static int put_value(writer *w, const nc_iso_node *root, handed *hd)
{
    const nc_iso_node *first[64];      /* enough for most results: no allocation */
    size_t cap = sizeof first / sizeof first[0], sp = 0;
    const nc_iso_node **stack = first;
    stack[sp++] = root;
    while (sp > 0 && !w->full) {
        const nc_iso_node *n = stack[--sp];
        switch (n->kind) {
        case NC_IR_INT: put_u8(w, 'i'); put_u64(w, (uint64_t)n->v.i); break;
        case NC_IR_UINT: put_u8(w, 'u'); put_u64(w, n->v.u); break;
        case NC_IR_FLOAT: put_u8(w, 'f'); put(w, &n->v.f, 8); break;
        case NC_IR_ATOM: put_u8(w, 'a'); put(w, &n->v.atom, 4); break;
        case NC_IR_HANDLE: put_u8(w, 'h'); put_u64(w, n->v.handle); break;
        case NC_IR_COPY:
            put_u8(w, 'b');
            put_u32(w, (uint32_t)n->v.copy.len);
            put(w, n->v.copy.data, n->v.copy.len);
            break;
        case NC_IR_BIN: put_bin(w, n, hd); break;
        case NC_IR_TUPLE:
        case NC_IR_LIST:
            put_u8(w, n->kind == NC_IR_TUPLE ? 'T' : 'L');
            if (n->v.agg.n > UINT32_MAX) {
                w->full = 1;
                break;
            }
            put_u32(w, (uint32_t)n->v.agg.n);
            if (w->full || n->v.agg.n > NC_ISO_MAX_REPLY) {   /* each kid takes a byte */
                w->full = 1;
                break;
            }
            if (sp + n->v.agg.n > cap) {
                while (sp + n->v.agg.n > cap)
                    cap *= 2;
                const nc_iso_node **ns = stack == first ? malloc(cap * sizeof *ns)
                                                        : realloc(stack, cap * sizeof *ns);
                if (!ns) {
                    if (stack != first)
                        free(stack);
                    return -1;
                }
                if (stack == first)
                    memcpy(ns, first, sp * sizeof *ns);
                stack = ns;
            }
            for (size_t i = n->v.agg.n; i-- > 0;)
                stack[sp++] = n->v.agg.kids[i];
            break;
        }
    }
    if (stack != first)
        free(stack);
    if (sp > 0)
        w->full = 1;
    return 0;
}

/* A reply too long for a message goes into an output block (handed over:
 * the VM releases it once decoded); the message names it. */
static int send_spilled(const nc_iso_call *call, const writer *w, handed *hd)
{
    size_t hdr = sizeof(nocopy__iso_hdr);
    size_t len = w->n - hdr;           /* the body: outcome and term */
    uint64_t off;
    if (nocopy__iso_out_take(len, &off) != NOCOPY_OK)
        return -1;
    memcpy(nocopy__iso.out.base + off, w->p + hdr, len);
    if (hand(hd, off) != 0) {
        nocopy__iso_out_unref(off);
        return -1;
    }
    nocopy__iso_out_unref(off);        /* the handover's reference remains */
    uint8_t msg[sizeof(nocopy__iso_hdr) + 17];
    uint64_t l64 = len;
    memcpy(msg, w->p, hdr);
    msg[hdr] = NC_ISO_OUT_SPILLED;
    memcpy(msg + hdr + 1, &off, 8);
    memcpy(msg + hdr + 9, &l64, 8);
    return deliver(call, msg, sizeof msg) == NOCOPY_OK ? 0 : -2;
}

/* Sends the result; 0 when it went out, -1 when it is too large. */
static int send_result(nc_iso_call *call)
{
    writer w = reply_start(call, NC_ISO_OUT_OK);
    handed hd = {NULL, 0, 0};
    int st = -1;
    if (!w.full && put_value(&w, (const nc_iso_node *)call->base.result, &hd) == 0 && !w.full) {
        end_handles(call);             /* the result is in w now */
        st = w.n <= NC_ISO_MSG_MAX
                 ? (deliver(call, w.p, w.n) == NOCOPY_OK ? 0 : -2)
                 : send_spilled(call, &w, &hd);
    }
    if (st == 0) {
        free(hd.off);                  /* the references are the VM's now */
    } else {
        unhand(&hd);
    }
    writer_free(&w);
    return st;
}

/* ---- one call ---------------------------------------------------------------------- */

/* Where the CALL's segment table starts and how many it has. 0, or -1 when
 * the message is too short for them. */
static int seg_table(const nc_iso_call *call, size_t *at, nocopy__iso_call_body *b)
{
    *at = sizeof(nocopy__iso_hdr);
    if (call->msg_len < *at + sizeof *b)
        return -1;
    memcpy(b, call->msg + *at, sizeof *b);
    *at += sizeof *b;
    if (b->nsegs > NC_ISO_MAX_SEGS ||
        call->msg_len - *at < (size_t)b->nsegs * sizeof(nocopy__iso_seg) + b->inline_bytes)
        return -1;
    return 0;
}

void nocopy__iso_call_hold_outputs(nc_iso_call *call)
{
    size_t at;
    nocopy__iso_call_body b;
    if (seg_table(call, &at, &b) != 0)
        return;
    for (uint32_t i = 0; i < b.nsegs; i++) {
        nocopy__iso_seg g;
        uint8_t *p = call->msg + at + (size_t)i * sizeof g;
        memcpy(&g, p, sizeof g);
        if (g.where != NC_ISO_SEG_OUTPUT)
            continue;
        if (nocopy__iso_out_ref_range(g.off, g.len, &g.block) != 0)
            g.where = NC_ISO_SEG_BAD;
        memcpy(p, &g, sizeof g);
    }
}

static void release_outputs(nc_iso_call *call)
{
    size_t at;
    nocopy__iso_call_body b;
    if (seg_table(call, &at, &b) != 0)
        return;
    for (uint32_t i = 0; i < b.nsegs; i++) {
        nocopy__iso_seg g;
        memcpy(&g, call->msg + at + (size_t)i * sizeof g, sizeof g);
        if (g.where == NC_ISO_SEG_OUTPUT)
            nocopy__iso_out_unref(g.block);
    }
}

/* The segments of the CALL as the decoder's, each with its block. 0, or -1
 * with the reply sent. */
static int rebuild_segments(nc_iso_call *call, nocopy__wire_segment **segs, size_t *nsegs)
{
    const uint8_t *m = call->msg;
    size_t at;
    nocopy__iso_call_body b;
    if (seg_table(call, &at, &b) != 0)
        goto bad;
    const uint8_t *inl = m + at + (size_t)b.nsegs * sizeof(nocopy__iso_seg);
    nocopy__wire_segment *s = dec_alloc(call, (b.nsegs ? b.nsegs : 1) * sizeof *s);
    nc_iso_segref *refs = dec_alloc(call, (b.nsegs ? b.nsegs : 1) * sizeof *refs);
    if (!s || !refs) {
        send_error(call, NOCOPY_ENOMEM, 0, "out of memory reading the request");
        return -1;
    }
    for (uint32_t i = 0; i < b.nsegs; i++) {
        nocopy__iso_seg g;
        memcpy(&g, m + at + (size_t)i * sizeof g, sizeof g);
        if (g.where == NC_ISO_SEG_INLINE) {
            if (g.off > b.inline_bytes || g.len > b.inline_bytes - g.off)
                goto bad;
            s[i].base = inl + g.off;
        } else if (g.where == NC_ISO_SEG_INPUT) {
            size_t size = nocopy__iso.in.size;
            if (g.off > size || g.len > size - g.off || g.block > g.off)
                goto bad;
            s[i].base = nocopy__iso.in.base + g.off;
        } else if (g.where == NC_ISO_SEG_OUTPUT) {
            s[i].base = nocopy__iso.out.base + g.off;   /* held: hold_outputs */
        } else {
            goto bad;
        }
        s[i].len = (size_t)g.len;
        refs[i].region = (int)g.where;
        refs[i].block = g.block;
        s[i].binref = &refs[i];
    }
    *segs = s;
    *nsegs = b.nsegs;
    return 0;
bad:
    send_error(call, NOCOPY_EPROTO, 0, "malformed CALL message");
    return -1;
}

static const nocopy_func *checked_func(nc_iso_call *call)
{
    const nocopy_module *m = nocopy__iso.mod;
    const nocopy__wreq *req = &call->req;
    char text[NC_ERR_TEXT_MAX];
    if (req->module != nocopy__iso.fingerprint) {
        snprintf(text, sizeof text, "the request is for another module than %s", m->name);
    } else if (req->func >= m->nfuncs) {
        snprintf(text, sizeof text, "no function with index %u (the module has %zu)", req->func,
                 m->nfuncs);
    } else if (req->argc != m->funcs[req->func].arity) {
        snprintf(text, sizeof text, "%s/%u called with %u arguments", m->funcs[req->func].name,
                 m->funcs[req->func].arity, req->argc);
    } else {
        return &m->funcs[req->func];
    }
    send_error(call, NOCOPY_EPROTO, 0, text);
    return NULL;
}

static void release_handles(nc_iso_call *call)
{
    for (nocopy__wire_node *n = call->req.handles; n; n = n->v.handle.next)
        if (n->v.handle.obj && !nocopy__iso_is_tombstone(n->v.handle.obj))
            nocopy__be_handle_release(n->v.handle.obj);
}

static void release_owned(nc_iso_call *call)
{
    for (nc_iso_node *n = call->owned; n; n = n->next_owned) {
        if (n->v.bin.region == NC_ISO_REGION_OUTPUT)
            nocopy__iso_out_unref(n->v.bin.block);
        else
            nocopy__iso_in_release(n->v.bin.block);
    }
    call->owned = NULL;
}

void nocopy__iso_call_execute(nc_iso_call *call)
{
    nocopy__wire_segment *segs;
    size_t nsegs;
    nocopy__wreader rd;
    NC_ISO_CHILD_STAMP(NC_ISO_STAMP_RUN);
    call->ran = 0;
    call->handles_ended = 0;
    call->sent_at = nocopy__iso_sent_here;
    call->dec.head = NULL;
    call->dec.inline_used = 0;
    call->owned = NULL;
    call->req.handles = NULL;
    if (rebuild_segments(call, &segs, &nsegs) != 0)
        goto done;
    int st = nocopy__wire_begin(&rd, segs, nsegs, &call->req);
    if (st != NOCOPY_OK) {
        send_error(call, st, 0, call->req.err);
        goto done;
    }
    const nocopy_func *f = checked_func(call);
    if (!f)
        goto done;
    st = nocopy__wire_read_tag(&rd, dec_alloc, call, &call->req);
    if (st == NOCOPY_OK)
        st = nocopy__wire_read_args(&rd, dec_alloc, call, &call->req);
    if (st != NOCOPY_OK) {
        send_error(call, st, 0,
                   st == NOCOPY_ENOMEM ? "out of memory decoding the request" : call->req.err);
        goto done;
    }
    for (nocopy__wire_node *n = call->req.handles; n; n = n->v.handle.next)
        n->v.handle.obj = nocopy__iso_handle_lookup(n->v.handle.id);
    nocopy__call_init(&call->base, nocopy__iso.mod, f, call->req.argc, call->req.argv);
    call->ran = 1;
    st = nocopy__call_run(&call->base);
    if (st == NOCOPY_OK) {
        int r = send_result(call);
        if (r == -1)
            send_error(call, NOCOPY_ENOMEM, 0,
                       "the result does not fit in a reply of the isolated backend "
                       "(256 MiB encoded)");
    } else {
        send_error(call, call->base.err_status, call->base.err_argno, call->base.err_text);
    }
done:
    end_handles(call);                 /* if no reply went out */
    release_owned(call);
    if (call->ran)
        nocopy__call_finish(&call->base);
    release_outputs(call);
    nocopy__arena_free(&call->dec);
}
