/* nc_ffi_parse.c: the grammar of the declarations the FFI reads, a subset of
 * C11 by recursive descent (tokens from nc_ffi_lex.c):
 *
 *   text        := { decl | ';' }
 *   decl        := ['typedef'] specifiers [declarator {',' declarator}] ';'
 *   specifiers  := { qualifier | storage | type keyword | struct-spec | enum-spec
 *                  | typedef name }
 *   declarator  := { '*' {qualifier} } [name] [ '(' params ')' | '[' [int] ']' ]
 *   struct-spec := 'struct' [tag] [ '{' { specifiers declarator {',' declarator} ';' } '}' ]
 *   enum-spec   := 'enum' [tag] [ '{' name ['=' expr] {',' name ['=' expr]} [','] '}' ]
 *   (enum values: nc_ffi_enum.c)
 *
 * Not supported, each refused with its own message: unions, bit fields, arrays
 * outside parameters, function pointers, long double, K&R definitions,
 * preprocessor lines. Recursion (struct definitions inside fields, enum
 * expressions) is bounded by NC_FFI_MAX_DEPTH. Struct layouts are the x86-64
 * and AArch64 SysV rules (natural alignment), which is what libffi uses. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "nc_ffi_lex.h"

#define NEXT(p) nc_ffi__next(p)
#define IS(p, c) nc_ffi__is_punct((p), (c))
#define WORD(p, w) nc_ffi__is_word((p), (w))

/* Integer types the C library names, known without a declaration. */
typedef struct builtin_name {
    const char *name;
    uint8_t kind, size;
} builtin_name;

static const builtin_name builtins[] = {
    {"size_t", NC_FFI_UINT, sizeof(size_t)},     {"ssize_t", NC_FFI_SINT, sizeof(ssize_t)},
    {"ptrdiff_t", NC_FFI_SINT, sizeof(ptrdiff_t)}, {"intptr_t", NC_FFI_SINT, sizeof(intptr_t)},
    {"uintptr_t", NC_FFI_UINT, sizeof(uintptr_t)}, {"off_t", NC_FFI_SINT, sizeof(off_t)},
    {"int8_t", NC_FFI_SINT, 1},   {"uint8_t", NC_FFI_UINT, 1},
    {"int16_t", NC_FFI_SINT, 2},  {"uint16_t", NC_FFI_UINT, 2},
    {"int32_t", NC_FFI_SINT, 4},  {"uint32_t", NC_FFI_UINT, 4},
    {"int64_t", NC_FFI_SINT, 8},  {"uint64_t", NC_FFI_UINT, 8},
    {NULL, 0, 0}};

/* The type the current identifier names (a built-in or a typedef), or -1. */
static int lookup_type_name(nc_ffi_parser *p, nc_ffi_type *out)
{
    for (const builtin_name *b = builtins; b->name; b++)
        if (nc_ffi__is_table_word(p, b->name)) {
            *out = (nc_ffi_type){.kind = b->kind, .size = b->size,
                                 .name = (int32_t)nc_ffi__pool_tok(p)};
            return 0;
        }
    const nc_ffi_decls *d = p->d;
    for (unsigned i = 0; i < d->ntypedefs; i++)
        if (nc_ffi__is_table_word(p, nc_ffi_name(d, d->typedefs[i].name))) {
            *out = d->typedefs[i].type;
            out->name = (int32_t)d->typedefs[i].name;
            return 0;
        }
    return -1;
}

/* ---- specifiers ---------------------------------------------------------- */

typedef struct specs {
    unsigned n_signed, n_unsigned, n_short, n_long, n_int, n_char, n_bool, n_float,
        n_double, n_void, n_named;
    int is_const;
    nc_ffi_type named;            /* from a struct, an enum or a type name */
} specs;

static nc_ffi_type parse_specs(nc_ffi_parser *p, size_t *start);
static void declarator(nc_ffi_parser *p, nc_ffi_type base, int in_params, uint32_t *name,
                       nc_ffi_type *type, nc_ffi_func *fn);

