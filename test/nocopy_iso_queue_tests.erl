%% The isolated backend's VM-side queue (docs/design.md, "The isolated
%% backend", Channel): the CALLs and RELEASE_OUTs the channel to the child
%% could not take at once wait in one queue per incarnation, in channel
%% order, bounded by the options queue and queue_bytes.
%%
%% The child is made to read nothing: its one thread (threads 1) runs
%% iso_faults:held(Gate, Bin), which waits until the file Gate exists; the
%% test opens that gate by creating the file, with no call (a call would wait
%% in the same queue). Once the channel is full (a few hundred small CALLs),
%% later messages queue in the VM. Nothing here asserts a duration; waits for
%% C state poll nocopy_iso:info/1 to a deadline.
-module(nocopy_iso_queue_tests).

-include_lib("eunit/include/eunit.hrl").

queue_test_() ->
    [{timeout, 300, {T, F}}
     || {T, F} <- [{"1000 callers at once while the child reads nothing: all served, no eoverload",
                    fun thousand_at_once/0},
                   {"the bound in calls: eoverload past it, its text names the option",
                    fun bound_calls/0},
                   {"the bound in bytes: eoverload past it, its text names the option",
                    fun bound_bytes/0},
                   {"{queue, 0}: a full channel is eoverload at once", fun no_queue/0},
                   {"bad queue options", fun bad_options/0},
                   {"a RELEASE_OUT queued behind a CALL naming its block stays behind it",
                    fun release_after_call/0},
                   {"queued RELEASE_OUTs leave after the child's last reply",
                    fun release_flush/0},
                   {"a queued call's timeout: taken out, never sent, the child lives",
                    fun queued_timeout/0},
                   {"kill -9 with a full queue: one ecrashed per call, a new child, an empty queue",
                    fun kill_with_queue/0},
                   {"stop answers queued callers with eclosed", fun stop_with_queue/0}]].

%% ---- helpers --------------------------------------------------------------------

start(Opts) ->
    {ok, Iso} = iso_faults_iso:start([{region_bytes, 1 bsl 26}, {threads, 1} | Opts]),
    Iso.

gate() ->
    Dir = os:getenv("TMPDIR", "/tmp"),
    Path = filename:join(Dir, io_lib:format("qgate-~s-~b",
                                            [os:getpid(), erlang:unique_integer([positive])])),
    _ = file:delete(Path),
    list_to_binary(Path).

open_gate(Path) ->
    ok = file:write_file(Path, <<>>).

%% A file that exists: held/2 returns at once.
open_path() ->
    list_to_binary(code:which(?MODULE)).

info(Iso, Key) ->
    maps:get(Key, nocopy_iso:info(Iso)).

wait_info(Iso, Key, Pred) ->
    nocopy_test_lib:wait_until(fun() -> Pred(info(Iso, Key)) end, 60000),
    V = info(Iso, Key),
    ?assert(Pred(V)),
    V.

assert_empty(Iso) ->
    Empty = #{calls_in_flight => 0, input_blocks => 0, input_bytes => 0, child_keeps => 0,
              output_handovers => 0, queued_calls => 0, queued_releases => 0,
              queued_bytes => 0},
    Counts = fun() -> maps:with(maps:keys(Empty), nocopy_iso:info(Iso)) end,
    nocopy_test_lib:wait_until(fun() -> nocopy_test_lib:gc_all(), Counts() =:= Empty end,
                               60000, 10),
    ?assertEqual(Empty, Counts()).

%% The child's one thread held at the gate (its call in flight).
hold(Iso, Gate) ->
    Parent = self(),
    H = spawn_link(fun() ->
                           Parent ! {held, self(),
                                     outcome(fun() -> iso_faults_iso:held(Iso, Gate, <<"h">>) end)}
                   end),
    wait_info(Iso, calls_in_flight, fun(N) -> N >= 1 end),
    H.

