%% nocopy_stress_tests: load, faults and leak proofs on both backends.
%%
%%   1. many processes each making many calls, mixed over the NIF and two
%%      driver ports, payloads from 0 bytes to 1 MiB, every result checked;
%%   2. callers killed in the middle of calls (dirty NIF calls, driver calls on
%%      worker threads), holding large binaries and handles;
%%   3. driver ports closed, and port owners killed, with calls in flight;
%%   4. handles created in bulk and dropped: the destructor counters return
%%      to where they were (NIF: after garbage collection; driver: when the
%%      port closes, as documented in nocopy_port).
%% After each: erlang:memory(binary) is back to its baseline after a garbage
%% collection of every process, and the VM's resident size is stable.
%%
%% Scale: NOCOPY_STRESS_SCALE=full (make stress: 1000 processes x 1000 calls,
%% 1000 kills per backend, 100000 handles per backend, 100 port rounds),
%% unset (make test: a reduced run of a few seconds), valgrind (tiny).
%% Nothing here asserts a duration. Waits for the runtime's asynchronous work
%% (resource destructors, port shutdown) poll a condition with a generous
%% deadline that only turns a hang into a failure.
-module(nocopy_stress_tests).

-include_lib("eunit/include/eunit.hrl").
-include("nocopy_prop_util.hrl").              % backends, t/3 and p/3

-define(BIG, 1048576).
-define(GATE_MS, 600000).          % the gate's own deadlock breaker

params() ->
    case os:getenv("NOCOPY_STRESS_SCALE") of
        "full" -> #{procs => 1000, calls => 1000, kills => 1000, handles => 100000,
                    port_rounds => 100, port_callers => 20, rss_rounds => 3,
                    rss_iters => 100};
        "valgrind" -> #{procs => 4, calls => 10, kills => 6, handles => 200,
                        port_rounds => 2, port_callers => 3, rss_rounds => 1,
                        rss_iters => 2};
        _ -> #{procs => 40, calls => 50, kills => 100, handles => 5000,
               port_rounds => 6, port_callers => 8, rss_rounds => 1,
               rss_iters => 20}
    end.

stress_test_() ->
    P = params(),
    {setup, fun setup/0, fun cleanup/1,
     fun(Env) ->
             [{timeout, 1800, {T, fun() -> with_memory_check(T, fun() -> F(Env, P) end) end}}
              || {T, F} <- tests()]
     end}.

tests() ->
    [{"mixed calls on every backend, every result checked", fun mixed_calls/2},
     {"nif: callers killed during dirty calls", fun(E, P) -> killed_mid_call(nif, E, P) end},
     {"drv: callers killed during worker calls", fun(E, P) -> killed_mid_call(drv, E, P) end},
     {"drv: ports closed and owners killed with calls in flight", fun ports_closed/2},
     {"nif: handles created and dropped", fun(E, P) -> handle_churn(nif, E, P) end},
     {"drv: handles created and dropped with their port", fun(E, P) -> handle_churn(drv, E, P) end},
     {"the VM's resident size is stable over repeated rounds", fun rss_stable/2}].

setup() ->
    {ok, T1} = nocopy_test_drv:open([{queue, 4096}]),
    {ok, T2} = nocopy_test_drv:open([{workers, 2}, {inline, false}]),
    {ok, PP} = nocopy_prop_drv:open([]),
    Payloads = list_to_tuple([payload(S) || S <- sizes()]),
    #{t1 => T1, t2 => T2, pp => PP, payloads => Payloads}.

