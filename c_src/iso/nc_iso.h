/* nc_iso.h: shared between the child backend's files (c_src/iso/): the
 * process priv/NAME_iso that runs a module's wrapped functions for the
 * isolated backend. Each file uses only those below it in this list, the
 * core, wire/ and iso_shared/:
 *
 *   nc_iso_main.c    main: attaching the regions, the pool of threads that
 *                    read the channel and run the calls they read
 *   nc_iso_exec.c    one call: its segments, decoding, running, the REPLY
 *   nc_backend.h     the core's primitives (core/nc_prims.h) over decoded
 *                    request nodes; result nodes in the call's arena
 *   nc_iso_blocks.c  output blocks' references (one per owner, one per
 *                    handover to the VM), input keeps announced to the VM
 *   nc_iso_handle.c  the handle table (ids carry the incarnation)
 *   nc_iso_state.c   the process-wide state (nocopy__iso), data only
 *
 * The core compiled for this backend (core-iso) may use only the state file
 * (tools/check-layers.sh), so the few primitives that need more than data
 * (output blocks, input keeps, the handle table) reach it through the hooks
 * in nocopy__iso, set by main before any call runs.
 *
 * Threads: the pool threads (main among them) all read the channel, and
 * each runs the calls it reads and sends their replies
 * (a SOCK_SEQPACKET send is atomic, so no lock orders them); any thread may
 * release blocks. */
#ifndef NC_ISO_H
#define NC_ISO_H

#include <pthread.h>
#include <stdint.h>

#include "nc_internal.h"
#include "nc_iso_alloc.h"
#include "nc_iso_msg.h"
#include "nc_iso_region.h"
#include "nc_iso_slot.h"
#include "nc_iso_stamps.h"
#include "nc_wire.h"

/* ---- process-wide state ------------------------------------------------------ */

/* The hooks: what the inlined primitives need of the backend's files. */
typedef struct nc_iso_hooks {
    /* A new output block of `size` bytes holding one reference (the caller's).
     * NOCOPY_OK with *off set, or NOCOPY_ENOMEM. */
    int (*out_take)(size_t size, uint64_t *off);
    void (*out_ref)(uint64_t off);
    void (*out_unref)(uint64_t off);
    /* C keeps input block `block` beyond its call, or releases such a keep:
     * the VM is told, so that it keeps the block alive. */
    int (*in_keep)(uint64_t block);
    void (*in_release)(uint64_t block);
    /* Puts h in the table (taking the caller's reference); NOCOPY_OK with *id. */
    int (*handle_insert)(nocopy__handle *h, uint64_t *id);
} nc_iso_hooks;

/* Defined in nc_iso_state.c (data only); set up by main only, read-only
 * once the first call runs. */
typedef struct nc_iso_global {
    const nocopy_module *mod;
    uint32_t fingerprint;
    int natoms;                             /* module atoms */
    nocopy__wire_atom_name *names;                /* built-in (5) then module atoms */
    nocopy__iso_region in, out;             /* in: read-only here; out: ours */
    int chan;                               /* our end of the channel */
    nocopy__iso_region slots;               /* reply slots, shared read-write */
    uint64_t spin_ns;                       /* a pool thread's spin for the next CALL */
    uint32_t incarnation;                   /* given by the VM: in handle ids */
    nc_iso_hooks hooks;
} nc_iso_global;

extern nc_iso_global nocopy__iso;

/* ---- blocks (nc_iso_blocks.c) --------------------------------------------------- */

int nocopy__iso_blocks_init(void);
int nocopy__iso_out_take(size_t size, uint64_t *off);
void nocopy__iso_out_ref(uint64_t off);
void nocopy__iso_out_unref(uint64_t off);
/* One more reference on the block holding [off, off + len), whose offset
 * goes to *block. 0, or -1 when no live block holds the range. */
int nocopy__iso_out_ref_range(uint64_t off, uint64_t len, uint64_t *block);
int nocopy__iso_in_keep(uint64_t block);
/* Messages this thread sent with nocopy__iso_send (keeps, releases): a
 * REPLY may take the reply slot, which overtakes the channel, only if its
 * thread sent none during the call (a KEEP_IN must reach the VM before the
 * reply ends the call's loan of the block). */
extern _Thread_local unsigned long nocopy__iso_sent_here;
/* Whether the VM armed a reply slot for this thread's last reply: it went
 * into the slot (TAKEN), or the VM gave up waiting and it went on the
 * channel (GIVEN_UP). Either way the VM is calling with slots, so the
 * thread polls the call slot next (nc_iso_main.c), longer after GIVEN_UP;
 * while the VM backs off (no slot armed), no thread polls for nothing. */
enum { NC_ISO_HIT_NONE = 0, NC_ISO_HIT_TAKEN, NC_ISO_HIT_GIVEN_UP };
extern _Thread_local int nocopy__iso_slot_hit;
/* Whether this thread took the call slot's poller role before it wrote its
 * reply into a reply slot (nc_iso_exec.c): the VM, which may call again
 * the moment it has the reply, then finds a poller and posts its next CALL
 * while the thread still finishes the call (measured: taken after, the
 * role came too late for most calls under load, the CALL went on the
 * channel and woke another thread while this one polled for nothing). */