%% A caller of held(Gate, Bin) that reports {done, Pid, Result} (a refusal
%% as {error, Reason, Text}), then, when asked (check), the replies that
%% came after its answer: a call answered twice leaves one there.
caller(Iso, Gate, Bin) ->
    Parent = self(),
    spawn(fun() ->
                  Parent ! {done, self(), outcome(fun() -> iso_faults_iso:held(Iso, Gate, Bin) end)},
                  receive check -> Parent ! {strays, self(), strays()} after 300000 -> ok end
          end).

%% Each caller's strays: none.
assert_no_strays(Ps) ->
    [P ! check || P <- Ps],
    ?assertEqual([], lists:append([receive {strays, P, X} -> X end || P <- Ps])).

outcome(Fun) ->
    try Fun()
    catch
        error:Reason:St ->
            case [I || {iso_faults_iso, _, _, I} <- St] of
                [Info | _] ->
                    #{cause := {general, Text}} = proplists:get_value(error_info, Info),
                    ?assertEqual(#{general => binary_to_list(Text)},
                                 nocopy_test_lib:error_strings(Reason, St)),
                    {error, Reason, binary_to_list(Text)};
                [] ->
                    {error, Reason, ""}
            end
    end.

%% Callers one at a time, each waited for until its call is in flight (sent
%% or queued) or refused, until the queue holds Queued calls. The callers.
fill(Iso, Gate, Bin, Queued) ->
    fill(Iso, Gate, Bin, Queued, []).

fill(Iso, Gate, Bin, Queued, Acc) ->
    case info(Iso, queued_calls) >= Queued of
        true ->
            Acc;
        false ->
            N = info(Iso, calls_in_flight),
            P = caller(Iso, Gate, Bin),
            wait_info(Iso, calls_in_flight, fun(M) -> M > N end),
            fill(Iso, Gate, Bin, Queued, [P | Acc])
    end.

%% Callers one at a time until one is refused: {the callers in flight, the
%% refusal}.
fill_until_refused(Iso, Gate, Bin, Acc) ->
    N = info(Iso, calls_in_flight),
    P = caller(Iso, Gate, Bin),
    case wait_sent_or_refused(Iso, P, N) of
        sent -> fill_until_refused(Iso, Gate, Bin, [P | Acc]);
        {refused, R} -> {Acc, R}
    end.

wait_sent_or_refused(Iso, P, N) ->
    receive
        {done, P, R} -> {refused, R}
    after 1 ->
            case info(Iso, calls_in_flight) > N of
                true -> sent;
                false -> wait_sent_or_refused(Iso, P, N)
            end
    end.

results(Ps) ->
    [receive {done, P, R} -> R after 60000 -> {no_answer, P} end || P <- Ps].

strays() ->
    {messages, Ms} = process_info(self(), messages),
    [M || M <- Ms, element(1, M) =:= nocopy_reply].

contains(Text, Part) ->
    ?assertNotEqual(nomatch, string:find(Text, Part)).

%% ---- tests -----------------------------------------------------------------------

thousand_at_once() ->
    Iso = start([]),
    Gate = gate(),
    try
        Pid0 = iso_faults_iso:os_pid(Iso),
        H = hold(Iso, Gate),
        Parent = self(),
        Bins = [<<I:32, "payload">> || I <- lists:seq(1, 1000)],
        Ps = [spawn(fun() ->
                            receive go -> ok end,
                            Parent ! {done, self(),
                                      outcome(fun() -> iso_faults_iso:held(Iso, Gate, B) end)}
                    end) || B <- Bins],
        [P ! go || P <- Ps],
        %% Every call is in flight: in the child (the holder), in the
        %% channel, or queued in the VM (more than the channel holds).
        wait_info(Iso, calls_in_flight, fun(N) -> N =:= 1001 end),
        ?assert(info(Iso, queued_calls) > 0),
        open_gate(Gate),
        ?assertEqual(Bins, results(Ps)),
        receive {held, H, <<"h">>} -> ok end,
        ?assertEqual([], strays()),
        ?assert(info(Iso, queued_total) > 0),
        ?assertEqual({Pid0, 1}, {iso_faults_iso:os_pid(Iso), info(Iso, incarnation)}),
        assert_empty(Iso)
    after
        _ = file:delete(Gate),
        iso_faults_iso:stop(Iso)
    end.

