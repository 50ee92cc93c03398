/* test_drv_wire.c: the driver request decoder's bounds (wire/nc_wire.c), on
 * requests built to be as expensive as the format allows. For a request of n
 * bytes the decoded tree may take at most NC_WIRE_TREE_BYTES_PER_BYTE * n +
 * NC_WIRE_TREE_BYTES_EXTRA bytes and the explicit stack at most
 * NC_WIRE_STACK_BYTES_PER_BYTE * n, success or failure; a declared arity is
 * charged before anything is allocated for it. (fuzz_drv_request checks the
 * same bounds on every input it tries.) */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "nc_wire.h"

/* ---- a counting allocator that frees everything at once ---------------------------- */

/* Bump allocation in 1 MiB chunks: a million small nodes must not cost a
 * million mallocs (under ASan and a loaded machine that took over a minute). */
#define CHUNK (1u << 20)

typedef struct counted {
    void **chunks;
    size_t n, cap;
    size_t used;                 /* in the newest chunk */
    size_t total, largest;
} counted;

static void *counted_alloc(void *ctx, size_t size)
{
    counted *a = ctx;
    size_t need = (size + 15) & ~(size_t)15;
    a->total += size;
    if (size > a->largest)
        a->largest = size;
    if (a->n == 0 || need > CHUNK - a->used) {
        if (a->n == a->cap) {
            a->cap = a->cap ? a->cap * 2 : 64;
            void **c = realloc(a->chunks, a->cap * sizeof *c);
            if (!c)
                return NULL;
            a->chunks = c;
        }
        size_t sz = need > CHUNK ? need : CHUNK;
        void *p = malloc(sz);
        if (!p)
            return NULL;
        a->chunks[a->n++] = p;
        a->used = need > CHUNK ? CHUNK : need;
        return p;
    }
    void *p = (unsigned char *)a->chunks[a->n - 1] + a->used;
    a->used += need;
    return p;
}

static void counted_free(counted *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->chunks[i]);
    free(a->chunks);
    memset(a, 0, sizeof *a);
}

/* ---- building requests --------------------------------------------------------------- */

/* A request being built. Version 5 puts the kinds of the tag and of the argc
 * top-level arguments together right after the fixed header, and their bodies
 * after those: request() writes the header, the tag's kind, a placeholder
 * kind per argument and the tag's body; arg() fills the next argument's
 * placeholder, and the caller then puts that argument's body only. Terms
 * inside a tuple or a list cell keep their kind byte inline, before their
 * body, and are put as they are. A placeholder left unfilled ('?') is an
 * unknown kind, so a test that forgets an arg() fails. */
typedef struct buf {
    uint8_t *p;
    size_t n, cap;
    size_t kind, kinds_end;      /* the next argument's placeholder; the kinds' end */
} buf;

static void put(buf *b, const void *data, size_t len)
{
    if (b->n + len > b->cap) {
        b->cap = (b->n + len) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            abort();
    }
    memcpy(b->p + b->n, data, len);
    b->n += len;
}

static void put_u8(buf *b, uint8_t v) { put(b, &v, 1); }

static void put_be(buf *b, uint64_t v, unsigned bytes)
{
    for (unsigned i = bytes; i-- > 0;)
        put_u8(b, (uint8_t)(v >> (8 * i)));
}

/* The fixed header only (15 bytes): the kinds are the caller's. */
static buf header(uint32_t argc)
{
    buf b = {0};
    put(&b, "nc", 2);
    put_u8(&b, NC_WIRE_VERSION);
    put_be(&b, 0x12345678, 4);       /* module fingerprint: not the decoder's business */
    put_be(&b, 3, 4);                /* function */
    put_be(&b, argc, 4);
    return b;
}

/* The fixed header, the kinds (the tag's, then argc placeholders) and the
 * tag's body: then the arguments' bodies follow, each after its arg(). */
static buf request_tagged(uint32_t argc, uint8_t tag_kind, const void *tag_body, size_t len)
{
    buf b = header(argc);
    put_u8(&b, tag_kind);
    b.kind = b.n;
    for (uint32_t i = 0; i < argc; i++)
        put_u8(&b, '?');
    b.kinds_end = b.n;
    put(&b, tag_body, len);
    return b;
}

/* With the integer tag 42. */
static buf request(uint32_t argc)
{
    static const uint8_t tag[8] = {0, 0, 0, 0, 0, 0, 0, 42};
    return request_tagged(argc, 'i', tag, sizeof tag);
}

/* The next top-level argument: writes its kind into its placeholder (the
 * caller then puts its body); returns that kind byte's offset. */
static size_t arg(buf *b, uint8_t kind)
{
    if (b->kind >= b->kinds_end) {
        fprintf(stderr, "arg(): more arguments than request() declared\n");
        abort();
    }
    b->p[b->kind] = kind;
    return b->kind++;
}

/* Whether every placeholder was filled (a buffer made of a prefix has none). */
static int kinds_filled(const buf *b)
{
    return b->kind == b->kinds_end;
}

/* ---- the one-pass path (nocopy__wire_decode_flat) ---------------------------------- */

/* Requests the one-pass path took, over all the tests: a test below checks
 * that it takes the stubs' shapes, and this that the others reach it too. */
static size_t flat_taken;

/* The same node, read from the same segments: the same views and owners. */
static int same_flat_node(const nocopy__wire_node *x, const nocopy__wire_node *y)
{
    if (x->kind != y->kind || x->arity != y->arity)
        return 0;
    switch (x->kind) {
    case NC_W_INT: return x->v.i == y->v.i;
    case NC_W_UINT: return x->v.u == y->v.u;
    case NC_W_FLOAT: return memcmp(&x->v.f, &y->v.f, sizeof x->v.f) == 0;
    case NC_W_HANDLE: return x->v.handle.id == y->v.handle.id && !x->v.handle.obj &&
                             !y->v.handle.obj;
    case NC_W_BINARY:
        return x->v.bytes.data == y->v.bytes.data && x->v.bytes.len == y->v.bytes.len &&
               x->v.bytes.binref == y->v.bytes.binref;
    case NC_W_IODATA:
        if (x->v.iov.count != y->v.iov.count || x->v.iov.total != y->v.iov.total)
            return 0;
        for (size_t i = 0; i < x->v.iov.count; i++)
            if (x->v.iov.pieces[i].data != y->v.iov.pieces[i].data ||
                x->v.iov.pieces[i].size != y->v.iov.pieces[i].size ||
                nocopy__wire_iov_binref(x, i) != nocopy__wire_iov_binref(y, i))
                return 0;
        return 1;
    default:
        return 0;                /* the one-pass path makes no other kind */
    }
}

/* The position of handle node n among the arguments, or -1. */
static long arg_index(const nocopy__wreq *req, const nocopy__wire_node *n)
{
    for (uint32_t i = 0; i < req->argc; i++)
        if ((const nocopy__wire_node *)req->argv[i] == n)
            return (long)i;
    return -1;
}

/* The one-pass decode of the same segments: when it takes the request, the
 * three steps must have taken it too, with the same nodes (the same views,
 * owners and handle chain); when it does not, nothing is asked of it. Its
 * allocations (iodata pieces only) stay within the tree's bound. 0: agreed. */
static int flat_agrees(const nocopy__wire_segment *segs, size_t nsegs, size_t total,
                       int general_rc, const nocopy__wreq *general)
{
    enum { MAX = 8 };
    uintptr_t argv[MAX];
    nocopy__wire_node nodes[MAX];
    nocopy__wreq flat;
    counted a = {0};
    int r = nocopy__wire_decode_flat(segs, nsegs, total, &flat, argv, nodes, MAX,
                                     counted_alloc, &a);
    int ok = 1;
    if (r == NOCOPY_OK) {
        flat_taken++;
        ok = general_rc == NOCOPY_OK && flat.module == general->module &&
             flat.func == general->func && flat.argc == general->argc &&
             flat.tag_kind == NC_WTAG_INT && general->tag_kind == NC_WTAG_INT &&
             flat.tag_int == general->tag_int && flat.binary_bytes == general->binary_bytes &&
             flat.nodes == general->nodes && a.total == flat.tree_bytes &&
             a.total <= NC_WIRE_TREE_BYTES_PER_BYTE * total + NC_WIRE_TREE_BYTES_EXTRA;
        for (uint32_t i = 0; ok && i < flat.argc; i++)
            ok = same_flat_node((const nocopy__wire_node *)flat.argv[i],
                           (const nocopy__wire_node *)general->argv[i]);
        const nocopy__wire_node *x = flat.handles, *y = general->handles;
        for (; ok && x && y; x = x->v.handle.next, y = y->v.handle.next)
            ok = arg_index(&flat, x) == arg_index(general, y) && arg_index(&flat, x) >= 0;
        ok = ok && !x && !y;
    } else {
        ok = r == NC_WIRE_NOT_FLAT;
    }
    counted_free(&a);
    if (!ok)
        fprintf(stderr, "the one-pass decode (%d) disagrees with the three steps (%d)\n", r,
                general_rc);
    return ok ? 0 : -103;
}

