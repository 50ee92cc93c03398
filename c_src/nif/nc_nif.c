/* nc_nif.c: the NIF backend's entry point, load/upgrade/unload, the part of
 * each call around the wrapped function, scheduling and error raising.
 *
 * erl_nif wants one C function per NIF, with no user data. NOCOPY_MODULE
 * writes them in the user's file (include/nocopy_entry.h): entry k calls
 * nocopy__nif_enter with the module, k and function k, all constants there.
 * Linked with -flto, nocopy__nif_enter is inlined into each entry, and the
 * wrapped function was inlined into it already: a call is a direct call of
 * one C function, with no test of the table. */
#define NOCOPY__NIF_BACKEND           /* nocopy__nif_enter is defined here */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nc_nif.h"

_Static_assert(NC_MAX_FUNCS == NOCOPY__MAX_FUNCS,
               "one entry per function the table check allows");

/* Built by nif_init from the module's table; freed when the last module
 * instance using the library unloads (the library may stay mapped for a
 * newer instance, which then builds them again). */
static ErlNifEntry entry;
static ErlNifFunc *funcs;
static int instances;                 /* module instances with this library */

/* ---- errors ------------------------------------------------------------- */

static ERL_NIF_TERM text_binary(ErlNifEnv *env, const char *text)
{
    ERL_NIF_TERM t;
    size_t n = strlen(text);
    unsigned char *p = enif_make_new_binary(env, n, &t);
    if (!p)
        return enif_make_list(env, 0);
    memcpy(p, text, n);
    return t;
}

/* Raises {'$nocopy_error', Reason, Cause}; the generated stub turns it into
 * error(Reason, Args, [{error_info, ...}]) in the caller's own frame. Out of
 * line, so that dispatch stays small. */
__attribute__((noinline)) static ERL_NIF_TERM raise_call_error(ErlNifEnv *env,
                                                               const nocopy_call *c)
{
    int st = c->err_status;
    ERL_NIF_TERM reason = nocopy__nif.am_reason[nocopy__reason_index(st)];
    unsigned argno = nocopy__cause_argno(st, c->err_argno);
    ERL_NIF_TERM where = argno ? enif_make_uint(env, argno) : nocopy__nif.am_general;
    ERL_NIF_TERM cause = enif_make_tuple2(env, where, text_binary(env, c->err_text));
    return enif_raise_exception(env,
                                enif_make_tuple3(env, nocopy__nif.am_error_tag, reason, cause));
}

/* ---- dispatch ----------------------------------------------------------- */

/* Runs function f, which is fn, here, on this thread. Inlined into each
 * entry, where f and fn are constants: the runtime calls a NIF with exactly
 * its arity, so argc is f->arity, which lets the readers' index checks fold
 * too. */
static inline __attribute__((always_inline)) ERL_NIF_TERM run(const nocopy_module *m,
                                                              const nocopy_func *f,
                                                              nocopy_fn fn, ErlNifEnv *env,
                                                              const ERL_NIF_TERM argv[])
{
    nif_call nc;
    nc.env = env;
    nocopy__call_init(&nc.base, m, f, f->arity, (const uintptr_t *)argv);
    ERL_NIF_TERM ret;
    if (NC_LIKELY(nocopy__call_run_fn(&nc.base, fn) == NOCOPY_OK))
        ret = (ERL_NIF_TERM)nc.base.result;
    else
        ret = raise_call_error(env, &nc.base);
    nocopy__call_finish(&nc.base);
    return ret;
}

/* A NOCOPY_DIRTY_ABOVE function: large inputs move to a dirty CPU scheduler;
 * the same entry runs again there, sees it is no longer on a normal
 * scheduler, and does the work. */
__attribute__((noinline)) static ERL_NIF_TERM run_measured(unsigned k, const nocopy_module *m,
                                                           const nocopy_func *f,
                                                           ErlNifEnv *env, int argc,
                                                           const ERL_NIF_TERM argv[])
{
    if (enif_thread_type() == ERL_NIF_THR_NORMAL_SCHEDULER) {
        nif_call nc;
        nc.env = env;
        nocopy__call_init(&nc.base, m, f, f->arity, (const uintptr_t *)argv);
        size_t bytes = nocopy__binary_arg_bytes(&nc.base);
        nocopy__call_finish(&nc.base);
        if (bytes > f->dirty_above)
            return enif_schedule_nif(env, f->name, ERL_NIF_DIRTY_JOB_CPU_BOUND,
                                     nocopy__nif_entries[k], argc, argv);
    }
    return run(m, f, f->fn, env, argv);
}

/* Declared in nocopy_entry.h (so this definition is an external one, which
 * the entries call when not linked with -flto). */
