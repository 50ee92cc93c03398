/* nc_wire.c: decodes one request (docs/wire-format.md) into a node
 * tree. Pure C so that the fuzz target links it without the runtime.
 *
 * The request is a byte stream spread over segments whose boundaries carry no
 * meaning (see nc_wire.h). Fixed-size fields (tags, integers, lengths) are
 * gathered across boundaries; variable-size payloads (a binary's bytes, an
 * atom's text) must lie inside one segment, because C gets them as one
 * pointer. The Erlang encoder always makes that true: a binary is one iolist
 * element, which the runtime either references as one segment or copies whole
 * into its merged copy buffer. A payload that straddles segments is therefore
 * a hostile or corrupt request and is refused, never copied. */
#include "nc_wire.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Frames of the explicit stack kept on the C stack; deeper terms (a left-nested
 * iolist [[[A, B], C], D] goes one level deeper per element) grow it with
 * realloc, freed before the decoder returns. There is no depth limit of its
 * own: a frame stands for an open tuple or list cell with terms still to come,
 * and those terms were charged against the bytes left when it was opened. */
#define FRAMES_INLINE 64

typedef nocopy__wreader cursor;

typedef struct frame {
    uintptr_t *slot;       /* next slot to fill */
    uint32_t left;         /* slots still to fill */
} frame;

static const uint8_t empty_payload[1];

/* The cursor keeps the current segment's unread bytes as [p, end), so that
 * reading a field in it moves p only; what is left and where it stands are
 * computed when asked (bounds checks, error offsets). */
static inline size_t in_seg(const cursor *c)
{
    return (size_t)(c->end - c->p);
}

static inline size_t cur_left(const cursor *c)
{
    return in_seg(c) + c->rest;
}

static inline size_t cur_pos(const cursor *c)
{
    return c->total - cur_left(c);
}

/* Makes segment si the current one (si == nsegs: past the end). */
static inline void enter(cursor *c, size_t si)
{
    c->si = si;
    if (si < c->nsegs && c->segs[si].len > 0) {
        c->p = c->segs[si].base;
        c->end = c->p + c->segs[si].len;
        c->rest -= c->segs[si].len;
    } else {
        c->p = c->end = empty_payload;    /* an empty segment may have no base */
    }
}

/* Failures are cold: the compiler moves the paths that lead to them out of
 * the decoder's hot code, which is a fair part of a short call's instruction
 * cache footprint. */
__attribute__((cold)) static int fail_at(nocopy__wreq *req, size_t pos, const char *fmt,
                                        va_list ap)
{
    int n = snprintf(req->err, sizeof req->err, "malformed request at byte %zu: ", pos);
    if (n > 0 && (size_t)n < sizeof req->err)
        vsnprintf(req->err + n, sizeof req->err - (size_t)n, fmt, ap);
    req->err_offset = pos;
    return NOCOPY_EPROTO;
}

static int fail(nocopy__wreq *req, const cursor *c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), cold));

static int fail(nocopy__wreq *req, const cursor *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = fail_at(req, cur_pos(c), fmt, ap);
    va_end(ap);
    return r;
}

/* For the header: its errors are about byte 0. */
static int fail_header(nocopy__wreq *req, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), cold));

static int fail_header(nocopy__wreq *req, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = fail_at(req, 0, fmt, ap);
    va_end(ap);
    return r;
}

static inline void skip_empty(cursor *c)
{
    while (c->p == c->end && c->si < c->nsegs)
        enter(c, c->si + 1);
}

/* Copies the next n bytes to dst (or only passes them, dst NULL), across
 * segment boundaries. 0: not enough. */
static int take_slow(cursor *c, void *dst, size_t n)
{
    uint8_t *d = dst;
    if (n > cur_left(c))
        return 0;
    while (n > 0) {
        skip_empty(c);
        size_t k = in_seg(c);
        if (k > n)
            k = n;
        if (d) {
            memcpy(d, c->p, k);
            d += k;
        }
        n -= k;
        c->p += k;
    }
    return 1;
}

/* The next top-level term's kind byte (the tag's, then each argument's).
 * nocopy__wire_begin() found argc + 1 of them in the request, and each
 * top-level term reads exactly one, so there always is one; they may lie in
 * several segments. */
static inline uint8_t next_kind(cursor *c)
{
    while (c->kp == c->kend) {
        const nocopy__wire_segment *s = &c->segs[++c->ksi];
        if (s->len > 0) {
            c->kp = s->base;
            c->kend = s->base + s->len;
        }
    }
    return *c->kp++;
}

/* The common case first: the bytes are all in the current segment (the header
 * and small terms are one run of copied bytes). */
static inline int take(cursor *c, void *dst, size_t n)
{
    if (in_seg(c) >= n) {
        memcpy(dst, c->p, n);
        c->p += n;
        return 1;
    }
    return take_slow(c, dst, n);
}

