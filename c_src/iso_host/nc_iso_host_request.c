/* nc_iso_host_request.c: a request's CALL, built in memory the isolate
 * keeps between calls.
 *
 * A request (the iolist the NAME_iso stub encodes, the driver's bytes) is
 * walked piece by piece, never flattened (bytes given as integers, in an
 * iodata argument, are gathered into runs): a binary whose bytes lie in
 * the current incarnation's input region (one placed there with
 * nocopy_iso:binary/2, or a slice of an input a function returned) or its
 * output region (a result passed back in) is sent as (offset, length), no
 * copy; any other piece of at most NC_ISO_INLINE_PIECE bytes is copied
 * into the message, and a longer one copied once into a new input block.
 *
 * The scratch: a 64 KiB message buffer, the pieces, the walk's stack and
 * the reply decoder's stacks were allocated and freed on every call, a
 * measured part of a small call's time (docs/design.md, "Where the 5 us
 * went"). The isolate keeps one scratch between calls (an atomic exchange
 * takes it, a compare-and-swap gives it back; a concurrent call makes its
 * own), and arrays grown past NC_HOST_SCRATCH_KEEP entries are freed when
 * it is given back, so an isolate holds at most one small scratch. It is
 * heap memory (malloc: a scratch may be freed on another scheduler than
 * the one that allocated it), not the NIF's stack. */
#include <stdlib.h>
#include <string.h>

#include "nc_iso_host.h"

/* Pieces of one request, at most (then badarg). */
#define MAX_PIECES (1u << 20)

/* Entries an array of a kept scratch may hold; larger ones are freed. */
#define NC_HOST_SCRATCH_KEEP 256

typedef struct piece {
    const uint8_t *p;
    size_t len;
} piece;

struct nc_host_scratch {
    uint8_t *msg;                      /* NC_ISO_MSG_MAX bytes */
    piece *ps;                         /* the request's pieces, np of pcap */
    size_t *run_at;                    /* by piece: where a byte run starts in bytes */
    size_t np, pcap;
    size_t total;                      /* the pieces' bytes, in all */
    ERL_NIF_TERM *stack;               /* the walk's, scap entries */
    size_t scap;
    uint8_t *bytes;                    /* bytes given as integers, bcap */
    size_t bcap;
    nc_host_stacks dec;                /* the reply decoder's */
};

nc_host_scratch *nocopy__host_scratch_take(nc_host_iso *iso)
{
    nc_host_scratch *s = atomic_exchange_explicit(&iso->scratch, NULL, memory_order_acquire);
    if (s)
        return s;
    if (!(s = calloc(1, sizeof *s)))
        return NULL;
    if (!(s->msg = malloc(NC_ISO_MSG_MAX))) {
        free(s);
        return NULL;
    }
    return s;
}

nc_host_stacks *nocopy__host_scratch_stacks(nc_host_scratch *s)
{
    return &s->dec;
}

uint8_t *nocopy__host_scratch_msg(nc_host_scratch *s)
{
    return s->msg;
}

void nocopy__host_scratch_free(nc_host_scratch *s)
{
    if (!s)
        return;
    free(s->msg);
    free(s->ps);
    free(s->run_at);
    free(s->stack);
    free(s->bytes);
    nocopy__host_stacks_free(&s->dec);
    free(s);
}

/* Frees *p (a `cap` entries array) if it grew past the keep limit. */
static void trim(void **p, size_t *cap)
{
    if (*cap > NC_HOST_SCRATCH_KEEP) {
        free(*p);
        *p = NULL;
        *cap = 0;
    }
}

void nocopy__host_scratch_give(nc_host_iso *iso, nc_host_scratch *s)
{
    size_t pcap = s->pcap;
    trim((void **)&s->ps, &s->pcap);
    trim((void **)&s->run_at, &pcap);
    trim((void **)&s->stack, &s->scap);
    trim((void **)&s->bytes, &s->bcap);
    if (s->dec.tcap > NC_HOST_SCRATCH_KEEP || s->dec.fcap > NC_HOST_SCRATCH_KEEP)
        nocopy__host_stacks_free(&s->dec);
    s->np = 0;
    nc_host_scratch *none = NULL;
    if (!atomic_compare_exchange_strong_explicit(&iso->scratch, &none, s, memory_order_release,
                                                 memory_order_relaxed))
        nocopy__host_scratch_free(s);  /* another call's is kept */
}

/* Grows *p, an array of *cap entries of `size` bytes, to at least one more
 * (16 at first, then twice). 0, or -1 (no memory: *p unchanged). */
static int grow(void **p, size_t *cap, size_t size)
{
    size_t ncap = *cap ? *cap * 2 : 16;
    void *np = realloc(*p, ncap * size);
    if (!np)
        return -1;
    *p = np;
    *cap = ncap;
    return 0;
}

/* Appends byte v to the request's bytes. 0, or -1 (no memory). */
static int add_byte(nc_host_scratch *s, size_t *nbytes, uint8_t v)
{
    if (*nbytes == s->bcap) {
        size_t ncap = s->bcap ? s->bcap * 2 : 64;
        uint8_t *nb = realloc(s->bytes, ncap);
        if (!nb)
            return -1;
        s->bytes = nb;
        s->bcap = ncap;
    }
    s->bytes[(*nbytes)++] = v;
    return 0;
}

