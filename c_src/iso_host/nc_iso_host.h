/* nc_iso_host.h: the VM's side of the isolated backend, a NIF library of the
 * nocopy application (priv/nocopy_iso_nif.so, Erlang module nocopy_iso). It
 * uses iso_shared/ and erl_nif only: it runs no wrapped function. Files:
 *
 *   nc_iso_host_nif.c     the NIFs: start, stop, restart, kill, binary, call
 *                         (a request iolist made into a CALL), info
 *   nc_iso_host_inc.c     one child incarnation: regions, channel, process,
 *                         the reader thread, the calls in flight, death
 *   nc_iso_host_reply.c   a REPLY decoded, as hostile input, into a term
 *   nc_iso_host_blocks.c  input blocks (resources the VM allocates in the
 *                         input region) and output handovers (resources whose
 *                         destructor sends RELEASE_OUT)
 *   nc_iso_host_ref.c     an incarnation's references and end
 *   nc_iso_host_send.c    every message to the child, and the VM-side queue
 *                         of those the channel could not take at once
 *   nc_iso_host_state.c   resource types and atoms, data only
 *
 * Each file uses only those below it in this list (tools/check-layers.sh).
 * Who owns what. An isolate (nc_host_iso, a resource: the Iso term) holds a
 * reference on its current incarnation. An incarnation (nc_host_inc,
 * refcounted) owns the regions' mappings, the channel, the child process
 * and the table of input blocks; its reader thread, each input block and
 * each output handover hold a reference, so a dead child's regions stay
 * mapped while any Erlang binary points into them. A call in flight
 * (nc_host_call) keeps its isolate (so the reader can make handle terms)
 * and lends each input block it names (one reference each, dropped when its
 * reply, or the child's death, ends it). */
#ifndef NC_ISO_HOST_H
#define NC_ISO_HOST_H

#include <erl_nif.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "nocopy_status.h"
#include "nc_iso_alloc.h"
#include "nc_iso_msg.h"
#include "nc_iso_proc.h"
#include "nc_iso_region.h"
#include "nc_iso_slot.h"

typedef struct nc_host_iso nc_host_iso;
typedef struct nc_host_inc nc_host_inc;
typedef struct nc_host_qmsg nc_host_qmsg;     /* a queued message (nc_iso_host_send.c) */
typedef struct nc_host_scratch nc_host_scratch; /* a call's working memory
                                                 * (nc_iso_host_request.c) */

/* An input block: a resource (its Erlang binaries reference it). */
typedef struct nc_host_block {
    nc_host_inc *inc;                  /* a reference */
    uint64_t off, len;                 /* in the input region; len rounded */
    size_t lent;                       /* calls in flight naming it (inc->mu) */
    size_t child_keeps;                /* keeps the child announced (inc->mu) */
} nc_host_block;

/* One handover of an output block: a resource per Erlang binary made from
 * it; its destructor tells the child. */
typedef struct nc_host_out {
    nc_host_inc *inc;                  /* a reference */
    uint64_t block;
} nc_host_out;

/* A call in flight: malloc'd by call_nif, freed (nocopy__host_call_free)
 * by whichever thread ends it, usually the reader. */
typedef struct nc_host_call {
    uint64_t id;
    ErlNifPid caller;
    int64_t tag;
    nc_host_iso *iso;                  /* KEPT (enif_keep_resource) */
    nc_host_block **lent;              /* malloc'd; each lent: a reference and lent++ */
    size_t nlent;
    nc_host_inc *inc;                  /* not a reference: a call ends before its
                                        * incarnation (its reader holds one) */
    int slot;                          /* the reply slot armed for it, or -1 */
} nc_host_call;

