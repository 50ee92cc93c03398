/* fuzz_iso_reply.c: libFuzzer target for the VM's side of the isolated
 * backend as it decodes a REPLY from the child (c_src/iso_host/
 * nc_iso_host_reply.c, with the block accounting it calls,
 * nc_iso_host_blocks.c and nc_iso_host_ref.c): everything the VM reads from
 * the child is hostile. Runs over a fake erl_nif (fuzz/fake_erl_nif/), so no
 * VM is needed. Built by fuzz/fuzz.mk; `make test` replays
 * fuzz/corpus/iso_reply/ (seeds: fuzz/gen_iso_corpus.escript).
 *
 * Each input is a uint16 length (native order) N, then N bytes: one REPLY
 * body (after the 16-byte header), then whatever follows: bytes written at
 * the start of the output region, through a second, writable mapping (the
 * child's), for a spilled reply or a binary by reference to name. The VM's
 * own mapping of the output region is read-only, as in the VM. One input block (offset 0, 4096 bytes) is lent
 * to the call, so a reply may name it. Checked:
 *   - no crash, no read outside the message, the regions or the decoder's
 *     memory (ASan), no leak;
 *   - the outcome is either a well-formed message term ({nocopy_reply, Tag,
 *     {ok, V} | {'$nocopy_error', Reason, {Where, Text}}}) whose every
 *     binary lies inside the message's copy or a region block it may name,
 *     or no term and a reason;
 *   - once the terms are dropped: one RELEASE_OUT per output handover made
 *     (and per spilled reply), no handover left, every resource destroyed,
 *     the input block table empty and the incarnation back to one
 *     reference. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nc_iso_chan.h"
#include "nc_iso_host.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#include "fuzz_check.h"

#define REGION_BYTES ((size_t)1 << 20)
#define TAG 17

static ErlNifResourceType iso_rt, block_rt, out_rt;
static nc_host_iso *iso;
static nc_host_inc *inc;
static nocopy__iso_region child_out;   /* the child's writable mapping */
static int child_end = -1;
static ErlNifEnv *env;

static void discard(void *region, size_t off, size_t len)
{
    nocopy__iso_region_discard(region, off, len);
}

static void setup_once(void)
{
    if (inc)
        return;
    block_rt.dtor = nocopy__host_block_dtor;
    out_rt.dtor = nocopy__host_out_dtor;
    nocopy__host_iso_rt = &iso_rt;
    nocopy__host_block_rt = &block_rt;
    nocopy__host_out_rt = &out_rt;
    nc_host_atoms *a = &nocopy__host_am;
    a->ok = fake_atom("ok");
    a->error = fake_atom("error");
    a->true_ = fake_atom("true");
    a->false_ = fake_atom("false");
    a->undefined = fake_atom("undefined");
    a->nocopy_reply = fake_atom("nocopy_reply");
    a->error_tag = fake_atom("$nocopy_error");
    a->general = fake_atom("general");
    a->handle_tag = fake_atom("$nocopy_handle");
    a->ecrashed = fake_atom("ecrashed");
    a->eclosed = fake_atom("eclosed");
    a->eproto = fake_atom("eproto");
    a->nreasons = 0;
#define XX(name, value, ename, msg) a->reasons[a->nreasons++] = fake_atom(ename);
    NOCOPY_STATUS_MAP(XX)
#undef XX
    /* The isolate: a resource (handle terms name it), with three atoms. */
    iso = enif_alloc_resource(&iso_rt, sizeof *iso);
    CHECK(iso);
    memset(iso, 0, sizeof *iso);
    static ERL_NIF_TERM atoms[3];
    atoms[0] = fake_atom("red");
    atoms[1] = fake_atom("green");
    atoms[2] = fake_atom("blue");
    iso->atoms = atoms;
    iso->natoms = 3;
    /* The incarnation, as nocopy__host_inc_start makes it, less the child. */
    inc = enif_alloc(sizeof *inc);
    CHECK(inc);
    memset(inc, 0, sizeof *inc);
    atomic_init(&inc->refs, 1);
    atomic_init(&inc->outs, 0);
    inc->number = 1;
    inc->mu = enif_mutex_create("fuzz_inc");
    inc->child.pid = 0;
    inc->child.pidfd = -1;
    inc->wake = -1;                    /* no reader to wake: the queue is flushed by senders */
    CHECK(nocopy__iso_region_create(&inc->in, "fuzz_reply_in", REGION_BYTES, 1) == NOCOPY_OK);
    CHECK(nocopy__iso_region_create(&inc->out, "fuzz_reply_out", REGION_BYTES, 0) == NOCOPY_OK);
    CHECK(nocopy__iso_region_attach(&child_out, dup(inc->out.fd), REGION_BYTES, 1) ==
          NOCOPY_OK);
    CHECK(nocopy__iso_alloc_init(&inc->in_alloc, REGION_BYTES, discard, &inc->in) ==
          NOCOPY_OK);
    int fds[2];
    CHECK(nocopy__iso_chan_pair(fds, 1) == NOCOPY_OK);
    inc->chan = fds[0];
    child_end = fds[1];
    CHECK(fcntl(child_end, F_SETFL, O_NONBLOCK) == 0);
    env = fake_env_new();
}

/* ---- the decoded term ---------------------------------------------------------- */

static const fake_term *T(ERL_NIF_TERM t)
{
    return (const fake_term *)t;
}

static int inside(const unsigned char *p, size_t len, const uint8_t *base, size_t size)
{
    return p >= base && p <= base + size && len <= (size_t)(base + size - p);
}

static volatile unsigned sink;         /* the bytes read, so no read is elided */

