/* nc_iso_hooks.c: the child backend's hooks (nocopy__iso.hooks), the
 * functions the primitives call for blocks and handles, installed by the
 * child's main and by the fuzz target that runs the child's CALL reader
 * (fuzz/fuzz_iso_call.c). */
#include "nc_iso.h"

void nocopy__iso_install_hooks(void)
{
    nocopy__iso.hooks = (nc_iso_hooks){
        .out_take = nocopy__iso_out_take,
        .out_ref = nocopy__iso_out_ref,
        .out_unref = nocopy__iso_out_unref,
        .in_keep = nocopy__iso_in_keep,
        .in_release = nocopy__iso_in_release,
        .handle_insert = nocopy__iso_handle_insert,
    };
}
