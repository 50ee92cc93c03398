%% nocopy_test_lib: plain helpers shared by the EUnit suites, the examples'
%% suites included. What is about the native test module `nocopy_test' and
%% its backends stays in nocopy_test_util.hrl; PropEr's macros are in
%% nocopy_proper.hrl.
%%
%% - error_strings/2: nocopy:format_error/2's texts as strings, to compare;
%% - gc_all/0 and wait_until/2,3: for C state, which sends no message, tests
%%   collect garbage and then poll to a deadline (never sleep and look);
%% - proper_numtests/0: cases per property (NOCOPY_PROPER_NUMTESTS);
%% - example_groups/3, call/3, assert_badarg/5 and assert_error_info/6: an
%%   example's suite, one group per backend, and its bad-argument checks.
-module(nocopy_test_lib).

-export([error_strings/2, gc_all/0, wait_until/2, wait_until/3, proper_numtests/0,
         example_groups/3, call/3, assert_badarg/5, assert_error_info/6, assert_cause/2]).

-include_lib("stdlib/include/assert.hrl").

%% An example's backend, as its tests get it: `port' on the driver only; a
%% call on the driver takes the port first, so argument numbers in errors are
%% `shift' higher.
-type backend() :: #{kind := nif | drv, mod := module(), shift := 0 | 1, port => port()}.
-export_type([backend/0]).

%% nocopy:format_error/2 with its messages (binaries) as strings, to compare.
-spec error_strings(term(), [tuple()]) -> #{term() => string()}.
error_strings(Reason, St) ->
    maps:map(fun(_, V) -> unicode:characters_to_list(V) end, nocopy:format_error(Reason, St)).

%% A full GC of every process, so no process holds garbage references when a
%% test takes a baseline of a global counter. erlang:garbage_collect/1 waits
%% until the other process has collected.
-spec gc_all() -> ok.
gc_all() ->
    [erlang:garbage_collect(P) || P <- processes()],
    ok.

%% Polls Pred() every millisecond until it returns true (true), or until Ms
%% milliseconds have passed (false). Used only where C state, which sends no
%% message, is the thing to wait for: e.g. OTP runs a NIF resource's
%% destructor as scheduler aux work shortly after its last reference goes,
%% not inside the GC or enif_release_resource.
-spec wait_until(fun(() -> boolean()), non_neg_integer()) -> boolean().
wait_until(Pred, Ms) ->
    wait_until(Pred, Ms, 1).

%% The same, polling every PollMs milliseconds (for predicates that cost
%% something, such as a GC of every process).
-spec wait_until(fun(() -> boolean()), non_neg_integer(), pos_integer()) -> boolean().
wait_until(Pred, Ms, PollMs) ->
    poll(Pred, erlang:monotonic_time(millisecond) + Ms, PollMs).

poll(Pred, Deadline, PollMs) ->
    case Pred() of
        true ->
            true;
        false ->
            case erlang:monotonic_time(millisecond) > Deadline of
                true -> false;
                false -> receive after PollMs -> poll(Pred, Deadline, PollMs) end
            end
    end.

%% Cases per PropEr property: NOCOPY_PROPER_NUMTESTS, by default 100 (so that
%% `make test' stays fast; `make proper' and `make stress' run thousands).
-spec proper_numtests() -> pos_integer().
proper_numtests() ->
    case os:getenv("NOCOPY_PROPER_NUMTESTS") of
        V when is_list(V), V =/= "" -> list_to_integer(V);
        _ -> 100
    end.

%% The tests of an example's binding, one group per backend: the NIF (module
%% NifMod) and the driver (DrvMod, through a port opened for the group).
%% Tests(Kind) returns [{Title, fun((backend()) -> _)}]; each test may take
%% up to TimeoutS seconds.
-spec example_groups({module(), module()}, fun((nif | drv) -> [{string(), fun()}]),
                     pos_integer()) -> list().
example_groups({NifMod, DrvMod}, Tests, TimeoutS) ->
    [example_group(nif, NifMod, Tests, TimeoutS), example_group(drv, DrvMod, Tests, TimeoutS)].

example_group(Kind, Mod, Tests, TimeoutS) ->
    {setup, fun() -> example_open(Kind, Mod) end, fun example_close/1,
     fun(B) ->
             {atom_to_list(Kind) ++ " backend",
              [{Title, {timeout, TimeoutS, fun() -> Test(B) end}} || {Title, Test} <- Tests(Kind)]}
     end}.

example_open(nif, Mod) ->
    #{kind => nif, mod => Mod, shift => 0};
example_open(drv, Mod) ->
    {ok, Port} = Mod:open(),
    #{kind => drv, mod => Mod, shift => 1, port => Port}.

example_close(#{kind := drv, mod := Mod, port := Port}) -> Mod:close(Port);
example_close(#{kind := nif}) -> ok.

%% Fun() raises error:badarg whose error_info cause matches Cause.
-spec assert_cause(fun(() -> term()), term()) -> ok.
assert_cause(Fun, Cause) ->
    try Fun() of
        V -> erlang:error({expected_badarg, V})
    catch
        error:badarg:St ->
            [{_, _, _, Info} | _] = St,
            ?assertMatch(#{cause := Cause}, proplists:get_value(error_info, Info)),
            ok
    end.

%% F(Args...) on an example's backend.
-spec call(backend(), atom(), list()) -> term().
call(#{mod := M, port := P}, F, Args) -> apply(M, F, [P | Args]);
call(#{mod := M}, F, Args) -> apply(M, F, Args).

%% F(Args) on an example's backend raises error:badarg from the stub itself,
%% with error_info whose cause is exactly {ArgNo, Text} (ArgNo of the C
%% function, shifted past the port on the driver); nocopy:format_error/2 gives
%% Text, followed by ", got: Arg" when Text starts with "expected"; and the
%% shell shows "argument N: " and that text.
-spec assert_badarg(backend(), atom(), list(), pos_integer(), string()) -> ok.
assert_badarg(B, F, Args, ArgNo, Text) ->
    try call(B, F, Args) of
        R -> erlang:error({expected_badarg, F, Args, {returned, R}})
    catch
        error:badarg:St -> assert_error_info(B, F, Args, St, ArgNo, Text)
    end.

%% The same checks on the stack trace St of a badarg that F(Args) raised.
-spec assert_error_info(backend(), atom(), list(), list(), pos_integer(), string()) -> ok.
assert_error_info(B = #{mod := Mod, shift := Shift}, F, Args, St, ArgNo, Text) ->
    N = ArgNo + Shift,
    [{Mod1, F1, FrameArgs, Info} | _] = St,
    ?assertEqual({Mod, F, frame_args(B, Args)}, {Mod1, F1, FrameArgs}),
    ?assertEqual({F, #{module => nocopy, cause => {N, unicode:characters_to_binary(Text)}}},
                 {F, proplists:get_value(error_info, Info)}),
    Shown = case Text of
                "expected" ++ _ ->
                    lists:flatten(io_lib:format("~ts, got: ~0tP",
                                                [Text, lists:nth(N, FrameArgs), 12]));
                _ ->
                    Text
            end,
    ?assertEqual({F, #{N => Shown}}, {F, error_strings(badarg, St)}),
    Shell = unicode:characters_to_list(erl_error:format_exception(error, badarg, St)),
    Line = lists:flatten(io_lib:format("argument ~b: ~ts", [N, Shown])),
    ?assertNotEqual({F, Line, nomatch}, {F, Line, string:find(Shell, Line)}),
    ok.

frame_args(#{port := Port}, Args) -> [Port | Args];
frame_args(_, Args) -> Args.
