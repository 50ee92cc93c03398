/* nc_ffi_decl.c: reading and freeing what the parser made. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nc_ffi_decl.h"

void nc_ffi_decls_free(nc_ffi_decls *d)
{
    for (unsigned i = 0; i < d->nstructs; i++)
        free(d->structs[i].fields);
    free(d->structs);
    free(d->funcs);
    free(d->typedefs);
    free(d->consts);
    free(d->pool);
    memset(d, 0, sizeof *d);
}

const nc_ffi_func *nc_ffi_find_func(const nc_ffi_decls *d, const char *name)
{
    for (unsigned i = 0; i < d->nfuncs; i++)
        if (strcmp(nc_ffi_name(d, d->funcs[i].name), name) == 0)
            return &d->funcs[i];
    return NULL;
}

static const char *base_name(const nc_ffi_decls *d, nc_ffi_type t, char *buf, size_t cap)
{
    switch (t.kind) {
    case NC_FFI_VOID: return "void";
    case NC_FFI_BOOL: return "bool";
    case NC_FFI_FLOAT: return "float";
    case NC_FFI_DOUBLE: return "double";
    case NC_FFI_STRUCT:
        snprintf(buf, cap, "struct %s", nc_ffi_name(d, d->structs[t.ref].name));
        return buf;
    default:
        break;
    }
    if (t.flags & NC_FFI_CHAR)
        return t.kind == NC_FFI_UINT ? "unsigned char" : "char";
    if (t.flags & NC_FFI_ENUM)
        return "enum";
    snprintf(buf, cap, "%sint%u_t", t.kind == NC_FFI_UINT ? "u" : "", 8u * t.size);
    return buf;
}

void nc_ffi_type_spell(const nc_ffi_decls *d, nc_ffi_type t, char *buf, size_t cap)
{
    char b[NC_FFI_MAX_NAME + 16];
    const char *base;
    unsigned stars = t.ptr;
    int is_const = (t.flags & NC_FFI_CONST) != 0;
    if (t.name >= 0) {
        /* Spelled with its typedef's name, which holds its own pointers and
         * const: only what was added to it is spelled around it. */
        base = nc_ffi_name(d, (uint32_t)t.name);
        for (unsigned i = 0; i < d->ntypedefs; i++)
            if (d->typedefs[i].name == (uint32_t)t.name) {
                stars = t.ptr - d->typedefs[i].type.ptr;
                is_const = is_const && !(d->typedefs[i].type.flags & NC_FFI_CONST);
            }
    } else {
        base = base_name(d, t, b, sizeof b);
    }
    snprintf(buf, cap, "%s%s%s%.*s", is_const ? "const " : "",
             base, stars ? " " : "", (int)stars, "****");
}
