/* nc_iso_alloc.c: first-fit extents over a shared region, bookkeeping in
 * private memory (see nc_iso_alloc.h for why). */
#include "nc_iso_alloc.h"

#include <stdlib.h>
#include <string.h>

#include "nc_iso_limits.h"
#include "nocopy_status.h"

/* A live block; len 0 marks an empty slot, LIVE_TOMB a deleted one. */
struct nocopy__iso_live {
    size_t off;
    size_t len;
};

#define LIVE_TOMB ((size_t)-1)
#define LIVE_MIN_CAP 64

static size_t round_up(size_t len)
{
    return (len + NC_ISO_ALIGN - 1) & ~(size_t)(NC_ISO_ALIGN - 1);
}

static size_t slot_of(size_t off, size_t cap)
{
    /* Offsets are multiples of NC_ISO_ALIGN: drop those zero bits, then mix. */
    uint64_t h = (uint64_t)(off / NC_ISO_ALIGN) * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 17) & (cap - 1);
}

/* ---- live blocks -------------------------------------------------------------- */

static struct nocopy__iso_live *live_find(nocopy__iso_alloc *a, size_t off)
{
    if (a->live_cap == 0)
        return NULL;
    for (size_t i = slot_of(off, a->live_cap), n = 0; n < a->live_cap;
         i = (i + 1) & (a->live_cap - 1), n++) {
        struct nocopy__iso_live *s = &a->live[i];
        if (s->len == 0)
            return NULL;
        if (s->len != LIVE_TOMB && s->off == off)
            return s;
    }
    return NULL;
}

static void live_put_fresh(struct nocopy__iso_live *tab, size_t cap, size_t off, size_t len)
{
    size_t i = slot_of(off, cap);
    while (tab[i].len != 0 && tab[i].len != LIVE_TOMB)
        i = (i + 1) & (cap - 1);
    tab[i].off = off;
    tab[i].len = len;
}

/* Keeps the table at most half full, counting tombstones, so probes stay
 * short and always meet an empty slot. */
static int live_reserve(nocopy__iso_alloc *a)
{
    if ((a->live_used + a->live_tomb + 1) * 2 <= a->live_cap)
        return NOCOPY_OK;
    size_t cap = a->live_cap ? a->live_cap : LIVE_MIN_CAP;
    while ((a->live_used + 1) * 2 > cap)
        cap *= 2;
    if ((a->live_used + 1) * 4 > cap)   /* mostly live: grow, not just rehash */
        cap *= 2;
    struct nocopy__iso_live *tab = calloc(cap, sizeof *tab);
    if (!tab)
        return NOCOPY_ENOMEM;
    for (size_t i = 0; i < a->live_cap; i++)
        if (a->live[i].len != 0 && a->live[i].len != LIVE_TOMB)
            live_put_fresh(tab, cap, a->live[i].off, a->live[i].len);
    free(a->live);
    a->live = tab;
    a->live_cap = cap;
    a->live_tomb = 0;
    return NOCOPY_OK;
}

/* ---- free extents -------------------------------------------------------------- */

static int free_reserve(nocopy__iso_alloc *a, size_t more)
{
    if (a->nfree + more <= a->free_cap)
        return NOCOPY_OK;
    size_t cap = a->free_cap ? a->free_cap * 2 : 16;
    while (cap < a->nfree + more)
        cap *= 2;
    nocopy__iso_extent *e = realloc(a->free, cap * sizeof *e);
    if (!e)
        return NOCOPY_ENOMEM;
    a->free = e;
    a->free_cap = cap;
    return NOCOPY_OK;
}

