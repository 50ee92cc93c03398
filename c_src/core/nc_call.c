/* nc_call.c: the life of one call, backend-neutral: set-up, running the wrapped
 * function, normalising its outcome, and tear-down; the measure behind
 * NOCOPY_DIRTY_ABOVE. Errors are recorded by nc_error.c. */
#include "nc_backend.h"   /* this build's backend: nc_prims.h */

void nocopy__call_init(nocopy_call *c, const nocopy_module *mod, const nocopy_func *func,
                       unsigned argc, const uintptr_t *argv)
{
    c->mod = mod;
    c->func = func;
    c->argc = argc;
    c->argv = argv;
    c->result = 0;
    c->err_status = NOCOPY_OK;
    c->err_argno = 0;
    c->err_text[0] = '\0';
    c->bytes_raw = 0;
    c->borrow1 = NULL;
    c->borrows = NULL;
    c->arena.head = NULL;
    c->arena.inline_used = 0;
}

void nocopy__call_end_borrows(nocopy_call *c)
{
    if (c->borrow1) {
        nocopy__handle_end_use(c->borrow1);
        c->borrow1 = NULL;
    }
    for (nocopy__borrow *b = c->borrows; b; b = b->next)
        nocopy__handle_end_use(b->h);
    c->borrows = NULL;
}

__attribute__((noinline)) static void finish_held(nocopy_call *c)
{
    nocopy__call_end_borrows(c);
    nocopy__arena_free(&c->arena);
}

void nocopy__call_finish(nocopy_call *c)
{
    /* Most calls borrow no handle that needs ending and fit the arena's
     * inline bytes: nothing to release. */
    if (c->borrow1 || c->borrows || c->arena.head)
        finish_held(c);
    c->arena.inline_used = 0;
}

/* A call that did not end with a result: describe why, if it did not. */
__attribute__((noinline)) int nocopy__call_outcome(nocopy_call *c, int st)
{
    if (st == NOCOPY_OK)
        return nocopy__fail(c, NOCOPY_EINTERNAL, 0,
                            "%s/%u returned without a result", c->func->name,
                            c->func->arity);
    if (st > 0)
        return nocopy__fail(c, NOCOPY_EINTERNAL, 0,
                            "%s/%u returned the invalid status %d", c->func->name,
                            c->func->arity, st);
    if (c->err_status != st) {
        /* The function returned a status it did not record: describe it. */
        if (st == NOCOPY_EBADARG)
            nocopy__fail(c, st, 0, "bad argument");
        else
            nocopy__fail(c, st, 0, "%s", nocopy_strerror(st));
    }
    return st;
}

int nocopy__call_run(nocopy_call *c)
{
    return nocopy__call_run_fn(c, c->func->fn);
}

/* The measure behind NOCOPY_DIRTY_ABOVE looks at most this many terms in all,
 * nested at most this deep, so that the scheduling decision costs O(1) for any
 * argument: enough for iodata of thousands of pieces and for the usual nesting
 * of iolists. fuzz/fuzz_args.c models it (ref_arg_bytes) and must change with
 * it. */
#define MEASURE_TERMS 4096
#define MEASURE_DEPTH 64

typedef struct measure_frame {
    uintptr_t raw;          /* the tuple, or the list cell */
    unsigned next;          /* tuple: next element; list: 0 head to do, 1 tail */
    unsigned depth;
    bool tuple;
} measure_frame;

typedef struct measure {
    nocopy_call *c;
    measure_frame stack[MEASURE_DEPTH];
    unsigned sp;
    size_t visited, total;
} measure;

static size_t add_sat(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

/* Visits one term at `depth`: counts a binary, opens a tuple or list cell
 * (its contents are visited next, depth-first, left to right; a list's tail
 * stays at the list's depth). False once the term budget is spent. */
static bool measure_visit(measure *m, uintptr_t raw, unsigned depth)
{
    nocopy_call *c = m->c;
    nocopy_bytes b;
    if (m->visited == MEASURE_TERMS)
        return false;
    m->visited++;
    switch (nocopy__be_type(c, raw)) {
    case NOCOPY_T_BINARY:
        if (nocopy__be_get_bytes(c, raw, &b) == NC_GET_OK)
            m->total = add_sat(m->total, b.size);
        break;
    case NOCOPY_T_TUPLE:
    case NOCOPY_T_LIST:
        if (depth < MEASURE_DEPTH)
            m->stack[m->sp++] = (measure_frame){raw, 0, depth,
                                                nocopy__be_type(c, raw) == NOCOPY_T_TUPLE};
        break;
    default:
        break;
    }
    return true;
}

size_t nocopy__binary_arg_bytes(nocopy_call *c)
{
    measure m = {.c = c};
    for (unsigned i = 0; i < c->argc; i++) {
        if (!measure_visit(&m, c->argv[i], 0))
            return m.total;
        while (m.sp > 0) {
            measure_frame *f = &m.stack[m.sp - 1];
            bool more;
            if (f->tuple) {
                unsigned n;
                const uintptr_t *el;
                if (nocopy__be_get_tuple(c, f->raw, &n, &el) != NC_GET_OK || f->next == n) {
                    m.sp--;
                    continue;
                }
                more = measure_visit(&m, el[f->next++], f->depth + 1);
            } else {
                uintptr_t head, tail;
                if (nocopy__be_get_list_cell(c, f->raw, &head, &tail) != NC_GET_OK) {
                    m.sp--;                 /* pushed as a cell: cannot happen */
                    continue;
                }
                if (f->next == 0) {
                    f->next = 1;
                    more = measure_visit(&m, head, f->depth + 1);
                } else {
                    unsigned depth = f->depth;
                    m.sp--;                 /* the tail takes the cell's place */
                    more = measure_visit(&m, tail, depth);
                }
            }
            if (!more)
                return m.total;
        }
    }
    return m.total;
}

void nocopy_consume(nocopy_call *call, size_t bytes)
{
    nocopy__be_consume(call, bytes);
}
