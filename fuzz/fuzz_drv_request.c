/* fuzz_drv_request.c: libFuzzer target for the driver's request decoder
 * (c_src/wire/nc_wire.c). Built with clang by `make fuzz`, and with gcc plus
 * fuzz/replay.c by `make fuzz-replay`, which `make test` runs over the corpus.
 *
 * The input is one request's bytes (docs/wire-format.md). The runtime may hand
 * those bytes to the driver cut into I/O vector entries anywhere, so each input
 * is decoded three times: as one segment, cut at points drawn from the input,
 * and one byte per segment. Every segment is a separate allocation (ASan sees
 * any read across its end) with its own fake binary reference. Checked:
 *   - no crash, no out-of-bounds read, no leak (all memory is the harness's);
 *   - every binary and atom view, and every piece of an iodata term, lies
 *     inside one segment and carries that segment's binary reference; an
 *     iodata term's pieces are non-empty and add up to its size;
 *   - cutting never changes the outcome, except that a payload straddling a
 *     cut is refused (never copied): both decodes agree term for term (an
 *     iodata term by its bytes: its pieces are the cut's);
 *   - the one-pass decode (nocopy__wire_decode_flat) of each cut either
 *     declines or agrees term for term with the three steps, which must then
 *     have succeeded too, within the same memory bound;
 *   - memory is linear in the request, success or failure: what the decoder
 *     asks of the allocator is at most NC_WIRE_TREE_BYTES_PER_BYTE bytes per
 *     request byte (+ NC_WIRE_TREE_BYTES_EXTRA), its own explicit stack at
 *     most NC_WIRE_STACK_BYTES_PER_BYTE per byte, and every allocation it
 *     makes fits within the first bound. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nc_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#include "fuzz_check.h"

/* ---- an allocator that frees everything at once ---------------------------- */

typedef struct block {
    struct block *next;
    _Alignas(16) unsigned char data[];
} block;

/* What the decoder of the current input may allocate in all, and has. */
static size_t alloc_budget, alloc_total;

static void *harness_alloc(void *ctx, size_t size)
{
    block **head = ctx;
    CHECK(size <= alloc_budget);
    alloc_total += size;
    if (size > ((size_t)1 << 30))
        return NULL;
    block *b = malloc(sizeof *b + size);
    if (!b)
        return NULL;
    b->next = *head;
    *head = b;
    return b->data;
}

static void free_all(block **head)
{
    while (*head) {
        block *next = (*head)->next;
        free(*head);
        *head = next;
    }
}

/* ---- segmentations ------------------------------------------------------------ */

typedef struct cut {
    nocopy__wire_segment *segs;
    size_t n;
} cut;

/* Copies data[0..size) into n separately allocated segments of the given
 * lengths. binref of segment i is &segs[i] itself, so it can be checked. */
static cut make_cut(const uint8_t *data, const size_t *lens, size_t n)
{
    cut c = {calloc(n ? n : 1, sizeof(nocopy__wire_segment)), n};
    CHECK(c.segs);
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t *p = lens[i] ? malloc(lens[i]) : NULL;
        CHECK(!lens[i] || p);
        if (lens[i])
            memcpy(p, data + at, lens[i]);
        c.segs[i] = (nocopy__wire_segment){p, lens[i], &c.segs[i]};
        at += lens[i];
    }
    return c;
}

static void free_cut(cut *c)
{
    for (size_t i = 0; i < c->n; i++)
        free((void *)c->segs[i].base);
    free(c->segs);
}

/* ---- checks on the decoded tree ------------------------------------------------- */

static int in_segment(const cut *c, const uint8_t *p, size_t len, void *binref)
{
    if (len == 0)
        return 1;
    for (size_t i = 0; i < c->n; i++) {
        const nocopy__wire_segment *s = &c->segs[i];
        if (s->len && p >= s->base && p + len <= s->base + s->len)
            return binref == s->binref;
    }
    return 0;
}

/* An iodata node's pieces: each non-empty, inside one segment with that
 * segment's owner, adding up to its size. */
static void check_iodata(const cut *c, const nocopy__wire_node *n)
{
    size_t sum = 0;
    volatile uint8_t x = 0;
    CHECK((n->v.iov.count == 0) == (n->v.iov.pieces == NULL));
    for (size_t i = 0; i < n->v.iov.count; i++) {
        const nocopy_bytes *p = &n->v.iov.pieces[i];
        CHECK(p->size > 0);
        for (size_t k = 0; k < p->size; k++)
            x ^= p->data[k];
        CHECK(in_segment(c, p->data, p->size, nocopy__wire_iov_binref(n, i)));
        sum += p->size;
    }
    (void)x;
    CHECK(sum == n->v.iov.total);
}

