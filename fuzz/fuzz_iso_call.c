/* fuzz_iso_call.c: libFuzzer target for the isolated backend's child as it
 * reads a CALL (c_src/iso/nc_iso_exec.c: the segment table checked against
 * the message and the regions, the request rebuilt over them and decoded by
 * the shared decoder, the function run, the REPLY encoded), linked with the
 * real child backend, the core compiled for it and iso_shared/ (everything of
 * priv/NAME_iso but its main). Built by fuzz/fuzz.mk; `make test` replays
 * fuzz/corpus/iso_call/ (seeds: fuzz/gen_iso_corpus.escript).
 *
 * The child trusts the VM, but a CALL still must not make it read outside
 * the message or the regions, leak, or send anything but a well-formed
 * reply. Each input is one CALL body, in one of two shapes (first byte):
 *   bit 7 set: the rest is the raw body after the header (nocopy__iso_call_body,
 *     segment descriptors, inline bytes), whatever its offsets claim;
 *   bit 7 clear: the rest is a request (the driver's wire bytes, as
 *     nocopy_wire:request/5 makes them), cut into segments at points drawn
 *     from the first byte and laid out as the VM lays them: inline in the
 *     message, in an input-region block, or in an output block (a result
 *     passed back in), by the low bits of each cut.
 * Checked after each input: exactly one REPLY for the call, every message
 * the child sent well-formed (the reply's terms walked to its end, each
 * region reference inside the region), every output block the reply handed
 * over released as the VM would, and then no output block left (the child's
 * accounting back to empty). The module run is the harness's own: seven
 * functions of arity 0..6 that read each argument with the readers (bytes,
 * keeps, slices, iovecs, lists, tuples, numbers) and return what they read. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "nc_iso.h"
#include "nc_iso_chan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#include "fuzz_check.h"

#define REGION_BYTES ((size_t)1 << 20)
#define CALL_ID 0x1234500000007ull

/* ---- the module the child runs ------------------------------------------------ */

static nocopy_value read_term(nocopy_call *call, nocopy_term t, int depth)
{
    nocopy_bytes b;
    nocopy_iovec v;
    nocopy_kept *k;
    int64_t i;
    double d;
    nocopy_atom a;
    size_t len;
    unsigned arity;
    const nocopy_term *elems;
    switch (nocopy_term_type(call, t)) {
    case NOCOPY_T_BINARY:
        if (nocopy_term_bytes(call, t, &b) != NOCOPY_OK)
            break;
        if (b.size % 3 == 0 && nocopy_term_keep(call, t, &k) == NOCOPY_OK) {
            nocopy_value r = nocopy_make_kept(call, k, b.size / 3, b.size / 3);
            nocopy_kept_release(k);
            return r;
        }
        return nocopy_make_slice(call, t, b.size / 2, b.size - b.size / 2);
    case NOCOPY_T_INTEGER:
        if (nocopy_term_i64(call, t, &i) == NOCOPY_OK)
            return nocopy_make_i64(call, i);
        break;
    case NOCOPY_T_FLOAT:
        if (nocopy_term_double(call, t, &d) == NOCOPY_OK)
            return nocopy_make_double(call, d);
        break;
    case NOCOPY_T_ATOM:
        if (nocopy_term_atom(call, t, &a) == NOCOPY_OK)
            return nocopy_make_atom(call, a);
        break;
    case NOCOPY_T_LIST:
        if (nocopy_term_iovec(call, t, &v) == NOCOPY_OK)
            return nocopy_make_u64(call, v.count);
        if (depth < 4 && nocopy_term_list(call, t, &len, &elems) == NOCOPY_OK && len > 0)
            return read_term(call, elems[len - 1], depth + 1);
        break;
    case NOCOPY_T_TUPLE:
        if (depth < 4 && nocopy_term_tuple_any(call, t, &arity, &elems) == NOCOPY_OK &&
            arity > 0) {
            nocopy_value kids[2] = {read_term(call, elems[0], depth + 1),
                                    read_term(call, elems[arity - 1], depth + 1)};
            return nocopy_make_tuple(call, 2, kids);
        }
        break;
    default:
        break;
    }
    return nocopy_make_atom(call, NOCOPY_ATOM_UNDEFINED);
}