int nocopy__host_request_pieces(ErlNifEnv *env, ERL_NIF_TERM t, nc_host_scratch *s)
{
    size_t np = 0, sp = 0, nbytes = 0;
    s->np = 0;
    s->total = 0;
    if (s->scap == 0 && grow((void **)&s->stack, &s->scap, sizeof *s->stack) != 0)
        return -1;
    s->stack[sp++] = t;
    while (sp > 0) {
        ERL_NIF_TERM x = s->stack[--sp], head, tail;
        ErlNifBinary b;
        int v;
        if (enif_get_list_cell(env, x, &head, &tail)) {
            while (sp + 2 > s->scap)
                if (grow((void **)&s->stack, &s->scap, sizeof *s->stack) != 0)
                    return -1;
            s->stack[sp++] = tail;
            s->stack[sp++] = head;
            continue;
        } else if (enif_is_empty_list(env, x)) {
            continue;
        } else if (enif_inspect_binary(env, x, &b)) {
            if (b.size == 0)
                continue;
        } else if (enif_get_int(env, x, &v) && v >= 0 && v <= 255) {
            if (add_byte(s, &nbytes, (uint8_t)v) != 0)
                return -1;
            if (np > 0 && !s->ps[np - 1].p) {
                s->ps[np - 1].len++;   /* the last piece is this run */
                s->total++;
                continue;
            }
            b.data = NULL;
            b.size = 1;
        } else {
            return -1;
        }
        if (np == s->pcap) {
            /* run_at has pcap entries too: grown first, with its own copy
             * of the capacity, so a failure leaves both usable. */
            size_t rcap = s->pcap;
            if (s->pcap >= MAX_PIECES || grow((void **)&s->run_at, &rcap, sizeof *s->run_at) != 0 ||
                grow((void **)&s->ps, &s->pcap, sizeof *s->ps) != 0)
                return -1;
        }
        /* Where each byte run starts in `bytes`, until they are fixed up
         * below (bytes moves as it grows): runs are marked p == NULL. */
        s->run_at[np] = nbytes - (b.data ? 0 : 1);
        s->ps[np++] = (piece){b.data, b.size};
        s->total += b.size;
    }
    for (size_t i = 0; i < np; i++)
        if (!s->ps[i].p)
            s->ps[i].p = s->bytes + s->run_at[i];
    s->np = np;
    return 0;
}

size_t nocopy__host_request_bytes(const nc_host_scratch *s)
{
    return s->total;
}

void nocopy__host_request_gather(const nc_host_scratch *s, uint8_t *to)
{
    for (size_t i = 0; i < s->np; i++) {
        memcpy(to, s->ps[i].p, s->ps[i].len);
        to += s->ps[i].len;
    }
}

static int in_region(const nc_host_inc *inc, const piece *pc);
static int in_output(const nc_host_inc *inc, const piece *pc);

size_t nocopy__host_request_copy_bytes(const nc_host_inc *inc, const nc_host_scratch *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->np; i++)
        if (!in_region(inc, &s->ps[i]) && !in_output(inc, &s->ps[i]))
            n += s->ps[i].len;
    return n;
}

/* Lends `b` to the call (which can hold max loans). 0, or -1 (no memory: b
 * is returned). */
static int lend(nc_host_call *call, nc_host_block *b, size_t max)
{
    if (!call->lent && !(call->lent = malloc(max * sizeof *call->lent))) {
        nocopy__host_block_return(b);
        return -1;
    }
    call->lent[call->nlent++] = b;
    return 0;
}

/* A new input block holding a copy of len bytes, lent to the call. */
static nc_host_block *copy_block(nc_host_inc *inc, nc_host_call *call, size_t len, size_t max)
{
    nc_host_block *b = nocopy__host_block_new(inc, len);
    if (!b)
        return NULL;
    enif_mutex_lock(inc->mu);
    b->lent++;                         /* the new block's reference is the loan */
    enif_mutex_unlock(inc->mu);
    return lend(call, b, max) == 0 ? b : NULL;
}

static int in_region(const nc_host_inc *inc, const piece *pc)
{
    return pc->p >= inc->in.base && pc->p < inc->in.base + inc->in.size;
}

/* A piece of a binary the child returned (a handover of this incarnation). */
static int in_output(const nc_host_inc *inc, const piece *pc)
{
    return pc->p >= inc->out.base && pc->p < inc->out.base + inc->out.size &&
           pc->len <= inc->out.size - (size_t)(pc->p - inc->out.base);
}

/* Appends a segment, merging it into the previous one when contiguous.
 * 0, or -1 when the table is full. */
static int add_seg(nocopy__iso_seg *segs, size_t *nsegs, uint32_t where, uint64_t block,
                   uint64_t off, uint64_t len)
{
    nocopy__iso_seg *last = *nsegs ? &segs[*nsegs - 1] : NULL;
    if (last && last->where == where && last->block == block && last->off + last->len == off) {
        last->len += len;
        return 0;
    }
    if (*nsegs == NC_ISO_MAX_SEGS)
        return -1;
    segs[(*nsegs)++] = (nocopy__iso_seg){.where = where, .pad = 0, .block = block, .off = off,
                                         .len = len};
    return 0;
}

