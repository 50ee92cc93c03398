/* nc_iso_proc.h: starting the child of the isolated backend, watching it die,
 * and killing it. Pure C, no runtime header; the VM side uses it.
 *
 * The child is started with posix_spawn (no fork of the VM's address space:
 * vfork semantics, so starting it costs the same whatever the VM's size). It
 * finds exactly the fds it is given at 3, 4, ... (NC_ISO_CHILD_FD_*) and no
 * other fd of the VM: every other descriptor is closed in the child, whatever
 * its close-on-exec flag. Its signal mask is empty and every signal has its
 * default action, whatever the VM's threads block or ignore.
 *
 * Death is watched through a pidfd: it becomes readable (poll) when the child
 * exits, and waitid on it reaps the child and says how it ended, without
 * touching the VM's other children (erl_child_setup's). Where the system has
 * no pidfd_open (Linux before 5.3, valgrind 3.19), the same is done with the
 * pid (waitid on it, a 1 ms poll for a bounded wait, kill): correct as long as
 * no one else reaps the child, which only SIGCHLD set to SIG_IGN would do. */
#ifndef NC_ISO_PROC_H
#define NC_ISO_PROC_H

#include <pthread.h>
#include <sys/types.h>

/* Reaping and killing are serialized by `mu` (the VM kills from a scheduler
 * while the incarnation's reader reaps): a kill either happens before the
 * reap, to the child, or sees it reaped and does nothing, so it can never
 * reach a recycled pid. No one waits for the child while holding `mu`. */
typedef struct nocopy__iso_child {
    pthread_mutex_t mu;     /* set up by nocopy__iso_spawn */
    pid_t pid;              /* 0 when none */
    int pidfd;              /* OWNED; -1 when none or not supported */
    int ended;              /* how it ended, once reaped (NC_ISO_EXIT_*) */
    int code;               /* its exit code or signal, once reaped */
} nocopy__iso_child;

/* How a child ended. */
#define NC_ISO_EXIT_RUNNING 0    /* not yet */
#define NC_ISO_EXIT_CODE    1    /* exit(code) */
#define NC_ISO_EXIT_SIGNAL  2    /* killed by signal code */
#define NC_ISO_EXIT_UNKNOWN 3    /* reaped by someone else (SIGCHLD ignored) */

/* Starts `path` with argv (NULL-terminated; argv[0] by convention the
 * program's name) and an empty environment but for envp (may be NULL). fds[i]
 * appears in the child as fd 3 + i, for i < nfds (the caller's fds are not
 * changed).
 * @return : NOCOPY_OK with *c set; NOCOPY_ENOMEM if the system refused the
 *           process or its pidfd; NOCOPY_EBADARG if the program cannot be
 *           run (not found, not executable): *c is cleared then. */
int nocopy__iso_spawn(nocopy__iso_child *c, const char *path, char *const argv[],
                      char *const envp[], const int *fds, int nfds);

/* Whether the child has ended, without waiting; reaps it if so. Once it
 * has ended, every later call gives the same answer.
 * @return : NC_ISO_EXIT_RUNNING, or how it ended with *code the exit code or
 *           the signal number. */
int nocopy__iso_child_poll(nocopy__iso_child *c, int *code);

/* Waits until the child has ended, at most timeout_ms (-1: no limit), and
 * reaps it. @return : as nocopy__iso_child_poll. */
int nocopy__iso_child_wait(nocopy__iso_child *c, int timeout_ms, int *code);

/* Sends signal sig to the child through its pidfd (never to a recycled pid).
 * @return : NOCOPY_OK, or NOCOPY_ECLOSED if it has been reaped already. */
int nocopy__iso_child_kill(nocopy__iso_child *c, int sig);

/* Closes the pidfd. The child must have been reaped (poll or wait said it
 * ended), or it is killed (SIGKILL) and reaped here first, so no zombie is
 * left. Accepts a child never started or released already. */
void nocopy__iso_child_release(nocopy__iso_child *c);

#endif /* NC_ISO_PROC_H */
