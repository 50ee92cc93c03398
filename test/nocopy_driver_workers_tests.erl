%% nocopy_driver_workers_tests: calls on the port's worker threads, many
%% callers on one port, and the bounded queue in front of the workers (the
%% rest of the driver's suites: see nocopy_driver_tests).
%%
%% - the worker path keeps every input binary (zero copy there too), also
%%   while a queued call waits and its caller has dropped the binary;
%% - 16 callers of mixed inline and worker calls on one port: every result
%%   right, each kind of call on its kind of thread;
%% - 96 callers on the workers only: heap calls given back and reused (the
%%   port's spares), every result right;
%% - back-pressure: a full queue, in calls or in decoded bytes, answers
%%   eoverload at once and the port carries on.
%%
%% No test asserts a duration. Waiting is on facts: a gate in the test module's
%% C code that calls block on (gate_stats/0 counts them), a process found in
%% its receive, a port's 'DOWN'.
-module(nocopy_driver_workers_tests).

-include("nocopy_test_util.hrl").
-include("nocopy_driver_util.hrl").

%% ---- the worker path -------------------------------------------------------------------------

%% {inline, false} sends every call to the workers: the request outlives
%% outputv there, so every input binary is KEPT; zero copy still holds.
worker_path_test_() ->
    {setup, spawn, fun() -> open([{inline, false}]) end, fun close/1,
     fun(P) ->
             Big = nc_big(1 bsl 20),
             Base = nif_addr(Big),
             [{"calls run on the port's worker threads",
               ?_assert(worker_thread(nocopy_test_drv:thread_name(P)))},
              {"input: C sees the binary's own bytes",
               ?_assertEqual(Base, nocopy_test_drv:address_of(P, Big))},
              {"slice: the result is the input's memory",
               fun() ->
                       {S, Addr} = nocopy_test_drv:slice(P, Big, 10, 1000),
                       ?assertEqual(Base + 10, Addr),
                       ?assertEqual(Base + 10, nif_addr(S)),
                       ?assertEqual(binary:part(Big, 10, 1000), S)
               end},
              {"slice copied (negative control): a different address",
               fun() ->
                       {S, _} = nocopy_test_drv:copy_slice(P, Big, 10, 1000),
                       ?assertNotEqual(Base + 10, nif_addr(S)),
                       ?assertEqual(binary:part(Big, 10, 1000), S)
               end},
              {"buffer: the result is the memory C wrote",
               fun() ->
                       {B, Addr} = nocopy_test_drv:buf_new(P, 4096, 7),
                       ?assertEqual(Addr, nif_addr(B)),
                       ?assertEqual(binary:copy(<<7>>, 4096), B)
               end},
              {"errors are the same as inline",
               ?_assertError(badarg, nocopy_test_drv:echo_i64(P, foo))},
              {"handles work", fun() ->
                                       H = nocopy_test_drv:new_counter_handle(P),
                                       ?assertEqual(1, nocopy_test_drv:use_handle(P, H)),
                                       ?assertEqual(ok, nocopy_test_drv:close_handle(P, H))
                               end}]
     end}.

%% A queued call holds its input binaries: the caller drops its last reference
%% and collects garbage while the call waits behind a blocked worker, and the
%% call still reads the right bytes.
kept_while_queued_test_() ->
    {"a queued call holds its input binaries while the caller drops them",
     {timeout, 60, fun() ->
        with_ports([[{workers, 1}, {inline, false}], []], fun(P, C) ->
            gate_reset(C),
            Blocker = nocopy_test_drv:async(P, gate_wait, [?GATE_MS]),
            until(fun() -> gate_waiting(C) =:= 1 end),
            Self = self(),
            Child = spawn_link(fun() ->
                                       Ref = start_echo(P),
                                       erlang:garbage_collect(),
                                       Self ! {queued, self()},
                                       Self ! {echoed, self(), nocopy_test_drv:await(Ref)}
                               end),
            receive {queued, Child} -> ok end,
            ok = nocopy_test_drv:gate_open(C),
            Expected = nc_big(1 bsl 20),
            receive {echoed, Child, Echo} -> ?assertEqual(Expected, Echo) end,
            ?assertMatch({released, _}, nocopy_test_drv:await(Blocker)),
            gate_reset(C)
        end)
    end}}.

%% The binary exists only inside this function: once it returns, nothing in
%% the caller refers to it.
start_echo(P) ->
    nocopy_test_drv:async(P, echo_bytes, [nc_big(1 bsl 20)]).

%% ---- many callers on one port ----------------------------------------------------------------

concurrency_test_() ->
    {"16 callers, 60 mixed calls each, on one port: every result right",
     {timeout, 120, fun() ->
        with_ports([[{workers, 4}]], fun(P) ->
            Big = nc_big(1 bsl 20),
            Base = nif_addr(Big),
            Self = self(),
            Procs = 16, Calls = 60,
            Pids = [spawn_monitor(fun() -> Self ! {self(), caller(P, Big, Base, K, Calls)} end)
                    || K <- lists:seq(1, Procs)],
            Results = [receive {Pid, R} -> R; {'DOWN', Mref, _, _, Why} -> {died, Why} end
                       || {Pid, Mref} <- Pids],
            ?assertEqual(lists:duplicate(Procs, ok), Results),
            %% Each kind of call really happened on its kind of thread.
            ?assert(worker_thread(nocopy_test_drv:thread_name_above(P, nc_big(?ABOVE + 1)))),
            ?assertNot(worker_thread(nocopy_test_drv:thread_name_above(P, nc_big(10))))
        end)
    end}}.

%% Every call on the workers, from more callers than the port keeps spare
%% calls (NC_DRV_SPARES_MAX, 64): calls are given back and reused, each reused
%% one starts clean (its own tag, arguments, handles and result), and those over
%% the bound are freed; closing the port frees the spares (asan, valgrind).
spare_calls_test_() ->
    {"96 callers, 30 calls each, all on 2 workers: every result right",
     {timeout, 120, fun() ->
        with_ports([[{inline, false}, {workers, 2}]], fun(P) ->
            H = nocopy_test_drv:new_counter_handle(P),
            Self = self(),
            Procs = 96, Calls = 30,
            Pids = [spawn_monitor(fun() -> Self ! {self(), spare_caller(P, H, K, Calls)} end)
                    || K <- lists:seq(1, Procs)],
            Results = [receive {Pid, R} -> R; {'DOWN', Mref, _, _, Why} -> {died, Why} end
                       || {Pid, Mref} <- Pids],
            ?assertEqual(lists:duplicate(Procs, ok), Results),
            %% Every use of the handle was counted once.
            ?assertEqual(Procs * Calls div 3 + 1, nocopy_test_drv:use_handle(P, H))
        end)
    end}}.

spare_caller(P, H, K, Calls) ->
    Check = fun(I) ->
                    case I rem 3 of
                        0 -> true = is_integer(nocopy_test_drv:use_handle(P, H));
                        1 -> Bin = nc_big(1 + (K * 31 + I) rem 3000),
                             Bin = nocopy_test_drv:echo_bytes(P, Bin);
                        2 -> N = K + I,
                             Sum = N * (N + 1) div 2,
                             Sum = nocopy_test_drv:sum_list(P, lists:seq(1, N))
                    end
            end,
    lists:foreach(Check, lists:seq(1, Calls)),
    ok.

%% Mixed calls, inline and on workers, small and large, each result checked.
caller(P, Big, Base, K, Calls) ->
    Check = fun(I) ->
                    Size = element(1 + (I + K) rem 4, {10, 100, 5000, ?ABOVE + 1}),
                    case I rem 5 of
                        0 ->
                            Bin = nc_big(Size),
                            Bin = nocopy_test_drv:echo_bytes(P, Bin);
                        1 ->
                            Off = (K * 7919 + I) rem 1000,
                            {S, Addr} = nocopy_test_drv:slice(P, Big, Off, 100000),
                            Addr = Base + Off,
                            S = binary:part(Big, Off, 100000);
                        2 ->
                            Name = nocopy_test_drv:thread_name_above(P, nc_big(Size)),
                            true = (Size > ?ABOVE) =:= worker_thread(Name);
                        3 ->
                            Base = nocopy_test_drv:address_of(P, Big);
                        4 ->
                            N = K + I,
                            Sum = N * (N + 1) div 2,
                            Sum = nocopy_test_drv:sum_list(P, lists:seq(1, N))
                    end
            end,
    lists:foreach(Check, lists:seq(1, Calls)),
    ok.

%% ---- back-pressure -------------------------------------------------------------------------------

%% One worker busy, one call queued (queue 1): the next is refused at once
%% with eoverload, and the port carries on.
overload_test_() ->
    {"a full queue answers eoverload at once",
     {timeout, 60, fun() ->
        with_ports([[{workers, 1}, {queue, 1}], []], fun(P, C) ->
            gate_reset(C),
            Running = nocopy_test_drv:async(P, gate_wait, [?GATE_MS]),
            until(fun() -> gate_waiting(C) =:= 1 end),
            Queued = nocopy_test_drv:async(P, gate_wait, [?GATE_MS]),
            try nocopy_test_drv:gate_wait(P, ?GATE_MS) of
                V -> erlang:error({expected_eoverload, V})
            catch
                error:eoverload:St ->
                    ?assertMatch(#{general := "the port's queue of 1 calls is full"},
                                 nocopy_test_lib:error_strings(eoverload, St))
            end,
            %% Inline functions are not queued: still answered.
            ?assertEqual(5, nocopy_test_drv:echo_i64(P, 5)),
            ok = nocopy_test_drv:gate_open(C),
            ?assertMatch({released, _}, nocopy_test_drv:await(Running)),
            ?assertMatch({released, _}, nocopy_test_drv:await(Queued)),
            gate_reset(C)
        end)
    end}}.

%% Requests that do not decode, sent to a port whose calls all go to its
%% workers, each from its own process, between good calls of other processes
%% queued behind a held worker: every caller gets its own reply (tags never
%% mixed up), the bad ones the reply an inline port gives, compared whole
%% (tag, reason, cause and text).
bad_requests_among_queued_test_() ->
    {"bad requests among queued calls: each caller gets its own reply, as inline",
     {timeout, 60, fun() ->
        with_ports([[{workers, 1}, {inline, false}], [], []], fun(P, Inline, C) ->
            Fp = fp(),
            Echo = index(echo_i64),
            %% The fixed header, the tag's and the argument's kinds, the tag.
            Hdr = fun(Tag, Kind) ->
                          <<"nc", (nocopy_wire:version()), Fp:32, Echo:32, 1:32, $i, Kind,
                            Tag:64>>
                  end,
            Cases = [[Hdr(21, $j)],
                     [Hdr(22, $i), <<1:64, "junk">>],
                     [Hdr(23, $?)],
                     [Hdr(24, $b), <<1000:64, "x">>],
                     [Hdr(25, $f), <<16#7ff0000000000000:64>>],
                     [Hdr(26, $b), <<300:64>>, nc_big(200), nc_big(100)]],
            Expected = [begin
                            true = erlang:port_command(Inline, Data),
                            raw_reply()
                        end || Data <- Cases],
            [?assertMatch({_, {'$nocopy_error', eproto, {general, <<_/binary>>}}}, E)
             || E <- Expected],
            gate_reset(C),
            Blocker = nocopy_test_drv:async(P, gate_wait, [?GATE_MS]),
            until(fun() -> gate_waiting(C) =:= 1 end),
            Self = self(),
            Send = fun(Data) ->
                           spawn_link(fun() ->
                                              true = erlang:port_command(P, Data),
                                              Self ! {sent, self()},
                                              Self ! {got, self(), raw_reply()}
                                      end)
                   end,
            Good = fun(N) -> spawn_link(fun() ->
                                                Self ! {sent, self()},
                                                Self ! {got, self(), nocopy_test_drv:echo_i64(P, N)}
                                        end)
                   end,
            Pids = lists:append([[Send(Data), Good(N)] || {Data, N} <- lists:zip(Cases, lists:seq(1, length(Cases)))]),
            [receive {sent, Pid} -> ok end || Pid <- Pids],
            ok = nocopy_test_drv:gate_open(C),
            ?assertMatch({released, _}, nocopy_test_drv:await(Blocker)),
            Got = [receive {got, Pid, R} -> R after 10000 -> erlang:error({no_reply, Pid}) end
                   || Pid <- Pids],
            ?assertEqual(lists:append([[E, N] || {E, N} <- lists:zip(Expected, lists:seq(1, length(Cases)))]),
                         Got),
            gate_reset(C)
        end)
    end}}.

%% The queue is bounded in decoded bytes too (hardening review O1: a request of
%% small terms decodes into tens of times its size). With one worker held at
%% the gate and a 64 KiB budget, a call of a 10,000-element list (hundreds of
%% KiB once decoded) is still queued, because nothing else waits; the next is
%% refused, and so is a small one while the big one holds the budget. Once it
%% has run, small calls queue again.
overload_bytes_test_() ->
    {"the queue's decoded bytes are bounded: eoverload past queue_bytes",
     {timeout, 60, fun() ->
        with_ports([[{workers, 1}, {queue, 100}, {queue_bytes, 65536}, {inline, false}], []],
                   fun(P, C) ->
            gate_reset(C),
            Running = nocopy_test_drv:async(P, gate_wait, [?GATE_MS]),
            until(fun() -> gate_waiting(C) =:= 1 end),
            Big = lists:seq(1, 10000),
            Queued = nocopy_test_drv:async(P, sum_list, [Big]),
            Refused = fun(Args) ->
                          try nocopy_test_drv:sum_list(P, Args) of
                              V -> erlang:error({expected_eoverload, V})
                          catch
                              error:eoverload:St ->
                                  #{general := Text} = nocopy_test_lib:error_strings(eoverload, St),
                                  Text
                          end
                      end,
            Text = Refused(Big),
            {match, [Bytes]} =
                re:run(Text, "^the port's queued calls would hold more than 65536 bytes "
                             "of decoded requests \\(this one: ([0-9]+)\\)$",
                       [{capture, all_but_first, list}]),
            ?assert(list_to_integer(Bytes) > 65536),
            _ = Refused([1, 2, 3]),
            ok = nocopy_test_drv:gate_open(C),
            ?assertMatch({released, _}, nocopy_test_drv:await(Running)),
            ?assertEqual(lists:sum(Big), nocopy_test_drv:await(Queued)),
            %% The budget is given back: small calls queue and run again.
            ?assertEqual(6, nocopy_test_drv:sum_list(P, [1, 2, 3])),
            gate_reset(C)
        end)
    end}}.
