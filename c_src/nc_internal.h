/* nc_internal.h: what the backend-neutral core (nc_*.c) and the backends
 * (nc_nif*.c, nc_drv*.c) share. Never installed; users include nocopy.h only.
 *
 * Shape: each library is built for exactly one backend, which installs its
 * operation table (nocopy__ops) before the first call. The core implements the
 * public API on top of those operations: range checks, error texts, iodata
 * walking, format strings, handle state. A backend embeds `struct nocopy_call`
 * as the first member of its own per-call struct. */
#ifndef NC_INTERNAL_H
#define NC_INTERNAL_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nocopy.h"

#define NC_ERR_TEXT_MAX 160

/* Alignment of arena memory and of handle objects: what enif_alloc_resource and
 * driver_alloc guarantee (8 bytes on 64-bit), so structs that embed these are
 * never over-aligned for the memory the runtime gives us. */
#define NC_ALIGN 8

/* ---- per-call scratch memory ------------------------------------------- */

/* Bump allocator for memory that lives exactly as long as a call (tuple element
 * arrays, iovec pieces, gathered integer bytes). The first block is inline so
 * that short calls never allocate. */
typedef struct nocopy__arena_block {
    struct nocopy__arena_block *next;
    size_t size, used;
    _Alignas(NC_ALIGN) unsigned char data[];
} nocopy__arena_block;

typedef struct nocopy__arena {
    nocopy__arena_block *head;           /* malloc'd blocks, newest first */
    size_t inline_used;
    _Alignas(NC_ALIGN) unsigned char inline_buf[1024];
} nocopy__arena;

void *nocopy__arena_alloc(nocopy__arena *a, size_t size);    /* NULL: no memory */
void nocopy__arena_free(nocopy__arena *a);

/* ---- handles ------------------------------------------------------------ */

/* Header placed in front of every handle's C object. The object starts at
 * NC_HANDLE_OBJ(h). Lifetime has two independent parts:
 * the memory (backend refcount: NIF resource, driver refcount) and the object's
 * state (open -> closed -> destroyed), so that an explicit close can run the
 * destructor early while the memory stays valid for stale terms. The object is
 * aligned to NC_ALIGN (8) bytes. */
#define NC_HANDLE_CLOSED    1u
#define NC_HANDLE_DESTROYED 2u
#define NC_HANDLE_USER      4u            /* one borrowing call, counted in state */

typedef struct nocopy__handle {
    const nocopy_handle_type *type;
    _Atomic unsigned state;
    unsigned type_index;                  /* index in module->handle_types */
    void *backend;                        /* backend's own pointer, if any */
    _Alignas(NC_ALIGN) unsigned char obj[];
} nocopy__handle;

#define NC_HANDLE_OBJ(h) ((void *)(h)->obj)
#define NC_HANDLE_OF(object) \
    ((nocopy__handle *)((unsigned char *)(object) - offsetof(nocopy__handle, obj)))

/* Begin/end a call's use of a handle. begin fails (false) if closed. */
bool nocopy__handle_begin_use(nocopy__handle *h);
void nocopy__handle_end_use(nocopy__handle *h);
/* The memory is going away (last reference): run the destructor if it has not
 * run yet. Called by the backend's release path. */
void nocopy__handle_finalize(nocopy__handle *h);
/* Initialise a fresh header (state open, no users). */
void nocopy__handle_init(nocopy__handle *h, const nocopy_handle_type *type,
                         unsigned type_index);

/* ---- kept binaries and buffers ------------------------------------------ */

/* A backend's kept binary starts with this. */
struct nocopy_kept {
    nocopy_bytes view;
    void (*release)(nocopy_kept *k);
};

/* A backend's buffer starts with the public part. */
typedef struct nocopy__buf {
    nocopy_buf pub;
    int (*resize)(struct nocopy__buf *b, size_t size);
    void (*free)(struct nocopy__buf *b);
} nocopy__buf;

/* ---- the operation table a backend provides ------------------------------ */

/* Result codes of the reading operations. */
#define NC_GET_OK       0
#define NC_GET_TYPE     1                 /* wrong type */
#define NC_GET_RANGE    2                 /* integer does not fit */
#define NC_GET_UNKNOWN  3                 /* atom not in the module's table */

