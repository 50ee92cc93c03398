/* nc_iso_slot.h: reply slots, the isolated backend's fast path for small
 * replies (docs/design.md, "The isolated backend", Channel).
 *
 * A third memfd, mapped read-write in both processes, holds NC_ISO_SLOTS
 * slots. The VM arms a free slot with a call's id before it sends the CALL
 * and spins on it for a bounded time (the isolate's `spin`); the child
 * thread that runs the call writes the REPLY message into the slot instead
 * of the channel, if the slot is still armed for that call. Whoever gives
 * up first wins, with one atomic operation on the slot's state word:
 *
 *   VM arms:         state = id << 2 | WAITING
 *   child delivers:  copies the message and its len into the slot, then
 *                    CAS WAITING -> READY; a failed CAS: it sends the
 *                    REPLY on the channel as usual (WRITING, which an
 *                    earlier child set while it copied, still reads as
 *                    pending to the VM)
 *   child declines:  CAS WAITING -> OFF, then the channel (the VM stops
 *                    spinning at once)
 *   VM takes:        state READY for this id: copies the message out
 *   VM gives up:     exchange(state, id << 2 | OFF); READY: it takes the
 *                    reply anyway; otherwise the child's next CAS fails and
 *                    the reply comes on the channel (the id left in the
 *                    word tells the child the VM was waiting: it polls the
 *                    call slot after, for the next call)
 *
 * The child can write anything here at any time: the VM reads the state
 * and the length once each, checks the length, and copies the message into
 * its own memory before decoding it (with the channel's hardened decoder).
 * A garbage state is a slot lost for this call (its reply must then come on
 * the channel); a slot is re-armed only after its call has ended, so an
 * honest child never writes a slot armed for another call. */
#ifndef NC_ISO_SLOT_H
#define NC_ISO_SLOT_H

#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define NC_ISO_SLOTS 16
#define NC_ISO_SLOT_BYTES 4096
#define NC_ISO_SLOT_HEAD 64
/* The longest REPLY message (header included) a slot holds. */
#define NC_ISO_SLOT_MSG_MAX (NC_ISO_SLOT_BYTES - NC_ISO_SLOT_HEAD)
/* The slots' memfd: the reply slots, then the call slot. */
#define NC_ISO_CALL_SLOT NC_ISO_SLOTS
#define NC_ISO_SLOTS_BYTES ((size_t)(NC_ISO_SLOTS + 1) * NC_ISO_SLOT_BYTES)

enum { NC_ISO_SLOT_OFF = 0, NC_ISO_SLOT_WAITING, NC_ISO_SLOT_WRITING, NC_ISO_SLOT_READY };

typedef struct nocopy__iso_slot {
    _Atomic uint64_t state;            /* call id << 2 | NC_ISO_SLOT_* */
    _Atomic uint32_t len;              /* bytes of msg, once READY */
    /* The call slot only: the CPU each side last spun on (the VM's
     * scheduler thread, the child's poller), for the other's spin
     * (nocopy__iso_spin_step). Hints: a wrong value costs a yield or a
     * pause, never a wrong read. */
    _Atomic int32_t vm_cpu, child_cpu;
    uint8_t pad[NC_ISO_SLOT_HEAD - 20];
    uint8_t msg[NC_ISO_SLOT_MSG_MAX];
} nocopy__iso_slot;

_Static_assert(sizeof(nocopy__iso_slot) == NC_ISO_SLOT_BYTES, "a slot is 4 KiB");

/* What nocopy__iso_slot_poll found. */
enum { NC_ISO_SLOT_PENDING, NC_ISO_SLOT_TAKEN, NC_ISO_SLOT_LOST, NC_ISO_SLOT_BAD };

/* ---- the VM's side ---- */

