/* nc_drv.h: shared between the driver backend's files (c_src/drv/). Each file
 * uses only those below it in this list, and the core:
 *
 *   nc_drv_entry.c   ErlDrvEntry, driver load/unload, outputv: decoding and
 *                    placing each request (inline, or queued to the workers)
 *   nc_drv_port.c    a port's life: options, start, stop, and the janitor that
 *                    frees closed ports once their workers are done
 *   nc_drv_pool.c    the per-port worker threads and their bounded queue
 *   nc_drv_exec.c    running one decoded call, replying, releasing what it holds
 *   nc_drv_spare.c   the port's spare calls: heap calls reused, not freed
 *   nc_backend.h     the core's primitives (nc_prims.h): reading terms, memory,
 *                    handle references and the table's insert, and (in
 *                    nc_drv_nodes.h) the result builders
 *   nc_drv_handle.c  driver-side handles: refcounted objects, per-port id table
 *   nc_drv_reply.c   result values and their ErlDrvTermData spec, sending replies
 *   nc_drv_setup.c   setting up the process-wide state: names, atoms
 *   nc_drv_state.c   the process-wide state (nocopy__drv), data only
 *
 * Threads: outputv, start and stop run on a scheduler thread holding the port
 * lock; calls queued to workers run on the port's own threads. Only the
 * thread-safe part of erl_driver is used off the scheduler: erl_drv_send_term,
 * binary refcounts and allocation, and the erl_drv thread primitives. Atoms and
 * the port term are computed on the scheduler thread (start). */
#ifndef NC_DRV_H
#define NC_DRV_H

#include <stdatomic.h>

#include <erl_driver.h>

#include "nc_drv_options.h"
#include "nc_wire.h"
#include "nc_internal.h"

/* ---- process-wide state, set up once ------------------------------------- */

/* Defined in nc_drv_state.c (data only); set up and freed by nc_drv_setup.c
 * only; read-only elsewhere. */
typedef struct nc_drv_global {
    const nocopy_module *mod;
    uint32_t fingerprint;                   /* nocopy__module_fingerprint(mod) */
    char driver_name[NC_MAX_ATOM_CHARS + 1];   /* "NAME_drv" */
    int natoms;                             /* module atoms */
    nocopy__wire_atom_name *names;                /* builtin (5) then module atoms */
    ErlDrvMutex *atoms_mu;
    int atoms_ready;                        /* set once under atoms_mu, then read-only */
    ErlDrvTermData *mod_atoms;              /* by nocopy_atom index */
    ErlDrvTermData builtin[NOCOPY_ATOM_BUILTIN_COUNT];   /* by -a - 1 */
    ErlDrvTermData am_reply, am_error_reply, am_error_tag, am_general, am_handle, am_wrong_port;
    ErlDrvTermData am_reason[NC_REASON_COUNT];           /* nocopy__reason_index() */
} nc_drv_global;

extern nc_drv_global nocopy__drv;

/* Sets the driver's name, "NAME_drv", before the runtime reads the entry. 0: ok. */
int nocopy__drv_name_init(const nocopy_module *m);
/* Sets up the module's names, fingerprint and the atoms' lock at driver
 * load, for a table that passed nocopy__module_check. 0: ok. */
int nocopy__drv_state_init(const nocopy_module *m);
/* Frees what nocopy__drv_state_init and nocopy__drv_atoms_init allocated. */
void nocopy__drv_state_free(void);
/* Computes the atoms on first use; call from a scheduler thread. 0: ok. */
int nocopy__drv_atoms_init(void);

/* ---- handles ------------------------------------------------------------- */

typedef struct nc_drv_handle_slot {
    nocopy__handle *h;                      /* the table's reference, or NULL */
    uint32_t gen;
    uint32_t next_free;
} nc_drv_handle_slot;

typedef struct nc_drv_htable {
    ErlDrvMutex *mu;
    nc_drv_handle_slot *slots;
    uint32_t cap, live, free_head;
    int closed;
    /* An inline call holds handles of this table without references
     * (nocopy__drv_htable_peek): until it ends, a sweep frees no slot, so
     * what the table holds outlives the call (a table full at NC_DRV_MAX_SLOTS
 * then refuses a new handle rather than sweep). The port lock's. */
    int pinned;
} nc_drv_htable;

