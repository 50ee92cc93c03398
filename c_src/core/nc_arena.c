/* nc_arena.c: per-call scratch memory. Everything allocated here is freed in
 * one go when the call ends, so readers that need arrays (tuple elements, iovec
 * pieces) never leak on an error path. */
#include <stdlib.h>

#include "nc_internal.h"

#define ALIGN_UP(n) (((n) + NC_ALIGN - 1) & ~(size_t)(NC_ALIGN - 1))
#define MIN_BLOCK 4096

void *nocopy__arena_alloc(nocopy__arena *a, size_t size)
{
    size_t need = ALIGN_UP(size ? size : 1);
    if (need < size)                       /* size near SIZE_MAX */
        return NULL;

    if (a->inline_used + need <= sizeof(a->inline_buf)) {
        void *p = a->inline_buf + a->inline_used;
        a->inline_used += need;
        return p;
    }
    nocopy__arena_block *b = a->head;
    if (b && b->size - b->used >= need) {
        void *p = (unsigned char *)b->data + b->used;
        b->used += need;
        return p;
    }
    size_t block = need > MIN_BLOCK ? need : MIN_BLOCK;
    if (block > SIZE_MAX - sizeof(*b))
        return NULL;
    b = malloc(sizeof(*b) + block);
    if (!b)
        return NULL;
    b->size = block;
    b->used = need;
    /* A block opened for one big request goes behind the current one, so the
     * remaining space of the current block stays usable. */
    if (need > MIN_BLOCK && a->head) {
        b->next = a->head->next;
        a->head->next = b;
    } else {
        b->next = a->head;
        a->head = b;
    }
    return b->data;
}

void nocopy__arena_free(nocopy__arena *a)
{
    nocopy__arena_block *b = a->head;
    while (b) {
        nocopy__arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->inline_used = 0;
}
