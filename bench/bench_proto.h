/* bench_proto.h: the request format of the hand-written drivers and of the
 * external port program (hand_drv.c, hand_drv_async.c, copy_drv.c, ext_port.c);
 * the Erlang side is bench_ports.erl. Kept minimal on purpose: these are the
 * baselines a careful programmer writes by hand for exactly one function set.
 *
 * A request is iodata: a 9-byte header <<Op:8, Ctx:32/big, Qop:32/big>>, then
 * the payload (identity, seed: one binary; iodata: any iodata).
 * Driver replies are sent to the calling process as {Port, Result}. */
#ifndef BENCH_PROTO_H
#define BENCH_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define BP_HEADER 9

enum bp_op { BP_IDENTITY = 1, BP_SEED = 2, BP_IODATA = 3 };

/* The one context the hand-written contenders know: Ctx must be 0. A real
 * driver would index a table here; the check stands for that lookup. */
#define BP_NCTX 1

typedef struct bp_header {
    uint8_t op;
    uint32_t ctx;
    uint32_t qop;
} bp_header;

static inline uint32_t bp_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void bp_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Returns 0 and fills *h, or -1 for a bad op or context. */
static inline int bp_parse_header(const uint8_t p[BP_HEADER], bp_header *h)
{
    h->op = p[0];
    h->ctx = bp_get32(p + 1);
    h->qop = bp_get32(p + 5);
    if (h->op < BP_IDENTITY || h->op > BP_IODATA || h->ctx >= BP_NCTX)
        return -1;
    return 0;
}

#ifdef ERL_DRV_EXTENDED_MARKER
/* Driver side: where the request's parts lie in the ErlIOVec given to outputv.
 * The runtime merges copied bytes (the small header, heap binaries) into one
 * segment and gives each large binary a segment of its own, so the header may
 * share a segment with a small payload; both cases are handled. */
typedef struct bp_request {
    bp_header h;
    ErlDrvBinary *bin;      /* the binary holding the payload; NULL if empty */
    const char *data;       /* payload bytes (identity, seed), BORROWED */
    size_t len;             /* payload size (all ops) */
    size_t offset;          /* data - bin->orig_bytes */
    int contiguous;         /* the payload lies in one segment */
} bp_request;

/* Returns 0, or -1 for a short or malformed request. */
static inline int bp_read_ev(const ErlIOVec *ev, bp_request *r)
{
    uint8_t hdr[BP_HEADER];
    size_t got = 0;
    int i = 0;
    size_t pos = 0;                 /* position in iov[i] after the header */
    if (ev->size < BP_HEADER)
        return -1;
    for (i = 0; i < ev->vsize && got < BP_HEADER; i++) {
        const SysIOVec *v = &ev->iov[i];
        size_t take = v->iov_len < BP_HEADER - got ? v->iov_len : BP_HEADER - got;
        for (size_t k = 0; k < take; k++)
            hdr[got + k] = ((const uint8_t *)v->iov_base)[k];
        got += take;
        pos = take;
        if (got == BP_HEADER)
            break;
    }
    if (bp_parse_header(hdr, &r->h) != 0)
        return -1;
    r->len = ev->size - BP_HEADER;
    r->bin = NULL;
    r->data = "";
    r->offset = 0;
    r->contiguous = 1;
    if (r->len == 0)
        return 0;
    /* The payload starts at iov[i] + pos, or at the next non-empty segment. */
    if (pos == ev->iov[i].iov_len)
        for (i++, pos = 0; i < ev->vsize && ev->iov[i].iov_len == 0; i++)
            ;
    if (i >= ev->vsize)
        return -1;
    r->contiguous = ev->iov[i].iov_len - pos == r->len;
    r->bin = ev->binv[i];
    r->data = (const char *)ev->iov[i].iov_base + pos;
    r->offset = r->bin ? (size_t)(r->data - r->bin->orig_bytes) : 0;
    return 0;
}

/* Atoms the replies use: driver_mk_atom is not thread-safe, so they are made
 * in start() and only read afterwards (atoms never change). */
typedef struct bp_atoms {
    ErlDrvTermData am_true, am_false, am_error, am_badarg;
} bp_atoms;

static inline void bp_make_atoms(bp_atoms *am)
{
    am->am_true = driver_mk_atom("true");
    am->am_false = driver_mk_atom("false");
    am->am_error = driver_mk_atom("error");
    am->am_badarg = driver_mk_atom("badarg");
}

/* The payload as a binary term: by reference when the runtime gave us its
 * binary, else (empty payload) a copy of nothing. */
static inline int bp_put_payload(ErlDrvTermData *s, const bp_request *r)
{
    if (r->bin) {
        s[0] = ERL_DRV_BINARY;
        s[1] = (ErlDrvTermData)r->bin;
        s[2] = (ErlDrvTermData)r->len;
        s[3] = (ErlDrvTermData)r->offset;
        return 4;
    }
    s[0] = ERL_DRV_BUF2BINARY;
    s[1] = (ErlDrvTermData)"";
    s[2] = 0;
    return 3;
}

/* Does the work of request `ev` and sends {Port, Result} to `caller`.
 * Thread-safe (erl_drv_send_term): runs inline in outputv (hand_drv.c) or on a
 * worker thread (hand_drv_async.c). Binaries of the reply are referenced, not
 * copied; the runtime takes its own references. */
static inline void bp_drv_reply(ErlDrvTermData port_term, ErlDrvTermData caller,
                                const ErlIOVec *ev, const bp_atoms *am)
{
    ErlDrvTermData s[24];
    ErlDrvUInt64 total = 0;
    int n = 0;
    bp_request r;

    s[n++] = ERL_DRV_PORT;
    s[n++] = port_term;
    if (bp_read_ev(ev, &r) != 0 || (r.h.op != BP_IODATA && !r.contiguous)) {
        s[n++] = ERL_DRV_ATOM;
        s[n++] = am->am_error;
        s[n++] = ERL_DRV_ATOM;
        s[n++] = am->am_badarg;
        s[n++] = ERL_DRV_TUPLE;
        s[n++] = 2;
    } else if (r.h.op == BP_IDENTITY) {
        n += bp_put_payload(s + n, &r);
    } else if (r.h.op == BP_SEED) {
        s[n++] = ERL_DRV_UINT;
        s[n++] = 0;                                        /* Major */
        s[n++] = ERL_DRV_UINT;
        s[n++] = r.len ? (uint8_t)r.data[0] : 0;           /* Minor */
        s[n++] = ERL_DRV_ATOM;
        s[n++] = r.h.qop ? am->am_true : am->am_false;     /* Conf */
        s[n++] = ERL_DRV_UINT;
        s[n++] = r.h.qop;                                  /* Qop */
        n += bp_put_payload(s + n, &r);                    /* Out */
        s[n++] = ERL_DRV_TUPLE;
        s[n++] = 5;
    } else {
        /* iodata, read as a vector: sum the segments, header excluded. */
        for (int i = 0; i < ev->vsize; i++)
            total += ev->iov[i].iov_len;
        total -= BP_HEADER;
        s[n++] = ERL_DRV_UINT64;
        s[n++] = (ErlDrvTermData)&total;
    }
    s[n++] = ERL_DRV_TUPLE;
    s[n++] = 2;
    erl_drv_send_term(port_term, caller, s, n);
}
#endif

#endif /* BENCH_PROTO_H */
