/* nc_iso_main.c: the child process of the isolated backend, priv/NAME_iso.
 *
 * Started by the VM (c_src/iso_host/) with posix_spawn as
 *     NAME_iso INPUT_BYTES OUTPUT_BYTES THREADS INCARNATION SPIN_US
 * and the channel, the two regions and the reply slots at fds 3, 4, 5, 6
 * (NC_ISO_CHILD_FD_*).
 * It attaches the regions (input read-only, output writable, each checked
 * to be a sealed memfd of the size agreed), loads the module, says HELLO,
 * then runs a pool of threads that all read the channel: a CALL is run by
 * the thread that received it (nc_iso_exec.c), a RELEASE_OUT drops a
 * handover of an output block (in the VM's order, see below). End of file on the channel (the VM closed
 * it, or died) ends the process.
 *
 * Anything the module does wrong ends this process only: the VM sees the
 * channel close and its pidfd report how, and fails the calls in flight. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "nc_iso.h"
#include "nc_iso_chan.h"
#include "nc_iso_order.h"
#include "nc_iso_proc.h"

#define THREADS_MAX 64

/* The pool reads the channel itself: every idle thread waits in recv, the
 * kernel hands each message to one of them, and a thread runs the CALL it
 * read. So a call reaches the thread that runs it with no hand-over
 * between threads (measured, docs/design.md: a dispatcher thread and a
 * queue, or one reader at a time under a lock that wakes the next, each
 * cost context switches on every call).
 *
 * What reading in parallel must not break: a CALL naming an output block
 * (a result passed back in) holds the block before any later RELEASE_OUT
 * of it is applied (the VM sends the CALL while the Erlang binary lives, so
 * the block's release comes after it on the channel): the messages' numbers
 * put them back in order (nc_iso_order.h). */
static pthread_mutex_t order_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t order_moved = PTHREAD_COND_INITIALIZER;
static nocopy__iso_order order;         /* with order_mu, but for the no-lock calls */
/* Threads in mark_done's window check or waiting there (counted before
 * they look at the window, so that a thread moving it with no lock sees
 * them: nc_iso_order.h's reasoning, the other way). */
static _Atomic unsigned order_waiters;

/* Ends the process from a pool thread. Every thread sees the channel's end
 * of file at once, and exit() must not run twice at the same time: the
 * first takes exit_mu for good, the others wait on it until the process is
 * gone. */
static pthread_mutex_t exit_mu = PTHREAD_MUTEX_INITIALIZER;

static _Noreturn void end_process(int status)
{
    pthread_mutex_lock(&exit_mu);
    exit(status);
}

_Static_assert(NC_ISO_ORDER_WINDOW > THREADS_MAX, "the threads' unfinished messages fit in the window");

/* Marks message seq done (a RELEASE_OUT of `block` when release: applied
 * once every earlier message is done). A number past the window waits for
 * it to move: messages already done keep their places behind an unfinished
 * one, so while one thread is between its recv and here, the others may
 * read and finish any number of messages (releases, under load). That wait
 * ends: each number below it was read by a thread that is on its way here
 * without waiting (its number is in the window, the lowest first). A
 * number behind the window was used already: the VM broke the order it
 * promised, and the process ends. */
static void mark_done(uint32_t seq, int release, uint64_t block)
{
    /* The common case, every earlier message done: no lock (nc_iso_order.h). */
    int first = release ? -1 : nocopy__iso_order_done_first(&order, seq);
    if (first == 0) {
        if (atomic_load(&order_waiters) > 0) {
            pthread_mutex_lock(&order_mu);
            pthread_cond_broadcast(&order_moved);
            pthread_mutex_unlock(&order_mu);
        }
        return;
    }
    pthread_mutex_lock(&order_mu);
    int r = 0;
    if (first == 1) {
        nocopy__iso_order_catch_up(&order, nocopy__iso_out_unref);
    } else {
        atomic_fetch_add(&order_waiters, 1);
        while ((uint32_t)(seq - atomic_load(&order.next)) >= NC_ISO_ORDER_WINDOW &&
               (uint32_t)(seq - atomic_load(&order.next)) < UINT32_C(0x80000000))
            pthread_cond_wait(&order_moved, &order_mu);
        atomic_fetch_sub(&order_waiters, 1);
        r = nocopy__iso_order_done(&order, seq, release, block, nocopy__iso_out_unref);
    }
    if (atomic_load(&order_waiters) > 0)
        pthread_cond_broadcast(&order_moved);
    pthread_mutex_unlock(&order_mu);
    if (r != 0) {
        fprintf(stderr, "nocopy isolate: message %u out of order\n", seq);
        end_process(2);
    }
}