/* Decodes b as one segment; checks the bounds whatever the outcome. */
static int decode(const buf *b, nocopy__wreq *req, counted *a)
{
    if (!kinds_filled(b)) {
        fprintf(stderr, "an argument's kind was never written (arg())\n");
        return -102;
    }
    nocopy__wire_segment seg = {b->p, b->n, NULL};
    int r = nocopy__wire_decode(&seg, 1, counted_alloc, a, req);
    if (flat_agrees(&seg, 1, b->n, r, req) != 0)
        return -103;
    if (a->total != req->tree_bytes ||
        a->total > NC_WIRE_TREE_BYTES_PER_BYTE * b->n + NC_WIRE_TREE_BYTES_EXTRA ||
        req->stack_bytes > NC_WIRE_STACK_BYTES_PER_BYTE * b->n) {
        fprintf(stderr, "bounds broken: %zu-byte request, tree %zu (counted %zu), stack %zu\n",
                b->n, req->tree_bytes, a->total, req->stack_bytes);
        return -100;
    }
    return r;
}

/* ---- the request of issue 9: nested tuples that lie about their arity --------------- */

/* Every tuple declares as many elements as bytes follow its header, and the
 * request ends after the last header. Before the budget it decoded into
 * memory quadratic in its size (a 1 MB request: 836 MB); now the second
 * tuple is refused and the decoder has allocated the first one's slots and
 * nodes only. (The outer tuple is the argument: its kind is among the kinds,
 * so its header in the stream is its arity alone; the counts are as in
 * version 4, where its 'T' sat before its arity.) */
static buf lying_tuples(size_t levels)
{
    buf b = request(1);
    arg(&b, 'T');
    put_be(&b, (uint64_t)(levels - 1) * 5, 4);
    for (size_t i = 1; i < levels; i++) {
        put_u8(&b, 'T');
        put_be(&b, (uint64_t)(levels - 1 - i) * 5, 4);
    }
    return b;
}

