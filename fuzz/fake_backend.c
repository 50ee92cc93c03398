/* fake_backend.c: see fake_backend.h. */
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
static uint8_t *exact_alloc(size_t size)
{
    uint8_t *p = malloc(size ? size : 1);
    if (!p)
        fk_die("out of memory in the harness");
    return p;
}

uintptr_t fk_new_bin_copy(const uint8_t *data, size_t size)
{
    uint8_t *p = exact_alloc(size);
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

static nocopy__handle *fk_handle_alloc(const nocopy_handle_type *type, unsigned index)
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

static void fk_handle_keep(nocopy__handle *h)
{
    if (*refs_of(h) <= 0)
        fk_die("keep of a handle with no reference");
    ++*refs_of(h);
}

static void fk_handle_release(nocopy__handle *h)
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
    nocopy__backend = &fk_ops;
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
    nocopy__call_init(c, &fk_ops, &fk_module, &fk_funcs[0], argc, argv);
}

/* ---- reading ------------------------------------------------------------ */

static nocopy_type o_type(nocopy_call *c, uintptr_t raw)
{
    (void)c;
    switch (fk_get(raw)->kind) {
    case FK_INT: case FK_UINT: case FK_BIG: return NOCOPY_T_INTEGER;
    case FK_FLOAT: return NOCOPY_T_FLOAT;
    case FK_ATOM: return NOCOPY_T_ATOM;
    case FK_BIN: return NOCOPY_T_BINARY;
    case FK_BITS: return NOCOPY_T_BITSTRING;
    case FK_TUPLE: return NOCOPY_T_TUPLE;
    case FK_CONS: return NOCOPY_T_LIST;
    case FK_NIL: return NOCOPY_T_NIL;
    case FK_HANDLE: return NOCOPY_T_HANDLE;
    default: return NOCOPY_T_OTHER;
    }
}

static int o_get_i64(nocopy_call *c, uintptr_t raw, int64_t *out)
{
    (void)c;
    fk_node *n = fk_get(raw);
    switch (n->kind) {
    case FK_INT: *out = n->i; return NC_GET_OK;
    case FK_UINT: case FK_BIG: return NC_GET_RANGE;
    default: return NC_GET_TYPE;
    }
}

static int o_get_u64(nocopy_call *c, uintptr_t raw, uint64_t *out)
{
    (void)c;
    fk_node *n = fk_get(raw);
    switch (n->kind) {
    case FK_INT:
        if (n->i < 0)
            return NC_GET_RANGE;
        *out = (uint64_t)n->i;
        return NC_GET_OK;
    case FK_UINT: *out = n->u; return NC_GET_OK;
    case FK_BIG: return NC_GET_RANGE;
    default: return NC_GET_TYPE;
    }
}

static int o_get_double(nocopy_call *c, uintptr_t raw, double *out)
{
    (void)c;
    fk_node *n = fk_get(raw);
    if (n->kind != FK_FLOAT)
        return NC_GET_TYPE;
    *out = n->f;
    return NC_GET_OK;
}

static int o_get_atom(nocopy_call *c, uintptr_t raw, nocopy_atom *out)
{
    (void)c;
    fk_node *n = fk_get(raw);
    if (n->kind != FK_ATOM)
        return NC_GET_TYPE;
    if (!n->atom_known)
        return NC_GET_UNKNOWN;
    *out = n->atom;
    return NC_GET_OK;
}

static int o_get_bytes(nocopy_call *c, uintptr_t raw, nocopy_bytes *out)
{
    (void)c;
    fk_node *n = fk_get(raw);
    if (n->kind != FK_BIN)
        return NC_GET_TYPE;
    out->data = n->data;
    out->size = n->size;
    return NC_GET_OK;
}

static int o_get_tuple(nocopy_call *c, uintptr_t raw, unsigned *arity,
                       const uintptr_t **elems)
{
    (void)c;
    fk_node *n = fk_get(raw);
    if (n->kind != FK_TUPLE)
        return NC_GET_TYPE;
    *arity = n->arity;
    *elems = n->elems;
    return NC_GET_OK;
}

static int o_get_list_cell(nocopy_call *c, uintptr_t raw, uintptr_t *head, uintptr_t *tail)
{
    (void)c;
    fk_node *n = fk_get(raw);
    if (n->kind != FK_CONS)
        return NC_GET_TYPE;
    *head = n->head;
    *tail = n->tail;
    return NC_GET_OK;
}