static int struct_index(nc_ffi_parser *p, uint32_t name, int anonymous)
{
    nc_ffi_decls *d = p->d;
    if (!anonymous)
        for (unsigned i = 0; i < d->nstructs; i++)
            if (strcmp(nc_ffi_name(d, d->structs[i].name), nc_ffi_name(d, name)) == 0)
                return (int)i;
    nc_ffi__grow(p, (void **)&d->structs, &d->cap_structs, d->nstructs + 1,
                 sizeof *d->structs, NC_FFI_MAX_STRUCTS, "structs");
    d->structs[d->nstructs] = (nc_ffi_struct){.name = name};
    return (int)d->nstructs++;
}

/* Size and alignment of a type by value (pointers: 8 bytes on LP64). */
static void size_align(const nc_ffi_decls *d, nc_ffi_type t, size_t *size, unsigned *align)
{
    if (t.ptr) {
        *size = *align = sizeof(void *);
    } else if (t.kind == NC_FFI_STRUCT) {
        *size = d->structs[t.ref].size;
        *align = d->structs[t.ref].align;
    } else if (t.kind == NC_FFI_FLOAT) {
        *size = *align = sizeof(float);
    } else if (t.kind == NC_FFI_DOUBLE) {
        *size = *align = sizeof(double);
    } else if (t.kind == NC_FFI_BOOL) {
        *size = *align = sizeof(_Bool);
    } else {
        *size = *align = t.size;
    }
}

static void struct_body(nc_ffi_parser *p, int si)
{
    char b[64];
    if (++p->depth > NC_FFI_MAX_DEPTH)
        FAIL(p, "nested deeper than %d", NC_FFI_MAX_DEPTH);
    NEXT(p);  /* '{' */
    nc_ffi_field fields[NC_FFI_MAX_FIELDS];
    unsigned n = 0;
    size_t size = 0;
    unsigned align = 1;
    while (!IS(p, '}')) {
        if (p->tok.kind == T_EOF)
            FAIL(p, "expected '}', got the end");
        size_t start;
        nc_ffi_type base = parse_specs(p, &start);
        for (;;) {
            size_t at = p->tok.pos;
            if (n == NC_FFI_MAX_FIELDS)
                FAIL(p, "more than %d fields", NC_FFI_MAX_FIELDS);
            uint32_t name;
            nc_ffi_type t;
            declarator(p, base, 0, &name, &t, NULL);
            if (!p->d->pool[name])
                nc_ffi__fail_at(p, at, "a field needs a name");
            if (t.ptr == 0 && t.kind == NC_FFI_VOID)
                nc_ffi__fail_at(p, at, "a field cannot be void");
            if (t.ptr == 0 && t.kind == NC_FFI_STRUCT && !p->d->structs[t.ref].complete)
                nc_ffi__fail_at(p, at, "struct %s is incomplete here",
                                nc_ffi_name(p->d, p->d->structs[t.ref].name));
            if (IS(p, ':'))
                FAIL(p, "bit fields are not supported");
            for (unsigned i = 0; i < n; i++)
                if (strcmp(nc_ffi_name(p->d, fields[i].name), nc_ffi_name(p->d, name)) == 0)
                    nc_ffi__fail_at(p, at, "field %s declared twice", nc_ffi_name(p->d, name));
            size_t fs;
            unsigned fa;
            size_align(p->d, t, &fs, &fa);
            size = (size + fa - 1) / fa * fa + fs;
            if (size > NC_FFI_MAX_STRUCT_SIZE)
                nc_ffi__fail_at(p, at, "struct larger than %u bytes", NC_FFI_MAX_STRUCT_SIZE);
            if (fa > align)
                align = fa;
            fields[n++] = (nc_ffi_field){.name = name, .type = t};
            if (!IS(p, ','))
                break;
            NEXT(p);
        }
        if (!IS(p, ';'))
            FAIL(p, "expected ';' after a field, got %s", nc_ffi__tok_desc(p, b, sizeof b));
        NEXT(p);
    }
    if (n == 0)
        FAIL(p, "a struct needs at least one field");
    nc_ffi_struct *s = &p->d->structs[si];
    if (s->complete)  /* `struct s { struct s { ... } in; }`: defined inside itself */
        FAIL(p, "struct %s defined twice", nc_ffi_name(p->d, s->name));
    s->fields = malloc(n * sizeof *fields);
    if (!s->fields)
        FAIL(p, "out of memory");
    memcpy(s->fields, fields, n * sizeof *fields);
    s->nfields = n;
    s->size = (size + align - 1) / align * align;
    s->align = align;
    s->complete = 1;
    p->depth--;
    NEXT(p);  /* '}' */
}