/* Points at the next n bytes without copying. 0: not enough bytes; -1: they
 * straddle a segment boundary. */
static int view(cursor *c, size_t n, const uint8_t **data, void **binref)
{
    if (n > cur_left(c))
        return 0;
    if (n == 0) {
        *data = empty_payload;    /* a valid pointer even for <<>> */
        *binref = NULL;
        return 1;
    }
    skip_empty(c);
    if (n > in_seg(c))
        return -1;
    *data = c->p;
    *binref = c->segs[c->si].binref;
    c->p += n;
    return 1;
}

static inline uint64_t be(const uint8_t *b, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v = (v << 8) | b[i];
    return v;
}

/* A whole big-endian field that lies in one segment, read with one load and
 * a byte swap rather than a byte at a time (every term has one; this is the
 * decoder's inner loop). n is a constant at every call site. */
static inline uint64_t load_be(const uint8_t *b, unsigned n)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t v8;
    uint32_t v4;
    uint16_t v2;
    switch (n) {
    case 8:
        memcpy(&v8, b, 8);
        return __builtin_bswap64(v8);
    case 4:
        memcpy(&v4, b, 4);
        return __builtin_bswap32(v4);
    case 2:
        memcpy(&v2, b, 2);
        return __builtin_bswap16(v2);
    default:
        break;
    }
#endif
    return be(b, n);
}

/* Two's complement without relying on implementation-defined conversion. */
static int64_t to_i64(uint64_t u)
{
    return u <= (uint64_t)INT64_MAX ? (int64_t)u : -(int64_t)(~u) - 1;
}

static inline int take_be(cursor *c, unsigned n, uint64_t *out)
{
    uint8_t b[8];
    if (in_seg(c) >= n) {
        *out = load_be(c->p, n);
        c->p += n;
        return 1;
    }
    if (!take_slow(c, b, n))
        return 0;
    *out = be(b, n);
    return 1;
}

int nocopy__wire_is_ref_ext(const uint8_t *p, size_t len)
{
    /* 131, NEWER_REFERENCE_EXT (90), Len:16 (1..5 words), the node as an atom,
     * Creation:32, Len words of ID. Exactly that, nothing after. */
    size_t i = 4, alen;
    if (len < 4 || p[0] != 131 || p[1] != 90)
        return 0;
    size_t words = (size_t)be(p + 2, 2);
    if (words < 1 || words > 5)
        return 0;
    if (i >= len)
        return 0;
    switch (p[i]) {
    case 100:   /* ATOM_EXT, latin-1, Len:16 */
    case 118:   /* ATOM_UTF8_EXT, Len:16 */
        if (len - i < 3)
            return 0;
        alen = (size_t)be(p + i + 1, 2);
        i += 3;
        break;
    case 115:   /* SMALL_ATOM_EXT, Len:8 */
    case 119:   /* SMALL_ATOM_UTF8_EXT, Len:8 */
        if (len - i < 2)
            return 0;
        alen = p[i + 1];
        i += 2;
        break;
    default:
        return 0;
    }
    if (alen > NC_WIRE_MAX_ATOM_BYTES || alen > len - i)
        return 0;
    i += alen;
    return len - i == 4 + 4 * words;
}

/* The allocator, counting what it is asked for (the tree's memory). */
static void *tree_alloc(nocopy__walloc_fn alloc, void *actx, nocopy__wreq *req, size_t size)
{
    req->tree_bytes += size;
    return alloc(actx, size);
}

int nocopy__wire_read_tag(cursor *c, nocopy__walloc_fn alloc, void *actx, nocopy__wreq *req)
{
    uint8_t kind;
    uint64_t v;
    if (req->tag_kind != NC_WTAG_NONE)
        return NOCOPY_OK;              /* read with the header */
    kind = next_kind(c);
    switch (kind) {
    case 'i':
        if (!take_be(c, 8, &v))
            return fail(req, c, "truncated integer request tag");
        req->tag_int = to_i64(v);
        req->tag_kind = NC_WTAG_INT;
        return NOCOPY_OK;
    case 'r': {
        if (!take_be(c, 2, &v))
            return fail(req, c, "truncated reference request tag");
        if (v > NC_WIRE_MAX_TAG_EXT || v > cur_left(c))
            return fail(req, c, "reference tag of %u bytes", (unsigned)v);
        /* Copied: the tag must be contiguous for ERL_DRV_EXT2TERM and must
         * outlive the ErlIOVec when the call is queued. */
        uint8_t *ext = tree_alloc(alloc, actx, req, (size_t)v ? (size_t)v : 1);
        if (!ext)
            return NOCOPY_ENOMEM;
        take(c, ext, (size_t)v);
        if (!nocopy__wire_is_ref_ext(ext, (size_t)v))
            return fail(req, c, "request tag is not an encoded reference");
        req->tag_ext = ext;
        req->tag_ext_len = (size_t)v;
        req->tag_kind = NC_WTAG_REF;
        return NOCOPY_OK;
    }
    default:
        return fail(req, c, "unknown request tag kind 0x%02x", kind);
    }
}

