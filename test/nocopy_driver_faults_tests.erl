%% nocopy_driver_faults_tests: the driver's faults (the rest of the driver's
%% suites: see nocopy_driver_tests): callers that die with calls queued, a port
%% closed or its owner killed with calls running and queued, the driver
%% unloaded with ports open (in a peer node of its own), and the driver
%% outliving the processes that opened ports. Whatever a dead call held is
%% released: its handle, its input binary (erlang:memory(binary), so `make
%% asan' leaves this module out of its +Mea min pass).
%%
%% No test asserts a duration. Waiting is on facts: a gate in the test module's
%% C code that calls block on (gate_stats/0 counts them), a process found in
%% its receive, a port's 'DOWN'.
-module(nocopy_driver_faults_tests).

-export([unload_scenario/0]).

-include("nocopy_test_util.hrl").
-include("nocopy_driver_util.hrl").

%% ---- faults ----------------------------------------------------------------------------------------

%% A caller killed while its call waits in the queue: the call still runs, its
%% result reaches nobody, and everything it held is released, including the
%% handle it made (taken out of the port's table again) and its input binary.
caller_dies_test_() ->
    {"a dead caller's result is dropped and its handle destroyed",
     {timeout, 60, fun() ->
        with_ports([[{workers, 1}, {inline, false}], []], fun(P, C) ->
            gate_reset(C),
            {Created0, Destroyed0, Bad0, _, _} = nocopy_test_drv:handle_stats(C),
            Blocker = nocopy_test_drv:async(P, gate_wait, [?GATE_MS]),
            until(fun() -> gate_waiting(C) =:= 1 end),
            Victims = [spawn(fun() -> nocopy_test_drv:new_counter_handle(P) end),
                       spawn(fun() -> nocopy_test_drv:echo_bytes(P, nc_big(32 bsl 20)) end)],
            [until_waiting(V) || V <- Victims],
            %% Dead before the calls run: a kill signal is asynchronous, and a
            %% reply delivered just before the exit would be a kept result.
            [begin
                 M = erlang:monitor(process, V),
                 exit(V, kill),
                 receive {'DOWN', M, process, V, killed} -> ok end
             end || V <- Victims],
            ok = nocopy_test_drv:gate_open(C),
            ?assertMatch({released, _}, nocopy_test_drv:await(Blocker)),
            %% One worker, FIFO: once this returns, the victims' calls ran.
            ?assertEqual(1, nocopy_test_drv:echo_i64(P, 1)),
            {Created, Destroyed, Bad, _, _} = nocopy_test_drv:handle_stats(C),
            ?assertEqual({Created0 + 1, Destroyed0 + 1, Bad0}, {Created, Destroyed, Bad}),
            gate_reset(C)
        end)
    end}}.

%% The 32 MiB input of a dropped call is freed: no reference leaks. Freeing
%% happens on the worker once the call has run (and closing the port does not
%% wait for that), so the test polls for it, collecting garbage each time.
caller_dies_binary_freed_test_() ->
    {"a dead caller's 32 MiB input is freed",
     {timeout, 60, fun() ->
        nocopy_test_lib:gc_all(),
        Before = erlang:memory(binary),
        with_ports([[{workers, 1}], []], fun(P, C) ->
            gate_reset(C),
            Blocker = nocopy_test_drv:async(P, gate_wait, [?GATE_MS]),
            until(fun() -> gate_waiting(C) =:= 1 end),
            Victim = spawn(fun() ->
                                   nocopy_test_drv:gate_wait_above(P, nc_big(32 bsl 20), ?GATE_MS)
                           end),
            until_waiting(Victim),
            M = erlang:monitor(process, Victim),
            exit(Victim, kill),
            receive {'DOWN', M, process, Victim, killed} -> ok end,
            ok = nocopy_test_drv:gate_open(C),
            ?assertMatch({released, _}, nocopy_test_drv:await(Blocker))
            %% The gate stays open: the dead caller's queued call still runs
            %% (it passes the gate at once).
        end),
        until(fun() -> nocopy_test_lib:gc_all(), erlang:memory(binary) < Before + (16 bsl 20) end)
    end}}.

%% close/1 with one call running and two queued returns at once: the queued
%% calls are cancelled (they never run: the gate counts one release, not
%% three) and their callers get eclosed; the running call is not waited for,
%% it stays blocked in C after close has returned, its caller gets eclosed
%% too, and once the gate opens it finishes on its thread and releases what it
%% holds: its handle, destroyed once the port's table and the call have both
%% let go of it.
close_with_calls_in_flight_test_() ->
    {"close does not wait for running calls; queued ones are cancelled; eclosed for all",
     {timeout, 60, fun() ->
        with_ports([[]], fun(C) ->
            gate_reset(C),
            {_, Released0, Timeouts0} = nocopy_test_drv:gate_stats(C),
            {_, Destroyed0, Bad0, _, _} = nocopy_test_drv:handle_stats(C),
            P = open([{workers, 1}]),
            H = nocopy_test_drv:new_counter_handle(P),
            Running = nocopy_test_drv:async(P, gate_wait_handle, [H, ?GATE_MS]),
            until(fun() -> gate_waiting(C) =:= 1 end),
            Queued = [nocopy_test_drv:async(P, gate_wait, [?GATE_MS]) || _ <- [1, 2]],
            ok = close(P),
            %% Closed, and the call is still in C: close did not wait for it.
            ?assertEqual(1, gate_waiting(C)),
            ?assertEqual(Destroyed0, element(2, nocopy_test_drv:handle_stats(C))),
            [?assertMatch({error, eclosed, {general, _}},
                          catch_nocopy(fun() -> raw_await(R, 5000) end))
             || R <- [Running | Queued]],
            %% Calls on the closed port fail cleanly.
            ?assertError(eclosed, nocopy_test_drv:echo_i64(P, 1)),
            ok = nocopy_test_drv:gate_open(C),
            until(fun() -> element(2, nocopy_test_drv:handle_stats(C)) =:= Destroyed0 + 1 end),
            ?assertMatch({0, Released, Timeouts0} when Released =:= Released0 + 1,
                         nocopy_test_drv:gate_stats(C)),
            ?assertEqual(Bad0, element(3, nocopy_test_drv:handle_stats(C))),
            gate_reset(C)
        end)
    end}}.

%% Synchronous callers of a port that nocopy_port has checked runs the
%% driver wait with neither a timer nor a port monitor: the port's close must
%% answer them itself, the running call and the queued one (no monitor's
%% 'DOWN' would tell them otherwise: a caller the close did not answer would
%% wait forever). The texts say the driver answered, not a monitor.
close_answers_waiting_callers_test_() ->
    {"close answers synchronous callers itself, running and queued calls",
     {timeout, 60, fun() ->
        with_ports([[]], fun(C) ->
            gate_reset(C),
            P = open([{workers, 1}]),
            Self = self(),
            Caller = fun() ->
                             spawn(fun() ->
                                           R = catch_nocopy(fun() ->
                                                                    raw_call(P, gate_wait, [?GATE_MS],
                                                                             infinity)
                                                            end),
                                           Self ! {self(), R}
                                   end)
                     end,
            Running = Caller(),
            until(fun() -> gate_waiting(C) =:= 1 end),
            Queued = Caller(),
            until_waiting(Queued),
            until_waiting(Running),
            ?assertEqual({monitors, []}, erlang:process_info(Running, monitors)),
            ok = close(P),
            ?assertEqual({error, eclosed, {general, <<"the port closed while the call ran">>}},
                         receive {Running, RR} -> RR end),
            ?assertEqual({error, eclosed, {general, <<"the port closed before the call ran">>}},
                         receive {Queued, RQ} -> RQ end),
            ok = nocopy_test_drv:gate_open(C),
            until(fun() -> gate_waiting(C) =:= 0 end),
            gate_reset(C)
        end)
    end}}.

%% A call on a worker that closes a handle: the handle's destructor runs when
%% the call's borrow ends, and must have run by the time its caller has the
%% reply. The destructor waits at the gate, so a reply sent before it (the
%% order this used to have) would be in the caller's mailbox while the
%% destructor still waits.
worker_reply_after_destructor_test_() ->
    {"a worker's reply goes out after the destructors of handles closed in the call",
     {timeout, 60, fun() ->
        with_ports([[], []], fun(P, C) ->
            gate_reset(C),
            {H, Id} = nocopy_test_drv:new_counter_handle_id(P),
            Self = self(),
            Caller = spawn(fun() -> Self ! {self(), nocopy_test_drv:close_gated(P, H, ?GATE_MS)} end),
            until(fun() -> gate_waiting(C) =:= 1 end),
            %% The destructor is at the gate: no reply has gone out yet.
            ?assertEqual({message_queue_len, 0}, erlang:process_info(Caller, message_queue_len)),
            ?assertEqual(0, nocopy_test_drv:handle_dtor_runs(C, Id)),
            ok = nocopy_test_drv:gate_open(C),
            ?assertEqual(ok, receive {Caller, R} -> R end),
            ?assertEqual(1, nocopy_test_drv:handle_dtor_runs(C, Id)),
            gate_reset(C)
        end)
    end}}.

%% The port's owner dies with calls in flight: the same as a close. The
%% running call outlives its port, blocked at the gate; the test lets it go
%% and waits for it, so that no call of this test is left for the next.
owner_dies_test_() ->
    {"the owner dies with calls in flight: callers get eclosed",
     {timeout, 60, fun() ->
        with_ports([[]], fun(C) ->
            gate_reset(C),
            Self = self(),
            Owner = spawn(fun() ->
                                  Self ! {port, open([{workers, 1}])},
                                  receive never -> ok end
                          end),
            P = receive {port, Port} -> Port end,
            Running = nocopy_test_drv:async(P, gate_wait, [?GATE_MS]),
            until(fun() -> gate_waiting(C) =:= 1 end),
            Queued = nocopy_test_drv:async(P, gate_wait, [?GATE_MS]),
            exit(Owner, kill),
            ?assertMatch({error, eclosed, {general, _}},
                         catch_nocopy(fun() -> raw_await(Queued, 10000) end)),
            ?assertMatch({error, eclosed, {general, _}},
                         catch_nocopy(fun() -> raw_await(Running, 10000) end)),
            ok = nocopy_test_drv:gate_open(C),
            until(fun() -> gate_waiting(C) =:= 0 end),
            gate_reset(C)
        end)
    end}}.

%% Unloading the driver kills its ports (erl_ddll's kill_ports, which
%% nocopy_port's loader asks for): callers get eclosed, the driver's finish
%% runs, and the driver loads again afterwards. It runs in a fresh node of its
%% own, so that no other test's port is killed.
unload_with_ports_open_test_() ->
    {"unloading the driver kills its ports cleanly; it loads again",
     {timeout, 120, fun() ->
        Paths = [filename:dirname(code:which(M)) || M <- [nocopy_port, nocopy_test_drv, ?MODULE]],
        {ok, Peer, _Node} = peer:start_link(#{connection => standard_io,
                                              args => lists:append([["-pa", D] || D <- Paths])}),
        try
            ?assertMatch({driver_unloaded, Outcome, 3} when Outcome =:= answered;
                                                             Outcome =:= eclosed,
                         peer:call(Peer, ?MODULE, unload_scenario, [], 60000))
        after
            peer:stop(Peer)
        end
    end}}.

%% @private Run in the peer node by unload_with_ports_open_test_/0.
unload_scenario() ->
    %% The killed port's exit reaches its owner through their link.
    process_flag(trap_exit, true),
    P = open([]),
    %% nocopy's loader, not the caller, holds the driver loaded.
    Loader = whereis(nocopy_driver_loader),
    [Loader] = [U || {U, _} <- erl_ddll:info(nocopy_test_drv, processes)],
    PortMref = erlang:monitor(port, P),
    Ref = nocopy_test_drv:async(P, thread_name_dirty_cpu, []),
    ok = nocopy_port:unload_driver(nocopy_test_drv),
    Why = receive {'DOWN', PortMref, port, P, W} -> W end,
    receive {'EXIT', P, driver_unloaded} -> ok end,
    %% Answered before the unload, or cancelled by it: never lost.
    Outcome = case catch_nocopy(fun() -> raw_await(Ref, 5000) end) of
                  {ok, Name} -> true = worker_thread(Name), answered;
                  {error, eclosed, _} -> eclosed
              end,
    %% Loads again (init runs again), and works.
    Q = open([]),
    Three = nocopy_test_drv:echo_i64(Q, 3),
    close(Q),
    {Why, Outcome, Three}.

%% The driver stays loaded when the process that opened a port exits: a short
%% process opens a port and dies, and a port another process opened at the
%% same moment lives on (each caller used to hold the driver loaded itself:
%% the last one to exit unloaded it and killed every port of the driver).
driver_outlives_openers_test_() ->
    {"ports survive the exit of other processes that opened ports",
     {timeout, 60, fun() ->
        Self = self(),
        [begin
             Opener = spawn(fun() -> {ok, Q} = nocopy_test_drv:open(), Self ! {opened, Q} end),
             M = erlang:monitor(process, Opener),
             receive {'DOWN', M, process, Opener, _} -> ok end,
             receive {opened, _} -> ok end,
             with_ports([[]], fun(P) -> ?assertEqual(I, nocopy_test_drv:echo_i64(P, I)) end)
         end || I <- lists:seq(1, 50)],
        %% One user of the driver: nocopy's loader, whoever opened ports.
        Loader = whereis(nocopy_driver_loader),
        ?assert(is_pid(Loader)),
        ?assertEqual([Loader], [U || {U, _} <- erl_ddll:info(nocopy_test_drv, processes)])
    end}}.