/* The CALL for s's pieces into s's message (NC_ISO_MSG_MAX bytes); its
 * length, or 0 with *err set. Pieces already in the input region are lent as they are.
 * Of the others, those of at most NC_ISO_INLINE_PIECE bytes go inline and
 * longer ones are copied each into a block of its own; unless the small
 * ones do not fit inline (or the pieces are too many for the table): then
 * all the others are gathered into one block. */
size_t nocopy__host_build_call(nc_host_iso *iso, nc_host_inc *inc, nc_host_call *call,
                               nc_host_scratch *s, const char **err)
{
    const piece *ps = s->ps;
    size_t np = s->np;
    uint8_t *msg = s->msg;
    nocopy__iso_seg *segs = (nocopy__iso_seg *)(msg + sizeof(nocopy__iso_hdr) +
                                                sizeof(nocopy__iso_call_body));
    size_t nsegs = 0, inl = 0, copied = 0, small = 0, others = 0;
    /* Inline bytes are gathered in a scratch area after the largest table. */
    uint8_t *scratch = msg + NC_ISO_MSG_MAX - NC_ISO_INLINE_MAX;
    for (size_t i = 0; i < np; i++)
        if (!in_region(inc, &ps[i]) && !in_output(inc, &ps[i])) {
            others += ps[i].len;
            if (ps[i].len <= NC_ISO_INLINE_PIECE)
                small += ps[i].len;
        }
    int gather = small > NC_ISO_INLINE_MAX || np > NC_ISO_MAX_SEGS;
    nc_host_block *g = NULL;
    size_t gpos = 0;
    *err = "out of memory";
    if (gather && others && !(g = copy_block(inc, call, others, np + 1))) {
        *err = "the isolate's input region is full";
        return 0;
    }
    for (size_t i = 0; i < np; i++) {
        const piece *pc = &ps[i];
        nc_host_block *b = in_region(inc, pc) ? nocopy__host_block_lend(inc, pc->p, pc->len)
                                              : NULL;
        if (b) {
            if (lend(call, b, np + 1) != 0)
                return 0;
            if (add_seg(segs, &nsegs, NC_ISO_SEG_INPUT, b->off,
                        (uint64_t)(pc->p - inc->in.base), pc->len) != 0)
                goto too_many;
        } else if (in_output(inc, pc)) {
            /* The Erlang binary is alive while this NIF runs, so its
             * handover's RELEASE_OUT comes after this CALL: the child holds
             * the block for the call from the CALL on. */
            if (add_seg(segs, &nsegs, NC_ISO_SEG_OUTPUT, 0, (uint64_t)(pc->p - inc->out.base),
                        pc->len) != 0)
                goto too_many;
        } else if (g) {
            memcpy(inc->in.base + g->off + gpos, pc->p, pc->len);
            if (add_seg(segs, &nsegs, NC_ISO_SEG_INPUT, g->off, g->off + gpos, pc->len) != 0)
                goto too_many;
            gpos += pc->len;
            copied += pc->len;
        } else if (pc->len > NC_ISO_INLINE_PIECE) {
            if (!(b = copy_block(inc, call, pc->len, np + 1))) {
                *err = "the isolate's input region is full";
                return 0;
            }
            memcpy(inc->in.base + b->off, pc->p, pc->len);
            copied += pc->len;
            if (add_seg(segs, &nsegs, NC_ISO_SEG_INPUT, b->off, b->off, pc->len) != 0)
                goto too_many;
        } else {
            memcpy(scratch + inl, pc->p, pc->len);
            if (add_seg(segs, &nsegs, NC_ISO_SEG_INLINE, 0, inl, pc->len) != 0)
                goto too_many;
            inl += pc->len;
        }
    }
    nocopy__iso_hdr h = {.kind = NC_ISO_MSG_CALL, .seq = 0, .id = call->id};
    nocopy__iso_call_body body = {.nsegs = (uint32_t)nsegs, .inline_bytes = (uint32_t)inl};
    memcpy(msg, &h, sizeof h);
    memcpy(msg + sizeof h, &body, sizeof body);
    size_t at = sizeof h + sizeof body + nsegs * sizeof(nocopy__iso_seg);
    memmove(msg + at, scratch, inl);   /* at <= scratch (the assertion below) */
    atomic_fetch_add(&iso->copied_bytes, copied);
    atomic_fetch_add(&iso->inline_bytes, inl);
    return at + inl;
too_many:
    *err = "the request has more pieces in the isolate's region than a call can name";
    return 0;
}

_Static_assert(sizeof(nocopy__iso_hdr) + sizeof(nocopy__iso_call_body) +
                       NC_ISO_MAX_SEGS * sizeof(nocopy__iso_seg) + NC_ISO_INLINE_MAX <=
                   NC_ISO_MSG_MAX,
               "a CALL of the most segments and inline bytes fits in a message");
