/* test_module.h: what the files of the native test module `nocopy_test` share.
 *
 * The module is one table (test_module.c) over wrapped functions kept by topic:
 * test_args.c, test_results.c, test_handles.c, test_sched.c. This header has
 * the helpers they all use, the atom indexes, the counter handle type (the
 * format-string and scheduling tests borrow it too) and the prototype of every
 * wrapped function the table lists. Everything else stays static in its file.
 * Globals are per library: the NIF and the driver build each have their own. */
#ifndef NOCOPY_TEST_MODULE_H
#define NOCOPY_TEST_MODULE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "nocopy.h"

/* Ends the wrapped function with the reader's status when it failed: the
 * reader has recorded the error that names the argument. */
#define TRY(expr)                          \
    do {                                   \
        int st_ = (expr);                  \
        if (st_ != NOCOPY_OK)              \
            return st_;                    \
    } while (0)

#define ADDR(p) ((uint64_t)(uintptr_t)(p))

/* ---- atoms: indexes into test_atoms (test_module.c), in the same order ---- */

enum {
    A_RED, A_GREEN, A_BLUE,
    A_RELEASED, A_TIMEOUT,
    /* nocopy_type names, in enum order (NOCOPY_T_INTEGER is 1) */
    A_INTEGER, A_FLOAT, A_ATOM, A_BINARY, A_BITSTRING, A_TUPLE, A_LIST, A_NIL,
    A_HANDLE, A_OTHER,
    /* status names, for fail_status/1 and close_twice/1 */
    A_EBADARG, A_ENOMEM, A_ERANGE, A_ECLOSED, A_EPROTO, A_EOVERLOAD, A_ENOTSUP,
    A_EINTERNAL,
    A_NAN, A_INF, A_NEG_INF,
    A_COUNT
};

/* ---- the counter handle type (test_handles.c) ------------------------------ */

/* The magic of a live handle object or foreign block; destructors check it. */
#define LIVE_MAGIC 0x11FE11FEu

typedef struct counter {
    unsigned magic;
    long id;                    /* index in counter_dtor_runs */
    atomic_long uses;
    int64_t dtor_gate_ms;       /* > 0: the destructor waits at the gate first */
} counter;

/* Per-object counts, so a test can follow its own objects whatever other
 * tests' garbage does to the global counters. Ids past the table are not
 * tracked (the *_id functions refuse them). */
#define NTRACK (1 << 20)
extern atomic_uchar counter_dtor_runs[NTRACK];

extern const nocopy_handle_type counter_type;
/* The handle types the module lists, NULL-terminated. */
extern const nocopy_handle_type *const test_handle_types[];

/* ---- wrapped functions, by file --------------------------------------------- */

/* test_args.c: arguments and format strings */
int f_echo_i64(nocopy_call *c);
int f_echo_u64(nocopy_call *c);
int f_echo_size(nocopy_call *c);
int f_echo_range(nocopy_call *c);
int f_echo_double(nocopy_call *c);
int f_echo_bool(nocopy_call *c);
int f_echo_atom(nocopy_call *c);
int f_atom_index(nocopy_call *c);
int f_echo_bytes(nocopy_call *c);
int f_address_of(nocopy_call *c);
int f_address_of_elem(nocopy_call *c);
int f_list_addresses(nocopy_call *c);
int f_iovec_info(nocopy_call *c);
int f_iovec_flat(nocopy_call *c);
int f_echo_tuple(nocopy_call *c);
int f_term_type(nocopy_call *c);
int f_tuple_types(nocopy_call *c);
int f_list_types(nocopy_call *c);
int f_iodata_walk(nocopy_call *c);
int f_sum_list(nocopy_call *c);
int f_elem_readers(nocopy_call *c);
int f_atom_or_int(nocopy_call *c);
int f_scan_flat(nocopy_call *c);
int f_scan_nested(nocopy_call *c);
int f_scan_handle(nocopy_call *c);
int f_scan_term(nocopy_call *c);
int f_scan_malformed(nocopy_call *c);
int f_format_paths(nocopy_call *c);
int f_build_all(nocopy_call *c);
int f_build_sites(nocopy_call *c);
int f_build_buf(nocopy_call *c);
int f_build_slice(nocopy_call *c);
int f_build_value(nocopy_call *c);
int f_build_malformed(nocopy_call *c);

