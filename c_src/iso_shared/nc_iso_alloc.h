/* nc_iso_alloc.h: the allocator of one shared region, with its metadata in
 * the owner's private memory. Pure C, no runtime header.
 *
 * Each region has one owner that allocates and frees in it: the VM for the
 * input region, the child for the output region. The owner's allocator keeps
 * every piece of bookkeeping (free extents, live blocks) in its own heap,
 * never in the region, so nothing the other process writes into shared memory
 * can steer the owner's allocator, and a block handed to the other side is
 * known by its offset alone. A free names a block by offset and is checked:
 * an offset that is not the start of a live block is refused, never trusted
 * (the VM frees on messages from the child, which it treats as hostile).
 *
 * Blocks start on NC_ISO_ALIGN and their lengths are rounded up to it. Free
 * space is a list of extents sorted by offset, coalesced on every free; an
 * allocation takes the first extent that fits (O(extents)). A freed block
 * whose page-aligned interior is at least NC_ISO_DISCARD_MIN gives those
 * pages back through the discard callback (the region's hole punch).
 *
 * Thread-safe: one mutex per allocator (private memory: the other process
 * cannot hold it). */
#ifndef NC_ISO_ALLOC_H
#define NC_ISO_ALLOC_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* Called with a freed range (offset, length) whose pages may go back to the
 * system; ctx is the allocator's discard_ctx. */
typedef void (*nocopy__iso_discard_fn)(void *ctx, size_t off, size_t len);

typedef struct nocopy__iso_extent {
    size_t off, len;
} nocopy__iso_extent;

typedef struct nocopy__iso_alloc {
    pthread_mutex_t lock;
    size_t size;                    /* the region's bytes */
    nocopy__iso_extent *free;       /* sorted by offset, never adjacent */
    size_t nfree, free_cap;
    /* Live blocks: open addressing on the offset, linear probing, tombstones. */
    struct nocopy__iso_live *live;
    size_t live_cap, live_used, live_tomb;
    size_t blocks;                  /* live blocks */
    size_t bytes;                   /* their rounded lengths */
    nocopy__iso_discard_fn discard;
    void *discard_ctx;
} nocopy__iso_alloc;

/* Sets up an allocator for a region of `size` bytes (a multiple of
 * NC_ISO_ALIGN), all free. `discard` may be NULL.
 * @return : NOCOPY_OK, NOCOPY_ERANGE for a bad size, NOCOPY_ENOMEM. */
int nocopy__iso_alloc_init(nocopy__iso_alloc *a, size_t size, nocopy__iso_discard_fn discard,
                           void *discard_ctx);

/* Frees the allocator's own memory (not the region). Accepts an allocator
 * whose init failed or that was destroyed already. */
void nocopy__iso_alloc_destroy(nocopy__iso_alloc *a);

/* Allocates `len` bytes (0 is taken as 1) and stores the block's offset.
 * @return : NOCOPY_OK with *off set, NOCOPY_ENOMEM if no free extent fits
 *           (or the bookkeeping could not grow). */
int nocopy__iso_alloc_take(nocopy__iso_alloc *a, size_t len, size_t *off);

/* Frees the block that starts at `off`.
 * @return : NOCOPY_OK, or NOCOPY_EPROTO if `off` is not the start of a live
 *           block (nothing changes then). */
int nocopy__iso_alloc_give(nocopy__iso_alloc *a, size_t off);

/* The length (rounded) of the live block that starts at `off`, or 0 if there
 * is none: how the receiver of an offset checks it before using it. */
size_t nocopy__iso_alloc_block_len(nocopy__iso_alloc *a, size_t off);

/* What is live now: blocks and their rounded bytes. The accounting tests read
 * these to see a region back to empty. */
void nocopy__iso_alloc_usage(nocopy__iso_alloc *a, size_t *blocks, size_t *bytes);

#endif /* NC_ISO_ALLOC_H */
