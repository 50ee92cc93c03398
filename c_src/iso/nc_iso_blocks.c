/* nc_iso_blocks.c: the child's side of block accounting.
 *
 * Output blocks: the child allocates them (nocopy__iso_alloc, bookkeeping in
 * this process's heap) and counts references to each in a private table: one
 * for whoever owns it here (a buffer, a kept object, a result node, a call
 * whose request names it), one per handover to the VM, which sends
 * RELEASE_OUT when Erlang drops that binary.
 * The block goes back to the allocator when the count reaches zero. A
 * RELEASE_OUT naming no counted block is ignored (the VM is trusted, but a
 * stale message must not free the wrong block).
 *
 * Input blocks belong to the VM: a keep is a KEEP_IN message sent before
 * nocopy_keep returns, a release a RELEASE_IN. Both go on the same socket in
 * the order the calls happen, so the VM never sees a keep's release before
 * the keep. */
#include <stdlib.h>
#include <string.h>

#include "nc_iso.h"
#include "nc_iso_chan.h"

/* The live output blocks, sorted by offset, with their references: a
 * request piece that lies in the output region (a result passed back in)
 * maps to its block by binary search. Taking and freeing cost a memmove of
 * the entries above (O(live blocks)). */
typedef struct out_block {
    uint64_t off, len;     /* len: the allocator's rounded length */
    size_t refs;
} out_block;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static nocopy__iso_alloc out_alloc;
static out_block *tab;
static size_t n, cap;

static void discard(void *ctx, size_t off, size_t len)
{
    (void)ctx;
    nocopy__iso_region_discard(&nocopy__iso.out, off, len);
}

int nocopy__iso_blocks_init(void)
{
    return nocopy__iso_alloc_init(&out_alloc, nocopy__iso.out.size, discard, NULL);
}

/* The index of the first block whose offset is > off (with mu held). */
static size_t upper(uint64_t off)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tab[mid].off <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static out_block *exact(uint64_t off)
{
    size_t i = upper(off);
    return i > 0 && tab[i - 1].off == off ? &tab[i - 1] : NULL;
}

int nocopy__iso_out_take(size_t size, uint64_t *off)
{
    size_t o;
    if (nocopy__iso_alloc_take(&out_alloc, size, &o) != NOCOPY_OK)
        return NOCOPY_ENOMEM;
    size_t len = nocopy__iso_alloc_block_len(&out_alloc, o);
    pthread_mutex_lock(&mu);
    if (n == cap) {
        size_t ncap = cap ? cap * 2 : 64;
        out_block *nt = realloc(tab, ncap * sizeof *nt);
        if (!nt) {
            pthread_mutex_unlock(&mu);
            nocopy__iso_alloc_give(&out_alloc, o);
            return NOCOPY_ENOMEM;
        }
        tab = nt;
        cap = ncap;
    }
    size_t i = upper(o);
    memmove(&tab[i + 1], &tab[i], (n - i) * sizeof *tab);
    tab[i] = (out_block){.off = o, .len = len, .refs = 1};
    n++;
    pthread_mutex_unlock(&mu);
    *off = o;
    return NOCOPY_OK;
}

void nocopy__iso_out_ref(uint64_t off)
{
    pthread_mutex_lock(&mu);
    out_block *b = exact(off);
    if (b)
        b->refs++;
    pthread_mutex_unlock(&mu);
}

int nocopy__iso_out_ref_range(uint64_t off, uint64_t len, uint64_t *block)
{
    int r = -1;
    pthread_mutex_lock(&mu);
    size_t i = upper(off);
    if (i > 0) {
        out_block *b = &tab[i - 1];
        if (off - b->off <= b->len && len <= b->len - (off - b->off)) {
            b->refs++;
            *block = b->off;
            r = 0;
        }
    }
    pthread_mutex_unlock(&mu);
    return r;
}

void nocopy__iso_out_unref(uint64_t off)
{
    int gone = 0;
    pthread_mutex_lock(&mu);
    out_block *b = exact(off);
    if (b && --b->refs == 0) {
        size_t i = (size_t)(b - tab);
        memmove(&tab[i], &tab[i + 1], (n - i - 1) * sizeof *tab);
        n--;
        gone = 1;
    }
    pthread_mutex_unlock(&mu);
    if (gone)
        nocopy__iso_alloc_give(&out_alloc, (size_t)off);
}

_Thread_local unsigned long nocopy__iso_sent_here;

int nocopy__iso_send(uint32_t kind, uint64_t id, const void *body, size_t len)
{
    nocopy__iso_sent_here++;
    uint8_t buf[sizeof(nocopy__iso_hdr) + 64];
    nocopy__iso_hdr h = {.kind = kind, .seq = 0, .id = id};
    if (len > sizeof buf - sizeof h)
        return NOCOPY_ERANGE;
    memcpy(buf, &h, sizeof h);
    if (len)
        memcpy(buf + sizeof h, body, len);
    return nocopy__iso_chan_send(nocopy__iso.chan, buf, sizeof h + len);
}

int nocopy__iso_in_keep(uint64_t block)
{
    return nocopy__iso_send(NC_ISO_MSG_KEEP_IN, block, NULL, 0);
}

void nocopy__iso_in_release(uint64_t block)
{
    /* The VM gone: nothing to release to. */
    (void)nocopy__iso_send(NC_ISO_MSG_RELEASE_IN, block, NULL, 0);
}
