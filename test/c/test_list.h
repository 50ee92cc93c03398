/* test_list.h: every C unit test, in the order run_tests.c runs them.
 * To add one: write TEST(name) in a test/c/test_*.c file and add X(name) here.
 * Driver-backend tests (test/c/test_drv_*.c) and the isolated backend's
 * (test/c/test_iso_*.c) go in their own blocks below. */
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
    X(handle_pin_refuses_close)                                                \
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
    X(drv_wire_prefixes_within_bounds)                                         \
    X(drv_wire_iodata_pieces_follow_the_segments)                              \
    X(drv_wire_iodata_every_two_cuts)                                          \
    X(drv_wire_iodata_rest_keeps_owners)                                       \
    X(drv_wire_iodata_lengths)                                                 \
    X(drv_wire_iodata_one_byte_pieces_within_bounds)                           \
    X(drv_wire_iodata_cannot_take_declared_bytes)                              \
    X(drv_wire_terms_to_the_end)                                               \
    X(drv_wire_every_cut_decodes_as_one_segment)                               \
    X(drv_wire_leading_scalars_every_cut)                                      \
    X(drv_wire_tail_binary_in_a_later_entry)                                   \
    X(drv_wire_tail_binary_empty)                                              \
    X(drv_wire_int32)                                                          \
    X(drv_wire_int32_truncated)                                                \
    X(drv_wire_kinds_split_everywhere)                                         \
    X(drv_wire_too_short_for_the_kinds)                                        \
    X(drv_wire_flat_takes_the_stub_shapes)                                     \
    X(drv_wire_flat_declines_other_shapes)                                     \
    /* isolated backend, shared layer (test/c/test_iso_*.c) */                 \
    /* test_iso_region.c */                                                    \
    X(iso_region_sizes)                                                        \
    X(iso_region_size_sealed)                                                  \
    X(iso_region_input_read_only_for_the_child)                                \
    X(iso_region_unfrozen_is_writable_negative_control)                        \
    X(iso_region_output_written_by_the_child)                                  \
    X(iso_region_attach_refuses_what_is_not_a_region)                          \
    X(iso_region_discard_gives_pages_back)                                     \
    /* test_iso_alloc.c */                                                     \
    X(iso_alloc_take_and_give)                                                 \
    X(iso_alloc_refuses_bad_frees)                                             \
    X(iso_alloc_exhaustion)                                                    \
    X(iso_alloc_coalesces)                                                     \
    X(iso_alloc_random_against_model)                                          \
    X(iso_alloc_discards_large_frees_only)                                     \
    X(iso_alloc_region_memory_follows_live_blocks)                             \
    X(iso_alloc_threads)                                                       \
    /* test_iso_chan.c */                                                      \
    X(iso_chan_messages_keep_their_bounds)                                     \
    X(iso_chan_long_messages_refused_whole)                                    \
    X(iso_chan_dead_peer)                                                      \
    X(iso_chan_nonblocking_end_never_waits)                                    \
    X(iso_chan_try_send_never_waits)                                           \
    /* test_iso_slot.c */                                                      \
    X(iso_slot_reply_taken)                                                    \
    X(iso_slot_given_up)                                                       \
    X(iso_slot_declined)                                                       \
    X(iso_slot_hostile_child)                                                  \
    X(iso_call_slot)                                                           \
    /* test_iso_order.c */                                                     \
    X(iso_order_in_order_runs_at_once)                                         \
    X(iso_order_release_waits_for_earlier_messages)                            \
    X(iso_order_wraps_and_refuses_outside_the_window)                          \
    X(iso_order_lock_free_mark_races_the_readers)                              \
    /* test_iso_proc.c */                                                      \
    X(iso_spawn_passes_exactly_the_fds)                                        \
    X(iso_spawn_reports_how_the_child_ended)                                   \
    X(iso_spawn_child_signals_are_default)                                     \
    X(iso_spawn_kill_a_hung_child)                                             \
    X(iso_spawn_release_reaps)                                                 \
    X(iso_spawn_missing_program)                                               \
    X(iso_spawn_child_death_closes_the_channel)                                \
    X(iso_kill_races_reap)                                                     \
    /* the FFI's declaration parser (test/c/test_ffi_*.c) */                   \
    X(ffi_parse_crc32)                                                         \
    X(ffi_parse_typedefs_and_comments)                                         \
    X(ffi_parse_struct_layouts)                                                \
    X(ffi_parse_enums)                                                         \
    X(ffi_parse_kinds)                                                         \
    X(ffi_parse_errors_name_the_position)                                      \
    X(ffi_parse_bounds)

#endif /* NC_TEST_LIST_H */
