/* nc_ffi.h: what the FFI module's files share: an open library, a bound
 * function (the prepared call) and how each parameter crosses.
 *
 * Lifetimes. A library (nc_ffi_lib) is counted: its handle holds one
 * reference, every function bound from it (and every pointer handle made by
 * one) another, so dlclose runs when the last of them is gone, never while a
 * function of it may run. close/1 marks it closed: its functions then refuse
 * calls (collecting the library's handle alone does not: its functions keep
 * it). A function (nc_ffi_fn) is immutable once
 * bound and is shared by every call, on any thread. */
#ifndef NC_FFI_H
#define NC_FFI_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <ffi.h>

#include "nc_ffi_decl.h"
#include "nc_ffi_size.h"
#include "nocopy.h"

/* The module's atoms (nc_ffi_module.c's table, in this order). */
enum {
    A_NULL, A_ERRNO, A_OUT, A_INOUT, A_LEN, A_RETURN, A_NUL, A_VARARGS,
    A_PARSE, A_UNDEFINED_SYMBOL, A_UNSUPPORTED, A_DLOPEN, A_HANDLE, A_DESTRUCTOR,
    A_BOUND, A_FILL
};

typedef struct nc_ffi_lib {
    atomic_uint refs;
    atomic_int closed;
    void *dl;                     /* OWNED: dlclose'd with the last reference */
} nc_ffi_lib;

/* Out of line: the big steps, since NOCOPY_MODULE's NIF entries are
 * flattened (include/nocopy_entry.h), which would copy each into every entry
 * that reaches it; and the slow paths, off the call's fast path. */
#define NC_FFI_OUTLINE __attribute__((noinline))

void nocopy__ffi_lib_keep(nc_ffi_lib *lib);
void nocopy__ffi_lib_release(nc_ffi_lib *lib);   /* accepts NULL */

/* How one C parameter is given and returned. */
typedef enum nc_ffi_role {
    R_SCALAR,        /* integer, enum, bool, float, double: one Erlang value */
    R_STRUCT,        /* struct by value: a tuple of its fields, in order */
    R_CONST_BUF,     /* const T *: a binary, passed by address (or null) */
    R_CSTRING,       /* const char *: a binary; by address when it ends in NUL,
                      * else copied with a NUL added (or null) */
    R_OUT_BUF,       /* T * with a size: allocated here, returned as a binary */
    R_OUT_SCALAR,    /* T * to a scalar: no Erlang value; returned as one */
    R_INOUT_SCALAR,  /* T * to a scalar: an Erlang value in, one returned */
    R_NULL_ONLY,     /* any other pointer: only null may be given */
    R_HANDLE,        /* struct S * of an incomplete S: a pointer handle of S
                      * (made when a function returned one), or null */
    R_STRUCT_IN,     /* const struct S *: a tuple of its fields, copied into
                      * the call's scratch and passed by address (or null) */
    R_OUT_STRUCT,    /* struct S *: no Erlang value; zeroed, returned as a tuple */
    R_INOUT_STRUCT   /* struct S * with {inout, P}: a tuple in, one returned */
} nc_ffi_role;

#define NC_FFI_TYPE_NAME 64       /* bytes of a handle's type name, NUL included */


/* What part of an out-buffer is the result. */
typedef enum nc_ffi_len { L_ALL, L_RETURN, L_NUL, L_PARAM } nc_ffi_len;

/* A scalar's C form, enough to read, write and range-check it. */
typedef struct nc_ffi_scalar {
    uint8_t kind;                 /* nc_ffi_kind: BOOL, SINT, UINT, FLOAT, DOUBLE */
    uint8_t size;
} nc_ffi_scalar;

typedef struct nc_ffi_param_plan {
    uint8_t role;                 /* nc_ffi_role */
    nc_ffi_scalar scalar;         /* SCALAR, the pointee of OUT/INOUT_SCALAR,
                                   * the element of CONST_BUF / OUT_BUF */
    uint8_t erl;                  /* index of its Erlang value, if it has one */
    uint8_t len_param;            /* L_PARAM: the parameter whose value is the length */
    uint8_t len;                  /* nc_ffi_len */
    uint8_t filled;               /* R_SCALAR with {fill, P}: no Erlang value; the
                                   * call writes its buffer's size (a bound) */
    unsigned align;               /* CONST_BUF: alignment the bytes need */
    uint32_t slot;                /* offset of its value in the call's scratch */
    uint32_t slot2;               /* OUT/INOUT_SCALAR: offset of the pointee */
    int32_t strct;                /* struct roles: index in fn->structs */
    char tname[NC_FFI_TYPE_NAME]; /* R_HANDLE: the struct's tag */
    nc_ffi_size *size;            /* R_OUT_BUF: OWNED by the function */
    char spell[72];               /* "const Bytef *buf", for messages */
    char pname[NC_FFI_MAX_NAME + 1];  /* its name, "" if the prototype gives none */
} nc_ffi_param_plan;