bound_calls() ->
    Iso = start([{queue, 5}]),
    Gate = gate(),
    try
        H = hold(Iso, Gate),
        {Ps, Refusal} = fill_until_refused(Iso, Gate, <<"q">>, []),
        {error, eoverload, Text} = Refusal,
        contains(Text, "option queue)"),
        contains(Text, "bound of 5 calls"),
        ?assertEqual(5, info(Iso, queued_calls)),
        %% More than the channel held: the queue took 5 more.
        ?assert(length(Ps) > 5),
        %% Past the bound, every call is refused at once.
        More = [caller(Iso, Gate, <<"r">>) || _ <- lists:seq(1, 3)],
        ?assertMatch([{error, eoverload, _}, {error, eoverload, _}, {error, eoverload, _}],
                     results(More)),
        open_gate(Gate),
        ?assertEqual([<<"q">> || _ <- Ps], results(Ps)),
        receive {held, H, <<"h">>} -> ok end,
        assert_empty(Iso)
    after
        _ = file:delete(Gate),
        iso_faults_iso:stop(Iso)
    end.

bound_bytes() ->
    Iso = start([{queue_bytes, 8000}]),
    Gate = gate(),
    try
        H = hold(Iso, Gate),
        Bin = binary:copy(<<7>>, 1000),                  % inline in the CALL
        {Ps, Refusal} = fill_until_refused(Iso, Gate, Bin, []),
        {error, eoverload, Text} = Refusal,
        contains(Text, "option queue_bytes)"),
        contains(Text, "bound of 8000 bytes"),
        Q = info(Iso, queued_calls),
        QB = info(Iso, queued_bytes),
        %% Each CALL is over 1000 bytes: at most 7 fit in 8000, and the
        %% next would not.
        ?assert(Q >= 1 andalso Q =< 7),
        ?assert(QB =< 8000 andalso QB > 8000 - 2 * 1200),
        open_gate(Gate),
        ?assertEqual([Bin || _ <- Ps], results(Ps)),
        receive {held, H, <<"h">>} -> ok end,
        assert_empty(Iso)
    after
        _ = file:delete(Gate),
        iso_faults_iso:stop(Iso)
    end.

no_queue() ->
    Iso = start([{queue, 0}]),
    Gate = gate(),
    try
        H = hold(Iso, Gate),
        {Ps, Refusal} = fill_until_refused(Iso, Gate, <<"z">>, []),
        ?assertMatch({error, eoverload, _}, Refusal),
        ?assertEqual(0, info(Iso, queued_calls)),
        ?assertEqual(0, info(Iso, queued_total)),
        open_gate(Gate),
        ?assertEqual([<<"z">> || _ <- Ps], results(Ps)),
        receive {held, H, <<"h">>} -> ok end,
        assert_empty(Iso)
    after
        _ = file:delete(Gate),
        iso_faults_iso:stop(Iso)
    end.

bad_options() ->
    [?assertEqual({error, {bad_option, O}}, iso_faults_iso:start([O]))
     || O <- [{queue, -1}, {queue, 1 bsl 20 + 1}, {queue, many}, {queue_bytes, -1},
              {queue_bytes, 1 bsl 40 + 1}, {queue_bytes, 1.5}, {queues, 1}]],
    %% The bounds themselves are accepted.
    [begin {ok, I} = iso_faults_iso:start([{region_bytes, 1 bsl 20}, O]),
           iso_faults_iso:stop(I) end
     || O <- [{queue, 0}, {queue, 1 bsl 20}, {queue_bytes, 0}, {queue_bytes, 1 bsl 40}]].

