%% nocopy_args_tests: every argument type of nocopy.h, read by the test module
%% (test/nocopy_test/test_args.c), with good values and a table of bad inputs per
%% type. Each bad input is checked for its exact error: error:badarg, the
%% argument number (shifted by one on the driver, whose stubs take the port
%% first), the error_info message, and the shell-formatted exception.
-module(nocopy_args_tests).

-include("nocopy_test_util.hrl").

%% ---- good values --------------------------------------------------------------------

good_values_test_() ->
    ?NC_FOR_ALL_THREE(fun(B) -> [good(B, G) || G <- good_table()] end).

%% {Function, Args, Expected result}
good_table() ->
    [{echo_i64, [X], X} || X <- [0, 1, -1, (1 bsl 59) - 1, 1 bsl 59, -(1 bsl 59),
                                  -(1 bsl 59) - 1, 1 bsl 62, ?I64_MAX, ?I64_MIN]] ++
    [{echo_u64, [X], X} || X <- [0, 1, 1 bsl 59, 1 bsl 63, ?U64_MAX]] ++
    [{echo_size, [X], X} || X <- [0, 1, 1 bsl 40, ?U64_MAX]] ++
    [{echo_range, [X], X} || X <- [-10, -1, 0, 10]] ++
    [{echo_double, [X], X} || X <- [0.0, 1.5, -2.5, 1.0e300, -1.0e-300, 5.0e-324,
                                     1.7976931348623157e308]] ++
    [{echo_bool, [true], true}, {echo_bool, [false], false}] ++
    [{echo_atom, [A], A} || A <- [red, green, blue]] ++
    %% Built-in atoms are always known, with negative indices.
    [{atom_index, [A], I} || {A, I} <- [{red, 0}, {green, 1}, {blue, 2}, {ok, -1},
                                        {error, -2}, {true, -3}, {false, -4},
                                        {undefined, -5}]] ++
    [{echo_bytes, [Bin], Bin} || Bin <- [<<>>, <<1, 2, 3>>, nc_big(64), nc_big(65),
                                         nc_big(1 bsl 20)]] ++
    [{iovec_flat, [D], iolist_to_binary(D)}
     || D <- [<<>>, [], [[]], "abc", [1, 2, 3], [<<"a">>, [<<"b">>, $c] | <<"d">>],
              [<<>>, [<<>>], <<"x">>], [nc_big(1000), "--", nc_big(70)],
              lists:foldl(fun(_, Acc) -> [Acc, $x] end, [], lists:seq(1, 2000)),
              %% Deeper and longer than fuzz_iovec's terms (20,000 nodes): nested
              %% 50,000 deep on either side, and 200,000 elements alternating
              %% binaries and bytes (the shape of bug F5).
              lists:foldl(fun(_, Acc) -> [Acc, $x] end, [], lists:seq(1, 50000)),
              lists:foldl(fun(_, Acc) -> [$y, Acc] end, [], lists:seq(1, 50000)),
              lists:append(lists:duplicate(100000, [<<"ab">>, 7]))]] ++
    [{echo_tuple, [T], T} || T <- [{1, <<"x">>, {red, 1.5}}, {-5, <<>>, {blue, 0.0}}]] ++
    [{tuple_types, [{}], []},
     {tuple_types, [{1, a, <<>>, 2.0, {}, [1], []}],
      [integer, atom, binary, float, tuple, list, nil]},
     {list_types, [[]], []},
     {list_types, [[1 bsl 70, <<1:3>>, "", [a]]], [integer, bitstring, nil, list]},
     {sum_list, [[]], 0},
     {sum_list, [[1, 2, 3]], 6},
     {sum_list, [lists:seq(1, 100000)], 5000050000},
     {elem_readers, [{?U64_MAX, 5, 255, true, [<<"ab">>, $c]}], {?U64_MAX, 5, 255, true, 3}},
     {elem_readers, [{0, 0, 0, false, <<>>}], {0, 0, 0, false, 0}},
     {atom_or_int, [red], {true, 0}},
     {atom_or_int, [7], {false, 7}},
     {atom_or_int, [-(1 bsl 62)], {false, -(1 bsl 62)}},
     {scan_flat, [{-1, 2, 3, 1.5, true, blue, <<"xy">>, [<<"a">>, "bc"]}],
      {-1, 2, 3, 1.5, true, blue, <<"xy">>, 3}},
     {scan_nested, [{{5, {green}}, <<"abc">>}], {5, green, 3}},
     {scan_term, [{7, {any, "term"}}], 7},
     %% twice: the first call at a site parses its format, later ones run
     %% the kept program
     {build_sites, [{3, 4}], {{3, 4}, [3, 4], lists:seq(1, 50)}},
     {build_sites, [{5, 6}], {{5, 6}, [5, 6], lists:seq(1, 50)}}].

