/* nc_ffi_decl.h: C declarations as data, what the FFI's parser makes of a
 * prototype or a header snippet (nc_ffi_parse.c).
 *
 * The parser is pure C (no nocopy.h, no libffi), so the C unit tests and a
 * fuzz target run it alone. Its input is hostile: text of any bytes, bounded
 * by the limits below, every one checked before the memory it would need is
 * taken. Memory: one nc_ffi_decls OWNS everything it points to; free it with
 * nc_ffi_decls_free().
 *
 * Types are resolved as they are read: a typedef name stands for the type it
 * names (its name is kept for messages), an enum is an int, so what follows
 * (binding, calling) sees only the kinds below. */
#ifndef NC_FFI_DECL_H
#define NC_FFI_DECL_H

#include <stddef.h>
#include <stdint.h>

/* Bounds on what one text may declare. A text over a bound is refused with a
 * message naming the bound, at the position where it was crossed. */
#define NC_FFI_MAX_TEXT    65536  /* bytes of text */
#define NC_FFI_MAX_NAME    63     /* bytes of an identifier */
#define NC_FFI_MAX_PARAMS  32     /* parameters of a function */
#define NC_FFI_MAX_FIELDS  64     /* fields of a struct */
#define NC_FFI_MAX_PTR     4      /* levels of pointer */
#define NC_FFI_MAX_DEPTH   8      /* struct definitions nested in struct fields,
                                   * parentheses in an enum value */
#define NC_FFI_MAX_FUNCS   256
#define NC_FFI_MAX_STRUCTS 256
#define NC_FFI_MAX_TYPEDEFS 512
#define NC_FFI_MAX_CONSTS  2048   /* enum constants */
#define NC_FFI_MAX_STRUCT_SIZE (1u << 20)  /* bytes of a struct by value */

typedef enum nc_ffi_kind {
    NC_FFI_VOID = 0,
    NC_FFI_BOOL,                  /* _Bool, bool */
    NC_FFI_SINT,                  /* signed integers, enums; `size` bytes */
    NC_FFI_UINT,                  /* unsigned integers; `size` bytes */
    NC_FFI_FLOAT,
    NC_FFI_DOUBLE,
    NC_FFI_STRUCT                 /* `ref` indexes nc_ffi_decls.structs */
} nc_ffi_kind;

/* Flags of a type. */
#define NC_FFI_CONST 1u           /* the base type is const: `const T *` */
#define NC_FFI_CHAR  2u           /* spelled char (signed, unsigned or plain) */
#define NC_FFI_ENUM  4u           /* an enum (kind SINT, size of int) */
#define NC_FFI_PLAIN 8u           /* plain char, neither signed nor unsigned:
                                   * what C strings are made of */

typedef struct nc_ffi_type {
    uint8_t kind;                 /* nc_ffi_kind of the base type */
    uint8_t size;                 /* bytes of an integer base type */
    uint8_t ptr;                  /* levels of pointer, 0..NC_FFI_MAX_PTR */
    uint8_t flags;                /* NC_FFI_CONST | NC_FFI_CHAR | NC_FFI_ENUM */
    uint16_t ref;                 /* struct index for NC_FFI_STRUCT */
    int32_t name;                 /* pool offset of the typedef or enum name it
                                   * was spelled with, or -1 */
} nc_ffi_type;

typedef struct nc_ffi_field {
    uint32_t name;                /* pool offset */
    nc_ffi_type type;
} nc_ffi_field;

typedef struct nc_ffi_struct {
    uint32_t name;                /* pool offset; "" for an anonymous struct */
    int complete;                 /* fields known (not only `struct S;`) */
    size_t size;                  /* bytes, when complete (the SysV layout) */
    unsigned align;
    unsigned nfields;
    nc_ffi_field *fields;         /* OWNED by the decls */
} nc_ffi_struct;

typedef struct nc_ffi_param {
    uint32_t name;                /* pool offset; "" when the prototype gives none */
    uint32_t spell;               /* pool offset: the declaration as written,
                                   * spaces collapsed ("const Bytef *buf") */
    nc_ffi_type type;
} nc_ffi_param;

typedef struct nc_ffi_func {
    uint32_t name;                /* pool offset */
    uint32_t spell;               /* pool offset: the return type as written */
    nc_ffi_type ret;
    unsigned nparams;
    int variadic;                 /* ends with `...` */
    nc_ffi_param params[NC_FFI_MAX_PARAMS];
} nc_ffi_func;

typedef struct nc_ffi_typedef {
    uint32_t name;
    nc_ffi_type type;
} nc_ffi_typedef;

typedef struct nc_ffi_const {
    uint32_t name;
    int64_t value;                /* within int's range */
    uint32_t enum_name;           /* pool offset of the enum's tag, "" if none */
} nc_ffi_const;

typedef struct nc_ffi_decls {
    char *pool;                   /* NUL-terminated names, by offset */
    size_t pool_len, pool_cap;
    nc_ffi_func *funcs;           unsigned nfuncs, cap_funcs;
    nc_ffi_struct *structs;       unsigned nstructs, cap_structs;
    nc_ffi_typedef *typedefs;     unsigned ntypedefs, cap_typedefs;
    nc_ffi_const *consts;         unsigned nconsts, cap_consts;
} nc_ffi_decls;

/* Where and why a text was refused. `msg` reads as a sentence after
 * "line L, column C: ". */
typedef struct nc_ffi_error {
    size_t offset;                /* byte offset in the text */
    unsigned line, column;        /* 1-based */
    char msg[120];
} nc_ffi_error;

/*! nc_ffi_parse() :
 *  Parses `len` bytes of C declarations (any bytes; not NUL-terminated):
 *  prototypes, typedefs, struct and enum definitions, each ended by `;` (the
 *  last `;` may be left out). *out is OWNED by the caller on success (free it
 *  with nc_ffi_decls_free()); on failure nothing is left allocated.
 *  @return : 0, or -1 with *err filled in (out of memory included). */
/* noinline: NIF entries are flattened (NC_FFI_OUTLINE in nc_ffi.h). */
__attribute__((noinline)) int nc_ffi_parse(const char *text, size_t len, nc_ffi_decls *out, nc_ffi_error *err);

/*! nc_ffi_decls_free() : frees what a successful parse made. Accepts a zeroed one. */
void nc_ffi_decls_free(nc_ffi_decls *d);

/*! nc_ffi_name() : the pool string at `off`. BORROWED from `d`. */
static inline const char *nc_ffi_name(const nc_ffi_decls *d, uint32_t off)
{
    return d->pool + off;
}

/*! nc_ffi_find_func() : the function named `name`, or NULL. */
const nc_ffi_func *nc_ffi_find_func(const nc_ffi_decls *d, const char *name);

/*! nc_ffi_type_spell() : writes a type as C would ("const char *", "struct
 *  div_t", "Bytef *") into buf (always NUL-terminated, cut to fit). */
void nc_ffi_type_spell(const nc_ffi_decls *d, nc_ffi_type t, char *buf, size_t cap);

#endif /* NC_FFI_DECL_H */