/* The state of one decode of the arguments. `pending` counts the terms that
 * open tuples and list cells have declared but that are not decoded yet:
 * each will take at least one byte (its kind), so declaring more than the
 * bytes left is refused before anything is allocated for them, and so is
 * declaring more than NC_WIRE_MAX_TERMS in all. That keeps memory and time
 * linear in the request however the arities lie. The arguments not yet
 * begun (`args_left`) count against the budget too; their bytes, the kinds,
 * were found by nocopy__wire_begin(). */
typedef struct decoder {
    cursor *c;
    nocopy__walloc_fn alloc;
    void *actx;
    nocopy__wreq *req;
    frame *stack;
    size_t sp, cap;
    size_t pending;
    size_t args_left;
} decoder;

/* Charges `count` declared terms (of a `what`) against the bytes left and
 * the term budget. */
static int declare(decoder *d, size_t count, const char *what)
{
    cursor *c = d->c;
    size_t left = cur_left(c);
    if (count > left || d->pending > left - count)
        return fail(d->req, c, "%s of %zu terms but only %zu bytes left for them and %zu "
                               "other terms", what, count, left, d->pending);
    if (count > NC_WIRE_MAX_TERMS - d->req->nodes - d->pending - d->args_left)
        return fail(d->req, c, "more than %zu terms", NC_WIRE_MAX_TERMS);
    d->pending += count;
    return NOCOPY_OK;
}

/* The slots of `count` declared terms and their nodes, in one allocation,
 * each slot already pointing at its node, which is filled when its term is
 * read: one call of the allocator per tuple or list cell, not per term. The
 * declaration has charged the terms against the bytes left. */
static uintptr_t *alloc_slots(decoder *d, size_t count)
{
    uintptr_t *slots = tree_alloc(d->alloc, d->actx, d->req,
                                  count * (sizeof *slots + sizeof(nocopy__wire_node)));
    if (!slots)
        return NULL;
    nocopy__wire_node *nodes = (nocopy__wire_node *)(slots + count);
    for (size_t i = 0; i < count; i++)
        slots[i] = (uintptr_t)&nodes[i];
    return slots;
}

/* Opens a frame of `count` slots (already declared). */
static int push_frame(decoder *d, uintptr_t *slots, uint32_t count)
{
    if (d->sp == d->cap) {
        /* Deeper than ever: a bigger stack, outside the tree's memory. */
        size_t cap = d->cap * 2;
        frame *bigger = d->cap == FRAMES_INLINE ? malloc(cap * sizeof *bigger)
                                                : realloc(d->stack, cap * sizeof *bigger);
        if (!bigger)
            return NOCOPY_ENOMEM;
        if (d->cap == FRAMES_INLINE)
            memcpy(bigger, d->stack, d->sp * sizeof *bigger);
        d->stack = bigger;
        d->cap = cap;
        if (cap * sizeof *bigger > d->req->stack_bytes)
            d->req->stack_bytes = cap * sizeof *bigger;
    }
    d->stack[d->sp++] = (frame){slots, count};
    return NOCOPY_OK;
}

/* An iodata term: the next len bytes, wherever the runtime put them. Unlike a
 * binary's, they may span segments (the I/O list's pieces are its own iolist
 * elements, which the runtime references or merges into its copy buffer as
 * it likes): each segment's share becomes one piece, a view into it with its
 * owner. One pass over the segments, by index (a list of 64 binaries is 64
 * segments), into room for as many pieces as there can be: no more than the
 * segments left, nor than len (each piece is a byte at least), so within the
 * tree's bound. The owners are written from the end of that room and moved
 * to follow the pieces once they are counted; the cursor moves once, to the
 * end of the last piece. */