extern _Thread_local int nocopy__iso_poll_role;
#ifdef NC_ISO_STAMPS
/* This thread's stamps of its current call (nc_iso_stamps.h). */
extern _Thread_local uint64_t nocopy__iso_stamp[NC_ISO_STAMP_CHILD_N];
#define NC_ISO_CHILD_STAMP(k) (nocopy__iso_stamp[k] = nocopy__iso_now_ns())
#else
#define NC_ISO_CHILD_STAMP(k) ((void)0)
#endif
void nocopy__iso_in_release(uint64_t block);
/* Sends one message on the channel (blocking). NOCOPY_OK or a status. */
int nocopy__iso_send(uint32_t kind, uint64_t id, const void *body, size_t len);

/* ---- the module's atom names (nc_iso_names.c) ------------------------------------- */

/* Sets nocopy__iso.names and .natoms from the module's table.
 * @return : 0, or -1 when out of memory. */
int nocopy__iso_setup_names(const nocopy_module *m);

/* Sets nocopy__iso.hooks to this backend's functions (nc_iso_hooks.c). */
void nocopy__iso_install_hooks(void);

/* ---- handles (nc_iso_handle.c) ---------------------------------------------------- */

int nocopy__iso_handles_init(const nocopy_module *m);
int nocopy__iso_handle_insert(nocopy__handle *h, uint64_t *id);
/* The handle for id, KEPT for the call, or a closed tombstone of its type
 * (an id of a closed handle or of an earlier incarnation), or NULL. */
nocopy__handle *nocopy__iso_handle_lookup(uint64_t id);
int nocopy__iso_is_tombstone(const nocopy__handle *h);

/* ---- a call ------------------------------------------------------------------------ */

/* Which block owns a segment's bytes: what keep and slice need. */
typedef struct nc_iso_segref {
    int region;                             /* NC_ISO_SEG_* */
    uint64_t block;                         /* INPUT, OUTPUT: its offset */
} nc_iso_segref;

/* A kept binary: a keep announced to the VM (input), an output block
 * reference, or a private copy (inline bytes). */
typedef struct nc_iso_kept {
    nocopy_kept base;
    int region;                             /* NC_ISO_REGION_*, or -1: heap */
    uint64_t block;
    void *heap;                             /* OWNED when region is -1 */
} nc_iso_kept;

/* A result buffer: an output block of our own until made into a result. */
typedef struct nc_iso_buf {
    nocopy__buf base;
    uint64_t off;                           /* its block: one reference, ours */
    size_t cap;                             /* the block's usable bytes */
} nc_iso_buf;

enum {
    NC_IR_INT = 1, NC_IR_UINT, NC_IR_FLOAT, NC_IR_ATOM, NC_IR_TUPLE, NC_IR_LIST,
    NC_IR_BIN, NC_IR_COPY, NC_IR_HANDLE
};

/* A result term, built bottom-up in the call's arena (nocopy_value points to
 * one) and encoded once into the REPLY (nc_iso_exec.c). */
typedef struct nc_iso_node {
    uint8_t kind;
    union {
        int64_t i;
        uint64_t u;
        double f;
        int32_t atom;
        struct {
            size_t n;
            struct nc_iso_node **kids;
        } agg;
        struct {
            int region;                     /* NC_ISO_REGION_* */
            uint64_t block, off, len;       /* bytes of the block */
            int owned;                      /* holds a reference (released after
                                             * the reply is sent) */
        } bin;
        struct {
            const uint8_t *data;            /* in the call's arena */
            size_t len;
        } copy;
        uint64_t handle;
    } v;
    struct nc_iso_node *next_owned;
} nc_iso_node;

typedef struct nc_iso_call {
    nocopy_call base;                       /* first: the core casts to it */
    uint64_t id;                            /* the VM's call id */
    uint8_t *msg;                           /* the CALL message, BORROWED from the
                                             * caller of nocopy__iso_call_execute
                                             * (a pool thread's receive buffer);
                                             * hold_outputs rewrites its segments */
    size_t msg_len;
    nocopy__wreq req;
    nocopy__arena dec;                      /* decoded nodes, segments */
    nc_iso_node *owned;                     /* result nodes holding a reference */
    int ran;                                /* the function ran: the core's call to finish */
    int handles_ended;                      /* the handles' holds ended (nc_iso_exec.c) */
    unsigned long sent_at;                  /* nocopy__iso_sent_here when it started */
} nc_iso_call;

#define ISO_CALL(c) ((nc_iso_call *)(c))

/* ---- running a call (nc_iso_exec.c) ------------------------------------------------ */

/* Takes a reference on the block of each segment in the output region (a
 * result passed back in), marking a segment no live block holds. By the
 * thread that read the CALL, before the CALL is marked done, so before any
 * later RELEASE_OUT is applied (nc_iso_main.c): the VM sends
 * the CALL while the binary is alive, so its block is too. */
void nocopy__iso_call_hold_outputs(nc_iso_call *call);
/* Decodes, runs and answers a CALL, then ends everything the call holds
 * (blocks, handles, its arenas' blocks). The memory of call and call->msg
 * stays the caller's: a pool thread reuses both for its next call. */
void nocopy__iso_call_execute(nc_iso_call *call);

#endif /* NC_ISO_H */