/* The index of the first extent whose offset is above `off`. */
static size_t free_upper(const nocopy__iso_alloc *a, size_t off)
{
    size_t lo = 0, hi = a->nfree;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a->free[mid].off <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Puts [off, off + len) back, merged with the neighbours it touches. The
 * caller reserved room for one more extent. */
static void free_insert(nocopy__iso_alloc *a, size_t off, size_t len)
{
    size_t i = free_upper(a, off);
    int left = i > 0 && a->free[i - 1].off + a->free[i - 1].len == off;
    int right = i < a->nfree && off + len == a->free[i].off;
    if (left && right) {
        a->free[i - 1].len += len + a->free[i].len;
        memmove(&a->free[i], &a->free[i + 1], (a->nfree - i - 1) * sizeof a->free[0]);
        a->nfree--;
    } else if (left) {
        a->free[i - 1].len += len;
    } else if (right) {
        a->free[i].off = off;
        a->free[i].len += len;
    } else {
        memmove(&a->free[i + 1], &a->free[i], (a->nfree - i) * sizeof a->free[0]);
        a->free[i].off = off;
        a->free[i].len = len;
        a->nfree++;
    }
}

/* ---- the interface ----------------------------------------------------------------- */

int nocopy__iso_alloc_init(nocopy__iso_alloc *a, size_t size, nocopy__iso_discard_fn discard,
                           void *discard_ctx)
{
    memset(a, 0, sizeof *a);
    if (size == 0 || size % NC_ISO_ALIGN != 0)
        return NOCOPY_ERANGE;
    if (pthread_mutex_init(&a->lock, NULL) != 0)
        return NOCOPY_ENOMEM;
    a->size = size;
    a->discard = discard;
    a->discard_ctx = discard_ctx;
    if (free_reserve(a, 1) != NOCOPY_OK || live_reserve(a) != NOCOPY_OK) {
        nocopy__iso_alloc_destroy(a);
        return NOCOPY_ENOMEM;
    }
    a->free[0].off = 0;
    a->free[0].len = size;
    a->nfree = 1;
    return NOCOPY_OK;
}

void nocopy__iso_alloc_destroy(nocopy__iso_alloc *a)
{
    if (a->size == 0)
        return;
    free(a->free);
    free(a->live);
    pthread_mutex_destroy(&a->lock);
    memset(a, 0, sizeof *a);
}

int nocopy__iso_alloc_take(nocopy__iso_alloc *a, size_t len, size_t *off)
{
    if (len > a->size)
        return NOCOPY_ENOMEM;
    size_t need = round_up(len ? len : 1);
    int rc = NOCOPY_ENOMEM;
    pthread_mutex_lock(&a->lock);
    if (live_reserve(a) != NOCOPY_OK)
        goto done;
    for (size_t i = 0; i < a->nfree; i++) {
        if (a->free[i].len < need)
            continue;
        *off = a->free[i].off;
        a->free[i].off += need;
        a->free[i].len -= need;
        if (a->free[i].len == 0) {
            memmove(&a->free[i], &a->free[i + 1], (a->nfree - i - 1) * sizeof a->free[0]);
            a->nfree--;
        }
        live_put_fresh(a->live, a->live_cap, *off, need);
        a->live_used++;
        a->blocks++;
        a->bytes += need;
        rc = NOCOPY_OK;
        break;
    }
done:
    pthread_mutex_unlock(&a->lock);
    return rc;
}

int nocopy__iso_alloc_give(nocopy__iso_alloc *a, size_t off)
{
    pthread_mutex_lock(&a->lock);
    struct nocopy__iso_live *s = live_find(a, off);
    /* Room for the extent first, so a free never fails half done. */
    if (!s || free_reserve(a, 1) != NOCOPY_OK) {
        pthread_mutex_unlock(&a->lock);
        return s ? NOCOPY_ENOMEM : NOCOPY_EPROTO;
    }
    size_t len = s->len;
    s->len = LIVE_TOMB;
    a->live_used--;
    a->live_tomb++;
    a->blocks--;
    a->bytes -= len;
    free_insert(a, off, len);
    /* Under the lock: the range is free now, and a hole punched after
     * another thread had been given part of it would zero that thread's
     * bytes. Only large blocks: a punch costs a system call. */
    if (a->discard && len >= NC_ISO_DISCARD_MIN)
        a->discard(a->discard_ctx, off, len);
    pthread_mutex_unlock(&a->lock);
    return NOCOPY_OK;
}

size_t nocopy__iso_alloc_block_len(nocopy__iso_alloc *a, size_t off)
{
    pthread_mutex_lock(&a->lock);
    struct nocopy__iso_live *s = live_find(a, off);
    size_t len = s ? s->len : 0;
    pthread_mutex_unlock(&a->lock);
    return len;
}

void nocopy__iso_alloc_usage(nocopy__iso_alloc *a, size_t *blocks, size_t *bytes)
{
    pthread_mutex_lock(&a->lock);
    *blocks = a->blocks;
    *bytes = a->bytes;
    pthread_mutex_unlock(&a->lock);
}
