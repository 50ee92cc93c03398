%% nocopy_driver_tests: what only the driver backend has: the client API of
%% nocopy_port (async calls, timeouts, the port options), the port's handle
%% table, and deep terms both ways.
%%
%% The shared suites (nocopy_*_tests) run every argument, result, error,
%% handle and zero-copy case against both backends. The driver's own suites
%% cover the rest, one topic each:
%%   nocopy_driver_tests          the client API, handles, deep terms (this one);
%%   nocopy_driver_wire_tests     what reaches outputv: hostile requests, the
%%                                stubs' own encoders, the runtime's packing;
%%   nocopy_driver_workers_tests  the worker path, many callers on one port,
%%                                back-pressure;
%%   nocopy_driver_faults_tests   callers that die, ports that close or lose
%%                                their owner with calls in flight, unloading.
%% Their helpers are in nocopy_driver_util.hrl.
%%
%% No test asserts a duration. Waiting is on facts: a gate in the test module's
%% C code that calls block on (gate_stats/0 counts them), a process found in
%% its receive, a port's 'DOWN'.
-module(nocopy_driver_tests).

-include("nocopy_test_util.hrl").
-include("nocopy_driver_util.hrl").

%% ---- the client API -----------------------------------------------------------------------

async_test_() ->
    {setup, spawn, fun() -> open([]) end, fun close/1,
     fun(P) ->
             [{"the reply arrives as {nocopy_reply, Ref, {ok, Value}}",
               fun() ->
                       Ref = raw_async(P, echo_i64, [9]),
                       ?assert(is_reference(Ref)),
                       receive
                           {nocopy_reply, Ref, Reply} -> ?assertEqual({ok, 9}, Reply)
                       after 5000 -> erlang:error(no_reply)
                       end,
                       erlang:demonitor(Ref, [flush])
               end},
              {"await/2 returns the value, or raises as call does",
               fun() ->
                       ?assertEqual(4, nocopy_test_drv:await(nocopy_test_drv:async(P, echo_i64, [4]))),
                       ?assertError(badarg,
                                    nocopy_test_drv:await(nocopy_test_drv:async(P, echo_i64, [x])))
               end},
              {"async on a closed port: await raises eclosed",
               fun() ->
                       Q = open([]),
                       close(Q),
                       Ref = raw_async(Q, echo_i64, [1]),
                       ?assertMatch({error, eclosed, _},
                                    catch_nocopy(fun() -> raw_await(Ref, 5000) end))
               end}]
     end}.

