/* arena_exact.c: a drop-in replacement for c_src/nc_arena.c, linked into the
 * libFuzzer builds instead of it, in which every allocation is its own malloc
 * block of exactly the size asked for. The real arena packs allocations side
 * by side in 4 KB blocks (and the first 256 bytes inside the call struct), so
 * AddressSanitizer cannot see one piece overrunning into the next; here every
 * overrun lands in a redzone. The replay build (gcc, `make test`) links the
 * real nc_arena.c, so both are exercised by the same corpus.
 *
 * Same contract as nc_arena.c: memory aligned for any type, NULL on overflow or
 * out of memory, everything freed at once by nocopy__arena_free(). */
#include <stdlib.h>

#include "nc_internal.h"

void *nocopy__arena_alloc(nocopy__arena *a, size_t size)
{
    if (size > SIZE_MAX - sizeof(nocopy__arena_block))
        return NULL;
    /* malloc'd memory is aligned for any type, and the block header's size is
     * a multiple of max_align_t (its flexible member has that alignment). */
    nocopy__arena_block *b = malloc(sizeof *b + size);
    if (!b)
        return NULL;
    b->size = b->used = size;
    b->next = a->head;
    a->head = b;
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
