/* nc_iso_host_stamps.h: the VM side's stamps of a fast call, in a measuring
 * build only (-DNC_ISO_STAMPS; nc_iso_host_stamps.c). Without the macro
 * every stamp compiles to nothing. */
#ifndef NC_ISO_HOST_STAMPS_H
#define NC_ISO_HOST_STAMPS_H

#include "nc_iso_stamps.h"

#ifdef NC_ISO_STAMPS
/* Stamps step k (NC_ISO_STAMP_*) of this thread's call now. */
void nocopy__host_stamp(int k);
/* Copies the child's stamps from a reply slot's padding. */
void nocopy__host_stamp_child(const void *pad);
/* Records the call just ended, if it went the fast path both ways. */
void nocopy__host_stamps_record(void);
#define VM_STAMP(k) nocopy__host_stamp(k)
#else
#define VM_STAMP(k) ((void)0)
#define nocopy__host_stamp_child(pad) ((void)0)
#define nocopy__host_stamps_record() ((void)0)
#endif

#endif /* NC_ISO_HOST_STAMPS_H */