struct nc_host_inc {
    _Atomic long refs;
    uint32_t number;                   /* 1, 2, ... per isolate */
    nocopy__iso_region in, out;        /* in: read-write here; out: read-only */
    nocopy__iso_region slots;          /* reply slots (nc_iso_slot.h), read-write */
    nocopy__iso_alloc in_alloc;
    int chan;                          /* the VM's end: sends never wait */
    nocopy__iso_child child;
    pthread_t reader;
    ErlNifMutex *mu;                   /* everything below */
    int dead;                          /* the reader saw the end */
    int stopping;                      /* stop/1: calls end with eclosed */
    char death[160];                   /* how it ended, for ecrashed */
    int told_how, told_code;           /* the child's DYING message, if any */
    const char *vm_killed;             /* why the VM killed it, if it did */
    nc_host_call **calls;              /* in flight, by slot */
    size_t calls_cap, ncalls;
    uint64_t call_seq;
    uint32_t slots_busy;               /* a bit per reply slot armed for a call */
    nc_host_block **blocks;            /* live input blocks, sorted by off */
    size_t nblocks, blocks_cap;
    uint32_t send_seq;                 /* the next VM -> child message's number */
    nc_host_qmsg *q_head, *q_tail;     /* messages not sent yet, in channel order */
    size_t q_calls, q_releases, q_bytes;
    int wake;                          /* eventfd: the queue stopped being empty */
    int hello;
    uint64_t child_in_base, child_out_base;   /* from HELLO: diagnostics only */
    _Atomic long outs;                 /* output handovers alive in Erlang */
};

struct nc_host_iso {
    ErlNifMutex *mu;                   /* inc, stopped, restarts */
    nc_host_inc *inc;                  /* a reference, or NULL */
    int stopped;
    char path[4096];
    size_t region_bytes, threads;
    long timeout_ms;                   /* per call; -1: none */
    uint64_t spin_ns;                  /* a caller's wait on its reply slot; 0: off */
    _Atomic uint64_t spin_skip_until;  /* ns: calls go without the fast path
                                        * until then (0: none) */
    _Atomic int spin_backoff;          /* the next skip, in spins (nc_iso_slot.h) */
    ERL_NIF_TERM module;               /* NAME_iso (an atom: env-free) */
    ERL_NIF_TERM *atoms;               /* the module's atoms, by index */
    size_t natoms;
    int intensity;                     /* restarts allowed per period */
    long period_ms;
    long long *restart_times;          /* ms, the last `intensity` ones */
    int nrestarts;
    uint32_t incarnations;
    _Atomic uint64_t copied_bytes;     /* request bytes copied into the region */
    _Atomic uint64_t inline_bytes;     /* request bytes sent in messages */
    _Atomic uint64_t slot_replies;     /* replies taken from a reply slot */
    _Atomic uint64_t slot_abandoned;   /* slots given up at the spin's end */
    _Atomic uint64_t slot_skipped;     /* calls sent without it: spin_skip_until */
    _Atomic uint64_t queue_max;        /* CALLs the queue may hold (option queue) */
    _Atomic uint64_t queue_bytes_max;  /* their bytes (option queue_bytes) */
    _Atomic uint64_t queued_total;     /* CALLs that were queued, so far */
    _Atomic uint64_t slot_cold;        /* of slot_abandoned: no poller took the
                                        * CALL (it went on the channel), so the
                                        * slot was given up after one look */
    _Atomic uint64_t slot_posted;      /* CALLs posted into the call slot */
    _Atomic uint64_t slot_declined;    /* slots the child turned down (or wrote
                                        * garbage in) during the spin */
    _Atomic(nc_host_scratch *) scratch; /* owned: kept between calls, or NULL */
    _Atomic uint64_t dirty_copies;     /* copies into the input region made on a
                                        * dirty CPU scheduler (NC_HOST_DIRTY_COPY) */
};

/* ---- resource types and atoms (nc_iso_host_state.c, set up at load) ---------------- */

extern ErlNifResourceType *nocopy__host_iso_rt, *nocopy__host_block_rt,
    *nocopy__host_out_rt;