/* Whether two iodata nodes hold the same bytes, however they are cut. */
static int same_iodata(const nocopy__wire_node *a, const nocopy__wire_node *b)
{
    if (a->v.iov.total != b->v.iov.total)
        return 0;
    size_t i = 0, j = 0, ai = 0, bj = 0;
    while (i < a->v.iov.count && j < b->v.iov.count) {
        const nocopy_bytes *p = &a->v.iov.pieces[i], *q = &b->v.iov.pieces[j];
        size_t n = p->size - ai < q->size - bj ? p->size - ai : q->size - bj;
        if (memcmp(p->data + ai, q->data + bj, n) != 0)
            return 0;
        ai += n;
        bj += n;
        if (ai == p->size) {
            i++;
            ai = 0;
        }
        if (bj == q->size) {
            j++;
            bj = 0;
        }
    }
    return i == a->v.iov.count && j == b->v.iov.count;
}

/* A growable stack of node pairs, for walking trees of any depth without
 * recursion (the decoder accepts any nesting). */
typedef struct pairs {
    const nocopy__wire_node **a, **b;
    size_t n, cap;
} pairs;

static void push(pairs *p, const nocopy__wire_node *a, const nocopy__wire_node *b)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 256;
        p->a = realloc(p->a, p->cap * sizeof *p->a);
        p->b = realloc(p->b, p->cap * sizeof *p->b);
        CHECK(p->a && p->b);
    }
    p->a[p->n] = a;
    p->b[p->n] = b;
    p->n++;
}

static void push_children(pairs *p, const nocopy__wire_node *a, const nocopy__wire_node *b)
{
    if (a->kind == NC_W_TUPLE)
        for (uint32_t i = 0; i < a->arity; i++)
            push(p, (const nocopy__wire_node *)a->v.elems[i],
                 b ? (const nocopy__wire_node *)b->v.elems[i] : NULL);
    else if (a->kind == NC_W_CONS)
        for (int i = 0; i < 2; i++)
            push(p, (const nocopy__wire_node *)a->v.cell[i],
                 b ? (const nocopy__wire_node *)b->v.cell[i] : NULL);
}

/* Touches every node and every byte it views, checks each view lies in one
 * segment with that segment's binref, and counts the nodes. */
static size_t walk(const cut *c, const nocopy__wreq *req)
{
    pairs p = {0};
    size_t count = 0;
    for (uint32_t i = 0; i < req->argc; i++)
        push(&p, (const nocopy__wire_node *)req->argv[i], NULL);
    while (p.n > 0) {
        const nocopy__wire_node *n = p.a[--p.n];
        count++;
        switch (n->kind) {
        case NC_W_ATOM:
        case NC_W_BINARY: {
            volatile uint8_t sum = 0;
            for (size_t i = 0; i < n->v.bytes.len; i++)
                sum ^= n->v.bytes.data[i];
            (void)sum;
            CHECK(in_segment(c, n->v.bytes.data, n->v.bytes.len, n->v.bytes.binref));
            if (n->kind == NC_W_ATOM)
                CHECK(n->v.bytes.len <= NC_WIRE_MAX_ATOM_BYTES);
            break;
        }
        case NC_W_TUPLE:
        case NC_W_CONS:
            push_children(&p, n, NULL);
            break;
        case NC_W_UINT:
            CHECK(n->v.u > (uint64_t)INT64_MAX);
            break;
        case NC_W_IODATA:
            check_iodata(c, n);
            break;
        case NC_W_INT: case NC_W_BIGINT: case NC_W_FLOAT: case NC_W_BITSTRING:
        case NC_W_NIL: case NC_W_HANDLE: case NC_W_FOREIGN_HANDLE: case NC_W_OTHER:
            break;
        default:
            CHECK(!"unknown node kind");
        }
    }
    free(p.a);
    free(p.b);
    return count;
}

/* Term equality of two decodes, node by node. */
static int same_terms(const nocopy__wreq *x, const nocopy__wreq *y)
{
    pairs p = {0};
    int eq = 1;
    for (uint32_t i = 0; i < x->argc; i++)
        push(&p, (const nocopy__wire_node *)x->argv[i], (const nocopy__wire_node *)y->argv[i]);
    while (eq && p.n > 0) {
        p.n--;
        const nocopy__wire_node *a = p.a[p.n], *b = p.b[p.n];
        if (a->kind != b->kind) {
            eq = 0;
            break;
        }
        switch (a->kind) {
        case NC_W_INT: eq = a->v.i == b->v.i; break;
        case NC_W_UINT: eq = a->v.u == b->v.u; break;
        case NC_W_FLOAT: eq = memcmp(&a->v.f, &b->v.f, sizeof a->v.f) == 0; break;
        case NC_W_HANDLE: eq = a->v.handle.id == b->v.handle.id; break;
        case NC_W_ATOM:
        case NC_W_BINARY:
            eq = a->v.bytes.len == b->v.bytes.len &&
                 (a->v.bytes.len == 0 ||
                  memcmp(a->v.bytes.data, b->v.bytes.data, a->v.bytes.len) == 0);
            break;
        case NC_W_TUPLE:
            eq = a->arity == b->arity;
            if (eq)
                push_children(&p, a, b);
            break;
        case NC_W_CONS:
            push_children(&p, a, b);
            break;
        case NC_W_IODATA:
            eq = same_iodata(a, b);
            break;
        default:
            break;
        }
    }
    free(p.a);
    free(p.b);
    return eq;
}

