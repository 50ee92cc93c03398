/* nc_iso_limits.h: the numbers both sides of the isolated backend agree on:
 * the VM (the host NIF, to be c_src/iso_host/) and the child process it
 * starts (to be c_src/iso/). Pure C, no runtime header. docs/design.md, "The
 * isolated backend", explains the shape these numbers belong to. */
#ifndef NC_ISO_LIMITS_H
#define NC_ISO_LIMITS_H

#include <stddef.h>
#include <stdint.h>

/* The two shared regions. Each is a memfd sized once (sparse: only pages
 * written take memory) and sealed against shrinking and growing, so neither
 * process can make the other's accesses fault. */
#define NC_ISO_REGION_INPUT  0   /* the VM allocates; the child maps it read-only */
#define NC_ISO_REGION_OUTPUT 1   /* the child allocates; the VM maps it read-only */
#define NC_ISO_REGIONS       2

/* Default region sizes: address space, not memory (the memfds are sparse). */
#define NC_ISO_DEFAULT_REGION_BYTES ((size_t)1 << 30)
/* Bounds on a configured region size: 64 KiB to 64 TiB (2^46, well inside
 * the 47-bit user address space, for two regions). */
#define NC_ISO_MIN_REGION_BYTES ((size_t)1 << 16)
#define NC_ISO_MAX_REGION_BYTES ((size_t)1 << 46)

/* Every block of a region starts on this boundary, and its length is rounded
 * up to it: a cache line, so two blocks never share one. */
#define NC_ISO_ALIGN 64

/* A freed block whose page-aligned interior is at least this long gives its
 * pages back to the system (hole punched in the memfd), so a region's memory
 * follows what is live, not its high-water mark. Smaller frees keep their
 * pages for the next allocation. */
#define NC_ISO_DISCARD_MIN ((size_t)64 << 10)

/* The file descriptors the child finds open at start (posix_spawn dup2s them
 * there and closes every other): the channel, then the regions. */
#define NC_ISO_CHILD_FD_CHANNEL 3
#define NC_ISO_CHILD_FD_INPUT   4
#define NC_ISO_CHILD_FD_OUTPUT  5
#define NC_ISO_CHILD_FD_SLOTS   6   /* reply slots, nc_iso_slot.h */
#define NC_ISO_CHILD_FDS        4

/* The largest message on the channel (a datagram: it arrives whole or not at
 * all). Bigger data belongs in a region. */
#define NC_ISO_MSG_MAX (64u << 10)

#endif /* NC_ISO_LIMITS_H */