static int f_read(nocopy_call *call)
{
    nocopy_value vals[8];
    unsigned n = nocopy_arity(call);
    for (unsigned i = 0; i < n && i < 8; i++)
        vals[i] = read_term(call, nocopy_arg(call, i), 0);
    if (n == 1) {
        /* A result buffer too: an output block of the reply. */
        nocopy_buf *buf = nocopy_buf_alloc(call, 100);
        if (buf) {
            memset(buf->data, 'r', 100);
            vals[1] = nocopy_make_buf(call, buf);
            n = 2;
        }
    }
    return nocopy_return(call, nocopy_make_list(call, n, vals));
}

#define T "term()"
#define F(n, a) {.name = "read" #n, .arity = n, .fn = f_read, .args = a, .result = "list()"}
static const nocopy_func funcs[] = {
    F(0, ""), F(1, "A :: " T), F(2, "A :: " T ", B :: " T),
    F(3, "A :: " T ", B :: " T ", C :: " T), F(4, "A :: " T ", B :: " T ", C :: " T ", D :: " T),
    F(5, "A :: " T ", B :: " T ", C :: " T ", D :: " T ", E :: " T),
    F(6, "A :: " T ", B :: " T ", C :: " T ", D :: " T ", E :: " T ", G :: " T),
};
#undef F
#undef T

static const nocopy_module fuzz_module = {
    .name = "fuzz_iso",
    .funcs = funcs,
    .nfuncs = sizeof funcs / sizeof funcs[0],
};
NOCOPY_MODULE(fuzz_module)

/* ---- the child's state, set up once as its main does ------------------------- */

static int vm_end = -1;                /* the VM's end of the channel */
static nocopy__iso_region vm_in;       /* the input region, writable here */

static void setup_once(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    const nocopy_module *m = nocopy_module_definition();
    char err[NC_MODULE_ERR_MAX];
    CHECK(nocopy__module_check(m, err) == 0);
    nocopy__iso.mod = m;
    /* The requests say fingerprint 0 (as the driver decoder's corpus). */
    nocopy__iso.fingerprint = 0;
    nocopy__iso.incarnation = 1;
    CHECK(nocopy__iso_setup_names(m) == 0);
    CHECK(nocopy__iso_region_create(&vm_in, "fuzz_iso_in", REGION_BYTES, 1) == NOCOPY_OK);
    nocopy__iso.in = vm_in;            /* the child reads the same mapping */
    CHECK(nocopy__iso_region_create(&nocopy__iso.out, "fuzz_iso_out", REGION_BYTES, 1) ==
          NOCOPY_OK);
    int fds[2];
    CHECK(nocopy__iso_chan_pair(fds, 1) == NOCOPY_OK);
    vm_end = fds[0];
    nocopy__iso.chan = fds[1];
    CHECK(nocopy__iso_blocks_init() == NOCOPY_OK);
    CHECK(nocopy__iso_handles_init(m) == 0);
    nocopy__iso_install_hooks();
}

/* ---- what the child sent ------------------------------------------------------- */

typedef struct rd {
    const uint8_t *p;
    size_t left;
} rd;

static void take(rd *r, void *out, size_t n)
{
    CHECK(n <= r->left);
    memcpy(out, r->p, n);
    r->p += n;
    r->left -= n;
}

/* Walks one encoded term sequence to its end (prefix order: a tuple or
 * list is its count, then its elements), releasing the output blocks it
 * hands over as the VM does once Erlang drops them. */