int nocopy__drv_htable_init(nc_drv_htable *t);
/* Drops the table's reference to every handle (destructors run unless a call
 * still holds one) and refuses inserts from then on. Calls may still be
 * running on other threads: they find the table empty. */
void nocopy__drv_htable_close(nc_drv_htable *t);
void nocopy__drv_htable_destroy(nc_drv_htable *t);
/* nocopy__drv_htable_insert(t, h, id, existed) is in nc_backend.h: it takes
 * over the caller's reference to h; 0 with *id set, or a status. *existed is 1
 * when h was already in the table under *id: the caller's reference was not
 * taken and is still the caller's to release. */
/* The handle for id, KEPT (release with handle_release), or a tombstone
 * (never kept) when the id names a closed handle, or NULL for no handle type.
 * `alone`: the caller knows that no other thread can touch the table meanwhile
 * (the scheduler, holding the port lock, with no call on the port's workers:
 * nc_drv_pool's `outstanding` is 0), so the table's mutex is not taken. */
nocopy__handle *nocopy__drv_htable_lookup(nc_drv_htable *t, uint64_t id, int alone);
/* The same without a reference, for a call that runs inline while no call
 * is on the port's workers: the table's own reference keeps the handle, since
 * nothing can drop it until the call ends (a sweep skips a pinned table; the
 * caller sets t->pinned). Tombstones as above. The common case, a live
 * handle of the right type, is found in line (nocopy__drv_htable_peek);
 * everything else out of line. */
nocopy__handle *nocopy__drv_htable_peek_slow(nc_drv_htable *t, uint64_t id);

/* A handle id: Generation << 32 | TypeIndex << 24 | Slot (nc_drv_handle.c). */
#define NC_DRV_SLOT_BITS 24
#define NC_DRV_TYPE_BITS 8
#define NC_DRV_MAX_SLOTS (1u << NC_DRV_SLOT_BITS)

static inline nocopy__handle *nocopy__drv_htable_peek(nc_drv_htable *t, uint64_t id)
{
    uint32_t i = (uint32_t)(id & (NC_DRV_MAX_SLOTS - 1));
    unsigned type = (unsigned)((id >> NC_DRV_SLOT_BITS) & ((1u << NC_DRV_TYPE_BITS) - 1));
    if (NC_LIKELY(i < t->cap)) {
        const nc_drv_handle_slot *s = &t->slots[i];
        nocopy__handle *h = s->h;
        if (NC_LIKELY(h && s->gen == (id >> 32) && h->type_index == type &&
                      !(atomic_load(&h->state) & NC_HANDLE_DESTROYED)))
            return h;
    }
    return nocopy__drv_htable_peek_slow(t, id);
}
/* Undoes an insert whose reply never reached Erlang. */
void nocopy__drv_htable_remove(nc_drv_htable *t, uint64_t id, nocopy__handle *h);
int nocopy__drv_is_tombstone(const nocopy__handle *h);
/* One tombstone per handle type of m, at driver load; freed at unload. */
int nocopy__drv_tombstones_init(const nocopy_module *m);
void nocopy__drv_tombstones_free(void);

/* ---- ports --------------------------------------------------------------- */

struct nc_drv_call;
struct nc_drv_pool;

/* One worker thread, and the call it is running, so that closing the port can
 * answer that call's caller (nc_drv_pool.c): `running` is the call, NULL when
 * idle, or one of the NC_DRV_RUNNING_* marks while its reply is being sent. */
typedef struct nc_drv_worker {
    struct nc_drv_pool *pool;
    _Atomic(uintptr_t) running;
} nc_drv_worker;