static int same_request(const nocopy__wreq *a, const nocopy__wreq *b)
{
    if (a->tag_kind != b->tag_kind || a->tag_int != b->tag_int ||
        a->tag_ext_len != b->tag_ext_len || a->func != b->func || a->argc != b->argc ||
        a->binary_bytes != b->binary_bytes || a->nodes != b->nodes)
        return 0;
    if (a->tag_ext_len && memcmp(a->tag_ext, b->tag_ext, a->tag_ext_len) != 0)
        return 0;
    return same_terms(a, b);
}

static int decode_checked(const cut *c, block **mem, nocopy__wreq *req)
{
    size_t size = 0;
    for (size_t i = 0; i < c->n; i++)
        size += c->segs[i].len;
    alloc_budget = NC_WIRE_TREE_BYTES_PER_BYTE * size + NC_WIRE_TREE_BYTES_EXTRA;
    alloc_total = 0;
    int r = nocopy__wire_decode(c->segs, c->n, harness_alloc, mem, req);
    CHECK(r == NOCOPY_OK || r == NOCOPY_EPROTO);
    CHECK(alloc_total == req->tree_bytes);
    CHECK(alloc_total <= alloc_budget);
    CHECK(req->stack_bytes <= NC_WIRE_STACK_BYTES_PER_BYTE * size);
    if (r != NOCOPY_OK) {
        CHECK(req->err[0] != '\0');
        CHECK(strlen(req->err) < sizeof req->err);
        return r;
    }
    CHECK(walk(c, req) == req->nodes);
    if (req->tag_kind == NC_WTAG_REF)
        CHECK(nocopy__wire_is_ref_ext(req->tag_ext, req->tag_ext_len));
    return r;
}

/* The one-pass path on the same cut: it declines, or the three steps
 * succeeded (r) and it decoded the same request. */
static void flat_checked(const cut *c, block **mem, int r, const nocopy__wreq *general)
{
    enum { MAX = 8 };
    uintptr_t argv[MAX];
    nocopy__wire_node nodes[MAX];
    nocopy__wreq flat;
    size_t size = 0;
    for (size_t i = 0; i < c->n; i++)
        size += c->segs[i].len;
    alloc_budget = NC_WIRE_TREE_BYTES_PER_BYTE * size + NC_WIRE_TREE_BYTES_EXTRA;
    alloc_total = 0;
    int f = nocopy__wire_decode_flat(c->segs, c->n, size, &flat, argv, nodes, MAX,
                                     harness_alloc, mem);
    CHECK(f == NOCOPY_OK || f == NC_WIRE_NOT_FLAT);
    if (f != NOCOPY_OK)
        return;
    CHECK(r == NOCOPY_OK);
    CHECK(alloc_total == flat.tree_bytes);
    CHECK(flat.tag_kind == NC_WTAG_INT);
    CHECK(walk(c, &flat) == flat.nodes);
    CHECK(same_request(&flat, general));
}

static int decode_both(const cut *c, block **mem, nocopy__wreq *req)
{
    int r = decode_checked(c, mem, req);
    flat_checked(c, mem, r, req);
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    block *mem = NULL;
    nocopy__wreq whole_req, cut_req;
    size_t *lens = malloc((size ? size : 1) * sizeof *lens);
    CHECK(lens);

    /* 1. one segment */
    lens[0] = size;
    cut whole = make_cut(data, lens, 1);
    int r1 = decode_both(&whole, &mem, &whole_req);

    /* 2. cut at points drawn from the input itself (a small LCG seeded by a
     *    hash of it), with an empty segment now and then. */
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 16777619u;
    size_t n = 0, at = 0;
    while (at < size) {
        h = h * 1103515245u + 12345u;
        size_t len = (h >> 8) % 48;
        if (len > size - at)
            len = size - at;
        lens[n++] = len;
        at += len;
        if (n == size)            /* lens has room for `size` entries */
            break;
    }
    if (at < size)
        lens[n - 1] += size - at;
    cut pieces = make_cut(data, lens, n);
    int r2 = decode_both(&pieces, &mem, &cut_req);
    if (r1 == NOCOPY_OK && r2 == NOCOPY_OK)
        CHECK(same_request(&whole_req, &cut_req));
    else if (r1 == NOCOPY_OK)
        CHECK(strstr(cut_req.err, "straddles") != NULL);
    else
        CHECK(r2 != NOCOPY_OK);
    free_cut(&pieces);

    /* 3. one byte per segment (short inputs only: it is quadratic in checks) */
    if (size <= 4096) {
        for (size_t i = 0; i < size; i++)
            lens[i] = 1;
        cut bytes = make_cut(data, lens, size);
        int r3 = decode_both(&bytes, &mem, &cut_req);
        if (r1 == NOCOPY_OK && r3 == NOCOPY_OK)
            CHECK(same_request(&whole_req, &cut_req));
        else if (r1 == NOCOPY_OK)
            CHECK(strstr(cut_req.err, "straddles") != NULL);
        else
            CHECK(r3 != NOCOPY_OK);
        free_cut(&bytes);
    }

    free_cut(&whole);
    free_all(&mem);
    free(lens);
    return 0;
}