/* The poller's state (nc_iso_slot.h, the call slot): this thread holds the
 * role with a CALL posted that it has not taken yet (it read an earlier
 * message first), and a later message it read from the channel before the
 * posted CALL (returned next). */
static _Thread_local int holding;
static _Thread_local uint8_t *stash;
static _Thread_local size_t stash_len;
static _Thread_local int stashed;


static nocopy__iso_slot *call_slot(void)
{
    return nocopy__iso.slots.base ? (nocopy__iso_slot *)(nocopy__iso.slots.base +
                                                         NC_ISO_CALL_SLOT * NC_ISO_SLOT_BYTES)
                                  : NULL;
}

static uint32_t posted_seq(const nocopy__iso_slot *s)
{
    nocopy__iso_hdr h;
    memcpy(&h, s->msg, sizeof h);
    return h.seq;
}

/* Whether every message numbered before seq is done: none of them can
 * still wait in the channel, so the posted CALL is taken without a system
 * call (the common case: one caller calling back to back). No mutex: the
 * order's next number reaches seq only once every message before it is
 * done (acquire: their effects are seen), and moves past seq only when
 * seq itself, which this thread holds, is marked done. */
static int all_done_before(uint32_t seq)
{
    return nocopy__iso_order_next(&order) == seq;
}

/* The posted CALL, taken: the messages the VM sent before it (lower
 * numbers) come first, so this thread reads the channel once (unless all
 * of them are done already): an earlier
 * message is returned now (the CALL waits, the role held); a later one is
 * kept for after the CALL. Either way no thread waits on the order for a
 * number only this thread could mark done. */
static int take_posted(nocopy__iso_slot *s, uint8_t *buf, size_t *len)
{
    int st = NOCOPY_EOVERLOAD;         /* nothing read from the channel */
    if (!all_done_before(posted_seq(s)))
        st = nocopy__iso_chan_try_recv(nocopy__iso.chan, buf, NC_ISO_MSG_MAX, len);
    if (st == NOCOPY_OK) {
        nocopy__iso_hdr h;
        memcpy(&h, buf, sizeof h);
        if (*len >= sizeof h && (int32_t)(h.seq - posted_seq(s)) < 0) {
            holding = 1;
            return NOCOPY_OK;
        }
        if (!stash && !(stash = malloc(NC_ISO_MSG_MAX))) {
            fprintf(stderr, "nocopy isolate: out of memory\n");
            end_process(2);
        }
        memcpy(stash, buf, *len);
        stash_len = *len;
        stashed = 1;
    } else if (st != NOCOPY_EOVERLOAD) {
        return st;
    }
    holding = 0;
    if (!nocopy__iso_call_take(s, buf, NC_ISO_MSG_MAX, len)) {
        /* A thread woken by a NUDGE took it: the next message then. */
        if (stashed) {
            stashed = 0;
            memcpy(buf, stash, stash_len);
            *len = stash_len;
            return NOCOPY_OK;
        }
        return nocopy__iso_chan_recv(nocopy__iso.chan, buf, NC_ISO_MSG_MAX, len);
    }
    return *len ? NOCOPY_OK : NOCOPY_EPROTO;
}

/* The next message. A thread that has just run a call polls the call slot
 * for up to the isolate's spin (nocopy__iso.spin_ns), if no other thread
 * does, so that a caller calling again at once finds it awake without a
 * system call on either side (a kernel wake-up is most of a small call's
 * cost, docs/design.md); else, and after, it waits on the channel. */