typedef struct nc_drv_pool {
    ErlDrvMutex *mu;
    ErlDrvCond *cv;
    struct nc_drv_call *head, *tail;        /* queued calls, FIFO */
    size_t queued, limit;                   /* calls */
    _Atomic size_t queued_hint;             /* `queued`, for idle workers to
                                             * read without the lock */
    size_t queued_bytes, byte_limit;        /* their decoded requests' bytes */
    unsigned nworkers, started;
    int stopping;
    /* Calls handed to the workers and not yet released (queued or running):
     * raised by the scheduler when it queues one, lowered by the thread that
     * released it, after its last touch of the port's handle table. While it
     * is 0, only the scheduler holding the port lock can touch the table. */
    _Atomic size_t outstanding;
    ErlDrvTid tids[NC_DRV_WORKERS_MAX];
    nc_drv_worker workers[NC_DRV_WORKERS_MAX];
} nc_drv_pool;

/* Released heap calls kept for reuse (nc_drv_spare.c): pushed by any thread
 * onto `given`, taken by the scheduler holding the port lock into `kept`. */
typedef struct nc_drv_spares {
    _Atomic(struct nc_drv_call *) given;
    struct nc_drv_call *kept;               /* the port lock's */
    _Atomic unsigned count;                 /* on both lists */
} nc_drv_spares;

/* At most this many spare calls per port (3 032 bytes each on x86-64, so at
 * most 190 KiB a port, freed when it closes): enough for the calls a port's
 * workers have in flight under many callers. */
#define NC_DRV_SPARES_MAX 64u

/* A port's state. Freed by its stop when no call is running on its workers,
 * otherwise by the janitor once they have finished (nc_drv_port.c): calls
 * that outlive their port still reach its handle table and port term. */
typedef struct nc_drv_port {
    ErlDrvPort port;
    ErlDrvTermData port_term;               /* driver_mk_port, computed in start */
    int inline_normal;                      /* 0: NOCOPY_NORMAL calls go to workers too */
    nc_drv_pool pool;
    nc_drv_htable handles;
    nc_drv_spares spares;
    struct nc_drv_port *next_closed;        /* the janitor's list */
} nc_drv_port;

int nocopy__drv_pool_init(nc_drv_pool *p, unsigned workers, size_t limit,
                          size_t byte_limit);

typedef enum nc_drv_submit {
    NC_DRV_QUEUED,          /* HANDED OVER to the pool */
    NC_DRV_QUEUE_FULL,      /* `limit` calls are queued */
    NC_DRV_QUEUE_HEAVY,     /* the call's decoded request would take the queued
                             * ones past `byte_limit` bytes (a call is always
                             * taken when none is queued) */
    NC_DRV_NO_WORKER        /* no worker thread could be started */
} nc_drv_submit;

/* Queues a call; the call stays the caller's unless NC_DRV_QUEUED. */
nc_drv_submit nocopy__drv_pool_submit(nc_drv_port *dp, struct nc_drv_call *call);
/* Answers every call of the port with eclosed, queued (cancelled) or running
 * (left to finish, its reply not sent), and tells the workers to exit once
 * idle; waits for no user code. On the scheduler, in the port's stop, where
 * the runtime still delivers the port's messages: so the caller of every
 * request outputv took gets exactly one reply, and needs no port monitor.
 * Returns the number of worker threads, which nocopy__drv_pool_join() must
 * join. */
unsigned nocopy__drv_pool_close(nc_drv_pool *p);
/* Joins the workers (waiting for the calls they are running) and frees the
 * pool's locks. After nocopy__drv_pool_close(). */
void nocopy__drv_pool_join(nc_drv_pool *p);

/* ---- a port's life (nc_drv_port.c) ---------------------------------------- */

/* The driver entry's start: a new port (an nc_drv_port) from the open_port
 * command "NAME_drv workers=4 ...", or an ERL_DRV_ERROR_* value. */
ErlDrvData nocopy__drv_port_start(ErlDrvPort port, char *command);
/* The driver entry's stop: cancels queued calls, drops the port's handles, and
 * frees it now or, when calls still run on its workers, through the janitor. */
void nocopy__drv_port_stop(ErlDrvData data);
/* The janitor thread: joins the workers of closed ports and frees them. */
int nocopy__drv_janitor_init(void);
/* Waits until every closed port is freed, then ends the janitor (unload). */
void nocopy__drv_janitor_finish(void);

