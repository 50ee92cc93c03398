/* fuzz_ffi_parse.c: the FFI's declaration parser (c_src/ffi/nc_ffi_parse.c
 * and the files it uses) on any bytes.
 *
 * Checked, beyond "no crash, no leak, no read outside the input" (the input
 * is copied into a block of exactly its size, so ASan sees any over-read):
 *   - a refusal fills in a position within the text, a line and column that
 *     agree with it, and a message; it leaves nothing allocated;
 *   - an acceptance stays within every bound of nc_ffi_decl.h, and every
 *     offset and index it holds points inside what it made;
 *   - parsing is deterministic: a second parse gives the same outcome. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nc_ffi_decl.h"

#define REQUIRE(cond)                                                          \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "fuzz_ffi_parse: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                           \
        }                                                                      \
    } while (0)

static void check_name(const nc_ffi_decls *d, uint32_t off)
{
    REQUIRE(off < d->pool_len);
    REQUIRE(strlen(d->pool + off) <= 160);
}

static void check_type(const nc_ffi_decls *d, nc_ffi_type t)
{
    REQUIRE(t.kind <= NC_FFI_STRUCT);
    REQUIRE(t.ptr <= NC_FFI_MAX_PTR);
    if (t.kind == NC_FFI_STRUCT) {
        REQUIRE(t.ref < d->nstructs);
        /* by value only when complete */
        REQUIRE(t.ptr > 0 || d->structs[t.ref].complete);
    }
    if (t.kind == NC_FFI_SINT || t.kind == NC_FFI_UINT)
        REQUIRE(t.size == 1 || t.size == 2 || t.size == 4 || t.size == 8);
    if (t.name >= 0)
        check_name(d, (uint32_t)t.name);
    char spell[96];
    nc_ffi_type_spell(d, t, spell, sizeof spell);
    REQUIRE(strlen(spell) < sizeof spell);
}

static void check_decls(const nc_ffi_decls *d)
{
    REQUIRE(d->nfuncs <= NC_FFI_MAX_FUNCS && d->nstructs <= NC_FFI_MAX_STRUCTS);
    REQUIRE(d->ntypedefs <= NC_FFI_MAX_TYPEDEFS && d->nconsts <= NC_FFI_MAX_CONSTS);
    for (unsigned i = 0; i < d->nstructs; i++) {
        const nc_ffi_struct *s = &d->structs[i];
        check_name(d, s->name);
        REQUIRE(s->nfields <= NC_FFI_MAX_FIELDS);
        REQUIRE(!s->complete || (s->nfields > 0 && s->size > 0 &&
                                 s->size <= NC_FFI_MAX_STRUCT_SIZE && s->size % s->align == 0));
        /* a struct's fields by value are structs defined before it completed */
        for (unsigned j = 0; j < s->nfields; j++) {
            check_name(d, s->fields[j].name);
            check_type(d, s->fields[j].type);
        }
    }
    for (unsigned i = 0; i < d->nfuncs; i++) {
        const nc_ffi_func *f = &d->funcs[i];
        check_name(d, f->name);
        check_name(d, f->spell);
        check_type(d, f->ret);
        REQUIRE(f->nparams <= NC_FFI_MAX_PARAMS);
        REQUIRE(!f->variadic || f->nparams > 0);
        REQUIRE(nc_ffi_find_func(d, nc_ffi_name(d, f->name)) == f);
        for (unsigned j = 0; j < f->nparams; j++) {
            check_name(d, f->params[j].name);
            check_name(d, f->params[j].spell);
            check_type(d, f->params[j].type);
            REQUIRE(f->params[j].type.ptr > 0 || f->params[j].type.kind != NC_FFI_VOID);
        }
    }
    for (unsigned i = 0; i < d->ntypedefs; i++) {
        check_name(d, d->typedefs[i].name);
        REQUIRE(d->typedefs[i].type.ptr <= NC_FFI_MAX_PTR);
    }
    for (unsigned i = 0; i < d->nconsts; i++) {
        check_name(d, d->consts[i].name);
        check_name(d, d->consts[i].enum_name);
        REQUIRE(d->consts[i].value >= INT32_MIN && d->consts[i].value <= INT32_MAX);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);
    REQUIRE(text);
    memcpy(text, data, size);
    nc_ffi_decls d, d2;
    nc_ffi_error e, e2;
    int rc = nc_ffi_parse(text, size, &d, &e);
    int rc2 = nc_ffi_parse(text, size, &d2, &e2);
    REQUIRE(rc == rc2);
    if (rc != 0) {
        REQUIRE(rc == -1);
        REQUIRE(e.offset <= size);
        REQUIRE(e.line >= 1 && e.column >= 1);
        unsigned line = 1, col = 1;
        for (size_t i = 0; i < e.offset; i++) {
            line += text[i] == '\n';
            col = text[i] == '\n' ? 1 : col + 1;
        }
        REQUIRE(e.line == line && e.column == col);
        REQUIRE(e.msg[0] != '\0');
        REQUIRE(e.offset == e2.offset && strcmp(e.msg, e2.msg) == 0);
        REQUIRE(d.pool == NULL && d.funcs == NULL && d.structs == NULL);
    } else {
        check_decls(&d);
        REQUIRE(d.nfuncs == d2.nfuncs && d.nstructs == d2.nstructs &&
                d.pool_len == d2.pool_len && memcmp(d.pool ? d.pool : "", d2.pool ? d2.pool : "",
                                                    d.pool_len) == 0);
        nc_ffi_decls_free(&d);
        nc_ffi_decls_free(&d2);
    }
    free(text);
    return 0;
}