static int read_iodata(decoder *d, nocopy__wire_node *n, size_t len)
{
    cursor *c = d->c;
    const nocopy__wire_segment *segs = c->segs;
    size_t here = in_seg(c);
    n->kind = NC_W_IODATA;
    n->v.iov.pieces = NULL;
    n->v.iov.count = 0;
    n->v.iov.total = len;
    if (len == 0)
        return NOCOPY_OK;
    /* len <= the bytes left (checked by the caller): so c->si < nsegs, and
     * the loop below stays in range. */
    size_t room = c->nsegs - c->si;
    if (room > len)
        room = len;
    size_t each = sizeof(nocopy_bytes) + sizeof(void *);
    nocopy_bytes *pieces = tree_alloc(d->alloc, d->actx, d->req, room * each);
    if (!pieces)
        return NOCOPY_ENOMEM;
    void **owners_end = (void **)(pieces + room) + room;
    size_t k = 0, need = len;
    if (here > 0) {
        size_t take = here < need ? here : need;
        pieces[0].data = c->p;
        pieces[0].size = take;
        owners_end[-1] = segs[c->si].binref;
        c->p += take;
        need -= take;
        k = 1;
    }
    if (need > 0) {
        size_t passed = 0, take = 0, si = c->si;
        while (need > 0) {
            size_t l = segs[++si].len;
            passed += l;
            if (l == 0)
                continue;
            take = l < need ? l : need;
            pieces[k].data = segs[si].base;
            pieces[k].size = take;
            owners_end[-1 - (ptrdiff_t)k] = segs[si].binref;
            k++;
            need -= take;
        }
        /* The cursor as enter(c, si) and a read of `take` bytes leave it. */
        c->si = si;
        c->p = segs[si].base + take;
        c->end = segs[si].base + segs[si].len;
        c->rest -= passed;
    }
    /* nocopy__wire_iov_binref: the owners right after the count pieces,
     * last piece's first. They move down (to byte 16k from byte 24room - 8k,
     * k <= room), so a forward copy is safe: in line when short (one piece
     * is the common case), memmove's when long. */
    void **to = (void **)(pieces + k), **from = owners_end - k;
    if (k > 8)
        memmove(to, from, k * sizeof *to);
    else if (to != from)
        for (size_t i = 0; i < k; i++)
            to[i] = from[i];
    n->v.iov.pieces = pieces;
    n->v.iov.count = k;
    d->req->binary_bytes = d->req->binary_bytes + len < len ? UINT64_MAX
                                                            : d->req->binary_bytes + len;
    return NOCOPY_OK;
}

/* Decodes one term's node (its children are filled later, from the stack). */
/* Reads the body of a term of kind t into n. */
static int read_node(decoder *d, nocopy__wire_node *n, uint8_t t)
{
    cursor *c = d->c;
    nocopy__wreq *req = d->req;
    uint64_t v;
    int r;
    switch (t) {
    case 'i':
        if (!take_be(c, 8, &v))
            return fail(req, c, "truncated integer");
        n->kind = NC_W_INT;
        n->v.i = to_i64(v);
        return NOCOPY_OK;
    case 'j':
        if (!take_be(c, 4, &v))
            return fail(req, c, "truncated integer");
        n->kind = NC_W_INT;
        n->v.i = (int32_t)(uint32_t)v;
        return NOCOPY_OK;
    case 'u':
        if (!take_be(c, 8, &v))
            return fail(req, c, "truncated integer");
        /* Accept a non-canonical small value, but store it canonically so
         * that readers need to look at one form only. */
        if (v <= (uint64_t)INT64_MAX) {
            n->kind = NC_W_INT;
            n->v.i = (int64_t)v;
        } else {
            n->kind = NC_W_UINT;
            n->v.u = v;
        }
        return NOCOPY_OK;
    case 'I':
        n->kind = NC_W_BIGINT;
        return NOCOPY_OK;
    case 'f': {
        double f;
        if (!take_be(c, 8, &v))
            return fail(req, c, "truncated float");
        memcpy(&f, &v, sizeof f);
        /* Erlang has no NaN or infinity; passing one on would let C hand
         * the runtime a float term it cannot represent. */
        if (!isfinite(f))
            return fail(req, c, "float is not finite");
        n->kind = NC_W_FLOAT;
        n->v.f = f;
        return NOCOPY_OK;
    }
    case 'a':
    case 'b':
    case 'B':
        if (t == 'B') {
            /* A binary that runs to the end of the request: the last term,
             * its length the bytes left (the driver stubs send their last
             * binary argument so: no length field to build). */
            if (d->pending + d->args_left != 0)
                return fail(req, c, "binary to the end of the request before %zu more terms",
                            d->pending + d->args_left);
            v = cur_left(c);
        } else if (!take_be(c, t == 'a' ? 2 : 8, &v)) {
            return fail(req, c, "truncated %s length", t == 'a' ? "atom" : "binary");
        }
        if (t == 'a' && v > NC_WIRE_MAX_ATOM_BYTES)
            return fail(req, c, "atom of %u bytes", (unsigned)v);
        if (v > cur_left(c))
            return fail(req, c, "%s of %llu bytes but only %zu bytes left",
                        t == 'a' ? "atom" : "binary", (unsigned long long)v, cur_left(c));
        r = view(c, (size_t)v, &n->v.bytes.data, &n->v.bytes.binref);
        if (r < 0)
            return fail(req, c, "%s of %llu bytes straddles I/O vector entries",
                        t == 'a' ? "atom" : "binary", (unsigned long long)v);
        n->v.bytes.len = (size_t)v;
        if (t == 'a') {
            n->kind = NC_W_ATOM;
        } else {
            n->kind = NC_W_BINARY;
            req->binary_bytes = req->binary_bytes + v < v ? UINT64_MAX
                                                          : req->binary_bytes + v;
        }
        return NOCOPY_OK;
    case 't':
        n->kind = NC_W_BITSTRING;
        return NOCOPY_OK;
    case 'T':
        if (!take_be(c, 4, &v))
            return fail(req, c, "truncated tuple arity");
        n->kind = NC_W_TUPLE;
        n->arity = (uint32_t)v;
        n->v.elems = NULL;
        if (v == 0)
            return NOCOPY_OK;
        if ((r = declare(d, (size_t)v, "tuple")) != NOCOPY_OK)
            return r;
        n->v.elems = alloc_slots(d, (size_t)v);
        if (!n->v.elems)
            return NOCOPY_ENOMEM;
        return push_frame(d, n->v.elems, (uint32_t)v);
    case 'c': {
        n->kind = NC_W_CONS;
        if ((r = declare(d, 2, "list cell")) != NOCOPY_OK)
            return r;
        nocopy__wire_node *kids = tree_alloc(d->alloc, d->actx, req, 2 * sizeof *kids);
        if (!kids)
            return NOCOPY_ENOMEM;
        n->v.cell[0] = (uintptr_t)&kids[0];
        n->v.cell[1] = (uintptr_t)&kids[1];
        return push_frame(d, n->v.cell, 2);
    }
    case 'n':
        n->kind = NC_W_NIL;
        return NOCOPY_OK;
    case 'h':
        if (!take_be(c, 8, &v))
            return fail(req, c, "truncated handle");
        n->kind = NC_W_HANDLE;
        n->v.handle.id = v;
        n->v.handle.obj = NULL;
        n->v.handle.next = req->handles;
        req->handles = n;
        return NOCOPY_OK;
    case 'H':
        n->kind = NC_W_FOREIGN_HANDLE;
        return NOCOPY_OK;
    case 'v':
        if (!take_be(c, 8, &v))
            return fail(req, c, "truncated iodata length");
        /* Its bytes must leave one for each term still declared: those terms'
         * nodes exist already, and a piece may cost a byte's share too. */
        if (d->pending > cur_left(c) || v > cur_left(c) - d->pending)
            return fail(req, c, "iodata of %llu bytes but only %zu bytes left for it and "
                                "%zu other terms", (unsigned long long)v, cur_left(c),
                        d->pending);
        return read_iodata(d, n, (size_t)v);
    case 'V':
        /* iodata that runs to the end of the request: the last term, so the
         * stub need not measure the I/O list (iolist_size/1 walks every
         * piece); the runtime summed it into the I/O vector's size. */
        if (d->pending + d->args_left != 0)
            return fail(req, c, "iodata to the end of the request before %zu more terms",
                        d->pending + d->args_left);
        return read_iodata(d, n, cur_left(c));
    case 'o':
        n->kind = NC_W_OTHER;
        return NOCOPY_OK;
    default:
        return fail(req, c, "unknown term tag 0x%02x", t);
    }
}