/* Every term of the value, with an explicit stack; each binary's bytes read
 * (ASan sees a bad one) and checked to lie in a region or be the env's. */
static void walk(ERL_NIF_TERM root)
{
    size_t cap = 64, n = 0;
    ERL_NIF_TERM *stack = malloc(cap * sizeof *stack);
    CHECK(stack);
    stack[n++] = root;
    while (n > 0) {
        const fake_term *t = T(stack[--n]);
        switch (t->kind) {
        case FT_TUPLE:
        case FT_LIST:
            if (n + t->v.agg.n > cap) {
                while (n + t->v.agg.n > cap)
                    cap *= 2;
                stack = realloc(stack, cap * sizeof *stack);
                CHECK(stack);
            }
            for (size_t i = 0; i < t->v.agg.n; i++)
                stack[n++] = t->v.agg.kids[i];
            break;
        case FT_BIN:
            for (size_t i = 0; i < t->v.bin.len; i++)
                sink += t->v.bin.data[i];
            if (t->v.bin.res)
                CHECK(inside(t->v.bin.data, t->v.bin.len, inc->in.base, inc->in.size) ||
                      inside(t->v.bin.data, t->v.bin.len, inc->out.base, inc->out.size));
            break;
        case FT_ATOM:
            CHECK(t->v.atom != NULL);
            break;
        case FT_DOUBLE:
            CHECK(t->v.d == t->v.d && t->v.d - t->v.d == 0);   /* finite */
            break;
        default:
            break;
        }
    }
    free(stack);
}

static void check_message(ERL_NIF_TERM m)
{
    const fake_term *t = T(m);
    CHECK(t->kind == FT_TUPLE && t->v.agg.n == 3);
    CHECK(t->v.agg.kids[0] == nocopy__host_am.nocopy_reply);
    CHECK(T(t->v.agg.kids[1])->kind == FT_INT && T(t->v.agg.kids[1])->v.i == TAG);
    const fake_term *r = T(t->v.agg.kids[2]);
    CHECK(r->kind == FT_TUPLE);
    if (r->v.agg.n == 2) {
        CHECK(r->v.agg.kids[0] == nocopy__host_am.ok);
    } else {
        CHECK(r->v.agg.n == 3 && r->v.agg.kids[0] == nocopy__host_am.error_tag);
        CHECK(T(r->v.agg.kids[1])->kind == FT_ATOM);
        const fake_term *c = T(r->v.agg.kids[2]);
        CHECK(c->kind == FT_TUPLE && c->v.agg.n == 2 && T(c->v.agg.kids[1])->kind == FT_BIN);
    }
    walk(m);
}

/* The RELEASE_OUTs the VM sent the child. */
static size_t drain_releases(void)
{
    size_t n = 0, len;
    uint8_t buf[64];
    while (nocopy__iso_chan_recv(child_end, buf, sizeof buf, &len) == NOCOPY_OK) {
        nocopy__iso_hdr h;
        CHECK(len == sizeof h);
        memcpy(&h, buf, sizeof h);
        /* An empty binary may name the region's very end (offset == size):
         * its RELEASE_OUT names no block, and the child ignores it. */
        CHECK(h.kind == NC_ISO_MSG_RELEASE_OUT && h.id <= REGION_BYTES);
        n++;
    }
    return n;
}

/* ---- one input ------------------------------------------------------------------ */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup_once();
    uint16_t n16;
    if (size < 2 || size > REGION_BYTES)
        return 0;
    memcpy(&n16, data, 2);
    size_t len = n16 < size - 2 ? n16 : size - 2;
    static size_t last;                /* what the previous input wrote there */
    memset(child_out.base, 0, last);
    last = size - 2 - len;
    memcpy(child_out.base, data + 2 + len, last);
    /* The message as the reader receives it: its own buffer, exactly long. */
    uint8_t *body = malloc(len ? len : 1);
    CHECK(body);
    if (len)
        memcpy(body, data + 2, len);
    /* One input block lent to the call: offset 0 (the allocator's first). */
    nc_host_block *b = nocopy__host_block_new(inc, 4096);
    CHECK(b && b->off == 0);
    enif_mutex_lock(inc->mu);
    b->lent++;                         /* the new block's reference is the loan */
    enif_mutex_unlock(inc->mu);
    nc_host_call call = {.id = 1, .tag = TAG, .iso = iso, .lent = &b, .nlent = 1};
    const char *why = NULL;
    /* The decoder's stacks as the reader gives them (its own, per reply)
     * or as a calling NIF does (kept across replies, grown by earlier
     * inputs): by the body's length, so each input takes one, always. */
    static nc_host_stacks kept;
    ERL_NIF_TERM m = nocopy__host_reply_term(env, inc, &call, body, len, (len & 1) ? &kept : NULL,
                                             &why);
    long outs = atomic_load(&inc->outs);
    if (getenv("FUZZ_ISO_VERBOSE"))     /* what each input came to */
        fprintf(stderr, "%s, %ld handovers\n", m ? "a term" : why, outs);
    if (m)
        check_message(m);
    else
        CHECK(why != NULL && *why);
    free(body);
    /* Erlang drops the terms: every handover is released to the child. */
    fake_env_clear(env);
    CHECK(atomic_load(&inc->outs) == 0);
    size_t released = drain_releases();
    CHECK(released >= (size_t)outs);
    nocopy__host_block_return(b);      /* the reply (or the death) ends the call */
    CHECK(inc->nblocks == 0);
    CHECK(fake_resources_alive() == 1);   /* the isolate */
    CHECK(atomic_load(&inc->refs) == 1);
    return 0;
}
