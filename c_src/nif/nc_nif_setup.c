/* nc_nif_setup.c: setting up and tearing down the NIF backend's load-time
 * state (nocopy__nif, defined in nc_nif_state.c): the atoms, made once at load
 * so that matching an argument atom is a word comparison, and the resource
 * types with their destructors, which the runtime calls by address. The entry
 * point (nc_nif.c) calls these at load, upgrade and unload. */
#include <stdlib.h>

#include "nc_nif.h"

int nocopy__nif_atoms_init(ErlNifEnv *env)
{
    const nocopy_module *m = nocopy__nif.mod;
    for (int i = 0; i < NOCOPY_ATOM_BUILTIN_COUNT; i++)
        nocopy__nif.builtin[i] = enif_make_atom(env, nocopy__builtin_atoms[i]);

    /* Their names were checked with the table (nocopy__module_check). */
    int n = nocopy__module_atom_count(m);
    if (!nocopy__nif.atoms && n > 0) {
        nocopy__nif.atoms = calloc((size_t)n, sizeof(ERL_NIF_TERM));
        if (!nocopy__nif.atoms)
            return -1;
    }
    for (int i = 0; i < n; i++)
        nocopy__nif.atoms[i] = enif_make_atom(env, m->atoms[i]);
    nocopy__nif.natoms = n;

    nocopy__nif.am_error_tag = enif_make_atom(env, NC_ATOM_ERROR_TAG);
    nocopy__nif.am_general = enif_make_atom(env, NC_ATOM_GENERAL);
    for (int i = 0; i < NC_REASON_COUNT; i++)
        nocopy__nif.am_reason[i] = enif_make_atom(env, nocopy__reason_names[i]);
    return 0;
}

void nocopy__nif_atoms_free(void)
{
    free(nocopy__nif.atoms);
    nocopy__nif.atoms = NULL;
    nocopy__nif.natoms = 0;
}

/* ---- resource destructors ------------------------------------------------ */

static void handle_dtor(ErlNifEnv *env, void *obj)
{
    (void)env;
    nocopy__handle_finalize(obj);
}

static void foreign_dtor(ErlNifEnv *env, void *obj)
{
    (void)env;
    nocopy__nif_foreign *o = obj;
    if (o->release)
        o->release(o->obj);
}

int nocopy__nif_open_resources(ErlNifEnv *env, ErlNifResourceFlags flags)
{
    ErlNifResourceFlags tried;
    nocopy__nif.handle_rt =
        enif_open_resource_type(env, NULL, "nocopy_handle", handle_dtor, flags, &tried);
    nocopy__nif.foreign_rt =
        enif_open_resource_type(env, NULL, "nocopy_foreign", foreign_dtor, flags, &tried);
    return nocopy__nif.handle_rt && nocopy__nif.foreign_rt ? 0 : -1;
}
