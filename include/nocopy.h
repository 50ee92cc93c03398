/* nocopy.h: write a C function once, call it from Erlang through a NIF or a
 * linked-in port driver, with large binaries crossing by reference both ways.
 *
 * This header is the manual. A wrapped function receives a call context
 * (nocopy_call), reads its arguments through nocopy_arg_*() / nocopy_term_*(),
 * builds its result with nocopy_make_*() and ends with nocopy_return*() or a
 * failure. It never sees which backend runs it.
 *
 * Ownership words, used with fixed meanings in every comment below:
 *   BORROWED     valid until the wrapped function returns; do not free, do not store.
 *   KEPT         nocopy holds a runtime reference (refc binary, resource, driver
 *                binary refcount) until the paired release call.
 *   OWNED        the C code owns it and must free it or hand it over exactly once.
 *   HANDED OVER  ownership passed to the runtime inside the result; the C pointer
 *                must not be used after.
 *
 * Threads: a call context belongs to the thread running the wrapped function.
 * nocopy_kept_release(), nocopy_buf_free() and the handle keep/release functions
 * may be called from any thread.
 */
#ifndef NOCOPY_H
#define NOCOPY_H

#include <stddef.h>
#include <stdint.h>

#include "nocopy_status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NOCOPY_VERSION_MAJOR 0
#define NOCOPY_VERSION_MINOR 1

/* Binaries of at most this many bytes are copied by the runtime whatever nocopy
 * does (heap binaries); larger ones cross by reference. */
#define NOCOPY_HEAP_BINARY_LIMIT 64

/* ------------------------------------------------------------------------- */
/* Types                                                                      */
/* ------------------------------------------------------------------------- */

/* One call in progress. Opaque; BORROWED by the wrapped function. */
typedef struct nocopy_call nocopy_call;

/* A read-only view of bytes owned by someone else. Never free `data`, never
 * write through it (it may point into a binary shared by many processes). */
typedef struct nocopy_bytes {
    const uint8_t *data;
    size_t size;
} nocopy_bytes;

/* iodata as a vector of read-only pieces, in order, never flattened.
 * BORROWED: `pieces` and every piece are valid until the wrapped function returns. */
typedef struct nocopy_iovec {
    const nocopy_bytes *pieces;
    size_t count;
    size_t total;                 /* sum of the pieces' sizes */
} nocopy_iovec;

/* An argument, or a part of one (a tuple element, a list cell). BORROWED.
 * Treat the fields as private; they let nocopy name the argument in errors. */
typedef struct nocopy_term {
    uintptr_t raw;                /* private: backend term word */
    unsigned argno;               /* private: 1-based argument this came from */
} nocopy_term;

/* A result term under construction. Valid until the wrapped function returns.
 * 0 means "construction failed" (out of memory, or a failed part); every
 * nocopy_make_*() given a 0 part returns 0, so errors propagate to
 * nocopy_return(), which then fails with NOCOPY_ENOMEM. */
typedef uintptr_t nocopy_value;

/* Atoms: an index into the module's atom table (nocopy_module.atoms), resolved
 * once at load. Negative values are the built-in atoms below. */
typedef int nocopy_atom;
#define NOCOPY_ATOM_OK        (-1)
#define NOCOPY_ATOM_ERROR     (-2)
#define NOCOPY_ATOM_TRUE      (-3)
#define NOCOPY_ATOM_FALSE     (-4)
#define NOCOPY_ATOM_UNDEFINED (-5)
#define NOCOPY_ATOM_BUILTIN_COUNT 5

/* The Erlang type of a term, as seen by nocopy_term_type(). */
typedef enum nocopy_type {
    NOCOPY_T_INTEGER = 1,
    NOCOPY_T_FLOAT,
    NOCOPY_T_ATOM,
    NOCOPY_T_BINARY,              /* byte-aligned binary of whole bytes */
    NOCOPY_T_BITSTRING,           /* has trailing bits: never accepted as bytes */
    NOCOPY_T_TUPLE,
    NOCOPY_T_LIST,                /* non-empty list cell */
    NOCOPY_T_NIL,                 /* [] */
    NOCOPY_T_HANDLE,              /* a nocopy handle of any type */
    NOCOPY_T_OTHER                /* pid, port, reference, map, fun */
} nocopy_type;