static int o_get_handle(nocopy_call *c, uintptr_t raw, nocopy__handle **out)
{
    (void)c;
    fk_node *n = fk_get(raw);
    if (n->kind != FK_HANDLE)
        return NC_GET_TYPE;
    *out = n->h;
    return NC_GET_OK;
}

typedef struct fk_kept {
    nocopy_kept base;
    uint8_t *copy;
} fk_kept;

static void kept_release(nocopy_kept *k)
{
    fk_kept *fkk = (fk_kept *)k;
    if (fk.live_kept <= 0)
        fk_die("kept binary released more often than kept");
    free(fkk->copy);
    free(fkk);
    fk.live_kept--;
}

static fk_kept *kept_new(uint8_t *owned, size_t size)
{
    fk_kept *k = malloc(sizeof *k);
    if (!k)
        fk_die("out of memory in the harness");
    k->copy = owned;
    k->base.view.data = owned;
    k->base.view.size = size;
    k->base.release = kept_release;
    fk.live_kept++;
    return k;
}

static int o_keep(nocopy_call *c, uintptr_t raw, const nocopy_bytes *view, nocopy_kept **out)
{
    (void)c;
    fk_node *n = fk_get(raw);
    if (n->kind != FK_BIN || view->data != n->data || view->size != n->size)
        fk_die("keep of a term that is not the binary viewed");
    uint8_t *copy = exact_alloc(n->size);
    if (n->size)
        memcpy(copy, n->data, n->size);
    *out = &kept_new(copy, n->size)->base;
    return NOCOPY_OK;
}

/* ---- building ------------------------------------------------------------ */

static nocopy_value o_make_i64(nocopy_call *c, int64_t v)
{
    (void)c;
    return fk_new_int(v);
}

static nocopy_value o_make_u64(nocopy_call *c, uint64_t v)
{
    (void)c;
    if (v <= INT64_MAX)
        return fk_new_int((int64_t)v);
    uintptr_t r = fk_new(FK_UINT);
    fk_get(r)->u = v;
    return r;
}

static nocopy_value o_make_double(nocopy_call *c, double v)
{
    if (!isfinite(v)) {            /* as the NIF backend: Erlang has no NaN */
        nocopy__fail(c, NOCOPY_ERANGE, 0, "not finite");
        return 0;
    }
    uintptr_t r = fk_new(FK_FLOAT);
    fk_get(r)->f = v;
    return r;
}

static nocopy_value o_make_atom(nocopy_call *c, nocopy_atom a)
{
    (void)c;
    if (!(a < 0 ? a >= -NOCOPY_ATOM_BUILTIN_COUNT : a < FK_NATOMS))
        fk_die("make_atom given an atom index the core should have refused");
    uintptr_t r = fk_new(FK_ATOM);
    fk_get(r)->atom = a;
    fk_get(r)->atom_known = true;
    return r;
}

static nocopy_value o_make_tuple(nocopy_call *c, unsigned n, const nocopy_value *e)
{
    (void)c;
    uintptr_t *copy = malloc((n ? n : 1) * sizeof *copy);
    if (!copy)
        fk_die("out of memory in the harness");
    for (unsigned i = 0; i < n; i++) {
        fk_get(e[i]);
        copy[i] = e[i];
    }
    uintptr_t r = fk_new(FK_TUPLE);
    fk_get(r)->elems = copy;
    fk_get(r)->arity = n;
    return r;
}

static nocopy_value o_make_list(nocopy_call *c, size_t n, const nocopy_value *e)
{
    (void)c;
    for (size_t i = 0; i < n; i++)
        fk_get(e[i]);
    uintptr_t tail = fk_new(FK_NIL);
    for (size_t i = n; i-- > 0;) {
        uintptr_t cell = fk_new(FK_CONS);
        fk_get(cell)->head = e[i];
        fk_get(cell)->tail = tail;
        tail = cell;
    }
    return tail;
}

typedef struct fk_buf {
    nocopy__buf base;
} fk_buf;

static int buf_resize(nocopy__buf *b, size_t size)
{
    if (size > fk.max_alloc)
        return NOCOPY_ENOMEM;
    uint8_t *n = exact_alloc(size);
    size_t keep = size < b->pub.size ? size : b->pub.size;
    if (keep)
        memcpy(n, b->pub.data, keep);
    free(b->pub.data);
    b->pub.data = n;
    b->pub.size = size;
    return NOCOPY_OK;
}

static void buf_free(nocopy__buf *b)
{
    if (fk.live_bufs <= 0)
        fk_die("nocopy_buf freed more often than allocated");
    free(b->pub.data);
    free(b);
    fk.live_bufs--;
}

