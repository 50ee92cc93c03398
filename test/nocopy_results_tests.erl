%% nocopy_results_tests: every result type of nocopy.h, built by the test
%% module: integers at their extremes, floats, atoms, booleans, tuples, lists,
%% {ok, _} and {error, _}, the format-string builder, and the contents of the
%% four binary forms (buffer, slice, kept/shared, foreign) and the plain copy.
%% Whether those binaries are copied is nocopy_zero_copy_tests' subject.
-module(nocopy_results_tests).

-include("nocopy_test_util.hrl").

results_test_() ->
    ?NC_FOR_ALL_THREE(fun(B) -> [value(B, V) || V <- value_table()] end).

%% {Function, Args, Expected}
value_table() ->
    [{make_ints, [], [?I64_MIN, ?I64_MAX, 0, -1, ?U64_MAX, 1 bsl 63, 1 bsl 59,
                      -(1 bsl 59) - 1]},
     {make_doubles, [], [0.0, 1.5, -2.25, 1.7976931348623157e308, 2.2250738585072014e-308,
                         5.0e-324]},
     {make_atoms, [], [ok, error, true, false, undefined, red, green, blue]},
     {make_atom_index, [-1], ok},
     {make_atom_index, [-5], undefined},
     {make_atom_index, [0], red},
     {make_atom_index, [25], neg_inf},
     {make_bools, [], [true, false, true, true]},
     {make_tuple, [0], {}},
     {make_tuple, [1], {1}},
     {make_tuple, [1000], list_to_tuple(lists:seq(1, 1000))},
     {make_tuple, [70000], list_to_tuple(lists:seq(1, 70000))},
     {make_list, [0], []},
     {make_list, [1], [1]},
     {make_list, [100000], lists:seq(1, 100000)},
     {make_deep, [0], {0, []}},
     {make_shapes, [], [{1.5, [red, 1 bsl 62], {{1 bsl 62, red}, {1 bsl 62, red}},
                         {1 bsl 62, red}, <<"xy">>}, ?U64_MAX, []]},
     {make_deep, [3], {3, [{2, [{1, [{0, []}]}]}]}},
     {return_ok, [5], {ok, 5}},
     {return_ok, [?I64_MIN], {ok, ?I64_MIN}},
     {return_error, [red], {error, red}},
     {return_error, [blue], {error, blue}},
     {build_all, [], {-5, ?U64_MAX, 2.5, true, false, ok, red, [1, 2], {}, [], <<"abc">>}},
     {build_value, [7], {7, [7, 7]}},
     {build_value, [1 bsl 62], {1 bsl 62, [1 bsl 62, 1 bsl 62]}}].

value(B, {F, Args, Expected}) ->
    {nc_title(B, io_lib:format("~s(~0tP)", [F, Args, 4])),
     ?_assertEqual(Expected, call(B, F, Args))}.

deep_test_() ->
    ?NC_FOR_ALL_THREE(
       fun(B) ->
               [{nc_title(B, "make_deep(10000): nesting survives"),
                 fun() -> ?assertEqual(10000, depth(call(B, make_deep, [10000]))) end}]
       end).

%% The first element of a {Binary, Address} result.
first_is(Expected, {Bin, Addr}) when is_integer(Addr) ->
    ?assertEqual(Expected, Bin).

depth({D, []}) when D =:= 0 -> 0;
depth({D, [Inner]}) ->
    ?assertEqual(D - 1, element(1, Inner)),
    1 + depth(Inner).

%% Results that cannot be built fail the call, with a reason and a message.
result_errors_test_() ->
    ?NC_FOR_ALL_THREE(
       fun(B) ->
               [{nc_title(B, io_lib:format("~s(~0tP) fails with ~p", [F, Args, 4, R])),
                 fun() -> nc_assert_error(B, F, Args, R, {general, Msg}) end}
                || {F, Args, R, Msg} <- result_error_table()]
       end).