/* Arms the slot for call id (< 2^62), before the CALL is sent. */
void nocopy__iso_slot_arm(nocopy__iso_slot *s, uint64_t id);
/* Disarms it (its call has ended): an honest child no longer writes it. */
void nocopy__iso_slot_disarm(nocopy__iso_slot *s);
/* Looks once. TAKEN: the REPLY for id copied into dst (cap bytes), *len
 * set. PENDING: armed for id, not ready. LOST: the state names no such
 * thing (the child wrote garbage). BAD: ready with a length over
 * min(cap, NC_ISO_SLOT_MSG_MAX): the child broke the protocol. */
int nocopy__iso_slot_poll(nocopy__iso_slot *s, uint64_t id, uint8_t *dst, size_t cap,
                          size_t *len);
/* Gives up waiting: TAKEN (the reply was ready after all: copied, as by
 * poll), BAD (as by poll), or LOST (the reply will come on the channel). */
int nocopy__iso_slot_abandon(nocopy__iso_slot *s, uint64_t id, uint8_t *dst, size_t cap,
                             size_t *len);

/* ---- the child's side ---- */

/* Writes the REPLY message for call id into the slot armed for it, if any
 * of the n is. 0: delivered; -1: no slot armed for it, -2: the VM armed one
 * and gave up waiting; for both, send it on the channel. */
int nocopy__iso_slot_deliver(nocopy__iso_slot *slots, size_t n, uint64_t id, const void *msg,
                             size_t len);
/* The reply for call id will come on the channel (too long for a slot, or
 * it must follow the thread's other messages): disarms its slot, if armed,
 * so that the VM stops waiting at once. */
void nocopy__iso_slot_decline(nocopy__iso_slot *slots, size_t n, uint64_t id);

/* ---- the call slot: a small CALL for a child thread that polls ----
 *
 * The same layout, the other way. A child thread that has just run a call
 * may take the poller's role (OFF -> POLLING) and poll this slot, instead of
 * the channel, for up to the isolate's spin. The VM, sending a CALL that
 * fits, takes the poller (POLLING -> POSTING), writes the message, and
 * publishes it (POSTED); else it sends on the channel. The VM only writes
 * here and compares-and-swaps the state: nothing the child does to the slot
 * can make it read, wait or fail (a child that takes the role and never
 * reads only loses its own calls, as one that never reads the channel).
 * The CALL keeps its number in the VM's order (nocopy__iso_hdr.seq): the
 * poller reads the channel's earlier messages first (nc_iso_main.c). */
enum {
    NC_ISO_CALL_OFF = 0, NC_ISO_CALL_POLLING, NC_ISO_CALL_POSTING, NC_ISO_CALL_POSTED,
    NC_ISO_CALL_TAKING
};

/* A posted CALL not taken after this long: its poller lost its core (2
 * shared cores, other processes), so the VM sends a NUDGE on the channel,
 * which wakes a thread waiting there to take it (nc_iso_msg.h). */
#define NC_ISO_NUDGE_NS 4000

/* After a wait that did not pay, calls go without it for
 * NC_ISO_SPIN_BACKOFF times the spin, twice as long after each such wait in
 * a row, up to NC_ISO_SPIN_BACKOFF_MAX times; a wait that pays starts over.
 * So at most one spin in 16 (down to one in 1024) of the time is spent on
 * waits that fail, whatever the rate of calls. A time, not a number of
 * calls: counted in calls, the backoff earned by sparse calls (each of its
 * own burst, each cold) was spent by the next burst of fast ones (measured
 * in make bench-iso: 827 of the 990 calls of a 16 MiB arena group went
 * without the fast path, after the same isolate's ordinary 16 MiB calls).
 * A wait that did not pay is one whose CALL went to a poller (a child
 * thread awake for it) and still got no reply within the spin: on 2 cores
 * shared with other
 * processes a waiter that loses its core costs more than the wake-ups it
 * saves, and waits that fail in a row are what an overloaded machine looks
 * like. A cold call (no poller: the CALL went on the channel, a child
 * thread must be woken) makes no wait: the NIF looks at its slot once and
 * gives it up, which costs no spin and counts for no backoff, and tells
 * the child thread to poll after its reply (below), so that the caller's
 * next call finds it. Measured (bench/prof/iso_context.erl, make
 * bench-iso): cold waits that failed were most of the waits given up
 * (1160 of 1215 in the small call's rounds at load 3), each a spin lost
 * and, counted, a backoff that kept the fast path off for the bursts after.
 *
 * A child thread polls the call slot after a reply that went into a slot
 * (the VM is waiting on slots), for the isolate's spin, and after a reply
 * whose slot the VM gave up waiting on (it is calling with slots, but this
 * reply goes the long way: reader, enif_send, the caller's scheduler woken)
 * for NC_ISO_POLL_AFTER_LOST times the spin, so that the caller's next call
 * still finds it polling; until a poll gets nothing. */
