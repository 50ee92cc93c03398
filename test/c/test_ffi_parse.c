/* test_ffi_parse.c: the FFI's declaration parser (c_src/ffi/nc_ffi_parse.c):
 * what it makes of real prototypes (zlib's, libc's), and the position and
 * message of each refusal. Expected layouts are C's own (sizeof, offsetof of
 * the same declarations compiled here), not numbers written by hand. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "nc_ffi_decl.h"

static int parse(const char *text, nc_ffi_decls *d)
{
    nc_ffi_error e;
    int rc = nc_ffi_parse(text, strlen(text), d, &e);
    if (rc != 0)
        fprintf(stderr, "parse failed: line %u, column %u: %s\n", e.line, e.column, e.msg);
    return rc;
}

#define PNAME(d, x) nc_ffi_name((d), (x).name)

TEST(ffi_parse_crc32)
{
    nc_ffi_decls d;
    CHECK_EQ(parse("unsigned long crc32(unsigned long crc, const unsigned char *buf,"
                   " unsigned int len)", &d), 0);
    CHECK_EQ(d.nfuncs, 1);
    const nc_ffi_func *f = nc_ffi_find_func(&d, "crc32");
    CHECK_NOT_NULL(f);
    CHECK_EQ(f->ret.kind, NC_FFI_UINT);
    CHECK_EQ(f->ret.size, sizeof(unsigned long));
    CHECK_EQ(f->ret.ptr, 0);
    CHECK_STR_EQ(nc_ffi_name(&d, f->spell), "unsigned long");
    CHECK_EQ(f->nparams, 3);
    CHECK_EQ(f->variadic, 0);
    CHECK_STR_EQ(PNAME(&d, f->params[0]), "crc");
    CHECK_STR_EQ(PNAME(&d, f->params[1]), "buf");
    CHECK_EQ(f->params[1].type.ptr, 1);
    CHECK_EQ(f->params[1].type.kind, NC_FFI_UINT);
    CHECK_EQ(f->params[1].type.size, 1);
    CHECK_EQ(f->params[1].type.flags, NC_FFI_CONST | NC_FFI_CHAR);   /* bytes, not a string */
    CHECK_STR_EQ(nc_ffi_name(&d, f->params[1].spell), "const unsigned char *buf");
    CHECK_EQ(f->params[2].type.kind, NC_FFI_UINT);
    CHECK_EQ(f->params[2].type.size, sizeof(unsigned int));
    nc_ffi_decls_free(&d);
    return 0;
}

TEST(ffi_parse_typedefs_and_comments)
{
    nc_ffi_decls d;
    CHECK_EQ(parse("typedef unsigned char Bytef; /* zconf.h */\n"
                   "typedef unsigned long uLong;   // and so on\n"
                   "typedef uLong uLongf;\n"
                   "extern int compress2(Bytef *dest, uLongf *destLen, const Bytef *source,\n"
                   "                     uLong sourceLen, int level);\n"
                   "uLong compressBound(uLong sourceLen);", &d), 0);
    CHECK_EQ(d.ntypedefs, 3);
    CHECK_EQ(d.nfuncs, 2);
    const nc_ffi_func *f = nc_ffi_find_func(&d, "compress2");
    CHECK_NOT_NULL(f);
    CHECK_EQ(f->nparams, 5);
    CHECK_EQ(f->params[0].type.ptr, 1);
    CHECK_EQ(f->params[0].type.flags, NC_FFI_CHAR);   /* not const: an out-buffer */
    CHECK_EQ(f->params[1].type.kind, NC_FFI_UINT);
    CHECK_EQ(f->params[1].type.size, sizeof(unsigned long));
    CHECK_EQ(f->params[1].type.ptr, 1);
    CHECK_STR_EQ(nc_ffi_name(&d, f->params[2].spell), "const Bytef *source");
    CHECK_EQ(f->params[2].type.flags, NC_FFI_CONST | NC_FFI_CHAR);
    char spell[64];
    nc_ffi_type_spell(&d, f->params[1].type, spell, sizeof spell);
    CHECK_STR_EQ(spell, "uLongf *");
    nc_ffi_type_spell(&d, f->params[2].type, spell, sizeof spell);
    CHECK_STR_EQ(spell, "const Bytef *");
    nc_ffi_decls_free(&d);
    return 0;
}