result_error_table() ->
    Float = "Erlang floats cannot be NaN or infinite",
    [{make_nonfinite, [nan], erange, Float},
     {make_nonfinite, [inf], erange, Float},
     {make_nonfinite, [neg_inf], erange, Float},
     {make_atom_index, [-6], einternal, "atom index -6 is not in the module's table"},
     {make_atom_index, [26], einternal, "atom index 26 is not in the module's table"},
     {make_atom_index, [1000], einternal, "atom index 1000 is not in the module's table"},
     {make_with_failed_part, [], einternal, "atom index 9999 is not in the module's table"},
     {build_malformed, [], einternal, "malformed nocopy format string \"{i\""},
     {slice, [<<"abc">>, 2, 5], erange, "slice of 5 bytes at offset 2 is outside a binary of 3 bytes"},
     {slice, [<<"abc">>, 4, 0], erange, "slice of 0 bytes at offset 4 is outside a binary of 3 bytes"},
     {slice, [nc_big(1000), 0, 1001], erange,
      "slice of 1001 bytes at offset 0 is outside a binary of 1000 bytes"},
     {slice, [nc_big(1000), (1 bsl 64) - 1, 2], erange,
      "slice of 2 bytes at offset 18446744073709551615 is outside a binary of 1000 bytes"}].

%% A failed part anywhere in a tuple fails the call with its own reason: every
%% position of every arity up to 16 (the check unrolls for literal arities),
%% and through a nested tuple of nocopy_build's inline path.
failed_part_test_() ->
    ?NC_FOR_ALL_THREE(
       fun(B) ->
               Msg = "atom index 9999 is not in the module's table",
               [{nc_title(B, "make_failed_at: every arity and position"),
                 fun() ->
                         [?assertEqual(list_to_tuple(lists:seq(1, N)),
                                       call(B, make_failed_at, [N, 0]))
                          || N <- lists:seq(1, 16)],
                         [nc_assert_error(B, make_failed_at, [N, K], einternal,
                                          {general, Msg})
                          || N <- lists:seq(1, 16), K <- lists:seq(1, N)]
                 end},
                {nc_title(B, "build_failed_at: through a nested tuple"),
                 fun() ->
                         ?assertEqual({1, {2, 3}, 4}, call(B, build_failed_at, [0])),
                         [nc_assert_error(B, build_failed_at, [K], einternal, {general, Msg})
                          || K <- lists:seq(1, 4)]
                 end}]
       end).

%% ---- binary results: contents -------------------------------------------------------

binary_contents_test_() ->
    ?NC_FOR_ALL_THREE(fun(B) -> binary_contents(B) end).

binary_contents(B) ->
    Sizes = [0, 1, 63, 64, 65, 1000, 1 bsl 20],
    Big = nc_big(100000),
    [{nc_title(B, io_lib:format("buf_new(~b) contents", [N])),
      ?_test(first_is(binary:copy(<<9>>, N), call(B, buf_new, [N, 9])))}
     || N <- Sizes] ++
    [{nc_title(B, io_lib:format("build_buf(~b) contents", [N])),
      ?_test(first_is(binary:copy(<<3>>, N), call(B, build_buf, [N, 3])))}
     || N <- Sizes] ++
    [{nc_title(B, io_lib:format("copy_new(~b) contents", [N])),
      ?_test(first_is(binary:copy(<<4>>, N), call(B, copy_new, [N, 4])))}
     || N <- Sizes] ++
    [{nc_title(B, io_lib:format("foreign_new(~b) contents", [N])),
      ?_test(first_is(binary:copy(<<5>>, N), call(B, foreign_new, [N, 5])))}
     || N <- Sizes] ++
    [{nc_title(B, io_lib:format("buf_resize(~b, ~b) keeps the prefix", [S1, S2])),
      fun() ->
              {Bin, _} = call(B, buf_resize, [S1, S2, 7]),
              Keep = min(S1, S2),
              ?assertEqual(<<(binary:copy(<<7>>, Keep))/binary,
                             (binary:copy(<<8>>, S2 - Keep))/binary>>, Bin)
      end}
     || {S1, S2} <- [{0, 10}, {10, 0}, {100, 1000}, {1000, 100}, {64, 65}, {65, 64},
                     {1 bsl 20, 2 bsl 20}, {2 bsl 20, 1}]] ++
    [{nc_title(B, "buf_discard frees an unused buffer"),
      ?_assertEqual(ok, call(B, buf_discard, [1 bsl 20]))}] ++
    [{nc_title(B, io_lib:format("slice(Big, ~b, ~b) contents", [Off, Len])),
      ?_test(first_is(binary:part(Big, Off, Len),
                    call(B, slice, [Big, Off, Len])))}
     || {Off, Len} <- [{0, 0}, {0, 100000}, {1, 10}, {3, 64}, {3, 65}, {99935, 65},
                       {100000, 0}, {50000, 50000}]] ++
    [{nc_title(B, "slice of a tuple element"),
      ?_test(first_is(binary:part(Big, 10, 500),
                    call(B, slice_elem, [{x, Big}, 10, 500])))},
     {nc_title(B, "build_slice contents"),
      ?_test(first_is(binary:part(Big, 7, 300),
                    call(B, build_slice, [Big, 7, 300])))},
     {nc_title(B, "copy_slice contents"),
      ?_test(first_is(binary:part(Big, 7, 300),
                    call(B, copy_slice, [Big, 7, 300])))},
     {nc_title(B, "echo_bytes of a sub-binary at a bit offset"),
      fun() ->
              <<_:3, Sub:1000/binary, _/bitstring>> = Big,
              ?assertEqual(Sub, call(B, echo_bytes, [Sub]))
      end}] ++
    kept_contents(B).