/* ------------------------------------------------------------------------- */
/* Handles: C objects given to Erlang as opaque terms                         */
/* ------------------------------------------------------------------------- */

/* Destructor of a handle's object: runs exactly once, after the last reference
 * is gone or after nocopy_handle_close() once no call is using it. It must not
 * free `obj` itself (nocopy owns that memory) and must not call back into nocopy
 * with a call context. It may run on any thread. */
typedef void (*nocopy_handle_dtor)(void *obj);

typedef struct nocopy_handle_type {
    const char *name;             /* shown in errors: "expected a gss_ctx handle" */
    size_t size;                  /* bytes of the C object, which is aligned to
                                   * 8 bytes (as erl_nif resources are) */
    nocopy_handle_dtor dtor;      /* may be NULL */
} nocopy_handle_type;

/* ------------------------------------------------------------------------- */
/* Module definition: the single source of truth                              */
/* ------------------------------------------------------------------------- */

typedef int (*nocopy_fn)(nocopy_call *call);

/* How a function is scheduled. NIF: normal scheduler, dirty CPU, dirty IO, or a
 * normal scheduler that moves the call to a dirty CPU scheduler when the
 * binaries in its arguments total more than `dirty_above` bytes (binaries
 * nested in tuples and lists, iodata included, count: the measure looks at up
 * to 4096 terms nested up to 64 deep, so it costs O(1) per call). Driver:
 * NORMAL runs inline in outputv; the others run on the driver's worker threads
 * (DIRTY_ABOVE only above the threshold). */
typedef enum nocopy_sched {
    NOCOPY_NORMAL = 0,
    NOCOPY_DIRTY_CPU,
    NOCOPY_DIRTY_IO,
    NOCOPY_DIRTY_ABOVE
} nocopy_sched;

/* One wrapped function. `args` and `result` are Erlang type expressions; they
 * become the generated stub's -spec, so the signature is written once, here.
 * `args` names and types each argument, comma separated at the top level:
 *     "Ctx :: gss_demo:context(), Qop :: integer() | atom(), Message :: binary()"
 * The type nocopy:handle() is predefined; `types` in the module adds more. */
typedef struct nocopy_func {
    const char *name;             /* Erlang function name */
    unsigned arity;
    nocopy_fn fn;
    const char *args;             /* "" for arity 0 */
    const char *result;
    nocopy_sched sched;
    size_t dirty_above;           /* bytes, for NOCOPY_DIRTY_ABOVE */
    const char *doc;              /* one line, becomes an EDoc comment; may be NULL */
} nocopy_func;

typedef struct nocopy_module {
    const char *name;             /* Erlang module of the NIF build; the driver
                                   * build is "<name>_drv" */
    const nocopy_func *funcs;
    size_t nfuncs;
    const char *const *atoms;     /* NULL-terminated, ASCII names (checked at
                                   * build time); index = nocopy_atom */
    const nocopy_handle_type *const *handle_types;   /* NULL-terminated */
    const char *types;            /* extra "-type ...". lines for the stub; may be NULL */
    /* Optional: runs once when the library loads, before any call. Returns
     * NOCOPY_OK, or a status that makes the load fail. */
    int (*load)(void);
    /* Optional: runs once when the library unloads. */
    void (*unload)(void);
} nocopy_module;

#include "nocopy_entry.h"

/* Defines the module's entry points. Use exactly once per library, in the
 * file that defines the table:
 *     NOCOPY_MODULE(gss_demo_module)   where gss_demo_module is a nocopy_module.
 * It also writes the NIF backend's entries (nocopy_entry.h), which call each
 * wrapped function directly, so `def` must be a const object defined in that
 * file for the calls to be inlined. */
