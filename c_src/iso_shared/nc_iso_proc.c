/* nc_iso_proc.c: spawning, watching and killing the child (see nc_iso_proc.h). */
#include "nc_iso_proc.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nocopy_status.h"

#ifndef P_PIDFD
#define P_PIDFD 3    /* Linux 5.4; not in glibc 2.36's <sys/wait.h> */
#endif

static void clear(nocopy__iso_child *c)
{
    c->pid = 0;
    c->pidfd = -1;
    c->ended = NC_ISO_EXIT_RUNNING;
    c->code = 0;
}

/* The file actions: every fds[i] lands on 3 + i and nothing else stays open.
 * Two steps, so that no source is overwritten before it is copied: first to
 * numbers above every source, then down to 3 + i; closefrom then drops the
 * first copies and every fd the VM had. */
static int plan_fds(posix_spawn_file_actions_t *fa, const int *fds, int nfds)
{
    int high = 3 + nfds;
    for (int i = 0; i < nfds; i++)
        if (fds[i] >= high)
            high = fds[i] + 1;
    for (int i = 0; i < nfds; i++)
        if (posix_spawn_file_actions_adddup2(fa, fds[i], high + i) != 0)
            return -1;
    for (int i = 0; i < nfds; i++)
        if (posix_spawn_file_actions_adddup2(fa, high + i, 3 + i) != 0)
            return -1;
    return posix_spawn_file_actions_addclosefrom_np(fa, 3 + nfds) != 0 ? -1 : 0;
}

int nocopy__iso_spawn(nocopy__iso_child *c, const char *path, char *const argv[],
                      char *const envp[], const int *fds, int nfds)
{
    static char *const no_env[] = {NULL};
    pthread_mutex_init(&c->mu, NULL);
    clear(c);
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, all;
    int rc = NOCOPY_ENOMEM;
    if (posix_spawn_file_actions_init(&fa) != 0)
        return NOCOPY_ENOMEM;
    if (posix_spawnattr_init(&at) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return NOCOPY_ENOMEM;
    }
    /* The VM's threads block signals and the VM may ignore some (SIGPIPE):
     * the child starts with neither, so a crash in it is the crash it is. */
    sigemptyset(&none);
    sigfillset(&all);
    if (plan_fds(&fa, fds, nfds) != 0 ||
        posix_spawnattr_setsigmask(&at, &none) != 0 ||
        posix_spawnattr_setsigdefault(&at, &all) != 0 ||
        posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF) != 0)
        goto done;
    /* Checked here too: under emulators that turn the spawn into a fork
     * (valgrind) a failed exec is an exit status, not an error. */
    if (access(path, X_OK) != 0) {
        rc = NOCOPY_EBADARG;
        goto done;
    }
    pid_t pid;
    int err = posix_spawn(&pid, path, &fa, &at, argv, envp ? envp : no_env);
    if (err != 0) {
        rc = err == ENOENT || err == EACCES || err == ENOEXEC || err == ENOTDIR
                 ? NOCOPY_EBADARG : NOCOPY_ENOMEM;
        goto done;
    }
    /* Until it is reaped, the child's pid cannot be reused (it is at worst a
     * zombie), so opening its pidfd now cannot name another process. */
    int pidfd = pidfd_open(pid, 0);
    if (pidfd < 0 && errno != ENOSYS) {
        kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        goto done;
    }
    c->pid = pid;
    c->pidfd = pidfd;
    rc = NOCOPY_OK;
done:
    posix_spawnattr_destroy(&at);
    posix_spawn_file_actions_destroy(&fa);
    return rc;
}

/* Waits until the child has ended, without reaping it (so its pid stays
 * its own, and a kill meanwhile still reaches it or its zombie). */
static void wait_exit(nocopy__iso_child *c)
{
    siginfo_t si;
    if (c->pidfd >= 0) {
        struct pollfd p = {.fd = c->pidfd, .events = POLLIN};
        while (poll(&p, 1, -1) < 0 && errno == EINTR)
            ;
        return;
    }
    while (waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
        ;
}

/* Reaps the child if it has ended (waiting for it first when `block`), and
 * keeps the answer. The reap itself is under c->mu (nocopy__iso_child_kill). */
static int reap(nocopy__iso_child *c, int block)
{
    if (block && c->pid != 0)
        wait_exit(c);
    pthread_mutex_lock(&c->mu);
    if (c->ended != NC_ISO_EXIT_RUNNING || c->pid == 0) {
        int how = c->pid == 0 ? NC_ISO_EXIT_UNKNOWN : c->ended;
        pthread_mutex_unlock(&c->mu);
        return how;
    }
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int r;
    do
        r = c->pidfd >= 0 ? waitid((idtype_t)P_PIDFD, (id_t)c->pidfd, &si, WEXITED | WNOHANG)
                          : waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r < 0) {        /* ECHILD: reaped elsewhere (SIGCHLD set to SIG_IGN) */
        c->ended = NC_ISO_EXIT_UNKNOWN;
        c->code = 0;
    } else if (si.si_pid == 0) {
        pthread_mutex_unlock(&c->mu);
        return NC_ISO_EXIT_RUNNING;
    } else {
        c->ended = si.si_code == CLD_EXITED ? NC_ISO_EXIT_CODE : NC_ISO_EXIT_SIGNAL;
        c->code = si.si_status;
    }
    int how = c->ended;
    pthread_mutex_unlock(&c->mu);
    return how;
}

int nocopy__iso_child_poll(nocopy__iso_child *c, int *code)
{
    int how = reap(c, 0);
    *code = c->code;
    return how;
}

int nocopy__iso_child_wait(nocopy__iso_child *c, int timeout_ms, int *code)
{
    if (timeout_ms < 0) {
        int how = reap(c, 1);
        *code = c->code;
        return how;
    }
    if (c->pidfd >= 0) {
        struct pollfd p = {.fd = c->pidfd, .events = POLLIN};
        while (poll(&p, 1, timeout_ms) < 0 && errno == EINTR)
            ;
        return nocopy__iso_child_poll(c, code);
    }
    /* No pidfd to poll: look every millisecond until the deadline. */
    for (int waited = 0;; waited++) {
        int how = nocopy__iso_child_poll(c, code);
        if (how != NC_ISO_EXIT_RUNNING || waited >= timeout_ms)
            return how;
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
}

int nocopy__iso_child_kill(nocopy__iso_child *c, int sig)
{
    if (c->pid == 0)
        return NOCOPY_ECLOSED;
    pthread_mutex_lock(&c->mu);
    int r = -1;
    /* Not reaped yet, and no reap can run before the signal is sent, so the
     * pid is still this child's (at worst a zombie). */
    if (c->ended == NC_ISO_EXIT_RUNNING)
        r = c->pidfd >= 0 ? pidfd_send_signal(c->pidfd, sig, NULL, 0) : kill(c->pid, sig);
    pthread_mutex_unlock(&c->mu);
    return r == 0 ? NOCOPY_OK : NOCOPY_ECLOSED;
}

void nocopy__iso_child_release(nocopy__iso_child *c)
{
    if (c->pid == 0)
        return;
    int code;
    if (nocopy__iso_child_poll(c, &code) == NC_ISO_EXIT_RUNNING) {
        nocopy__iso_child_kill(c, SIGKILL);
        nocopy__iso_child_wait(c, -1, &code);
    }
    if (c->pidfd >= 0)
        close(c->pidfd);
    clear(c);
}
