/* test_iso_alloc.c: the region allocator of the isolated backend
 * (c_src/iso_shared/nc_iso_alloc.c): blocks aligned, disjoint and inside the
 * region, frees checked (an offset from the other process is never trusted),
 * coalescing back to one free extent, pages given back, threads. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "nc_iso_alloc.h"
#include "nc_iso_limits.h"
#include "nc_iso_region.h"
#include "nocopy_status.h"

#define SIZE ((size_t)1 << 20)

/* Back to empty: no live block, one free extent that is the whole region. */
static int is_empty(nocopy__iso_alloc *a)
{
    size_t blocks, bytes;
    nocopy__iso_alloc_usage(a, &blocks, &bytes);
    CHECK_EQ_U(blocks, 0);
    CHECK_EQ_U(bytes, 0);
    CHECK_EQ_U(a->nfree, 1);
    CHECK_EQ_U(a->free[0].off, 0);
    CHECK_EQ_U(a->free[0].len, a->size);
    return 0;
}

TEST(iso_alloc_take_and_give)
{
    nocopy__iso_alloc a;
    CHECK_EQ(nocopy__iso_alloc_init(&a, 0, NULL, NULL), NOCOPY_ERANGE);
    CHECK_EQ(nocopy__iso_alloc_init(&a, SIZE + 1, NULL, NULL), NOCOPY_ERANGE);
    CHECK_EQ(nocopy__iso_alloc_init(&a, SIZE, NULL, NULL), NOCOPY_OK);
    size_t x, y, z, blocks, bytes;
    CHECK_EQ(nocopy__iso_alloc_take(&a, 1, &x), NOCOPY_OK);
    CHECK_EQ(nocopy__iso_alloc_take(&a, 100, &y), NOCOPY_OK);
    CHECK_EQ(nocopy__iso_alloc_take(&a, 0, &z), NOCOPY_OK);     /* 0 is taken as 1 */
    CHECK_EQ_U(x % NC_ISO_ALIGN, 0);
    CHECK_EQ_U(y % NC_ISO_ALIGN, 0);
    CHECK(y >= x + NC_ISO_ALIGN);
    CHECK(z >= y + 128 || z + NC_ISO_ALIGN <= y);
    CHECK_EQ_U(nocopy__iso_alloc_block_len(&a, x), NC_ISO_ALIGN);
    CHECK_EQ_U(nocopy__iso_alloc_block_len(&a, y), 128);
    nocopy__iso_alloc_usage(&a, &blocks, &bytes);
    CHECK_EQ_U(blocks, 3);
    CHECK_EQ_U(bytes, 2 * NC_ISO_ALIGN + 128);
    CHECK_EQ(nocopy__iso_alloc_give(&a, y), NOCOPY_OK);
    CHECK_EQ_U(nocopy__iso_alloc_block_len(&a, y), 0);
    CHECK_EQ(nocopy__iso_alloc_give(&a, x), NOCOPY_OK);
    CHECK_EQ(nocopy__iso_alloc_give(&a, z), NOCOPY_OK);
    CHECK_OK(is_empty(&a));
    nocopy__iso_alloc_destroy(&a);
    nocopy__iso_alloc_destroy(&a);      /* twice is harmless */
    return 0;
}

/* Frees name blocks by offset, and offsets come from the other process: any
 * offset that is not the start of a live block is refused and changes
 * nothing. */
TEST(iso_alloc_refuses_bad_frees)
{
    nocopy__iso_alloc a;
    CHECK_EQ(nocopy__iso_alloc_init(&a, SIZE, NULL, NULL), NOCOPY_OK);
    size_t x, y, blocks, bytes;
    CHECK_EQ(nocopy__iso_alloc_take(&a, 1000, &x), NOCOPY_OK);
    CHECK_EQ(nocopy__iso_alloc_take(&a, 1000, &y), NOCOPY_OK);
    size_t bad[] = {x + 1, x + NC_ISO_ALIGN, y + 64, y + 1024, SIZE, SIZE + NC_ISO_ALIGN,
                    (size_t)-1, (size_t)-NC_ISO_ALIGN, y + 4096};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ(nocopy__iso_alloc_give(&a, bad[i]), NOCOPY_EPROTO);
        CHECK_EQ_U(nocopy__iso_alloc_block_len(&a, bad[i]), 0);
    }
    nocopy__iso_alloc_usage(&a, &blocks, &bytes);
    CHECK_EQ_U(blocks, 2);
    CHECK_EQ(nocopy__iso_alloc_give(&a, x), NOCOPY_OK);
    CHECK_EQ(nocopy__iso_alloc_give(&a, x), NOCOPY_EPROTO);   /* twice */
    CHECK_EQ(nocopy__iso_alloc_give(&a, y), NOCOPY_OK);
    CHECK_OK(is_empty(&a));
    nocopy__iso_alloc_destroy(&a);
    return 0;
}