static int next_message(uint8_t *buf, size_t *len, int spin)
{
    if (stashed) {
        stashed = 0;
        memcpy(buf, stash, stash_len);
        *len = stash_len;
        return NOCOPY_OK;
    }
    nocopy__iso_slot *s = call_slot();
    uint64_t window = nocopy__iso.spin_ns;
    if (nocopy__iso_slot_hit == NC_ISO_HIT_NONE)
        spin = 0;                      /* the VM is not waiting on slots now */
    else if (nocopy__iso_slot_hit == NC_ISO_HIT_GIVEN_UP)
        window *= NC_ISO_POLL_AFTER_LOST;   /* the reply went the long way */
    int role = nocopy__iso_poll_role;  /* taken before the reply (nc_iso.h) */
    nocopy__iso_poll_role = 0;
    if (s && (holding || role || (spin && window && nocopy__iso_call_poll_begin(s) == 0))) {
        uint64_t until = nocopy__iso_now_ns() + window;
        int32_t me = nocopy__iso_spin_publish(&s->child_cpu);
        for (unsigned i = 1;; i++) {
            /* acquire: take_posted reads the message's number */
            uint64_t st = atomic_load_explicit(&s->state, memory_order_acquire);
            if (st == NC_ISO_CALL_POSTED) {
                NC_ISO_CHILD_STAMP(NC_ISO_STAMP_SEEN);
                /* The message's first lines, written on the VM's core: their
                 * reads start now, beside the state's CAS (take_posted). */
                __builtin_prefetch(s->msg);
                __builtin_prefetch(s->msg + 64);
                __builtin_prefetch(s->msg + 128);
                return take_posted(s, buf, len);
            }
            if (st == NC_ISO_CALL_POLLING) {
                if ((i & (NC_ISO_SPIN_CHECK - 1)) == 0) {
                    if (nocopy__iso_now_ns() >= until && nocopy__iso_call_poll_end(s) == 0) {
                        nocopy__iso_slot_hit = NC_ISO_HIT_NONE;
                        break;
                    }
                    me = nocopy__iso_spin_publish(&s->child_cpu);
                }
            } else if (st != NC_ISO_CALL_POSTING) {
                holding = 0;           /* a NUDGEd thread took the CALL */
                break;
            }
            nocopy__iso_spin_step(&s->vm_cpu, me);   /* the VM may wait for this core */
        }
    }
    return nocopy__iso_chan_recv(nocopy__iso.chan, buf, NC_ISO_MSG_MAX, len);
}

/* The next CALL on the channel, read into buf and set up in call (both the
 * thread's, reused for each of its calls), with its outputs held; other
 * messages are marked done on the way. Ends the process at end of file (the
 * VM is done with us) or on a message it cannot read. spin: the thread has
 * just run a call (next_message). */
static void receive_call(nc_iso_call *call, uint8_t *buf, int spin)
{
    for (;;) {
        size_t len;
        nocopy__iso_hdr h;
        int st = next_message(buf, &len, spin);
        if (st == NOCOPY_ECLOSED)
            end_process(0);
        if (st != NOCOPY_OK || len < sizeof h) {
            /* Its number unknown, the order would wait for it forever. */
            fprintf(stderr, "nocopy isolate: unreadable message from the VM\n");
            end_process(2);
        }
        memcpy(&h, buf, sizeof h);
        if (h.kind == NC_ISO_MSG_NUDGE) {
            /* Every message before the posted CALL was read already (the
             * NUDGE came after it on the channel): take it, if its poller
             * has not. */
            mark_done(h.seq, 0, 0);
            nocopy__iso_slot *s = call_slot();
            if (!s || !nocopy__iso_call_take(s, buf, NC_ISO_MSG_MAX, &len))
                continue;
            if (len < sizeof h) {
                fprintf(stderr, "nocopy isolate: unreadable message from the VM\n");
                end_process(2);
            }
            memcpy(&h, buf, sizeof h);
        }
        if (h.kind != NC_ISO_MSG_CALL) {
            mark_done(h.seq, h.kind == NC_ISO_MSG_RELEASE_OUT, h.id);
            continue;
        }
        /* The thread's own call, over its receive buffer: the call is run
         * and ended before this thread reads its next message, so neither
         * is allocated or copied per call. */
        call->id = h.id;
        call->msg = buf;
        call->msg_len = len;
        nocopy__iso_call_hold_outputs(call);
        mark_done(h.seq, 0, 0);
        return;
    }
}

static void *pool_thread(void *arg)
{
    (void)arg;
    uint8_t *buf = malloc(NC_ISO_MSG_MAX);   /* this thread's receive buffer */
    nc_iso_call *call = malloc(sizeof *call);   /* this thread's call, reused */
    if (!buf || !call) {
        fprintf(stderr, "nocopy isolate: out of memory\n");
        end_process(2);
    }
    for (int ran = 0;; ran = 1) {
        receive_call(call, buf, ran);
        nocopy__iso_call_execute(call);
    }
    return NULL;
}

/* The pool's threads meet here before HELLO: a thread the process creates
 * is then past its start-up (the sanitizers' per-thread set-up among it)
 * before the VM can end the process, which a VM done at once does: with
 * LeakSanitizer, an exit during a thread's start-up reports the runtime's
 * half-made thread attributes as a leak. */
