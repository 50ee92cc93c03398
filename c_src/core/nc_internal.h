/* nc_internal.h: what the backend-neutral core (c_src/core/) offers the layers
 * above it: the backends (c_src/nif/, c_src/drv/) and the describe build
 * (c_src/describe/). Never installed; users include nocopy.h only.
 *
 * Shape: each library is built for exactly one backend, and the core is
 * compiled once per backend: its files include "nc_backend.h", which the build
 * resolves to that backend's header (c_src/<backend>/nc_backend.h) and which
 * defines the primitives nc_prims.h declares, as static inline functions. The
 * core implements the public API on top of those primitives: range checks,
 * error texts, iodata walking, format strings, handle state. A backend embeds
 * `struct nocopy_call` as the first member of its own per-call struct. */
#ifndef NC_INTERNAL_H
#define NC_INTERNAL_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nocopy.h"

#define NC_ERR_TEXT_MAX 160

/* Error paths are NC_COLD: out of line and laid out apart, so that the fast
 * path of a reader or builder stays small enough for the compiler to inline
 * it into the wrapped function (the libraries are linked with -flto). */
#define NC_COLD __attribute__((cold, noinline))
#define NC_LIKELY(x) __builtin_expect(!!(x), 1)
/* The hot readers and builders of the public API. `inline` on the external
 * definition (nocopy.h declares it extern, so this stays the one external
 * definition, C11 6.7.4) is the compiler's hint to inline it into callers
 * in other files when it links with -flto, as it would a static inline. */
#define NC_HOT inline

/* Alignment of arena memory and of handle objects: what enif_alloc_resource and
 * driver_alloc guarantee (8 bytes on 64-bit), so structs that embed these are
 * never over-aligned for the memory the runtime gives us. */
#define NC_ALIGN 8

/* ---- per-call scratch memory ------------------------------------------- */

/* Bump allocator for memory that lives exactly as long as a call (tuple element
 * arrays, iovec pieces, gathered integer bytes). The first NC_ARENA_INLINE
 * bytes are inline in the call so that short calls never allocate. */
#define NC_ARENA_INLINE 1024

typedef struct nocopy__arena_block {
    struct nocopy__arena_block *next;
    size_t size, used;
    _Alignas(NC_ALIGN) unsigned char data[];
} nocopy__arena_block;

typedef struct nocopy__arena {
    nocopy__arena_block *head;           /* malloc'd blocks, newest first */
    size_t inline_used;
    _Alignas(NC_ALIGN) unsigned char inline_buf[NC_ARENA_INLINE];
} nocopy__arena;

void *nocopy__arena_alloc(nocopy__arena *a, size_t size);    /* NULL: no memory */
void nocopy__arena_free(nocopy__arena *a);

/* nocopy__arena_alloc with its common case in line: 1 to NC_ARENA_INLINE
 * bytes that fit in what is left of the inline buffer (the driver's result
 * nodes and decoded requests take several per call). */
static inline void *nocopy__arena_alloc_fast(nocopy__arena *a, size_t size)
{
    if (size - 1 < NC_ARENA_INLINE) {
        size_t need = (size + NC_ALIGN - 1) & ~(size_t)(NC_ALIGN - 1);
        if (need <= NC_ARENA_INLINE - a->inline_used) {
            void *p = a->inline_buf + a->inline_used;
            a->inline_used += need;
            return p;
        }
    }
    return nocopy__arena_alloc(a, size);
}

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
#define NC_HANDLE_PINNED    0x80000000u   /* never closed (nocopy_handle_pin): not
                                           * counted, so not part of the users */

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

/* ---- what a backend provides --------------------------------------------- */

/* Result codes of the primitives that read terms (nc_prims.h). */
#define NC_GET_OK       0
#define NC_GET_TYPE     1                 /* wrong type */
#define NC_GET_RANGE    2                 /* integer does not fit */
#define NC_GET_UNKNOWN  3                 /* atom not in the module's table */

/* The primitives themselves (reading and building terms, memory that
 * outlives calls) are bound at compile time: see nc_prims.h. */

/* ---- the call context ---------------------------------------------------- */

typedef struct nocopy__borrow {
    struct nocopy__borrow *next;
    nocopy__handle *h;
} nocopy__borrow;

struct nocopy_call {
    const nocopy_module *mod;
    const nocopy_func *func;
    unsigned argc;
    const uintptr_t *argv;                /* backend term words */