typedef struct nc_host_atoms {
    ERL_NIF_TERM ok, error, true_, false_, undefined, nocopy_reply, error_tag, general,
        handle_tag, ecrashed, eclosed, eproto;
    ERL_NIF_TERM reasons[16];
    size_t nreasons;
} nc_host_atoms;
extern nc_host_atoms nocopy__host_am;

/* ---- incarnations (nc_iso_host_inc.c) -------------------------------------------- */

/* Creates the regions and the channel, starts the child and its reader.
 * NOCOPY_OK with *out (one reference, the caller's), or a status with text
 * in why. */
int nocopy__host_inc_start(nc_host_iso *iso, uint32_t number, nc_host_inc **out,
                           char *why, size_t why_len);
/* Registers a call (taking it over) unless the child is dead. 0, -1 (dead
 * or stopping) or -2 (too many calls, or no memory). */
int nocopy__host_inc_register(nc_host_inc *inc, nc_host_call *call);
/* Takes a call back out (its CALL could not be sent). The call, or NULL if
 * the reader ended it meanwhile (its caller is told). */
nc_host_call *nocopy__host_inc_unregister(nc_host_inc *inc, uint64_t id);
/* Whether the call `tag` of `caller` is in flight on this incarnation. */
int nocopy__host_inc_holds(nc_host_inc *inc, const ErlNifPid *caller, int64_t tag);
/* Ends a call: drops what it holds (its reply slot disarmed and freed) and
 * frees it. */
void nocopy__host_call_free(nc_host_call *call);
/* Arms a free reply slot for a registered call (call->slot), if one is
 * free. */
void nocopy__host_slot_arm(nc_host_inc *inc, nc_host_call *call);
/* Gives its slot back before its CALL is queued (with inc->mu held): the
 * caller will not wait for the reply there, so the child must not put it
 * there. */
void nocopy__host_slot_unarm_locked(nc_host_inc *inc, nc_host_call *call);
/* A call of `caller` with `tag` whose CALL is still queued, taken out of the
 * queue and the calls' table (the caller's timeout), or NULL. */
nc_host_call *nocopy__host_inc_take_queued(nc_host_inc *inc, const ErlNifPid *caller,
                                           int64_t tag);

/* ---- references and releases (nc_iso_host_ref.c) -------------------------------------- */

/* The last reference's release frees the incarnation: kills and reaps the
 * child if it still runs, unmaps the regions, closes the channel. */
void nocopy__host_inc_ref(nc_host_inc *inc);
void nocopy__host_inc_unref(nc_host_inc *inc);
/* Kills the child (SIGKILL), saying why for the calls' error text. */
void nocopy__host_inc_kill(nc_host_inc *inc, const char *why);

/* ---- messages to the child and the VM-side queue (nc_iso_host_send.c) --------------- */

/* Sends a VM -> child message (never waiting), numbering it: its header's
 * seq is set to the next number, which is used up only if it was sent. With
 * inc->mu held, so numbers follow the order on the channel. Passes the
 * queue: only for messages that order nothing (NUDGE).
 * @return : as nocopy__iso_chan_try_send. */
int nocopy__host_inc_send_locked(nc_host_inc *inc, uint8_t *msg, size_t len);
/* Sends a CALL as nocopy__host_inc_send_locked does, or, when may_post and
 * a child thread polls the call slot (nc_iso_slot.h), posts it there
 * (*posted = 1): the caller then watches it (nocopy__host_inc_nudge).
 * NOCOPY_EOVERLOAD when the channel is full or the queue still holds
 * messages after a try to send them: the caller queues the CALL. */
int nocopy__host_inc_call_locked(nc_host_inc *inc, uint8_t *msg, size_t len, int may_post,
                                 int *posted);
