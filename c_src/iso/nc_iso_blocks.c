/* nc_iso_blocks.c: the child's side of block accounting.
 *
 * Output blocks: the child allocates them (nocopy__iso_alloc, bookkeeping in
 * this process's heap) and counts references to each in a private table: one
 * for whoever owns it here (a buffer, a kept object, a result node), one per
 * handover to the VM, which sends RELEASE_OUT when Erlang drops that binary.
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

typedef struct out_ref {
    uint64_t off;          /* UINT64_MAX: empty; OUT_TOMB: deleted */
    size_t refs;
} out_ref;

#define OUT_EMPTY UINT64_MAX
#define OUT_TOMB (UINT64_MAX - 1)

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static nocopy__iso_alloc out_alloc;
static out_ref *tab;
static size_t cap, used;   /* used counts live and tombstones */

static void discard(void *ctx, size_t off, size_t len)
{
    (void)ctx;
    nocopy__iso_region_discard(&nocopy__iso.out, off, len);
}

int nocopy__iso_blocks_init(void)
{
    return nocopy__iso_alloc_init(&out_alloc, nocopy__iso.out.size, discard, NULL);
}

static size_t slot_of(uint64_t off, size_t n)
{
    return (size_t)((off / NC_ISO_ALIGN) * 0x9E3779B97F4A7C15ull) & (n - 1);
}

static out_ref *find(uint64_t off)
{
    if (!cap)
        return NULL;
    for (size_t i = slot_of(off, cap), n = 0; n < cap; i = (i + 1) & (cap - 1), n++) {
        if (tab[i].off == off)
            return &tab[i];
        if (tab[i].off == OUT_EMPTY)
            return NULL;
    }
    return NULL;
}

static int grow(void)
{
    size_t ncap = cap ? cap * 2 : 64;
    out_ref *nt = malloc(ncap * sizeof *nt);
    if (!nt)
        return -1;
    for (size_t i = 0; i < ncap; i++)
        nt[i].off = OUT_EMPTY;
    size_t live = 0;
    for (size_t i = 0; i < cap; i++)
        if (tab[i].off != OUT_EMPTY && tab[i].off != OUT_TOMB) {
            size_t j = slot_of(tab[i].off, ncap);
            while (nt[j].off != OUT_EMPTY)
                j = (j + 1) & (ncap - 1);
            nt[j] = tab[i];
            live++;
        }
    free(tab);
    tab = nt;
    cap = ncap;
    used = live;
    return 0;
}

int nocopy__iso_out_take(size_t size, uint64_t *off)
{
    size_t o;
    if (nocopy__iso_alloc_take(&out_alloc, size, &o) != NOCOPY_OK)
        return NOCOPY_ENOMEM;
    pthread_mutex_lock(&mu);
    if ((used + 1) * 2 > cap && grow() != 0) {
        pthread_mutex_unlock(&mu);
        nocopy__iso_alloc_give(&out_alloc, o);
        return NOCOPY_ENOMEM;
    }
    size_t i = slot_of(o, cap);
    while (tab[i].off != OUT_EMPTY && tab[i].off != OUT_TOMB)
        i = (i + 1) & (cap - 1);
    if (tab[i].off == OUT_EMPTY)
        used++;
    tab[i].off = o;
    tab[i].refs = 1;
    pthread_mutex_unlock(&mu);
    *off = o;
    return NOCOPY_OK;
}

void nocopy__iso_out_ref(uint64_t off)
{
    pthread_mutex_lock(&mu);
    out_ref *r = find(off);
    if (r)
        r->refs++;
    pthread_mutex_unlock(&mu);
}

void nocopy__iso_out_unref(uint64_t off)
{
    int gone = 0;
    pthread_mutex_lock(&mu);
    out_ref *r = find(off);
    if (r && --r->refs == 0) {
        r->off = OUT_TOMB;
        gone = 1;
    }
    pthread_mutex_unlock(&mu);
    if (gone)
        nocopy__iso_alloc_give(&out_alloc, (size_t)off);
}

int nocopy__iso_send(uint32_t kind, uint64_t id, const void *body, size_t len)
{
    uint8_t buf[sizeof(nocopy__iso_hdr) + 64];
    nocopy__iso_hdr h = {.kind = kind, .pad = 0, .id = id};
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
