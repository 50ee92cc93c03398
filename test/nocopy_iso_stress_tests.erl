%% Load and faults on the isolated backend (issue 12), with the accounting
%% of nocopy_iso:info/1 back to empty after each phase:
%%
%%   1. 1000 callers x 100 calls, every result checked: integers, binaries
%%      inline, copied into the input region, placed there, passed back in
%%      (results of earlier calls), result buffers and slices;
%%   2. 1000 callers killed mid-call (half holding an input block they
%%      placed): the isolate stays usable, survivors get their answers and no
%%      stray message, every block is released;
%%   3. the child killed with kill -9 while 200 callers wait on held calls and
%%      20 more callers loop: each call in flight fails with ecrashed, the
%%      next calls start a new child and work, and nothing of the dead child
%%      is leaked.
%%
%% Held calls: iso_faults:held(Path, Bin) waits in the child until the file
%% Path exists. The test opens that gate by creating the file, which needs no
%% call. While the child's threads (?THREADS) each hold one, the child reads
%% no more: other calls wait in the channel (a few hundred fit) and beyond
%% that in the VM's queue (default bound 65536 calls), so no caller here gets
%% eoverload (any would fail the test: nothing retries); all of them are
%% mid-call.
%% NOCOPY_STRESS_SCALE=valgrind makes the counts small. Nothing here asserts a
%% duration; waits for C state poll to a deadline.
-module(nocopy_iso_stress_tests).

-include_lib("eunit/include/eunit.hrl").

-define(REGION, (1 bsl 30)).          % sparse: only bytes written take memory
-define(THREADS, 4).                  % the child's pool: calls it holds at once

params() ->
    case os:getenv("NOCOPY_STRESS_SCALE") of
        "valgrind" -> #{callers => 20, calls => 10, killed => 20, held => 10, loopers => 4};
        _ -> #{callers => 1000, calls => 100, killed => 1000, held => 200, loopers => 20}
    end.

stress_test_() ->
    P = params(),
    [{timeout, 600, {T, fun() -> F(P) end}}
     || {T, F} <- [{"many callers x many calls on one isolate, every result checked",
                    fun many_callers/1},
                   {"callers killed while their calls are held in the child",
                    fun callers_killed/1},
                   {"the child killed with kill -9 while calls are held, under load",
                    fun child_killed/1}]].

%% ---- helpers --------------------------------------------------------------------

payload(N, Seed) ->
    P = <<"iso-stress-0123456789abcdefghijklmnopqrstuvwxyz">>,
    S = Seed rem byte_size(P),
    R = <<(binary:part(P, S, byte_size(P) - S))/binary, (binary:part(P, 0, S))/binary>>,
    list_to_binary([binary:copy(R, N div byte_size(R)), binary:part(R, 0, N rem byte_size(R))]).

%% Waits until every count of the isolate's accounting is back to empty (after
%% a GC of every process, so no process still holds a dropped binary), and
%% asserts it: no call in flight, no input block, no keep, no handover.
assert_empty(Iso) ->
    Empty = #{calls_in_flight => 0, input_blocks => 0, input_bytes => 0, child_keeps => 0,
              output_handovers => 0},
    Counts = fun() -> maps:with(maps:keys(Empty), nocopy_iso:info(Iso)) end,
    nocopy_test_lib:wait_until(fun() -> nocopy_test_lib:gc_all(), Counts() =:= Empty end,
                               60000, 10),
    ?assertEqual(Empty, Counts()).

wait_info(Iso, Key, Pred) ->
    nocopy_test_lib:wait_until(fun() -> Pred(maps:get(Key, nocopy_iso:info(Iso))) end, 120000),
    V = maps:get(Key, nocopy_iso:info(Iso)),
    ?assert(Pred(V)),
    V.

%% A gate: a file name that does not exist yet.
gate() ->
    Dir = os:getenv("TMPDIR", "/tmp"),
    Path = filename:join(Dir, io_lib:format("gate-~s-~b",
                                            [os:getpid(), erlang:unique_integer([positive])])),
    _ = file:delete(Path),
    list_to_binary(Path).

open_gate(Path) ->
    ok = file:write_file(Path, <<>>).