#define NOCOPY_MODULE(def)                                                     \
    NOCOPY_API const nocopy_module *nocopy_module_definition(void);            \
    NOCOPY_API const nocopy_module *nocopy_module_definition(void) { return &(def); } \
    NOCOPY__NIF_ENTRIES(def)

/* ------------------------------------------------------------------------- */
/* Arguments                                                                  */
/* ------------------------------------------------------------------------- */
/* Every reader returns NOCOPY_OK, or NOCOPY_EBADARG after recording an error
 * that names the argument and what was expected; the wrapped function should
 * then return that status unchanged, and the Erlang caller gets error:badarg
 * with error_info ("argument 3: expected a binary, got: foo").
 * `index` is 0-based; messages count from 1, as Erlang does.
 * A call records one error: when several are recorded (a function may probe an
 * argument one way, fail, and then read it another way, or replace a reader's
 * message with its own), the one recorded last is reported. */

/*! nocopy_arg() : the term of argument `index`. BORROWED. */
NOCOPY_API nocopy_term nocopy_arg(nocopy_call *call, unsigned index);

/*! nocopy_arity() : the number of arguments of this call. */
NOCOPY_API unsigned nocopy_arity(const nocopy_call *call);

NOCOPY_API int nocopy_arg_i64(nocopy_call *call, unsigned index, int64_t *out);
NOCOPY_API int nocopy_arg_u64(nocopy_call *call, unsigned index, uint64_t *out);
/* A non-negative integer that fits size_t: for lengths and counts. */
NOCOPY_API int nocopy_arg_size(nocopy_call *call, unsigned index, size_t *out);
/* An integer in [min, max]; the error names the range. */
NOCOPY_API int nocopy_arg_int_range(nocopy_call *call, unsigned index,
                                    int64_t min, int64_t max, int64_t *out);
/* A float; integers are not accepted (as in OTP's math BIFs' strict forms). */
NOCOPY_API int nocopy_arg_double(nocopy_call *call, unsigned index, double *out);
/* The atoms true or false: *out is 1 or 0. */
NOCOPY_API int nocopy_arg_bool(nocopy_call *call, unsigned index, int *out);
/* An atom of the module's table (or a built-in one). An atom that is not in the
 * table is an error ("expected a known atom"). */
NOCOPY_API int nocopy_arg_atom(nocopy_call *call, unsigned index, nocopy_atom *out);
/* A binary, viewed without a copy (refc binaries and byte-aligned sub-binaries;
 * heap binaries of <= 64 bytes are read in place too). `out` is BORROWED. */
NOCOPY_API int nocopy_arg_bytes(nocopy_call *call, unsigned index, nocopy_bytes *out);
/* iodata (binaries, bytes 0..255 and nested lists, binary tails allowed) as a
 * vector of pieces. Binaries are referenced; runs of integer bytes are gathered
 * into a scratch buffer. `out` is BORROWED. */
NOCOPY_API int nocopy_arg_iovec(nocopy_call *call, unsigned index, nocopy_iovec *out);
/* A tuple of exactly `arity` elements; elems[0..arity-1] receive BORROWED terms. */
NOCOPY_API int nocopy_arg_tuple(nocopy_call *call, unsigned index, unsigned arity,
                                nocopy_term *elems);
/* A handle of type `type`. *obj is BORROWED: the handle cannot be destroyed
 * while this call runs, even if another call closes it. (That guarantee costs
 * two atomic operations per call; a handle type with no destructor needs none,
 * so its borrow is a single load.) */
NOCOPY_API int nocopy_arg_handle(nocopy_call *call, unsigned index,
                                 const nocopy_handle_type *type, void **obj);

/* The same readers on any term (a tuple element, a list head). Errors name the
 * argument the term came from. */
NOCOPY_API nocopy_type nocopy_term_type(nocopy_call *call, nocopy_term t);
NOCOPY_API int nocopy_term_i64(nocopy_call *call, nocopy_term t, int64_t *out);
NOCOPY_API int nocopy_term_u64(nocopy_call *call, nocopy_term t, uint64_t *out);
NOCOPY_API int nocopy_term_size(nocopy_call *call, nocopy_term t, size_t *out);
NOCOPY_API int nocopy_term_int_range(nocopy_call *call, nocopy_term t,
                                     int64_t min, int64_t max, int64_t *out);
