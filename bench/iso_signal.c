/* iso_signal.c: how fast can one process wake another and be woken back?
 * The isolated backend (docs/design.md, "The isolated backend") sends a small
 * message to its child per call and gets one back; this program measures the
 * round trip of each way to carry that wake-up on Linux, between two processes
 * (fork), so the channel is chosen on numbers:
 *
 *   pipe        two pipes, one byte each way
 *   socketpair  one AF_UNIX SOCK_SEQPACKET pair, a 64-byte message each way
 *               (the size of a call descriptor)
 *   sock-dgram  the same with SOCK_DGRAM
 *   eventfd     two eventfds, an 8-byte counter each way
 *   futex       a word each way in a MAP_SHARED page, FUTEX_WAIT/FUTEX_WAKE
 *               with no spinning
 *   futex-spin  the same, spinning up to SPIN_LIMIT polls before sleeping
 *
 * Usage: iso_signal [round_trips] (default 20000). Prints, per method, the
 * median and the 10th/90th percentile of 25 batches, in ns per round trip.
 * Built by `make iso-signal` (bench/iso.mk). Not a test: nothing is asserted,
 * and on a shared machine the numbers vary from run to run; compare methods
 * within one run. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BATCHES    25
#define SPIN_LIMIT 4000
#define MSG_BYTES  64

typedef struct channel {
    int a_to_b[2];        /* fds for pipe / eventfd / socket ends */
    int b_to_a[2];
    _Atomic uint32_t *words;   /* futex: [0] a->b sequence, [1] b->a sequence */
    int spin;
} channel;

typedef struct method {
    const char *name;
    int (*setup)(channel *c);
    void (*send_ab)(channel *c, uint32_t seq);   /* side a wakes side b */
    void (*wait_ab)(channel *c, uint32_t seq);   /* side b waits for it */
    void (*send_ba)(channel *c, uint32_t seq);
    void (*wait_ba)(channel *c, uint32_t seq);
} method;

static void die(const char *what)
{
    perror(what);
    exit(2);
}

static void write_all(int fd, const void *buf, size_t len)
{
    while (write(fd, buf, len) != (ssize_t)len)
        if (errno != EINTR)
            die("write");
}

static void read_all(int fd, void *buf, size_t len)
{
    while (read(fd, buf, len) != (ssize_t)len)
        if (errno != EINTR)
            die("read");
}

/* ---- pipe ------------------------------------------------------------------ */

static int pipe_setup(channel *c)
{
    return pipe(c->a_to_b) || pipe(c->b_to_a) ? -1 : 0;
}
static void pipe_send_ab(channel *c, uint32_t s) { (void)s; write_all(c->a_to_b[1], "x", 1); }
static void pipe_send_ba(channel *c, uint32_t s) { (void)s; write_all(c->b_to_a[1], "x", 1); }
static void pipe_wait_ab(channel *c, uint32_t s) { char b; (void)s; read_all(c->a_to_b[0], &b, 1); }
static void pipe_wait_ba(channel *c, uint32_t s) { char b; (void)s; read_all(c->b_to_a[0], &b, 1); }

/* ---- socketpair: one pair, a end is [0], b end is [1] --------------------------- */

static int sock_setup(channel *c)
{
    return socketpair(AF_UNIX, SOCK_SEQPACKET, 0, c->a_to_b);
}
static int sockd_setup(channel *c)
{
    return socketpair(AF_UNIX, SOCK_DGRAM, 0, c->a_to_b);
}
static void sock_send_ab(channel *c, uint32_t s)
{
    uint8_t m[MSG_BYTES] = {0};
    memcpy(m, &s, sizeof s);
    write_all(c->a_to_b[0], m, sizeof m);
}
static void sock_send_ba(channel *c, uint32_t s)
{
    uint8_t m[MSG_BYTES] = {0};
    memcpy(m, &s, sizeof s);
    write_all(c->a_to_b[1], m, sizeof m);
}
static void sock_wait_ab(channel *c, uint32_t s) { uint8_t m[MSG_BYTES]; (void)s; read_all(c->a_to_b[1], m, sizeof m); }
static void sock_wait_ba(channel *c, uint32_t s) { uint8_t m[MSG_BYTES]; (void)s; read_all(c->a_to_b[0], m, sizeof m); }

/* ---- eventfd ------------------------------------------------------------------------ */

