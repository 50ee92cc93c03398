/* test_iso_region.c: the shared regions of the isolated backend
 * (c_src/iso_shared/nc_iso_region.c): sizes, seals, what each side may map,
 * memory given back. The "other process" is a forked child that maps the
 * region from the inherited fd, as the real child does. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "nc_iso_limits.h"
#include "nc_iso_region.h"
#include "nocopy_status.h"

#define SIZE ((size_t)16 << 20)

/* Runs fn(arg) in a forked child; returns its exit status (0 = its checks held). */
static int in_child(int (*fn)(void *), void *arg)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0)
        _exit(fn(arg));
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

TEST(iso_region_sizes)
{
    nocopy__iso_region r;
    CHECK_EQ(nocopy__iso_region_create(&r, "t", 0, 1), NOCOPY_ERANGE);
    CHECK_EQ(r.fd, -1);
    CHECK_NULL(r.base);
    CHECK_EQ(nocopy__iso_region_create(&r, "t", NC_ISO_MIN_REGION_BYTES + 1, 1), NOCOPY_ERANGE);
    CHECK_EQ(nocopy__iso_region_create(&r, "t", NC_ISO_MIN_REGION_BYTES / 2, 1), NOCOPY_ERANGE);
    CHECK_EQ(nocopy__iso_region_create(&r, "t", NC_ISO_MAX_REGION_BYTES * 2, 1), NOCOPY_ERANGE);
    CHECK_EQ(nocopy__iso_region_create(&r, "t", SIZE, 1), NOCOPY_OK);
    CHECK_NOT_NULL(r.base);
    CHECK_EQ_U(r.size, SIZE);
    /* Sparse: nothing written, nothing resident. */
    CHECK_LE_U(nocopy__iso_region_resident(&r), 4096);
    r.base[SIZE - 1] = 7;
    CHECK_GE(nocopy__iso_region_resident(&r), 4096);
    nocopy__iso_region_unmap(&r);
    CHECK_EQ(r.fd, -1);
    nocopy__iso_region_unmap(&r);       /* twice is harmless */
    return 0;
}

/* Neither side can change the size: a mapping never loses its pages. */
TEST(iso_region_size_sealed)
{
    nocopy__iso_region r;
    CHECK_EQ(nocopy__iso_region_create(&r, "t", SIZE, 1), NOCOPY_OK);
    CHECK_EQ(ftruncate(r.fd, (off_t)SIZE / 2), -1);
    CHECK_EQ(errno, EPERM);
    CHECK_EQ(ftruncate(r.fd, (off_t)SIZE * 2), -1);
    CHECK_EQ(errno, EPERM);
    CHECK_EQ(nocopy__iso_region_freeze(&r), NOCOPY_OK);
    /* F_SEAL_SEAL: the size seals cannot be lifted, nor new seals added. */
    CHECK_EQ(fcntl(r.fd, F_ADD_SEALS, F_SEAL_WRITE), -1);
    nocopy__iso_region_unmap(&r);
    return 0;
}

typedef struct peer {
    int fd;
    int writable;
    int freeze_expected;      /* the region was frozen: writing must be refused */
} peer;

/* The child's side: attach, check the VM's bytes, try to write. */
static int child_attach(void *arg)
{
    peer *p = arg;
    nocopy__iso_region r;
    int fd = dup(p->fd);
    if (nocopy__iso_region_attach(&r, fd, SIZE, p->writable) != NOCOPY_OK)
        return 10;
    if (r.base[0] != 0x5a || r.base[SIZE - 1] != 0xa5)
        return 11;
    if (p->writable) {
        r.base[1] = 0x42;              /* the VM must see this */
        nocopy__iso_region_unmap(&r);
        return 0;
    }
    /* A read-only attach: a writable mapping of the fd is what a hostile
     * child would try next. */
    void *w = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, p->fd, 0);
    int refused = w == MAP_FAILED;
    if (!refused)
        munmap(w, SIZE);
    int mprot_refused = mprotect(r.base, 4096, PROT_READ | PROT_WRITE) != 0;
    int write_refused = pwrite(p->fd, "x", 1, 0) != 1;
    nocopy__iso_region_unmap(&r);
    if (p->freeze_expected)
        return refused && write_refused ? 0 : 12;
    /* The negative control: without the freeze the same attempts succeed, so
     * the test above can fail. mprotect of a read-only MAP_SHARED mapping of a
     * writable fd succeeds too; only the seal stops the child. */
    (void)mprot_refused;
    return !refused && !write_refused ? 0 : 13;
}