NOCOPY_API int nocopy_term_double(nocopy_call *call, nocopy_term t, double *out);
NOCOPY_API int nocopy_term_bool(nocopy_call *call, nocopy_term t, int *out);
NOCOPY_API int nocopy_term_atom(nocopy_call *call, nocopy_term t, nocopy_atom *out);
NOCOPY_API int nocopy_term_bytes(nocopy_call *call, nocopy_term t, nocopy_bytes *out);
NOCOPY_API int nocopy_term_iovec(nocopy_call *call, nocopy_term t, nocopy_iovec *out);
NOCOPY_API int nocopy_term_tuple(nocopy_call *call, nocopy_term t, unsigned arity,
                                 nocopy_term *elems);
/* A tuple of any arity: *arity receives it, *elems a BORROWED array. */
NOCOPY_API int nocopy_term_tuple_any(nocopy_call *call, nocopy_term t,
                                     unsigned *arity, const nocopy_term **elems);
/* A proper list: *len receives its length, *elems a BORROWED array of its
 * elements. Improper lists are an error ("expected a proper list"). */
NOCOPY_API int nocopy_term_list(nocopy_call *call, nocopy_term t,
                                size_t *len, const nocopy_term **elems);
NOCOPY_API int nocopy_term_handle(nocopy_call *call, nocopy_term t,
                                  const nocopy_handle_type *type, void **obj);

/* ------------------------------------------------------------------------- */
/* Keeping an input binary beyond the call (KEPT), without a copy             */
/* ------------------------------------------------------------------------- */

typedef struct nocopy_kept nocopy_kept;

/*! nocopy_term_keep() :
 *  Takes a runtime reference on binary `t` (no data copy for refc binaries;
 *  binaries of <= 64 bytes are copied once, as the runtime requires).
 *  *out is KEPT until nocopy_kept_release(). */
NOCOPY_API int nocopy_term_keep(nocopy_call *call, nocopy_term t, nocopy_kept **out);
NOCOPY_API int nocopy_arg_keep(nocopy_call *call, unsigned index, nocopy_kept **out);

/*! nocopy_kept_bytes() : the kept bytes. Valid (read-only) until the release. */
NOCOPY_API nocopy_bytes nocopy_kept_bytes(const nocopy_kept *k);

/*! nocopy_kept_release() : drops the reference. Accepts NULL. Any thread. */
NOCOPY_API void nocopy_kept_release(nocopy_kept *k);

/* ------------------------------------------------------------------------- */
/* Result buffers allocated by C (OWNED until handed over)                    */
/* ------------------------------------------------------------------------- */

typedef struct nocopy_buf {
    uint8_t *data;                /* read-write while OWNED */
    size_t size;                  /* read-only: use nocopy_buf_resize() */
} nocopy_buf;

/*! nocopy_buf_alloc() :
 *  A writable buffer of `size` bytes (contents undefined), allocated by the
 *  backend's binary allocator so that nocopy_make_buf() needs no copy.
 *  @return : an OWNED buffer, or NULL (out of memory; an error is recorded). */
NOCOPY_API nocopy_buf *nocopy_buf_alloc(nocopy_call *call, size_t size);

/*! nocopy_buf_resize() : grows or shrinks, keeping the first min(old,new) bytes;
 *  `data` may move. @return : NOCOPY_OK or NOCOPY_ENOMEM (buffer unchanged). */
NOCOPY_API int nocopy_buf_resize(nocopy_buf *buf, size_t size);

/*! nocopy_buf_free() : frees an OWNED buffer. Accepts NULL. Any thread. */
NOCOPY_API void nocopy_buf_free(nocopy_buf *buf);

