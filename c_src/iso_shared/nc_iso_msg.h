/* nc_iso_msg.h: the messages of the isolated backend's channel, laid out
 * once for both sides (the host NIF, c_src/iso_host/, and the child,
 * c_src/iso/). Pure C, no runtime header.
 *
 * Every message starts with nocopy__iso_hdr; fields are native-endian and
 * fixed-width (both processes run on the same machine, from the same build).
 * A receiver copies fields out with memcpy after checking the message's
 * length, never casts the buffer: the VM treats every byte from the child as
 * hostile (docs/design.md, "Who trusts whom").
 *
 *   VM -> child
 *     CALL         id = call id; body: nocopy__iso_call_body, nsegs segment
 *                  descriptors, then the inline bytes. Each segment is bytes of
 *                  the request: in the input region (off, len, inside the
 *                  block that starts at `block`), or in the message's inline
 *                  bytes (off from their start, len), or in the output
 *                  region (off, len; a result passed back in).
 *     RELEASE_OUT  id = an output block's offset: Erlang dropped one binary
 *                  made from it (one per handover).
 *     NUDGE        id = 0: a CALL posted in the call slot (nc_iso_slot.h)
 *                  was not taken within NC_ISO_NUDGE_NS (its poller is not
 *                  running): the thread that reads this takes it.
 *   child -> VM
 *     HELLO        id = 0; body: nocopy__iso_hello (what the child mapped;
 *                  for tests and diagnostics only, never used as an address).
 *     REPLY        id = call id; body: the outcome, encoded as below.
 *     KEEP_IN      id = an input block's offset: C keeps it beyond the call.
 *     RELEASE_IN   id = an input block's offset: C released one keep.
 *     DYING        id = how << 32 | code (NC_ISO_EXIT_CODE or _SIGNAL of
 *                  nc_iso_proc.h, and the status or signal): how the child
 *                  is ending, sent by its exit handler or fatal signal's
 *                  handler, because a VM that ignores SIGCHLD (the BEAM
 *                  does) gets no status from waitid. It only words an error
 *                  message: the VM believes it no further.
 *
 * REPLY body: one byte NC_ISO_OUT_OK then one term, or NC_ISO_OUT_ERROR then
 * uint32 reason index, uint32 argno (0: general), uint16 text length and the
 * text; or NC_ISO_OUT_SPILLED then uint64 block, uint64 length: the body
 * (NC_ISO_OUT_OK and its term) did not fit in a message and lies in that
 * output block, handed over to the VM, which releases it once decoded
 * (at most NC_ISO_MAX_REPLY bytes). A term is a
 * tag byte and its fields:
 *   'i' int64 | 'u' uint64 | 'f' double | 'a' int32 atom (nocopy_atom: a
 *   negative built-in, or an index in the module's atoms)
 *   'T' uint32 arity, then the elements | 'L' uint32 length, then the elements
 *   (a proper list) | 'b' uint32 length, then the bytes (a copy)
 *   'B' uint8 region, uint64 block offset, uint64 offset in the block,
 *   uint64 length: bytes of a region block, by reference
 *   'h' uint64 handle id. */
#ifndef NC_ISO_MSG_H
#define NC_ISO_MSG_H

#include <stdint.h>

#include "nc_iso_limits.h"

enum {
    NC_ISO_MSG_CALL = 1,
    NC_ISO_MSG_RELEASE_OUT,
    NC_ISO_MSG_HELLO,
    NC_ISO_MSG_REPLY,
    NC_ISO_MSG_KEEP_IN,
    NC_ISO_MSG_RELEASE_IN,
    NC_ISO_MSG_DYING,
    NC_ISO_MSG_NUDGE
};

typedef struct nocopy__iso_hdr {
    uint32_t kind;
    uint32_t seq;           /* VM -> child: the message's number, 0, 1, 2, ...
                             * (mod 2^32) in the order sent on the channel,
                             * so that the child's threads, which read it in
                             * parallel, can apply a RELEASE_OUT only after
                             * every earlier CALL has held its blocks
                             * (nc_iso_main.c). child -> VM: zero. */
    uint64_t id;
} nocopy__iso_hdr;

typedef struct nocopy__iso_hello {
    uint64_t input_base, output_base;   /* the child's mappings */
} nocopy__iso_hello;

typedef struct nocopy__iso_call_body {
    uint32_t nsegs;
    uint32_t inline_bytes;
} nocopy__iso_call_body;

#define NC_ISO_SEG_INLINE 0
#define NC_ISO_SEG_INPUT  1
#define NC_ISO_SEG_OUTPUT 2     /* bytes of a result passed back in: the child
                                 * finds the block (the VM does not know it)
                                 * and holds it for the call */
#define NC_ISO_SEG_BAD    3     /* the child's mark: an OUTPUT segment no live
                                 * block holds */

typedef struct nocopy__iso_seg {
    uint32_t where;         /* NC_ISO_SEG_* */
    uint32_t pad;
    uint64_t block;         /* NC_ISO_SEG_INPUT: the offset of the block that
                             * holds the bytes (what a keep names); OUTPUT:
                             * set by the child */
    uint64_t off, len;
} nocopy__iso_seg;

/* At most this many segments in a CALL: the table must leave room for the
 * inline bytes. A request whose small pieces do not fit inline is gathered
 * by the VM into one input block (its arena pieces stay where they are). */
#define NC_ISO_MAX_SEGS 1000
/* A piece of the request of at most this many bytes (not already in the
 * input region) travels inline; a longer one is copied once into the input
 * region. */
#define NC_ISO_INLINE_PIECE 1024
/* The inline bytes of one CALL, at most. */
#define NC_ISO_INLINE_MAX (32u << 10)

#define NC_ISO_OUT_OK      0
#define NC_ISO_OUT_ERROR   1
#define NC_ISO_OUT_SPILLED 2

/* The longest encoded result (a spilled REPLY's body). */
#define NC_ISO_MAX_REPLY ((size_t)256 << 20)

/* A binary result of at most this many bytes travels inline in the REPLY
 * ('b'): the runtime would copy it into a heap binary anyway. */
#define NC_ISO_INLINE_RESULT 64

#endif /* NC_ISO_MSG_H */
