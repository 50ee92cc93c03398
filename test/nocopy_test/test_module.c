/* test_module.c: the native test module `nocopy_test`: its atoms, its load
 * hook and the table of its functions, with their specs and docs.
 *
 * Written only against nocopy.h, so one set of sources builds into both
 * backends: the NIF library (Erlang module nocopy_test) and the driver library
 * (client module nocopy_test_drv, where every function takes the port first).
 * It is a test fixture in the spirit of OTP's *_SUITE_data modules:
 *   - echoes every argument type, so the EUnit suites can feed bad inputs
 *     (test_args.c);
 *   - builds every result type, including the extremes (test_results.c);
 *   - reports the data addresses C sees and writes, for the zero-copy proofs,
 *     and offers copying twins of each no-copy path as negative controls
 *     (test_args.c, test_results.c);
 *   - counts handle destructors and foreign-memory releases in atomics
 *     (test_handles.c);
 *   - reports the name of the thread that ran a call, and has a gate that holds
 *     calls until Erlang opens it, for the scheduling tests (test_sched.c).
 * test_module.h declares what these files share. The table below is the single
 * source of the generated stubs nocopy_test.erl and nocopy_test_drv.erl.
 * Globals are per library: the NIF and the driver build each have their own. */
#include <stdatomic.h>

#include "test_module.h"

/* ---- atoms: in the order of the A_* enum in test_module.h ------------------ */

static const char *const test_atoms[] = {
    "red", "green", "blue",
    "released", "timeout",
    "integer", "float", "atom", "binary", "bitstring", "tuple", "list", "nil",
    "handle", "other",
    "ebadarg", "enomem", "erange", "eclosed", "eproto", "eoverload", "enotsup",
    "einternal",
    "nan", "inf", "neg_inf",
    NULL
};

/* ---- module hooks ------------------------------------------------------------------ */

static atomic_long loads;

static int test_load(void)
{
    atomic_fetch_add(&loads, 1);
    return NOCOPY_OK;
}

static int f_load_count(nocopy_call *c)
{   /* () */
    return nocopy_return(c, nocopy_make_i64(c, atomic_load(&loads)));
}

/* ---- the table ------------------------------------------------------------------- */

#define BIN_ADDR "{binary(), non_neg_integer()}"
#define STATUS_ATOMS "ebadarg | enomem | erange | eclosed | eproto | eoverload | enotsup | einternal"
#define TYPE_ATOMS "integer | float | atom | binary | bitstring | tuple | list | nil | handle | other"

/* Bytes of binary arguments above which the *_above functions go dirty. */
#define DIRTY_ABOVE_BYTES 1000

