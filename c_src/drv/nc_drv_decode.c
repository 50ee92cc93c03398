/* nc_drv_decode.c: a request's arguments decoded into its call, and its
 * handles looked up in the port's table.
 *
 * Where: an inline call (and a NOCOPY_DIRTY_ABOVE one, which must be measured
 * decoded) is decoded by outputv on the scheduler (nc_drv_entry.c). A call
 * that surely goes to a worker (NOCOPY_DIRTY_CPU, NOCOPY_DIRTY_IO, or any
 * call of a port opened with {inline, false}) is queued undecoded, its
 * request's binaries KEPT and its entries copied, and the worker that runs
 * it decodes it here. Why: outputv runs under the port lock, so every
 * caller of the port waits for it; the hand-written threaded driver's outputv
 * only keeps the binaries and queues, and with the decode (the call's nodes,
 * a 3 KiB call written on one core and read on another) nocopy's outputv
 * held the lock several times longer, which under 64 callers of one port
 * cost a third of the throughput. */
#include "nc_drv.h"

void *nocopy__drv_dec_alloc(void *ctx, size_t size)
{
    nc_drv_dec_ctx *d = ctx;
    nc_drv_call *call = d->call;
    size_t need = (size + NC_ALIGN - 1) & ~(size_t)(NC_ALIGN - 1);
    call->dec_bytes += size;
    if (size - 1 < NC_ARENA_INLINE && need <= NC_ARENA_INLINE - call->dec.inline_used) {
        void *p = call->dec.inline_buf + call->dec.inline_used;
        call->dec.inline_used += need;
        return p;
    }
    if (d->spill && size - 1 < NC_DRV_DEC_SPILL && need <= NC_DRV_DEC_SPILL - d->spill_used) {
        void *p = d->spill + d->spill_used;
        d->spill_used += need;
        return p;
    }
    return nocopy__arena_alloc(&call->dec, size);
}

void nocopy__drv_resolve_handles(nc_drv_call *call, int alone)
{
    nc_drv_port *dp = call->dp;
    for (nocopy__wire_node *n = call->req.handles; n; n = n->v.handle.next)
        n->v.handle.obj = nocopy__drv_htable_lookup(&dp->handles, n->v.handle.id, alone);
}

int nocopy__drv_call_decode(nc_drv_call *call)
{
    /* The request is read again from its start into a request of this frame:
     * call->req's tag is what closing the port answers with, from another
     * thread, while this runs, so it is not written again. */
    nocopy__wreader rd;
    nocopy__wreq req;
    nc_drv_dec_ctx dc = {call, NULL, 0};
    int st = nocopy__wire_begin_sized(&rd, call->segs, call->nsegs, call->total, &req);
    if (st == NOCOPY_OK)
        st = nocopy__wire_read_tag(&rd, nocopy__drv_dec_alloc, &dc, &req);
    if (st == NOCOPY_OK)
        st = nocopy__wire_read_args(&rd, nocopy__drv_dec_alloc, &dc, &req);
    call->segs = NULL;
    if (st != NOCOPY_OK)
        return nocopy__fail(&call->base, st, 0, "%s",
                            st == NOCOPY_ENOMEM ? "out of memory decoding the request"
                                                : req.err);
    call->req.argv = req.argv;
    call->req.binary_bytes = req.binary_bytes;
    call->req.nodes = req.nodes;
    call->req.tree_bytes = req.tree_bytes;
    call->req.stack_bytes = req.stack_bytes;
    call->req.handles = req.handles;
    /* Never alone: this thread is a worker (its call keeps `outstanding` up,
     * so the scheduler takes the table's lock too meanwhile). */
    nocopy__drv_resolve_handles(call, 0);
    call->base.argv = req.argv;
    return NOCOPY_OK;
}