static nc_ffi_type struct_spec(nc_ffi_parser *p)
{
    char b[64];
    NEXT(p);  /* 'struct' */
    int si;
    size_t at = p->tok.pos;
    if (p->tok.kind == T_IDENT && !nc_ffi__is_keyword(p)) {
        uint32_t name = nc_ffi__pool_tok(p);
        si = struct_index(p, name, 0);
        NEXT(p);
        if (IS(p, '{') && p->d->structs[si].complete)
            nc_ffi__fail_at(p, at, "struct %s defined twice", nc_ffi_name(p->d, name));
    } else if (IS(p, '{')) {
        si = struct_index(p, nc_ffi__pool_add(p, "", 0), 1);
    } else {
        FAIL(p, "expected a struct name or '{', got %s", nc_ffi__tok_desc(p, b, sizeof b));
    }
    if (IS(p, '{'))
        struct_body(p, si);
    return (nc_ffi_type){.kind = NC_FFI_STRUCT, .ref = (uint16_t)si, .name = -1};
}

static nc_ffi_type combine(nc_ffi_parser *p, const specs *s, size_t at)
{
    unsigned basic = s->n_short + s->n_long + s->n_int + s->n_char + s->n_bool +
                     s->n_float + s->n_double + s->n_void;
    unsigned sign = s->n_signed + s->n_unsigned;
    nc_ffi_type t = {.name = -1};
    if (s->n_named) {
        if (basic || sign)
            nc_ffi__fail_at(p, at, "a type name cannot be combined with other type words");
        t = s->named;
    } else if (s->n_signed > 1 || s->n_unsigned > 1 || (s->n_signed && s->n_unsigned)) {
        nc_ffi__fail_at(p, at, "signed and unsigned conflict");
    } else if (s->n_void || s->n_bool || s->n_float) {
        if (basic != 1 || sign)
            nc_ffi__fail_at(p, at, "invalid combination of type words");
        t.kind = s->n_void ? NC_FFI_VOID : s->n_bool ? NC_FFI_BOOL : NC_FFI_FLOAT;
    } else if (s->n_double) {
        if (s->n_long)
            nc_ffi__fail_at(p, at, "long double is not supported");
        if (basic != 1 || sign)
            nc_ffi__fail_at(p, at, "invalid combination of type words");
        t.kind = NC_FFI_DOUBLE;
    } else if (s->n_char) {
        if (basic != 1)
            nc_ffi__fail_at(p, at, "invalid combination of type words");
        t.kind = s->n_unsigned || (!s->n_signed && CHAR_MIN == 0) ? NC_FFI_UINT : NC_FFI_SINT;
        t.size = 1;
        t.flags = NC_FFI_CHAR | (s->n_signed || s->n_unsigned ? 0 : NC_FFI_PLAIN);
    } else if (basic || sign) {
        if (s->n_int > 1 || s->n_long > 2 || (s->n_short && s->n_long) || s->n_short > 1)
            nc_ffi__fail_at(p, at, "invalid combination of type words");
        t.kind = s->n_unsigned ? NC_FFI_UINT : NC_FFI_SINT;
        t.size = s->n_short ? sizeof(short) : s->n_long == 2 ? sizeof(long long)
               : s->n_long ? sizeof(long) : sizeof(int);
    } else {
        char b[64];
        FAIL(p, "expected a type, got %s", nc_ffi__tok_desc(p, b, sizeof b));
    }
    /* `const T` makes the base const, except when T names a pointer type:
     * there the pointer is const, not what it points to (`typedef char *str;
     * const str s` is `char *const s`, whose bytes C may write). */
    if (s->is_const && !(s->n_named && t.ptr))
        t.flags |= NC_FFI_CONST;
    return t;
}

