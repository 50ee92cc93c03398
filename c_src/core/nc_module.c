/* nc_module.c: the module's table as the core reads it: atoms, handle types,
 * the fingerprint, and the one check of the whole table, which the describe
 * build runs (a bad table stops the build) and both backends run at load. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "nc_internal.h"

const char *const nocopy__builtin_atoms[NOCOPY_ATOM_BUILTIN_COUNT] = {
    "ok", "error", "true", "false", "undefined"};

_Static_assert(NOCOPY_ATOM_OK == -1 && NOCOPY_ATOM_ERROR == -2 && NOCOPY_ATOM_TRUE == -3 &&
                   NOCOPY_ATOM_FALSE == -4 && NOCOPY_ATOM_UNDEFINED == -5,
               "nocopy__builtin_atoms is indexed by -a - 1");

int nocopy__module_atom_count(const nocopy_module *m)
{
    int n = 0;
    if (m->atoms)
        while (m->atoms[n])
            n++;
    return n;
}

const char *nocopy__atom_name(const nocopy_module *m, nocopy_atom a)
{
    if (a < 0 && a >= -NOCOPY_ATOM_BUILTIN_COUNT)
        return nocopy__builtin_atoms[-a - 1];
    if (a >= 0 && a < nocopy__module_atom_count(m))
        return m->atoms[a];
    return NULL;
}

int nocopy__handle_type_index(const nocopy_module *m, const nocopy_handle_type *t)
{
    if (!m->handle_types || !t)
        return -1;
    for (int i = 0; m->handle_types[i]; i++)
        if (m->handle_types[i] == t)
            return i;
    return -1;
}

/* FNV-1a, 32 bits: a checksum of the table's shape, not a secret. */
static uint32_t fnv1a(uint32_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

uint32_t nocopy__module_fingerprint(const nocopy_module *m)
{
    char arity[16];
    uint32_t h = 2166136261u;
    h = fnv1a(h, m->name, strlen(m->name) + 1);
    for (size_t i = 0; i < m->nfuncs; i++) {
        const nocopy_func *f = &m->funcs[i];
        int n = snprintf(arity, sizeof arity, "/%u;", f->arity);
        h = fnv1a(h, f->name, strlen(f->name));
        h = fnv1a(h, arity, (size_t)n);
    }
    return h;
}

/* ---- the table's check ------------------------------------------------------ */

static int bad(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(char *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, NC_MODULE_ERR_MAX, fmt, ap);
    va_end(ap);
    return -1;
}

static int check_funcs(const nocopy_module *m, char *err)
{
    if (m->nfuncs > NC_MAX_FUNCS)
        return bad(err, "%zu functions; at most %d are supported", m->nfuncs, NC_MAX_FUNCS);
    if (m->nfuncs > 0 && !m->funcs)
        return bad(err, "nfuncs is %zu but funcs is NULL", m->nfuncs);
    for (size_t i = 0; i < m->nfuncs; i++) {
        const nocopy_func *f = &m->funcs[i];
        if (!f->name || !*f->name)
            return bad(err, "function %zu has no name", i);
        if (strlen(f->name) > NC_MAX_FUNC_NAME)
            return bad(err, "function name \"%.40s...\" is longer than %zu characters",
                       f->name, (size_t)NC_MAX_FUNC_NAME);
        if (!f->fn)
            return bad(err, "%s/%u has no C function (fn is NULL)", f->name, f->arity);
        if (f->arity > NC_MAX_ARITY)
            return bad(err, "%s/%u: at most %d arguments are supported", f->name, f->arity,
                       NC_MAX_ARITY);
        if ((unsigned)f->sched > (unsigned)NOCOPY_DIRTY_ABOVE)
            return bad(err, "%s/%u: %d is not a nocopy_sched value", f->name, f->arity,
                       (int)f->sched);
        for (size_t j = 0; j < i; j++)
            if (m->funcs[j].arity == f->arity && strcmp(m->funcs[j].name, f->name) == 0)
                return bad(err, "%s/%u is listed twice (functions %zu and %zu)", f->name,
                           f->arity, j, i);
    }
    return 0;
}

static int check_atoms(const nocopy_module *m, char *err)
{
    for (int i = 0; m->atoms && m->atoms[i]; i++)
        if (strlen(m->atoms[i]) > NC_MAX_ATOM_CHARS)
            return bad(err, "atom \"%.40s...\" is longer than %d characters", m->atoms[i],
                       NC_MAX_ATOM_CHARS);
    return 0;
}

static int check_handle_types(const nocopy_module *m, char *err)
{
    for (int i = 0; m->handle_types && m->handle_types[i]; i++) {
        const nocopy_handle_type *t = m->handle_types[i];
        if (i == NC_MAX_HANDLE_TYPES)
            return bad(err, "more than %d handle types", NC_MAX_HANDLE_TYPES);
        if (!t->name || !*t->name)
            return bad(err, "handle type %d has no name", i);
        for (int j = 0; j < i; j++)
            if (m->handle_types[j] == t)
                return bad(err, "handle type %s is listed twice", t->name);
    }
    return 0;
}

int nocopy__module_check(const nocopy_module *m, char err[NC_MODULE_ERR_MAX])
{
    err[0] = '\0';
    if (!m)
        return bad(err, "nocopy_module_definition() returned NULL");
    if (!m->name || !*m->name)
        return bad(err, "the module has no name");
    if (strlen(m->name) > NC_MAX_MODULE_NAME)
        return bad(err, "module name \"%.40s...\" is longer than %zu characters", m->name,
                   (size_t)NC_MAX_MODULE_NAME);
    if (check_funcs(m, err) || check_atoms(m, err) || check_handle_types(m, err))
        return -1;
    return 0;
}