/* ---- memory that outlives calls (nc_backend.h) ---------------------------- */

/* A result buffer: a driver binary of our own, so that it becomes the result
 * with ERL_DRV_BINARY and no copy. */
typedef struct nc_drv_buf {
    nocopy__buf base;
    ErlDrvBinary *bin;                      /* OWNED until made into a result */
} nc_drv_buf;

/* A KEPT binary: one refcount on `bin`; view may be anywhere inside it, or,
 * for a resource binary, outside its orig_bytes (see drv_slice_fits). */
typedef struct nc_drv_kept {
    nocopy_kept base;
    ErlDrvBinary *bin;                      /* KEPT */
} nc_drv_kept;


/* ---- result values (nc_drv_nodes.h, nc_drv_reply.c) ------------------------ */

/* A result is written as it is made, straight into the spec that
 * erl_drv_send_term takes: each nocopy_make_*() appends its value's entries
 * in postfix order to the call's spec buffer, and the value names its range
 * there (NC_DRV_RANGE: start and length, low bit set). Values are made
 * bottom-up, so a tuple or list whose elements are the last ranges, in order,
 * only appends its own entry and is a range too. Any other aggregate (an
 * element used twice or out of order, or an aggregate one) is an nc_drv_agg
 * in the arena that lists its elements, written out when the reply is sent:
 * nothing is copied while the result is made, so any shape costs time and
 * memory linear in its size. The reply's wrapping goes around a range in
 * place (nc_drv_reply.c). Requires a 64-bit nocopy_value. */
_Static_assert(sizeof(nocopy_value) >= 8, "the driver backend needs a 64-bit nocopy_value");

/* Entries kept free at the start of the buffer for the reply's head,
 * {nocopy_reply, Tag, {ok, ... (at most 7 entries: a reference tag is 3). */
#define NC_DRV_SPEC_HEAD 7

/* The buffer's first size, in entries: in the call itself (a reply of
 * this size never allocates), then twice as large each time in its arena. */
#define NC_DRV_SPEC_INLINE 48

#define NC_DRV_RANGE(start, len) \
    ((nocopy_value)(((uint64_t)(start) << 32) | ((uint64_t)(len) << 1) | 1u))

static inline int nc_drv_is_range(nocopy_value v)
{
    return (int)(v & 1u);
}

static inline size_t nc_drv_range_start(nocopy_value v)
{
    return (size_t)((uint64_t)v >> 32);
}

static inline size_t nc_drv_range_len(nocopy_value v)
{
    return (size_t)(((uint64_t)v & 0xffffffffu) >> 1);
}

/* A tuple or list whose elements are not in place (see above). */
typedef struct nc_drv_agg {
    int tuple;                              /* else a list */
    uint32_t depth;                         /* 1 + the deepest nc_drv_agg element */
    size_t spec;                            /* entries it expands to */
    size_t n;
    nocopy_value kids[];                    /* ranges or nc_drv_agg pointers */
} nc_drv_agg;

static inline size_t nc_drv_val_spec(nocopy_value v)
{
    return nc_drv_is_range(v) ? nc_drv_range_len(v) : ((const nc_drv_agg *)v)->spec;
}

static inline uint32_t nc_drv_val_depth(nocopy_value v)
{
    return nc_drv_is_range(v) ? 0 : ((const nc_drv_agg *)v)->depth;
}

/* A binary reference the call holds until the reply is sent (a result
 * buffer, a copy, an extra reference on a kept binary). In the arena. */
typedef struct nc_drv_owned {
    ErlDrvBinary *bin;                      /* OWNED: one reference */
    struct nc_drv_owned *next;
} nc_drv_owned;

/* The primitives that make results, the handle's references and the
 * table's insert are static inline in nc_backend.h. */

/* ---- calls --------------------------------------------------------------- */

typedef struct nc_drv_made {
    struct nc_drv_made *next;
    uint64_t id;
    nocopy__handle *h;
} nc_drv_made;

