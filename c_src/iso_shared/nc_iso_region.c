/* nc_iso_region.c: sealed memfd regions, mapped in both processes of the
 * isolated backend (see nc_iso_region.h for what the seals guarantee). */
#include "nc_iso_region.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nc_iso_limits.h"
#include "nocopy_status.h"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010   /* Linux 5.1; glibc 2.36 headers may lack it */
#endif

/* The seals every region carries from its creation. */
#define SIZE_SEALS (F_SEAL_SHRINK | F_SEAL_GROW)

static void clear(nocopy__iso_region *r)
{
    r->fd = -1;
    r->base = NULL;
    r->size = 0;
    r->writable = 0;
}

static int page_multiple(size_t size)
{
    long page = sysconf(_SC_PAGESIZE);
    return page > 0 && size % (size_t)page == 0;
}

static int size_ok(size_t size)
{
    return size >= NC_ISO_MIN_REGION_BYTES && size <= NC_ISO_MAX_REGION_BYTES &&
           page_multiple(size);
}

static int map(nocopy__iso_region *r, int writable)
{
    int prot = PROT_READ | (writable ? PROT_WRITE : 0);
    void *p = mmap(NULL, r->size, prot, MAP_SHARED, r->fd, 0);
    if (p == MAP_FAILED)
        return NOCOPY_ENOMEM;
    r->base = p;
    r->writable = writable;
    return NOCOPY_OK;
}

int nocopy__iso_region_create(nocopy__iso_region *r, const char *name, size_t size,
                              int writable)
{
    clear(r);
    if (!size_ok(size))
        return NOCOPY_ERANGE;
    /* CLOEXEC: only the child being spawned gets the fd, through the spawn's
     * dup2 (which clears the flag on the copy), not every program the VM
     * ever starts. */
    int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return NOCOPY_ENOMEM;
    if (ftruncate(fd, (off_t)size) != 0 ||
        fcntl(fd, F_ADD_SEALS, SIZE_SEALS) != 0) {
        close(fd);
        return NOCOPY_ENOMEM;
    }
    r->fd = fd;
    r->size = size;
    int rc = map(r, writable);
    if (rc != NOCOPY_OK) {
        close(fd);
        clear(r);
    }
    return rc;
}

int nocopy__iso_region_freeze(nocopy__iso_region *r)
{
    /* F_SEAL_SEAL last, so neither side can add a seal later (a write seal
     * added by the child would not harm the VM, but nothing needs one). */
    if (fcntl(r->fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE) != 0 ||
        fcntl(r->fd, F_ADD_SEALS, F_SEAL_SEAL) != 0)
        return NOCOPY_EINTERNAL;
    return NOCOPY_OK;
}

int nocopy__iso_region_attach(nocopy__iso_region *r, int fd, size_t size, int writable)
{
    clear(r);
    struct stat st;
    int seals = fcntl(fd, F_GET_SEALS);
    /* A file without seals (F_GET_SEALS fails: not a memfd) or whose size may
     * still change could be truncated under the mapping. */
    if (!size_ok(size) || seals < 0 || (seals & SIZE_SEALS) != SIZE_SEALS ||
        fstat(fd, &st) != 0 || st.st_size < 0 || (size_t)st.st_size != size)
        return NOCOPY_EPROTO;
    r->fd = fd;
    r->size = size;
    int rc = map(r, writable);
    if (rc != NOCOPY_OK)
        clear(r);
    return rc;
}

int nocopy__iso_region_discard(nocopy__iso_region *r, size_t off, size_t len)
{
    if (off > r->size || len > r->size - off)
        return NOCOPY_ERANGE;
    long page = sysconf(_SC_PAGESIZE);
    size_t p = page > 0 ? (size_t)page : 4096;
    size_t start = (off + p - 1) / p * p;
    size_t end = (off + len) / p * p;
    if (end <= start)
        return NOCOPY_OK;
    /* Punching the hole frees the pages of the file itself, so the memory
     * comes back for both mappings at once (MADV_DONTNEED would only drop
     * this process's page table entries). */
    if (fallocate(r->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)start,
                  (off_t)(end - start)) != 0)
        return NOCOPY_EINTERNAL;
    return NOCOPY_OK;
}

size_t nocopy__iso_region_resident(const nocopy__iso_region *r)
{
    struct stat st;
    if (r->fd < 0 || fstat(r->fd, &st) != 0 || st.st_blocks < 0)
        return 0;
    return (size_t)st.st_blocks * 512;
}

void nocopy__iso_region_unmap(nocopy__iso_region *r)
{
    if (r->base)
        munmap(r->base, r->size);
    if (r->fd >= 0)
        close(r->fd);
    clear(r);
}