good(B, {F, Args, Expected}) ->
    {nc_title(B, io_lib:format("~s(~0tP) =:= ~0tP", [F, Args, 6, Expected, 6])),
     ?_assertEqual(Expected, call(B, F, Args))}.

%% -0.0 keeps its sign through a float argument and result.
negative_zero_test_() ->
    ?NC_FOR_ALL_THREE(
       fun(B) ->
               [{nc_title(B, "echo_double(-0.0) keeps the sign"),
                 fun() ->
                         <<NegZero/float>> = <<1:1, 0:63>>,
                         ?assertEqual(<<1:1, 0:63>>, <<(call(B, echo_double, [NegZero]))/float>>)
                 end}]
       end).

term_types_test_() ->
    ?NC_FOR_ALL_THREE(
       fun(B) ->
               Cases = [{1, integer}, {1 bsl 70, integer}, {1.0, float}, {foo, atom},
                        {<<>>, binary}, {nc_big(100), binary}, {<<1:3>>, bitstring},
                        {{}, tuple}, {[1], list}, {"", nil}],
               [{nc_title(B, io_lib:format("term_type(~0tP) =:= ~p", [X, 4, T])),
                 ?_assertEqual(T, call(B, term_type, [X]))} || {X, T} <- Cases] ++
               [{nc_title(B, "term_type of a handle"),
                 fun() ->
                         H = call(B, new_counter_handle, []),
                         ?assertEqual(handle, call(B, term_type, [H]))
                 end}] ++
               %% Pids, references, maps and funs only exist on the NIF backend's
               %% side of the wire: the driver client rejects them (args table).
               [{nc_title(B, io_lib:format("term_type(~s) =:= other", [What])),
                 ?_assertEqual(other, call(B, term_type, [X]))}
                || B =:= nif,
                   {What, X} <- [{"self()", self()}, {"make_ref()", make_ref()},
                                 {"#{}", #{}}, {"fun", fun() -> ok end}]]
       end).

handle_args_test_() ->
    ?NC_FOR_ALL_THREE(
       fun(B) ->
               [{nc_title(B, "a counter handle is read and counts its uses"),
                 fun() ->
                         H = call(B, new_counter_handle, []),
                         ?assertEqual(1, call(B, use_handle, [H])),
                         ?assertEqual(2, call(B, use_handle, [H])),
                         ?assertEqual({3, binary}, call(B, scan_handle, [{H, <<>>, x}])),
                         ?assertEqual(4 + 1, call(B, use_handle_list, [[H, call(B, new_counter_handle, [])]])),
                         ?assertEqual(ok, call(B, close_handle, [H]))
                 end}]
       end).

%% Calling with the wrong number of arguments is a plain undef, as for any
%% Erlang function: the stubs have exactly the table's arities.
wrong_arity_test_() ->
    ?NC_FOR_ALL_THREE(
       fun(B) ->
               [{nc_title(B, "echo_i64 with no arguments is undef"),
                 ?_assertError(undef, call(B, echo_i64, []))},
                {nc_title(B, "echo_i64 with two arguments is undef"),
                 ?_assertError(undef, call(B, echo_i64, [1, 2]))}]
       end).

%% ---- bad values ------------------------------------------------------------------------

bad_values_test_() ->
    ?NC_FOR_ALL_THREE(fun(B) -> [bad(B, Case) || Case <- bad_table()] end).

%% {Function, Args | fun(Backend) -> Args, ArgNo, Message}, where Message is
%% {got, Text} (Text followed by ", got: <the argument>"), {exact, Text} or
%% {prefix, Text} (nested terms: only the start is fixed).
bad_table() ->
    Int = {got, "expected an integer"},
    I64 = {got, "expected an integer that fits in 64 bits (signed)"},
    NonNeg = {got, "expected a non-negative integer"},
    U64 = {got, "expected a non-negative integer below 2^64"},
    Size = {got, "expected a size (a non-negative integer)"},
    SizeT = {got, "expected a size (a non-negative integer that fits size_t)"},
    Range = {got, "expected an integer in -10..10"},
    Bin = {got, "expected a binary"},
    Iodata = {got, "expected iodata"},
    Tuple3 = {got, "expected a tuple of size 3"},
    List = {got, "expected a proper list"},
    Counter = {got, "expected a counter handle"},
    %% integers: wrong type, out of range, bignums
    [{echo_i64, [X], 1, Int} || X <- [foo, 1.0, <<"1">>, "1", [], {1}]] ++
    [{echo_i64, [X], 1, I64} || X <- [1 bsl 63, ?I64_MIN - 1, 1 bsl 100, -(1 bsl 100)]] ++
    [{echo_u64, [X], 1, NonNeg} || X <- [foo, 1.0, <<>>]] ++
    [{echo_u64, [X], 1, U64} || X <- [-1, ?I64_MIN, 1 bsl 64, -(1 bsl 100)]] ++
    [{echo_size, [X], 1, Size} || X <- [foo, 1.5, "1"]] ++
    [{echo_size, [X], 1, SizeT} || X <- [-1, 1 bsl 64, 1 bsl 200]] ++
    [{echo_range, [X], 1, Range} || X <- [11, -11, 1 bsl 64, -(1 bsl 64), foo, 1.0]] ++
    %% floats, booleans, atoms
    [{echo_double, [X], 1, {got, "expected a float"}} || X <- [1, 1 bsl 64, foo, <<>>]] ++
    [{echo_bool, [X], 1, {got, "expected a boolean"}} || X <- [foo, 1, 0, [], 'TRUE', <<"true">>]] ++
    [{echo_atom, [X], 1, {got, "expected an atom"}} || X <- [1, "red", <<"red">>, {red}]] ++
    [{echo_atom, [X], 1, {prefix, "expected one of the atoms red, green, blue"}}
     || X <- [purple, 'Red', nocopy_test_unknown_atom]] ++
    %% binaries: wrong type, bitstrings that are not binaries
    [{echo_bytes, [X], 1, Bin} || X <- [foo, 1, "abc", [<<"a">>], {<<>>}, <<1:3>>,
                                        <<0:1001>>, <<1:7>>]] ++
    %% iodata
    [{iovec_info, [X], 1, Iodata} || X <- [foo, 1, 1.0, [256], [-1], [foo], [<<1:3>>],
                                           [1 | 2], [[1] | foo], <<1:7>>, {<<>>},
                                           [<<"ok">>, [1, [2, 300]]]]] ++
    %% tuples: wrong type, wrong size, bad elements (nested)
    [{echo_tuple, [X], 1, Tuple3} || X <- [foo, {}, {1, 2}, {1, 2, 3, 4},
                                           [1, <<>>, {red, 1.0}]]] ++
    [{echo_tuple, [X], 1, {prefix, P}}
     || {X, P} <- [{{x, <<>>, {red, 1.0}}, "expected an integer"},
                   {{1 bsl 64, <<>>, {red, 1.0}}, "expected an integer that fits"},
                   {{1, foo, {red, 1.0}}, "expected a binary"},
                   {{1, <<1:3>>, {red, 1.0}}, "expected a binary"},
                   {{1, <<>>, {red}}, "expected a tuple of size 2"},
                   {{1, <<>>, red}, "expected a tuple of size 2"},
                   {{1, <<>>, {purple, 1.0}}, "expected one of the atoms"},
                   {{1, <<>>, {7, 1.0}}, "expected an atom"},
                   {{1, <<>>, {red, 1}}, "expected a float"}]] ++
    [{tuple_types, [X], 1, {got, "expected a tuple"}} || X <- [foo, [], <<>>, [{}]]] ++
    %% lists: improper, wrong elements
    [{sum_list, [X], 1, List} || X <- [foo, [1 | 2], [1, 2 | 3], <<>>, {}, [1 | <<>>]]] ++
    [{list_types, [[a | b]], 1, List}] ++
    [{sum_list, [X], 1, {prefix, P}}
     || {X, P} <- [{[1, foo], "expected an integer"},
                   {[1 bsl 64], "expected an integer that fits"}]] ++
    %% every term reader on tuple elements
    [{elem_readers, [X], 1, {prefix, P}}
     || {X, P} <- [{{1, 2}, "expected a tuple of size 5"},
                   {{-1, 1, 1, true, <<>>}, "expected a non-negative integer"},
                   {{1, -1, 1, true, <<>>}, "expected a size"},
                   {{1, 1, 256, true, <<>>}, "expected an integer in 0..255"},
                   {{1, 1, 1, maybe, <<>>}, "expected a boolean"},
                   {{1, 1, 1, true, foo}, "expected iodata"}]] ++
    %% format-string readers
    [{scan_flat, [X], 1, {prefix, P}}
     || {X, P} <- [{{1}, "expected a tuple of size 8"},
                   {{1, 2, 3, 4, true, blue, <<>>, []}, "expected a float"},
                   {{1, 2, 3, 1.0, true, blue, <<1:1>>, []}, "expected a binary"},
                   {{1, 2, 3, 1.0, true, blue, <<>>, [foo]}, "expected iodata"},
                   {{1, -2, 3, 1.0, true, blue, <<>>, []}, "expected a non-negative"}]] ++
    [{scan_nested, [{{1, {purple}}, <<>>}], 1, {prefix, "expected one of the atoms"}},
     {scan_nested, [{{1, {}}, <<>>}], 1, {prefix, "expected a tuple of size 1"}},
     {scan_term, [{1}], 1, {got, "expected a tuple of size 2"}}] ++
    %% a function that probes two forms fails with its own message
    [{atom_or_int, [X], 1, {got, "expected an integer or a known atom"}}
     || X <- [<<>>, purple, 1.5, 1 bsl 64]] ++
    %% handles: not a handle, wrong type, closed
    [{use_handle, [X], 1, Counter} || X <- [foo, 1, <<>>, [], {}]] ++
    [{use_handle, fun(B) -> [call(B, new_other_handle, [])] end, 1,
      {got, "expected a counter handle, not a handle of type other"}},
     {use_other, fun(B) -> [call(B, new_counter_handle, [])] end, 1,
      {got, "expected an other handle, not a handle of type counter"}},
     {use_handle, fun(B) -> closed_handle(B) end, 1, {exact, "the counter handle is closed"}},
     {close_handle, fun(B) -> closed_handle(B) end, 1, {exact, "the counter handle is closed"}},
     {use_handle_list, fun(B) -> [[call(B, new_counter_handle, []), foo]] end, 1,
      {prefix, "expected a counter handle"}},
     {scan_handle, [{foo, 1, 2}], 1, {prefix, "expected a counter handle"}}] ++
    %% argument numbers in functions of several arguments
    [{slice, [foo, 0, 0], 1, Bin},
     {slice, [<<"abc">>, -1, 0], 2, SizeT},
     {slice, [<<"abc">>, 0, foo], 3, Size},
     {keep_put, [8, <<>>], 1, {got, "expected an integer in 0..7"}},
     {keep_put, [0, foo], 2, Bin},
     {buf_new, [1, 256], 2, {got, "expected an integer in 0..255"}},
     {fail_badarg, [3, <<>>, x], 1, {got, "expected an integer in 0..2"}},
     {fail_badarg, [1, foo, x], 2, Bin}].

closed_handle(B) ->
    H = call(B, new_counter_handle, []),
    ok = call(B, close_handle, [H]),
    [H].

bad(B, {F, ArgsSpec, ArgNo, MsgSpec}) ->
    ArgsText = case ArgsSpec of
                   L when is_list(L) -> io_lib:format("~0tP", [L, 6]);
                   _ -> "[...]"
               end,
    {nc_title(B, io_lib:format("~s(~s): argument ~b", [F, ArgsText, ArgNo])),
     fun() ->
             Args = case ArgsSpec of
                        Fn when is_function(Fn, 1) -> Fn(B);
                        L2 -> L2
                    end,
             Msg = case MsgSpec of
                       {got, Text} -> nc_got(Text, lists:nth(ArgNo, Args));
                       {exact, Text} -> Text;
                       {prefix, _} -> MsgSpec
                   end,
             nc_assert_badarg(B, F, Args, ArgNo, Msg)
     end}.

%% ---- format strings: the inline path and the library's agree ------------------------

%% A literal format that fits is unrolled at compile time (include/nocopy_format.h);
%% the same text through a pointer the compiler cannot see takes the library's
%% path. format_paths(Library, T) reads T and builds its result with either:
%% the results, and the errors with their messages, must be the same.
format_paths_test_() ->
    Big = binary:copy(<<"ab">>, 100),
    Good = [{{-1, 2, 1.5, true, blue, <<"xyz">>},
             {-1, 2, 1.5, true, blue, {<<"yz">>}, [-1], <<"xyz">>}},
            {{1 bsl 62, ?U64_MAX, -0.5, false, red, Big},
             {1 bsl 62, ?U64_MAX, -0.5, false, red, {binary:part(Big, 1, 199)}, [1 bsl 62], Big}}],
    %% an empty binary (its slice from byte 1 fails: erange), then a bad
    %% element for each letter, a wrong size, not a tuple, not a binary
    Bad = [{0, 0, 0.0, false, green, <<>>},
           {1 bsl 64, 0, 0.0, false, red, <<"a">>}, {1, -2, 0.0, false, red, <<"a">>},
           {1, 2, 3, true, red, <<"a">>}, {1, 2, 1.0, maybe, red, <<"a">>},
           {1, 2, 1.0, true, purple, <<"a">>}, {1, 2, 1.0, true, red, <<1:3>>},
           {1, 2, 1.0, true, red}, foo],
    ?NC_FOR_EACH_BACKEND(
       fun(B) ->
               [{nc_title(B, io_lib:format("format_paths(_, ~0tP) =:= ~0tP", [T, 5, R, 5])),
                 fun() ->
                         ?assertEqual({ok, R}, format_outcome(B, false, T)),
                         ?assertEqual({ok, R}, format_outcome(B, true, T))
                 end} || {T, R} <- Good] ++
               [{nc_title(B, io_lib:format("format_paths(_, ~0tP): the same error", [T, 5])),
                 fun() ->
                         Inline = format_outcome(B, false, T),
                         ?assertMatch({error, _, _}, Inline),
                         ?assertEqual(Inline, format_outcome(B, true, T))
                 end} || T <- Bad]
       end).

format_outcome(B, Library, T) ->
    try
        {ok, call(B, format_paths, [Library, T])}
    catch
        error:Reason:Stack ->
            [{_, _, _, Info} | _] = Stack,
            {error, Reason, maps:get(cause, proplists:get_value(error_info, Info, #{}), none)}
    end.

%% ---- message quality -------------------------------------------------------------------

%% "expected one of the atoms ..." lists real atoms of the table, cut between
%% names when it does not fit, never in the middle of one.
unknown_atom_message_test_() ->
    ?NC_FOR_ALL_THREE(
       fun(B) ->
               [{nc_title(B, "unknown atom: the list of known atoms has no cut names"),
                 fun() ->
                         {error, badarg, St} = nc_catch(B, echo_atom, [purple]),
                         [Msg] = maps:values(nocopy_test_lib:error_strings(badarg, St)),
                         "expected one of the atoms " ++ Rest = Msg,
                         [Listed, _Got] = string:split(Rest, ", got: ", trailing),
                         Known = ["red", "green", "blue", "released", "timeout", "integer",
                                  "float", "atom", "binary", "bitstring", "tuple", "list",
                                  "nil", "handle", "other", "ebadarg", "enomem", "erange",
                                  "eclosed", "eproto", "eoverload", "enotsup", "einternal",
                                  "nan", "inf", "neg_inf", "..."],
                         Names = string:split(Listed, ", ", all),
                         ?assertEqual([], [N || N <- Names, not lists:member(N, Known)])
                 end}]
       end).

%% A wrong-type handle names both types, and "got:" appears once.
wrong_handle_message_test_() ->
    ?NC_FOR_ALL_THREE(
       fun(B) ->
               [{nc_title(B, "wrong handle type: one \"got\" in the message"),
                 fun() ->
                         O = call(B, new_other_handle, []),
                         {error, badarg, St} = nc_catch(B, use_handle, [O]),
                         [Msg] = maps:values(nocopy_test_lib:error_strings(badarg, St)),
                         ?assert(nc_contains(Msg, "counter")),
                         ?assert(nc_contains(Msg, "other")),
                         ?assertEqual(2, length(string:split(Msg, "got", all)))
                 end}]
       end).