/* A struct's libffi type and layout (nested structs by value included). */
typedef struct nc_ffi_struct_plan {
    ffi_type type;
    ffi_type **elements;          /* OWNED: nfields + 1, NULL-terminated */
    size_t *offsets;              /* OWNED */
    unsigned nfields;
    int32_t *field_struct;        /* OWNED: per field, its struct plan or -1 */
    nc_ffi_scalar *field_scalar;  /* OWNED: per field, when it is a scalar */
    uint8_t *field_ptr;           /* OWNED: per field, 1 if a pointer */
    char (*field_names)[NC_FFI_MAX_NAME + 1];   /* OWNED: per field */
} nc_ffi_struct_plan;

typedef struct nc_ffi_fn {
    ffi_cif cif;
    void (*sym)(void);
    nc_ffi_lib *lib;              /* KEPT: one reference */
    unsigned nparams;             /* C parameters, variadic ones included */
    unsigned nerl;                /* Erlang values a call takes */
    unsigned nouts;               /* values returned after the return value */
    int errno_capture;
    uint8_t ret_role;             /* R_SCALAR (or void), R_STRUCT, R_CSTRING,
                                   * R_NULL_ONLY (an address), R_HANDLE,
                                   * R_STRUCT_IN (a struct copied from its pointer) */
    char ret_tname[NC_FFI_TYPE_NAME];  /* R_HANDLE */
    void *dtor;                   /* R_HANDLE: the destructor's function handle
                                   * object (KEPT), or NULL */
    uint8_t ret_void;
    nc_ffi_scalar ret;
    int32_t ret_struct;
    uint32_t ret_slot;
    size_t scratch;               /* bytes of scratch a call needs */
    uint8_t direct;               /* called without libffi (nc_ffi_call.c's
                                   * ABI fast path): integers and pointers only */
    uint8_t has_outs;             /* any output or out-buffer parameter */
    uint8_t ints_only;            /* direct, and every parameter and the result an
                                   * integer, bool or void, no errno: the
                                   * shortest path (nc_ffi_call.c) */
    /* {bound, Buf, Len}: before each call, parameter `len`'s value is checked
     * to be in 0..the elements of parameter `buf` (a const buffer: the binary
     * given, null counting 0; an out-buffer: what was allocated), or, when
     * `fill`, written as that size (const buffers only). */
    unsigned nbounds;
    struct { uint8_t buf, len, fill; } bounds[NC_FFI_MAX_PARAMS];
    unsigned nstructs;
    nc_ffi_struct_plan *structs;  /* OWNED */
    char name[NC_FFI_MAX_NAME + 1];
    char names[160];              /* "crc, buf, len": the Erlang values' names */
    ffi_type **atypes;            /* nparams of them, in the same block */
    nc_ffi_param_plan params[];   /* nparams of them: allocated to fit */
} nc_ffi_fn;

/* The ABI fast path: on x86-64 (System V) and AArch64 (AAPCS64) the first
 * six integer or pointer arguments travel in general registers whatever the
 * prototype, a callee ignores registers it does not use, and an integer or
 * pointer result comes back in one; so such a call needs no libffi (which
 * classifies every argument on every call). Elsewhere every call uses
 * libffi. Define NC_FFI_NO_DIRECT to use libffi always. */
#if (defined(__x86_64__) || defined(__aarch64__)) && defined(__linux__) && !defined(NC_FFI_NO_DIRECT)
#define NC_FFI_DIRECT_ABI 1
#else
#define NC_FFI_DIRECT_ABI 0
#endif
#define NC_FFI_DIRECT_MAX 6

/* The options of one bind, read from Erlang (nc_ffi_module.c). */
typedef struct nc_ffi_opts {
    int errno_capture;
    void *dtor;                   /* {destructor, Fn}: its handle object, BORROWED */
    unsigned nout, ninout, nlen, nbound, nfill;
    /* {out, Param, Size}: Size an integer or an expression of parameters */
    struct { char param[NC_FFI_MAX_NAME + 1]; char expr[128]; } out[NC_FFI_MAX_PARAMS];
    /* {inout, Param} */
    char inout[NC_FFI_MAX_PARAMS][NC_FFI_MAX_NAME + 1];
    /* {len, Param, return | nul | OfParam} */
    struct { char param[NC_FFI_MAX_NAME + 1]; uint8_t how; char of[NC_FFI_MAX_NAME + 1]; }
        len[NC_FFI_MAX_PARAMS];
    /* {bound, Buf, Len} */
    struct { char buf[NC_FFI_MAX_NAME + 1]; char len[NC_FFI_MAX_NAME + 1]; }
        bound[NC_FFI_MAX_PARAMS];
    /* {fill, Len} */
    char fill[NC_FFI_MAX_PARAMS][NC_FFI_MAX_NAME + 1];
} nc_ffi_opts;

/*! nocopy__ffi_plan() :
 *  Plans function `f` of `d` (its variadic arguments' types, if any, in
 *  `extra`, `nextra` of them) with `opts`, and prepares its libffi call.
 *  *out is OWNED by the caller (nocopy__ffi_fn_free). On failure `why` gets
 *  a message naming the parameter.
 *  @return : 0, or -1. */