%% The reply messages in this process's mailbox (strays, after a test).
strays() ->
    {messages, Ms} = process_info(self(), messages),
    [M || M <- Ms, element(1, M) =:= nocopy_reply].

%% Runs Fun in NP monitored processes, each given its index, and returns
%% their results in order (a crash is {died, Why}).
run_all(NP, Fun) ->
    Parent = self(),
    Pids = [spawn_monitor(fun() -> Parent ! {done, self(), Fun(I)} end) || I <- lists:seq(1, NP)],
    [receive
         {done, Pid, R} -> erlang:demonitor(Ref, [flush]), R;
         {'DOWN', Ref, process, Pid, Why} -> {died, Why}
     end || {Pid, Ref} <- Pids].

%% ---- 1. many callers ------------------------------------------------------------

many_callers(#{callers := NP, calls := NC}) ->
    {ok, Iso} = nocopy_test_iso:start([{region_bytes, ?REGION}, {threads, 4}]),
    try
        Pid0 = maps:get(os_pid, nocopy_iso:info(Iso)),
        Rs = run_all(NP, fun(I) -> caller(Iso, I, NC) end),
        Bad = [{I, R} || {I, R} <- lists:zip(lists:seq(1, NP), Rs),
                         not (is_tuple(R) andalso element(1, R) =:= ok)],
        ?assertEqual([], lists:sublist(Bad, 3)),
        Queued = maps:get(queued_total, nocopy_iso:info(Iso)),
        #{os_pid := Pid1, incarnation := Inc, copied_bytes := Copied} = nocopy_iso:info(Iso),
        %% One child served every call: none crashed, none was restarted.
        ?assertEqual({Pid0, 1}, {Pid1, Inc}),
        ?assert(Copied > 0),
        ?assertEqual([], strays()),
        assert_empty(Iso),
        io:format(user, "~n  iso: ~b callers x ~b calls checked, no eoverload (~b calls found "
                  "the channel full and were queued in the VM)~n", [NP, NC, Queued])
    after
        nocopy_test_iso:stop(Iso)
    end.

%% NC calls of varied kinds; ok, or the first wrong result.
caller(Iso, Seed, NC) ->
    rand:seed(exsss, {Seed, 7, 11}),
    Arena = nocopy_iso:binary(Iso, payload(3000 + Seed, Seed)),
    caller_loop(Iso, Seed, Arena, <<>>, NC).

caller_loop(_, _, _, _, 0) ->
    {ok, done};
caller_loop(Iso, Seed, Arena, Last, N) ->
    K = rand:uniform(7),
    {Got, Want} = one_call(K, Iso, Seed, Arena, Last),
    case Got =:= Want of
        true ->
            Next = case is_binary(Got) andalso byte_size(Got) > 64 of
                       true -> Got;                % passed back in by a later call
                       false -> Last
                   end,
            caller_loop(Iso, Seed, Arena, Next, N - 1);
        false ->
            {wrong, K, Got, Want}
    end.

one_call(1, Iso, _, _, _) ->
    X = rand:uniform(1 bsl 62) - (1 bsl 61),
    {nocopy_test_iso:echo_i64(Iso, X), X};
one_call(2, Iso, Seed, _, _) ->                    % inline in the CALL
    B = payload(rand:uniform(1024), Seed),
    {nocopy_test_iso:echo_bytes(Iso, B), B};
one_call(3, Iso, Seed, _, _) ->                    % copied once into a block
    B = payload(1025 + rand:uniform(20000), Seed),
    {nocopy_test_iso:echo_bytes(Iso, B), B};
one_call(4, Iso, _, Arena, _) ->                   % in the region already
    {nocopy_test_iso:echo_bytes(Iso, Arena), Arena};
one_call(5, Iso, _, Arena, _) ->                   % a slice of a region block
    Off = rand:uniform(byte_size(Arena)) - 1,
    Len = rand:uniform(byte_size(Arena) - Off + 1) - 1,
    {element(1, nocopy_test_iso:slice(Iso, Arena, Off, Len)), binary:part(Arena, Off, Len)};
one_call(6, Iso, _, _, _) ->                       % a result buffer
    Size = rand:uniform(20000) - 1,
    Byte = rand:uniform(256) - 1,
    {element(1, nocopy_test_iso:buf_new(Iso, Size, Byte)), binary:copy(<<Byte>>, Size)};
one_call(7, Iso, Seed, Arena, <<>>) ->
    one_call(4, Iso, Seed, Arena, <<>>);
one_call(7, Iso, _, _, Last) ->                    % an earlier result passed back in
    {nocopy_test_iso:echo_bytes(Iso, Last), Last}.

%% ---- 2. callers killed mid-call -----------------------------------------------------

callers_killed(#{killed := NK}) ->
    {ok, Iso} = iso_faults_iso:start([{region_bytes, ?REGION}, {threads, ?THREADS}]),
    Gate = gate(),
    try
        Pid0 = iso_faults_iso:os_pid(Iso),
        Big = payload(10000, 1),
        Parent = self(),
        %% The victims hold an input block each for their call: half a copy
        %% of an ordinary binary, half a binary they placed in the region.
        Victims = [spawn(fun() ->
                                 In = case I rem 2 of
                                          0 -> Big;
                                          1 -> nocopy_iso:binary(Iso, Big)
                                      end,
                                 _ = iso_faults_iso:held(Iso, Gate, In),
                                 Parent ! {should_have_been_killed, self()}
                         end) || I <- lists:seq(1, NK)],
        %% Survivors: held calls in the same queue, then more calls, then a
        %% look at their mailbox once every killed call has been answered.
        NS = 10,
        Survivors = [spawn_link(fun() -> survivor(Parent, Iso, Gate, Big) end)
                     || _ <- lists:seq(1, NS)],
        %% Every binary a victim placed exists, and the child's threads each
        %% hold a call (the child reads no more while they are busy: the
        %% others wait in the channel or in the VM's queue; all are
        %% mid-call).
        wait_info(Iso, input_blocks, fun(N) -> N >= NK div 2 end),
        wait_info(Iso, calls_in_flight, fun(N) -> N >= ?THREADS end),
        Blocks = maps:get(input_blocks, nocopy_iso:info(Iso)),
        Refs = [monitor(process, V) || V <- Victims],
        [exit(V, kill) || V <- Victims],
        [receive {'DOWN', R, process, _, Why} -> ?assertEqual(killed, Why) end || R <- Refs],
        %% No call has ended: the gate is closed.
        InFlight = maps:get(calls_in_flight, nocopy_iso:info(Iso)),
        ?assert(InFlight >= ?THREADS andalso InFlight =< NK + NS),
        open_gate(Gate),
        [receive {held, S, R} -> ?assertEqual(Big, R) end || S <- Survivors],
        wait_info(Iso, calls_in_flight, fun(N) -> N =:= 0 end),
        [S ! check || S <- Survivors],
        [receive {strays, S, X} -> ?assertEqual([], X) end || S <- Survivors],
        ?assertEqual([], [M || M = {should_have_been_killed, _} <- element(2, process_info(self(), messages))]),
        %% The isolate is usable; its child never crashed.
        ?assertEqual(Big, iso_faults_iso:held(Iso, Gate, Big)),
        ?assertEqual({Pid0, 1}, {iso_faults_iso:os_pid(Iso),
                                 maps:get(incarnation, nocopy_iso:info(Iso))}),
        assert_empty(Iso),
        io:format(user, "~n  iso: ~b callers killed mid-call (~b input blocks "
                  "lent), ~b survivors~n", [NK, Blocks, NS])
    after
        _ = file:delete(Gate),
        iso_faults_iso:stop(Iso)
    end.

survivor(Parent, Iso, Gate, Big) ->
    R = iso_faults_iso:held(Iso, Gate, Big),
    Parent ! {held, self(), R},
    ok = iso_faults_iso:ok(Iso),
    receive check -> Parent ! {strays, self(), strays()} end.

%% ---- 3. the child killed under load ---------------------------------------------------

child_killed(#{held := NH, loopers := NL}) ->
    {ok, Iso} = iso_faults_iso:start([{region_bytes, ?REGION}, {threads, ?THREADS}]),
    Gate = gate(),
    try
        Pid0 = iso_faults_iso:os_pid(Iso),
        Big = payload(10000, 2),
        Parent = self(),
        Held = [spawn_link(fun() ->
                                   R = try iso_faults_iso:held(Iso, Gate, Big)
                                       catch error:E -> E end,
                                   Parent ! {held, self(), R},
                                   %% The next calls work (on the new child).
                                   Next = [iso_faults_iso:held(Iso, Gate, Big)
                                           || _ <- lists:seq(1, 5)],
                                   Parent ! {next, self(), lists:usort(Next)}
                           end) || _ <- lists:seq(1, NH)],
        %% The child's threads each hold a call (the rest wait in the
        %% channel or in the VM's queue).
        wait_info(Iso, calls_in_flight, fun(N) -> N >= ?THREADS end),
        %% Loopers keep calls going while the child dies: each call either
        %% works or fails with ecrashed, and they go on.
        Loopers = [spawn_link(fun() -> looper(Parent, Iso, Big, #{}) end)
                   || _ <- lists:seq(1, NL)],
        [] = os:cmd("kill -9 " ++ integer_to_list(Pid0)),
        %% The calls in flight fail with ecrashed (at least the child's
        %% threads' held ones); a call sent after the restart waits at the
        %% gate of the new child and returns its argument.
        open_gate(Gate),
        HeldOut = [receive {held, H, R} -> R end || H <- Held],
        ?assertEqual([], [R || R <- HeldOut, R =/= ecrashed, R =/= Big]),
        ?assert(length([R || R <- HeldOut, R =:= ecrashed]) >= ?THREADS),
        [receive {next, H, R} -> ?assertEqual([Big], R) end || H <- Held],
        [L ! stop || L <- Loopers],
        Counts = [receive {looped, L, C} -> C end || L <- Loopers],
        %% No other outcome than a result or ecrashed; a looper whose call
        %% the kill failed got results after it (on the new child).
        ?assertEqual([], [C || C <- Counts,
                               maps:keys(maps:without([ok, ecrashed, ok_after_crash], C)) =/= []]),
        ?assertEqual([], [C || C <- Counts, maps:is_key(ecrashed, C),
                               not maps:get(ok_after_crash, C, false)]),
        Crashed = lists:sum([maps:get(ecrashed, C, 0) || C <- Counts]),
        #{os_pid := Pid1, incarnation := Inc} = nocopy_iso:info(Iso),
        ?assertNotEqual(Pid0, Pid1),
        ?assertEqual(2, Inc),
        ?assertEqual([], strays()),
        assert_empty(Iso),
        io:format(user, "~n  iso: kill -9 failed ~b of ~b held calls and ~b of the loopers' "
                  "calls with ecrashed; ~b loopers' calls worked~n",
                  [length([R || R <- HeldOut, R =:= ecrashed]), NH, Crashed,
                   lists:sum([maps:get(ok, C, 0) || C <- Counts])])
    after
        _ = file:delete(Gate),
        iso_faults_iso:stop(Iso)
    end.

%% Calls held/2 with a gate that is open, counting outcomes, until told to
%% stop; a looper whose call the kill failed goes on until a call works again
%% (a hang here is the test's failure, by its timeout).
looper(Parent, Iso, Big, C) ->
    receive
        stop -> Parent ! {looped, self(), recovered(Iso, Big, C)}
    after 0 ->
            looper(Parent, Iso, Big, step(Iso, Big, C))
    end.

recovered(Iso, Big, C) ->
    case maps:is_key(ecrashed, C) andalso not maps:is_key(ok_after_crash, C) of
        true -> recovered(Iso, Big, step(Iso, Big, C));
        false -> C
    end.

step(Iso, Big, C) ->
    R = try iso_faults_iso:ok(Iso), echo(Iso, Big)
        catch error:E -> E end,
    C1 = maps:update_with(R, fun(N) -> N + 1 end, 1, C),
    case {R, maps:is_key(ecrashed, C)} of
        {ok, true} -> C1#{ok_after_crash => true};
        _ -> C1
    end.

%% held/2 with a gate that is always open (the test's own module file).
echo(Iso, Big) ->
    Open = list_to_binary(code:which(?MODULE)),
    case iso_faults_iso:held(Iso, Open, Big) of
        Big -> ok;
        Other -> {wrong, byte_size(Other)}
    end.