static void walk_value(rd *r)
{
    size_t pending = 1;                /* terms still to read */
    while (pending > 0) {
        uint8_t tag;
        uint32_t n;
        uint64_t v;
        pending--;
        take(r, &tag, 1);
        switch (tag) {
        case 'i': case 'u': case 'f': case 'h':
            take(r, &v, 8);
            break;
        case 'a':
            take(r, &n, 4);
            break;
        case 'b':
            take(r, &n, 4);
            CHECK(n <= r->left);
            r->p += n;
            r->left -= n;
            break;
        case 'T': case 'L':
            take(r, &n, 4);
            CHECK(n <= r->left);
            pending += n;
            break;
        case 'B': {
            uint8_t region;
            uint64_t block, off, len;
            take(r, &region, 1);
            take(r, &block, 8);
            take(r, &off, 8);
            take(r, &len, 8);
            CHECK(region == NC_ISO_REGION_INPUT || region == NC_ISO_REGION_OUTPUT);
            CHECK(block <= REGION_BYTES && off <= REGION_BYTES - block &&
                  len <= REGION_BYTES - block - off);
            if (region == NC_ISO_REGION_OUTPUT)
                nocopy__iso_out_unref(block);     /* the VM's RELEASE_OUT */
            break;
        }
        default:
            CHECK(!"an unknown term tag in a reply");
        }
    }
}

/* Reads every message the child sent for the call; the count of REPLYs. */
static int drain(void)
{
    static uint8_t buf[NC_ISO_MSG_MAX];
    size_t len;
    int replies = 0, st;
    while ((st = nocopy__iso_chan_recv(vm_end, buf, sizeof buf, &len)) == NOCOPY_OK) {
        nocopy__iso_hdr h;
        CHECK(len >= sizeof h);
        memcpy(&h, buf, sizeof h);
        CHECK(h.seq == 0);
        if (h.kind == NC_ISO_MSG_KEEP_IN || h.kind == NC_ISO_MSG_RELEASE_IN) {
            CHECK(len == sizeof h);
            continue;
        }
        CHECK(h.kind == NC_ISO_MSG_REPLY && h.id == CALL_ID);
        replies++;
        rd r = {buf + sizeof h, len - sizeof h};
        uint8_t outcome;
        take(&r, &outcome, 1);
        if (getenv("FUZZ_ISO_VERBOSE"))     /* what each input came to */
            fprintf(stderr, "outcome %u %.*s\n", outcome,
                    outcome == NC_ISO_OUT_ERROR && r.left > 10 ? (int)r.left - 10 : 0,
                    r.p + 10);
        if (outcome == NC_ISO_OUT_OK) {
            walk_value(&r);
        } else if (outcome == NC_ISO_OUT_ERROR) {
            uint32_t reason, argno;
            uint16_t tlen;
            take(&r, &reason, 4);
            take(&r, &argno, 4);
            take(&r, &tlen, 2);
            CHECK(tlen == r.left);
            r.left = 0;
        } else {
            CHECK(outcome == NC_ISO_OUT_SPILLED);
            uint64_t block, blen;
            take(&r, &block, 8);
            take(&r, &blen, 8);
            CHECK(block <= REGION_BYTES && blen <= REGION_BYTES - block);
            rd s = {nocopy__iso.out.base + block, (size_t)blen};
            take(&s, &outcome, 1);
            CHECK(outcome == NC_ISO_OUT_OK);
            walk_value(&s);
            CHECK(s.left == 0);
            nocopy__iso_out_unref(block);
        }
        CHECK(r.left == 0);
    }
    CHECK(st == NOCOPY_EOVERLOAD);     /* nothing more, the channel still open */
    return replies;
}

/* ---- a CALL from the input ------------------------------------------------------ */

static size_t out_blocks_live(void)
{
    /* The child's table is private: an output block taken now lands at
     * offset 0 only when none is live. */
    uint64_t off;
    CHECK(nocopy__iso_out_take(1, &off) == NOCOPY_OK);
    nocopy__iso_out_unref(off);
    return off != 0;
}

