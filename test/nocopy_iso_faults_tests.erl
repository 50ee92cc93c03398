%% Faults in the isolated backend: the wrapped functions of iso_faults
%% (test/iso_faults/iso_faults.c) segfault, abort, exit(3) and loop forever
%% in the child process. The VM survives each (these tests run in it), the
%% calls in flight fail with error:ecrashed whose error_info names the
%% signal or the exit status (or with timeout, when the isolate's timeout
%% kills the child), the next call starts a new child within the restart
%% budget, handles of the dead child are refused as closed, and what the
%% dead child's regions hold for Erlang stays valid.
-module(nocopy_iso_faults_tests).

-include_lib("eunit/include/eunit.hrl").

faults_test_() ->
    [{Name, {setup, fun() -> start(Opts) end, fun iso_faults_iso:stop/1,
             fun(Iso) -> {timeout, 60, fun() -> F(Iso) end} end}}
     || {Name, Opts, F} <-
            [{"segfault", [], fun(I) -> crash(I, segv, [], "killed by signal 11 (SIGSEGV)") end},
             {"abort", [], fun(I) -> crash(I, abort, [], "killed by signal 6 (SIGABRT)") end},
             {"exit(3)", [], fun(I) -> crash(I, exit, [3], "exited with status 3") end},
             {"a loop, killed by the isolate's timeout", [{timeout, 300}], fun spin_timeout/1},
             {"calls in flight fail with the crash", [{threads, 4}], fun in_flight/1},
             {"handles of a dead child are closed", [], fun handles/1},
             {"binaries of a dead child stay valid", [], fun survivors/1},
             {"kill -9 from outside", [], fun killed/1},
             {"a late timeout kills no new child", [{timeout, 1000}], fun late_timeout/1},
             {"the restart budget", [{restarts, {2, 3600000}}], fun budget/1}]].

start(Opts) ->
    {ok, Iso} = iso_faults_iso:start([{region_bytes, 1 bsl 24} | Opts]),
    Iso.