kept_contents(B) ->
    [{nc_title(B, "keep_put / keep_get / keep_release"),
      fun() ->
              Big = nc_big(200000),
              call(B, keep_release, [1]),
              ?assertEqual(undefined, call(B, keep_get, [1, 0, 1])),
              ?assertEqual(undefined, call(B, keep_get_all, [1])),
              _ = call(B, keep_put, [1, Big]),
              ?assertEqual(Big, call(B, keep_get_all, [1])),
              first_is(binary:part(Big, 5, 1000),
                           call(B, keep_get, [1, 5, 1000])),
              nc_assert_error(B, keep_get, [1, 199999, 2], erange,
                              {general, "slice of 2 bytes at offset 199999 is outside a "
                                        "binary of 200000 bytes"}),
              ?assertEqual(true, call(B, keep_release, [1])),
              ?assertEqual(false, call(B, keep_release, [1])),
              ?assertEqual(undefined, call(B, keep_get_all, [1]))
      end},
     {nc_title(B, "keep_put_elem keeps a tuple element"),
      fun() ->
              Big = nc_big(5000),
              _ = call(B, keep_put_elem, [2, {x, Big}]),
              ?assertEqual(Big, call(B, keep_get_all, [2])),
              ?assertEqual(true, call(B, keep_release, [2]))
      end},
     {nc_title(B, "keep_put of small binaries"),
      fun() ->
              [begin
                   Bin = nc_big(N),
                   _ = call(B, keep_put, [3, Bin]),
                   ?assertEqual(Bin, call(B, keep_get_all, [3]))
               end || N <- [0, 1, 64, 65]],
              ?assertEqual(true, call(B, keep_release, [3]))
      end},
     {nc_title(B, "shared_put: a C buffer returned many times"),
      fun() ->
              _ = call(B, shared_put, [4, 300000, 42]),
              Expected = binary:copy(<<42>>, 300000),
              [?assertEqual(Expected, call(B, keep_get_all, [4])) || _ <- lists:seq(1, 5)],
              ?assertEqual(true, call(B, keep_release, [4]))
      end},
     {nc_title(B, "every kept reference is released exactly once"),
      fun() ->
              [call(B, keep_release, [S]) || S <- lists:seq(0, 7)],
              {Taken0, Released0} = call(B, kept_stats, []),
              ?assertEqual(Taken0, Released0),
              [call(B, keep_put, [S rem 8, nc_big(1000 + S)]) || S <- lists:seq(1, 50)],
              [call(B, keep_release, [S]) || S <- lists:seq(0, 7)],
              ?assertEqual({Taken0 + 50, Released0 + 50}, call(B, kept_stats, []))
      end}].
