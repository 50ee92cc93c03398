/* nc_nif_state.c: the NIF backend's load-time state (nocopy__nif), data only:
 * the atoms and resource types, set up by nc_nif_setup.c at load and read by
 * the primitives (nc_backend.h, inlined into the core) and the entry point.
 * It defines no function and uses no symbol, so the core compiled for the NIF
 * backend may depend on it without any file cycle (tools/check-layers.sh). */
#include "nc_nif.h"

nif_state nocopy__nif;