%% error:Reason from Fun, whose error_info's cause is {general, Text}; Text.
general_error(Reason, Fun) ->
    try Fun() of
        V -> erlang:error({expected, Reason, V})
    catch
        error:Reason:St ->
            [{iso_faults_iso, _, _, Info} | _] = St,
            #{cause := {general, Text}} = proplists:get_value(error_info, Info),
            Shown = nocopy_test_lib:error_strings(Reason, St),
            ?assertEqual(#{general => binary_to_list(Text)}, Shown),
            binary_to_list(Text)
    end.

contains(Text, Part) ->
    ?assertNotEqual(nomatch, string:find(Text, Part)).

crash(Iso, F, Args, Why) ->
    Pid = iso_faults_iso:os_pid(Iso),
    Text = general_error(ecrashed, fun() -> apply(iso_faults_iso, F, [Iso | Args]) end),
    contains(Text, Why),
    %% The next call starts a new child.
    ?assertEqual(ok, iso_faults_iso:ok(Iso)),
    Pid2 = iso_faults_iso:os_pid(Iso),
    ?assertNotEqual(Pid, Pid2),
    ?assertEqual(Pid2, maps:get(os_pid, nocopy_iso:info(Iso))),
    ?assertEqual(2, maps:get(incarnation, nocopy_iso:info(Iso))).

spin_timeout(Iso) ->
    Pid = iso_faults_iso:os_pid(Iso),
    Text = general_error(timeout, fun() -> iso_faults_iso:spin(Iso) end),
    contains(Text, "no reply within 300 ms"),
    ?assertEqual(ok, iso_faults_iso:ok(Iso)),
    ?assertNotEqual(Pid, iso_faults_iso:os_pid(Iso)).

%% Two calls stuck in a loop, then a segfault: all three fail with it.
in_flight(Iso) ->
    Self = self(),
    Spinners = [spawn_link(fun() ->
                               R = try iso_faults_iso:spin(Iso) catch error:E -> E end,
                               Self ! {self(), R}
                           end) || _ <- [1, 2]],
    nocopy_test_lib:wait_until(
      fun() -> maps:get(calls_in_flight, nocopy_iso:info(Iso)) =:= 2 end, 10000),
    contains(general_error(ecrashed, fun() -> iso_faults_iso:segv(Iso) end), "SIGSEGV"),
    [receive {P, R} -> ?assertEqual(ecrashed, R) end || P <- Spinners],
    ?assertEqual(ok, iso_faults_iso:ok(Iso)).

handles(Iso) ->
    H = iso_faults_iso:new_thing(Iso),
    ?assertEqual(1, iso_faults_iso:use_thing(Iso, H)),
    ?assertEqual(2, iso_faults_iso:use_thing(Iso, H)),
    general_error(ecrashed, fun() -> iso_faults_iso:abort(Iso) end),
    try iso_faults_iso:use_thing(Iso, H) of
        V -> erlang:error({expected_badarg, V})
    catch
        error:badarg:St ->
            ?assertEqual(#{2 => "the thing handle is closed"},
                         nocopy_test_lib:error_strings(badarg, St))
    end,
    %% A handle of the new child works.
    H2 = iso_faults_iso:new_thing(Iso),
    ?assertEqual(1, iso_faults_iso:use_thing(Iso, H2)).

%% A binary placed in the dead child's region, and one it returned, stay
%% readable in Erlang; the new child's region starts empty; once Erlang
%% drops them the old regions go.
survivors(Iso) ->
    Bytes = binary:copy(<<"survive">>, 20000),
    A = nocopy_iso:binary(Iso, Bytes),
    H = iso_faults_iso:new_thing(Iso),
    1 = iso_faults_iso:use_thing(Iso, H),
    general_error(ecrashed, fun() -> iso_faults_iso:segv(Iso) end),
    ?assertEqual(ok, iso_faults_iso:ok(Iso)),
    ?assertEqual(Bytes, A),
    ?assertEqual(0, maps:get(input_blocks, nocopy_iso:info(Iso))),
    %% In the new child, A is an ordinary binary: it still works, copied once.
    C0 = maps:get(copied_bytes, nocopy_iso:info(Iso)),
    ?assertEqual(ok, iso_faults_iso:ok(Iso)),
    ?assertEqual(C0, maps:get(copied_bytes, nocopy_iso:info(Iso))).

killed(Iso) ->
    Pid = iso_faults_iso:os_pid(Iso),
    [] = os:cmd("kill -9 " ++ integer_to_list(Pid)),
    nocopy_test_lib:wait_until(fun() -> maps:get(alive, nocopy_iso:info(Iso)) =:= false end,
                               10000),
    ?assertEqual(ok, iso_faults_iso:ok(Iso)),
    ?assertNotEqual(Pid, iso_faults_iso:os_pid(Iso)).

%% A call's timer fires; before its caller kills the child, that child dies
%% (kill -9) and another caller restarts the isolate. The timeout must not
%% kill the new child: it does not hold the call. nocopy_iso's test hook runs
%% in the timed-out caller between its timer and its kill, which makes the
%% window deterministic. The caller then gets its call's own answer: the
%% crash, not a timeout.
late_timeout(Iso) ->
    Pid1 = iso_faults_iso:os_pid(Iso),
    Hook = fun() ->
                   [] = os:cmd("kill -9 " ++ integer_to_list(Pid1)),
                   nocopy_test_lib:wait_until(
                     fun() -> maps:get(alive, nocopy_iso:info(Iso)) =:= false end, 10000),
                   {P, M} = spawn_monitor(fun() -> exit({pid, iso_faults_iso:os_pid(Iso)}) end),
                   receive {'DOWN', M, process, P, {pid, Pid2}} -> put(pid2, Pid2) end
           end,
    put('$nocopy_iso_timeout_hook', Hook),
    Result = try iso_faults_iso:spin(Iso) catch error:R:St -> {R, St} end,
    erase('$nocopy_iso_timeout_hook'),
    Pid2 = erase(pid2),
    ?assert(is_integer(Pid2) andalso Pid2 =/= Pid1),
    %% The new child lives on: the next call runs in it.
    ?assertEqual(Pid2, iso_faults_iso:os_pid(Iso)),
    ?assertMatch(#{incarnation := 2, alive := true, os_pid := Pid2}, nocopy_iso:info(Iso)),
    {ecrashed, St1} = Result,
    #{general := Text} = nocopy_test_lib:error_strings(ecrashed, St1),
    ?assertEqual("the isolate's process ended (killed from outside, or it did not say how)",
                 Text).

budget(Iso) ->
    %% Two restarts are allowed; the third crash leaves the isolate down.
    [general_error(ecrashed, fun() -> iso_faults_iso:segv(Iso) end) || _ <- [1, 2, 3]],
    Text = general_error(ecrashed, fun() -> iso_faults_iso:ok(Iso) end),
    contains(Text, "killed by signal 11 (SIGSEGV); not restarted: 2 restarts within "
                   "3600000 ms is the isolate's budget"),
    ?assertEqual(3, maps:get(incarnation, nocopy_iso:info(Iso))).
