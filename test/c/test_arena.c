/* test_arena.c: the per-call bump allocator (nc_arena.c). Leaks are checked by
 * running the same binary under valgrind or ASan (`make asan`); here we check
 * that every allocation is usable, aligned and disjoint from the others. */
#include <stdlib.h>

#include "check.h"
#include "nc_internal.h"

#define ALIGN NC_ALIGN   /* the documented alignment of arena memory */

static int inside_inline(const nocopy__arena *a, const void *p)
{
    const unsigned char *q = p;
    return q >= a->inline_buf && q < a->inline_buf + sizeof a->inline_buf;
}

TEST(arena_first_allocations_inline)
{
    nocopy__arena a = {0};
    void *p = nocopy__arena_alloc(&a, 16);
    void *q = nocopy__arena_alloc(&a, 100);
    CHECK_NOT_NULL(p);
    CHECK_NOT_NULL(q);
    CHECK(inside_inline(&a, p));
    CHECK(inside_inline(&a, q));
    CHECK_NULL(a.head);                      /* short calls never malloc */
    /* Past the inline buffer, memory comes from a block. */
    void *r = nocopy__arena_alloc(&a, sizeof a.inline_buf);
    CHECK_NOT_NULL(r);
    CHECK(!inside_inline(&a, r));
    CHECK_NOT_NULL(a.head);
    nocopy__arena_free(&a);
    return 0;
}

TEST(arena_zero_size)
{
    nocopy__arena a = {0};
    void *p = nocopy__arena_alloc(&a, 0);
    void *q = nocopy__arena_alloc(&a, 0);
    CHECK_NOT_NULL(p);
    CHECK_NOT_NULL(q);
    CHECK(p != q);
    nocopy__arena_free(&a);
    return 0;
}

TEST(arena_alignment)
{
    nocopy__arena a = {0};
    for (size_t size = 0; size < 5000; size += 1 + size / 3) {
        void *p = nocopy__arena_alloc(&a, size);
        CHECK_NOT_NULL(p);
        CHECK_EQ_U((uintptr_t)p % ALIGN, 0);
    }
    nocopy__arena_free(&a);
    return 0;
}

/* Fills every allocation with its own byte, then checks them all: any overlap
 * between two allocations shows up as a wrong byte. */
TEST(arena_many_small_disjoint)
{
    enum { N = 20000 };
    nocopy__arena a = {0};
    static unsigned char *ptr[N];
    static size_t len[N];
    for (size_t i = 0; i < N; i++) {
        len[i] = (i * 7) % 97 + 1;
        ptr[i] = nocopy__arena_alloc(&a, len[i]);
        CHECK_NOT_NULL(ptr[i]);
        memset(ptr[i], (int)(i & 0xff), len[i]);
    }
    for (size_t i = 0; i < N; i++)
        for (size_t k = 0; k < len[i]; k++)
            CHECK_EQ(ptr[i][k], i & 0xff);
    nocopy__arena_free(&a);
    return 0;
}

TEST(arena_large_blocks)
{
    nocopy__arena a = {0};
    size_t sizes[] = {4096, 4097, 1 << 20, 10 << 20, 3, 70000};
    unsigned char *p[6];
    for (int i = 0; i < 6; i++) {
        p[i] = nocopy__arena_alloc(&a, sizes[i]);
        CHECK_NOT_NULL(p[i]);
        CHECK_EQ_U((uintptr_t)p[i] % ALIGN, 0);
        memset(p[i], 'a' + i, sizes[i]);
    }
    for (int i = 0; i < 6; i++) {
        CHECK_EQ(p[i][0], 'a' + i);
        CHECK_EQ(p[i][sizes[i] / 2], 'a' + i);
        CHECK_EQ(p[i][sizes[i] - 1], 'a' + i);
    }
    nocopy__arena_free(&a);
    return 0;
}

/* A block opened for one large request must not waste the current block:
 * the next small allocation continues right after the previous one. */
TEST(arena_large_keeps_current_block)
{
    nocopy__arena a = {0};
    CHECK_NOT_NULL(nocopy__arena_alloc(&a, sizeof a.inline_buf));   /* fills inline */
    unsigned char *p1 = nocopy__arena_alloc(&a, 64);
    CHECK_NOT_NULL(p1);
    CHECK(!inside_inline(&a, p1));
    unsigned char *big = nocopy__arena_alloc(&a, 100000);
    CHECK_NOT_NULL(big);
    unsigned char *p2 = nocopy__arena_alloc(&a, 64);
    CHECK_PTR_EQ(p2, p1 + 64);
    nocopy__arena_free(&a);
    return 0;
}

TEST(arena_overflow_sizes)
{
    nocopy__arena a = {0};
    CHECK_NULL(nocopy__arena_alloc(&a, SIZE_MAX));
    CHECK_NULL(nocopy__arena_alloc(&a, SIZE_MAX - 1));
    CHECK_NULL(nocopy__arena_alloc(&a, SIZE_MAX - ALIGN));
    CHECK_NULL(nocopy__arena_alloc(&a, SIZE_MAX - sizeof(nocopy__arena_block)));
    /* Sizes the arena passes on to malloc are not tried here: under ASan a
     * huge malloc aborts instead of returning NULL. */
    /* A failed request leaves the arena usable. */
    void *p = nocopy__arena_alloc(&a, 10);
    CHECK_NOT_NULL(p);
    memset(p, 1, 10);
    nocopy__arena_free(&a);
    return 0;
}

TEST(arena_free_resets)
{
    nocopy__arena a = {0};
    nocopy__arena_free(&a);                  /* empty arena: no-op */
    for (int round = 0; round < 3; round++) {
        void *p = nocopy__arena_alloc(&a, 8);
        CHECK(inside_inline(&a, p));
        CHECK_NOT_NULL(nocopy__arena_alloc(&a, 50000));
        CHECK_NOT_NULL(a.head);
        nocopy__arena_free(&a);
        CHECK_NULL(a.head);
        CHECK_EQ(a.inline_used, 0);
    }
    nocopy__arena_free(&a);                  /* twice in a row: still fine */
    return 0;
}