static void reset(nocopy__wreq *req)
{
    req->module = 0;
    req->func = 0;
    req->argc = 0;
    req->tag_kind = NC_WTAG_NONE;
    req->tag_int = 0;
    req->tag_ext = NULL;
    req->tag_ext_len = 0;
    req->argv = NULL;
    req->binary_bytes = 0;
    req->nodes = 0;
    req->tree_bytes = 0;
    req->stack_bytes = 0;
    req->handles = NULL;
    req->err_offset = 0;
    req->err[0] = '\0';
}

int nocopy__wire_begin(cursor *c, const nocopy__wire_segment *segs, size_t nsegs,
                       nocopy__wreq *req)
{
    size_t total = 0;
    *c = (cursor){.segs = segs, .nsegs = nsegs, .p = empty_payload, .end = empty_payload};
    reset(req);
    for (size_t i = 0; i < nsegs; i++) {
        if (segs[i].len > SIZE_MAX - total)
            return fail(req, c, "request larger than the address space");
        if (segs[i].len > 0 && !segs[i].base)
            return fail(req, c, "I/O vector entry %zu has no data", i);
        total += segs[i].len;
    }
    return nocopy__wire_begin_sized(c, segs, nsegs, total, req);
}

/* Finds the argc + 1 kinds after the fixed header, wherever the segments
 * split them, and moves the cursor past them. */
static int find_kinds(cursor *c, nocopy__wreq *req)
{
    size_t nk = (size_t)req->argc + 1;
    if (nk > cur_left(c))
        return fail(req, c, "%u arguments but only %zu bytes after the header", req->argc,
                    cur_left(c));
    skip_empty(c);                     /* nk > 0 bytes are left: c->p points at them */
    c->kp = c->p;
    c->kend = c->end;
    c->ksi = c->si;
    take_slow(c, NULL, nk);
    return NOCOPY_OK;
}

/* The cursor at the first entry with bytes: outputv's first entry is the
 * (empty) driver header. Found by index: the entries before it are empty, so
 * the bytes after it are the total less its own. */
