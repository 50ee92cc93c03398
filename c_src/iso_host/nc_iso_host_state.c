/* nc_iso_host_state.c: the host library's process-wide state, data only:
 * its resource types and atoms, set up at load (nc_iso_host_nif.c) and
 * read-only afterwards. It defines no function and uses no symbol, so every
 * file of the library may use it without a file cycle
 * (tools/check-layers.sh). */
#include "nc_iso_host.h"

ErlNifResourceType *nocopy__host_iso_rt, *nocopy__host_block_rt, *nocopy__host_out_rt;
nc_host_atoms nocopy__host_am;