static nocopy__buf *o_buf_alloc(size_t size)
{
    if (size > fk.max_alloc)
        return NULL;
    fk_buf *b = malloc(sizeof *b);
    if (!b)
        fk_die("out of memory in the harness");
    b->base.pub.data = exact_alloc(size);
    b->base.pub.size = size;
    b->base.resize = buf_resize;
    b->base.free = buf_free;
    fk.live_bufs++;
    return &b->base;
}

static nocopy_value o_make_buf(nocopy_call *c, nocopy__buf *b)
{
    (void)c;
    if (fk.live_bufs <= 0)
        fk_die("make_buf of a buffer that is not live");
    uintptr_t r = fk_new(FK_BIN);
    fk_node *n = fk_get(r);
    n->data = b->pub.data;
    n->size = b->pub.size;
    n->owns_data = true;
    free(b);
    fk.live_bufs--;
    return r;
}

static nocopy_kept *o_buf_share(nocopy_call *c, nocopy__buf *b)
{
    (void)c;
    if (fk.live_bufs <= 0)
        fk_die("buf_share of a buffer that is not live");
    fk_kept *k = kept_new(b->pub.data, b->pub.size);
    free(b);
    fk.live_bufs--;
    return &k->base;
}

static nocopy_value o_make_slice(nocopy_call *c, uintptr_t raw, const nocopy_bytes *view,
                                 size_t offset, size_t len)
{
    (void)c;
    fk_node *n = fk_get(raw);
    if (n->kind != FK_BIN || view->data != n->data || view->size != n->size)
        fk_die("make_slice of a term that is not the binary viewed");
    if (offset > n->size || len > n->size - offset)
        fk_die("make_slice with an offset/length the core should have refused");
    const uint8_t *data = n->data + offset;
    uintptr_t r = fk_new(FK_BIN);
    fk_get(r)->data = data;
    fk_get(r)->size = len;
    return r;
}

static nocopy_value o_make_kept(nocopy_call *c, const nocopy_kept *k, size_t offset,
                                size_t len)
{
    (void)c;
    if (offset > k->view.size || len > k->view.size - offset)
        fk_die("make_kept with an offset/length the core should have refused");
    /* The term refers to the kept bytes; as in the NIF, it copies nothing. The
     * harness releases kept binaries only after it stops reading terms. */
    uintptr_t r = fk_new(FK_BIN);
    fk_get(r)->data = k->view.data + offset;
    fk_get(r)->size = len;
    return r;
}

static nocopy_value o_make_foreign(nocopy_call *c, const void *data, size_t size,
                                   nocopy_release_fn release, void *obj)
{
    (void)c;
    uintptr_t r = fk_new(FK_BIN);
    fk_node *n = fk_get(r);
    n->data = data;
    n->size = size;
    n->release = release;
    n->release_obj = obj;
    if (release)
        fk.foreign_made++;
    return r;
}

static nocopy_value o_make_copy(nocopy_call *c, const void *data, size_t size)
{
    (void)c;
    return fk_new_bin_copy(data, size);
}

static nocopy_value o_make_handle(nocopy_call *c, nocopy__handle *h)
{
    (void)c;
    if (*refs_of(h) <= 0)
        fk_die("make_handle of a handle with no reference");
    uintptr_t r = fk_new(FK_HANDLE);
    fk_get(r)->h = h;
    return r;
}

const nocopy__ops fk_ops = {
    .name = "fake",
    .type = o_type,
    .get_i64 = o_get_i64,
    .get_u64 = o_get_u64,
    .get_double = o_get_double,
    .get_atom = o_get_atom,
    .get_bytes = o_get_bytes,
    .get_tuple = o_get_tuple,
    .get_list_cell = o_get_list_cell,
    .get_handle = o_get_handle,
    .keep = o_keep,
    .make_i64 = o_make_i64,
    .make_u64 = o_make_u64,
    .make_double = o_make_double,
    .make_atom = o_make_atom,
    .make_tuple = o_make_tuple,
    .make_list = o_make_list,
    .make_buf = o_make_buf,
    .make_slice = o_make_slice,
    .make_kept = o_make_kept,
    .make_foreign = o_make_foreign,
    .make_copy = o_make_copy,
    .make_handle = o_make_handle,
    .buf_alloc = o_buf_alloc,
    .buf_share = o_buf_share,
    .handle_alloc = fk_handle_alloc,
    .handle_keep = fk_handle_keep,
    .handle_release = fk_handle_release,
    .consume = NULL,
};
