/* fake_backend.h: a backend made of plain C structs, for fuzzing the core.
 *
 * The core (c_src/core/) only ever sees terms through the primitives of
 * nc_prims.h; the fuzz build binds them to this backend (fuzz/nc_backend.h),
 * which implements them over a table of synthetic terms built from fuzz bytes, so
 * the core's readers, iodata walker and format strings can be fed hostile
 * terms with no VM. It is deliberately strict: every term word the core hands
 * back is checked, every precondition nc_prims.h documents ("offset/len
 * already range-checked", "a is valid") is asserted, and every binary lives in
 * its own exact-size malloc block so AddressSanitizer sees any read past it.
 * A broken promise calls fk_die(), which aborts: the fuzzer reports a crash.
 *
 * Terms and values share one space: index + 1 into fk.nodes (0 is never a
 * term). Everything allocated during one input is freed by fk_end(), which
 * also checks that no buffer, kept binary or handle is left over. */
#ifndef NC_FAKE_BACKEND_H
#define NC_FAKE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nc_internal.h"

typedef enum fk_kind {
    FK_INT = 1,      /* fits int64_t: .i */
    FK_UINT,         /* in [2^63, 2^64): .u */
    FK_BIG,          /* outside both: a bignum */
    FK_FLOAT,        /* .f, always finite (Erlang has no NaN or infinity) */
    FK_ATOM,         /* .atom, .atom_known */
    FK_BIN,          /* .data/.size */
    FK_BITS,         /* bitstring with trailing bits */
    FK_TUPLE,        /* .elems/.arity */
    FK_CONS,         /* .head/.tail */
    FK_NIL,
    FK_HANDLE,       /* .h: this node holds one reference */
    FK_OTHER         /* pid, port, map, ... */
} fk_kind;

typedef struct fk_node {
    fk_kind kind;
    int64_t i;
    uint64_t u;
    double f;
    nocopy_atom atom;
    bool atom_known;
    const uint8_t *data;
    size_t size;
    bool owns_data;              /* free(data) at the end */
    uintptr_t *elems;            /* exact-size malloc (never NULL for a tuple) */
    unsigned arity;
    uintptr_t head, tail;
    nocopy__handle *h;
    nocopy_release_fn release;   /* foreign memory: run once at the end */
    void *release_obj;
} fk_node;

/* The object behind every fake handle type. */
#define FK_LIVE 0x4C495645u
#define FK_DEAD 0x44454144u
typedef struct fk_obj {
    uint32_t magic;
    uint32_t pad;
} fk_obj;

typedef struct fk_world {
    fk_node *nodes;
    size_t n, cap;
    size_t logical;              /* nodes a walk visits: n, plus every node of a
                                  * repeated list element once per repetition */
    size_t max_nodes;            /* the parser's bound on `logical` */
    long live_bufs, live_kept, live_handles;
    long dtor_runs, foreign_releases, foreign_made;
    size_t max_alloc;            /* buf_alloc above this fails (simulated ENOMEM) */
    /* Arena accounting, kept by fuzz/arena_exact.c (the libFuzzer builds; the
     * replays link the real arena and leave these at 0): bytes in use, and a
     * limit past which allocations fail, as malloc would, so a hostile input
     * ends with ENOMEM rather than exhausting the fuzzer. */
    size_t arena_bytes, arena_limit;
    bool arena_exhausted;
} fk_world;

extern fk_world fk;
extern const nocopy_module fk_module;
extern const nocopy_handle_type fk_type_a, fk_type_b, fk_type_unlisted;
#define FK_NATOMS 14

