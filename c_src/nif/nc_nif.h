/* nc_nif.h: shared between the NIF backend's files. */
#ifndef NC_NIF_H
#define NC_NIF_H

#include <erl_nif.h>

#include "nc_internal.h"

/* One NIF call: the common call context first, then what the primitives need. */
typedef struct nif_call {
    nocopy_call base;
    ErlNifEnv *env;
} nif_call;

#define NIF_ENV(c) (((nif_call *)(c))->env)

/* Load-time state: atoms and resource types, valid VM-wide while loaded.
 * Defined in nc_nif_state.c (data only), set up and freed by nc_nif_setup.c. */
typedef struct nif_state {
    const nocopy_module *mod;
    ERL_NIF_TERM *atoms;              /* the module's atom table, by index */
    int natoms;
    ERL_NIF_TERM builtin[NOCOPY_ATOM_BUILTIN_COUNT];  /* by -index - 1 */
    ERL_NIF_TERM am_error_tag, am_general;
    ERL_NIF_TERM am_reason[NC_REASON_COUNT];          /* nocopy__reason_index() */
    ErlNifResourceType *handle_rt;    /* every handle, whatever its type */
    ErlNifResourceType *foreign_rt;   /* owners of foreign-memory binaries */
} nif_state;

extern nif_state nocopy__nif;

/* Makes the atoms of nocopy__nif.mod (built-in, the module's, the error
 * edge's); 0 on success. Again on upgrade: atoms are VM-wide, the same words. */
int nocopy__nif_atoms_init(ErlNifEnv *env);
/* Frees what nocopy__nif_atoms_init allocated (the last instance unloads). */
void nocopy__nif_atoms_free(void);

/* Opens (or takes over) the resource types; 0 on success. */
int nocopy__nif_open_resources(ErlNifEnv *env, ErlNifResourceFlags flags);

/* The owner of a foreign-memory binary (a resource of foreign_rt): its
 * destructor calls release(obj) once the last binary referring to it goes. */
typedef struct nocopy__nif_foreign {
    nocopy_release_fn release;
    void *obj;
} nocopy__nif_foreign;

#endif /* NC_NIF_H */