static const nocopy_func test_funcs[] = {
    /* arguments */
    {"echo_i64", 1, f_echo_i64, "X :: integer()", "integer()", NOCOPY_NORMAL, 0,
     "Returns X, read as a signed 64-bit integer."},
    {"echo_u64", 1, f_echo_u64, "X :: non_neg_integer()", "non_neg_integer()", NOCOPY_NORMAL, 0,
     "Returns X, read as an unsigned 64-bit integer."},
    {"echo_size", 1, f_echo_size, "X :: non_neg_integer()", "non_neg_integer()", NOCOPY_NORMAL, 0,
     "Returns X, read as a size."},
    {"echo_range", 1, f_echo_range, "X :: -10..10", "-10..10", NOCOPY_NORMAL, 0,
     "Returns X, read as an integer in -10..10."},
    {"echo_double", 1, f_echo_double, "X :: float()", "float()", NOCOPY_NORMAL, 0, NULL},
    {"echo_bool", 1, f_echo_bool, "X :: boolean()", "boolean()", NOCOPY_NORMAL, 0, NULL},
    {"echo_atom", 1, f_echo_atom, "X :: color()", "color()", NOCOPY_NORMAL, 0,
     "Returns X, read as an atom of the module's table."},
    {"atom_index", 1, f_atom_index, "X :: atom()", "integer()", NOCOPY_NORMAL, 0,
     "The nocopy_atom index of X (negative for built-in atoms)."},
    {"echo_bytes", 1, f_echo_bytes, "Bin :: binary()", "binary()", NOCOPY_NORMAL, 0,
     "A copy of Bin."},
    {"address_of", 1, f_address_of, "Bin :: binary()", "non_neg_integer()", NOCOPY_NORMAL, 0,
     "The data address C sees for Bin."},
    {"address_of_elem", 1, f_address_of_elem, "T :: {term(), binary()}", "non_neg_integer()",
     NOCOPY_NORMAL, 0, NULL},
    {"list_addresses", 1, f_list_addresses, "L :: [binary()]", "[non_neg_integer()]",
     NOCOPY_NORMAL, 0, NULL},
    {"iovec_info", 1, f_iovec_info, "Data :: iodata()",
     "{non_neg_integer(), non_neg_integer(), [{non_neg_integer(), non_neg_integer()}]}",
     NOCOPY_NORMAL, 0, "{Total, Count, [{Address, Size}]} of the pieces C sees."},
    {"iovec_flat", 1, f_iovec_flat, "Data :: iodata()", "binary()", NOCOPY_NORMAL, 0, NULL},
    {"echo_tuple", 1, f_echo_tuple, "T :: {integer(), binary(), {color(), float()}}",
     "{integer(), binary(), {color(), float()}}", NOCOPY_NORMAL, 0, NULL},
    {"term_type", 1, f_term_type, "X :: term()", "type_name()", NOCOPY_NORMAL, 0, NULL},
    {"tuple_types", 1, f_tuple_types, "T :: tuple()", "[type_name()]", NOCOPY_NORMAL, 0, NULL},
    {"list_types", 1, f_list_types, "L :: list()", "[type_name()]", NOCOPY_NORMAL, 0, NULL},
    {"iodata_walk", 1, f_iodata_walk, "Data :: iodata()",
     "{type_name(), [type_name()], binary(), binary()}", NOCOPY_NORMAL, 0,
     "iodata read as a list: its type, its elements' types, its binary elements "
     "concatenated, a slice of the first."},
    {"sum_list", 1, f_sum_list, "L :: [integer()]", "integer()", NOCOPY_NORMAL, 0, NULL},
    {"elem_readers", 1, f_elem_readers,
     "T :: {non_neg_integer(), non_neg_integer(), byte(), boolean(), iodata()}",
     "{non_neg_integer(), non_neg_integer(), byte(), boolean(), non_neg_integer()}",
     NOCOPY_NORMAL, 0, NULL},
    {"atom_or_int", 1, f_atom_or_int, "X :: color() | integer()", "{boolean(), integer()}",
     NOCOPY_NORMAL, 0, NULL},
    /* format strings */
    {"scan_flat", 1, f_scan_flat,
     "T :: {integer(), non_neg_integer(), non_neg_integer(), float(), boolean(), color(), "
     "binary(), iodata()}",
     "{integer(), non_neg_integer(), non_neg_integer(), float(), boolean(), color(), "
     "binary(), non_neg_integer()}", NOCOPY_NORMAL, 0, NULL},
    {"scan_nested", 1, f_scan_nested, "T :: {{integer(), {color()}}, binary()}",
     "{integer(), color(), non_neg_integer()}", NOCOPY_NORMAL, 0, NULL},
    {"scan_handle", 1, f_scan_handle, "T :: {nocopy:handle(), term(), term()}",
     "{integer(), type_name()}", NOCOPY_NORMAL, 0, NULL},
    {"scan_term", 1, f_scan_term, "T :: {integer(), term()}", "integer()", NOCOPY_NORMAL, 0,
     NULL},
    {"scan_malformed", 1, f_scan_malformed, "T :: term()", "no_return()", NOCOPY_NORMAL, 0,
     NULL},
    {"format_paths", 2, f_format_paths,
     "Library :: boolean(), T :: {integer(), non_neg_integer(), float(), boolean(), color(), "
     "binary()}",
     "{integer(), non_neg_integer(), float(), boolean(), color(), {binary()}, [integer()], "
     "binary()}", NOCOPY_NORMAL, 0, NULL},
    {"build_all", 0, f_build_all, "", "tuple()", NOCOPY_NORMAL, 0, NULL},
    {"build_buf", 2, f_build_buf, "Size :: non_neg_integer(), Byte :: byte()", BIN_ADDR,
     NOCOPY_NORMAL, 0, NULL},
    {"build_slice", 3, f_build_slice,
     "Bin :: binary(), Off :: non_neg_integer(), Len :: non_neg_integer()", BIN_ADDR,
     NOCOPY_NORMAL, 0, NULL},
    {"build_value", 1, f_build_value, "I :: integer()", "{integer(), [integer()]}",
     NOCOPY_NORMAL, 0, NULL},
    {"build_sites", 1, f_build_sites, "T :: {integer(), integer()}",
     "{{integer(), integer()}, [integer()], [integer()]}", NOCOPY_NORMAL, 0, NULL},
    {"build_malformed", 0, f_build_malformed, "", "no_return()", NOCOPY_NORMAL, 0, NULL},
    /* results */
    {"make_ints", 0, f_make_ints, "", "[integer()]", NOCOPY_NORMAL, 0, NULL},
    {"make_doubles", 0, f_make_doubles, "", "[float()]", NOCOPY_NORMAL, 0, NULL},
    {"make_nonfinite", 1, f_make_nonfinite, "Which :: nan | inf | neg_inf", "float()",
     NOCOPY_NORMAL, 0, NULL},
    {"make_atoms", 0, f_make_atoms, "", "[atom()]", NOCOPY_NORMAL, 0, NULL},
    {"make_atom_index", 1, f_make_atom_index, "I :: integer()", "atom()", NOCOPY_NORMAL, 0,
     NULL},
    {"make_bools", 0, f_make_bools, "", "[boolean()]", NOCOPY_NORMAL, 0, NULL},
    {"make_tuple", 1, f_make_tuple, "N :: non_neg_integer()", "tuple()", NOCOPY_NORMAL, 0,
     NULL},
    {"make_list", 1, f_make_list, "N :: non_neg_integer()", "[pos_integer()]", NOCOPY_NORMAL,
     0, NULL},
    {"make_deep", 1, f_make_deep, "Depth :: non_neg_integer()", "tuple()", NOCOPY_NORMAL, 0,
     NULL},
    {"make_with_failed_part", 0, f_make_with_failed_part, "", "no_return()", NOCOPY_NORMAL, 0,
     NULL},
    {"make_failed_at", 2, f_make_failed_at, "N :: 1..16, K :: 0..16", "tuple()",
     NOCOPY_NORMAL, 0, "{1, ..., N}, or failing at part K."},
    {"build_failed_at", 1, f_build_failed_at, "K :: 0..4", "{1, {2, 3}, 4}", NOCOPY_NORMAL, 0,
     "nocopy_build(\"{v{vv}v}\"), or failing at value K."},
    {"return_ok", 1, f_return_ok, "I :: integer()", "{ok, integer()}", NOCOPY_NORMAL, 0, NULL},
    {"return_error", 1, f_return_error, "Reason :: color()", "{error, color()}",
     NOCOPY_NORMAL, 0, NULL},
    {"fail_badarg", 3, f_fail_badarg, "Which :: 0..2, Text :: binary(), Pad :: term()",
     "no_return()", NOCOPY_NORMAL, 0, "Fails with badarg naming argument Which+1."},
    {"fail_status", 1, f_fail_status, "Status :: " STATUS_ATOMS, "no_return()", NOCOPY_NORMAL,
     0, NULL},
    {"fail_with", 2, f_fail_with, "Status :: " STATUS_ATOMS " | integer(), Text :: binary()",
     "no_return()", NOCOPY_NORMAL, 0, "nocopy_fail(Status, \"%s\", Text)."},
    {"fail_positive", 0, f_fail_positive, "", "no_return()", NOCOPY_NORMAL, 0, NULL},
    {"no_result", 0, f_no_result, "", "no_return()", NOCOPY_NORMAL, 0, NULL},
    {"return_zero", 0, f_return_zero, "", "no_return()", NOCOPY_NORMAL, 0, NULL},
    /* binary results and address probes */
    {"buf_new", 2, f_buf_new, "Size :: non_neg_integer(), Byte :: byte()", BIN_ADDR,
     NOCOPY_NORMAL, 0, "A new buffer of Size bytes Byte, and the address C wrote to."},
    {"buf_resize", 3, f_buf_resize,
     "Size1 :: non_neg_integer(), Size2 :: non_neg_integer(), Byte :: 0..254", BIN_ADDR,
     NOCOPY_NORMAL, 0, NULL},
    {"buf_discard", 1, f_buf_discard, "Size :: non_neg_integer()", "ok", NOCOPY_NORMAL, 0,
     NULL},
    {"slice", 3, f_slice, "Bin :: binary(), Off :: non_neg_integer(), Len :: non_neg_integer()",
     BIN_ADDR, NOCOPY_NORMAL, 0, "A slice of Bin, and the address C computed for it."},
    {"slice_elem", 3, f_slice_elem,
     "T :: {term(), binary()}, Off :: non_neg_integer(), Len :: non_neg_integer()", BIN_ADDR,
     NOCOPY_NORMAL, 0, NULL},
    {"slice_unread", 3, f_slice_unread,
     "T :: term(), Off :: non_neg_integer(), Len :: non_neg_integer()", "binary()",
     NOCOPY_NORMAL, 0, "A slice of T (or of T's last element if T is a tuple), which C "
     "never reads first."},
    {"copy_slice", 3, f_copy_slice,
     "Bin :: binary(), Off :: non_neg_integer(), Len :: non_neg_integer()", BIN_ADDR,
     NOCOPY_NORMAL, 0, "Negative control of slice/3: copies."},
    {"copy_new", 2, f_copy_new, "Size :: non_neg_integer(), Byte :: byte()", BIN_ADDR,
     NOCOPY_NORMAL, 0, "Negative control of buf_new/2: copies."},
    {"keep_put", 2, f_keep_put, "Slot :: 0..7, Bin :: binary()", "non_neg_integer()",
     NOCOPY_NORMAL, 0, "Keeps Bin in Slot; returns the address of the kept bytes."},
    {"keep_put_elem", 2, f_keep_put_elem, "Slot :: 0..7, T :: {term(), binary()}",
     "non_neg_integer()", NOCOPY_NORMAL, 0, NULL},
    {"shared_put", 3, f_shared_put, "Slot :: 0..7, Size :: non_neg_integer(), Byte :: byte()",
     "non_neg_integer()", NOCOPY_NORMAL, 0, NULL},
    {"keep_get", 3, f_keep_get,
     "Slot :: 0..7, Off :: non_neg_integer(), Len :: non_neg_integer()",
     BIN_ADDR " | undefined", NOCOPY_NORMAL, 0, NULL},
    {"keep_get_all", 1, f_keep_get_all, "Slot :: 0..7", "binary() | undefined", NOCOPY_NORMAL,
     0, NULL},
    {"keep_release", 1, f_keep_release, "Slot :: 0..7", "boolean()", NOCOPY_NORMAL, 0, NULL},
    {"kept_stats", 0, f_kept_stats, "", "{non_neg_integer(), non_neg_integer()}",
     NOCOPY_NORMAL, 0, "{Taken, Released} kept references."},
    {"foreign_new", 2, f_foreign_new, "Size :: non_neg_integer(), Byte :: byte()", BIN_ADDR,
     NOCOPY_NORMAL, 0, NULL},
    {"foreign_new_id", 2, f_foreign_new_id, "Size :: non_neg_integer(), Byte :: byte()",
     "{binary(), non_neg_integer(), non_neg_integer()}", NOCOPY_NORMAL, 0,
     "{Binary, Address, Id}: foreign_new/2 with the object's id."},
    {"foreign_releases", 1, f_foreign_releases, "Id :: non_neg_integer()", "non_neg_integer()",
     NOCOPY_NORMAL, 0, "How many times foreign object Id was released."},
    {"foreign_stats", 0, f_foreign_stats, "",
     "{non_neg_integer(), non_neg_integer(), non_neg_integer()}", NOCOPY_NORMAL, 0,
     "{Made, Released, BadReleases}."},
    /* handles */
    {"new_counter_handle", 0, f_new_counter_handle, "", "nocopy:handle()", NOCOPY_NORMAL, 0,
     NULL},
    {"new_counter_handle_id", 0, f_new_counter_handle_id, "",
     "{nocopy:handle(), non_neg_integer()}", NOCOPY_NORMAL, 0, NULL},
    {"handle_dtor_runs", 1, f_handle_dtor_runs, "Id :: non_neg_integer()", "non_neg_integer()",
     NOCOPY_NORMAL, 0, "How many times the destructor of counter Id has run."},
    {"handle_misalignment", 1, f_handle_misalignment, "N :: 1..1024", "[non_neg_integer()]",
     NOCOPY_NORMAL, 0, "N new handle objects' addresses modulo 8."},
    {"new_other_handle", 0, f_new_other_handle, "", "nocopy:handle()", NOCOPY_NORMAL, 0, NULL},
    {"new_plain_handle", 0, f_new_plain_handle, "", "nocopy:handle()", NOCOPY_NORMAL, 0,
     "A handle whose type has no destructor."},
    {"use_plain", 1, f_use_plain, "H :: nocopy:handle()", "pos_integer()", NOCOPY_NORMAL, 0,
     "Counts the plain handle's uses."},
    {"close_plain", 1, f_close_plain, "H :: nocopy:handle()", "ok", NOCOPY_NORMAL, 0, NULL},
    {"close_plain_churn", 2, f_close_plain_churn, "H :: nocopy:handle(), N :: 0..1024",
     "{boolean(), [nocopy:handle()]}", NOCOPY_NORMAL, 0,
     "Closes H, makes N handles, and tells whether H's object survived."},
    {"new_unlisted_handle", 0, f_new_unlisted_handle, "", "no_return()", NOCOPY_NORMAL, 0,
     NULL},
    {"new_unreturned_handle", 0, f_new_unreturned_handle, "", "ok", NOCOPY_NORMAL, 0, NULL},
    {"new_handle_pair", 0, f_new_handle_pair, "", "{nocopy:handle(), nocopy:handle()}",
     NOCOPY_NORMAL, 0, NULL},
    {"use_handle", 1, f_use_handle, "H :: nocopy:handle()", "pos_integer()", NOCOPY_NORMAL, 0,
     "Counts a use of a counter handle; returns the uses so far."},
    {"use_other", 1, f_use_other, "H :: nocopy:handle()", "ok", NOCOPY_NORMAL, 0, NULL},
    {"use_handle_list", 1, f_use_handle_list, "L :: [nocopy:handle()]", "non_neg_integer()",
     NOCOPY_NORMAL, 0, NULL},
    {"close_handle", 1, f_close_handle, "H :: nocopy:handle()", "ok", NOCOPY_NORMAL, 0, NULL},
    {"close_twice", 1, f_close_twice, "H :: nocopy:handle()",
     "{ok | eclosed, ok | eclosed, pos_integer(), boolean()}", NOCOPY_NORMAL, 0, NULL},
    {"close_null", 0, f_close_null, "", "ok | eclosed | ebadarg", NOCOPY_NORMAL, 0, NULL},
    {"close_gated", 2, f_close_gated, "H :: nocopy:handle(), TimeoutMs :: pos_integer()", "ok",
     NOCOPY_DIRTY_CPU, 0, "Closes H; its destructor, run as the call ends, waits at the gate."},
    {"live_handles", 0, f_live_handles, "", "integer()", NOCOPY_NORMAL, 0,
     "Counter handles created and not yet destroyed."},
    {"handle_stats", 0, f_handle_stats, "",
     "{non_neg_integer(), non_neg_integer(), non_neg_integer(), non_neg_integer(), "
     "non_neg_integer()}", NOCOPY_NORMAL, 0,
     "{Created, Destroyed, BadDestructorRuns, OthersCreated, OthersDestroyed}."},
    {"keep_handle", 1, f_keep_handle, "H :: nocopy:handle()", "ok", NOCOPY_NORMAL, 0, NULL},
    {"release_kept_handles", 0, f_release_kept_handles, "", "non_neg_integer()",
     NOCOPY_NORMAL, 0, NULL},
    /* scheduling */
    {"thread_name", 0, f_thread_name, "", "binary()", NOCOPY_NORMAL, 0,
     "The name of the OS thread running the call."},
    {"thread_name_dirty_cpu", 0, f_thread_name, "", "binary()", NOCOPY_DIRTY_CPU, 0, NULL},
    {"thread_name_dirty_io", 0, f_thread_name, "", "binary()", NOCOPY_DIRTY_IO, 0, NULL},
    {"thread_name_above", 1, f_thread_name, "Bin :: binary()", "binary()", NOCOPY_DIRTY_ABOVE,
     DIRTY_ABOVE_BYTES, NULL},
    {"thread_name_above2", 2, f_thread_name, "Bin1 :: binary(), Bin2 :: binary()", "binary()",
     NOCOPY_DIRTY_ABOVE, DIRTY_ABOVE_BYTES, NULL},
    {"thread_name_above_list", 1, f_thread_name, "L :: iodata()", "binary()",
     NOCOPY_DIRTY_ABOVE, DIRTY_ABOVE_BYTES, NULL},
    {"thread_name_above_tuple", 1, f_thread_name, "T :: tuple()", "binary()",
     NOCOPY_DIRTY_ABOVE, DIRTY_ABOVE_BYTES, NULL},
    {"gate_wait", 1, f_gate_wait, "TimeoutMs :: non_neg_integer()", "{released | timeout, binary()}",
     NOCOPY_DIRTY_CPU, 0, "Blocks until gate_open/0 (or the timeout)."},
    {"gate_wait_above", 2, f_gate_wait_above, "Bin :: binary(), TimeoutMs :: non_neg_integer()",
     "{released | timeout, binary()}", NOCOPY_DIRTY_ABOVE, DIRTY_ABOVE_BYTES, NULL},
    {"gate_wait_handle", 2, f_gate_wait_handle,
     "H :: nocopy:handle(), TimeoutMs :: non_neg_integer()", "{released | timeout, boolean()}",
     NOCOPY_DIRTY_CPU, 0, "Uses H while blocked on the gate."},
    {"gate_open", 0, f_gate_open, "", "ok", NOCOPY_NORMAL, 0, NULL},
    {"gate_close", 0, f_gate_close, "", "ok", NOCOPY_NORMAL, 0, NULL},
    {"gate_stats", 0, f_gate_stats, "",
     "{non_neg_integer(), non_neg_integer(), non_neg_integer()}", NOCOPY_NORMAL, 0,
     "{Waiting, Released, TimedOut}."},
    {"consume", 1, f_consume, "Bytes :: non_neg_integer()", "ok", NOCOPY_NORMAL, 0, NULL},
    {"load_count", 0, f_load_count, "", "pos_integer()", NOCOPY_NORMAL, 0, NULL},
    {"make_shapes", 0, f_make_shapes, "", "list()", NOCOPY_NORMAL, 0,
     "Values used out of order, twice and nested."},
};

static const nocopy_module test_module = {
    .name = "nocopy_test",
    .funcs = test_funcs,
    .nfuncs = sizeof test_funcs / sizeof test_funcs[0],
    .atoms = test_atoms,
    .handle_types = test_handle_types,
    .types = "-type color() :: red | green | blue.\n"
             "-type type_name() :: " TYPE_ATOMS ".\n",
    .load = test_load,
    .unload = NULL,
};

NOCOPY_MODULE(test_module)