%% A caller passes back in a result of its own (an output block, one
%% handover) in a CALL that is queued, and then holds it no more: a GC drops
%% the binary, whose RELEASE_OUT must follow the CALL (were it sent first,
%% the child would free the block and the CALL would name a freed block:
%% eproto, or the wrong bytes).
release_after_call() ->
    Iso = start([]),
    Gate = gate(),
    Open = open_path(),
    try
        Parent = self(),
        C = spawn_link(fun() ->
                               R = iso_faults_iso:held(Iso, Open, binary:copy(<<"abc">>, 2000)),
                               Want = binary:copy(R),
                               Tag = erlang:unique_integer([positive]),
                               Req = iso_faults_iso:'$nocopy_request_held'(Iso, Tag, Open, R),
                               Parent ! {ready, self()},
                               receive go -> ok end,
                               %% Neither R nor Req is live past this call.
                               Got = try nocopy_iso:call_request(Iso, iso_faults_iso, Tag,
                                                                 Req, infinity)
                                     catch error:E -> {error, E}
                                     end,
                               Parent ! {passed_back, Got =:= Want, Got}
                       end),
        receive {ready, C} -> ok end,
        ?assertEqual(1, info(Iso, output_handovers)),
        H = hold(Iso, Gate),
        Fillers = fill(Iso, Gate, <<"f">>, 1),
        Q0 = info(Iso, queued_calls),
        C ! go,
        wait_info(Iso, queued_calls, fun(N) -> N =:= Q0 + 1 end),
        %% The caller waits; its binary is garbage now.
        wait_info(Iso, output_handovers,
                  fun(N) -> true = erlang:garbage_collect(C), N =:= 0 end),
        ?assertEqual(1, info(Iso, queued_releases)),
        open_gate(Gate),
        receive {passed_back, Same, Got} -> ?assert(Same orelse error({got, Got})) end,
        ?assertEqual([<<"f">> || _ <- Fillers], results(Fillers)),
        receive {held, H, <<"h">>} -> ok end,
        assert_empty(Iso)
    after
        _ = file:delete(Gate),
        iso_faults_iso:stop(Iso)
    end.

%% Thousands of small results and one large one are dropped while the child
%% reads nothing: their RELEASE_OUTs fill the channel and the rest queue,
%% the large one's last. After the child's last reply no message comes from
%% it, yet the queue must empty and the large block leave the output region
%% (its pages are given back when the child frees it).
release_flush() ->
    Iso = start([]),
    Gate = gate(),
    Open = open_path(),
    Big = 4 bsl 20,
    try
        Parent = self(),
        Keeper = fun(Sizes) ->
                         spawn_link(fun() ->
                                            Rs = [iso_faults_iso:held(Iso, Open, binary:copy(<<1>>, S))
                                                  || S <- Sizes],
                                            Parent ! {kept, self()},
                                            receive drop -> length(Rs) end
                                    end)
                 end,
        Small = Keeper(lists:duplicate(3000, 100)),
        receive {kept, Small} -> ok end,
        Large = Keeper([Big]),
        receive {kept, Large} -> ok end,
        ?assertEqual(3001, info(Iso, output_handovers)),
        Resident = info(Iso, output_resident),
        ?assert(Resident >= Big),
        H = hold(Iso, Gate),
        unlink(Small),
        Small ! drop,
        wait_info(Iso, queued_releases, fun(N) -> N > 0 end),
        unlink(Large),
        Large ! drop,
        wait_info(Iso, output_handovers, fun(N) -> N =:= 0 end),
        open_gate(Gate),
        receive {held, H, <<"h">>} -> ok end,
        %% No call from here on: only the reader can send the rest.
        wait_info(Iso, queued_releases, fun(N) -> N =:= 0 end),
        %% (most of its pages: only whole pages are given back)
        wait_info(Iso, output_resident, fun(N) -> N =< Resident - Big div 2 end),
        assert_empty(Iso)
    after
        _ = file:delete(Gate),
        iso_faults_iso:stop(Iso)
    end.

