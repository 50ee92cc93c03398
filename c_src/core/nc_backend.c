/* nc_backend.c: the one piece of process-wide state the core has, the backend
 * of this library. A backend's load sets it, before any call; the core reads it
 * where no call context is at hand (nocopy_handle_keep/release). */
#include "nc_internal.h"

const nocopy__ops *nocopy__backend;
