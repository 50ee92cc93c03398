/* arena_exact.c: a drop-in replacement for c_src/core/nc_arena.c, linked into
 * the libFuzzer builds instead of it, in which every allocation is its own
 * malloc block of exactly the size asked for. The real arena packs allocations
 * side by side in 4 KB blocks (and the first NC_ARENA_INLINE bytes inside the
 * call struct), so AddressSanitizer cannot see one piece overrunning into the
 * next; here every overrun lands in a redzone. The replay build (gcc, `make
 * test`) links the real nc_arena.c, so both are exercised by the same corpus.
 *
 * Same contract as nc_arena.c: memory aligned as NC_ALIGN, NULL on overflow or
 * out of memory, everything freed at once by nocopy__arena_free(). The bytes
 * in use are counted in fk (fake_backend.h), and past fk.arena_limit an
 * allocation fails: the harness models malloc failing, and a hostile input
 * ends with ENOMEM instead of exhausting the fuzzer. */
#include <stdlib.h>

#include "fake_backend.h"

void *nocopy__arena_alloc(nocopy__arena *a, size_t size)
{
    if (size > SIZE_MAX - sizeof(nocopy__arena_block))
        return NULL;
    /* Past the harness's limit an allocation fails, as malloc would. */
    if (fk.arena_limit && size > fk.arena_limit - fk.arena_bytes) {
        fk.arena_exhausted = true;
        return NULL;
    }
    fk.arena_bytes += size;
    /* malloc'd memory is aligned for any type, and the header's size is a
     * multiple of its flexible member's alignment (NC_ALIGN). */
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
        fk.arena_bytes -= b->size;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->inline_used = 0;
}