__attribute__((always_inline)) inline ERL_NIF_TERM nocopy__nif_enter(ErlNifEnv *env,
                                                                     const ERL_NIF_TERM argv[],
                                                                     const nocopy_module *m,
                                                                     unsigned k, nocopy_fn fn)
{
    /* nif_init registers the first m->nfuncs entries only. */
    if (k >= m->nfuncs || !fn)
        return enif_make_badarg(env);
    const nocopy_func *f = &m->funcs[k];
    if (f->sched == NOCOPY_DIRTY_ABOVE)
        return run_measured(k, m, f, env, (int)f->arity, argv);
    return run(m, f, fn, env, argv);
}

/* ---- load / upgrade / unload --------------------------------------------- */

static int setup(ErlNifEnv *env, ErlNifResourceFlags flags)
{
    if (nocopy__nif_atoms_init(env) != 0 || nocopy__nif_open_resources(env, flags) != 0)
        return -1;
    return 0;
}

static int on_load(ErlNifEnv *env, void **priv, ERL_NIF_TERM info)
{
    (void)priv;
    (void)info;
    if (setup(env, ERL_NIF_RT_CREATE) != 0)
        return -1;
    const nocopy_module *m = nocopy__nif.mod;
    if (m->load && m->load() != NOCOPY_OK)
        return -1;
    instances++;
    return 0;
}

/* A new version of the Erlang module loaded the same library: keep the state,
 * take over the resource types so existing handles stay valid. */
static int on_upgrade(ErlNifEnv *env, void **priv, void **old_priv, ERL_NIF_TERM info)
{
    (void)priv;
    (void)old_priv;
    (void)info;
    if (setup(env, ERL_NIF_RT_CREATE | ERL_NIF_RT_TAKEOVER) != 0)
        return -1;
    instances++;
    return 0;
}

static void free_tables(void)
{
    for (size_t i = 0; funcs && i < (size_t)entry.num_of_funcs; i++)
        free((char *)funcs[i].name);
    free(funcs);
    funcs = NULL;
    nocopy__nif_atoms_free();
}

/* Load, upgrade and unload callbacks run with the code lock held, so the
 * instance count needs no atomics. The user's unload hook runs once the last
 * instance is gone, mirroring its load hook. */
static void on_unload(ErlNifEnv *env, void *priv)
{
    (void)env;
    (void)priv;
    if (--instances > 0)
        return;
    if (nocopy__nif.mod->unload)
        nocopy__nif.mod->unload();
    free_tables();
}

/* ---- entry point -------------------------------------------------------- */

static char *nif_name(const char *fname)
{
    size_t n = strlen(fname);
    char *s = malloc(n + sizeof "$nocopy_");
    if (s) {
        memcpy(s, "$nocopy_", sizeof "$nocopy_" - 1);
        memcpy(s + sizeof "$nocopy_" - 1, fname, n + 1);
    }
    return s;
}

static int sched_flags(nocopy_sched s)
{
    switch (s) {
    case NOCOPY_DIRTY_CPU: return ERL_NIF_DIRTY_JOB_CPU_BOUND;
    case NOCOPY_DIRTY_IO: return ERL_NIF_DIRTY_JOB_IO_BOUND;
    default: return 0;
    }
}

ERL_NIF_INIT_EXPORT ErlNifEntry *nif_init(ERL_NIF_INIT_ARGS);
ERL_NIF_INIT_EXPORT ErlNifEntry *nif_init(ERL_NIF_INIT_ARGS)
{
    const nocopy_module *m = nocopy_module_definition();
    char err[NC_MODULE_ERR_MAX];

    if (funcs)
        return &entry;
    /* The describe build ran the same check, so a library built with
     * nocopy.mk passes; this is for one built otherwise. */
    if (nocopy__module_check(m, err) != 0) {
        fprintf(stderr, "nocopy: module %s: %s\n", m && m->name ? m->name : "?", err);
        return NULL;
    }
    funcs = calloc(m->nfuncs ? m->nfuncs : 1, sizeof *funcs);
    if (!funcs)
        return NULL;
    for (size_t i = 0; i < m->nfuncs; i++) {
        funcs[i].name = nif_name(m->funcs[i].name);
        if (!funcs[i].name) {
            entry.num_of_funcs = (int)i;
            free_tables();
            return NULL;
        }
        funcs[i].arity = m->funcs[i].arity;
        funcs[i].fptr = nocopy__nif_entries[i];
        funcs[i].flags = (unsigned)sched_flags(m->funcs[i].sched);
    }
    nocopy__nif.mod = m;
    entry = (ErlNifEntry){
        .major = ERL_NIF_MAJOR_VERSION,
        .minor = ERL_NIF_MINOR_VERSION,
        .name = m->name,
        .num_of_funcs = (int)m->nfuncs,
        .funcs = funcs,
        .load = on_load,
        .reload = NULL,
        .upgrade = on_upgrade,
        .unload = on_unload,
        .vm_variant = ERL_NIF_VM_VARIANT,
        .options = 1,
        .sizeof_ErlNifResourceTypeInit = sizeof(ErlNifResourceTypeInit),
        .min_erts = ERL_NIF_MIN_ERTS_VERSION,
    };
    return &entry;
}
