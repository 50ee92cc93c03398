%% nocopy_errors_tests: how failures reach the Erlang caller. Bad arguments
%% raise error:badarg with EEP 54 error_info from the stub's own frame, so the
%% shell prints "argument N: expected ..."; other statuses raise error:<name>
%% with a general message; {error, Reason} is a value. The same on both
%% backends, with the driver's argument numbers shifted past the port.
-module(nocopy_errors_tests).

-include("nocopy_test_util.hrl").

%% ---- the shell's view ------------------------------------------------------------------

shell_format_test_() ->
    ?NC_FOR_ALL_THREE(
       fun(B) ->
               [{nc_title(B, "formatted exception: \"argument 3\" and \"expected a binary\""),
                 fun() ->
                         %% Argument 3 of the C function is argument 3 of the
                         %% NIF stub and argument 4 of the driver stub.
                         Args = [2, <<"a binary">>, foo],
                         {error, badarg, St} = nc_catch(B, fail_badarg, Args),
                         Text = nc_format(badarg, St),
                         N = nc_argno(B, 3),
                         ?assert(nc_contains(Text, "exception error: bad argument")),
                         ?assert(nc_contains(Text, io_lib:format("in function  ~p:fail_badarg/~b",
                                                                 [nc_module(B), N]))),
                         ?assert(nc_contains(Text, io_lib:format("*** argument ~b: expected a binary, got: foo",
                                                                 [N])))
                 end},
                {nc_title(B, "a binary expected as argument 3 of the caller's call"),
                 fun() ->
                         %% keep_put(Slot, Bin): Bin is argument 2 in C, which the
                         %% driver stub (Port, Slot, Bin) shows as argument 3.
                         {error, badarg, St} = nc_catch(B, keep_put, [0, foo]),
                         Text = nc_format(badarg, St),
                         ?assert(nc_contains(Text, io_lib:format("argument ~b: expected a binary",
                                                                 [nc_argno(B, 2)])))
                 end},
                {nc_title(B, "error_info: module nocopy, cause {ArgNo, Text}"),
                 fun() ->
                         {error, badarg, St} = nc_catch(B, fail_badarg, [0, <<"a key of 32 bytes">>, x]),
                         [{_, fail_badarg, _, Info} | _] = St,
                         ?assertEqual(#{module => nocopy,
                                        cause => {nc_argno(B, 1), <<"expected a key of 32 bytes">>}},
                                      proplists:get_value(error_info, Info)),
                         ?assertEqual(#{nc_argno(B, 1) => "expected a key of 32 bytes, got: 0"},
                                      nocopy_test_lib:error_strings(badarg, St))
                 end},
                {nc_title(B, "the failing frame holds the caller's real arguments"),
                 fun() ->
                         Big = nc_big(100000),
                         {error, badarg, St} = nc_catch(B, fail_badarg, [1, Big, Big]),
                         [{_, fail_badarg, FrameArgs, _} | _] = St,
                         ?assertEqual(nc_args(B, [1, Big, Big]), FrameArgs)
                 end}]
       end).

%% ---- statuses ----------------------------------------------------------------------------

%% nocopy_fail/3: any status with a message of the function's own; a status
%% that is not negative is einternal; the message is cut at 159 bytes.
fail_with_test_() ->
    ?NC_FOR_ALL_THREE(
       fun(B) ->
               Long = binary:copy(<<"x">>, 300),
               [{nc_title(B, io_lib:format("fail_with(~p, ...) raises ~p", [S, R])),
                 fun() -> nc_assert_error(B, fail_with, [S, Text], R, {general, Msg}) end}
                || {S, Text, R, Msg} <-
                       [{enomem, <<"the cache is full">>, enomem, "the cache is full"},
                        {einternal, <<"EVP_DigestInit: no such digest">>, einternal,
                         "EVP_DigestInit: no such digest"},
                        {eclosed, <<"stream finished">>, eclosed, "stream finished"},
                        {ebadarg, <<"no argument to blame">>, badarg, "no argument to blame"},
                        {5, <<"a positive status">>, einternal, "a positive status"},
                        {0, <<"zero">>, einternal, "zero"},
                        {enomem, Long, enomem, lists:duplicate(159, $x)}]]
       end).

status_test_() ->
    ?NC_FOR_ALL_THREE(
       fun(B) ->
               [{nc_title(B, io_lib:format("fail_status(~p) raises ~p", [S, R])),
                 fun() -> nc_assert_error(B, fail_status, [S], R, {general, Msg}) end}
                || {S, R, Msg} <- [{ebadarg, badarg, "bad argument"},
                                   {enomem, enomem, "out of memory"},
                                   {erange, erange, "integer or size out of range"},
                                   {eclosed, eclosed, "handle has been closed"},
                                   {eproto, eproto, "malformed request"},
                                   {eoverload, eoverload, "too many calls in flight"},
                                   {enotsup, enotsup, "not supported by this backend"},
                                   {einternal, einternal, "internal error in a wrapped function"}]]
       end).

