/* nc_iso_stamps.h: where a small call's time goes (a measuring build only).
 *
 * Built with -DNC_ISO_STAMPS (both sides), each fast-path call is stamped
 * with CLOCK_MONOTONIC, which both processes read alike: the child's three
 * stamps travel in the reply slot's padding, the VM keeps its own, and
 * the VM prints the medians of the steps to stderr every NC_ISO_STAMP_BATCH
 * calls (docs/design.md, "Where the 5 us went"). Without the macro every
 * stamp compiles to nothing. */
#ifndef NC_ISO_STAMPS_H
#define NC_ISO_STAMPS_H

#include <stdint.h>

/* The child's stamps, in the slot's padding (nocopy__iso_slot.pad). */
enum { NC_ISO_STAMP_SEEN, NC_ISO_STAMP_RUN, NC_ISO_STAMP_REPLY, NC_ISO_STAMP_CHILD_N };
/* The VM's. */
enum { NC_ISO_STAMP_ENTRY, NC_ISO_STAMP_POSTED, NC_ISO_STAMP_TAKEN, NC_ISO_STAMP_EXIT,
       NC_ISO_STAMP_PREPARED, NC_ISO_STAMP_BUILT, NC_ISO_STAMP_ARMED, NC_ISO_STAMP_SEEN_VM,
       NC_ISO_STAMP_VM_N };

#define NC_ISO_STAMP_BATCH 20000

#endif /* NC_ISO_STAMPS_H */