/* The request laid out as the VM lays it: cut at points drawn from `shape`,
 * each piece inline, in an input block, or in an output block. The output
 * blocks are the harness's (one reference each, dropped after the call). */
static size_t layout(uint8_t shape, const uint8_t *req, size_t len, uint8_t *msg,
                     uint64_t *outs, size_t *nouts)
{
    nocopy__iso_seg segs[64];
    uint8_t *inl = malloc(len ? len : 1);
    CHECK(inl);
    size_t nsegs = 0, ninl = 0, in_at = 0, at = 0;
    size_t step = (size_t)(shape & 0x0F) * 7 + 1;
    *nouts = 0;
    while (at < len && nsegs < 64) {
        size_t piece = len - at < step || nsegs == 63 ? len - at : step;
        unsigned where = (unsigned)((shape >> 4) + nsegs) % 3;
        nocopy__iso_seg g = {.where = NC_ISO_SEG_INLINE, .pad = 0, .block = 0, .off = 0,
                             .len = piece};
        if (where == 1 && in_at + piece + NC_ISO_ALIGN <= REGION_BYTES) {
            /* An input block of its own, a little way into the region. */
            in_at = (in_at + NC_ISO_ALIGN - 1) / NC_ISO_ALIGN * NC_ISO_ALIGN;
            memcpy(vm_in.base + in_at, req + at, piece);
            g.where = NC_ISO_SEG_INPUT;
            g.block = in_at;
            g.off = in_at;
            in_at += piece;
        } else if (where == 2 && nocopy__iso_out_take(piece ? piece : 1, &g.off) == NOCOPY_OK) {
            memcpy(nocopy__iso.out.base + g.off, req + at, piece);
            g.where = NC_ISO_SEG_OUTPUT;
            outs[(*nouts)++] = g.off;
        } else {
            memcpy(inl + ninl, req + at, piece);
            g.off = ninl;
            ninl += piece;
        }
        segs[nsegs++] = g;
        at += piece;
    }
    nocopy__iso_call_body b = {.nsegs = (uint32_t)nsegs, .inline_bytes = (uint32_t)ninl};
    size_t n = sizeof(nocopy__iso_hdr);
    memcpy(msg + n, &b, sizeof b);
    n += sizeof b;
    memcpy(msg + n, segs, nsegs * sizeof *segs);
    n += nsegs * sizeof *segs;
    memcpy(msg + n, inl, ninl);
    free(inl);
    return n + ninl;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup_once();
    if (size < 1 || size > 32768)
        return 0;
    uint64_t outs[64];
    size_t nouts = 0, len;
    uint8_t *msg = malloc(NC_ISO_MSG_MAX);
    CHECK(msg);
    if (data[0] & 0x80) {
        len = sizeof(nocopy__iso_hdr) + size - 1;
        memcpy(msg + sizeof(nocopy__iso_hdr), data + 1, size - 1);
    } else {
        len = layout(data[0], data + 1, size - 1, msg, outs, &nouts);
    }
    nocopy__iso_hdr h = {.kind = NC_ISO_MSG_CALL, .seq = 0, .id = CALL_ID};
    memcpy(msg, &h, sizeof h);
    /* As the child's main: shrink to the message (ASan sees a read past it),
     * hold the output blocks it names, then run it. */
    nc_iso_call *call = malloc(sizeof *call);
    uint8_t *exact = malloc(len);
    CHECK(call && exact);
    memcpy(exact, msg, len);
    free(msg);
    call->id = CALL_ID;
    call->msg = exact;
    call->msg_len = len;
    nocopy__iso_call_hold_outputs(call);
    nocopy__iso_call_execute(call);
    free(exact);
    free(call);
    CHECK(drain() == 1);
    for (size_t i = 0; i < nouts; i++)
        nocopy__iso_out_unref(outs[i]);
    CHECK(!out_blocks_live());
    return 0;
}