TEST(iso_alloc_exhaustion)
{
    nocopy__iso_alloc a;
    CHECK_EQ(nocopy__iso_alloc_init(&a, SIZE, NULL, NULL), NOCOPY_OK);
    size_t x, y;
    CHECK_EQ(nocopy__iso_alloc_take(&a, SIZE + 1, &x), NOCOPY_ENOMEM);
    CHECK_EQ(nocopy__iso_alloc_take(&a, (size_t)-1, &x), NOCOPY_ENOMEM);   /* no wrap */
    CHECK_EQ(nocopy__iso_alloc_take(&a, SIZE, &x), NOCOPY_OK);
    CHECK_EQ_U(x, 0);
    CHECK_EQ(nocopy__iso_alloc_take(&a, 1, &y), NOCOPY_ENOMEM);
    CHECK_EQ(nocopy__iso_alloc_give(&a, x), NOCOPY_OK);
    CHECK_EQ(nocopy__iso_alloc_take(&a, SIZE - NC_ISO_ALIGN, &x), NOCOPY_OK);
    CHECK_EQ(nocopy__iso_alloc_take(&a, NC_ISO_ALIGN + 1, &y), NOCOPY_ENOMEM);
    CHECK_EQ(nocopy__iso_alloc_take(&a, NC_ISO_ALIGN, &y), NOCOPY_OK);
    CHECK_EQ(nocopy__iso_alloc_give(&a, x), NOCOPY_OK);
    CHECK_EQ(nocopy__iso_alloc_give(&a, y), NOCOPY_OK);
    CHECK_OK(is_empty(&a));
    nocopy__iso_alloc_destroy(&a);
    return 0;
}

