/* nc_iso_order.h: messages numbered in the order they were sent, finished
 * out of order, with actions that must wait for every earlier message. Pure
 * C, no runtime header, no lock of its own (the caller's serialises all but
 * the no-lock calls: Locking, below).
 *
 * Why: the child's pool threads all read the channel (c_src/iso/
 * nc_iso_main.c), so a message read later may be handled before one read
 * earlier. A CALL naming an output block must hold the block before any
 * later RELEASE_OUT of that block takes effect. The VM numbers its messages in channel order (nocopy__iso_hdr.seq);
 * each is marked done once handled (a CALL: once its blocks are held), and a
 * RELEASE_OUT is marked done with its release deferred until every message
 * before it is done. At most one message per reading thread is read and not
 * yet done, but done messages keep their places behind an unfinished one,
 * so the numbers in play are not bounded by the threads: a reader whose
 * number is past the window waits until the window moves (the child's
 * mark_done, c_src/iso/nc_iso_main.c).
 *
 * Locking: nocopy__iso_order_done and nocopy__iso_order_catch_up need the
 * caller's lock (one at a time); nocopy__iso_order_next and
 * nocopy__iso_order_done_first do not, so that the common case, a message
 * whose every predecessor is done (one caller calling back to back), is
 * marked done with no lock. Why that is safe: `next` reaches seq only once
 * every message before seq is done, and moves past seq only when seq is
 * marked done, which only the thread holding seq does; so while next ==
 * seq the locked side never moves it, and the holder may move it with one
 * compare-and-swap. What the locked side may do meanwhile is mark later
 * messages done; each side then looks at the other's write (both
 * sequentially consistent: the holder moves next, then looks at seq + 1's
 * flag; the other sets the flag, then looks at next), so at least one of
 * them sees the other and runs the catch-up (under the lock; running it
 * twice finds nothing the second time). */
#ifndef NC_ISO_ORDER_H
#define NC_ISO_ORDER_H

#include <stdatomic.h>
#include <stdint.h>

/* Numbers tracked at once: more than the child's threads (64), so that
 * every thread's unfinished message fits. A power of two, so that numbers
 * wrap at 2^32 cleanly. */
#define NC_ISO_ORDER_WINDOW 128

typedef struct nocopy__iso_order {
    _Atomic uint32_t next;             /* every message before it is done */
    struct {
        _Atomic uint8_t done;
        uint8_t deferred;              /* deferred, arg: written before done */
        uint64_t arg;                  /* the deferred action's argument */
    } slot[NC_ISO_ORDER_WINDOW];
} nocopy__iso_order;

/* Marks message `seq` done. With `deferred`, run(arg) is due once every
 * message before seq is done. Runs, in order, every due action: this
 * message's and those of later messages that waited for it. The first
 * message is number 0 (a zeroed nocopy__iso_order).
 * @return : 0; -1 when seq is outside [next, next + NC_ISO_ORDER_WINDOW)
 *           (the sender broke the numbering; nothing is changed). */
int nocopy__iso_order_done(nocopy__iso_order *o, uint32_t seq, int deferred, uint64_t arg,
                           void (*run)(uint64_t arg));

/* Runs, in order, the actions of messages marked done past next, moving
 * next over them (under the caller's lock). */
void nocopy__iso_order_catch_up(nocopy__iso_order *o, void (*run)(uint64_t arg));

/* The number before which every message is done (no lock; acquire: what
 * the threads that marked them did is seen). */
uint32_t nocopy__iso_order_next(nocopy__iso_order *o);

/* Marks message seq done with no deferred action and no lock, if every
 * message before it is done (next == seq). Only the thread that holds seq
 * (read, not yet marked) may call it.
 * @return : 0, done; 1, done, and a later message was marked done
 *           meanwhile: the caller takes its lock and calls
 *           nocopy__iso_order_catch_up; -1, an earlier message is not done:
 *           nothing changed (the caller marks seq under its lock). */
int nocopy__iso_order_done_first(nocopy__iso_order *o, uint32_t seq);

#endif /* NC_ISO_ORDER_H */