static inline void start(cursor *c, const nocopy__wire_segment *segs, size_t nsegs,
                         size_t total)
{
    size_t si = 0;
    while (si < nsegs && segs[si].len == 0)
        si++;
    *c = (cursor){.segs = segs, .nsegs = nsegs, .si = si, .p = empty_payload,
                  .end = empty_payload, .total = total, .kp = empty_payload,
                  .kend = empty_payload, .ksi = si};
    if (si < nsegs) {
        c->p = segs[si].base;
        c->end = c->p + segs[si].len;
        c->rest = total - segs[si].len;
    }
}

/* The common case: the whole fixed header in the current entry, checked
 * once. 1: read; 0: not so, or not a valid header (nothing read: the slow
 * path reads it field by field and says what is wrong). */
static inline int header_in_entry(cursor *c, nocopy__wreq *req)
{
    const uint8_t *h = c->p;
    if (in_seg(c) < NC_WIRE_HEADER_BYTES || h[0] != NC_WIRE_MAGIC0 ||
        h[1] != NC_WIRE_MAGIC1 || h[2] != NC_WIRE_VERSION)
        return 0;
    req->module = (uint32_t)load_be(h + 3, 4);
    req->func = (uint32_t)load_be(h + 7, 4);
    req->argc = (uint32_t)load_be(h + 11, 4);
    c->p += NC_WIRE_HEADER_BYTES;
    return 1;
}

/* After header_in_entry(): the kinds in the same entry, as the stubs send
 * them, and an integer tag there too (the stubs'), read now: then
 * nocopy__wire_read_tag has nothing left to do. 0: the kinds are not all in
 * this entry (nothing read). */
static inline int kinds_in_entry(cursor *c, nocopy__wreq *req)
{
    size_t nk = (size_t)req->argc + 1;
    if (in_seg(c) < nk)
        return 0;
    c->kp = c->p;
    c->kend = c->p + nk;
    c->p += nk;
    if (in_seg(c) >= 8 && c->kp[0] == 'i') {
        req->tag_int = to_i64(load_be(c->p, 8));
        req->tag_kind = NC_WTAG_INT;
        c->kp++;
        c->p += 8;
    }
    return 1;
}

int nocopy__wire_begin_sized(cursor *c, const nocopy__wire_segment *segs, size_t nsegs,
                             size_t total, nocopy__wreq *req)
{
    uint8_t hdr[3];
    uint64_t v;

    reset(req);
    start(c, segs, nsegs, total);
    if (header_in_entry(c, req))
        return kinds_in_entry(c, req) ? NOCOPY_OK : find_kinds(c, req);
    if (!take(c, hdr, 3))
        return fail_header(req, "shorter than the %d-byte header", NC_WIRE_HEADER_BYTES);
    if (hdr[0] != NC_WIRE_MAGIC0 || hdr[1] != NC_WIRE_MAGIC1)
        return fail_header(req, "not a nocopy request (bad magic 0x%02x%02x)", hdr[0], hdr[1]);
    if (hdr[2] != NC_WIRE_VERSION)
        return fail_header(req, "request version %u, this driver speaks version %d", hdr[2],
                           NC_WIRE_VERSION);
    if (!take_be(c, 4, &v))
        return fail_header(req, "shorter than the %d-byte header", NC_WIRE_HEADER_BYTES);
    req->module = (uint32_t)v;
    if (!take_be(c, 4, &v))
        return fail_header(req, "shorter than the %d-byte header", NC_WIRE_HEADER_BYTES);
    req->func = (uint32_t)v;
    if (!take_be(c, 4, &v))
        return fail_header(req, "shorter than the %d-byte header", NC_WIRE_HEADER_BYTES);
    req->argc = (uint32_t)v;
    return find_kinds(c, req);
}

/* The fast loop's "B" (see nocopy__wire_read_args): the last argument, a
 * binary of the bytes left, that lie either in the rest of the current entry
 * (a small binary the runtime copied into its buffer) or as the whole of a
 * later entry (a referenced binary), with only empty entries between. Fills
 * n and moves the cursor as read_node() would (no bytes: <<>>, as view()
 * reads it); bytes that straddle entries are left to read_node(), which
 * refuses them: -1, cursor unmoved. */
static int fast_tail_binary(cursor *c, nocopy__wreq *req, nocopy__wire_node *n)
{
    size_t len = cur_left(c);
    size_t si = c->si;
    const uint8_t *data;
    void *binref;
    if (len == 0) {
        data = empty_payload;          /* as view() reads <<>> */
        binref = NULL;
    } else if (in_seg(c) > 0) {
        if (in_seg(c) != len)
            return -1;
        data = c->p;
        binref = c->segs[si].binref;
        c->p = c->end;
    } else {
        /* len > 0 bytes follow in later entries, so one of them has bytes. */
        do
            si++;
        while (c->segs[si].len == 0);
        if (c->segs[si].len != len)
            return -1;
        data = c->segs[si].base;
        binref = c->segs[si].binref;
        c->si = si;
        c->p = c->end = data + len;
        c->rest = 0;
    }
    n->kind = NC_W_BINARY;
    n->arity = 0;
    n->v.bytes.data = data;
    n->v.bytes.len = len;
    n->v.bytes.binref = binref;
    req->binary_bytes = req->binary_bytes + len < len ? UINT64_MAX : req->binary_bytes + len;
    return NOCOPY_OK;
}