static nc_ffi_type parse_specs(nc_ffi_parser *p, size_t *start)
{
    specs s = {0};
    *start = p->tok.pos;
    for (;;) {
        unsigned basic = s.n_short + s.n_long + s.n_int + s.n_char + s.n_bool + s.n_float +
                         s.n_double + s.n_void + s.n_signed + s.n_unsigned + s.n_named;
        if (p->tok.kind != T_IDENT)
            break;
        if (WORD(p, "const")) {
            s.is_const = 1;
        } else if (WORD(p, "volatile") || WORD(p, "restrict") || WORD(p, "__restrict") ||
                   WORD(p, "extern") || WORD(p, "static") || WORD(p, "inline") ||
                   WORD(p, "__extension__")) {
            /* no effect on a call */
        } else if (WORD(p, "signed")) { s.n_signed++;
        } else if (WORD(p, "unsigned")) { s.n_unsigned++;
        } else if (WORD(p, "short")) { s.n_short++;
        } else if (WORD(p, "long")) { s.n_long++;
        } else if (WORD(p, "int")) { s.n_int++;
        } else if (WORD(p, "char")) { s.n_char++;
        } else if (WORD(p, "_Bool") || WORD(p, "bool")) { s.n_bool++;
        } else if (WORD(p, "float")) { s.n_float++;
        } else if (WORD(p, "double")) { s.n_double++;
        } else if (WORD(p, "void")) { s.n_void++;
        } else if (WORD(p, "union")) {
            FAIL(p, "unions are not supported");
        } else if (WORD(p, "struct") || WORD(p, "enum")) {
            if (basic)
                FAIL(p, "invalid combination of type words");
            s.named = WORD(p, "struct") ? struct_spec(p) : nc_ffi__enum_spec(p);
            s.n_named++;
            continue;  /* the spec read its own tokens */
        } else if (basic == 0 && lookup_type_name(p, &s.named) == 0) {
            /* A type name is a specifier only before any other: after one,
             * an identifier is the declarator's name, as in C. */
            s.n_named++;
        } else {
            break;
        }
        NEXT(p);
    }
    return combine(p, &s, *start);
}

/* ---- declarators --------------------------------------------------------- */

static void params(nc_ffi_parser *p, nc_ffi_func *fn)
{
    char b[64];
    NEXT(p);  /* '(' */
    fn->nparams = 0;
    fn->variadic = 0;
    if (WORD(p, "void") && p->pos < p->n) {
        /* `(void)`: look past the word without consuming the declaration. */
        nc_ffi_parser save = *p;
        NEXT(p);
        if (IS(p, ')')) {
            NEXT(p);
            return;
        }
        *p = save;
    }
    if (IS(p, ')')) {
        NEXT(p);
        return;
    }
    for (;;) {
        if (p->tok.kind == T_ELLIPSIS) {
            if (fn->nparams == 0)
                FAIL(p, "'...' needs a parameter before it");
            fn->variadic = 1;
            NEXT(p);
            if (!IS(p, ')'))
                FAIL(p, "'...' must be the last parameter");
            break;
        }
        if (fn->nparams == NC_FFI_MAX_PARAMS)
            FAIL(p, "more than %d parameters", NC_FFI_MAX_PARAMS);
        size_t start;
        nc_ffi_type base = parse_specs(p, &start);
        nc_ffi_param *pa = &fn->params[fn->nparams];
        size_t at = p->tok.pos;
        declarator(p, base, 1, &pa->name, &pa->type, NULL);
        if (pa->type.ptr == 0 && pa->type.kind == NC_FFI_VOID)
            nc_ffi__fail_at(p, start, "a parameter cannot be void");
        if (pa->type.ptr == 0 && pa->type.kind == NC_FFI_STRUCT &&
            !p->d->structs[pa->type.ref].complete)
            nc_ffi__fail_at(p, start, "struct %s is incomplete here",
                            nc_ffi_name(p->d, p->d->structs[pa->type.ref].name));
        const char *nm = nc_ffi_name(p->d, pa->name);
        for (unsigned i = 0; *nm && i < fn->nparams; i++)
            if (strcmp(nc_ffi_name(p->d, fn->params[i].name), nm) == 0)
                nc_ffi__fail_at(p, at, "parameter %s declared twice", nm);
        pa->spell = nc_ffi__pool_spell(p, start, p->prev_end);
        fn->nparams++;
        if (IS(p, ')'))
            break;
        if (!IS(p, ','))
            FAIL(p, "expected ',' or ')', got %s", nc_ffi__tok_desc(p, b, sizeof b));
        NEXT(p);
    }
    NEXT(p);  /* ')' */
}

