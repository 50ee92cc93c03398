/* nc_describe.c: the "describe" build of a user's module. Linked with the same
 * C source as the NIF and driver libraries, it prints the module's table as
 * Erlang terms, which nocopy_stubgen turns into the stub modules. This is how
 * the table in C stays the single source of truth for the Erlang signatures.
 * It checks the table first (nocopy__module_check) and fails on a bad one.
 * No call is ever made, so no backend is installed. */
#include <stdio.h>

#include "nc_internal.h"
/* The one header of a backend this layer reads: the driver's port options,
 * printed for the stubs. It includes no runtime header. */
#include "../drv/nc_drv_options.h"

static void put_string(const char *s)
{
    putchar('"');
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch == '\n')
            fputs("\\n", stdout);
        else if (ch < 0x20)
            printf("\\%03o", ch);
        else
            putchar(ch);
    }
    putchar('"');
}

static const char *sched_name(nocopy_sched s)
{
    switch (s) {
    case NOCOPY_NORMAL: return "normal";
    case NOCOPY_DIRTY_CPU: return "dirty_cpu";
    case NOCOPY_DIRTY_IO: return "dirty_io";
    case NOCOPY_DIRTY_ABOVE: return "dirty_above";
    }
    return "invalid";
}

int main(void)
{
    const nocopy_module *m = nocopy_module_definition();
    char err[NC_MODULE_ERR_MAX];

    /* The one check of the table, run here so that a bad table stops the
     * build (make, rebar3, mix) instead of the load. */
    if (nocopy__module_check(m, err) != 0) {
        fprintf(stderr, "nocopy: bad module table in %s: %s\n",
                m && m->name ? m->name : "(no name)", err);
        return 1;
    }

    fputs("{module, ", stdout);
    put_string(m->name);
    printf("}.\n{fingerprint, %lu}.\n{atoms, [", (unsigned long)nocopy__module_fingerprint(m));
    for (int i = 0; m->atoms && m->atoms[i]; i++) {
        if (i)
            putchar(',');
        put_string(m->atoms[i]);
    }
    fputs("]}.\n{handle_types, [", stdout);
    for (int i = 0; m->handle_types && m->handle_types[i]; i++) {
        if (i)
            putchar(',');
        put_string(m->handle_types[i]->name);
    }
    fputs("]}.\n{port_options, [", stdout);
    const char *sep = "";
#define XX(name, field, dflt, min, max, boolean)                                  \
    printf("%s{%s, %llu, %llu, %llu, %s}", sep, #name, (unsigned long long)(dflt),  \
           (unsigned long long)(min), (unsigned long long)(max),                   \
           (boolean) ? "boolean" : "integer");                                      \
    sep = ",";
    NC_DRV_OPTIONS(XX)
#undef XX
    fputs("]}.\n{types, ", stdout);
    put_string(m->types ? m->types : "");
    fputs("}.\n", stdout);
    for (size_t i = 0; i < m->nfuncs; i++) {
        const nocopy_func *f = &m->funcs[i];
        printf("{function, %zu, ", i);
        put_string(f->name);
        printf(", %u, ", f->arity);
        put_string(f->args ? f->args : "");
        fputs(", ", stdout);
        put_string(f->result ? f->result : "term()");
        printf(", %s, %zu, ", sched_name(f->sched), f->dirty_above);
        put_string(f->doc ? f->doc : "");
        fputs("}.\n", stdout);
    }
    return ferror(stdout) ? 1 : 0;
}
