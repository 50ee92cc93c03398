/* test_iso_chan.c: the isolated backend's message channel
 * (c_src/iso_shared/nc_iso_chan.c) between two processes: boundaries kept,
 * long messages refused whole, a dead peer seen at once and never a SIGPIPE,
 * and a non-blocking end that never waits. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "nc_iso_chan.h"
#include "nc_iso_limits.h"
#include "nocopy_status.h"

/* The peer: echoes every message with each byte plus one, until end of file. */
static void echo_peer(int fd)
{
    static uint8_t buf[NC_ISO_MSG_MAX];
    size_t len;
    while (nocopy__iso_chan_recv(fd, buf, sizeof buf, &len) == NOCOPY_OK) {
        for (size_t i = 0; i < len; i++)
            buf[i]++;
        if (nocopy__iso_chan_send(fd, buf, len) != NOCOPY_OK)
            break;
    }
    _exit(0);
}

static pid_t start_peer(int fds[2], void (*peer)(int))
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        peer(fds[1]);
        _exit(0);
    }
    close(fds[1]);
    return pid;
}

TEST(iso_chan_messages_keep_their_bounds)
{
    int fds[2];
    CHECK_EQ(nocopy__iso_chan_pair(fds, 0), NOCOPY_OK);
    pid_t pid = start_peer(fds, echo_peer);
    CHECK(pid > 0);
    static uint8_t out[NC_ISO_MSG_MAX], in[NC_ISO_MSG_MAX];
    static const size_t sizes[] = {1, 7, 64, 4096, NC_ISO_MSG_MAX};
    /* Several messages queued before any is read: each comes back alone. */
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        memset(out, (int)k, sizes[k]);
        CHECK_EQ(nocopy__iso_chan_send(fds[0], out, sizes[k]), NOCOPY_OK);
    }
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t len = 0;
        CHECK_EQ(nocopy__iso_chan_recv(fds[0], in, sizeof in, &len), NOCOPY_OK);
        CHECK_EQ_U(len, sizes[k]);
        CHECK_EQ(in[0], (int)k + 1);
        CHECK_EQ(in[len - 1], (int)k + 1);
    }
    close(fds[0]);                     /* the peer sees end of file and exits */
    int st;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    return 0;
}

TEST(iso_chan_long_messages_refused_whole)
{
    int fds[2];
    CHECK_EQ(nocopy__iso_chan_pair(fds, 0), NOCOPY_OK);
    static uint8_t buf[NC_ISO_MSG_MAX + 1];
    CHECK_EQ(nocopy__iso_chan_send(fds[0], buf, sizeof buf), NOCOPY_ERANGE);
    /* A receiver with a short buffer: the long message is dropped whole and
     * the next one arrives intact. */
    memset(buf, 9, 100);
    CHECK_EQ(nocopy__iso_chan_send(fds[1], buf, 100), NOCOPY_OK);
    CHECK_EQ(nocopy__iso_chan_send(fds[1], "abc", 3), NOCOPY_OK);
    uint8_t small[16];
    size_t len = 0;
    CHECK_EQ(nocopy__iso_chan_recv(fds[0], small, sizeof small, &len), NOCOPY_EPROTO);
    CHECK_EQ(nocopy__iso_chan_recv(fds[0], small, sizeof small, &len), NOCOPY_OK);
    CHECK_EQ_U(len, 3);
    CHECK(memcmp(small, "abc", 3) == 0);
    close(fds[0]);
    close(fds[1]);
    return 0;
}

static void die_at_once(int fd)
{
    (void)fd;
    raise(SIGKILL);
}

/* A peer killed outright: the reader sees end of file, the writer gets an
 * error and no SIGPIPE (which would kill this test process). */
TEST(iso_chan_dead_peer)
{
    int fds[2];
    CHECK_EQ(nocopy__iso_chan_pair(fds, 0), NOCOPY_OK);
    pid_t pid = start_peer(fds, die_at_once);
    int st;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    CHECK(WIFSIGNALED(st));
    uint8_t buf[64];
    size_t len;
    CHECK_EQ(nocopy__iso_chan_recv(fds[0], buf, sizeof buf, &len), NOCOPY_ECLOSED);
    CHECK_EQ(nocopy__iso_chan_send(fds[0], "x", 1), NOCOPY_ECLOSED);
    CHECK_EQ(nocopy__iso_chan_send(fds[0], "x", 1), NOCOPY_ECLOSED);
    close(fds[0]);
    return 0;
}

static void never_reads(int fd)
{
    char c;
    while (read(fd, &c, 0) >= 0)
        pause();
    _exit(0);
}

/* The VM's end is non-blocking: an empty channel and a full one are answers
 * (EOVERLOAD), not waits. A scheduler thread must never block on the child. */
TEST(iso_chan_nonblocking_end_never_waits)
{
    int fds[2];
    CHECK_EQ(nocopy__iso_chan_pair(fds, 1), NOCOPY_OK);
    pid_t pid = start_peer(fds, never_reads);
    uint8_t buf[1024];
    size_t len;
    CHECK_EQ(nocopy__iso_chan_recv(fds[0], buf, sizeof buf, &len), NOCOPY_EOVERLOAD);
    memset(buf, 1, sizeof buf);
    int rc = NOCOPY_OK;
    long sent = 0;
    while (rc == NOCOPY_OK && sent < 1000000) {
        rc = nocopy__iso_chan_send(fds[0], buf, sizeof buf);
        sent++;
    }
    CHECK_EQ(rc, NOCOPY_EOVERLOAD);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    /* The peer's death turns the full channel into a closed one. */
    CHECK_EQ(nocopy__iso_chan_send(fds[0], buf, sizeof buf), NOCOPY_ECLOSED);
    close(fds[0]);
    return 0;
}

/* The VM's sends never wait, even on the blocking end its reader waits on:
 * a full channel is EOVERLOAD at once, and a dead peer ECLOSED. */
TEST(iso_chan_try_send_never_waits)
{
    int fds[2];
    CHECK_EQ(nocopy__iso_chan_pair(fds, 0), NOCOPY_OK);
    pid_t pid = start_peer(fds, never_reads);
    uint8_t buf[1024];
    memset(buf, 1, sizeof buf);
    int rc = NOCOPY_OK;
    long sent = 0;
    while (rc == NOCOPY_OK && sent < 1000000) {
        rc = nocopy__iso_chan_try_send(fds[0], buf, sizeof buf);
        sent++;
    }
    CHECK_EQ(rc, NOCOPY_EOVERLOAD);
    CHECK(sent > 1);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    CHECK_EQ(nocopy__iso_chan_try_send(fds[0], buf, sizeof buf), NOCOPY_ECLOSED);
    close(fds[0]);
    return 0;
}