enum {
    NC_HOST_QUEUED = 0,                /* the reader or a later sender sends it */
    NC_HOST_QUEUE_FULL_CALLS,          /* the queue holds max_calls CALLs */
    NC_HOST_QUEUE_FULL_BYTES,          /* it would hold more than max_bytes */
    NC_HOST_QUEUE_DEAD,                /* the child is gone */
    NC_HOST_QUEUE_NOMEM
};
/* Queues a CALL (call id) that the channel did not take, a copy of its len
 * bytes, within the bounds. With inc->mu held. NC_HOST_QUEUED or why not. */
int nocopy__host_inc_queue_call_locked(nc_host_inc *inc, const uint8_t *msg, size_t len,
                                       uint64_t id, uint64_t max_calls, uint64_t max_bytes);
/* Takes the CALL of call id out of the queue, if it is still there (never
 * sent): 1, else 0. With inc->mu held. */
int nocopy__host_inc_dequeue_call_locked(nc_host_inc *inc, uint64_t id);
/* Empties the queue (the child's end; the calls are answered from the
 * calls' table). With inc->mu held, or by the last reference. */
void nocopy__host_inc_queue_drop_locked(nc_host_inc *inc);
/* A NUDGE, if the CALL posted is still there: its poller is not running. */
void nocopy__host_inc_nudge(nc_host_inc *inc);
/* Sends RELEASE_OUT for `block`, or queues it behind the queue or when the
 * channel is full (any thread: a resource destructor). */
void nocopy__host_inc_release_out(nc_host_inc *inc, uint64_t block);
/* Sends what the channel takes now from the queue's head (the reader). The
 * number sent; *left: whether the queue still holds messages. */
size_t nocopy__host_inc_flush(nc_host_inc *inc, int *left);

/* ---- input blocks and output handovers (nc_iso_host_blocks.c) --------------------- */

/* A new input block of len bytes (one reference, the caller's), in the
 * table. NULL: the region is full or no memory. */
nc_host_block *nocopy__host_block_new(nc_host_inc *inc, size_t len);
/* The block holding [p, p + len) of the input region, lent to a call
 * (lent++, one reference), or NULL. */
nc_host_block *nocopy__host_block_lend(nc_host_inc *inc, const uint8_t *p, size_t len);
/* Ends a loan. */
void nocopy__host_block_return(nc_host_block *b);
/* The block that starts at off, if the child may name it now: lent to a
 * call or kept by the child (so it is referenced). With inc->mu held. */
nc_host_block *nocopy__host_block_named(nc_host_inc *inc, uint64_t off);
/* KEEP_IN / RELEASE_IN from the child; 0, or -1 for a bad name. */
int nocopy__host_block_child_keep(nc_host_inc *inc, uint64_t off);
int nocopy__host_block_child_release(nc_host_inc *inc, uint64_t off);
/* The child is gone: drop its keeps. */
void nocopy__host_blocks_drop_child_keeps(nc_host_inc *inc);
/* A term for bytes of an output block, one handover (the child counted
 * it), or 0 when the range is outside the region. */
ERL_NIF_TERM nocopy__host_out_binary(ErlNifEnv *env, nc_host_inc *inc, uint64_t block,
                                     uint64_t off, uint64_t len);
void nocopy__host_block_dtor(ErlNifEnv *env, void *obj);
void nocopy__host_out_dtor(ErlNifEnv *env, void *obj);

/* ---- a request's CALL (nc_iso_host_request.c) ------------------------------------- */

/* The reply decoder's stacks, reused by one thread at a time across decodes:
 * all zero at first, grown by the decoder, freed by nocopy__host_stacks_free
 * (nc_iso_host_reply.c). */
typedef struct nc_host_stacks {
    void *terms, *frames;
    size_t tcap, fcap;
} nc_host_stacks;

/* The isolate's kept scratch, or a new one (NULL: no memory); the caller
 * owns it until it gives it back (or frees it). */