/* One argument of the common shape: an integer, handle or float (kind) whose
 * value lies in [p, end), read with one bounds check into n (a handle is
 * pushed on *handles, the request's chain). Returns the byte after it, or
 * NULL: another kind, a value not all in [p, end), or a float that is not
 * finite; then nothing is read (read_node() reads it, or refuses it). */
static inline const uint8_t *read_flat_scalar(uint8_t kind, const uint8_t *p,
                                              const uint8_t *end, nocopy__wire_node *n,
                                              nocopy__wire_node **handles)
{
    size_t here = (size_t)(end - p);
    uint64_t v;
    switch (kind) {
    case 'j':
        if (here < 4)
            return NULL;
        n->kind = NC_W_INT;
        n->arity = 0;
        n->v.i = (int32_t)(uint32_t)load_be(p, 4);
        return p + 4;
    case 'i':
        if (here < 8)
            return NULL;
        n->kind = NC_W_INT;
        n->v.i = to_i64(load_be(p, 8));
        break;
    case 'u':
        if (here < 8)
            return NULL;
        v = load_be(p, 8);
        if (v <= (uint64_t)INT64_MAX) {
            n->kind = NC_W_INT;         /* canonical, as read_node() stores it */
            n->v.i = (int64_t)v;
        } else {
            n->kind = NC_W_UINT;
            n->v.u = v;
        }
        break;
    case 'h':
        if (here < 8)
            return NULL;
        n->kind = NC_W_HANDLE;
        n->v.handle.id = load_be(p, 8);
        n->v.handle.obj = NULL;
        n->v.handle.next = *handles;
        *handles = n;
        break;
    case 'f': {
        double f;
        if (here < 8)
            return NULL;
        v = load_be(p, 8);
        memcpy(&f, &v, sizeof f);
        if (!isfinite(f))
            return NULL;
        n->kind = NC_W_FLOAT;
        n->v.f = f;
        break;
    }
    default:
        return NULL;
    }
    n->arity = 0;
    return p + 8;
}

/* The common shape of the arguments, read from where the cursor stands:
 * leading arguments of read_flat_scalar()'s kinds whose kinds lie in the
 * current kinds entry and whose values lie in the current entry (the stubs
 * put both in the header's run of copied bytes), no stack and no copy, and a
 * last binary sent to the end ("B") that lies in one entry, or a last iodata
 * argument sent to the end ("V"). Stops at the first argument of any other
 * kind, or split across entries, with *next_arg the first one not read: the
 * general loop of nocopy__wire_read_args reads it from its kind (and refuses
 * what must be refused). The arguments' nodes are req->argv's. NOCOPY_OK, or
 * NOCOPY_ENOMEM (an iodata argument's pieces).
 *
 * The cursor is kept in locals while the nodes are written: a node's kind is
 * a byte, whose store may alias anything, and would otherwise make the
 * compiler reload every field of the cursor and the request per argument. */
static inline int read_flat_args(cursor *c, decoder *d, uint32_t *next_arg)
{
    nocopy__wreq *req = d->req;
    const uint32_t argc = req->argc;
    uintptr_t *const argv = req->argv;
    const uint8_t *kp = c->kp, *const kend = c->kend, *p = c->p, *const end = c->end;
    nocopy__wire_node *handles = req->handles;
    const uint32_t first = *next_arg;
    uint32_t next = first;
    int r = NOCOPY_OK;
    for (; next < argc && kp < kend; next++, kp++) {
        const uint8_t *after = read_flat_scalar(*kp, p, end,
                                                (nocopy__wire_node *)argv[next], &handles);
        if (!after)
            break;                     /* "B" and "V" below, the rest in general */
        p = after;
    }
    c->p = p;
    c->kp = kp;
    req->handles = handles;
    req->nodes += next - first;
    d->args_left = argc - next;
    if (next + 1 == argc && kp < kend && (*kp == 'B' || *kp == 'V')) {
        nocopy__wire_node *n = (nocopy__wire_node *)argv[next];
        if (*kp == 'B') {
            if (fast_tail_binary(c, req, n) != NOCOPY_OK)
                goto out;              /* straddles: read_node() refuses it */
        } else {
            /* iodata to the end, the last term: as read_node() reads it. */
            n->arity = 0;
            r = read_iodata(d, n, cur_left(c));
        }
        c->kp++;
        next++;
        d->args_left--;
        req->nodes++;
    }
out:
    *next_arg = next;
    return r;
}

