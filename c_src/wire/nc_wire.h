/* nc_wire.h: the request decoder, shared by the backends that receive requests
 * as bytes (the driver). Pure C: no runtime calls.
 *
 * A request reaches outputv as an I/O vector whose entries do not follow the
 * iolist the client built: the runtime merges every run of copied bytes (heap
 * binaries, integers, small refc binaries once the list is long) into one
 * entry, and gives each large binary an entry of its own. So the decoder reads
 * the request as one byte stream walked across the segments, and never assumes
 * one element per segment. Each segment carries an opaque reference to the
 * binary that owns its bytes (an ErlDrvBinary* in the driver, anything in the
 * fuzz target), which the backend later uses to keep or slice a binary.
 *
 * The format is documented in docs/wire-format.md (the one place); the encoder
 * is nocopy_wire (src/nocopy_wire.erl). The decoder treats every request as hostile:
 * every length and count is checked against the bytes that remain, the number
 * of terms is bounded, nesting is walked with an explicit stack (any depth,
 * no recursion), and any malformed request yields NOCOPY_EPROTO with a
 * one-line text.
 * It allocates only through the caller's allocator (the per-call arena), so a
 * failed decode leaks nothing once that allocator is reset. */
#ifndef NC_WIRE_H
#define NC_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "nocopy.h"          /* nocopy_bytes: an iodata node's pieces */

#define NC_WIRE_MAGIC0   'n'
#define NC_WIRE_MAGIC1   'c'
#define NC_WIRE_VERSION  5

/* "nc", version, module fingerprint, function index, argument count: the
 * fixed header. The kinds of the tag and of the arguments (argc + 1 bytes)
 * follow it. */
#define NC_WIRE_HEADER_BYTES 15

/* An atom has at most 255 characters of up to 4 UTF-8 bytes each. */
#define NC_WIRE_MAX_ATOM_BYTES 1020

/* A reference tag is term_to_binary(make_ref()): 36 bytes on a node named
 * nonode@nohost; a node name has at most 255 characters. */
#define NC_WIRE_MAX_TAG_EXT 1100

/* A request may hold at most this many terms (1 Mi: a list of 512 Ki
 * integers; bigger data belongs in a binary). Every term a tuple or list
 * cell declares is charged against it before anything is allocated for it. */
#define NC_WIRE_MAX_TERMS ((size_t)1 << 20)

/* Memory bounds, for a request of n bytes (asserted by fuzz_drv_request and
 * test/c/test_drv_wire.c). The decoded tree, which lives as long as the call,
 * takes at most NC_WIRE_TREE_BYTES_PER_BYTE * n + NC_WIRE_TREE_BYTES_EXTRA
 * bytes of the caller's allocator: a term costs a 32-byte node and, as a tuple
 * element or argument, an 8-byte slot, both made when the term is declared,
 * and every term declared takes at least one byte of the request; an iodata
 * term of len bytes takes room for at most len pieces (fewer when fewer
 * segments are left), 24 bytes each (a view and its binary reference), and
 * those len bytes are not kept for a declared term. While it runs, the
 * decoder's explicit stack adds at most
 * NC_WIRE_STACK_BYTES_PER_BYTE * n bytes of malloc'd memory, freed before it
 * returns: a 16-byte frame per open tuple or list cell with terms still to
 * come, which is at most one frame per two bytes, doubled for growth. */
#define NC_WIRE_TREE_BYTES_PER_BYTE  40
#define NC_WIRE_TREE_BYTES_EXTRA     64
#define NC_WIRE_STACK_BYTES_PER_BYTE 16

#define NC_WIRE_ERR_MAX 120

/* One contiguous piece of the request. `base` and `binref` are BORROWED from
 * the ErlIOVec (or the fuzz input); binref may be NULL. */
typedef struct nocopy__wire_segment {
    const uint8_t *base;
    size_t len;
    void *binref;
} nocopy__wire_segment;

