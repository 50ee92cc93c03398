/* nc_iovec.c: iodata as a vector of pieces, without flattening.
 *
 * Binaries become pieces that point at the binary's own bytes (no copy for
 * refc binaries). Integers 0..255 in lists are gathered into small scratch
 * runs in the call's arena. Nesting is walked with an explicit stack, so deep
 * iolists cannot overflow the C stack (dirty CPU threads have small stacks). */
#include <string.h>

#include "nc_backend.h"   /* this build's backend: nc_prims.h */

typedef struct {
    nocopy_call *c;
    nocopy_term top;
    nocopy_bytes *pieces;
    size_t count, cap;
    size_t total;
    uint8_t *run;              /* current run of gathered bytes, or NULL */
    size_t run_cap;
    size_t depth, stack_cap;   /* of the explicit stack of terms to visit */
} walk;

/* A term still to visit, and whether it is a list element (which may be a
 * byte) or a list tail / the top (which may not). */
typedef struct {
    uintptr_t raw;
    unsigned char is_elem;
} frame;

static int grow(walk *w, void **arr, size_t *cap, size_t elem, size_t used)
{
    size_t ncap = *cap ? *cap * 2 : 16;
    if (ncap < *cap || ncap > SIZE_MAX / elem)
        return NOCOPY_ENOMEM;
    void *n = nocopy__arena_alloc(&w->c->arena, ncap * elem);
    if (!n)
        return NOCOPY_ENOMEM;
    if (used)
        memcpy(n, *arr, used * elem);
    *arr = n;
    *cap = ncap;
    return NOCOPY_OK;
}

static int add_piece(walk *w, const uint8_t *data, size_t size)
{
    if (size == 0)
        return NOCOPY_OK;
    if (w->total > SIZE_MAX - size)
        return NOCOPY_ERANGE;
    if (w->count == w->cap &&
        grow(w, (void **)&w->pieces, &w->cap, sizeof *w->pieces, w->count))
        return NOCOPY_ENOMEM;
    w->pieces[w->count].data = data;
    w->pieces[w->count].size = size;
    w->count++;
    w->total += size;
    w->run = NULL;             /* a binary ends any byte run */
    return NOCOPY_OK;
}

/* Bytes gather in the current run. A run starts small and doubles when full
 * (copied, its piece repointed), so memory stays within about twice the
 * bytes gathered: a new run after every binary must not cost more than its
 * bytes (found by fuzz_iovec: runs used to start at the previous size). */
static int add_byte(walk *w, uint8_t byte)
{
    if (w->run) {
        nocopy_bytes *piece = &w->pieces[w->count - 1];
        if (piece->size == w->run_cap) {
            size_t cap = w->run_cap * 2;
            uint8_t *bigger = cap > w->run_cap ? nocopy__arena_alloc(&w->c->arena, cap) : NULL;
            if (!bigger)
                return NOCOPY_ENOMEM;
            memcpy(bigger, w->run, piece->size);
            w->run = bigger;
            w->run_cap = cap;
            piece->data = bigger;
        }
        w->run[piece->size++] = byte;
        w->total++;
        return NOCOPY_OK;
    }
    uint8_t *run = nocopy__arena_alloc(&w->c->arena, 32);
    if (!run)
        return NOCOPY_ENOMEM;
    run[0] = byte;
    int st = add_piece(w, run, 1);
    if (st)
        return st;
    w->run = run;
    w->run_cap = 32;
    return NOCOPY_OK;
}

static int push(walk *w, frame **stack, uintptr_t raw, unsigned char is_elem)
{
    if (w->depth == w->stack_cap &&
        grow(w, (void **)stack, &w->stack_cap, sizeof **stack, w->depth))
        return NOCOPY_ENOMEM;
    (*stack)[w->depth].raw = raw;
    (*stack)[w->depth].is_elem = is_elem;
    w->depth++;
    return NOCOPY_OK;
}

static int not_iodata(walk *w)
{
    return nocopy__fail(w->c, NOCOPY_EBADARG, w->top.argno, "expected iodata");
}

static int oom(walk *w, int st)
{
    if (st == NOCOPY_ERANGE)
        return nocopy__fail(w->c, st, w->top.argno, "iodata larger than the address space");
    return nocopy__fail(w->c, NOCOPY_ENOMEM, 0, "out of memory reading iodata");
}

int nocopy_term_iovec(nocopy_call *c, nocopy_term t, nocopy_iovec *out)
{
    if (t.raw == 0)
        return nocopy__fail(c, NOCOPY_EINTERNAL, 0, "an invalid term was read");
    walk w = {.c = c, .top = t};
    frame *stack = NULL;
    int st;

    nocopy_type top = nocopy__be_type(c, t.raw);
    if (top != NOCOPY_T_BINARY && top != NOCOPY_T_LIST && top != NOCOPY_T_NIL)
        return not_iodata(&w);
    if (top == NOCOPY_T_LIST && nocopy__be_get_iovec(c, t.raw, out) == NC_GET_OK)
        return NOCOPY_OK;
    if ((st = push(&w, &stack, t.raw, 0)))
        return oom(&w, st);

    while (w.depth > 0) {
        frame f = stack[--w.depth];
        nocopy_bytes b;
        uintptr_t head, tail;
        switch (nocopy__be_type(c, f.raw)) {
        case NOCOPY_T_BINARY:
            if (nocopy__be_get_bytes(c, f.raw, &b) != NC_GET_OK)
                return not_iodata(&w);
            if ((st = add_piece(&w, b.data, b.size)))
                return oom(&w, st);
            break;
        case NOCOPY_T_NIL:
            break;
        case NOCOPY_T_LIST:
            /* Flat stretches (binaries, bytes) are consumed in this loop; only a
             * nested list goes on the stack, after the rest of this list. */
            tail = f.raw;
            while (nocopy__be_get_list_cell(c, tail, &head, &tail) == NC_GET_OK) {
                nocopy_type ht = nocopy__be_type(c, head);
                if (ht == NOCOPY_T_BINARY && nocopy__be_get_bytes(c, head, &b) == NC_GET_OK) {
                    if ((st = add_piece(&w, b.data, b.size)))
                        return oom(&w, st);
                } else if (ht == NOCOPY_T_INTEGER) {
                    int64_t v;
                    if (nocopy__be_get_i64(c, head, &v) != NC_GET_OK || v < 0 || v > 255)
                        return not_iodata(&w);
                    if ((st = add_byte(&w, (uint8_t)v)))
                        return oom(&w, st);
                } else if (ht != NOCOPY_T_NIL) {
                    /* Visit the head before the tail: push the tail first. */
                    if ((st = push(&w, &stack, tail, 0)) || (st = push(&w, &stack, head, 1)))
                        return oom(&w, st);
                    goto next;
                }
            }
            /* The list's own tail: [], or a binary (improper iodata). */
            if ((st = push(&w, &stack, tail, 0)))
                return oom(&w, st);
            break;
        case NOCOPY_T_INTEGER: {
            int64_t v;
            if (!f.is_elem || nocopy__be_get_i64(c, f.raw, &v) != NC_GET_OK || v < 0 || v > 255)
                return not_iodata(&w);
            if ((st = add_byte(&w, (uint8_t)v)))
                return oom(&w, st);
            break;
        }
        default:
            return not_iodata(&w);
        }
    next:;
    }
    out->pieces = w.pieces;
    out->count = w.count;
    out->total = w.total;
    return NOCOPY_OK;
}
