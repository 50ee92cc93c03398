/* nc_iso_host_blocks.c: the VM's accounting of region blocks.
 *
 * Input blocks. The VM allocates them in the input region (its allocator's
 * bookkeeping is in this process's heap) for binaries placed there
 * (nocopy_iso:binary/2) and for copies of a request's ordinary pieces. Each
 * is a resource: an Erlang binary over it holds one reference, a call that
 * lends it to the child another, and each keep the child announced
 * (KEEP_IN) another. The incarnation's table lists them sorted by offset, so
 * that a request piece found inside the region maps to its block, and a
 * block the child names is checked before it is used: the child may name
 * only a block that is referenced for it (lent to a call in flight, or kept
 * by it), so a forged or stale offset can neither free a block nor touch one
 * whose destructor is running. The destructor takes the block out of the
 * table and gives it back to the allocator.
 *
 * Output handovers. The child allocates result blocks in the output region
 * and counts one reference per handover; here each handover is a resource
 * whose destructor sends RELEASE_OUT (nc_iso_host_inc.c). The VM checks only
 * that the bytes lie inside the region: they are the child's, and the
 * mapping is read-only here. */
#include <string.h>

#include "nc_iso_host.h"

/* The index of the first block whose off is > off (with inc->mu held). */
static size_t upper(nc_host_inc *inc, uint64_t off)
{
    size_t lo = 0, hi = inc->nblocks;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (inc->blocks[mid]->off <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

nc_host_block *nocopy__host_block_new(nc_host_inc *inc, size_t len)
{
    size_t off;
    if (nocopy__iso_alloc_take(&inc->in_alloc, len, &off) != NOCOPY_OK)
        return NULL;
    nc_host_block *b = enif_alloc_resource(nocopy__host_block_rt, sizeof *b);
    if (!b) {
        nocopy__iso_alloc_give(&inc->in_alloc, off);
        return NULL;
    }
    b->inc = NULL;                     /* the destructor frees nothing yet */
    b->off = off;
    b->len = nocopy__iso_alloc_block_len(&inc->in_alloc, off);
    b->lent = 0;
    b->child_keeps = 0;
    enif_mutex_lock(inc->mu);
    if (inc->nblocks == inc->blocks_cap) {
        size_t cap = inc->blocks_cap ? inc->blocks_cap * 2 : 64;
        nc_host_block **nb = enif_realloc(inc->blocks, cap * sizeof *nb);
        if (!nb) {
            enif_mutex_unlock(inc->mu);
            nocopy__iso_alloc_give(&inc->in_alloc, off);
            enif_release_resource(b);
            return NULL;
        }
        inc->blocks = nb;
        inc->blocks_cap = cap;
    }
    size_t i = upper(inc, off);
    memmove(&inc->blocks[i + 1], &inc->blocks[i], (inc->nblocks - i) * sizeof *inc->blocks);
    inc->blocks[i] = b;
    inc->nblocks++;
    nocopy__host_inc_ref(inc);
    b->inc = inc;
    enif_mutex_unlock(inc->mu);
    return b;
}

nc_host_block *nocopy__host_block_lend(nc_host_inc *inc, const uint8_t *p, size_t len)
{
    const uint8_t *base = inc->in.base;
    if (p < base || (size_t)(p - base) > inc->in.size || len > inc->in.size - (size_t)(p - base))
        return NULL;
    uint64_t off = (uint64_t)(p - base);
    nc_host_block *b = NULL;
    enif_mutex_lock(inc->mu);
    size_t i = upper(inc, off);
    if (i > 0) {
        nc_host_block *c = inc->blocks[i - 1];
        /* The piece is a live Erlang binary, so its block is referenced. */
        if (off - c->off <= c->len && len <= c->len - (off - c->off)) {
            b = c;
            b->lent++;
            enif_keep_resource(b);
        }
    }
    enif_mutex_unlock(inc->mu);
    return b;
}

void nocopy__host_block_return(nc_host_block *b)
{
    enif_mutex_lock(b->inc->mu);
    b->lent--;
    enif_mutex_unlock(b->inc->mu);
    enif_release_resource(b);
}

nc_host_block *nocopy__host_block_named(nc_host_inc *inc, uint64_t off)
{
    size_t i = upper(inc, off);
    if (i == 0)
        return NULL;
    nc_host_block *b = inc->blocks[i - 1];
    if (b->off != off || (b->lent == 0 && b->child_keeps == 0))
        return NULL;
    return b;
}

int nocopy__host_block_child_keep(nc_host_inc *inc, uint64_t off)
{
    enif_mutex_lock(inc->mu);
    nc_host_block *b = nocopy__host_block_named(inc, off);
    if (b) {
        b->child_keeps++;
        enif_keep_resource(b);
    }
    enif_mutex_unlock(inc->mu);
    return b ? 0 : -1;
}

int nocopy__host_block_child_release(nc_host_inc *inc, uint64_t off)
{
    enif_mutex_lock(inc->mu);
    nc_host_block *b = nocopy__host_block_named(inc, off);
    if (b && b->child_keeps > 0)
        b->child_keeps--;
    else
        b = NULL;
    enif_mutex_unlock(inc->mu);
    if (!b)
        return -1;
    enif_release_resource(b);          /* may run the destructor: not under mu */
    return 0;
}

void nocopy__host_blocks_drop_child_keeps(nc_host_inc *inc)
{
    for (;;) {
        nc_host_block *b = NULL;
        enif_mutex_lock(inc->mu);
        for (size_t i = 0; i < inc->nblocks && !b; i++)
            if (inc->blocks[i]->child_keeps > 0) {
                b = inc->blocks[i];
                b->child_keeps--;
            }
        enif_mutex_unlock(inc->mu);
        if (!b)
            return;
        enif_release_resource(b);
    }
}

void nocopy__host_block_dtor(ErlNifEnv *env, void *obj)
{
    (void)env;
    nc_host_block *b = obj;
    nc_host_inc *inc = b->inc;
    if (!inc)
        return;
    enif_mutex_lock(inc->mu);
    size_t i = upper(inc, b->off);
    if (i > 0 && inc->blocks[i - 1] == b) {
        memmove(&inc->blocks[i - 1], &inc->blocks[i], (inc->nblocks - i) * sizeof *inc->blocks);
        inc->nblocks--;
    }
    enif_mutex_unlock(inc->mu);
    nocopy__iso_alloc_give(&inc->in_alloc, b->off);
    nocopy__host_inc_unref(inc);
}

ERL_NIF_TERM nocopy__host_out_binary(ErlNifEnv *env, nc_host_inc *inc, uint64_t block,
                                     uint64_t off, uint64_t len)
{
    uint64_t size = inc->out.size;
    if (block > size || off > size - block || len > size - block - off)
        return 0;
    nc_host_out *o = enif_alloc_resource(nocopy__host_out_rt, sizeof *o);
    if (!o)
        return 0;
    nocopy__host_inc_ref(inc);
    o->inc = inc;
    o->block = block;
    atomic_fetch_add(&inc->outs, 1);
    ERL_NIF_TERM t = enif_make_resource_binary(env, o, inc->out.base + block + off, len);
    enif_release_resource(o);          /* the binary holds it now */
    return t;
}

void nocopy__host_out_dtor(ErlNifEnv *env, void *obj)
{
    (void)env;
    nc_host_out *o = obj;
    atomic_fetch_sub(&o->inc->outs, 1);
    nocopy__host_inc_release_out(o->inc, o->block);
    nocopy__host_inc_unref(o->inc);
}