__attribute__((noreturn)) void fk_die(const char *what);
#define FK_ASSERT(cond)                                                        \
    do {                                                                       \
        if (!(cond))                                                           \
            fk_die(#cond);                                                     \
    } while (0)

void fk_begin(void);
void fk_end(void);

fk_node *fk_get(uintptr_t raw);                 /* dies on a bad term word */
uintptr_t fk_new(fk_kind kind);                 /* a zeroed node of that kind */
uintptr_t fk_new_int(int64_t v);
uintptr_t fk_new_bin_copy(const uint8_t *data, size_t size);
uintptr_t fk_new_handle(const nocopy_handle_type *type, bool closed);
/* An exact-size malloc block, so ASan sees a read one byte past it. */
uint8_t *fk_exact_alloc(size_t size);

/* Handle memory, with a reference count the harness checks (the primitives
 * handle_alloc, handle_keep and handle_release, fuzz/nc_backend.h). */
nocopy__handle *fk_handle_alloc(const nocopy_handle_type *type, unsigned index);
void fk_handle_keep(nocopy__handle *h);
void fk_handle_release(nocopy__handle *h);
long fk_handle_refs(nocopy__handle *h);

/* The other primitives, over the term table (fake_prims.c). */
nocopy_type fk_be_type(nocopy_call *c, uintptr_t raw);
int fk_be_get_i64(nocopy_call *c, uintptr_t raw, int64_t *out);
int fk_be_get_u64(nocopy_call *c, uintptr_t raw, uint64_t *out);
int fk_be_get_double(nocopy_call *c, uintptr_t raw, double *out);
int fk_be_get_atom(nocopy_call *c, uintptr_t raw, nocopy_atom *out);
int fk_be_get_bytes(nocopy_call *c, uintptr_t raw, nocopy_bytes *out);
int fk_be_get_tuple(nocopy_call *c, uintptr_t raw, unsigned *arity,
                    const uintptr_t **elems);
int fk_be_get_list_cell(nocopy_call *c, uintptr_t raw, uintptr_t *head, uintptr_t *tail);
int fk_be_get_handle(nocopy_call *c, uintptr_t raw, nocopy__handle **out);
int fk_be_keep(nocopy_call *c, uintptr_t raw, const nocopy_bytes *view, nocopy_kept **out);
nocopy_value fk_be_make_i64(nocopy_call *c, int64_t v);
nocopy_value fk_be_make_u64(nocopy_call *c, uint64_t v);
nocopy_value fk_be_make_double(nocopy_call *c, double v);
nocopy_value fk_be_make_atom(nocopy_call *c, nocopy_atom a);
nocopy_value fk_be_make_tuple(nocopy_call *c, unsigned n, const nocopy_value *e);
nocopy_value fk_be_make_list(nocopy_call *c, size_t n, const nocopy_value *e);
nocopy_value fk_be_make_buf(nocopy_call *c, nocopy__buf *b);
nocopy_value fk_be_make_slice(nocopy_call *c, uintptr_t raw, const nocopy_bytes *view,
                              size_t offset, size_t len);
nocopy_value fk_be_make_kept(nocopy_call *c, const nocopy_kept *k, size_t offset,
                             size_t len);
nocopy_value fk_be_make_foreign(nocopy_call *c, const void *data, size_t size,
                                nocopy_release_fn release, void *obj);
nocopy_value fk_be_make_copy(nocopy_call *c, const void *data, size_t size);
nocopy_value fk_be_make_handle(nocopy_call *c, nocopy__handle *h);
nocopy__buf *fk_be_buf_alloc(size_t size);
nocopy_kept *fk_be_buf_share(nocopy_call *c, nocopy__buf *b);

/* Reads fuzz bytes; past the end every read gives zeros. */
typedef struct fk_in {
    const uint8_t *p;
    size_t n;
} fk_in;
uint8_t fk_u8(fk_in *in);
uint16_t fk_u16(fk_in *in);
uint64_t fk_u64(fk_in *in);

/* Builds a synthetic term from the input: integers of every class, floats,
 * known and unknown atoms, binaries of sizes 0..4096 (0..79 favoured),
 * bitstrings, tuples (arities up to 69), list cells, long flat lists, deep
 * nests of up to 65535 levels, handles (open or closed, two types) and other
 * terms. Built iteratively where depth is unbounded. */
uintptr_t fk_parse_term(fk_in *in);

/* Reference implementations, written independently of the core. */
/* iodata flattening: 1 and the bytes in *out (malloc'd, caller frees), or 0 if
 * the term is not iodata. */
int fk_flatten_iodata(uintptr_t raw, uint8_t **out, size_t *size);

/* Bytes of scratch memory a call's arena holds (its blocks and inline part),
 * whichever arena implementation is linked. */
size_t fk_arena_size(const nocopy__arena *a);

/* Starts a call over argv with the fake module and its first function. */
void fk_call_init(nocopy_call *c, unsigned argc, const uintptr_t *argv);

#endif /* NC_FAKE_BACKEND_H */