    nocopy_value result;                  /* 0 until nocopy_return sets one */

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
void nocopy__call_init(nocopy_call *c, const nocopy_module *mod, const nocopy_func *func,
                       unsigned argc, const uintptr_t *argv);
/* Ends every handle borrow and frees scratch memory. */
/* Ends the call's uses of the handles it read (a closed one's destructor may
 * run), keeping its arena: for a backend that ends them before its reply
 * goes out while the result's nodes still live (c_src/iso/nc_iso_exec.c).
 * nocopy__call_finish does it too. */
void nocopy__call_end_borrows(nocopy_call *c);
void nocopy__call_finish(nocopy_call *c);

/* Runs func->fn and normalises the outcome: returns NOCOPY_OK with c->result
 * set, or a negative status with c->err_* describing it. */
int nocopy__call_run(nocopy_call *c);
/* The same with fn given: inlined where fn is a constant (the NIF entries),
 * so the wrapped function is a direct call there. */
int nocopy__call_outcome(nocopy_call *c, int st);   /* the path of a failure */
static inline int nocopy__call_run_fn(nocopy_call *c, nocopy_fn fn)
{
    int st = fn(c);
    if (NC_LIKELY(st == NOCOPY_OK && c->result != 0))
        return NOCOPY_OK;
    return nocopy__call_outcome(c, st);
}

/* Record an error (the last one recorded wins, see nc_error.c). argno is
 * 1-based, 0 when not about an argument. nocopy__fail(...) evaluates to
 * `status` itself (evaluated twice: pass a constant or a variable), not to
 * the recorder's result: a reader that fails with `return nocopy__fail(c,
 * NOCOPY_EBADARG, ...)` returns a constant the compiler sees, so it can prove
 * that a reader returning NOCOPY_OK set its out-parameters, and the recorder
 * can be cold (out of line, laid out apart) without false warnings in the
 * caller. */
NC_COLD void nocopy__record_error(nocopy_call *c, int status, unsigned argno,
                                  const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define nocopy__fail(c, status, argno, ...)                                    \
    __extension__({                                                            \
        nocopy__record_error((c), (status), (argno), __VA_ARGS__);             \
        (status);                                                              \
    })

/* Format strings (nc_format.c): the checks and the paths that parse on
 * every call, which nc_format_site.c's per-site programs fall back on. */
bool nocopy__format_ok(const char *fmt, bool scan);
int nocopy__format_group_items(const char *p, char close);   /* p after the bracket */
int nocopy__vscan(nocopy_call *c, nocopy_term t, const char *fmt, va_list *ap);
nocopy_value nocopy__vbuild(nocopy_call *c, const char *fmt, va_list *ap);

/* ---- errors at the Erlang edge (nc_error.c), the same on both backends ---- */

/* A failed call becomes {'$nocopy_error', Reason, Cause}: Reason is
 * nocopy__reason_names[nocopy__reason_index(status)], Cause is {ArgNo, Text}
 * when nocopy__cause_argno() is not 0, otherwise {general, Text}. A backend
 * makes the atoms of the table once, at load. */
#define NC_ATOM_ERROR_TAG "$nocopy_error"
#define NC_ATOM_GENERAL   "general"
/* One Reason per status, indexed by -status: "badarg" for NOCOPY_EBADARG,
 * the status name for the others (statuses are 0, -1, -2, ... without gaps;
 * nc_error.c asserts it). */
enum {
#define NC_REASON_SLOT_(name, value, ename, msg) NC_REASON_SLOT_##name,
    NOCOPY_STATUS_MAP(NC_REASON_SLOT_)
#undef NC_REASON_SLOT_
    NC_REASON_COUNT
};
extern const char *const nocopy__reason_names[NC_REASON_COUNT];
/* The index of the Reason of an error status; NOCOPY_EINTERNAL's for a value
 * that is not a negative status. */
unsigned nocopy__reason_index(int status);
/* The argument number of the error's Cause, or 0 for {general, Text}: only a
 * bad argument names one. */
unsigned nocopy__cause_argno(int status, unsigned argno);

/* ---- the module's table (nc_module.c) ------------------------------------- */

/* Names of the built-in atoms, by -a - 1 (NOCOPY_ATOM_OK is "ok"). */
extern const char *const nocopy__builtin_atoms[NOCOPY_ATOM_BUILTIN_COUNT];

/* Limits of a module's table, the same on both backends so that one table
 * works on either. */
#define NC_MAX_FUNCS NOCOPY__MAX_FUNCS   /* the NIF entries (nocopy_entry.h) */
#define NC_MAX_ATOM_CHARS 255     /* the runtime's limit for an atom */
/* An Erlang function has at most 255 arguments; a driver stub takes the port
 * too, and its request encoder the port and the tag. */
#define NC_MAX_ARITY 253
#define NC_MAX_HANDLE_TYPES 256   /* the driver's handle ids keep 8 bits of type */
/* A function's name becomes the atoms '$nocopy_NAME' (its NIF) and
 * '$nocopy_request_NAME' (its driver request encoder). */
#define NC_MAX_FUNC_NAME (NC_MAX_ATOM_CHARS - (sizeof "$nocopy_request_" - 1))
/* The driver is loaded as NAME_drv. */
#define NC_MAX_MODULE_NAME (NC_MAX_ATOM_CHARS - (sizeof "_drv" - 1))
#define NC_MODULE_ERR_MAX 200

/* Checks everything about a table that a backend relies on: names and their
 * lengths, counts, arities, scheduling classes, functions and handle types
 * present and unique. The describe build runs it, so that a bad table stops
 * the build; both backends run it again at load (cheap), for a library built
 * otherwise. Returns 0, or -1 with a one-line reason in err. */
int nocopy__module_check(const nocopy_module *m, char err[NC_MODULE_ERR_MAX]);

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
