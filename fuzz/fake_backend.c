/* fake_backend.c: the fake backend's world (fake_backend.h): the module, the
 * term table, handles, and the checks at the end of each input. Its
 * primitives are in fake_prims.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_backend.h"

fk_world fk;


void fk_die(const char *what)
{
    fprintf(stderr, "fake backend: broken promise: %s\n", what);
    abort();
}

/* ---- the fake module ------------------------------------------------------- */

static void fk_dtor(void *obj)
{
    fk_obj *o = obj;
    if (o->magic != FK_LIVE)
        fk_die("handle destructor ran on an object that is not live (twice?)");
    o->magic = FK_DEAD;
    fk.dtor_runs++;
}

const nocopy_handle_type fk_type_a = {"alpha", sizeof(fk_obj), fk_dtor};
const nocopy_handle_type fk_type_b = {"beta", sizeof(fk_obj), fk_dtor};
const nocopy_handle_type fk_type_unlisted = {"unlisted", sizeof(fk_obj), fk_dtor};
static const nocopy_handle_type *const fk_types[] = {&fk_type_a, &fk_type_b, NULL};

/* Long names, so that the "expected one of the atoms ..." text must be cut. */
static const char *const fk_atoms[FK_NATOMS + 1] = {
    "red", "green", "blue", "an_atom_with_a_fairly_long_name_0",
    "an_atom_with_a_fairly_long_name_1", "an_atom_with_a_fairly_long_name_2",
    "an_atom_with_a_fairly_long_name_3", "an_atom_with_a_fairly_long_name_4",
    "an_atom_with_a_fairly_long_name_5", "an_atom_with_a_fairly_long_name_6",
    "x", "y", "z",
    "an_atom_whose_name_alone_is_longer_than_the_whole_error_message_buffer_"
    "of_one_hundred_and_sixty_bytes_so_that_even_the_first_entry_is_cut_short_"
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    NULL};

static int fk_fn(nocopy_call *c)
{
    (void)c;
    return NOCOPY_EINTERNAL;
}

static const nocopy_func fk_funcs[] = {
    {"fuzz", 0, fk_fn, "", "term()", NOCOPY_NORMAL, 0, NULL},
};

const nocopy_module fk_module = {
    .name = "fuzz",
    .funcs = fk_funcs,
    .nfuncs = 1,
    .atoms = fk_atoms,
    .handle_types = fk_types,
};

/* ---- nodes ---------------------------------------------------------------- */

fk_node *fk_get(uintptr_t raw)
{
    if (raw == 0 || raw > fk.n)
        fk_die("the core passed a term word that is not a term");
    return &fk.nodes[raw - 1];
}

uintptr_t fk_new(fk_kind kind)
{
    if (fk.n == fk.cap) {
        size_t ncap = fk.cap ? fk.cap * 2 : 256;
        fk_node *n = realloc(fk.nodes, ncap * sizeof *n);
        if (!n)
            fk_die("out of memory in the harness");
        fk.nodes = n;
        fk.cap = ncap;
    }
    fk_node *n = &fk.nodes[fk.n++];
    fk.logical++;
    memset(n, 0, sizeof *n);
    n->kind = kind;
    return fk.n;
}

uintptr_t fk_new_int(int64_t v)
{
    uintptr_t r = fk_new(FK_INT);
    fk_get(r)->i = v;
    return r;
}

/* Every binary gets its own block of exactly `size` bytes (never NULL). */
uint8_t *fk_exact_alloc(size_t size)
{
    uint8_t *p = malloc(size ? size : 1);
    if (!p)
        fk_die("out of memory in the harness");
    return p;
}

uintptr_t fk_new_bin_copy(const uint8_t *data, size_t size)
{
    uint8_t *p = fk_exact_alloc(size);
    if (size)
        memcpy(p, data, size);
    uintptr_t r = fk_new(FK_BIN);
    fk_node *n = fk_get(r);
    n->data = p;
    n->size = size;
    n->owns_data = true;
    return r;
}