typedef struct nocopy__ops {
    const char *name;                     /* "nif", "driver" */

    /* Reading terms. `raw` is a backend term word. */
    nocopy_type (*type)(nocopy_call *c, uintptr_t raw);
    int (*get_i64)(nocopy_call *c, uintptr_t raw, int64_t *out);
    int (*get_u64)(nocopy_call *c, uintptr_t raw, uint64_t *out);
    int (*get_double)(nocopy_call *c, uintptr_t raw, double *out);
    int (*get_atom)(nocopy_call *c, uintptr_t raw, nocopy_atom *out);
    int (*get_bytes)(nocopy_call *c, uintptr_t raw, nocopy_bytes *out);
    int (*get_tuple)(nocopy_call *c, uintptr_t raw, unsigned *arity,
                     const uintptr_t **elems);
    int (*get_list_cell)(nocopy_call *c, uintptr_t raw, uintptr_t *head,
                         uintptr_t *tail);
    /* Any handle: *out is the header; the core checks type and state. */
    int (*get_handle)(nocopy_call *c, uintptr_t raw, nocopy__handle **out);
    /* Optional fast path for iodata that is a proper list of binaries: fills
     * *out (pieces in the call's arena) and returns NC_GET_OK, or returns
     * NC_GET_TYPE to let the core walk the term generically. May be NULL. */
    int (*get_iovec)(nocopy_call *c, uintptr_t raw, nocopy_iovec *out);
    /* Keep binary `raw` (already checked to be a binary viewed as `view`). */
    int (*keep)(nocopy_call *c, uintptr_t raw, const nocopy_bytes *view,
                nocopy_kept **out);

    /* Building results. Return 0 on failure (after recording ENOMEM). */
    nocopy_value (*make_i64)(nocopy_call *c, int64_t v);
    nocopy_value (*make_u64)(nocopy_call *c, uint64_t v);
    nocopy_value (*make_double)(nocopy_call *c, double v);
    nocopy_value (*make_atom)(nocopy_call *c, nocopy_atom a);   /* a is valid */
    nocopy_value (*make_tuple)(nocopy_call *c, unsigned n, const nocopy_value *e);
    nocopy_value (*make_list)(nocopy_call *c, size_t n, const nocopy_value *e);
    nocopy_value (*make_buf)(nocopy_call *c, nocopy__buf *b);  /* consumes b */
    /* `raw` is a binary viewed as `view`; offset/len already range-checked. */
    nocopy_value (*make_slice)(nocopy_call *c, uintptr_t raw, const nocopy_bytes *view,
                               size_t offset, size_t len);
    nocopy_value (*make_kept)(nocopy_call *c, const nocopy_kept *k, size_t offset,
                              size_t len);
    /* Must call release(obj) exactly once, on success or failure. */
    nocopy_value (*make_foreign)(nocopy_call *c, const void *data, size_t size,
                                 nocopy_release_fn release, void *obj);
    nocopy_value (*make_copy)(nocopy_call *c, const void *data, size_t size);
    /* Hands the C reference of `h` over to the new term. */
    nocopy_value (*make_handle)(nocopy_call *c, nocopy__handle *h);

    /* Memory that outlives calls. */
    nocopy__buf *(*buf_alloc)(size_t size);
    nocopy_kept *(*buf_share)(nocopy_call *c, nocopy__buf *b);  /* consumes b */
    nocopy__handle *(*handle_alloc)(const nocopy_handle_type *type, unsigned index);
    void (*handle_keep)(nocopy__handle *h);
    void (*handle_release)(nocopy__handle *h);

    /* Scheduling. May be NULL. */
    void (*consume)(nocopy_call *c, size_t bytes);
} nocopy__ops;

/* The backend of this library. Set once by the backend's init, before any call. */
extern const nocopy__ops *nocopy__backend;

/* ---- the call context ---------------------------------------------------- */

typedef struct nocopy__borrow {
    struct nocopy__borrow *next;
    nocopy__handle *h;
} nocopy__borrow;

struct nocopy_call {
    const nocopy__ops *ops;
    const nocopy_module *mod;
    const nocopy_func *func;
    unsigned argc;
    const uintptr_t *argv;                /* backend term words */

    nocopy_value result;
    bool has_result;

    /* The last error recorded wins (see nocopy__fail). */
    int err_status;                       /* NOCOPY_OK while none */
    unsigned err_argno;                   /* 1-based; 0 = not about an argument */
    char err_text[NC_ERR_TEXT_MAX];

    /* The last binary read and its view, so that a slice of it (the common
     * "return part of the input" case) needs no second inspection. */
    uintptr_t bytes_raw;
    nocopy_bytes bytes_view;

    nocopy__handle *borrow1;              /* the first handle in use by this call */
    nocopy__borrow *borrows;              /* the others */
    nocopy__arena arena;
};

/* Set up / tear down the common part (backends call these around fn()). */
void nocopy__call_init(nocopy_call *c, const nocopy__ops *ops,
                       const nocopy_module *mod, const nocopy_func *func,
                       unsigned argc, const uintptr_t *argv);
/* Ends every handle borrow and frees scratch memory. */
void nocopy__call_finish(nocopy_call *c);

/* Runs func->fn and normalises the outcome: returns NOCOPY_OK with c->result
 * set, or a negative status with c->err_* describing it. */
int nocopy__call_run(nocopy_call *c);

/* Record an error (first one wins). argno is 1-based, 0 when not about an
 * argument. Returns `status`. */
int nocopy__fail(nocopy_call *c, int status, unsigned argno, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Format strings (nc_format.c): the checks and the paths that parse on
 * every call, which nc_format_site.c's per-site programs fall back on. */
bool nocopy__format_ok(const char *fmt, bool scan);
int nocopy__format_group_items(const char *p, char close);   /* p after the bracket */
int nocopy__vscan(nocopy_call *c, nocopy_term t, const char *fmt, va_list *ap);
nocopy_value nocopy__vbuild(nocopy_call *c, const char *fmt, va_list *ap);

/* Module helpers. */
int nocopy__module_atom_count(const nocopy_module *m);
const char *nocopy__atom_name(const nocopy_module *m, nocopy_atom a);
int nocopy__handle_type_index(const nocopy_module *m, const nocopy_handle_type *t);
/* A checksum of the module's name and its functions' names and arities, in
 * table order: the driver's requests carry the client's copy, so a port of
 * one module refuses calls meant for another. The describe build prints it
 * for the stubs; the driver computes it again at load. */
uint32_t nocopy__module_fingerprint(const nocopy_module *m);

/* Sum of the sizes of the binaries in the arguments, nested in tuples and
 * lists (iodata included), looking at no more than 4096 terms nested no more
 * than 64 deep: the measure behind NOCOPY_DIRTY_ABOVE. */
size_t nocopy__binary_arg_bytes(nocopy_call *c);

/* The user's module (defined by NOCOPY_MODULE in the user's code). */
const nocopy_module *nocopy_module_definition(void);

#endif /* NC_INTERNAL_H */