#define NC_ISO_SPIN_BACKOFF 16
#define NC_ISO_POLL_AFTER_LOST 10
#define NC_ISO_SPIN_BACKOFF_MAX 1024

/* The VM: 0, the message is posted; -1, no poller (or too long): send it
 * on the channel. */
int nocopy__iso_call_post(nocopy__iso_slot *s, const void *msg, size_t len);
/* The child: takes the poller's role; 0, or -1 when another thread has it. */
int nocopy__iso_call_poll_begin(nocopy__iso_slot *s);
/* Gives the role up; 0, or -1 when a CALL is being posted (poll on: it
 * will be POSTED at once). */
int nocopy__iso_call_poll_end(nocopy__iso_slot *s);
/* Takes the posted CALL (the poller, or a thread that read a NUDGE; one of
 * them wins): copied into buf (cap bytes); the role ends. 1 with *len set
 * (0 when it did not fit: the VM's bug), or 0 when nothing was posted or
 * the other took it. */
int nocopy__iso_call_take(nocopy__iso_slot *s, uint8_t *buf, size_t cap, size_t *len);

/* The clock both sides' bounded waits on a slot read (CLOCK_MONOTONIC, ns). */
static inline uint64_t nocopy__iso_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One step of a spin on a slot: tells the core (and a hyperthread sibling)
 * that this is a wait loop. */
static inline void nocopy__iso_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* A spinner yields its core (sched_yield) instead of pausing when the
 * other side was last seen on the same core: the other can then run only
 * when this one stops. That happens: the socket's wake-up is a synchronous
 * one, so the kernel tends to put a woken child thread on its waker's core,
 * and while the machine's other core is busy it stays there. Spinning
 * there held up the very call or reply waited for until the spin ended
 * (measured, both processes on one core: 66-71 us per small call, 17 us
 * for the port; yielding every 16 steps, 16-18 us; yielding on both cores
 * cost a system call per 16 steps, 3.1 against 8.3-8.9 us per call in
 * stamps). Each side publishes its CPU (sched_getcpu, no system call with
 * rseq) in the call slot when it starts spinning and every
 * NC_ISO_SPIN_CHECK steps. */
#define NC_ISO_SPIN_CHECK 16

static inline int32_t nocopy__iso_spin_publish(_Atomic int32_t *mine)
{
    int32_t cpu = (int32_t)sched_getcpu();
    /* Stored only when it changed: the hints share the call slot's state
     * line, and a store every NC_ISO_SPIN_CHECK steps would take that line
     * from the other side, which polls or CASes it. */
    if (atomic_load_explicit(mine, memory_order_relaxed) != cpu)
        atomic_store_explicit(mine, cpu, memory_order_relaxed);
    return cpu;
}

static inline void nocopy__iso_spin_step(const _Atomic int32_t *theirs, int32_t me)
{
#ifndef NC_ISO_NO_YIELD                /* a measuring build's comparison */
    if (atomic_load_explicit(theirs, memory_order_relaxed) == me && me >= 0) {
        sched_yield();
        return;
    }
#else
    (void)theirs;
    (void)me;
#endif
    nocopy__iso_cpu_relax();
}

#endif /* NC_ISO_SLOT_H */