nc_host_scratch *nocopy__host_scratch_take(nc_host_iso *iso);
/* Gives s back to the isolate to keep, or frees it if one is kept. */
void nocopy__host_scratch_give(nc_host_iso *iso, nc_host_scratch *s);
void nocopy__host_scratch_free(nc_host_scratch *s);
/* s's reply decoder stacks (s owns them). */
nc_host_stacks *nocopy__host_scratch_stacks(nc_host_scratch *s);
/* Walks the request t (an iolist of binaries, bytes and lists) into s's
 * pieces, which point into t's binaries (valid while this NIF runs) and s.
 * 0, or -1 (anything else, more than a million pieces, or no memory). */
int nocopy__host_request_pieces(ErlNifEnv *env, ERL_NIF_TERM t, nc_host_scratch *s);
/* The CALL for s's pieces into s's message (nocopy__host_scratch_msg); its
 * length, or 0 with *err set (the call's loans taken so far stay with it). */
size_t nocopy__host_build_call(nc_host_iso *iso, nc_host_inc *inc, nc_host_call *call,
                               nc_host_scratch *s, const char **err);
/* The bytes of s's pieces, in all (counted by the walk: no pass of its own). */
size_t nocopy__host_request_bytes(const nc_host_scratch *s);
/* The bytes of s's pieces that lie in neither of inc's regions: what
 * nocopy__host_build_call would copy into the input region or the message. */
size_t nocopy__host_request_copy_bytes(const nc_host_inc *inc, const nc_host_scratch *s);
/* Copies s's pieces, in order, to `to` (nocopy__host_request_bytes(s) bytes). */
void nocopy__host_request_gather(const nc_host_scratch *s, uint8_t *to);
/* A NIF copying more bytes than this into the input region reschedules
 * itself on a dirty CPU scheduler (about 0.1 ms of memcpy here). */
#define NC_HOST_DIRTY_COPY (1u << 20)
/* s's message buffer, NC_ISO_MSG_MAX bytes (s owns it). */
uint8_t *nocopy__host_scratch_msg(nc_host_scratch *s);

/* ---- the fast path's wait (nc_iso_host_wait.c) ------------------------------------ */

/* Whether this call goes without the fast path: the backoff after a wait
 * given up is still on (counted in slot_skipped). */
int nocopy__host_skip_spin(nc_host_iso *iso);
/* The fast path (nc_iso_slot.h): waits at most the isolate's spin for the
 * reply in the call's slot. The reply's term ({nocopy_reply, Tag, R}, as
 * the reader would send it), or 0: it comes as a message. posted: the CALL
 * went into the call slot (a NUDGE follows if it is not taken in
 * NC_ISO_NUDGE_NS). The scheduler's time spinning is charged to the
 * caller (enif_consume_timeslice). stacks: the reply decoder's, the
 * caller's scratch's. */
ERL_NIF_TERM nocopy__host_slot_reply(ErlNifEnv *env, nc_host_iso *iso, nc_host_inc *inc,
                                     uint64_t id, int slot, int posted, nc_host_stacks *stacks);

/* ---- replies (nc_iso_host_reply.c) --------------------------------------------------- */

/* The message for the caller of `call` from a REPLY body (after the header):
 * {nocopy_reply, Tag, {ok, Value} | {'$nocopy_error', Reason, Cause}}, or 0
 * when the body is malformed (why says how). */
ERL_NIF_TERM nocopy__host_reply_term(ErlNifEnv *env, nc_host_inc *inc, nc_host_call *call,
                                     const uint8_t *body, size_t len, nc_host_stacks *stacks,
                                     const char **why);
/* `stacks` above: the caller's, kept across decodes, or NULL (the decoder
 * allocates and frees its own). */
void nocopy__host_stacks_free(nc_host_stacks *st);
/* {nocopy_reply, Tag, {'$nocopy_error', Reason, {general, Text}}}. */
ERL_NIF_TERM nocopy__host_error_term(ErlNifEnv *env, nc_host_call *call, ERL_NIF_TERM reason,
                                     const char *text);

#endif /* NC_ISO_HOST_H */