TEST(iso_region_input_read_only_for_the_child)
{
    nocopy__iso_region r;
    CHECK_EQ(nocopy__iso_region_create(&r, "in", SIZE, 1), NOCOPY_OK);
    r.base[0] = 0x5a;
    r.base[SIZE - 1] = 0xa5;
    CHECK_EQ(nocopy__iso_region_freeze(&r), NOCOPY_OK);
    /* The VM's own mapping, made before the seal, still writes. */
    r.base[2] = 1;
    peer p = {.fd = r.fd, .writable = 0, .freeze_expected = 1};
    CHECK_EQ(in_child(child_attach, &p), 0);
    p.writable = 1;                    /* a writable attach is refused outright */
    CHECK_EQ(in_child(child_attach, &p), 10);
    CHECK_EQ(r.base[0], 0x5a);
    nocopy__iso_region_unmap(&r);
    return 0;
}

TEST(iso_region_unfrozen_is_writable_negative_control)
{
    nocopy__iso_region r;
    CHECK_EQ(nocopy__iso_region_create(&r, "in", SIZE, 1), NOCOPY_OK);
    r.base[0] = 0x5a;
    r.base[SIZE - 1] = 0xa5;
    peer p = {.fd = r.fd, .writable = 0, .freeze_expected = 0};
    CHECK_EQ(in_child(child_attach, &p), 0);
    nocopy__iso_region_unmap(&r);
    return 0;
}

/* The output region: the VM maps it read-only, the child writes, the VM sees. */
TEST(iso_region_output_written_by_the_child)
{
    nocopy__iso_region r;
    CHECK_EQ(nocopy__iso_region_create(&r, "out", SIZE, 0), NOCOPY_OK);
    CHECK_EQ(r.writable, 0);
    /* The VM writes its markers through the fd (its mapping is read-only). */
    CHECK_EQ(pwrite(r.fd, "\x5a", 1, 0), 1);
    CHECK_EQ(pwrite(r.fd, "\xa5", 1, (off_t)SIZE - 1), 1);
    peer p = {.fd = r.fd, .writable = 1};
    CHECK_EQ(in_child(child_attach, &p), 0);
    CHECK_EQ(r.base[1], 0x42);
    nocopy__iso_region_unmap(&r);
    return 0;
}

TEST(iso_region_attach_refuses_what_is_not_a_region)
{
    nocopy__iso_region r;
    int plain = memfd_create("plain", MFD_CLOEXEC);     /* no seals */
    CHECK(plain >= 0);
    CHECK_EQ(ftruncate(plain, (off_t)SIZE), 0);
    CHECK_EQ(nocopy__iso_region_attach(&r, plain, SIZE, 0), NOCOPY_EPROTO);
    int pipefd[2];
    CHECK_EQ(pipe(pipefd), 0);
    CHECK_EQ(nocopy__iso_region_attach(&r, pipefd[0], SIZE, 0), NOCOPY_EPROTO);
    nocopy__iso_region real;
    CHECK_EQ(nocopy__iso_region_create(&real, "t", SIZE, 1), NOCOPY_OK);
    /* A size other than the region's: a mapping past its end would fault. */
    CHECK_EQ(nocopy__iso_region_attach(&r, real.fd, SIZE * 2, 0), NOCOPY_EPROTO);
    CHECK_EQ(nocopy__iso_region_attach(&r, real.fd, SIZE / 2, 0), NOCOPY_EPROTO);
    CHECK_EQ(r.fd, -1);
    /* On failure the fd stays the caller's: still open. */
    CHECK(fcntl(plain, F_GETFD) >= 0);
    close(plain);
    close(pipefd[0]);
    close(pipefd[1]);
    nocopy__iso_region_unmap(&real);
    return 0;
}

TEST(iso_region_discard_gives_pages_back)
{
    nocopy__iso_region r;
    CHECK_EQ(nocopy__iso_region_create(&r, "t", SIZE, 1), NOCOPY_OK);
    memset(r.base, 0x11, (size_t)4 << 20);
    size_t before = nocopy__iso_region_resident(&r);
    CHECK_GE(before, (size_t)4 << 20);
    /* A range that is not page aligned: only whole pages inside it go. */
    CHECK_EQ(nocopy__iso_region_discard(&r, 100, ((size_t)2 << 20) - 200), NOCOPY_OK);
    size_t after = nocopy__iso_region_resident(&r);
    CHECK_LE_U(after, before - ((size_t)2 << 20) + 2 * 4096);
    CHECK_EQ(r.base[99], 0x11);                      /* before the range */
    CHECK_EQ(r.base[4095], 0x11);                    /* partial first page kept */
    CHECK_EQ(r.base[4096], 0);                       /* whole page: zero now */
    CHECK_EQ(r.base[((size_t)2 << 20) - 4096 - 1], 0);
    CHECK_EQ(r.base[((size_t)2 << 20) - 100], 0x11);  /* partial last page kept */
    CHECK_EQ(nocopy__iso_region_discard(&r, SIZE, 1), NOCOPY_ERANGE);
    CHECK_EQ(nocopy__iso_region_discard(&r, 1, SIZE), NOCOPY_ERANGE);
    CHECK_EQ(nocopy__iso_region_discard(&r, 5, 10), NOCOPY_OK);   /* no whole page */
    nocopy__iso_region_unmap(&r);
    return 0;
}