typedef enum nocopy__wkind {
    NC_W_INT = 1,          /* integer in [-2^63, 2^63): v.i */
    NC_W_UINT,             /* integer in [2^63, 2^64): v.u */
    NC_W_BIGINT,           /* any other integer; the value is not sent */
    NC_W_FLOAT,            /* v.f */
    NC_W_ATOM,             /* v.bytes: the UTF-8 text */
    NC_W_BINARY,           /* v.bytes: the payload, where it lies in the request */
    NC_W_BITSTRING,        /* a bitstring with trailing bits; not sent */
    NC_W_TUPLE,            /* arity, v.elems */
    NC_W_CONS,             /* v.cell[0] head, v.cell[1] tail */
    NC_W_NIL,
    NC_W_HANDLE,           /* a handle of the port the request came to: v.handle */
    NC_W_FOREIGN_HANDLE,   /* a driver handle of some other port */
    NC_W_OTHER,            /* pid, port, reference, map, fun, NIF resource */
    NC_W_IODATA            /* the bytes of an I/O list, as they lie in the
                            * request: v.iov (no pieces: an empty list) */
} nocopy__wkind;

/* A decoded term. Node pointers cast to uintptr_t are the driver backend's
 * term words (nocopy_term.raw). All nodes live in the caller's allocator. */
typedef struct nocopy__wire_node {
    uint8_t kind;                         /* nocopy__wkind */
    uint32_t arity;                       /* NC_W_TUPLE */
    union {
        int64_t i;
        uint64_t u;
        double f;
        struct {
            const uint8_t *data;          /* BORROWED from the request */
            size_t len;
            void *binref;                 /* the owning segment's binref */
        } bytes;
        uintptr_t *elems;
        uintptr_t cell[2];
        struct {
            uint64_t id;
            void *obj;                    /* set by the backend's lookup */
            struct nocopy__wire_node *next;   /* chain of the request's handles */
        } handle;
        struct {
            /* count views, BORROWED from the request, each a non-empty run of
             * one segment, in order, followed in the same allocation by
             * their owners (nocopy__wire_iov_binref). */
            nocopy_bytes *pieces;
            size_t count;
            size_t total;                 /* sum of the pieces' sizes */
        } iov;
    } v;
} nocopy__wire_node;

/* The owner (segment binref) of piece i of an iodata node. The owners follow
 * the pieces, last piece's first: so pieces + 1 with count - 1 is the rest of
 * the list, owners included, without a copy (a list cell's tail). */
static inline void *nocopy__wire_iov_binref(const nocopy__wire_node *n, size_t i)
{
    void *const *owners = (void *const *)(n->v.iov.pieces + n->v.iov.count);
    return owners[n->v.iov.count - 1 - i];
}

/* An atom's text, as a backend that reads atoms as text (nc_wire_read.h)
 * keeps its names: name is NUL-terminated, len its length. */
typedef struct nocopy__wire_atom_name {
    const char *name;
    size_t len;
} nocopy__wire_atom_name;

#define NC_WTAG_NONE 0     /* not read: the request was garbage before it */
#define NC_WTAG_INT  1
#define NC_WTAG_REF  2

typedef struct nocopy__wreq {
    uint32_t module;                      /* the fingerprint of the module the
                                           * client expects the port to run */
    uint32_t func;
    uint32_t argc;
    int tag_kind;
    int64_t tag_int;
    const uint8_t *tag_ext;               /* validated reference, in the allocator */
    size_t tag_ext_len;
    uintptr_t *argv;                      /* argc node pointers */
    uint64_t binary_bytes;                /* sum of all binary and iodata
                                           * payload sizes */
    size_t nodes;
    size_t tree_bytes;                    /* asked of the allocator */
    size_t stack_bytes;                   /* the explicit stack's peak, beyond the
                                           * frames on the C stack */
    nocopy__wire_node *handles;               /* NC_W_HANDLE nodes, newest first */
    size_t err_offset;                    /* stream offset of the error */
    char err[NC_WIRE_ERR_MAX];            /* set when decoding fails */
} nocopy__wreq;

/* Returns memory aligned for any type, or NULL. Never freed one by one. */
typedef void *(*nocopy__walloc_fn)(void *ctx, size_t size);

/* Where decoding stands in the request's byte stream. Private to the decoder;
 * a backend only carries it from one step to the next. */
typedef struct nocopy__wreader {
    const nocopy__wire_segment *segs;
    size_t nsegs;
    size_t si;                            /* current segment (nsegs: none) */
    const uint8_t *p, *end;               /* its unread bytes: the one place a
                                           * read of a field moves */
    size_t rest;                          /* bytes of the segments after si */
    size_t total;                         /* bytes of the whole request */
    /* The top-level terms' kind bytes (the tag's, then the arguments'), read
     * one per term as its body is read: the unread ones of segment ksi. */
    const uint8_t *kp, *kend;
    size_t ksi;
} nocopy__wreader;