TEST(ffi_parse_struct_layouts)
{
    struct mixed { char c; double x; short s; struct { char a; int b; } in; };
    nc_ffi_decls d;
    CHECK_EQ(parse("typedef struct { int quot; int rem; } div_t;"
                   "typedef struct { long quot; long rem; } ldiv_t;"
                   "div_t div(int numer, int denom); ldiv_t ldiv(long, long);"
                   "struct mixed { char c; double x; short s; struct { char a; int b; } in; };"
                   "void use(struct mixed *m);", &d), 0);
    const nc_ffi_func *f = nc_ffi_find_func(&d, "div");
    CHECK_NOT_NULL(f);
    CHECK_EQ(f->ret.kind, NC_FFI_STRUCT);
    const nc_ffi_struct *s = &d.structs[f->ret.ref];
    CHECK_EQ(s->complete, 1);
    CHECK_EQ(s->nfields, 2);
    typedef struct { int quot; int rem; } div_like;
    CHECK_EQ(s->size, sizeof(div_like));
    CHECK_EQ(s->align, _Alignof(div_like));
    f = nc_ffi_find_func(&d, "ldiv");
    CHECK_EQ(d.structs[f->ret.ref].size, 2 * sizeof(long));
    CHECK_STR_EQ(PNAME(&d, f->params[0]), "");   /* unnamed */
    f = nc_ffi_find_func(&d, "use");
    s = &d.structs[f->params[0].type.ref];
    CHECK_STR_EQ(nc_ffi_name(&d, s->name), "mixed");
    CHECK_EQ(s->size, sizeof(struct mixed));
    CHECK_EQ(s->align, _Alignof(struct mixed));
    CHECK_EQ(s->nfields, 4);
    nc_ffi_decls_free(&d);
    return 0;
}

TEST(ffi_parse_enums)
{
    nc_ffi_decls d;
    CHECK_EQ(parse("enum e { A, B = 5, C, D = 1 << 4 | B, E = -(2), F = (A + 3) * 2, G = ~0 };"
                   "typedef enum { X = 7 } anon_e; int f(enum e v, anon_e w);", &d), 0);
    static const int64_t want[] = {0, 5, 6, 21, -2, 6, -1, 7};
    CHECK_EQ(d.nconsts, 8);
    for (unsigned i = 0; i < 8; i++)
        CHECK_EQ(d.consts[i].value, want[i]);
    CHECK_STR_EQ(nc_ffi_name(&d, d.consts[0].enum_name), "e");
    const nc_ffi_func *f = nc_ffi_find_func(&d, "f");
    CHECK_EQ(f->params[0].type.kind, NC_FFI_SINT);
    CHECK_EQ(f->params[0].type.size, sizeof(int));
    CHECK_EQ(f->params[0].type.flags, NC_FFI_ENUM);
    CHECK_EQ(f->params[1].type.flags, NC_FFI_ENUM);
    nc_ffi_decls_free(&d);
    return 0;
}

TEST(ffi_parse_kinds)
{
    nc_ffi_decls d;
    CHECK_EQ(parse("int snprintf(char *restrict str, size_t size, const char *restrict format, ...);"
                   "void v(void); int noargs(); _Bool b(bool x, int8_t a, uint16_t c, int64_t e,"
                   " ssize_t s, signed char sc, short sh, long long ll, unsigned u, float fl,"
                   " double db, char const *cs, void *vp, const void *cvp, char **pp, int arr[]);"
                   "typedef struct z_stream_s z_stream; int deflateEnd(z_stream *strm);"
                   "typedef char *str; void w(const str s);", &d), 0);
    const nc_ffi_func *f = nc_ffi_find_func(&d, "snprintf");
    CHECK_EQ(f->variadic, 1);
    CHECK_EQ(f->nparams, 3);
    CHECK_EQ(f->params[1].type.size, sizeof(size_t));
    CHECK_EQ(nc_ffi_find_func(&d, "v")->nparams, 0);
    CHECK_EQ(nc_ffi_find_func(&d, "v")->ret.kind, NC_FFI_VOID);
    CHECK_EQ(nc_ffi_find_func(&d, "noargs")->nparams, 0);
    f = nc_ffi_find_func(&d, "b");
    CHECK_EQ(f->ret.kind, NC_FFI_BOOL);
    static const struct { uint8_t kind, size, ptr, flags; } want[] = {
        {NC_FFI_BOOL, 0, 0, 0}, {NC_FFI_SINT, 1, 0, 0}, {NC_FFI_UINT, 2, 0, 0},
        {NC_FFI_SINT, 8, 0, 0}, {NC_FFI_SINT, sizeof(ssize_t), 0, 0},
        {NC_FFI_SINT, 1, 0, NC_FFI_CHAR}, {NC_FFI_SINT, sizeof(short), 0, 0},  /* signed char */
        {NC_FFI_SINT, sizeof(long long), 0, 0}, {NC_FFI_UINT, sizeof(unsigned), 0, 0},
        {NC_FFI_FLOAT, 0, 0, 0}, {NC_FFI_DOUBLE, 0, 0, 0},
        {NC_FFI_SINT, 1, 1, NC_FFI_CHAR | NC_FFI_PLAIN | NC_FFI_CONST}, {NC_FFI_VOID, 0, 1, 0},
        {NC_FFI_VOID, 0, 1, NC_FFI_CONST}, {NC_FFI_SINT, 1, 2, NC_FFI_CHAR | NC_FFI_PLAIN},
        {NC_FFI_SINT, sizeof(int), 1, 0}};
    CHECK_EQ(f->nparams, sizeof want / sizeof want[0]);
    for (unsigned i = 0; i < f->nparams; i++) {
        CHECK_EQ(f->params[i].type.kind, want[i].kind);
        if (want[i].size)
            CHECK_EQ(f->params[i].type.size, want[i].size);
        CHECK_EQ(f->params[i].type.ptr, want[i].ptr);
        CHECK_EQ(f->params[i].type.flags, want[i].flags);
    }
    f = nc_ffi_find_func(&d, "deflateEnd");
    CHECK_EQ(f->params[0].type.kind, NC_FFI_STRUCT);
    CHECK_EQ(d.structs[f->params[0].type.ref].complete, 0);
    /* const applied to a pointer typedef makes the pointer const, not the bytes. */
    f = nc_ffi_find_func(&d, "w");
    CHECK_EQ(f->params[0].type.ptr, 1);
    CHECK_EQ(f->params[0].type.flags & NC_FFI_CONST, 0);
    nc_ffi_decls_free(&d);
    return 0;
}