%% Programming errors in a wrapped function are reported, never undefined.
misuse_test_() ->
    ?NC_FOR_ALL_THREE(
       fun(B) ->
               [{nc_title(B, io_lib:format("~s(~0tP) raises ~p", [F, Args, 4, R])),
                 fun() -> nc_assert_error(B, F, Args, R, {general, Msg}) end}
                || {F, Args, R, Msg} <-
                       [{fail_positive, [], einternal, "fail_positive/0 returned the invalid status 7"},
                        {no_result, [], einternal, "no_result/0 returned without a result"},
                        {return_zero, [], enomem, "out of memory building the result"},
                        {scan_malformed, [{1}], einternal, "malformed nocopy format string \"{q}\""},
                        {build_malformed, [], einternal, "malformed nocopy format string \"{i\""},
                        {new_unlisted_handle, [], einternal,
                         "handle type unlisted is not listed in the module's handle_types"}]]
       end).

%% ---- values, not exceptions ----------------------------------------------------------

values_test_() ->
    ?NC_FOR_ALL_THREE(
       fun(B) ->
               [{nc_title(B, "{error, Reason} is returned, not raised"),
                 ?_assertEqual({error, green}, call(B, return_error, [green]))},
                {nc_title(B, "a probe that fails before a success leaves no error behind"),
                 fun() ->
                         ?assertEqual({false, 7}, call(B, atom_or_int, [7])),
                         ?assertEqual({true, 2}, call(B, atom_or_int, [blue]))
                 end},
                {nc_title(B, "an error does not leak into the next call"),
                 fun() ->
                         {error, badarg, _} = nc_catch(B, echo_i64, [foo]),
                         {error, enomem, _} = nc_catch(B, fail_status, [enomem]),
                         ?assertEqual(5, call(B, echo_i64, [5])),
                         ?assertEqual(<<"x">>, call(B, echo_bytes, [<<"x">>]))
                 end},
                {nc_title(B, "many failing calls in a row, then a good one"),
                 fun() ->
                         [{error, badarg, _} = nc_catch(B, echo_bytes, [N]) || N <- lists:seq(1, 2000)],
                         ?assertEqual(<<"ok">>, call(B, echo_bytes, [<<"ok">>]))
                 end}]
       end).

%% ---- nocopy:format_error/2 on its own --------------------------------------------------

format_error_test_() ->
    Frame = fun(Args, Cause) ->
                    [{m, f, Args, [{error_info, #{module => nocopy, cause => Cause}}]}]
            end,
    %% What Elixir does: its inspect as the error_info's pretty_printer.
    Printed = fun(Args, Cause, Printer) ->
                      [{m, f, Args, [{error_info, #{module => nocopy, cause => Cause,
                                                    pretty_printer => Printer}}]}]
              end,
    [{"no stack: empty map", ?_assertEqual(#{}, nocopy:format_error(badarg, []))},
     {"frame without error_info: empty map",
      ?_assertEqual(#{}, nocopy:format_error(badarg, [{m, f, [1], []}]))},
     {"expected ...: the argument is appended; messages are binaries (Elixir needs them)",
      ?_assertEqual(#{2 => <<"expected a binary, got: foo">>},
                    nocopy:format_error(badarg, Frame([1, foo], {2, <<"expected a binary">>})))},
     {"other texts stand alone",
      ?_assertEqual(#{1 => <<"the gss_ctx handle is closed">>},
                    nocopy:format_error(badarg, Frame([x], {1, <<"the gss_ctx handle is closed">>})))},
     {"general cause",
      ?_assertEqual(#{general => <<"out of memory">>},
                    nocopy:format_error(enomem, Frame([], {general, <<"out of memory">>})))},
     {"frame with an arity instead of arguments: no got part",
      ?_assertEqual(#{1 => <<"expected a binary">>},
                    nocopy:format_error(badarg, [{m, f, 1, [{error_info, #{module => nocopy,
                                                                           cause => {1, <<"expected a binary">>}}}]}]))},
     {"large arguments are abbreviated",
      fun() ->
              #{1 := Msg} = nocopy:format_error(badarg, Frame([lists:seq(1, 10000)],
                                                              {1, <<"expected a binary">>})),
              ?assert(byte_size(Msg) < 200)
      end},
     {"the error_info's pretty_printer shows the argument",
      ?_assertEqual(#{1 => <<"expected a binary, got: :foo">>},
                    nocopy:format_error(badarg, Printed([foo], {1, <<"expected a binary">>},
                                                        fun(T) -> [$: | atom_to_list(T)] end)))},
     {"a pretty_printer without a depth limit is cut at 200 characters",
      fun() ->
              #{1 := Msg} = nocopy:format_error(
                              badarg, Printed([x], {1, <<"expected a binary">>},
                                              fun(_) -> lists:duplicate(5000, $y) end)),
              ?assertEqual(<<"expected a binary, got: ", (binary:copy(<<"y">>, 197))/binary,
                             "...">>, Msg)
      end},
     {"a pretty_printer that fails: the shell's form instead",
      ?_assertEqual(#{1 => <<"expected a binary, got: foo">>},
                    nocopy:format_error(badarg, Printed([foo], {1, <<"expected a binary">>},
                                                        fun(_) -> erlang:error(oops) end)))},
     {"unicode message",
      ?_assertEqual(#{1 => <<"expected a 🔑"/utf8>>},
                    nocopy:format_error(badarg, Frame(1, {1, <<"expected a 🔑"/utf8>>})))}].