int nocopy__wire_read_args(cursor *c, nocopy__walloc_fn alloc, void *actx, nocopy__wreq *req)
{
    frame small[FRAMES_INLINE];
    decoder d = {c, alloc, actx, req, small, 0, FRAMES_INLINE, 0, req->argc};
    int r = NOCOPY_OK;

    uint32_t next_arg = 0;

    if (req->argc > 0) {
        /* The arguments' bytes (their kinds) were found by
         * nocopy__wire_begin(); only the term budget is left to check. */
        if (req->argc > NC_WIRE_MAX_TERMS) {
            r = fail(req, c, "more than %zu terms", NC_WIRE_MAX_TERMS);
            goto done;
        }
        req->argv = alloc_slots(&d, req->argc);
        if (!req->argv) {
            r = NOCOPY_ENOMEM;
            goto done;
        }
    }
    if ((r = read_flat_args(c, &d, &next_arg)) != NOCOPY_OK)
        goto done;
    /* The arguments in order, each with its nested terms depth first from
     * the stack: the argument list itself takes no frame (most arguments
     * are scalars and binaries, which open none). An argument's kind comes
     * from the kinds, a nested term's from the stream. */
    for (;;) {
        uintptr_t *slot;
        uint8_t kind;
        if (d.sp > 0) {
            frame *f = &d.stack[d.sp - 1];
            slot = f->slot++;
            /* The last slot of a frame: drop the frame before decoding into
             * it, so list tails and last tuple elements reuse this level. */
            if (--f->left == 0)
                d.sp--;
            d.pending--;
            if (!take(c, &kind, 1)) {
                r = fail(req, c, "truncated before a term");
                goto done;
            }
        } else if (next_arg < req->argc) {
            slot = &req->argv[next_arg++];
            d.args_left--;
            kind = next_kind(c);
        } else {
            break;
        }
        req->nodes++;
        nocopy__wire_node *n = (nocopy__wire_node *)*slot;   /* alloc_slots */
        n->arity = 0;
        if ((r = read_node(&d, n, kind)) != NOCOPY_OK)
            goto done;
    }
    if (cur_left(c) != 0)
        r = fail(req, c, "%zu bytes after the last argument", cur_left(c));
done:
    if (d.stack != small)
        free(d.stack);
    return r;
}

int nocopy__wire_decode(const nocopy__wire_segment *segs, size_t nsegs,
                        nocopy__walloc_fn alloc, void *actx, nocopy__wreq *req)
{
    cursor c;
    int r = nocopy__wire_begin(&c, segs, nsegs, req);
    if (r == NOCOPY_OK)
        r = nocopy__wire_read_tag(&c, alloc, actx, req);
    if (r == NOCOPY_OK)
        r = nocopy__wire_read_args(&c, alloc, actx, req);
    return r;
}

int nocopy__wire_decode_flat(const nocopy__wire_segment *segs, size_t nsegs, size_t total,
                             nocopy__wreq *req, uintptr_t *argv, nocopy__wire_node *nodes,
                             uint32_t max_args, nocopy__walloc_fn alloc, void *actx)
{
    cursor c;
    reset(req);
    start(&c, segs, nsegs, total);
    if (!header_in_entry(&c, req) || !kinds_in_entry(&c, req) ||
        req->tag_kind != NC_WTAG_INT || req->argc > max_args)
        return NC_WIRE_NOT_FLAT;
    /* The kinds of all argc arguments lie at c.kp (kinds_in_entry). */
    const uint32_t argc = req->argc;
    const uint8_t *const kinds = c.kp, *p = c.p, *const end = c.end;
    nocopy__wire_node *handles = NULL;
    uint32_t i = 0;
    for (; i < argc; i++) {
        const uint8_t *after = read_flat_scalar(kinds[i], p, end, &nodes[i], &handles);
        if (!after)
            break;
        argv[i] = (uintptr_t)&nodes[i];
        p = after;
    }
    req->argv = argc ? argv : NULL;
    req->handles = handles;
    req->nodes = i;
    if (i == argc)
        return p == end && c.rest == 0 ? NOCOPY_OK : NC_WIRE_NOT_FLAT;
    if (i + 1 != argc || (kinds[i] != 'B' && kinds[i] != 'V'))
        return NC_WIRE_NOT_FLAT;
    /* The last argument, to the end: as read_flat_args() reads it. */
    nocopy__wire_node *n = &nodes[i];
    argv[i] = (uintptr_t)n;
    c.p = p;
    if (kinds[i] == 'B') {
        if (fast_tail_binary(&c, req, n) != NOCOPY_OK)
            return NC_WIRE_NOT_FLAT;
    } else {
        decoder d = {&c, alloc, actx, req, NULL, 0, 0, 0, 1};
        n->arity = 0;
        if (read_iodata(&d, n, cur_left(&c)) != NOCOPY_OK)
            return NC_WIRE_NOT_FLAT;
    }
    req->nodes++;
    return NOCOPY_OK;
}