/* Every order of freeing three neighbours ends in one extent. */
TEST(iso_alloc_coalesces)
{
    static const int orders[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
                                     {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    for (int o = 0; o < 6; o++) {
        nocopy__iso_alloc a;
        CHECK_EQ(nocopy__iso_alloc_init(&a, SIZE, NULL, NULL), NOCOPY_OK);
        size_t off[3];
        for (int i = 0; i < 3; i++)
            CHECK_EQ(nocopy__iso_alloc_take(&a, 4096, &off[i]), NOCOPY_OK);
        for (int i = 0; i < 3; i++)
            CHECK_EQ(nocopy__iso_alloc_give(&a, off[orders[o][i]]), NOCOPY_OK);
        CHECK_OK(is_empty(&a));
        nocopy__iso_alloc_destroy(&a);
    }
    return 0;
}

/* Random takes and gives against a model: each block's bytes are marked in a
 * shadow map, so an overlap, a block outside the region or a length that
 * does not match is caught at once. Thousands of live blocks make the live
 * table grow and rehash over its tombstones. */
TEST(iso_alloc_random_against_model)
{
    enum { OPS = 60000, MAXLIVE = 3000 };
    nocopy__iso_alloc a;
    CHECK_EQ(nocopy__iso_alloc_init(&a, SIZE * 4, NULL, NULL), NOCOPY_OK);
    uint8_t *shadow = calloc(SIZE * 4 / NC_ISO_ALIGN, 1);
    size_t *offs = calloc(MAXLIVE, sizeof *offs), *lens = calloc(MAXLIVE, sizeof *lens);
    CHECK_NOT_NULL(shadow);
    CHECK_NOT_NULL(offs);
    CHECK_NOT_NULL(lens);
    size_t live = 0, model_bytes = 0;
    uint32_t seed = 12345;
    for (int op = 0; op < OPS; op++) {
        seed = seed * 1103515245u + 12345u;
        uint32_t r = seed >> 8;
        if (live < MAXLIVE && (live == 0 || r % 100 < 55)) {
            size_t len = r % 7 == 0 ? (r % 40000) : (r % 600);
            size_t off;
            int rc = nocopy__iso_alloc_take(&a, len, &off);
            if (rc == NOCOPY_ENOMEM)
                continue;
            CHECK_EQ(rc, NOCOPY_OK);
            size_t rl = (len ? len : 1) + NC_ISO_ALIGN - 1;
            rl -= rl % NC_ISO_ALIGN;
            CHECK_EQ_U(off % NC_ISO_ALIGN, 0);
            CHECK_LE_U(off + rl, SIZE * 4);
            CHECK_EQ_U(nocopy__iso_alloc_block_len(&a, off), rl);
            for (size_t g = off / NC_ISO_ALIGN; g < (off + rl) / NC_ISO_ALIGN; g++) {
                CHECK_EQ(shadow[g], 0);
                shadow[g] = 1;
            }
            offs[live] = off;
            lens[live] = rl;
            live++;
            model_bytes += rl;
        } else {
            size_t k = r % live;
            CHECK_EQ(nocopy__iso_alloc_give(&a, offs[k]), NOCOPY_OK);
            for (size_t g = offs[k] / NC_ISO_ALIGN; g < (offs[k] + lens[k]) / NC_ISO_ALIGN; g++)
                shadow[g] = 0;
            model_bytes -= lens[k];
            live--;
            offs[k] = offs[live];
            lens[k] = lens[live];
        }
        size_t blocks, bytes;
        nocopy__iso_alloc_usage(&a, &blocks, &bytes);
        CHECK_EQ_U(blocks, live);
        CHECK_EQ_U(bytes, model_bytes);
    }
    while (live > 0) {
        live--;
        CHECK_EQ(nocopy__iso_alloc_give(&a, offs[live]), NOCOPY_OK);
    }
    CHECK_OK(is_empty(&a));
    free(shadow);
    free(offs);
    free(lens);
    nocopy__iso_alloc_destroy(&a);
    return 0;
}

typedef struct discards {
    size_t n, off, len;
} discards;

static void record_discard(void *ctx, size_t off, size_t len)
{
    discards *d = ctx;
    d->n++;
    d->off = off;
    d->len = len;
}

TEST(iso_alloc_discards_large_frees_only)
{
    nocopy__iso_alloc a;
    discards d = {0};
    CHECK_EQ(nocopy__iso_alloc_init(&a, SIZE, record_discard, &d), NOCOPY_OK);
    size_t small, big;
    CHECK_EQ(nocopy__iso_alloc_take(&a, NC_ISO_DISCARD_MIN - NC_ISO_ALIGN, &small), NOCOPY_OK);
    CHECK_EQ(nocopy__iso_alloc_take(&a, NC_ISO_DISCARD_MIN, &big), NOCOPY_OK);
    CHECK_EQ(nocopy__iso_alloc_give(&a, small), NOCOPY_OK);
    CHECK_EQ_U(d.n, 0);
    CHECK_EQ(nocopy__iso_alloc_give(&a, big), NOCOPY_OK);
    CHECK_EQ_U(d.n, 1);
    CHECK_EQ_U(d.off, big);                  /* the block itself, not its free neighbours */
    CHECK_EQ_U(d.len, NC_ISO_DISCARD_MIN);
    nocopy__iso_alloc_destroy(&a);
    return 0;
}

static void region_discard(void *ctx, size_t off, size_t len)
{
    nocopy__iso_region_discard(ctx, off, len);
}

/* With a real region: a freed large block's memory goes back to the system. */
TEST(iso_alloc_region_memory_follows_live_blocks)
{
    nocopy__iso_region r;
    nocopy__iso_alloc a;
    CHECK_EQ(nocopy__iso_region_create(&r, "t", (size_t)64 << 20, 1), NOCOPY_OK);
    CHECK_EQ(nocopy__iso_alloc_init(&a, r.size, region_discard, &r), NOCOPY_OK);
    size_t off;
    for (int round = 0; round < 3; round++) {
        CHECK_EQ(nocopy__iso_alloc_take(&a, (size_t)32 << 20, &off), NOCOPY_OK);
        memset(r.base + off, 0x33, (size_t)32 << 20);
        CHECK_GE(nocopy__iso_region_resident(&r), (size_t)32 << 20);
        CHECK_EQ(nocopy__iso_alloc_give(&a, off), NOCOPY_OK);
        CHECK_LE_U(nocopy__iso_region_resident(&r), (size_t)1 << 20);
    }
    CHECK_OK(is_empty(&a));
    nocopy__iso_alloc_destroy(&a);
    nocopy__iso_region_unmap(&r);
    return 0;
}

/* Threads take, fill, check and give blocks of one region at once: a block
 * given to two threads would show the other's fill. */
typedef struct worker {
    nocopy__iso_alloc *a;
    uint8_t *base;
    uint8_t mark;
    int failed;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    size_t offs[32], lens[32];
    uint32_t seed = w->mark;
    for (int round = 0; round < 400 && !w->failed; round++) {
        int n = 0;
        for (; n < 32; n++) {
            seed = seed * 1103515245u + 12345u;
            lens[n] = 1 + (seed >> 8) % 5000;
            if (nocopy__iso_alloc_take(w->a, lens[n], &offs[n]) != NOCOPY_OK)
                break;
            memset(w->base + offs[n], w->mark, lens[n]);
        }
        for (int i = 0; i < n; i++) {
            for (size_t k = 0; k < lens[i]; k++)
                if (w->base[offs[i] + k] != w->mark)
                    w->failed = 1;
            if (nocopy__iso_alloc_give(w->a, offs[i]) != NOCOPY_OK)
                w->failed = 1;
        }
    }
    return NULL;
}

TEST(iso_alloc_threads)
{
    enum { THREADS = 4 };
    nocopy__iso_alloc a;
    uint8_t *base = malloc(SIZE);
    CHECK_NOT_NULL(base);
    CHECK_EQ(nocopy__iso_alloc_init(&a, SIZE, NULL, NULL), NOCOPY_OK);
    pthread_t t[THREADS];
    worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){.a = &a, .base = base, .mark = (uint8_t)(i + 1)};
        CHECK_EQ(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ(w[i].failed, 0);
    }
    CHECK_OK(is_empty(&a));
    nocopy__iso_alloc_destroy(&a);
    free(base);
    return 0;
}