/*! nocopy_buf_share() :
 *  Turns an OWNED buffer into a read-only KEPT one that C can return to Erlang
 *  any number of times without a copy (nocopy_make_kept()), e.g. a cache held
 *  by a handle. `buf` is HANDED OVER to the result.
 *  @return : a KEPT reference, or NULL (out of memory; buf freed). */
NOCOPY_API nocopy_kept *nocopy_buf_share(nocopy_call *call, nocopy_buf *buf);

/* ------------------------------------------------------------------------- */
/* Results                                                                    */
/* ------------------------------------------------------------------------- */

NOCOPY_API nocopy_value nocopy_make_i64(nocopy_call *call, int64_t v);
NOCOPY_API nocopy_value nocopy_make_u64(nocopy_call *call, uint64_t v);
NOCOPY_API nocopy_value nocopy_make_double(nocopy_call *call, double v);
NOCOPY_API nocopy_value nocopy_make_bool(nocopy_call *call, int v);
NOCOPY_API nocopy_value nocopy_make_atom(nocopy_call *call, nocopy_atom a);
/* `elems` is read during the call only. */
NOCOPY_API nocopy_value nocopy_make_tuple(nocopy_call *call, unsigned arity,
                                          const nocopy_value *elems);
NOCOPY_API nocopy_value nocopy_make_list(nocopy_call *call, size_t len,
                                         const nocopy_value *elems);
/* Binaries, four forms: */
/* 1. HANDED OVER: `buf` becomes the binary, no copy (a copy only when
 *    size <= 64, made by the runtime). `buf` must not be used after. */
NOCOPY_API nocopy_value nocopy_make_buf(nocopy_call *call, nocopy_buf *buf);
/* 2. A slice of an input binary `t` (an argument or part of one): no copy when
 *    len > 64. Offsets are checked: out of range records ERANGE and returns 0. */
NOCOPY_API nocopy_value nocopy_make_slice(nocopy_call *call, nocopy_term t,
                                          size_t offset, size_t len);
/*    ... or of a KEPT binary, which stays KEPT by the caller. */
NOCOPY_API nocopy_value nocopy_make_kept(nocopy_call *call, const nocopy_kept *k,
                                         size_t offset, size_t len);
/* 3. Foreign memory owned by a C object: `release(obj)` runs once, when the
 *    last Erlang reference to the binary is gone. Erlang binaries are
 *    immutable: the bytes must not change until release(obj) runs. NIF: no copy (a resource
 *    binary). Driver: the runtime offers no way to wrap foreign memory in a
 *    driver binary, so the bytes are copied and release(obj) runs before the
 *    call returns; use nocopy_buf_share() for zero copy on both backends.
 *    On failure release(obj) has still run exactly once. */
typedef void (*nocopy_release_fn)(void *obj);
NOCOPY_API nocopy_value nocopy_make_foreign(nocopy_call *call, const void *data,
                                            size_t size, nocopy_release_fn release,
                                            void *obj);
/* 4. A plain copy, for small data. */
NOCOPY_API nocopy_value nocopy_make_copy(nocopy_call *call, const void *data,
                                         size_t size);

/* Handles. nocopy_handle_new() returns a zeroed object of type->size bytes,
 * OWNED by C; nocopy_make_handle() HANDS OVER that reference to the result
 * term. Without nocopy_make_handle(), give it back with nocopy_handle_release(). */
NOCOPY_API void *nocopy_handle_new(nocopy_call *call, const nocopy_handle_type *type);
NOCOPY_API nocopy_value nocopy_make_handle(nocopy_call *call, void *obj);
/* An extra C reference (KEPT), e.g. a child object holding its parent. Any thread. */
NOCOPY_API void nocopy_handle_keep(void *obj);
NOCOPY_API void nocopy_handle_release(void *obj);   /* accepts NULL; any thread */
/*! nocopy_handle_close() :
 *  Explicit early release: later calls given this handle fail with
 *  "argument N: the <type> handle is closed". The destructor runs once the
 *  calls using it (this one included) have returned.
 *  @return : NOCOPY_OK, or NOCOPY_ECLOSED if it was already closed. */