%% A queued call whose caller's timeout expires is taken out of the queue,
%% never sent: the caller gets timeout, the child is not killed, the input
%% block the call held is released, and no reply comes later.
queued_timeout() ->
    Iso = start([]),
    Gate = gate(),
    try
        Pid0 = iso_faults_iso:os_pid(Iso),
        H = hold(Iso, Gate),
        Fillers = fill(Iso, Gate, <<"f">>, 1),
        Q0 = info(Iso, queued_calls),
        Big = binary:copy(<<9>>, 20000),                 % copied into an input block
        Tag = erlang:unique_integer([positive]),
        Req = iso_faults_iso:'$nocopy_request_held'(Iso, Tag, Gate, Big),
        {error, Reason, Text} =
            try nocopy_iso:call_request(Iso, iso_faults_iso, Tag, Req, 200)
            catch error:{'$nocopy_error', R, {general, T}} -> {error, R, binary_to_list(T)}
            end,
        ?assertEqual(timeout, Reason),
        contains(Text, "still queued"),
        ?assertEqual(Q0, info(Iso, queued_calls)),
        open_gate(Gate),
        ?assertEqual([<<"f">> || _ <- Fillers], results(Fillers)),
        receive {held, H, <<"h">>} -> ok end,
        ?assertEqual({Pid0, 1}, {iso_faults_iso:os_pid(Iso), info(Iso, incarnation)}),
        assert_empty(Iso),
        ?assertEqual([], strays())
    after
        _ = file:delete(Gate),
        iso_faults_iso:stop(Iso)
    end.

kill_with_queue() ->
    Iso = start([]),
    Gate = gate(),
    try
        Pid0 = iso_faults_iso:os_pid(Iso),
        H = hold(Iso, Gate),
        Big = binary:copy(<<5>>, 5000),                  % an input block per call
        Fillers = fill(Iso, Gate, Big, 50),
        ?assert(info(Iso, input_blocks) >= length(Fillers)),
        [] = os:cmd("kill -9 " ++ integer_to_list(Pid0)),
        Rs = results(Fillers),
        ?assertEqual([], [R || R <- Rs, element(1, R) =/= error orelse element(2, R) =/= ecrashed]),
        receive {held, H, Held} -> ?assertMatch({error, ecrashed, _}, Held) end,
        %% The next call starts a new child, with an empty queue.
        ?assertEqual(<<"n">>, iso_faults_iso:held(Iso, open_path(), <<"n">>)),
        #{incarnation := 2, queued_calls := 0, queued_releases := 0, os_pid := Pid1} =
            nocopy_iso:info(Iso),
        ?assertNotEqual(Pid0, Pid1),
        %% One answer each: no second one came.
        assert_no_strays(Fillers),
        ?assertEqual([], [M || {done, _, _} = M <- element(2, process_info(self(), messages))]),
        assert_empty(Iso)
    after
        _ = file:delete(Gate),
        iso_faults_iso:stop(Iso)
    end.

stop_with_queue() ->
    Iso = start([]),
    Gate = gate(),
    try
        H = hold(Iso, Gate),
        Fillers = fill(Iso, Gate, <<"s">>, 20),
        iso_faults_iso:stop(Iso),
        Rs = results(Fillers),
        ?assertEqual([], [R || R <- Rs, element(1, R) =/= error orelse element(2, R) =/= eclosed]),
        receive {held, H, Held} -> ?assertMatch({error, eclosed, _}, Held) end,
        assert_no_strays(Fillers),
        ?assertEqual([], [M || {done, _, _} = M <- element(2, process_info(self(), messages))])
    after
        _ = file:delete(Gate),
        iso_faults_iso:stop(Iso)
    end.
