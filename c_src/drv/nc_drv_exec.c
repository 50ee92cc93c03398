/* nc_drv_exec.c: running one decoded call, on whichever thread holds it (the
 * scheduler in outputv for an inline call, a port's worker for a queued one),
 * and releasing, exactly once, everything the call holds: result binaries,
 * handle borrows and the handles it looked up, the request's kept binaries,
 * its decoded request and, for a call on the heap, the call itself (given
 * back to the port's spares, nc_drv_spare.c). */
#include "nc_backend.h"

/* Ends the handle borrows (a handle closed during the call is destroyed here)
 * and drops the references taken at decode time. Before the reply goes out:
 * the reply refers to no handle's memory (a result handle is an id, a copied
 * byte lives in the call's arena, a slice in a request binary). */
static void end_handles_now(nc_drv_call *call)
{
    if (call->base.borrow1 || call->base.borrows)
        nocopy__call_end_borrows(&call->base);
    if (call->pinned) {
        /* Peeked, not kept (resolve_handles): the table lets go instead. */
        call->pinned = 0;
        call->dp->handles.pinned = 0;
        call->req.handles = NULL;
        return;
    }
    for (nocopy__wire_node *n = call->req.handles; n; n = n->v.handle.next)
        if (n->v.handle.obj) {
            if (!nocopy__drv_is_tombstone(n->v.handle.obj))
                nocopy__be_handle_release(n->v.handle.obj);
            n->v.handle.obj = NULL;
        }
    call->req.handles = NULL;
}

/* Once: after it, nothing is left to end (the run's end_handles makes the
 * release's a test). */
static inline void end_handles(nc_drv_call *call)
{
    if (call->base.borrow1 || call->base.borrows || call->pinned || call->req.handles)
        end_handles_now(call);
}

void nocopy__drv_call_release(nc_drv_call *call, int committed)
{
    nocopy__drv_release_owned(call);
    if (!committed)
        for (nc_drv_made *m = call->made; m; m = m->next)
            nocopy__drv_htable_remove(&call->dp->handles, m->id, m->h);
    call->made = NULL;
    /* Before the references taken at decode time go, when not done yet. */
    end_handles(call);
    nocopy__call_finish(&call->base);
    for (size_t i = 0; i < call->nkeeps; i++)
        driver_free_binary(call->keeps[i]);
    nocopy__arena_free(&call->dec);
    if (call->heap)
        nocopy__drv_call_free(call);
}

int nocopy__drv_call_run(nc_drv_call *call)
{
    int st = nocopy__call_run(&call->base);
    end_handles(call);
    return st;
}

void nocopy__drv_call_execute(nc_drv_call *call)
{
    int st = nocopy__drv_call_run(call);
    int delivered = nocopy__drv_send_outcome(call, st);
    /* A result that reached nobody (the caller died) gives its handles back,
     * as a NIF term that is never kept would. */
    nocopy__drv_call_release(call, st == NOCOPY_OK && delivered);
}

void nocopy__drv_call_discard(nc_drv_call *call)
{
    /* Sent from the port's stop, which the runtime still delivers: the
     * caller waits for this reply (nocopy_port:wait/4). */
    nocopy__drv_send_error(call->dp, call->caller, &call->req, &call->tag_int,
                           NOCOPY_ECLOSED, 0, "the port closed before the call ran");
    nocopy__drv_call_release(call, 0);
}