%% A timeout raises `timeout'; the late reply is a stray message (documented).
timeout_test_() ->
    {"a timeout raises timeout; the late reply arrives as a stray message",
     {timeout, 60, fun() ->
        with_ports([[], []], fun(P, C) ->
            gate_reset(C),
            ?assertMatch({error, timeout, {general, <<"no reply within 50 ms">>}},
                         catch_nocopy(fun() ->
                                              raw_call(P, gate_wait, [?GATE_MS], 50)
                                      end)),
            ok = nocopy_test_drv:gate_open(C),
            receive
                {nocopy_reply, _, {released, _}} -> ok
            after 10000 -> erlang:error(no_late_reply)
            end,
            gate_reset(C)
        end)
    end}}.

options_test_() ->
    [{"bad options are refused before anything is loaded",
      [?_assertEqual({error, {bad_option, {workers, 0}}}, nocopy_test_drv:open([{workers, 0}])),
       ?_assertEqual({error, {bad_option, {queue, 0}}}, nocopy_test_drv:open([{queue, 0}])),
       ?_assertEqual({error, {bad_option, {queue_bytes, 0}}},
                     nocopy_test_drv:open([{queue_bytes, 0}])),
       ?_assertEqual({error, {bad_option, {queue_bytes, 1 bsl 40 + 1}}},
                     nocopy_test_drv:open([{queue_bytes, 1 bsl 40 + 1}])),
       ?_assertEqual({error, {bad_option, {inline, 1}}}, nocopy_test_drv:open([{inline, 1}])),
       ?_assertEqual({error, {bad_option, frob}}, nocopy_test_drv:open([frob])),
       ?_assertEqual({error, {bad_option, {workers, 65}}}, nocopy_test_drv:open([{workers, 65}])),
       ?_assertEqual({error, {bad_option, {queue, 1 bsl 20 + 1}}},
                     nocopy_test_drv:open([{queue, 1 bsl 20 + 1}]))]},
     {"the stubs carry the driver's own option table (c_src/drv/nc_drv_options.h)",
      fun() ->
              [Table] = [O || {port_options, O} <- table()],
              ?assertEqual(Table, nocopy_test_drv:'$port_options'()),
              ?assertEqual([workers, queue, queue_bytes, inline], [N || {N, _, _, _, _} <- Table])
      end},
     {"every option is taken by both sides at its bounds and refused past them",
      fun() ->
              lists:foreach(
                fun({Name, Default, Min, Max, integer}) ->
                        [begin
                             {ok, P} = nocopy_test_drv:open([{Name, V}]),
                             ok = nocopy_test_drv:close(P)
                         end || V <- [Min, Default, Max]],
                        [?assertEqual({error, {bad_option, {Name, V}}},
                                      nocopy_test_drv:open([{Name, V}]))
                         || V <- [Min - 1, Max + 1, float(Default), true]];
                   ({Name, _, _, _, boolean}) ->
                        [begin
                             {ok, P} = nocopy_test_drv:open([{Name, V}]),
                             ok = nocopy_test_drv:close(P)
                         end || V <- [true, false]],
                        [?assertEqual({error, {bad_option, {Name, V}}},
                                      nocopy_test_drv:open([{Name, V}]))
                         || V <- [0, 1, yes]]
                end, nocopy_test_drv:'$port_options'())
      end},
     {"the driver refuses bad settings too",
      fun() ->
              {ok, P} = nocopy_test_drv:open([]),   % loads the driver
              ?assertError(badarg, open_port({spawn_driver, "nocopy_test_drv workers=65"}, [binary])),
              ?assertError(badarg, open_port({spawn_driver, "nocopy_test_drv frob=1"}, [binary])),
              [?assertError(badarg, open_port({spawn_driver, "nocopy_test_drv " ++ S}, [binary]))
               || S <- ["queue_bytes=0", "queue_bytes=1099511627777", "queue_bytes=-1",
                        "queue_bytes= 5", "queue_bytes=99999999999999999999999",
                        "queue=1x", "inline=2", "workers="]],
              Q = open_port({spawn_driver, "nocopy_test_drv queue_bytes=1099511627776 inline=0"},
                            [binary]),
              port_close(Q),
              close(P)
      end},
     {"a call on something that is not a port",
      ?_assertMatch({error, badarg, {port, <<"expected a port">>}},
                    catch_nocopy(fun() -> raw_call(not_a_port, echo_i64, [1], infinity) end))}].

%% ---- handles: what the table adds ---------------------------------------------------------------

handles_test_() ->
    {setup, spawn, fun() -> open([]) end, fun close/1,
     fun(P) ->
             [{"the term is {'$nocopy_handle', Port, Id}",
               fun() ->
                       H = nocopy_test_drv:new_counter_handle(P),
                       ?assertMatch({'$nocopy_handle', P, Id} when is_integer(Id), H),
                       ok = nocopy_test_drv:close_handle(P, H)
               end},
              {"a closed handle stays closed after its slot is reused",
               fun() ->
                       H = nocopy_test_drv:new_counter_handle(P),
                       ok = nocopy_test_drv:close_handle(P, H),
                       Others = [nocopy_test_drv:new_counter_handle(P) || _ <- lists:seq(1, 50)],
                       nc_assert_badarg({drv, P}, use_handle, [H], 1, "the counter handle is closed"),
                       [ok = nocopy_test_drv:close_handle(P, O) || O <- Others]
               end},
              {"forged ids are refused",
               fun() ->
                       %% A slot never used (type counter): "closed".
                       nc_assert_badarg({drv, P}, use_handle, [{'$nocopy_handle', P, 16#ffffff}],
                                        1, "the counter handle is closed"),
                       %% A type index the module does not have.
                       nc_assert_badarg({drv, P}, use_handle,
                                        [{'$nocopy_handle', P, 200 bsl 24}], 1,
                                        {prefix, "expected a counter handle"})
               end},
              {"slots are reused: 2000 handles made and closed one by one",
               fun() ->
                       Ids = [begin
                                  {'$nocopy_handle', P, Id} = H =
                                      nocopy_test_drv:new_counter_handle(P),
                                  ok = nocopy_test_drv:close_handle(P, H),
                                  Id band 16#ffffff
                              end || _ <- lists:seq(1, 2000)],
                       ?assert(lists:max(Ids) < 64)
               end},
              {"every destructor ran once",
               fun() ->
                       {Created, Destroyed, Bad, _, _} = nocopy_test_drv:handle_stats(P),
                       ?assertEqual(0, Bad),
                       ?assertEqual(Created, Destroyed + nocopy_test_drv:live_handles(P))
               end},
              {"a handle of a closed port is refused by a new port",
               fun() ->
                       Q = open([]),
                       H = nocopy_test_drv:new_counter_handle(Q),
                       close(Q),
                       nc_assert_badarg({drv, P}, use_handle, [H], 1,
                                        {prefix, "expected a counter handle"})
               end}]
     end}.

%% ---- results the driver builds ------------------------------------------------------------------

deep_terms_test_() ->
    {setup, spawn, fun() -> open([]) end, fun close/1,
     fun(P) ->
             Deep = lists:foldl(fun(_, Acc) -> [Acc, $x] end, [], lists:seq(1, 50000)),
             [{"a result nested 10000 deep (the test module's limit)",
               ?_assertEqual(nocopy_test:make_deep(10000), nocopy_test_drv:make_deep(P, 10000))},
              {"an argument nested 50000 deep (a left-nested iolist)",
               ?_assertEqual(iolist_to_binary(Deep), nocopy_test_drv:iovec_flat(P, Deep))}]
     end}.