typedef struct nc_drv_call {
    nocopy_call base;                       /* first: the core casts to it */
    nc_drv_port *dp;
    ErlDrvTermData caller;                  /* driver_caller(), from outputv */
    nocopy__wreq req;
    nocopy__arena dec;                      /* the decoded request's nodes */
    size_t dec_bytes;                       /* asked of dec: the queue's cost */
    ErlDrvSInt64 tag_int;                   /* the spec points here */
    ErlDrvTermData *spec;                   /* the result's entries so far:
                                             * spec_inline or in base.arena */
    size_t spec_used, spec_cap;             /* entries written, room */
    ErlDrvTermData spec_inline[NC_DRV_SPEC_INLINE];
    nc_drv_owned *owned;                    /* binary refs the result holds */
    nc_drv_made *made;                      /* handles this call put in the table */
    ErlDrvBinary **keeps;                   /* queued calls: binv refs, in dec */
    size_t nkeeps;
    int heap;                               /* allocated by outputv, freed at end */
    int pinned;                             /* its handles are peeked, not
                                             * kept (resolve_handles) */
    struct nc_drv_call *next;               /* pool queue link */
} nc_drv_call;

#define DRV_CALL(c) ((nc_drv_call *)(c))

/* ---- spare calls (nc_drv_spare.c) ------------------------------------------ */

void nocopy__drv_spares_init(nc_drv_spares *s);
/* A heap call, a spare one if there is one, uninitialised; NULL: no memory.
 * On the scheduler thread holding the port lock only. */
nc_drv_call *nocopy__drv_call_new(nc_drv_port *dp);
/* Gives a heap call back: kept as a spare of call->dp, or freed. Any thread,
 * before the port is freed. */
void nocopy__drv_call_free(nc_drv_call *call);
/* Frees the spares, once no thread can give one back (port_free). */
void nocopy__drv_spares_free(nc_drv_spares *s);

/* ---- running a call (nc_drv_exec.c) --------------------------------------- */

/* Runs the wrapped function and gives back the handles the call borrowed and
 * looked up, before any reply goes out: a caller who has the reply finds a
 * handle closed during the call destroyed. Returns the call's status; then
 * nocopy__drv_send_outcome (or not, on a worker whose port's close answered
 * the call: nc_drv_pool.c) and nocopy__drv_call_release. Any thread. */
int nocopy__drv_call_run(nc_drv_call *call);
/* Runs the call, sends the reply, releases everything the call holds and
 * frees it if it was allocated. On the scheduler (outputv). */
void nocopy__drv_call_execute(nc_drv_call *call);
/* Releases everything without running (a cancelled call). Any thread. */
void nocopy__drv_call_discard(nc_drv_call *call);
/* Releases everything the call holds and frees it if it was allocated;
 * `committed`: its reply reached the caller, so the handles it put in the
 * table stay there. Any thread. */
void nocopy__drv_call_release(nc_drv_call *call, int committed);

/* Sends {nocopy_error, Tag, {'$nocopy_error', Reason, Cause}} (an integer tag;
 * {nocopy_reply, ...} for any other). Any thread. Cold, as every failure
 * path: the compiler keeps them out of the calls' hot code. */
int nocopy__drv_send_error(nc_drv_port *dp, ErlDrvTermData to, const nocopy__wreq *req,
                           ErlDrvSInt64 *tag_int, int status, unsigned argno,
                           const char *text) __attribute__((cold));
/* Sends {nocopy_error, Tag, {'$nocopy_error', badarg, {wrong_port, Name}}},
 * Name this driver's name: the request was made for another module. The
 * client turns it into an error about its port argument. Any thread. */
int nocopy__drv_send_wrong_port(nc_drv_port *dp, ErlDrvTermData to, const nocopy__wreq *req,
                                ErlDrvSInt64 *tag_int) __attribute__((cold));
/* Sends the call's outcome (result or recorded error). 1: delivered. */
int nocopy__drv_send_outcome(nc_drv_call *call, int status);
/* Frees the binary references the result holds. */
void nocopy__drv_release_owned(nc_drv_call *call);

#endif /* NC_DRV_H */