NOCOPY_API int nocopy_handle_close(void *obj);
/*! nocopy_handle_pin() :
 *  Promises that handle `obj` is never closed: nocopy_handle_close() on it
 *  fails from now on (NOCOPY_EBADARG), and its destructor runs only once the
 *  last reference is gone. In exchange, a call given it reads it as cheaply
 *  as a handle whose type has no destructor: one load, no use count (the
 *  call's argument holds the object for the call). Pin a handle before
 *  nocopy_make_handle() hands it to Erlang. Accepts NULL; any thread. */
NOCOPY_API void nocopy_handle_pin(void *obj);

/* Ending the call. Each returns a status for the wrapped function to return. */
/*! nocopy_return() : the call's result is `v`. @return : NOCOPY_OK, or
 *  NOCOPY_ENOMEM when v is 0 (a failed construction). */
NOCOPY_API int nocopy_return(nocopy_call *call, nocopy_value v);
/* {ok, V} */
NOCOPY_API int nocopy_return_ok(nocopy_call *call, nocopy_value v);
/* {error, Reason}, returned as a value (not raised). */
NOCOPY_API int nocopy_return_error(nocopy_call *call, nocopy_value reason);
/*! nocopy_fail_badarg() :
 *  Fails the call with badarg for argument `index` (0-based), `expected`
 *  completing "expected ..." ("a key of 32 bytes"). Copied; may be temporary.
 *  @return : NOCOPY_EBADARG. */
NOCOPY_API int nocopy_fail_badarg(nocopy_call *call, unsigned index, const char *expected);
/*! nocopy_fail() :
 *  Fails the call with `status` (negative) and a message of its own, printf
 *  style (at most 159 bytes are kept), e.g. a library's own error text:
 *  nocopy_fail(call, NOCOPY_EINTERNAL, "EVP_DigestInit: %s", why). The Erlang
 *  caller gets error:<status name> whose error_info shows the message.
 *  @return : `status`, or NOCOPY_EINTERNAL if `status` is not negative. */