TEST(drv_wire_lying_tuples_at_the_term_limit)
{
    /* At the term limit (5 MiB) the first tuple already declares more terms
     * than a request may hold; a smaller one gets past the first tuple, whose
     * elements then leave no bytes for the second's. */
    static const struct {
        size_t levels;
        const char *why;
    } cases[] = {{NC_WIRE_MAX_TERMS, "more than 1048576 terms"},
                 {1000, "tuple of 4990 terms but only 4990 bytes left for them and 4994 other"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        buf b = lying_tuples(cases[i].levels);
        counted a = {0};
        nocopy__wreq req;
        CHECK_EQ(decode(&b, &req, &a), NOCOPY_EPROTO);
        if (!strstr(req.err, cases[i].why)) {
            fprintf(stderr, "unexpected error: %s\n", req.err);
            return 1;
        }
        /* At most the first tuple's slots and nodes (made when declared). */
        CHECK_LE_U(a.total,
                   (size_t)(cases[i].levels * 5 * (8 + sizeof(nocopy__wire_node)) + 256));
        CHECK_EQ(req.stack_bytes, 0);
        counted_free(&a);
        free(b.p);
    }
    return 0;
}

/* 1000 arguments declared, the kinds (and bodies) of 3 sent. Version 5
 * charges the argument count against the kinds, which must all follow the
 * header (argc + 1 bytes): refused by nocopy__wire_begin, before the tag and
 * before any slot. (drv_wire_too_short_for_the_kinds tries more lengths.) */
TEST(drv_wire_lying_argument_count)
{
    buf b = header(1000);
    put(&b, "innn", 4);
    put_be(&b, 42, 8);
    counted a = {0};
    nocopy__wreq req;
    CHECK_EQ(decode(&b, &req, &a), NOCOPY_EPROTO);
    CHECK_EQ(a.total, 0);                              /* refused before any slot */
    CHECK_EQ(req.tag_kind, NC_WTAG_NONE);
    counted_free(&a);
    free(b.p);
    return 0;
}

/* ---- the most expensive requests that are honest ------------------------------------- */

/* A tuple of k one-byte terms: a node and a slot per element, the densest
 * tree per byte. */
TEST(drv_wire_wide_tuple_within_bounds)
{
    size_t k = 200000;
    buf b = request(1);
    arg(&b, 'T');
    put_be(&b, k, 4);
    for (size_t i = 0; i < k; i++)
        put_u8(&b, 'n');
    counted a = {0};
    nocopy__wreq req;
    CHECK_EQ(decode(&b, &req, &a), NOCOPY_OK);
    CHECK_EQ(req.nodes, k + 1);
    counted_free(&a);
    free(b.p);
    return 0;
}

/* [[[...[] ...]]]: a left-nested list, one frame deeper per byte (the
 * deepest stack per byte), cut short or complete. */
TEST(drv_wire_left_nested_list_within_bounds)
{
    size_t depth = 300000;
    for (int complete = 0; complete <= 1; complete++) {
        buf b = request(1);
        arg(&b, 'c');
        for (size_t i = 1; i < depth; i++)
            put_u8(&b, 'c');
        if (complete)
            for (size_t i = 0; i < depth + 1; i++)
                put_u8(&b, 'n');
        counted a = {0};
        nocopy__wreq req;
        CHECK_EQ(decode(&b, &req, &a), complete ? NOCOPY_OK : NOCOPY_EPROTO);
        CHECK(req.stack_bytes > 0);                    /* it went deep */
        counted_free(&a);
        free(b.p);
    }
    return 0;
}

/* Tuples of one element nested to the term limit: decoded in full (one node
 * and one slot each), and one more term is refused. */
TEST(drv_wire_term_limit)
{
    for (size_t extra = 0; extra <= 1; extra++) {
        size_t levels = NC_WIRE_MAX_TERMS - 1 + extra;  /* + the innermost [] */
        buf b = request(1);
        arg(&b, 'T');
        put_be(&b, 1, 4);
        for (size_t i = 1; i < levels; i++) {
            put_u8(&b, 'T');
            put_be(&b, 1, 4);
        }
        put_u8(&b, 'n');
        counted a = {0};
        nocopy__wreq req;
        int r = decode(&b, &req, &a);
        if (extra) {
            CHECK_EQ(r, NOCOPY_EPROTO);
            CHECK(strstr(req.err, "more than") != NULL);
        } else {
            CHECK_EQ(r, NOCOPY_OK);
            CHECK_EQ(req.nodes, NC_WIRE_MAX_TERMS);
        }
        counted_free(&a);
        free(b.p);
    }
    return 0;
}

/* Every prefix of an honest request fails with bounded memory too. */
TEST(drv_wire_prefixes_within_bounds)
{
    buf b = request(3);
    arg(&b, 'T');
    put_be(&b, 3, 4);
    put(&b, "cncnn", 5);
    put_u8(&b, 'b');
    put_be(&b, 4, 8);
    put(&b, "abcd", 4);
    put_u8(&b, 'i');
    put_be(&b, 7, 8);
    arg(&b, 'c');
    put(&b, "nn", 2);
    arg(&b, 'a');
    put_be(&b, 2, 2);
    put(&b, "ok", 2);
    for (size_t len = 0; len <= b.n; len++) {
        buf prefix = {.p = b.p, .n = len, .cap = len};
        counted a = {0};
        nocopy__wreq req;
        int r = decode(&prefix, &req, &a);
        CHECK_EQ(r, len == b.n ? NOCOPY_OK : NOCOPY_EPROTO);
        counted_free(&a);
    }
    free(b.p);
    return 0;
}

/* ---- iodata ("v"): the I/O list's bytes where the runtime put them ------------------- */

/* Decodes b cut into segments of the given lengths (their sum is b->n), each
 * segment's binref its own address; checks the bounds as decode() does. */
static int decode_cut(const buf *b, const size_t *lens, size_t nsegs, nocopy__wire_segment *segs,
                      nocopy__wreq *req, counted *a)
{
    if (!kinds_filled(b)) {
        fprintf(stderr, "an argument's kind was never written (arg())\n");
        return -102;
    }
    size_t at = 0;
    for (size_t i = 0; i < nsegs; i++) {
        segs[i] = (nocopy__wire_segment){b->p + at, lens[i], &segs[i]};
        at += lens[i];
    }
    if (at != b->n)
        return -101;
    int r = nocopy__wire_decode(segs, nsegs, counted_alloc, a, req);
    if (flat_agrees(segs, nsegs, b->n, r, req) != 0)
        return -103;
    if (a->total != req->tree_bytes ||
        a->total > NC_WIRE_TREE_BYTES_PER_BYTE * b->n + NC_WIRE_TREE_BYTES_EXTRA)
        return -100;
    return r;
}

/* An iodata argument between two others, spread over four segments (one of
 * them empty): one piece per segment it touches, in order, each with its
 * segment's owner, and the next argument read right after it. */
TEST(drv_wire_iodata_pieces_follow_the_segments)
{
    buf b = request(3);
    arg(&b, 'i');
    put_be(&b, 7, 8);
    arg(&b, 'v');
    put_be(&b, 10, 8);
    size_t head = b.n;                     /* where the iodata's bytes start */
    put(&b, "0123456789", 10);
    arg(&b, 'n');                          /* [] has no body: its kind is all */
    /* Segments: the header and the first 3 bytes; nothing; 5 bytes; the last
     * 2 bytes (the "n" is among the kinds, in the first segment). */
    size_t lens[4] = {head + 3, 0, 5, 2};
    nocopy__wire_segment segs[4];
    counted a = {0};
    nocopy__wreq req;
    CHECK_EQ(decode_cut(&b, lens, 4, segs, &req, &a), NOCOPY_OK);
    CHECK_EQ(req.argc, 3);
    const nocopy__wire_node *io = (const nocopy__wire_node *)req.argv[1];
    CHECK_EQ(io->kind, NC_W_IODATA);
    CHECK_EQ(io->v.iov.count, 3);
    CHECK_EQ(io->v.iov.total, 10);
    CHECK_EQ(io->v.iov.pieces[0].size, 3);
    CHECK_EQ(io->v.iov.pieces[1].size, 5);
    CHECK_EQ(io->v.iov.pieces[2].size, 2);
    CHECK(io->v.iov.pieces[0].data == b.p + head);        /* views, no copy */
    CHECK(memcmp(io->v.iov.pieces[1].data, "34567", 5) == 0);
    CHECK(memcmp(io->v.iov.pieces[2].data, "89", 2) == 0);
    CHECK(nocopy__wire_iov_binref(io, 0) == &segs[0]);
    CHECK(nocopy__wire_iov_binref(io, 1) == &segs[2]);
    CHECK(nocopy__wire_iov_binref(io, 2) == &segs[3]);
    CHECK_EQ(((const nocopy__wire_node *)req.argv[2])->kind, NC_W_NIL);
    CHECK_EQ(req.binary_bytes, 10);
    counted_free(&a);
    free(b.p);
    return 0;
}

/* An iodata argument cut at every pair of places, with an empty segment at
 * each cut, decoded through the driver's three steps with the total given
 * (nocopy__wire_begin_sized): its pieces hold its bytes in order, the term
 * after it is read where it lies, and a request cut short in that term fails
 * at the same stream offset whatever the cuts (the cursor's place after the
 * pieces is the stream's). */
TEST(drv_wire_iodata_every_two_cuts)
{
    for (int truncated = 0; truncated <= 1; truncated++) {
        buf b = request(2);
        arg(&b, 'v');
        put_be(&b, 10, 8);
        size_t head = b.n;
        put(&b, "0123456789", 10);
        arg(&b, 'i');
        put_be(&b, 5, truncated ? 4 : 8);
        for (size_t i = head; i <= head + 10; i++)
            for (size_t j = i; j <= head + 10; j++) {
                size_t lens[5] = {i, 0, j - i, 0, b.n - j};
                nocopy__wire_segment segs[5];
                size_t at = 0;
                for (size_t k = 0; k < 5; k++) {
                    segs[k] = (nocopy__wire_segment){b.p + at, lens[k], &segs[k]};
                    at += lens[k];
                }
                counted a = {0};
                nocopy__wreq req;
                nocopy__wreader rd;
                int r = nocopy__wire_begin_sized(&rd, segs, 5, b.n, &req);
                if (r == NOCOPY_OK)
                    r = nocopy__wire_read_tag(&rd, counted_alloc, &a, &req);
                if (r == NOCOPY_OK)
                    r = nocopy__wire_read_args(&rd, counted_alloc, &a, &req);
                if (truncated) {
                    CHECK_EQ(r, NOCOPY_EPROTO);
                    CHECK(strstr(req.err, "truncated integer") != NULL);
                    CHECK_EQ(req.err_offset, b.n - 4);    /* where the integer starts */
                } else {
                    CHECK_EQ(r, NOCOPY_OK);
                    const nocopy__wire_node *io = (const nocopy__wire_node *)req.argv[0];
                    CHECK_EQ(io->kind, NC_W_IODATA);
                    CHECK_EQ(io->v.iov.total, 10);
                    size_t got = 0;
                    for (size_t k = 0; k < io->v.iov.count; k++) {
                        CHECK(io->v.iov.pieces[k].size > 0);
                        CHECK(memcmp(io->v.iov.pieces[k].data, "0123456789" + got,
                                     io->v.iov.pieces[k].size) == 0);
                        got += io->v.iov.pieces[k].size;
                    }
                    CHECK_EQ(got, 10);
                    CHECK_EQ(io->v.iov.count, (size_t)(i > head) + (j > i) + (head + 10 > j));
                    const nocopy__wire_node *n = (const nocopy__wire_node *)req.argv[1];
                    CHECK_EQ(n->kind, NC_W_INT);
                    CHECK_EQ(n->v.i, 5);
                }
                counted_free(&a);
            }
        free(b.p);
    }
    return 0;
}

/* The rest of an iodata node (pieces + 1, count - 1) keeps the right owners:
 * what a list cell's tail is made of. */
TEST(drv_wire_iodata_rest_keeps_owners)
{
    buf b = request(1);
    arg(&b, 'v');
    put_be(&b, 6, 8);
    size_t head = b.n;
    put(&b, "abcdef", 6);
    size_t lens[4] = {head + 1, 2, 2, 1};
    nocopy__wire_segment segs[4];
    counted a = {0};
    nocopy__wreq req;
    CHECK_EQ(decode_cut(&b, lens, 4, segs, &req, &a), NOCOPY_OK);
    nocopy__wire_node rest = *(const nocopy__wire_node *)req.argv[0];
    for (size_t k = 0; k < 4; k++) {
        CHECK_EQ(rest.v.iov.count, 4 - k);
        for (size_t i = 0; i < rest.v.iov.count; i++)
            CHECK(nocopy__wire_iov_binref(&rest, i) == &segs[k + i]);
        rest.v.iov.total -= rest.v.iov.pieces[0].size;
        rest.v.iov.pieces++;
        rest.v.iov.count--;
    }
    CHECK_EQ(rest.v.iov.total, 0);
    counted_free(&a);
    free(b.p);
    return 0;
}

/* Refused: more bytes than the request has left, or a length cut short. An
 * empty one is no piece at all. */
TEST(drv_wire_iodata_lengths)
{
    counted a = {0};
    nocopy__wreq req;
    buf b = request(1);
    arg(&b, 'v');
    put_be(&b, 5, 8);
    put(&b, "abcd", 4);
    CHECK_EQ(decode(&b, &req, &a), NOCOPY_EPROTO);
    CHECK(strstr(req.err, "iodata of 5 bytes but only 4 bytes left for it and 0 other terms") != NULL);
    counted_free(&a);
    free(b.p);

    b = request(1);
    arg(&b, 'v');
    put_be(&b, 0, 4);
    CHECK_EQ(decode(&b, &req, &a), NOCOPY_EPROTO);
    CHECK(strstr(req.err, "truncated iodata length") != NULL);
    counted_free(&a);
    free(b.p);

    b = request(1);
    arg(&b, 'v');
    put_be(&b, 0, 8);
    CHECK_EQ(decode(&b, &req, &a), NOCOPY_OK);
    const nocopy__wire_node *io = (const nocopy__wire_node *)req.argv[0];
    CHECK_EQ(io->kind, NC_W_IODATA);
    CHECK_EQ(io->v.iov.count, 0);
    CHECK_EQ(io->v.iov.total, 0);
    counted_free(&a);
    free(b.p);
    return 0;
}

/* The most pieces a request can hold (one byte per segment, as many iodata
 * arguments as fit) stays within the tree's bound: 24 bytes a piece. */
TEST(drv_wire_iodata_one_byte_pieces_within_bounds)
{
    enum { ARGS = 4, BYTES = 4096 };
    buf b = request(ARGS);
    size_t head = b.n;
    for (int k = 0; k < ARGS; k++) {
        arg(&b, 'v');
        put_be(&b, BYTES, 8);
        for (int i = 0; i < BYTES; i++)
            put_u8(&b, (uint8_t)i);
    }
    size_t nsegs = 1 + (b.n - head);
    size_t *lens = malloc(nsegs * sizeof *lens);
    nocopy__wire_segment *segs = malloc(nsegs * sizeof *segs);
    CHECK_NOT_NULL(lens);
    CHECK_NOT_NULL(segs);
    lens[0] = head;
    for (size_t i = 1; i < nsegs; i++)
        lens[i] = 1;
    counted a = {0};
    nocopy__wreq req;
    CHECK_EQ(decode_cut(&b, lens, nsegs, segs, &req, &a), NOCOPY_OK);
    for (int k = 0; k < ARGS; k++) {
        const nocopy__wire_node *io = (const nocopy__wire_node *)req.argv[k];
        CHECK_EQ(io->v.iov.count, BYTES);
        CHECK_EQ(io->v.iov.pieces[BYTES - 1].data[0], (uint8_t)(BYTES - 1));
    }
    counted_free(&a);
    free(lens);
    free(segs);
    free(b.p);
    return 0;
}

/* A tuple declares as many elements as bytes follow, and its first element is
 * iodata claiming all those bytes, in one-byte segments: the elements' nodes
 * exist once declared, so the iodata may not take the bytes they need (else
 * nodes and pieces would both be charged for the same bytes). Refused, within
 * the bound. */
TEST(drv_wire_iodata_cannot_take_declared_bytes)
{
    enum { BYTES = 2000 };
    buf b = request(1);
    arg(&b, 'T');
    put_be(&b, BYTES + 9, 4);                /* each of them a byte of what follows */
    put_u8(&b, 'v');
    put_be(&b, BYTES, 8);
    size_t head = b.n;
    for (int i = 0; i < BYTES; i++)
        put_u8(&b, 'n');
    size_t nsegs = 1 + BYTES;
    size_t *lens = malloc(nsegs * sizeof *lens);
    nocopy__wire_segment *segs = malloc(nsegs * sizeof *segs);
    CHECK_NOT_NULL(lens);
    CHECK_NOT_NULL(segs);
    lens[0] = head;
    for (size_t i = 1; i < nsegs; i++)
        lens[i] = 1;
    counted a = {0};
    nocopy__wreq req;
    int r = decode_cut(&b, lens, nsegs, segs, &req, &a);
    CHECK_EQ(r, NOCOPY_EPROTO);
    CHECK(strstr(req.err, "other terms") != NULL);
    counted_free(&a);
    free(lens);
    free(segs);
    free(b.p);
    return 0;
}

/* ---- terms that run to the end of the request ("B", "V") ---------------------------- */

/* The last argument as "V": its pieces are the rest of the request, wherever
 * the segments cut it; as "B": the rest of the request as one binary, refused
 * when it straddles segments. Either, before another argument or inside a
 * tuple with elements after it, is refused at its own offset (it would take
 * their bytes); of no bytes, it is an empty list or binary. */
TEST(drv_wire_terms_to_the_end)
{
    counted a = {0};
    nocopy__wreq req;

    buf b = request(2);
    arg(&b, 'i');
    put_be(&b, 7, 8);
    size_t kind_at = arg(&b, 'V');            /* among the kinds; "V" has no body */
    size_t head = b.n;
    put(&b, "0123456789", 10);
    size_t lens[3] = {head + 4, 0, 6};
    nocopy__wire_segment segs[3];
    CHECK_EQ(decode_cut(&b, lens, 3, segs, &req, &a), NOCOPY_OK);
    const nocopy__wire_node *io = (const nocopy__wire_node *)req.argv[1];
    CHECK_EQ(io->kind, NC_W_IODATA);
    CHECK_EQ(io->v.iov.total, 10);
    CHECK_EQ(io->v.iov.count, 2);
    CHECK(io->v.iov.pieces[0].data == b.p + head);
    CHECK_EQ(io->v.iov.pieces[0].size, 4);
    CHECK(memcmp(io->v.iov.pieces[1].data, "456789", 6) == 0);
    CHECK(nocopy__wire_iov_binref(io, 1) == &segs[2]);
    CHECK_EQ(req.binary_bytes, 10);
    counted_free(&a);

    /* "B" over the same bytes: in one segment a binary, cut it straddles. */
    b.p[kind_at] = 'B';
    CHECK_EQ(decode(&b, &req, &a), NOCOPY_OK);
    const nocopy__wire_node *bin = (const nocopy__wire_node *)req.argv[1];
    CHECK_EQ(bin->kind, NC_W_BINARY);
    CHECK(bin->v.bytes.data == b.p + head);
    CHECK_EQ(bin->v.bytes.len, 10);
    CHECK_EQ(req.binary_bytes, 10);
    counted_free(&a);
    CHECK_EQ(decode_cut(&b, lens, 3, segs, &req, &a), NOCOPY_EPROTO);
    CHECK(strstr(req.err, "straddles") != NULL);
    counted_free(&a);

    /* Of no bytes: [] and <<>>. */
    for (int k = 0; k < 2; k++) {
        buf e = request(1);
        arg(&e, k ? 'B' : 'V');
        CHECK_EQ(decode(&e, &req, &a), NOCOPY_OK);
        const nocopy__wire_node *n = (const nocopy__wire_node *)req.argv[0];
        CHECK_EQ(n->kind, k ? NC_W_BINARY : NC_W_IODATA);
        CHECK_EQ(k ? n->v.bytes.len : n->v.iov.count, 0);
        counted_free(&a);
        free(e.p);
    }

    /* Not the last term: before an argument, and as a tuple's first element.
     * The error is where its bytes start: as an argument its kind is among
     * the kinds, so that is `at`; inside the tuple its kind is inline, at
     * `at`, and its bytes start after it. (The argument after it is a [],
     * whose body is empty: the bytes it would need are its kind's, already
     * read, and still the "B" or "V" is refused.) */
    for (int k = 0; k < 4; k++) {
        buf e = request(k < 2 ? 2 : 1);
        size_t at;
        if (k >= 2) {
            arg(&e, 'T');
            put_be(&e, 2, 4);
            at = e.n;
            put_u8(&e, k % 2 ? 'B' : 'V');
        } else {
            arg(&e, k % 2 ? 'B' : 'V');
            at = e.n;
        }
        put(&e, "abc", 3);
        if (k >= 2)
            put_u8(&e, 'n');
        else
            arg(&e, 'n');
        CHECK_EQ(decode(&e, &req, &a), NOCOPY_EPROTO);
        CHECK(strstr(req.err, "to the end of the request before 1 more terms") != NULL);
        CHECK_EQ(req.err_offset, k >= 2 ? at + 1 : at);
        counted_free(&a);
        free(e.p);
    }
    free(b.p);
    return 0;
}

/* ---- the cursor across segment boundaries ------------------------------------------ */

/* One request, cut into two segments at every byte (with an empty segment at
 * the cut, as outputv's driver header is): the fixed-size fields are gathered
 * across the cut and decode as in one segment; a cut inside an atom's or a
 * binary's payload is refused as straddling, at the payload's offset. And every
 * prefix, cut the same way, fails at the same stream offset as uncut: the
 * cursor's position is the stream's, wherever the cuts are. */
TEST(drv_wire_every_cut_decodes_as_one_segment)
{
    buf b = request(4);
    arg(&b, 'T');
    put_be(&b, 2, 4);
    put_u8(&b, 'u');
    put_be(&b, UINT64_MAX, 8);
    put_u8(&b, 'a');
    put_be(&b, 3, 2);
    size_t atom_at = b.n;
    put(&b, "abc", 3);
    arg(&b, 'h');
    put_be(&b, 0x0102030405060708ull, 8);
    arg(&b, 'f');
    put_be(&b, 0x3ff8000000000000ull, 8);       /* 1.5 */
    arg(&b, 'b');
    put_be(&b, 5, 8);
    size_t bin_at = b.n;
    put(&b, "hello", 5);

    for (size_t cut = 0; cut <= b.n; cut++) {
        size_t lens[3] = {cut, 0, b.n - cut};
        nocopy__wire_segment segs[3];
        counted a = {0};
        nocopy__wreq req;
        int r = decode_cut(&b, lens, 3, segs, &req, &a);
        int straddles = (cut > atom_at && cut < atom_at + 3) || (cut > bin_at && cut < bin_at + 5);
        if (straddles) {
            CHECK_EQ(r, NOCOPY_EPROTO);
            CHECK(strstr(req.err, "straddles") != NULL);
            CHECK_EQ(req.err_offset, cut > bin_at ? bin_at : atom_at);
        } else {
            CHECK_EQ(r, NOCOPY_OK);
            CHECK_EQ(req.tag_int, 42);
            CHECK_EQ(req.argc, 4);
            const nocopy__wire_node *t = (const nocopy__wire_node *)req.argv[0];
            CHECK_EQ(t->kind, NC_W_TUPLE);
            const nocopy__wire_node *u = (const nocopy__wire_node *)t->v.elems[0];
            const nocopy__wire_node *at = (const nocopy__wire_node *)t->v.elems[1];
            CHECK_EQ(u->kind, NC_W_UINT);
            CHECK(u->v.u == UINT64_MAX);
            CHECK_EQ(at->kind, NC_W_ATOM);
            CHECK(at->v.bytes.data == b.p + atom_at);
            CHECK(at->v.bytes.binref == &segs[cut <= atom_at ? 2 : 0]);
            const nocopy__wire_node *h = (const nocopy__wire_node *)req.argv[1];
            CHECK_EQ(h->kind, NC_W_HANDLE);
            CHECK(h->v.handle.id == 0x0102030405060708ull);
            const nocopy__wire_node *f = (const nocopy__wire_node *)req.argv[2];
            CHECK_EQ(f->kind, NC_W_FLOAT);
            CHECK(f->v.f == 1.5);
            const nocopy__wire_node *bin = (const nocopy__wire_node *)req.argv[3];
            CHECK_EQ(bin->kind, NC_W_BINARY);
            CHECK_EQ(bin->v.bytes.len, 5);
            CHECK(bin->v.bytes.data == b.p + bin_at);
            CHECK(bin->v.bytes.binref == &segs[cut <= bin_at ? 2 : 0]);
            CHECK_EQ(req.binary_bytes, 5);
        }
        counted_free(&a);

        /* The prefix of `cut` bytes, cut in the middle, against itself uncut. */
        buf prefix = {.p = b.p, .n = cut, .cap = cut};
        nocopy__wreq whole, split;
        counted a1 = {0}, a2 = {0};
        int r1 = decode(&prefix, &whole, &a1);
        size_t plens[3] = {cut / 2, 0, cut - cut / 2};
        int r2 = decode_cut(&prefix, plens, 3, segs, &split, &a2);
        if (cut < b.n) {
            CHECK_EQ(r1, NOCOPY_EPROTO);
            CHECK_EQ(r2, NOCOPY_EPROTO);
        }
        if (r1 == NOCOPY_EPROTO && r2 == NOCOPY_EPROTO && !strstr(split.err, "straddles")) {
            CHECK_EQ(split.err_offset, whole.err_offset);
            CHECK(strcmp(split.err, whole.err) == 0);
        }
        counted_free(&a1);
        counted_free(&a2);
    }
    free(b.p);
    return 0;
}

/* ---- the leading scalars' fast path ------------------------------------------------ */

/* Leading integers, handles and floats are read by a fast loop while their
 * kind (among the kinds) and value lie in the current segments; the first
 * that does not (a cut inside it or inside the kinds, another kind, a float
 * that is not finite) goes to the general loop. Cut at every byte, the
 * request decodes to the same nodes, and a non-finite float is refused at the
 * same offset, whichever loop reads it. */
TEST(drv_wire_leading_scalars_every_cut)
{
    for (int bad_float = 0; bad_float <= 1; bad_float++) {
        buf b = request(7);
        arg(&b, 'i');
        put_be(&b, (uint64_t)-5, 8);
        arg(&b, 'u');
        put_be(&b, 7, 8);                           /* non-canonical: reads as an int */
        arg(&b, 'u');
        put_be(&b, UINT64_MAX, 8);
        arg(&b, 'h');
        put_be(&b, 11, 8);
        arg(&b, 'f');
        size_t float_at = b.n;                      /* its value: its kind is among the kinds */
        put_be(&b, bad_float ? 0x7ff0000000000000ull : 0x3ff8000000000000ull, 8);
        arg(&b, 'h');
        put_be(&b, 12, 8);
        arg(&b, 'B');
        size_t tail_at = b.n;
        put(&b, "tail", 4);
        for (size_t cut = 0; cut <= b.n; cut++) {
            size_t lens[3] = {cut, 0, b.n - cut};
            nocopy__wire_segment segs[3];
            counted a = {0};
            nocopy__wreq req;
            int r = decode_cut(&b, lens, 3, segs, &req, &a);
            if (bad_float || (cut > tail_at && cut < b.n)) {
                CHECK_EQ(r, NOCOPY_EPROTO);
                if (!bad_float) {      /* the binary's bytes may not be cut */
                    CHECK(strstr(req.err, "straddles") != NULL);
                    counted_free(&a);
                    continue;
                }
                CHECK(strstr(req.err, "float is not finite") != NULL);
                CHECK_EQ(req.err_offset, float_at + 8);   /* after the value (v4: + 9, after 'f' too) */
                counted_free(&a);
                continue;
            }
            CHECK_EQ(r, NOCOPY_OK);
            const nocopy__wire_node *const *n = (const nocopy__wire_node *const *)req.argv;
            CHECK_EQ(n[0]->kind, NC_W_INT);
            CHECK(n[0]->v.i == -5);
            CHECK_EQ(n[1]->kind, NC_W_INT);
            CHECK(n[1]->v.i == 7);
            CHECK_EQ(n[2]->kind, NC_W_UINT);
            CHECK(n[2]->v.u == UINT64_MAX);
            CHECK_EQ(n[3]->kind, NC_W_HANDLE);
            CHECK(n[3]->v.handle.id == 11);
            CHECK_EQ(n[4]->kind, NC_W_FLOAT);
            CHECK(n[4]->v.f == 1.5);
            CHECK_EQ(n[6]->kind, NC_W_BINARY);
            CHECK_EQ(n[6]->v.bytes.len, 4);
            CHECK(memcmp(n[6]->v.bytes.data, "tail", 4) == 0);
            /* The handles' chain, newest first, whichever loop read them. */
            CHECK(req.handles == n[5]);
            CHECK(req.handles->v.handle.next == n[3]);
            CHECK(n[3]->v.handle.next == NULL);
            CHECK_EQ(req.nodes, 7);
            counted_free(&a);
        }
        free(b.p);
    }
    return 0;
}

/* A request of a handle (id 3) and a last binary ("B"), whose bytes begin at
 * *head (the caller appends them). */
static buf handle_and_tail_binary(size_t *head)
{
    buf b = request(2);
    arg(&b, 'h');
    put_be(&b, 3, 8);
    arg(&b, 'B');
    *head = b.n;
    return b;
}

/* The fast loop's last binary ("B"): in a later entry after empty ones it is
 * that entry, owner included; split over two entries it is refused as
 * straddling, at its first byte, as the general loop refuses it. */
TEST(drv_wire_tail_binary_in_a_later_entry)
{
    size_t head;
    buf b = handle_and_tail_binary(&head);
    put(&b, "0123456789", 10);
    nocopy__wire_segment segs[4];
    counted a = {0};
    nocopy__wreq req;

    size_t later[4] = {head, 0, 0, 10};
    CHECK_EQ(decode_cut(&b, later, 4, segs, &req, &a), NOCOPY_OK);
    const nocopy__wire_node *bin = (const nocopy__wire_node *)req.argv[1];
    CHECK_EQ(bin->kind, NC_W_BINARY);
    CHECK_EQ(bin->v.bytes.len, 10);
    CHECK(bin->v.bytes.data == b.p + head);
    CHECK(bin->v.bytes.binref == &segs[3]);
    CHECK_EQ(req.binary_bytes, 10);
    counted_free(&a);

    size_t split[4] = {head, 0, 4, 6};
    CHECK_EQ(decode_cut(&b, split, 4, segs, &req, &a), NOCOPY_EPROTO);
    CHECK(strstr(req.err, "straddles") != NULL);
    CHECK_EQ(req.err_offset, head);
    counted_free(&a);
    free(b.p);
    return 0;
}

/* The fast loop's last binary with no bytes (<<>>): a binary of length 0,
 * owned by nobody, whether the request ends in its entry or empty entries
 * follow. */
TEST(drv_wire_tail_binary_empty)
{
    size_t head;
    buf b = handle_and_tail_binary(&head);
    nocopy__wire_segment segs[3];
    counted a = {0};
    nocopy__wreq req;

    size_t cuts[2][3] = {{head, 0, 0}, {0, head, 0}};
    for (int k = 0; k < 2; k++) {
        CHECK_EQ(decode_cut(&b, cuts[k], 3, segs, &req, &a), NOCOPY_OK);
        const nocopy__wire_node *bin = (const nocopy__wire_node *)req.argv[1];
        CHECK_EQ(bin->kind, NC_W_BINARY);
        CHECK_EQ(bin->v.bytes.len, 0);
        CHECK(bin->v.bytes.data != NULL);
        CHECK(bin->v.bytes.binref == NULL);
        CHECK_EQ(req.binary_bytes, 0);
        CHECK_EQ(req.nodes, 2);
        counted_free(&a);
    }
    free(b.p);
    return 0;
}

/* ---- version 5: the kinds after the header, and "j" ---------------------------------- */

/* An iodata node's bytes, gathered (its pieces are the segments'). */
static uint8_t *iodata_bytes(const nocopy__wire_node *n)
{
    uint8_t *p = malloc(n->v.iov.total ? n->v.iov.total : 1);
    if (!p)
        abort();
    size_t at = 0;
    for (size_t i = 0; i < n->v.iov.count; i++) {
        memcpy(p + at, n->v.iov.pieces[i].data, n->v.iov.pieces[i].size);
        at += n->v.iov.pieces[i].size;
    }
    return p;
}

/* Term equality of two decoded trees (small ones: recursive). */
static int same_node(const nocopy__wire_node *a, const nocopy__wire_node *b)
{
    if (a->kind != b->kind)
        return 0;
    switch (a->kind) {
    case NC_W_INT:
        return a->v.i == b->v.i;
    case NC_W_UINT:
        return a->v.u == b->v.u;
    case NC_W_FLOAT:
        return memcmp(&a->v.f, &b->v.f, sizeof a->v.f) == 0;
    case NC_W_HANDLE:
        return a->v.handle.id == b->v.handle.id;
    case NC_W_ATOM:
    case NC_W_BINARY:
        return a->v.bytes.len == b->v.bytes.len &&
               (a->v.bytes.len == 0 || memcmp(a->v.bytes.data, b->v.bytes.data, a->v.bytes.len) == 0);
    case NC_W_TUPLE:
        if (a->arity != b->arity)
            return 0;
        for (uint32_t i = 0; i < a->arity; i++)
            if (!same_node((const nocopy__wire_node *)a->v.elems[i],
                           (const nocopy__wire_node *)b->v.elems[i]))
                return 0;
        return 1;
    case NC_W_CONS:
        return same_node((const nocopy__wire_node *)a->v.cell[0],
                         (const nocopy__wire_node *)b->v.cell[0]) &&
               same_node((const nocopy__wire_node *)a->v.cell[1],
                         (const nocopy__wire_node *)b->v.cell[1]);
    case NC_W_IODATA: {
        if (a->v.iov.total != b->v.iov.total)
            return 0;
        uint8_t *x = iodata_bytes(a), *y = iodata_bytes(b);
        int eq = memcmp(x, y, a->v.iov.total) == 0;
        free(x);
        free(y);
        return eq;
    }
    default:
        return 1;
    }
}

/* The same request: header fields, tag, counts and every argument's tree. */
static int same_request(const nocopy__wreq *a, const nocopy__wreq *b)
{
    if (a->module != b->module || a->func != b->func || a->argc != b->argc ||
        a->tag_kind != b->tag_kind || a->tag_int != b->tag_int ||
        a->tag_ext_len != b->tag_ext_len || a->nodes != b->nodes ||
        a->binary_bytes != b->binary_bytes)
        return 0;
    if (a->tag_ext_len && memcmp(a->tag_ext, b->tag_ext, a->tag_ext_len) != 0)
        return 0;
    for (uint32_t i = 0; i < a->argc; i++)
        if (!same_node((const nocopy__wire_node *)a->argv[i],
                       (const nocopy__wire_node *)b->argv[i]))
            return 0;
    return 1;
}

/* "j" value:i32: an integer of 32 bits, read as any integer (NC_W_INT), as an
 * argument (its kind among the kinds; read by the fast loop or, cut, by the
 * general one) and inside a tuple (its kind inline). */
TEST(drv_wire_int32)
{
    static const int64_t values[] = {INT32_MIN, INT32_MAX, -1, 0, 1, -0x12345678};
    enum { N = sizeof values / sizeof values[0] };
    buf b = request(N + 1);
    for (size_t k = 0; k < N; k++) {
        arg(&b, 'j');
        put_be(&b, (uint32_t)values[k], 4);
    }
    arg(&b, 'T');
    put_be(&b, 2, 4);
    put_u8(&b, 'j');
    put_be(&b, (uint32_t)INT32_MIN, 4);
    put_u8(&b, 'j');
    put_be(&b, (uint32_t)INT32_MAX, 4);
    for (size_t cut = 0; cut <= b.n; cut++) {
        size_t lens[3] = {cut, 0, b.n - cut};
        nocopy__wire_segment segs[3];
        counted a = {0};
        nocopy__wreq req;
        CHECK_EQ(decode_cut(&b, lens, 3, segs, &req, &a), NOCOPY_OK);
        CHECK_EQ(req.argc, N + 1);
        CHECK_EQ(req.tag_kind, NC_WTAG_INT);
        CHECK_EQ(req.tag_int, 42);
        for (size_t k = 0; k < N; k++) {
            const nocopy__wire_node *n = (const nocopy__wire_node *)req.argv[k];
            CHECK_EQ(n->kind, NC_W_INT);
            CHECK_EQ(n->v.i, values[k]);
        }
        const nocopy__wire_node *t = (const nocopy__wire_node *)req.argv[N];
        CHECK_EQ(t->kind, NC_W_TUPLE);
        CHECK_EQ(t->arity, 2);
        const nocopy__wire_node *lo = (const nocopy__wire_node *)t->v.elems[0];
        const nocopy__wire_node *hi = (const nocopy__wire_node *)t->v.elems[1];
        CHECK_EQ(lo->kind, NC_W_INT);
        CHECK_EQ(lo->v.i, (int64_t)INT32_MIN);         /* -2^31 */
        CHECK_EQ(hi->kind, NC_W_INT);
        CHECK_EQ(hi->v.i, (int64_t)INT32_MAX);         /* 2^31 - 1 */
        CHECK_EQ(req.nodes, N + 3);
        counted_free(&a);
    }
    free(b.p);
    return 0;
}

/* A "j" cut short (0 to 3 of its 4 bytes), as the only argument, before
 * another argument, and inside a tuple: refused where its value starts, the
 * tag read (the error can be addressed). */
TEST(drv_wire_int32_truncated)
{
    for (int where = 0; where < 3; where++)
        for (unsigned len = 0; len < 4; len++) {
            buf b = request(where == 1 ? 2 : 1);
            if (where == 2) {
                arg(&b, 'T');
                put_be(&b, 1, 4);
                put_u8(&b, 'j');
            } else {
                arg(&b, 'j');
            }
            size_t at = b.n;
            put_be(&b, (uint32_t)INT32_MIN, len);
            if (where == 1)
                arg(&b, 'n');          /* no body: the "j" still lacks 4 - len bytes */
            for (size_t cut = 0; cut <= b.n; cut++) {
                size_t lens[3] = {cut, 0, b.n - cut};
                nocopy__wire_segment segs[3];
                counted a = {0};
                nocopy__wreq req;
                int r = decode_cut(&b, lens, 3, segs, &req, &a);
                if (r != NOCOPY_EPROTO || !strstr(req.err, "truncated") || req.err_offset != at)
                    fprintf(stderr, "\"j\" of %u bytes (%s), cut at %zu: %d, offset %zu: %s\n",
                            len, where == 0 ? "the argument" : where == 1 ? "before []" : "in a tuple",
                            cut, r, req.err_offset, req.err);
                CHECK_EQ(r, NOCOPY_EPROTO);
                CHECK(strstr(req.err, "truncated") != NULL);
                CHECK_EQ(req.err_offset, at);
                CHECK_EQ(req.tag_kind, NC_WTAG_INT);
                CHECK_EQ(req.tag_int, 42);
                counted_free(&a);
            }
            free(b.p);
        }
    return 0;
}

/* A reference tag: 131, NEWER_REFERENCE_EXT, 3 words, 'nonode@nohost' as a
 * SMALL_ATOM_UTF8_EXT, creation, the words. */
static const uint8_t ref_ext[] = {131, 90, 0, 3, 119, 13, 'n', 'o', 'n', 'o', 'd', 'e', '@',
                                  'n', 'o', 'h', 'o', 's', 't', 0, 0, 0, 1, 0, 0, 0, 7,
                                  0, 0, 0, 8, 0, 0, 0, 9};

/* Every kind of argument but those whose payload may not be cut (atoms,
 * binaries short of the last), an integer or a reference tag. */
static buf every_kind_request(int ref_tag)
{
    buf b;
    if (ref_tag) {
        uint8_t body[2 + sizeof ref_ext];
        body[0] = 0;
        body[1] = sizeof ref_ext;
        memcpy(body + 2, ref_ext, sizeof ref_ext);
        b = request_tagged(11, 'r', body, sizeof body);
    } else {
        b = request(11);
    }
    arg(&b, 'j');
    put_be(&b, (uint32_t)-7, 4);
    arg(&b, 'i');
    put_be(&b, (uint64_t)1 << 40, 8);
    arg(&b, 'T');                       /* {5, [[]], 2.5, bignum} */
    put_be(&b, 4, 4);
    put_u8(&b, 'j');
    put_be(&b, 5, 4);
    put(&b, "cnn", 3);
    put_u8(&b, 'f');
    put_be(&b, 0x4004000000000000ull, 8);
    put_u8(&b, 'I');
    arg(&b, 'n');
    arg(&b, 'o');
    arg(&b, 'h');
    put_be(&b, 9, 8);
    arg(&b, 'v');
    put_be(&b, 5, 8);
    put(&b, "hello", 5);
    arg(&b, 'c');                       /* [3] */
    put_u8(&b, 'i');
    put_be(&b, 3, 8);
    put_u8(&b, 'n');
    arg(&b, 'u');
    put_be(&b, ((uint64_t)1 << 63) + 1, 8);
    arg(&b, 'H');
    arg(&b, 'V');
    put(&b, "tail!", 5);
    return b;
}

/* The kinds, like every fixed-size field, may be split across entries: the
 * request above, cut at every pair of places (with an empty segment at each
 * cut: inside the header, inside the kinds, between the kinds and the tag's
 * body, anywhere in the bodies), and one byte per segment, decodes to the same
 * request as in one segment. */
TEST(drv_wire_kinds_split_everywhere)
{
    for (int ref_tag = 0; ref_tag <= 1; ref_tag++) {
        buf b = every_kind_request(ref_tag);
        counted a0 = {0};
        nocopy__wreq whole;
        CHECK_EQ(decode(&b, &whole, &a0), NOCOPY_OK);
        CHECK_EQ(whole.argc, 11);
        CHECK_EQ(whole.tag_kind, ref_tag ? NC_WTAG_REF : NC_WTAG_INT);
        if (ref_tag) {
            CHECK_EQ(whole.tag_ext_len, sizeof ref_ext);
            CHECK(memcmp(whole.tag_ext, ref_ext, sizeof ref_ext) == 0);
        } else {
            CHECK_EQ(whole.tag_int, 42);
        }
        CHECK_EQ(whole.nodes, 11 + 6 + 2);        /* the tuple's 4 + its list's 2; [3]'s 2 */
        CHECK_EQ(whole.binary_bytes, 10);
        /* The arguments' kinds: j i T n o h v c u H V. */
        static const uint8_t nkinds[] = {NC_W_INT,    NC_W_INT,   NC_W_TUPLE,  NC_W_NIL,
                                         NC_W_OTHER,  NC_W_HANDLE, NC_W_IODATA, NC_W_CONS,
                                         NC_W_UINT,   NC_W_FOREIGN_HANDLE, NC_W_IODATA};
        for (size_t k = 0; k < sizeof nkinds; k++)
            CHECK_EQ(((const nocopy__wire_node *)whole.argv[k])->kind, nkinds[k]);
        CHECK_EQ(((const nocopy__wire_node *)whole.argv[0])->v.i, -7);

        for (size_t i = 0; i <= b.n; i++)
            for (size_t j = i; j <= b.n; j++) {
                size_t lens[5] = {i, 0, j - i, 0, b.n - j};
                nocopy__wire_segment segs[5];
                counted a = {0};
                nocopy__wreq req;
                int r = decode_cut(&b, lens, 5, segs, &req, &a);
                if (r != NOCOPY_OK || !same_request(&whole, &req))
                    fprintf(stderr, "%s tag, cut at %zu and %zu of %zu: %d %s\n",
                            ref_tag ? "reference" : "integer", i, j, b.n, r,
                            r == NOCOPY_OK ? "(decoded differently)" : req.err);
                CHECK_EQ(r, NOCOPY_OK);
                CHECK(same_request(&whole, &req));
                counted_free(&a);
            }

        size_t *lens = malloc(b.n * sizeof *lens);
        nocopy__wire_segment *segs = malloc(b.n * sizeof *segs);
        CHECK_NOT_NULL(lens);
        CHECK_NOT_NULL(segs);
        for (size_t i = 0; i < b.n; i++)
            lens[i] = 1;
        counted a = {0};
        nocopy__wreq req;
        CHECK_EQ(decode_cut(&b, lens, b.n, segs, &req, &a), NOCOPY_OK);
        CHECK(same_request(&whole, &req));
        counted_free(&a);
        free(lens);
        free(segs);
        counted_free(&a0);
        free(b.p);
    }
    return 0;
}

/* The kinds (argc + 1 bytes) must follow the header: a request with fewer
 * bytes after the header is refused by nocopy__wire_begin, before its tag
 * (tag_kind NC_WTAG_NONE: the driver's reply is tagged undefined) and before
 * anything is allocated, whatever those bytes are and wherever the segments
 * cut them; with argc + 1 bytes it gets past nocopy__wire_begin. */
TEST(drv_wire_too_short_for_the_kinds)
{
    static const uint32_t argcs[] = {0, 1, 3, 64, 1000, NC_WIRE_MAX_TERMS + 1, UINT32_MAX};
    for (size_t c = 0; c < sizeof argcs / sizeof argcs[0]; c++) {
        uint32_t argc = argcs[c];
        size_t most = argc < 1100 ? (size_t)argc : 1100;
        for (size_t after = 0; after <= most + 1; after++) {
            if (argc >= 64 && after > 8 && after + 8 < most && after % 97 != 0)
                continue;                      /* the ends are what matter */
            /* `after` bytes after the header: the integer tag's kind, then
             * []'s; at most argc + 1 of them, so the tag's body is missing. */
            buf b = header(argc);
            for (size_t k = 0; k < after; k++)
                put_u8(&b, k == 0 ? 'i' : 'n');
            int short_of_kinds = after < (size_t)argc + 1;

            nocopy__wreq req;
            nocopy__wreader rd;
            nocopy__wire_segment seg = {b.p, b.n, NULL};
            memset(&req, 0x5a, sizeof req);    /* begin must set what it reports */
            int r = nocopy__wire_begin(&rd, &seg, 1, &req);
            if (short_of_kinds) {
                CHECK_EQ(r, NOCOPY_EPROTO);
                CHECK_EQ(req.tag_kind, NC_WTAG_NONE);
                CHECK(req.err[0] != '\0');
            } else {
                CHECK_EQ(r, NOCOPY_OK);
                CHECK_EQ(req.argc, argc);
            }

            for (size_t cut = 0; cut <= b.n; cut++) {
                size_t lens[3] = {cut, 0, b.n - cut};
                nocopy__wire_segment segs[3];
                counted a = {0};
                memset(&req, 0x5a, sizeof req);
                r = decode_cut(&b, lens, 3, segs, &req, &a);
                /* The tag's body is never all there: refused either way. */
                CHECK_EQ(r, NOCOPY_EPROTO);
                CHECK_EQ(req.tag_kind, NC_WTAG_NONE);
                if (short_of_kinds) {
                    if (a.total != 0)
                        fprintf(stderr, "argc %u, %zu bytes after the header, cut at %zu: "
                                "%zu bytes allocated\n", argc, after, cut, a.total);
                    CHECK_EQ(a.total, 0);
                }
                counted_free(&a);
            }
            free(b.p);
        }
    }

    /* And the shortest whole requests: no argument ("i" and the tag), and 2
     * []s, whose bodies are empty: their kinds are all they are. */
    for (uint32_t argc = 0; argc <= 2; argc += 2) {
        buf b = request(argc);
        for (uint32_t k = 0; k < argc; k++)
            arg(&b, 'n');
        CHECK_EQ(b.n, NC_WIRE_HEADER_BYTES + 1 + argc + 8);
        counted a = {0};
        nocopy__wreq req;
        CHECK_EQ(decode(&b, &req, &a), NOCOPY_OK);
        CHECK_EQ(req.argc, argc);
        CHECK_EQ(req.tag_int, 42);
        for (uint32_t k = 0; k < argc; k++)
            CHECK_EQ(((const nocopy__wire_node *)req.argv[k])->kind, NC_W_NIL);
        counted_free(&a);
        free(b.p);
    }
    return 0;
}

/* ---- the one-pass path ---------------------------------------------------------- */

/* Decodes segs both ways (flat_agrees) and returns the one-pass verdict. */
static int flat_verdict(const buf *b, const size_t *lens, size_t nsegs)
{
    nocopy__wire_segment segs[8];
    counted a = {0};
    nocopy__wreq req;
    size_t before = flat_taken;
    int r = decode_cut(b, lens, nsegs, segs, &req, &a);
    counted_free(&a);
    if (r == -103 || r == -100 || r == -101 || r == -102)
        return r;
    return flat_taken > before ? NOCOPY_OK : NC_WIRE_NOT_FLAT;
}

/* The stubs' shapes take the one-pass path, as outputv receives them: the
 * header's run of copied bytes after an empty entry, and a large binary or
 * the pieces of an I/O list in entries of their own; and they decode to the
 * three steps' nodes (flat_agrees, in every decode of these tests). */
TEST(drv_wire_flat_takes_the_stub_shapes)
{
    /* The seed call: a handle, a 32-bit integer, a last binary. */
    buf seed = request(3);
    arg(&seed, 'h');
    put_be(&seed, 0x0000000100000002ull, 8);
    arg(&seed, 'j');
    put_be(&seed, 3, 4);
    arg(&seed, 'B');
    size_t head = seed.n;
    put(&seed, "message", 7);
    size_t in_run[2] = {0, seed.n};
    size_t referenced[3] = {0, head, 7};
    size_t after_empties[5] = {0, head, 0, 0, 7};
    CHECK_EQ(flat_verdict(&seed, in_run, 2), NOCOPY_OK);
    CHECK_EQ(flat_verdict(&seed, referenced, 3), NOCOPY_OK);
    CHECK_EQ(flat_verdict(&seed, after_empties, 5), NOCOPY_OK);
    free(seed.p);

    /* Every flat kind, the last an I/O list of three pieces. */
    buf io = request(6);
    arg(&io, 'i');
    put_be(&io, (uint64_t)-7, 8);
    arg(&io, 'u');
    put_be(&io, UINT64_MAX, 8);
    arg(&io, 'u');
    put_be(&io, 9, 8);
    arg(&io, 'f');
    put_be(&io, 0x3ff8000000000000ull, 8);
    arg(&io, 'h');
    put_be(&io, 5, 8);
    arg(&io, 'V');
    head = io.n;
    put(&io, "abcdefghij", 10);
    size_t pieces[4] = {0, head + 2, 5, 3};
    CHECK_EQ(flat_verdict(&io, pieces, 4), NOCOPY_OK);
    free(io.p);

    /* No argument; and eight (the most the driver's path takes) with an
     * empty last binary. */
    buf none = request(0);
    size_t whole[1] = {none.n};
    CHECK_EQ(flat_verdict(&none, whole, 1), NOCOPY_OK);
    free(none.p);
    buf eight = request(8);
    for (int i = 0; i < 7; i++) {
        arg(&eight, 'j');
        put_be(&eight, (uint64_t)i, 4);
    }
    arg(&eight, 'B');
    whole[0] = eight.n;
    CHECK_EQ(flat_verdict(&eight, whole, 1), NOCOPY_OK);
    free(eight.p);
    return 0;
}

/* Any other request is left to the three steps, which decode it or say what
 * is wrong: the one-pass path only declines (and flat_agrees checks that the
 * steps' verdict stands). */
TEST(drv_wire_flat_declines_other_shapes)
{
    static const uint8_t ref_tag[2] = {0, 0};
    size_t whole[1];

    buf nine = request(9);                       /* more than eight arguments */
    for (int i = 0; i < 9; i++) {
        arg(&nine, 'j');
        put_be(&nine, (uint64_t)i, 4);
    }
    whole[0] = nine.n;
    CHECK_EQ(flat_verdict(&nine, whole, 1), NC_WIRE_NOT_FLAT);

    /* The kinds, or a value, split from the header's entry. */
    size_t kinds_split[2] = {NC_WIRE_HEADER_BYTES + 3, nine.n - NC_WIRE_HEADER_BYTES - 3};
    CHECK_EQ(flat_verdict(&nine, kinds_split, 2), NC_WIRE_NOT_FLAT);
    free(nine.p);
    buf two = request(2);
    arg(&two, 'j');
    put_be(&two, 1, 4);
    arg(&two, 'i');
    put_be(&two, 2, 8);
    size_t value_split[2] = {two.n - 3, 3};
    CHECK_EQ(flat_verdict(&two, value_split, 2), NC_WIRE_NOT_FLAT);
    whole[0] = two.n;
    CHECK_EQ(flat_verdict(&two, whole, 1), NOCOPY_OK);

    /* Trailing bytes, and a truncated last value. */
    put_u8(&two, 0);
    whole[0] = two.n;
    CHECK_EQ(flat_verdict(&two, whole, 1), NC_WIRE_NOT_FLAT);
    buf cut = {.p = two.p, .n = two.n - 3, .cap = two.cap, .kind = two.kind,
               .kinds_end = two.kinds_end};
    whole[0] = cut.n;
    CHECK_EQ(flat_verdict(&cut, whole, 1), NC_WIRE_NOT_FLAT);

    /* A bad magic and a header cut short. */
    two.p[0] = 'x';
    whole[0] = two.n;
    CHECK_EQ(flat_verdict(&two, whole, 1), NC_WIRE_NOT_FLAT);
    cut.n = NC_WIRE_HEADER_BYTES - 1;
    whole[0] = cut.n;
    CHECK_EQ(flat_verdict(&cut, whole, 1), NC_WIRE_NOT_FLAT);
    free(two.p);

    /* Kinds the path does not read: a tuple, an atom, a binary with a length,
     * a list; a float that is not finite; a last binary split over entries. */
    static const uint8_t other[] = {'T', 'a', 'b', 'c', 'f'};
    for (size_t k = 0; k < sizeof other; k++) {
        buf b = request(1);
        arg(&b, other[k]);
        switch (other[k]) {
        case 'T': put_be(&b, 0, 4); break;
        case 'a': put_be(&b, 1, 2); put_u8(&b, 'x'); break;
        case 'b': put_be(&b, 1, 8); put_u8(&b, 'x'); break;
        case 'c': put_u8(&b, 'n'); put_u8(&b, 'n'); break;
        default: put_be(&b, 0x7ff8000000000000ull, 8); break;   /* NaN */
        }
        whole[0] = b.n;
        CHECK_EQ(flat_verdict(&b, whole, 1), NC_WIRE_NOT_FLAT);
        free(b.p);
    }
    size_t head;
    buf tail = handle_and_tail_binary(&head);
    put(&tail, "0123456789", 10);
    size_t straddle[3] = {head, 4, 6};
    CHECK_EQ(flat_verdict(&tail, straddle, 3), NC_WIRE_NOT_FLAT);
    free(tail.p);

    /* A reference tag (an async call's). */
    buf ref = request_tagged(1, 'r', ref_tag, sizeof ref_tag);
    arg(&ref, 'j');
    put_be(&ref, 1, 4);
    whole[0] = ref.n;
    CHECK_EQ(flat_verdict(&ref, whole, 1), NC_WIRE_NOT_FLAT);
    free(ref.p);
    return 0;
}