cleanup(#{t1 := T1, t2 := T2, pp := PP}) ->
    [nocopy_test_drv:close(T) || T <- [T1, T2]],
    nocopy_prop_drv:close(PP),
    ok.

sizes() -> [0, 1, 63, 64, 65, 255, 256, 257, 4096, 65536, ?BIG].

payload(N) ->
    P = <<"stress-payload-0123456789abcdefghijklmnopqrstuvwxyz!">>,
    list_to_binary([binary:copy(P, N div byte_size(P)), binary:part(P, 0, N rem byte_size(P))]).

%% Backends as {Test, Prop}: nif, or {drv, TestPort, PropPort}.
backends(#{t1 := T1, t2 := T2, pp := PP}) -> [nif, {drv, T1, PP}, {drv, T2, PP}].

%% ---------------------------------------------------------------------------
%% Memory: a baseline before, back to it after; skipped where the runtime's
%% allocators are plain malloc (+Mea min), which disables erlang:memory/1.
%% ---------------------------------------------------------------------------

with_memory_check(Title, Fun) ->
    Before = binary_memory(),
    Fun(),
    case Before of
        notsup ->
            io:format(user, "~n  ~s: erlang:memory/1 not supported here (+Mea min); "
                      "counters only~n", [Title]);
        _ ->
            %% A little slack for the runtime's own binaries (EUnit's output,
            %% code loading); the tests move gigabytes through here.
            Slack = 4 * ?BIG,
            After = settle(fun() ->
                                   nocopy_test_lib:gc_all(),
                                   binary_memory() =< Before + Slack
                           end),
            ?assertEqual({binary_memory_back, true},
                         {binary_memory_back, After orelse {Before, binary_memory()}})
    end.

binary_memory() ->
    try erlang:memory(binary)
    catch error:notsup -> notsup
    end.

%% Polls Pred until true (true) or a deadline of a minute (false): resource
%% destructors and port shutdown are asynchronous in the runtime.
settle(Pred) -> nocopy_test_lib:wait_until(Pred, 60000, 10).

rss_kb() ->
    {ok, Status} = file:read_file("/proc/" ++ os:getpid() ++ "/status"),
    [Line] = [L || L <- binary:split(Status, <<"\n">>, [global]),
                   binary:match(L, <<"VmRSS:">>) =/= nomatch],
    [_, Kb | _] = binary:split(Line, [<<" ">>, <<"\t">>], [global, trim_all]),
    binary_to_integer(Kb).

%% ---------------------------------------------------------------------------
%% 1. Mixed calls
%% ---------------------------------------------------------------------------

mixed_calls(Env, #{procs := NP, calls := NC}) ->
    Bs = backends(Env),
    Payloads = maps:get(payloads, Env),
    {M0, R0, 0} = nocopy_test:foreign_stats(),
    Parent = self(),
    Pids = [spawn_monitor(fun() -> Parent ! {done, self(), worker(I, NC, Bs, Payloads)} end)
            || I <- lists:seq(1, NP)],
    Results = [receive
                   {done, Pid, R} -> R;
                   {'DOWN', Ref, process, Pid, Why} -> {died, Why}
               end || {Pid, Ref} <- Pids],
    [receive {'DOWN', Ref, process, Pid, _} -> ok end || {Pid, Ref} <- Pids],
    Bad = [R || R <- Results, R =/= ok],
    ?assertEqual([], lists:sublist(Bad, 3)),
    io:format(user, "~n  mixed calls: ~b processes x ~b calls over ~b backends~n",
              [NP, NC, length(Bs)]),
    %% Foreign memory made by the NIF calls is all released once collected.
    ?assert(settle(fun() ->
                           nocopy_test_lib:gc_all(),
                           {M, R, 0} = nocopy_test:foreign_stats(),
                           M - R =< M0 - R0
                   end)).

worker(Seed, N, Backends, Payloads) ->
    rand:seed(exsss, {Seed, 17, 42}),
    Handles = [{B, t(B, new_counter_handle, [])} || B <- Backends],
    try
        [one_call(Backends, Handles, Payloads) || _ <- lists:seq(1, N)],
        ok
    catch
        C:R:St -> {C, R, hd(St)}
    end.

pick(List) -> lists:nth(rand:uniform(length(List)), List).

payload_of(Payloads) ->
    %% The 1 MiB payload is rare; the others are equally likely.
    I = case rand:uniform(100) of
            1 -> tuple_size(Payloads);
            _ -> rand:uniform(tuple_size(Payloads) - 1)
        end,
    element(I, Payloads).

one_call(Backends, Handles, Payloads) ->
    B = pick(Backends),
    Bin = payload_of(Payloads),
    Size = byte_size(Bin),
    case rand:uniform(8) of
        1 ->
            Bin = t(B, echo_bytes, [Bin]);
        2 ->
            Off = rand:uniform(Size + 1) - 1,
            Len = rand:uniform(Size - Off + 1) - 1,
            {S, _} = t(B, slice, [Bin, Off, Len]),
            S = binary:part(Bin, Off, Len);
        3 ->
            Io = [Bin, 7, [<<"x">>, Bin] | <<"tail">>],
            Flat = iolist_to_binary(Io),
            Flat = t(B, iovec_flat, [Io]);
        4 ->
            Byte = rand:uniform(256) - 1,
            Want = binary:copy(<<Byte>>, Size),
            {Want, _} = t(B, buf_new, [Size, Byte]);
        5 ->
            Byte = rand:uniform(256) - 1,
            Want = binary:copy(<<Byte>>, Size),
            {Want, _} = t(B, foreign_new, [Size, Byte]);
        6 ->
            T = {Bin, [1, 2.5, red, -(1 bsl 62)], {}},
            T = p(B, echo, [T]);
        7 ->
            {B, H} = lists:keyfind(B, 1, Handles),
            N = t(B, use_handle, [H]),
            true = is_integer(N) andalso N >= 1;
        8 ->
            {Bin, X} = {Bin, p(B, echo_dirty, [Bin])},
            X = Bin
    end.

%% ---------------------------------------------------------------------------
%% 2. Callers killed mid-call
%% ---------------------------------------------------------------------------

%% Each caller blocks in a call (on the gate) holding a 1 MiB binary or a
%% handle; all are killed, the gate opens, and then: nobody waits on the gate,
%% the binaries are freed (memory check), every handle's destructor ran once.
killed_mid_call(Kind, Env, #{kills := K}) ->
    B = case Kind of
            nif -> nif;
            drv -> {drv, maps:get(t1, Env), maps:get(pp, Env)}
        end,
    Big = payload(?BIG),
    ok = t(B, gate_close, []),
    {Live0, Bad0} = handle_counts(B),
    Parent = self(),
    Callers = [spawn(fun() ->
                             H = t(B, new_counter_handle, []),
                             Parent ! {ready, self()},
                             case I rem 2 of
                                 0 -> t(B, gate_wait_above, [Big, ?GATE_MS]);
                                 1 -> t(B, gate_wait_handle, [H, ?GATE_MS])
                             end,
                             exit(should_have_been_killed)
                     end) || I <- lists:seq(1, K)],
    [receive {ready, P} -> ok end || P <- Callers],
    %% Every caller is inside its call (running, or queued for a dirty
    %% scheduler or a worker thread) before it is killed.
    Slots = case Kind of
                nif -> erlang:system_info(dirty_cpu_schedulers_online);
                drv -> 4                                % the port's workers
            end,
    InCall = settle(fun() ->
                            lists:all(fun in_call/1, Callers) andalso
                                element(1, t(B, gate_stats, [])) >= min(K, Slots)
                    end),
    Refs = [erlang:monitor(process, P) || P <- Callers],
    [exit(P, kill) || P <- Callers],
    [receive {'DOWN', R, process, _, killed} -> ok end || R <- Refs],
    ok = t(B, gate_open, []),
    ?assert(InCall),
    ?assert(settle(fun() -> element(1, t(B, gate_stats, [])) =:= 0 end)),
    ok = t(B, gate_close, []),
    %% The handles: NIF ones die with their last term (collected), driver ones
    %% live in the port's table until the port closes (checked in 3).
    case Kind of
        nif ->
            ?assert(settle(fun() ->
                                   nocopy_test_lib:gc_all(),
                                   handle_counts(B) =:= {Live0, Bad0}
                           end));
        drv ->
            {_, Bad} = handle_counts(B),
            ?assertEqual(Bad0, Bad)
    end,
    %% Still serving.
    ?assertEqual(Big, t(B, echo_bytes, [Big])).

%% Inside the call: the NIF running or queued for a dirty scheduler (shown as
%% the NIF, or under the name it was rescheduled with), or a driver caller
%% waiting for the reply.
in_call(P) ->
    case process_info(P, [current_function, status]) of
        [{current_function, {M, F, _}}, {status, S}] ->
            (M =:= nocopy_test andalso
             (lists:prefix("$nocopy_gate", atom_to_list(F)) orelse
              F =:= gate_wait_above orelse F =:= gate_wait_handle))
                orelse (M =:= nocopy_port andalso S =:= waiting);
        undefined -> false
    end.

%% {LiveCounterHandles, BadDestructorRuns} of the backend's library.
handle_counts(B) ->
    {Created, Destroyed, BadDtor, _, _} = t(B, handle_stats, []),
    {Created - Destroyed, BadDtor}.

%% ---------------------------------------------------------------------------
%% 3. Ports closed, owners killed, with calls in flight
%% ---------------------------------------------------------------------------

%% Each round: a port owned by a fresh process, handles on it, callers in the
%% middle of calls holding large binaries (running on the workers or queued),
%% then one of: the owner is killed, the port is closed by a third process,
%% the callers are killed and the port closed. Then the gate opens. Every
%% surviving caller gets its reply or eclosed; the port's handles are all
%% destroyed; a control port still works; memory is back (checked after).
ports_closed(Env, #{port_rounds := Rounds, port_callers := NC}) ->
    Control = {drv, maps:get(t1, Env), maps:get(pp, Env)},
    Big = payload(?BIG),
    {Live0, Bad0} = handle_counts(Control),
    Outcomes = lists:append([port_round(R, Control, Big, NC) || R <- lists:seq(1, Rounds)]),
    Allowed = [O || O <- Outcomes, lists:member(O, [released, eclosed, killed])],
    ?assertEqual(length(Outcomes), length(Allowed)),
    io:format(user, "~n  ports closed in flight: ~b rounds, outcomes ~p~n",
              [Rounds, count(Outcomes)]),
    ?assert(settle(fun() -> handle_counts(Control) =:= {Live0, Bad0} end)),
    ?assertEqual(Big, t(Control, echo_bytes, [Big])).

port_round(Round, Control, Big, NC) ->
    Parent = self(),
    ok = t(Control, gate_close, []),
    Owner = spawn(fun() ->
                          {ok, Port} = nocopy_test_drv:open([{workers, 2}, {queue, 64}]),
                          Parent ! {port, self(), Port},
                          receive stop -> nocopy_test_drv:close(Port) end
                  end),
    Port = receive {port, Owner, P} -> P end,
    B = {drv, Port, none},
    _Handles = [t(B, new_counter_handle, []) || _ <- lists:seq(1, 5)],
    Callers = [spawn_monitor(fun() ->
                                     R = try t(B, gate_wait_above, [Big, 5000]) of
                                             {released, _} -> released;
                                             {timeout, _} -> released
                                         catch
                                             error:eclosed -> eclosed
                                         end,
                                     exit({outcome, R})
                             end) || _ <- lists:seq(1, NC)],
    true = settle(fun() -> lists:all(fun({Pid, _}) -> in_call(Pid) end, Callers) end),
    case Round rem 3 of
        0 -> exit(Owner, kill);
        1 -> spawn(fun() -> nocopy_test_drv:close(Port) end);
        2 -> [exit(Pid, kill) || {Pid, _} <- Callers],
             spawn(fun() -> nocopy_test_drv:close(Port) end)
    end,
    ok = t(Control, gate_open, []),
    Outcomes = [receive
                    {'DOWN', Ref, process, Pid, {outcome, O}} -> O;
                    {'DOWN', Ref, process, Pid, killed} -> killed
                end || {Pid, Ref} <- Callers],
    exit(Owner, kill),
    PortDown = settle(fun() -> erlang:port_info(Port) =:= undefined end),
    ?assert(PortDown),
    ok = t(Control, gate_close, []),
    Outcomes.

count(L) ->
    lists:foldl(fun(X, M) -> maps:update_with(X, fun(N) -> N + 1 end, 1, M) end, #{}, L).

%% ---------------------------------------------------------------------------
%% 4. Handles in bulk
%% ---------------------------------------------------------------------------

handle_churn(nif, _Env, #{handles := N}) ->
    {C0, D0, 0} = nocopy_prop:handle_stats(),
    Live0 = C0 - D0,
    Batch = min(N, 1000),
    Parent = self(),
    %% Made and dropped by short-lived processes, and by this one.
    [begin
         {Pid, Ref} = spawn_monitor(fun() ->
                                            Hs = nocopy_prop:new_handles(Batch),
                                            Batch = length(Hs),
                                            Parent ! {made, length(Hs)}
                                    end),
         receive {'DOWN', Ref, process, Pid, normal} -> ok end
     end || _ <- lists:seq(1, N div Batch div 2)],
    _ = [length(nocopy_prop:new_handles(Batch))
         || _ <- lists:seq(1, N div Batch - N div Batch div 2)],
    Made = N div Batch * Batch,
    nocopy_test_lib:gc_all(),
    %% Every one destroyed: the live count is back (older handles of other
    %% suites may die meanwhile, so it may even drop below).
    ?assert(settle(fun() ->
                           nocopy_test_lib:gc_all(),
                           {C, D, 0} = nocopy_prop:handle_stats(),
                           C - C0 =:= Made andalso C - D =< Live0
                   end)),
    {C1, D1, Bad} = nocopy_prop:handle_stats(),
    io:format(user, "~n  nif handles: ~b created, ~b destroyed, ~b bad destructor runs~n",
              [C1 - C0, D1 - D0, Bad]);
handle_churn(drv, Env, #{handles := N}) ->
    Control = {drv, none, maps:get(pp, Env)},
    {C0, D0, 0} = p(Control, handle_stats, []),
    Live0 = C0 - D0,
    {ok, Port} = nocopy_prop_drv:open([]),
    B = {drv, none, Port},
    Batch = min(N, 1000),
    Hs = lists:append([p(B, new_handles, [Batch]) || _ <- lists:seq(1, N div Batch)]),
    Made = length(Hs),
    %% A tenth closed by C before the port goes; using them then says closed.
    ToClose = lists:sublist(Hs, Made div 10),
    [ok = p(B, close_handle, [H]) || H <- ToClose],
    [?assertError(badarg, p(B, close_handle, [H])) || H <- lists:sublist(ToClose, 10)],
    {_, DMid, 0} = p(Control, handle_stats, []),
    ?assert(DMid - D0 >= length(ToClose)),
    ok = nocopy_prop_drv:close(Port),
    ?assert(settle(fun() ->
                           {C, D, 0} = p(Control, handle_stats, []),
                           C - C0 =:= Made andalso C - D =< Live0
                   end)),
    io:format(user, "~n  drv handles: ~b created, all destroyed when their port closed~n",
              [Made]).

%% ---------------------------------------------------------------------------
%% 5. Resident size
%% ---------------------------------------------------------------------------

%% Runs a round of calls that move large binaries through every result form
%% on every backend, several times; after the first round (which warms the
%% allocators up) the resident size must not keep growing. A leak of the
%% 1 MiB binaries would add hundreds of MiB per round; the bound leaves room
%% for allocator caching.
rss_stable(Env, #{rss_rounds := Rounds, rss_iters := Iters}) ->
    Bs = backends(Env),
    Big = payload(?BIG),
    Round = fun() ->
                    [begin
                         {_, _} = t(B, buf_new, [?BIG, 1]),
                         {_, _} = t(B, foreign_new, [?BIG, 2]),
                         {_, _} = t(B, slice, [Big, 1, ?BIG - 2]),
                         Big = t(B, echo_bytes, [Big]),
                         true = is_integer(t(B, shared_put, [7, ?BIG, 3])),
                         true = t(B, keep_release, [7])
                     end || B <- Bs, _ <- lists:seq(1, Iters)],
                    nocopy_test_lib:gc_all(),
                    rss_kb()
            end,
    First = Round(),
    Later = [Round() || _ <- lists:seq(1, Rounds)],
    Max = lists:max([First | Later]),
    io:format(user, "~n  VM resident size after each round (KiB): ~p~n", [[First | Later]]),
    ?assert(Max - First < 128 * 1024).
