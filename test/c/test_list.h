/* test_list.h: every C unit test, in the order run_tests.c runs them.
 * To add one: write TEST(name) in a test/c/test_*.c file and add X(name) here.
 * Driver-backend tests (test/c/test_drv_*.c) go in their own block below. */
#ifndef NC_TEST_LIST_H
#define NC_TEST_LIST_H

#define TEST_LIST(X)                                                           \
    /* test_status.c */                                                        \
    X(status_values_pinned)                                                    \
    X(status_names)                                                            \
    X(status_messages)                                                         \
    X(status_unknown)                                                          \
    /* test_arena.c */                                                         \
    X(arena_first_allocations_inline)                                          \
    X(arena_zero_size)                                                         \
    X(arena_alignment)                                                         \
    X(arena_many_small_disjoint)                                               \
    X(arena_large_blocks)                                                      \
    X(arena_large_keeps_current_block)                                         \
    X(arena_overflow_sizes)                                                    \
    X(arena_free_resets)                                                       \
    /* test_handle.c */                                                        \
    X(handle_init_zeroes_object)                                               \
    X(handle_obj_roundtrip)                                                    \
    X(handle_close_idle_runs_dtor)                                             \
    X(handle_close_twice)                                                      \
    X(handle_close_null)                                                       \
    X(handle_finalize_without_close)                                           \
    X(handle_close_then_finalize)                                              \
    X(handle_close_while_in_use)                                               \
    X(handle_two_users)                                                        \
    X(handle_begin_after_close)                                                \
    X(handle_null_dtor)                                                        \
    X(handle_every_order)                                                      \
    X(handle_threads_use_and_close)                                            \
    X(handle_threads_race_close)                                               \
    X(handle_keep_release_use_backend)                                         \
    X(handle_new_checks_type)                                                  \
    X(handle_new_out_of_memory)                                                \
    /* test_module.c */                                                        \
    X(module_check_accepts_good_tables)                                        \
    X(module_check_refuses_bad_tables)                                         \
    X(module_builtin_atoms)                                                    \
    X(error_reasons)                                                           \
    /* driver backend (test/c/test_drv_*.c) */                                \
    /* test_drv_wire.c */                                                      \
    X(drv_wire_lying_tuples_at_the_term_limit)                                 \
    X(drv_wire_lying_argument_count)                                           \
    X(drv_wire_wide_tuple_within_bounds)                                       \
    X(drv_wire_left_nested_list_within_bounds)                                 \
    X(drv_wire_term_limit)                                                     \
    X(drv_wire_prefixes_within_bounds)                                          \
    /* the FFI's declaration parser (test/c/test_ffi_*.c) */                   \
    X(ffi_parse_crc32)                                                         \
    X(ffi_parse_typedefs_and_comments)                                         \
    X(ffi_parse_struct_layouts)                                                \
    X(ffi_parse_enums)                                                         \
    X(ffi_parse_kinds)                                                         \
    X(ffi_parse_errors_name_the_position)                                      \
    X(ffi_parse_bounds)

#endif /* NC_TEST_LIST_H */