/* test_results.c: results, binary results, kept binaries */
int f_make_ints(nocopy_call *c);
int f_make_doubles(nocopy_call *c);
int f_make_nonfinite(nocopy_call *c);
int f_make_atoms(nocopy_call *c);
int f_make_atom_index(nocopy_call *c);
int f_make_bools(nocopy_call *c);
int f_make_tuple(nocopy_call *c);
int f_make_list(nocopy_call *c);
int f_make_deep(nocopy_call *c);
int f_make_shapes(nocopy_call *c);
int f_make_with_failed_part(nocopy_call *c);
int f_make_failed_at(nocopy_call *c);
int f_build_failed_at(nocopy_call *c);
int f_return_ok(nocopy_call *c);
int f_return_error(nocopy_call *c);
int f_fail_badarg(nocopy_call *c);
int f_fail_status(nocopy_call *c);
int f_fail_with(nocopy_call *c);
int f_fail_positive(nocopy_call *c);
int f_no_result(nocopy_call *c);
int f_return_zero(nocopy_call *c);
int f_buf_new(nocopy_call *c);
int f_buf_resize(nocopy_call *c);
int f_buf_discard(nocopy_call *c);
int f_slice(nocopy_call *c);
int f_slice_elem(nocopy_call *c);
int f_slice_unread(nocopy_call *c);
int f_copy_slice(nocopy_call *c);
int f_copy_new(nocopy_call *c);
int f_keep_put(nocopy_call *c);
int f_keep_put_elem(nocopy_call *c);
int f_shared_put(nocopy_call *c);
int f_keep_get(nocopy_call *c);
int f_keep_get_all(nocopy_call *c);
int f_keep_release(nocopy_call *c);
int f_kept_stats(nocopy_call *c);

/* test_handles.c: foreign memory and handles */
int f_foreign_new(nocopy_call *c);
int f_foreign_new_id(nocopy_call *c);
int f_foreign_releases(nocopy_call *c);
int f_foreign_stats(nocopy_call *c);
int f_new_counter_handle(nocopy_call *c);
int f_new_counter_handle_id(nocopy_call *c);
int f_handle_dtor_runs(nocopy_call *c);
int f_handle_misalignment(nocopy_call *c);
int f_new_other_handle(nocopy_call *c);
int f_new_plain_handle(nocopy_call *c);
int f_use_plain(nocopy_call *c);
int f_close_plain(nocopy_call *c);
int f_close_plain_churn(nocopy_call *c);
int f_new_unlisted_handle(nocopy_call *c);
int f_new_unreturned_handle(nocopy_call *c);
int f_new_handle_pair(nocopy_call *c);
int f_use_handle(nocopy_call *c);
int f_use_other(nocopy_call *c);
int f_use_handle_list(nocopy_call *c);
int f_close_handle(nocopy_call *c);
int f_close_twice(nocopy_call *c);
int f_close_null(nocopy_call *c);
int f_close_gated(nocopy_call *c);
int f_live_handles(nocopy_call *c);
int f_handle_stats(nocopy_call *c);
int f_keep_handle(nocopy_call *c);
int f_release_kept_handles(nocopy_call *c);

/* test_sched.c: thread names, the gate, consume */
int f_thread_name(nocopy_call *c);
int f_gate_wait(nocopy_call *c);
int f_gate_wait_above(nocopy_call *c);
int f_gate_wait_handle(nocopy_call *c);
int f_gate_open(nocopy_call *c);
int f_gate_close(nocopy_call *c);
int f_gate_stats(nocopy_call *c);
/* Blocks until gate_open/0 or ms pass, counted in gate_stats/0 as a call
 * is; whether the gate opened. */
bool test_wait_gate(int64_t ms);
int f_consume(nocopy_call *c);

#endif /* NOCOPY_TEST_MODULE_H */
