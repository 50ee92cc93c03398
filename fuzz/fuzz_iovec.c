/* fuzz_iovec.c: the iodata walker (nc_iovec.c, nocopy_term_iovec) against a
 * reference flattening, over synthetic terms (fake_backend.h).
 *
 * Input: one synthetic term (see fk_parse_term: bytes, binaries of every
 * interesting size, nested and improper lists, long lists and deep nests up
 * to 20,000 nodes, and every non-iodata type). Checked:
 *   - iodata is accepted, and the pieces, in order, are exactly the reference
 *     flattening; `total` is their sum; no piece is empty;
 *   - anything else is refused with EBADARG naming argument 1, "expected iodata";
 *   - walking the same term twice in one call gives the same bytes (the
 *     scratch runs of one walk are not reused by the next);
 *   - nothing leaks (fk_end, LeakSanitizer), nothing is read out of bounds
 *     (every binary is its own exact-size block);
 *   - an allocation that fails (the harness's arena limit) ends in ENOMEM;
 *   - scratch memory stays in proportion to the walk (bug F5). */
#include <stdlib.h>
#include <string.h>

#include "fake_backend.h"

static void check_pieces(const nocopy_iovec *v, const uint8_t *flat, size_t flen)
{
    size_t at = 0;
    for (size_t i = 0; i < v->count; i++) {
        const nocopy_bytes *p = &v->pieces[i];
        FK_ASSERT(p->size > 0);
        FK_ASSERT(p->data != NULL);
        FK_ASSERT(p->size <= flen - at);
        FK_ASSERT(memcmp(p->data, flat + at, p->size) == 0);
        at += p->size;
    }
    FK_ASSERT(at == flen);
    FK_ASSERT(v->total == flen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fk_begin();
    /* Terms of up to 20,000 visited nodes, not the parser's default 200,000:
     * a walk costs about 50 ns a node here (three walks an input), and the
     * inputs at the bound took most of the fuzzer's time for shapes it had
     * seen. fuzz_args walks iodata up to the default bound, and the VM tests
     * walk iodata 50,000 deep and 200,000 elements long (nocopy_args_tests). */
    fk.max_nodes = 20000;
    fk_in in = {data, size};
    uintptr_t argv[1] = {fk_parse_term(&in)};

    uint8_t *flat = NULL;
    size_t flen = 0;
    int is_iodata = fk_flatten_iodata(argv[0], &flat, &flen);

    nocopy_call c;
    fk_call_init(&c, 1, argv);
    for (int round = 0; round < 2; round++) {
        nocopy_iovec v = {NULL, 12345, 67890};
        size_t before = fk_arena_size(&c.arena);
        int st = nocopy_arg_iovec(&c, 0, &v);
        if (fk.arena_exhausted) {
            /* The harness made an allocation fail: ENOMEM, reported as such. */
            FK_ASSERT(st == NOCOPY_ENOMEM && c.err_status == NOCOPY_ENOMEM);
            break;
        }
        if (is_iodata) {
            FK_ASSERT(st == NOCOPY_OK);
            check_pieces(&v, flat, flen);
            /* Scratch memory in proportion to the walk: the pieces array and
             * the explicit stack (doubling, old arrays kept), the gathered
             * bytes. Bug F5 (docs/hardening-review.md): byte runs used to
             * start at the previous run's size, up to 64 KB after every
             * binary; fixed in c0d4e8a, regression input
             * fuzz/corpus/fuzz_iovec/byte_runs_after_binaries_take_64k_each. */
            size_t used = fk_arena_size(&c.arena) - before;
            FK_ASSERT(used <= 128 * v.count + 128 * fk.n + 4 * flen + 8192);
        } else {
            FK_ASSERT(st == NOCOPY_EBADARG);
            FK_ASSERT(c.err_status == NOCOPY_EBADARG);
            FK_ASSERT(c.err_argno == 1);
            FK_ASSERT(strcmp(c.err_text, "expected iodata") == 0);
            /* A failed read leaves the output alone. */
            FK_ASSERT(v.pieces == NULL && v.count == 12345 && v.total == 67890);
        }
    }
    /* An index past the arity is an internal error, not a crash. */
    nocopy_iovec v;
    FK_ASSERT(nocopy_arg_iovec(&c, 1, &v) == NOCOPY_EINTERNAL);
    nocopy__call_finish(&c);
    free(flat);
    fk_end();
    return 0;
}
