/* nc_drv_state.c: the driver backend's process-wide state (nocopy__drv), data
 * only: the driver's name, the module's names as text, their atom words. Set
 * up by nc_drv_setup.c; read by the primitives (nc_backend.h, inlined into the
 * core) and the backend's other files. It defines no function and uses no
 * symbol, so the core compiled for the driver may depend on it without any
 * file cycle (tools/check-layers.sh). */
#include "nc_drv.h"

nc_drv_global nocopy__drv;