NOCOPY_API int nocopy_fail(nocopy_call *call, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Any other negative status ends the call with error:<status name> raised
 * (error:enomem, ...), with the status's own message; return it from the
 * wrapped function directly. */

/* ------------------------------------------------------------------------- */
/* Scheduling help                                                            */
/* ------------------------------------------------------------------------- */

/*! nocopy_consume() :
 *  Reports that the call processed `bytes` bytes, so a NORMAL call charges its
 *  time slice in proportion (NIF: enif_consume_timeslice). No-op elsewhere. */
NOCOPY_API void nocopy_consume(nocopy_call *call, size_t bytes);

/* ------------------------------------------------------------------------- */
/* Format strings: tuples in one line, on top of the typed calls              */
/* ------------------------------------------------------------------------- */
/* Reading (nocopy_arg_scan / nocopy_term_scan), one letter per value:
 *   i int64_t*      I uint64_t*     z size_t*       f double*
 *   o int* (bool)   a nocopy_atom*  b nocopy_bytes*  v nocopy_iovec*
 *   h const nocopy_handle_type*, void**             t nocopy_term*
 *   _ any term, skipped              {...} a tuple of exactly those elements
 * Example: nocopy_arg_scan(call, 1, "{ia}", &level, &mode)
 *
 * Building (nocopy_build), one letter per value:
 *   i int64_t      I uint64_t      f double        o int (bool)
 *   a nocopy_atom  c const void*, size_t (copy)     B nocopy_buf* (HANDED OVER)
 *   s nocopy_term, size_t off, size_t len (slice)   k const nocopy_kept*, size_t, size_t
 *   h void* handle (HANDED OVER)   v nocopy_value  {...} tuple   [...] proper list
 * Example: nocopy_build(call, "{iioiB}", major, minor, conf, qop, out)
 * A group holds at most 64 items, nested at most 32 deep. The whole format
 * is checked before any argument is used: a malformed one records EINTERNAL,
 * and nocopy_build then returns 0 having taken ownership of nothing. */
NOCOPY_API int nocopy_arg_scan(nocopy_call *call, unsigned index, const char *fmt, ...);
NOCOPY_API int nocopy_term_scan(nocopy_call *call, nocopy_term t, const char *fmt, ...);
NOCOPY_API nocopy_value nocopy_build(nocopy_call *call, const char *fmt, ...);

/* With GCC or Clang, the three calls above are macros. In optimised C, a
 * string literal format of at most 31 characters and 16 values (reading: one
 * letter or one tuple of letters, not nested) is unrolled at compile time into
 * the typed calls it stands for, and costs what they cost. Otherwise each call
 * site has a static cache: when the format is a literal, it is checked and
 * parsed on the first call there only. Same results and errors either way.
 * Define NOCOPY_NO_FORMAT_CACHE before including nocopy.h to call the
 * functions directly (needed only in a non-static inline function: C forbids
 * a static variable there). The names below are internal. */
typedef struct nocopy__format_site {
    void *opaque[8];                /* zeroed (static); owned by the library */
} nocopy__format_site;
NOCOPY_API int nocopy__arg_scan_at(nocopy_call *call, nocopy__format_site *site,
                                   unsigned index, const char *fmt, ...);
NOCOPY_API int nocopy__term_scan_at(nocopy_call *call, nocopy__format_site *site,
                                    nocopy_term t, const char *fmt, ...);
NOCOPY_API nocopy_value nocopy__build_at(nocopy_call *call, nocopy__format_site *site,
                                         const char *fmt, ...);

#if (defined(__GNUC__) || defined(__clang__)) && !defined(NOCOPY_NO_FORMAT_CACHE)
#define NOCOPY__FIRST(first, ...) first
/* The site, when the format (the first of the arguments) is a literal. */
#define NOCOPY__SITE(...)                                                       \
    (__builtin_constant_p(NOCOPY__FIRST(__VA_ARGS__, 0)) ? &nocopy__site        \
                                                          : (nocopy__format_site *)0)
#if defined(__OPTIMIZE__) && !defined(__cplusplus) && __STDC_VERSION__ >= 201112L
/* Optimised C: a short literal format is unrolled at compile time into the
 * typed calls it stands for (nocopy_format.h); others use the site. */
#include "nocopy_format.h"
#define nocopy_build(call, ...)                                                 \
    (__extension__({                                                            \
        static nocopy__format_site nocopy__site;                                \
        NOCOPY__FMT(build, (call), 0, __VA_ARGS__);                             \
    }))
#define nocopy_arg_scan(call, index, ...)                                       \
    (__extension__({                                                            \
        static nocopy__format_site nocopy__site;                                \
        NOCOPY__FMT(arg_scan, (call), (index), __VA_ARGS__);                    \
    }))
#define nocopy_term_scan(call, t, ...)                                          \
    (__extension__({                                                            \
        static nocopy__format_site nocopy__site;                                \
        NOCOPY__FMT(term_scan, (call), (t), __VA_ARGS__);                       \
    }))
#else
#define nocopy_build(call, ...)                                                 \
    (__extension__({                                                            \
        static nocopy__format_site nocopy__site;                                \
        nocopy__build_at((call), NOCOPY__SITE(__VA_ARGS__), __VA_ARGS__);       \
    }))
#define nocopy_arg_scan(call, index, ...)                                       \
    (__extension__({                                                            \
        static nocopy__format_site nocopy__site;                                \
        nocopy__arg_scan_at((call), NOCOPY__SITE(__VA_ARGS__), (index), __VA_ARGS__); \
    }))
#define nocopy_term_scan(call, t, ...)                                          \
    (__extension__({                                                            \
        static nocopy__format_site nocopy__site;                                \
        nocopy__term_scan_at((call), NOCOPY__SITE(__VA_ARGS__), (t), __VA_ARGS__); \
    }))
#endif
#endif

#ifdef __cplusplus
}
#endif
#endif /* NOCOPY_H */
