/* nc_iso_state.c: the child backend's process-wide state (nocopy__iso), data
 * only: the module's names, the regions, the channel and the hooks. Set up by
 * nc_iso_main.c; read by the primitives (nc_backend.h, inlined into the core)
 * and the backend's other files. It defines no function and uses no symbol,
 * so the core compiled for this backend may depend on it without any file
 * cycle (tools/check-layers.sh). */
#include "nc_iso.h"

nc_iso_global nocopy__iso;
