/* nc_iso_order.h: messages numbered in the order they were sent, finished
 * out of order, with actions that must wait for every earlier message. Pure
 * C, no runtime header, no lock (the caller serialises).
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
 * mark_done, c_src/iso/nc_iso_main.c). */
#ifndef NC_ISO_ORDER_H
#define NC_ISO_ORDER_H

#include <stdint.h>

/* Numbers tracked at once: more than the child's threads (64), so that
 * every thread's unfinished message fits. A power of two, so that numbers
 * wrap at 2^32 cleanly. */
#define NC_ISO_ORDER_WINDOW 128

typedef struct nocopy__iso_order {
    uint32_t next;                     /* every message before it is done */
    struct {
        uint8_t done, deferred;
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

#endif /* NC_ISO_ORDER_H */