/* A request is decoded in three steps, so that a backend can decide where the
 * call lives, or refuse it, from the fixed header alone, before anything is
 * allocated, and decode the rest once, into that place:
 *
 * nocopy__wire_begin() reads the fixed header (magic, version, module, func,
 * argc) of segs[0..nsegs-1] and finds the kinds after it (empty segments
 * allowed; the segments stay BORROWED by *r and the decoded tree).
 * @return : NOCOPY_OK, or NOCOPY_EPROTO with req->err set. */
int nocopy__wire_begin(nocopy__wreader *r, const nocopy__wire_segment *segs, size_t nsegs,
                       nocopy__wreq *req);

/* nocopy__wire_begin() for segments the caller vouches for: `total` is the sum
 * of their lengths, which fits in a size_t, and each non-empty one has a base
 * (the driver: an ErlIOVec from the runtime, whose size is the total). Saves
 * a pass over the segments. */
int nocopy__wire_begin_sized(nocopy__wreader *r, const nocopy__wire_segment *segs,
                             size_t nsegs, size_t total, nocopy__wreq *req);

/* Reads the request tag, after nocopy__wire_begin() (which may have read an
 * integer tag already: then this returns NOCOPY_OK at once).
 * @return : NOCOPY_OK, NOCOPY_EPROTO (req->err set) or NOCOPY_ENOMEM. */
int nocopy__wire_read_tag(nocopy__wreader *r, nocopy__walloc_fn alloc, void *actx,
                          nocopy__wreq *req);

/* Reads the argc arguments, after nocopy__wire_read_tag(), into nodes in the
 * allocator, within the memory bounds above.
 * @return : NOCOPY_OK with req->argv set, NOCOPY_EPROTO (req->err set) or
 *           NOCOPY_ENOMEM. */
int nocopy__wire_read_args(nocopy__wreader *r, nocopy__walloc_fn alloc, void *actx,
                           nocopy__wreq *req);

/* The three steps in one, for tests and the fuzz target.
 * @return : NOCOPY_OK with *req filled, NOCOPY_EPROTO with req->err set (and the
 *           tag fields set if the tag could be read, so the error can be
 *           addressed to the request), or NOCOPY_ENOMEM. */
int nocopy__wire_decode(const nocopy__wire_segment *segs, size_t nsegs,
                        nocopy__walloc_fn alloc, void *actx, nocopy__wreq *req);

/* The three steps in one pass, for a request of the stubs' common shape:
 * the fixed header, the kinds and an integer tag in the first entry with
 * bytes, at most max_args arguments, each an integer, handle or finite float
 * whose value lies in that entry too, the last possibly a binary or iodata to
 * the end ("B", "V"). The arguments' nodes are written to nodes[0..argc-1]
 * and their words to argv[0..argc-1] (the caller's, max_args of each, which
 * must live as long as the decoded request); only an iodata argument's pieces
 * come from the allocator. Checks what nocopy__wire_decode() checks of such a
 * request, and fills *req as it would (but tree_bytes counts the pieces only).
 * @return : NOCOPY_OK, or NC_WIRE_NOT_FLAT: another shape, a malformed
 *           request or no memory; nothing is reported, the request is to be
 *           decoded from the start by the three steps, which say what is
 *           wrong. (What the allocator gave stays the caller's to reset.) */
#define NC_WIRE_NOT_FLAT 1
int nocopy__wire_decode_flat(const nocopy__wire_segment *segs, size_t nsegs, size_t total,
                             nocopy__wreq *req, uintptr_t *argv, nocopy__wire_node *nodes,
                             uint32_t max_args, nocopy__walloc_fn alloc, void *actx);

/* Whether ext[0..len-1] is exactly one reference in the external term format
 * (what term_to_binary(make_ref()) returns). Only such tags are accepted: the
 * backend hands the bytes to the runtime's decoder (ERL_DRV_EXT2TERM). */
int nocopy__wire_is_ref_ext(const uint8_t *ext, size_t len);

#endif /* NC_WIRE_H */
