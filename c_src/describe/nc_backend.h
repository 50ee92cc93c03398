/* nc_backend.h (describe): the primitives of the describe build (nc_prims.h).
 * That build links the core only for the table's checks and names: it makes
 * no call, has no term, and no handle exists in it, so no primitive can be
 * reached: each one aborts (nc_prims_abort.h). */
#ifndef NC_DESCRIBE_BACKEND_H
#define NC_DESCRIBE_BACKEND_H

#include "nc_prims_abort.h"

#endif /* NC_DESCRIBE_BACKEND_H */