NC_FFI_OUTLINE int nocopy__ffi_plan(const nc_ffi_decls *d, const nc_ffi_func *f, const nc_ffi_type *extra,
                     unsigned nextra, const nc_ffi_opts *opts, nc_ffi_fn **out,
                     char *why, size_t why_cap);
void nocopy__ffi_fn_free(nc_ffi_fn *fn);   /* accepts NULL */

/*! nocopy__ffi_call() : one call of `fn` with the Erlang list at argument
 *  `index`. Ends the nocopy call (returns its status). */
int nocopy__ffi_call(nocopy_call *call, const nc_ffi_fn *fn, unsigned index);
/*! nocopy__ffi_call_args() : the same with the values as the call's own
 *  arguments from `first` on (no list to build or walk). */
int nocopy__ffi_call_args(nocopy_call *call, const nc_ffi_fn *fn, unsigned first);

/* A pointer a function returned, as a handle (nc_ffi_module.c owns the type). */
typedef struct nc_ffi_ptr {
    void *ptr;                    /* the library's; never dereferenced here */
    void *dtor;                   /* the destructor's function handle object
                                   * (KEPT), or NULL */
    char tname[NC_FFI_TYPE_NAME];
} nc_ffi_ptr;
extern const nocopy_handle_type nocopy__ffi_ptr_type;
extern atomic_int nocopy__ffi_live_ptrs;    /* pointer handles not yet destroyed */
extern const nocopy_handle_type nocopy__ffi_fn_type;

/* The function handle object's function (the object is BORROWED). */
const nc_ffi_fn *nocopy__ffi_fn_of(void *fn_obj);
/* Calls destructor `dtor_obj` (a function handle object) on `ptr`. */
void nocopy__ffi_run_dtor(void *dtor_obj, void *ptr);

/* ---- a bound function described (nc_ffi_info.c): the module's info/1 and
 * shapes/1 (nc_ffi_module.c's table) ------------------------------------------- */

NC_FFI_OUTLINE int nocopy__ffi_info(nocopy_call *call);
NC_FFI_OUTLINE int nocopy__ffi_shapes(nocopy_call *call);

/* ---- values (nc_ffi_value.c) ---------------------------------------------------- */

/* badarg naming parameter pp: "element N (spelling): expected what". */
int nocopy__ffi_fail_elem(nocopy_call *call, const nc_ffi_param_plan *pp, const char *what);
/* Whether t is the atom null. */
int nocopy__ffi_is_null(nocopy_call *call, nocopy_term t);
/* Reads scalar `s` from t into `at` (s.size bytes); 0, or a failure naming pp. */
int nocopy__ffi_read_scalar(nocopy_call *call, nocopy_term t, nc_ffi_scalar s, void *at,
                            const nc_ffi_param_plan *pp);
nocopy_value nocopy__ffi_make_scalar(nocopy_call *call, nc_ffi_scalar s, const void *at);
/* Struct si of fn from a tuple of its fields into `at`; 0, or a failure. */
NC_FFI_OUTLINE int nocopy__ffi_read_struct(nocopy_call *call, const nc_ffi_fn *fn, int32_t si, nocopy_term t,
                            unsigned char *at, const nc_ffi_param_plan *pp, unsigned depth);
NC_FFI_OUTLINE nocopy_value nocopy__ffi_make_struct(nocopy_call *call, const nc_ffi_fn *fn, int32_t si,
                                     const unsigned char *at);
/* A returned pointer as null or a handle running fn's destructor once. */
nocopy_value nocopy__ffi_make_ptr_handle(nocopy_call *call, const nc_ffi_fn *fn, void *ptr);
/* The first `used` bytes of buf (HANDED OVER: owned by the call from here)
 * as a binary, no copy. */
nocopy_value nocopy__ffi_hand_over(nocopy_call *call, nocopy_buf *buf, size_t used);

/* Stores the low `size` bytes of v at `at` (an integer of that size). */
static inline void nocopy__ffi_store_int(void *at, unsigned size, uint64_t v)
{
    switch (size) {
    case 1: *(uint8_t *)at = (uint8_t)v; break;
    case 2: *(uint16_t *)at = (uint16_t)v; break;
    case 4: *(uint32_t *)at = (uint32_t)v; break;
    default: *(uint64_t *)at = v; break;
    }
}

/* Scalar integer `s` at `at`, as an int64 (unsigned values above INT64_MAX
 * saturate: a count, a length). */
static inline int64_t nocopy__ffi_scalar_int(nc_ffi_scalar s, const void *at)
{
    if (s.kind == NC_FFI_SINT)
        return s.size == 1 ? *(const int8_t *)at : s.size == 2 ? *(const int16_t *)at
             : s.size == 4 ? *(const int32_t *)at : *(const int64_t *)at;
    uint64_t u = s.size == 1 ? *(const uint8_t *)at : s.size == 2 ? *(const uint16_t *)at
               : s.size == 4 ? *(const uint32_t *)at : *(const uint64_t *)at;
    return u > INT64_MAX ? INT64_MAX : (int64_t)u;
}

#endif /* NC_FFI_H */
