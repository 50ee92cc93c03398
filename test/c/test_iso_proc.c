/* test_iso_proc.c: starting, watching and killing the isolated backend's
 * child (c_src/iso_shared/nc_iso_proc.c). The children are /bin/sh scripts:
 * they show which fds they got, and how they end (exit codes, signals, a
 * hang). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "nc_iso_chan.h"
#include "nc_iso_proc.h"
#include "nocopy_status.h"

static int sh(nocopy__iso_child *c, const char *script, const int *fds, int nfds)
{
    char *argv[] = {"sh", "-c", (char *)script, NULL};
    return nocopy__iso_spawn(c, "/bin/sh", argv, NULL, fds, nfds);
}

/* Reads what a child wrote to a pipe until end of file. */
static size_t slurp(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    ssize_t r;
    while (n + 1 < cap && ((r = read(fd, buf + n, cap - 1 - n)) > 0 || (r < 0 && errno == EINTR)))
        if (r > 0)
            n += (size_t)r;
    buf[n] = 0;
    return n;
}

static int high(int fd)
{
    int h = fcntl(fd, F_DUPFD_CLOEXEC, 30);
    close(fd);
    return h;
}

/* fds[i] arrives at 3 + i, even when the sources sit on each other's targets
 * (4 -> 3 and 3 -> 4), and no other fd of this process reaches the child,
 * close-on-exec or not. */
TEST(iso_spawn_passes_exactly_the_fds)
{
    int a[2], b[2];
    CHECK_EQ(pipe(a), 0);
    CHECK_EQ(pipe(b), 0);
    for (int i = 0; i < 2; i++) {      /* out of the way of 3 and 4 */
        a[i] = high(a[i]);
        b[i] = high(b[i]);
    }
    /* The write ends on 4 and 3, crosswise to where they must land. */
    CHECK_EQ(dup2(a[1], 4), 4);
    CHECK_EQ(dup2(b[1], 3), 3);
    close(a[1]);
    close(b[1]);
    int stray = fcntl(2, F_DUPFD, 20);  /* inheritable, and not passed */
    CHECK(stray >= 20);
    char script[256];
    snprintf(script, sizeof script,
             "echo a >&3; echo b >&4; ( true >&5 ) 2>/dev/null && echo leak5 >&3;"
             "( true >&%d ) 2>/dev/null && echo leak%d >&3; exit 0", stray, stray);
    nocopy__iso_child c;
    int fds[2] = {4, 3};
    CHECK_EQ(sh(&c, script, fds, 2), NOCOPY_OK);
    CHECK(c.pid > 0);
    close(3);
    close(4);
    close(stray);
    char out[64];
    slurp(a[0], out, sizeof out);
    CHECK_STR_EQ(out, "a\n");
    slurp(b[0], out, sizeof out);
    CHECK_STR_EQ(out, "b\n");
    int code;
    CHECK_EQ(nocopy__iso_child_wait(&c, -1, &code), NC_ISO_EXIT_CODE);
    CHECK_EQ(code, 0);
    nocopy__iso_child_release(&c);
    return 0;
}

TEST(iso_spawn_reports_how_the_child_ended)
{
    static const struct {
        const char *script;
        int how, code;
    } cases[] = {
        {"exit 3", NC_ISO_EXIT_CODE, 3},
        {"exit 0", NC_ISO_EXIT_CODE, 0},
        {"kill -SEGV $$", NC_ISO_EXIT_SIGNAL, SIGSEGV},
        {"kill -ABRT $$", NC_ISO_EXIT_SIGNAL, SIGABRT},
        {"kill -KILL $$", NC_ISO_EXIT_SIGNAL, SIGKILL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nocopy__iso_child c;
        CHECK_EQ(sh(&c, cases[i].script, NULL, 0), NOCOPY_OK);
        int code = -1;
        CHECK_EQ(nocopy__iso_child_wait(&c, -1, &code), cases[i].how);
        CHECK_EQ(code, cases[i].code);
        nocopy__iso_child_release(&c);
    }
    return 0;
}

/* The VM blocks and ignores signals in its threads; the child must start with
 * neither, or a crash would not end it. SIGTERM blocked and ignored here: a
 * child that inherited either would survive kill -TERM $$ and exit 0. */
TEST(iso_spawn_child_signals_are_default)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    CHECK_EQ(sigprocmask(SIG_BLOCK, &set, NULL), 0);
    signal(SIGTERM, SIG_IGN);
    nocopy__iso_child c;
    CHECK_EQ(sh(&c, "kill -TERM $$; exit 0", NULL, 0), NOCOPY_OK);
    int code = -1;
    CHECK_EQ(nocopy__iso_child_wait(&c, -1, &code), NC_ISO_EXIT_SIGNAL);
    CHECK_EQ(code, SIGTERM);
    nocopy__iso_child_release(&c);
    return 0;
}