/* ---- handles ------------------------------------------------------------ */

static long *refs_of(nocopy__handle *h)
{
    return (long *)h->backend;
}

long fk_handle_refs(nocopy__handle *h)
{
    return *refs_of(h);
}

nocopy__handle *fk_handle_alloc(const nocopy_handle_type *type, unsigned index)
{
    nocopy__handle *h = calloc(1, sizeof(nocopy__handle) + type->size);
    long *refs = malloc(sizeof *refs);
    if (!h || !refs)
        fk_die("out of memory in the harness");
    nocopy__handle_init(h, type, index);
    *refs = 1;
    h->backend = refs;
    fk.live_handles++;
    return h;
}

void fk_handle_keep(nocopy__handle *h)
{
    if (*refs_of(h) <= 0)
        fk_die("keep of a handle with no reference");
    ++*refs_of(h);
}

void fk_handle_release(nocopy__handle *h)
{
    if (*refs_of(h) <= 0)
        fk_die("release of a handle with no reference");
    if (--*refs_of(h) == 0) {
        nocopy__handle_finalize(h);
        free(h->backend);
        free(h);
        fk.live_handles--;
    }
}

uintptr_t fk_new_handle(const nocopy_handle_type *type, bool closed)
{
    int idx = nocopy__handle_type_index(&fk_module, type);
    FK_ASSERT(idx >= 0);
    nocopy__handle *h = fk_handle_alloc(type, (unsigned)idx);
    ((fk_obj *)NC_HANDLE_OBJ(h))->magic = FK_LIVE;
    if (closed && nocopy_handle_close(NC_HANDLE_OBJ(h)) != NOCOPY_OK)
        fk_die("closing a fresh handle failed");
    uintptr_t r = fk_new(FK_HANDLE);
    fk_get(r)->h = h;
    return r;
}

/* ---- the world ------------------------------------------------------------ */

void fk_begin(void)
{
    fk.n = 0;
    fk.logical = 0;
    fk.max_nodes = 200000;
    fk.live_bufs = fk.live_kept = fk.live_handles = 0;
    fk.dtor_runs = fk.foreign_releases = fk.foreign_made = 0;
    fk.max_alloc = 1u << 20;
    fk.arena_bytes = 0;
    fk.arena_limit = (size_t)256 << 20;
    fk.arena_exhausted = false;
}

size_t fk_arena_size(const nocopy__arena *a)
{
    size_t total = a->inline_used;
    for (const nocopy__arena_block *b = a->head; b; b = b->next)
        total += b->size;
    return total;
}

void fk_end(void)
{
    /* Drop the terms as a garbage collection would: references first. */
    for (size_t i = 0; i < fk.n; i++) {
        fk_node *n = &fk.nodes[i];
        if (n->kind == FK_HANDLE)
            fk_handle_release(n->h);
        if (n->release) {
            n->release(n->release_obj);
            fk.foreign_releases++;
        }
        if (n->owns_data)
            free((void *)n->data);
        if (n->kind == FK_TUPLE)
            free(n->elems);
    }
    fk.n = 0;
    if (fk.cap > (1u << 18)) {        /* keep the table between inputs, unless huge */
        free(fk.nodes);
        fk.nodes = NULL;
        fk.cap = 0;
    }
    if (fk.live_bufs != 0)
        fk_die("a nocopy_buf was neither handed over nor freed");
    if (fk.live_kept != 0)
        fk_die("a kept binary was never released");
    if (fk.live_handles != 0)
        fk_die("a handle reference was never released");
    if (fk.foreign_releases != fk.foreign_made)
        fk_die("foreign memory was not released exactly once");
}

void fk_call_init(nocopy_call *c, unsigned argc, const uintptr_t *argv)
{
    nocopy__call_init(c, &fk_module, &fk_funcs[0], argc, argv);
}
