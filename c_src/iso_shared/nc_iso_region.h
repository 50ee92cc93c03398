/* nc_iso_region.h: a shared region of the isolated backend: a sealed memfd,
 * mapped in the VM and in the child. Pure C, no runtime header.
 *
 * The VM creates both regions before it starts a child (create), and maps
 * each the way its role asks: the input region read-write (the VM writes
 * Erlang binaries there), the output region read-only. The child maps the fds
 * it inherits (attach): the input region read-only, the output region
 * read-write. Nothing in a region is a pointer or allocator metadata; offsets
 * and lengths travel in messages and are checked by the receiver.
 *
 * What the seals guarantee, whatever the other process does with its fd:
 *   - F_SEAL_SHRINK | F_SEAL_GROW: the size never changes, so a mapping never
 *     faults (SIGBUS) for lack of a page behind it;
 *   - F_SEAL_SEAL: no further seal can be added by the other side;
 *   - F_SEAL_FUTURE_WRITE on the input region (nocopy__iso_region_freeze):
 *     only mappings made before it may write, so the child can never map the
 *     VM's binaries writable, nor write() them through its fd. */
#ifndef NC_ISO_REGION_H
#define NC_ISO_REGION_H

#include <stddef.h>
#include <stdint.h>

typedef struct nocopy__iso_region {
    int fd;                 /* the memfd, OWNED (closed by unmap); -1 if none */
    uint8_t *base;          /* this process's mapping, OWNED; NULL if none */
    size_t size;            /* bytes, fixed for the region's life */
    int writable;           /* this process's mapping may write */
} nocopy__iso_region;

/* Creates a memfd of `size` bytes (sparse), seals its size, and maps it in
 * this process, writable or not. `name` shows in /proc/PID/maps.
 * @return : NOCOPY_OK with *r filled, NOCOPY_ERANGE for a size outside
 *           [NC_ISO_MIN_REGION_BYTES, NC_ISO_MAX_REGION_BYTES] or not a
 *           multiple of the page size, NOCOPY_ENOMEM if the system refused
 *           (r->fd is -1 and r->base NULL then). */
int nocopy__iso_region_create(nocopy__iso_region *r, const char *name, size_t size,
                              int writable);

/* Seals the region against any later writable mapping or write() (the
 * mapping already made keeps writing). The VM does this to the input region
 * before the child inherits it.
 * @return : NOCOPY_OK, or NOCOPY_EINTERNAL if the kernel refused. */
int nocopy__iso_region_freeze(nocopy__iso_region *r);

/* Maps an inherited memfd (the child's side). Checks that the fd is a memfd
 * of exactly `size` bytes whose size is sealed, so the mapping cannot fault.
 * `fd` becomes OWNED by *r on success (closed by unmap), and stays the
 * caller's on failure.
 * @return : NOCOPY_OK, NOCOPY_EPROTO if the fd is not such a region,
 *           NOCOPY_ENOMEM if it cannot be mapped. */
int nocopy__iso_region_attach(nocopy__iso_region *r, int fd, size_t size, int writable);

/* Gives the pages of [off, off + len) back to the system; they read as zero
 * afterwards, in both processes. Only whole pages inside the range are
 * released; the caller (the owner of the range's allocator) knows nothing
 * live is there.
 * @return : NOCOPY_OK, NOCOPY_ERANGE if the range is outside the region. */
int nocopy__iso_region_discard(nocopy__iso_region *r, size_t off, size_t len);

/* Bytes of the region that hold memory now (pages written and not
 * discarded), from the memfd's block count: what the accounting tests read. */
size_t nocopy__iso_region_resident(const nocopy__iso_region *r);

/* Unmaps and closes. Accepts a region never created or already unmapped. */
void nocopy__iso_region_unmap(nocopy__iso_region *r);

#endif /* NC_ISO_REGION_H */