/* Each refused text: where (line, column) and a part of the message. */
static const struct bad_case {
    const char *text;
    unsigned line, column;
    const char *msg;
} bad_cases[] = {
    {"int f(int x", 1, 12, "expected ',' or ')', got the end"},
    {"int f(int x,, int y);", 1, 13, "expected a type, got ','"},
    {"union u { int a; };", 1, 1, "unions are not supported"},
    {"int f(long double x);", 1, 7, "long double is not supported"},
    {"int f(int (*cb)(int));", 1, 11, "function pointers are not supported"},
    {"int x;", 1, 6, "variables are not supported"},
    {"#include <zlib.h>", 1, 1, "preprocessor lines are not supported"},
    {"int f(int a, int a);", 1, 18, "parameter a declared twice"},
    {"struct s { struct s inner; };", 1, 21, "struct s is incomplete here"},
    {"int f(foo x);", 1, 7, "expected a type, got 'foo'"},
    {"int f(int x) { return x; }", 1, 14, "expected ';', got '{'"},
    {"int f(int a,\n  float b c);", 2, 11, "expected ',' or ')', got 'c'"},
    {"int f(void x);", 1, 7, "a parameter cannot be void"},
    {"int f(int, ...); int f(int);", 1, 22, "function f declared twice"},
    {"int f(...);", 1, 7, "'...' needs a parameter before it"},
    {"int f(int a, ..., int b);", 1, 17, "'...' must be the last parameter"},
    {"enum e { A = 1 << 40 };", 1, 14, "out of int's range"},
    {"enum e { A = 9223372036854775807 + 1 };", 1, 34, "enum value out of range"},
    {"enum e { A = B };", 1, 14, "unknown constant 'B'"},
    {"enum e { A, A };", 1, 13, "constant 'A' declared twice"},
    {"int f(int *****p);", 1, 15, "more than 4 levels of pointer"},
    {"int f(unsigned signed x);", 1, 7, "signed and unsigned conflict"},
    {"int f(int x) /* open", 1, 14, "unterminated comment"},
    {"int f(\xff);", 1, 7, "unexpected byte 0xff"},
    {"int f(int $);", 1, 11, "unexpected character '$'"},
    {"int f(int x = 3);", 1, 13, "expected ',' or ')', got '='"},
    {"struct s { int a : 3; };", 1, 18, "bit fields are not supported"},
    {"struct s { int a[4]; };", 1, 17, "arrays are only supported as parameters"},
    {"struct s { };", 1, 12, "a struct needs at least one field"},
    {"struct s { int a; }; struct s { int b; };", 1, 29, "struct s defined twice"},
    {"struct s { struct s { int a; } in; };", 1, 36, "struct s defined twice"},
    {"typedef int t; typedef long t;", 1, 29, "type t defined twice"},
    {"typedef int size_t;", 1, 13, "size_t is a built-in type name"},
    {"typedef int;", 1, 12, "a typedef needs a name"},
    {"int f(int 0x);", 1, 11, "a hexadecimal number needs digits"},
    {"enum e { A = 99999999999999999999 };", 1, 14, "integer too large"},
    {"enum e { A = 12ab };", 1, 16, "bad digit or suffix"},
    {"enum e { A = 1 << 63 };", 1, 16, "shift by 63"},
};