static pthread_barrier_t started;

static void *started_pool_thread(void *arg)
{
    pthread_barrier_wait(&started);
    return pool_thread(arg);
}

static int parse_size(const char *s, size_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end)
        return -1;
    *out = (size_t)v;
    return 0;
}

/* ---- telling the VM how we end ------------------------------------------------- */

/* Async-signal-safe: one send() of a message built on the stack. */
static void tell_end(int how, int code)
{
    nocopy__iso_hdr h = {.kind = NC_ISO_MSG_DYING, .seq = 0,
                         .id = (uint64_t)how << 32 | (uint32_t)code};
    (void)send(NC_ISO_CHILD_FD_CHANNEL, &h, sizeof h, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void on_fatal(int sig)
{
    tell_end(NC_ISO_EXIT_SIGNAL, sig);
    raise(sig);                        /* the default action, restored by SA_RESETHAND */
}

static void on_exit_status(int status, void *arg)
{
    (void)arg;
    tell_end(NC_ISO_EXIT_CODE, status);
}

static void watch_the_end(void)
{
    static const int fatal[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal;
    sa.sa_flags = (int)(SA_RESETHAND | SA_NODEFER);
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
        sigaction(fatal[i], &sa, NULL);
    on_exit(on_exit_status, NULL);
}

static int fail(const char *what)
{
    fprintf(stderr, "nocopy isolate: %s\n", what);
    return 2;
}

int main(int argc, char **argv)
{
    size_t in_bytes, out_bytes, threads, incarnation, spin_us;
    if (argc != 6 || parse_size(argv[1], &in_bytes) || parse_size(argv[2], &out_bytes) ||
        parse_size(argv[3], &threads) || parse_size(argv[4], &incarnation) ||
        parse_size(argv[5], &spin_us) || threads < 1 || threads > THREADS_MAX ||
        spin_us > 1000000)
        return fail("usage: NAME_iso INPUT_BYTES OUTPUT_BYTES THREADS INCARNATION SPIN_US "
                    "(started by nocopy_iso, with its fds)");

    const nocopy_module *m = nocopy_module_definition();
    char err[NC_MODULE_ERR_MAX];
    if (nocopy__module_check(m, err) != 0)
        return fail(err);
    nocopy__iso.mod = m;
    nocopy__iso.fingerprint = nocopy__module_fingerprint(m);
    nocopy__iso.chan = NC_ISO_CHILD_FD_CHANNEL;
    nocopy__iso.incarnation = (uint32_t)incarnation;
    nocopy__iso.spin_ns = (uint64_t)spin_us * 1000;
    if (nocopy__iso_region_attach(&nocopy__iso.in, NC_ISO_CHILD_FD_INPUT, in_bytes, 0) !=
            NOCOPY_OK ||
        nocopy__iso_region_attach(&nocopy__iso.out, NC_ISO_CHILD_FD_OUTPUT, out_bytes, 1) !=
            NOCOPY_OK ||
        nocopy__iso_region_attach(&nocopy__iso.slots, NC_ISO_CHILD_FD_SLOTS, NC_ISO_SLOTS_BYTES,
                                  1) != NOCOPY_OK)
        return fail("the regions it was given are not the sealed memfds agreed");
    if (nocopy__iso_setup_names(m) != 0 || nocopy__iso_blocks_init() != NOCOPY_OK ||
        nocopy__iso_handles_init(m) != 0)
        return fail("out of memory");
    nocopy__iso_install_hooks();
    watch_the_end();
    if (m->load && m->load() != NOCOPY_OK)
        return fail("the module's load function failed");
    /* main is one of the pool's threads, after saying HELLO. */
    if (pthread_barrier_init(&started, NULL, (unsigned)threads) != 0)
        return fail("no thread could be started");
    for (size_t i = 1; i < threads; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, started_pool_thread, NULL) != 0)
            return fail("no thread could be started");
        pthread_detach(t);
    }
    pthread_barrier_wait(&started);
    nocopy__iso_hello hello = {.input_base = (uint64_t)(uintptr_t)nocopy__iso.in.base,
                               .output_base = (uint64_t)(uintptr_t)nocopy__iso.out.base};
    if (nocopy__iso_send(NC_ISO_MSG_HELLO, 0, &hello, sizeof hello) != NOCOPY_OK)
        return 0;
    pool_thread(NULL);
    return 0;
}