/* Reads pointers, a name (optional in parameters) and, when `fn` is given, a
 * parameter list (which then must come). Arrays are pointers in parameters. */
static void declarator(nc_ffi_parser *p, nc_ffi_type base, int in_params, uint32_t *name,
                       nc_ffi_type *type, nc_ffi_func *fn)
{
    char b[64];
    nc_ffi_type t = base;
    while (IS(p, '*')) {
        if (t.ptr == NC_FFI_MAX_PTR)
            FAIL(p, "more than %d levels of pointer", NC_FFI_MAX_PTR);
        t.ptr++;
        NEXT(p);
        while (WORD(p, "const") || WORD(p, "volatile") || WORD(p, "restrict") ||
               WORD(p, "__restrict"))
            NEXT(p);
    }
    if (IS(p, '('))
        FAIL(p, "function pointers are not supported");
    if (p->tok.kind == T_IDENT && !nc_ffi__is_keyword(p)) {
        *name = nc_ffi__pool_tok(p);
        NEXT(p);
    } else if (in_params) {
        *name = nc_ffi__pool_add(p, "", 0);
    } else {
        FAIL(p, "expected a name, got %s", nc_ffi__tok_desc(p, b, sizeof b));
    }
    if (IS(p, '[')) {
        if (!in_params)
            FAIL(p, "arrays are only supported as parameters (use a pointer)");
        NEXT(p);
        if (p->tok.kind == T_INT)
            NEXT(p);
        nc_ffi__expect(p, ']', "']'");
        if (t.ptr == NC_FFI_MAX_PTR)
            FAIL(p, "more than %d levels of pointer", NC_FFI_MAX_PTR);
        t.ptr++;
    }
    if (fn) {
        if (!IS(p, '('))
            FAIL(p, "expected '(' after a function's name, got %s (variables are not supported)",
                 nc_ffi__tok_desc(p, b, sizeof b));
        params(p, fn);
    } else if (IS(p, '(')) {
        FAIL(p, in_params ? "function pointers are not supported"
                          : "functions cannot be declared here");
    }
    if (t.ptr == 0 && t.kind == NC_FFI_VOID && t.flags & NC_FFI_CONST)
        t.flags &= (uint8_t)~NC_FFI_CONST;
    *type = t;
}

/* ---- declarations ---------------------------------------------------------- */

static void add_typedef(nc_ffi_parser *p, uint32_t name, nc_ffi_type t, size_t at)
{
    nc_ffi_decls *d = p->d;
    const char *nm = nc_ffi_name(d, name);
    for (const builtin_name *b = builtins; b->name; b++)
        if (strcmp(b->name, nm) == 0)
            nc_ffi__fail_at(p, at, "%s is a built-in type name", nm);
    for (unsigned i = 0; i < d->ntypedefs; i++)
        if (strcmp(nc_ffi_name(d, d->typedefs[i].name), nm) == 0)
            nc_ffi__fail_at(p, at, "type %s defined twice", nm);
    for (unsigned i = 0; i < d->nfuncs; i++)
        if (strcmp(nc_ffi_name(d, d->funcs[i].name), nm) == 0)
            nc_ffi__fail_at(p, at, "%s is already a function", nm);
    nc_ffi__grow(p, (void **)&d->typedefs, &d->cap_typedefs, d->ntypedefs + 1,
                 sizeof *d->typedefs, NC_FFI_MAX_TYPEDEFS, "typedefs");
    d->typedefs[d->ntypedefs++] = (nc_ffi_typedef){.name = name, .type = t};
}