static int efd_setup(channel *c)
{
    c->a_to_b[0] = eventfd(0, 0);
    c->b_to_a[0] = eventfd(0, 0);
    return c->a_to_b[0] < 0 || c->b_to_a[0] < 0 ? -1 : 0;
}
static void efd_send_ab(channel *c, uint32_t s) { uint64_t v = 1; (void)s; write_all(c->a_to_b[0], &v, 8); }
static void efd_send_ba(channel *c, uint32_t s) { uint64_t v = 1; (void)s; write_all(c->b_to_a[0], &v, 8); }
static void efd_wait_ab(channel *c, uint32_t s) { uint64_t v; (void)s; read_all(c->a_to_b[0], &v, 8); }
static void efd_wait_ba(channel *c, uint32_t s) { uint64_t v; (void)s; read_all(c->b_to_a[0], &v, 8); }

/* ---- futex in shared memory ------------------------------------------------------------ */

static int futex_setup(channel *c)
{
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    c->words = p;
    return 0;
}

static void futex_post(_Atomic uint32_t *w, uint32_t seq)
{
    atomic_store_explicit(w, seq, memory_order_release);
    syscall(SYS_futex, (uint32_t *)w, FUTEX_WAKE, 1, NULL, NULL, 0);
}

static void futex_wait_for(_Atomic uint32_t *w, uint32_t seq, int spin)
{
    for (int i = 0; i < spin; i++)
        if (atomic_load_explicit(w, memory_order_acquire) == seq)
            return;
    uint32_t v;
    while ((v = atomic_load_explicit(w, memory_order_acquire)) != seq)
        syscall(SYS_futex, (uint32_t *)w, FUTEX_WAIT, v, NULL, NULL, 0);
}
static void futex_send_ab(channel *c, uint32_t s) { futex_post(&c->words[0], s); }
static void futex_send_ba(channel *c, uint32_t s) { futex_post(&c->words[16], s); }
static void futex_wait_ab(channel *c, uint32_t s) { futex_wait_for(&c->words[0], s, c->spin); }
static void futex_wait_ba(channel *c, uint32_t s) { futex_wait_for(&c->words[16], s, c->spin); }

static const method methods[] = {
    {"pipe", pipe_setup, pipe_send_ab, pipe_wait_ab, pipe_send_ba, pipe_wait_ba},
    {"socketpair", sock_setup, sock_send_ab, sock_wait_ab, sock_send_ba, sock_wait_ba},
    {"sock-dgram", sockd_setup, sock_send_ab, sock_wait_ab, sock_send_ba, sock_wait_ba},
    {"eventfd", efd_setup, efd_send_ab, efd_wait_ab, efd_send_ba, efd_wait_ba},
    {"futex", futex_setup, futex_send_ab, futex_wait_ab, futex_send_ba, futex_wait_ba},
    {"futex-spin", futex_setup, futex_send_ab, futex_wait_ab, futex_send_ba, futex_wait_ba},
};

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void run(const method *m, long trips)
{
    channel c;
    memset(&c, 0, sizeof c);
    c.spin = strcmp(m->name, "futex-spin") == 0 ? SPIN_LIMIT : 0;
    if (m->setup(&c) != 0)
        die(m->name);
    long per_batch = trips / BATCHES > 0 ? trips / BATCHES : 1;
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {                           /* side b: echo every wake-up */
        for (uint32_t seq = 1; seq <= (uint32_t)(per_batch * BATCHES); seq++) {
            m->wait_ab(&c, seq);
            m->send_ba(&c, seq);
        }
        _exit(0);
    }
    double ns[BATCHES];
    uint32_t seq = 0;
    for (int b = 0; b < BATCHES; b++) {
        double t0 = now_ns();
        for (long i = 0; i < per_batch; i++) {
            seq++;
            m->send_ab(&c, seq);
            m->wait_ba(&c, seq);
        }
        ns[b] = (now_ns() - t0) / (double)per_batch;
    }
    waitpid(pid, NULL, 0);
    qsort(ns, BATCHES, sizeof ns[0], cmp_double);
    printf("%-11s median %8.0f ns   p10 %8.0f   p90 %8.0f   (%ld round trips)\n", m->name,
           ns[BATCHES / 2], ns[BATCHES / 10], ns[BATCHES * 9 / 10], per_batch * BATCHES);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    long trips = argc > 1 ? strtol(argv[1], NULL, 10) : 20000;
    if (trips <= 0)
        trips = 20000;
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        run(&methods[i], trips);
    return 0;
}