TEST(ffi_parse_errors_name_the_position)
{
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const struct bad_case *c = &bad_cases[i];
        nc_ffi_decls d;
        nc_ffi_error e;
        if (nc_ffi_parse(c->text, strlen(c->text), &d, &e) == 0)
            CHECK_FAIL_("parsed: %s", c->text);
        if (e.line != c->line || e.column != c->column || !strstr(e.msg, c->msg))
            CHECK_FAIL_("%s\n  got  %u:%u %s\n  want %u:%u %s", c->text, e.line, e.column,
                        e.msg, c->line, c->column, c->msg);
        CHECK_EQ(d.nfuncs, 0);    /* nothing is left allocated */
        CHECK_NULL(d.pool);
    }
    return 0;
}

/* The bounds, each crossed by one. */
TEST(ffi_parse_bounds)
{
    char *text = malloc(NC_FFI_MAX_TEXT + 2);
    CHECK_NOT_NULL(text);
    nc_ffi_decls d;
    nc_ffi_error e;
    memset(text, ' ', NC_FFI_MAX_TEXT + 1);
    CHECK_EQ(nc_ffi_parse(text, NC_FFI_MAX_TEXT, &d, &e), 0);   /* all blank: nothing */
    nc_ffi_decls_free(&d);
    CHECK_EQ(nc_ffi_parse(text, NC_FFI_MAX_TEXT + 1, &d, &e), -1);
    CHECK(strstr(e.msg, "longer than 65536 bytes"));

    /* NC_FFI_MAX_PARAMS parameters, then one more. */
    size_t n = (size_t)sprintf(text, "void f(int a0");
    for (int i = 1; i < NC_FFI_MAX_PARAMS; i++)
        n += (size_t)sprintf(text + n, ", int a%d", i);
    strcpy(text + n, ");");
    CHECK_EQ(parse(text, &d), 0);
    CHECK_EQ(d.funcs[0].nparams, NC_FFI_MAX_PARAMS);
    nc_ffi_decls_free(&d);
    strcpy(text + n, ", int x);");
    CHECK_EQ(nc_ffi_parse(text, strlen(text), &d, &e), -1);
    CHECK(strstr(e.msg, "more than 32 parameters"));

    /* A name of NC_FFI_MAX_NAME bytes, then one more. */
    n = (size_t)sprintf(text, "void ");
    memset(text + n, 'x', NC_FFI_MAX_NAME);
    strcpy(text + n + NC_FFI_MAX_NAME, "(void);");
    CHECK_EQ(parse(text, &d), 0);
    nc_ffi_decls_free(&d);
    memset(text + n, 'x', NC_FFI_MAX_NAME + 1);
    strcpy(text + n + NC_FFI_MAX_NAME + 1, "(void);");
    CHECK_EQ(nc_ffi_parse(text, strlen(text), &d, &e), -1);
    CHECK(strstr(e.msg, "name longer than 63 bytes"));
    CHECK_EQ(e.column, 6);

    /* Struct definitions nested NC_FFI_MAX_DEPTH deep, then one more. */
    for (int depth = NC_FFI_MAX_DEPTH; depth <= NC_FFI_MAX_DEPTH + 1; depth++) {
        /* struct s0 { int a; struct s1 { int a; } f1; }; */
        n = 0;
        for (int i = 0; i < depth; i++)
            n += (size_t)sprintf(text + n, "struct s%d { int a; ", i);
        for (int i = depth - 1; i > 0; i--)
            n += (size_t)sprintf(text + n, "} f%d; ", i);
        strcpy(text + n, "};");
        int rc = nc_ffi_parse(text, strlen(text), &d, &e);
        if (depth <= NC_FFI_MAX_DEPTH) {
            if (rc != 0)
                CHECK_FAIL_("depth %d: %s", depth, e.msg);
            CHECK_EQ(d.nstructs, depth);
            nc_ffi_decls_free(&d);
        } else {
            CHECK_EQ(rc, -1);
            CHECK(strstr(e.msg, "nested deeper than 8"));
        }
    }
    /* 2049 enum constants. */
    n = (size_t)sprintf(text, "enum e {");
    for (int i = 0; i <= NC_FFI_MAX_CONSTS; i++)
        n += (size_t)sprintf(text + n, " c%d,", i);
    strcpy(text + n, "};");
    CHECK_EQ(nc_ffi_parse(text, strlen(text), &d, &e), -1);
    CHECK(strstr(e.msg, "more than 2048 enum constants"));
    free(text);
    return 0;
}
