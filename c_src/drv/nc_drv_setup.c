/* nc_drv_setup.c: setting up and tearing down the driver backend's
 * process-wide state (nocopy__drv, defined in nc_drv_state.c): the driver's
 * name, the module's names as text (requests carry atoms as text), and their
 * atom words. The entry point calls these at load, on the first port's start
 * and at unload; nothing else writes the state.
 *
 * The atoms are made when the first port starts, on a scheduler thread:
 * driver_mk_atom is not thread-safe. */
#include <stdio.h>
#include <string.h>

#include "nc_drv.h"

int nocopy__drv_name_init(const nocopy_module *m)
{
    /* erl_ddll requires it to match the library's file name, NAME_drv.so.
     * The table check bounds the name, so it fits in a checked table. */
    if (!m || !m->name)
        return -1;
    int n = snprintf(nocopy__drv.driver_name, sizeof nocopy__drv.driver_name, "%s_drv",
                     m->name);
    return n < 0 || (size_t)n >= sizeof nocopy__drv.driver_name ? -1 : 0;
}

/* The built-in atoms then the module's, with their lengths, for matching the
 * text of a request's atoms (nocopy__be_get_atom, nc_backend.h). */
static int names_init(const nocopy_module *m)
{
    int n = nocopy__module_atom_count(m);
    nocopy__drv.natoms = n;
    nocopy__drv.names = driver_alloc((size_t)(NOCOPY_ATOM_BUILTIN_COUNT + n) *
                                     sizeof *nocopy__drv.names);
    if (!nocopy__drv.names)
        return -1;
    for (int i = 0; i < NOCOPY_ATOM_BUILTIN_COUNT + n; i++) {
        const char *s = i < NOCOPY_ATOM_BUILTIN_COUNT ? nocopy__builtin_atoms[i]
                                                      : m->atoms[i - NOCOPY_ATOM_BUILTIN_COUNT];
        nocopy__drv.names[i] = (nocopy__wire_atom_name){s, strlen(s)};
    }
    return 0;
}

int nocopy__drv_state_init(const nocopy_module *m)
{
    nocopy__drv.mod = m;
    nocopy__drv.fingerprint = nocopy__module_fingerprint(m);
    if (names_init(m) != 0 || !(nocopy__drv.atoms_mu = erl_drv_mutex_create("nocopy_atoms")))
        return -1;
    return 0;
}

void nocopy__drv_state_free(void)
{
    if (nocopy__drv.names)
        driver_free(nocopy__drv.names);
    if (nocopy__drv.mod_atoms)
        driver_free(nocopy__drv.mod_atoms);
    if (nocopy__drv.atoms_mu)
        erl_drv_mutex_destroy(nocopy__drv.atoms_mu);
    nocopy__drv.names = NULL;
    nocopy__drv.mod_atoms = NULL;
    nocopy__drv.atoms_mu = NULL;
    nocopy__drv.atoms_ready = 0;
}

static ErlDrvTermData mk_atom(const char *name)
{
    return driver_mk_atom((char *)name);
}

int nocopy__drv_atoms_init(void)
{
    int rc = 0;
    erl_drv_mutex_lock(nocopy__drv.atoms_mu);
    if (!nocopy__drv.atoms_ready) {
        int n = nocopy__drv.natoms;
        nocopy__drv.mod_atoms = driver_alloc((n ? (size_t)n : 1) * sizeof(ErlDrvTermData));
        if (!nocopy__drv.mod_atoms) {
            rc = -1;
            goto done;
        }
        for (int i = 0; i < NOCOPY_ATOM_BUILTIN_COUNT; i++)
            nocopy__drv.builtin[i] = mk_atom(nocopy__drv.names[i].name);
        for (int i = 0; i < n; i++)
            nocopy__drv.mod_atoms[i] =
                mk_atom(nocopy__drv.names[NOCOPY_ATOM_BUILTIN_COUNT + i].name);
        nocopy__drv.am_reply = mk_atom("nocopy_reply");
        nocopy__drv.am_error_reply = mk_atom("nocopy_error");
        nocopy__drv.am_error_tag = mk_atom(NC_ATOM_ERROR_TAG);
        nocopy__drv.am_general = mk_atom(NC_ATOM_GENERAL);
        nocopy__drv.am_handle = mk_atom("$nocopy_handle");
        nocopy__drv.am_wrong_port = mk_atom("wrong_port");
        for (int i = 0; i < NC_REASON_COUNT; i++)
            nocopy__drv.am_reason[i] = mk_atom(nocopy__reason_names[i]);
        nocopy__drv.atoms_ready = 1;
    }
done:
    erl_drv_mutex_unlock(nocopy__drv.atoms_mu);
    return rc;
}