/* A hung child: running until killed, then reported as killed. */
TEST(iso_spawn_kill_a_hung_child)
{
    nocopy__iso_child c;
    CHECK_EQ(sh(&c, "exec sleep 1000", NULL, 0), NOCOPY_OK);
    int code;
    CHECK_EQ(nocopy__iso_child_poll(&c, &code), NC_ISO_EXIT_RUNNING);
    CHECK_EQ(nocopy__iso_child_wait(&c, 10, &code), NC_ISO_EXIT_RUNNING);
    CHECK_EQ(nocopy__iso_child_kill(&c, SIGKILL), NOCOPY_OK);
    CHECK_EQ(nocopy__iso_child_wait(&c, -1, &code), NC_ISO_EXIT_SIGNAL);
    CHECK_EQ(code, SIGKILL);
    /* Reaped: a second signal is refused, not sent to a recycled pid. */
    CHECK_EQ(nocopy__iso_child_kill(&c, SIGKILL), NOCOPY_ECLOSED);
    nocopy__iso_child_release(&c);
    return 0;
}

/* Releasing a running child kills and reaps it: no zombie is left. */
TEST(iso_spawn_release_reaps)
{
    nocopy__iso_child c;
    CHECK_EQ(sh(&c, "exec sleep 1000", NULL, 0), NOCOPY_OK);
    pid_t pid = c.pid;
    nocopy__iso_child_release(&c);
    CHECK_EQ(c.pidfd, -1);
    CHECK_EQ(waitpid(pid, NULL, WNOHANG), -1);
    CHECK_EQ(errno, ECHILD);
    nocopy__iso_child_release(&c);      /* twice is harmless */
    return 0;
}

TEST(iso_spawn_missing_program)
{
    nocopy__iso_child c;
    char *argv[] = {"nope", NULL};
    CHECK_EQ(nocopy__iso_spawn(&c, "/nonexistent/nocopy_child", argv, NULL, NULL, 0),
             NOCOPY_EBADARG);
    CHECK_EQ(c.pidfd, -1);
    CHECK_EQ(c.pid, 0);
    return 0;
}

/* The channel, given to a real spawned child: its death is end of file on
 * the VM's end, at once, whatever it was doing. */
TEST(iso_spawn_child_death_closes_the_channel)
{
    int fds[2];
    CHECK_EQ(nocopy__iso_chan_pair(fds, 0), NOCOPY_OK);
    nocopy__iso_child c;
    CHECK_EQ(sh(&c, "exec sleep 1000", &fds[1], 1), NOCOPY_OK);
    close(fds[1]);
    CHECK_EQ(nocopy__iso_child_kill(&c, SIGSEGV), NOCOPY_OK);
    uint8_t buf[16];
    size_t len;
    CHECK_EQ(nocopy__iso_chan_recv(fds[0], buf, sizeof buf, &len), NOCOPY_ECLOSED);
    int code;
    CHECK_EQ(nocopy__iso_child_wait(&c, -1, &code), NC_ISO_EXIT_SIGNAL);
    CHECK_EQ(code, SIGSEGV);
    nocopy__iso_child_release(&c);
    close(fds[0]);
    return 0;
}

/* ---- kill racing the reap -------------------------------------------------------- */

/* The VM kills the child (a call's timeout, stop/1) from a scheduler while
 * the incarnation's reader reaps it: the two must not overlap. Without a
 * pidfd (Linux before 5.3, valgrind) the kill goes to the pid, and a kill
 * that read "not reaped yet" just before the reap would signal whatever
 * process got the pid next. Here a thread kills (signal 0: a probe) in a
 * loop while the main thread reaps, with a pidfd and without. Every kill
 * after the reap must say ECLOSED; the race itself is what `make c-test-tsan`
 * (ThreadSanitizer) checks on this test. */
typedef struct killer {
    nocopy__iso_child *c;
    _Atomic int stop;
    long after_reap_ok;                /* kills that claimed success too late */
    _Atomic int reaped;
} killer;

static void *kill_loop(void *arg)
{
    killer *k = arg;
    while (!k->stop) {
        int reaped_before = k->reaped;
        int st = nocopy__iso_child_kill(k->c, 0);
        if (reaped_before && st == NOCOPY_OK)
            k->after_reap_ok++;
        /* Let the reaper in: valgrind runs one thread at a time, and a
         * loop that only retakes the child's mutex starved the reap there
         * (the test hung under make valgrind). */
        sched_yield();
    }
    return NULL;
}

TEST(iso_kill_races_reap)
{
    for (int round = 0; round < 40; round++) {
        nocopy__iso_child c;
        CHECK_EQ(sh(&c, "exit 0", NULL, 0), NOCOPY_OK);
        if (round % 2 && c.pidfd >= 0) {   /* half without a pidfd */
            close(c.pidfd);
            c.pidfd = -1;
        }
        killer k = {.c = &c, .stop = 0, .after_reap_ok = 0, .reaped = 0};
        pthread_t t;
        CHECK_EQ(pthread_create(&t, NULL, kill_loop, &k), 0);
        int code;
        CHECK_EQ(nocopy__iso_child_wait(&c, -1, &code), NC_ISO_EXIT_CODE);
        k.reaped = 1;
        /* Let the killer run past the reap before stopping it. */
        for (int i = 0; i < 1000; i++)
            CHECK_EQ(nocopy__iso_child_kill(&c, 0), NOCOPY_ECLOSED);
        k.stop = 1;
        CHECK_EQ(pthread_join(t, NULL), 0);
        CHECK_EQ(k.after_reap_ok, 0);
        nocopy__iso_child_release(&c);
    }
    return 0;
}