static void function_decl(nc_ffi_parser *p, nc_ffi_type base, size_t start)
{
    nc_ffi_decls *d = p->d;
    size_t at = p->tok.pos;
    nc_ffi__grow(p, (void **)&d->funcs, &d->cap_funcs, d->nfuncs + 1, sizeof *d->funcs,
                 NC_FFI_MAX_FUNCS, "functions");
    nc_ffi_func *fn = &d->funcs[d->nfuncs];
    memset(fn, 0, sizeof *fn);
    uint32_t name;
    /* The return type's pointers come before the name. */
    nc_ffi_type ret = base;
    size_t ret_end;
    while (IS(p, '*')) {
        if (ret.ptr == NC_FFI_MAX_PTR)
            FAIL(p, "more than %d levels of pointer", NC_FFI_MAX_PTR);
        ret.ptr++;
        NEXT(p);
        while (WORD(p, "const") || WORD(p, "volatile") || WORD(p, "restrict"))
            NEXT(p);
    }
    ret_end = p->prev_end;
    at = p->tok.pos;
    nc_ffi_type dummy;
    declarator(p, ret, 0, &name, &dummy, fn);
    if (ret.ptr == 0 && ret.kind == NC_FFI_STRUCT && !d->structs[ret.ref].complete)
        nc_ffi__fail_at(p, at, "struct %s is incomplete here",
                        nc_ffi_name(d, d->structs[ret.ref].name));
    if (nc_ffi_find_func(d, nc_ffi_name(d, name)))
        nc_ffi__fail_at(p, at, "function %s declared twice", nc_ffi_name(d, name));
    for (unsigned i = 0; i < d->ntypedefs; i++)
        if (strcmp(nc_ffi_name(d, d->typedefs[i].name), nc_ffi_name(d, name)) == 0)
            nc_ffi__fail_at(p, at, "%s is already a type", nc_ffi_name(d, name));
    fn->name = name;
    fn->ret = ret;
    fn->spell = nc_ffi__pool_spell(p, start, ret_end);
    d->nfuncs++;
}

static void declaration(nc_ffi_parser *p)
{
    char b[64];
    int is_typedef = 0;
    if (WORD(p, "typedef")) {
        is_typedef = 1;
        NEXT(p);
    }
    size_t start;
    nc_ffi_type base = parse_specs(p, &start);
    if (IS(p, ';') || p->tok.kind == T_EOF) {
        if (is_typedef)
            FAIL(p, "a typedef needs a name");
        return;  /* a struct or enum declared on its own */
    }
    for (;;) {
        size_t at = p->tok.pos;
        if (is_typedef) {
            uint32_t name;
            nc_ffi_type t;
            declarator(p, base, 0, &name, &t, NULL);
            add_typedef(p, name, t, at);
        } else {
            function_decl(p, base, start);
        }
        if (!IS(p, ','))
            break;
        NEXT(p);
    }
    if (!IS(p, ';') && p->tok.kind != T_EOF)
        FAIL(p, "expected ';', got %s", nc_ffi__tok_desc(p, b, sizeof b));
}

int nc_ffi_parse(const char *text, size_t len, nc_ffi_decls *out, nc_ffi_error *err)
{
    /* volatile: read after longjmp. */
    nc_ffi_parser *volatile pp = malloc(sizeof(nc_ffi_parser));
    memset(out, 0, sizeof *out);
    memset(err, 0, sizeof *err);
    if (!pp) {
        snprintf(err->msg, sizeof err->msg, "out of memory");
        err->line = err->column = 1;
        return -1;
    }
    nc_ffi_parser *p = pp;
    memset(p, 0, sizeof *p);
    p->s = text;
    p->n = len;
    p->d = out;
    p->err = err;
    if (setjmp(p->fail)) {
        nc_ffi_decls_free(out);
        free(pp);
        return -1;
    }
    if (len > NC_FFI_MAX_TEXT) {
        p->n = 0;
        nc_ffi__fail_at(p, 0, "declarations longer than %d bytes", NC_FFI_MAX_TEXT);
    }
    NEXT(p);
    while (p->tok.kind != T_EOF) {
        if (IS(p, ';')) {
            NEXT(p);
            continue;
        }
        declaration(p);
    }
    free(pp);
    return 0;
}
