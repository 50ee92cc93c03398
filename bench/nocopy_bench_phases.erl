%% @doc The phases of the nocopy benchmark, each over every live contender
%% (see nocopy_bench for the method): latency, calls per second under
%% concurrency, the GC step of results over the binary-heap allowance,
%% erlang:memory(binary) growth, and peak RSS in a fresh VM per contender;
%% and the watchdog that halts a run stuck in one cell.
-module(nocopy_bench_phases).

-export([latency/2, flat/2, concurrency/2, gc_step/2, gc_settings/0, spawn_opt_check/0,
         binary_memory/2, rss/2, say/2, watchdog_start/1, watchdog_stop/0]).

-include("nocopy_bench.hrl").

-import(nocopy_bench_contenders, [applies/2, skip/3, one/4, batch/5, now_ns/0, timed/5, timed_fresh/5,
                                  calibrate/5, payload/1, arg/2, check/4]).
-import(nocopy_bench_stats, [stats/1, median/1, fmt_ns/1, fmt_rate/1, fmt_bytes/1,
                             size_label/1]).

-define(CONC_K, 8).              % calls between clock reads under concurrency

%% ===========================================================================
%% Output and the watchdog
%% ===========================================================================

say(Fmt, Args) ->
    io:format(Fmt, Args).

%% A stuck contender (a driver that never answers) must not hang `make bench':
%% the watchdog halts the VM if one cell takes longer than TimeoutMs. The
%% calling process runs the phases; arm/1 tells the watchdog which cell.
watchdog_start(TimeoutMs) ->
    put(watchdog, spawn_link(fun() -> watchdog(undefined, infinity) end)),
    put(timeout_ms, TimeoutMs),
    ok.

watchdog(What, Ms) ->
    receive
        {arm, NewWhat, NewMs} -> watchdog(NewWhat, NewMs);
        stop -> ok
    after Ms ->
        io:format(standard_error, "nocopy_bench: stuck for ~p ms in ~0tp; giving up~n",
                  [Ms, What]),
        halt(3)
    end.

arm(What) ->
    get(watchdog) ! {arm, What, get(timeout_ms)},
    ok.

watchdog_stop() ->
    get(watchdog) ! stop,
    ok.

%% ===========================================================================
%% Phase 1: latency
%% ===========================================================================

latency(Cfg, Live) ->
    say("~nLatency (ns per call, median of ~b rounds):~n", [maps:get(rounds, Cfg)]),
    lists:flatmap(
      fun(S) ->
              P = payload(S),
              Cells = lists:flatmap(fun(W) -> latency_cell(Cfg, Live, W, S, P) end,
                                    ?WORKLOADS),
              erlang:garbage_collect(),
              Cells
      end, maps:get(sizes, Cfg)).

latency_cell(Cfg, Live, W, S, P) ->
    arm({latency, W, S}),
    Arg = arg(W, P),
    {Run, Skipped} = lists:partition(fun({Id, _}) -> skip(Id, W, S) =:= run end,
                                     [C || {Id, _} = C <- Live, applies(Id, W)]),
    SkipCells = [#{workload => W, size => S, contender => Id, status => skipped,
                   reason => element(2, skip(Id, W, S))} || {Id, _} <- Skipped],
    Checked = [{Id, Env, check_one(Id, Env, W, Arg, P)} || {Id, Env} <- Run],
    Bad = [#{workload => W, size => S, contender => Id, status => failed,
             reason => iolist_to_binary(io_lib:format("wrong result: ~0tP", [Why, 8]))}
           || {Id, _, {false, Why}} <- Checked],
    Good = [{Id, Env, ZC} || {Id, Env, {true, ZC}} <- Checked],
    Target = maps:get(batch_ns, Cfg),
    Items = [{Id, Env, calibrate(Id, Env, W, Arg, Target), ZC} || {Id, Env, ZC} <- Good],
    Samples = run_rounds(maps:get(rounds, Cfg), Items, W, Arg),
    Cells = [begin
                 Ns = maps:get(Id, Samples),
                 (stats(Ns))#{workload => W, size => S, contender => Id, status => ok,
                              calls_per_batch => N, samples => Ns, zero_copy => ZC}
             end || {Id, _, N, ZC} <- Items],
    say("  ~-8s ~9s ", [W, size_label(S)]),
    [say(" ~s=~s", [Id, fmt_ns(M)]) || #{contender := Id, median := M} <- Cells],
    say("~n", []),
    SkipCells ++ Bad ++ Cells.

check_one(Id, Env, W, Arg, P) ->
    try check(W, one(Id, Env, W, Arg), P, Arg)
    catch C:E -> {false, {C, E}}
    end.

%% ===========================================================================
%% Phase 1b: flatness
%% ===========================================================================

%% The identity round trip at 4 KiB, 1 MiB and 256 MiB, the three sizes in the
%% same rounds (a new random order each round), for the Flat target: its ratios
%% between sizes then compare batches run moments apart. In the latency tables
%% the sizes run minutes apart, and on a shared machine its speed drifts more
%% than that between them (the hand-written NIF's own 256 MiB cell was 1.56x
%% its 1 MiB cell in one run, for the same work). Returns a cell per contender
%% and size, samples in round order; none when the run has not these sizes.
flat(Cfg, Live) ->
    Sizes = [4 * ?KiB, ?MiB, 256 * ?MiB],
    case Sizes -- maps:get(sizes, Cfg) of
        [] -> flat_rounds(Cfg, Live, Sizes);
        _ -> []
    end.

flat_rounds(Cfg, Live, Sizes) ->
    Ids = [Id || Id <- [nc_nif, nc_drv, hand_nif, hand_drv], lists:keymember(Id, 1, Live)],
    say("~nFlatness (identity, ~s, ~s and ~s in the same rounds, median of ~b):~n",
        [size_label(S) || S <- Sizes] ++ [maps:get(rounds, Cfg)]),
    arm(flat),
    Target = maps:get(batch_ns, Cfg),
    Items = [{{Id, S}, Env, Arg, calibrate(Id, Env, identity, Arg, Target)}
             || {S, Arg} <- [{S, payload(S)} || S <- Sizes],
                Id <- Ids, {_, Env} <- [lists:keyfind(Id, 1, Live)]],
    Acc = lists:foldl(
            fun(_, Acc1) ->
                    lists:foldl(
                      fun({Key, Env, Arg, N}, Acc2) ->
                              {Id, _} = Key,
                              T = timed_fresh(Id, Env, identity, N, Arg),
                              maps:update_with(Key, fun(L) -> [T / N | L] end, [T / N], Acc2)
                      end, Acc1, shuffle(Items))
            end, #{}, lists:seq(1, maps:get(rounds, Cfg))),
    Cells = [(stats(lists:reverse(maps:get({Id, S}, Acc))))#{
                 contender => Id, size => S, workload => identity, status => ok,
                 samples => lists:reverse(maps:get({Id, S}, Acc))}
             || {{Id, S}, _, _, _} <- Items],
    [say("  ~-9s ~ts~n", [Id, lists:join(" ", [io_lib:format("~s=~s", [size_label(S), fmt_ns(M)])
                                               || #{contender := I, size := S, median := M} <- Cells,
                                                  I =:= Id])])
     || Id <- Ids],
    erlang:garbage_collect(),
    Cells.

%% Rounds of every item once, in a fresh random order each round; returns
%% #{Id => [ns per call, in round order]}.
run_rounds(R, Items, W, Arg) ->
    Acc0 = maps:from_list([{Id, []} || {Id, _, _, _} <- Items]),
    Acc = lists:foldl(
            fun(_, Acc1) ->
                    lists:foldl(
                      fun({Id, Env, N, _}, Acc2) ->
                              T = timed_fresh(Id, Env, W, N, Arg),
                              maps:update_with(Id, fun(L) -> [T / N | L] end, Acc2)
                      end, Acc1, shuffle(Items))
            end, Acc0, lists:seq(1, R)),
    maps:map(fun(_, L) -> lists:reverse(L) end, Acc).

shuffle(L) ->
    [X || {_, X} <- lists:sort([{rand:uniform(), X} || X <- L])].

%% ===========================================================================
%% Phase 2: calls per second under concurrency
%% ===========================================================================

concurrency(Cfg, Live) ->
    S = maps:get(conc_size, Cfg),
    P = payload(S),
    Ms = maps:get(conc_ms, Cfg),
    Items = [{Id, proplists:get_value(Id, Live)} || Id <- ?CONC_IDS, lists:keymember(Id, 1, Live)],
    say("~nConcurrency (seed call, ~s, calls per second, median of ~b):~n",
        [size_label(S), maps:get(conc_rounds, Cfg)]),
    lists:flatmap(
      fun(Procs) ->
              arm({concurrency, Procs}),
              Acc = lists:foldl(
                      fun(_, Acc1) ->
                              lists:foldl(
                                fun({Id, Env}, Acc2) ->
                                        R = throughput(Id, Env, seed, P, Procs, Ms),
                                        maps:update_with(Id, fun(L) -> L ++ [R] end, [R], Acc2)
                                end, Acc1, shuffle(Items))
                      end, #{}, lists:seq(1, maps:get(conc_rounds, Cfg))),
              Cells = [#{contender => Id, procs => Procs, workload => seed, size => S,
                         calls_per_s => median(maps:get(Id, Acc)),
                         samples => maps:get(Id, Acc)} || {Id, _} <- Items],
              say("  ~3b procs", [Procs]),
              [say(" ~s=~s", [Id, fmt_rate(R)]) || #{contender := Id, calls_per_s := R} <- Cells],
              say("~n", []),
              Cells
      end, maps:get(conc_procs, Cfg)).

throughput(Id, Env, W, Arg, Procs, Ms) ->
    Self = self(),
    Pids = [spawn_link(fun() -> conc_worker(Self, Id, Env, W, Arg) end)
            || _ <- lists:seq(1, Procs)],
    T0 = now_ns(),
    Deadline = T0 + Ms * 1000000,
    _ = [Pid ! {go, Deadline} || Pid <- Pids],
    Done = [receive {done, Pid, C, T} -> {C, T} end || Pid <- Pids],
    Calls = lists:sum([C || {C, _} <- Done]),
    Wall = lists:max([T || {_, T} <- Done]) - T0,
    Calls * 1.0e9 / Wall.

conc_worker(Parent, Id, Env, W, Arg) ->
    receive {go, Deadline} -> ok end,
    C = conc_loop(Id, Env, W, Arg, Deadline, 0),
    Parent ! {done, self(), C, now_ns()}.

conc_loop(Id, Env, W, Arg, Deadline, C) ->
    ok = batch(Id, Env, W, ?CONC_K, Arg),
    case now_ns() >= Deadline of
        true -> C + ?CONC_K;
        false -> conc_loop(Id, Env, W, Arg, Deadline, C + ?CONC_K)
    end.

%% ===========================================================================
%% Phase 3: the GC step on results over the binary-heap allowance
%% ===========================================================================

%% {Contender, Workload}: results that are new references to a big binary
%% (driver replies; a NIF returning a kept buffer), and the NIF identity, whose
%% result is the argument itself and so adds nothing to the vheap.
-define(GC_ITEMS, [{nc_nif, identity}, {nc_nif, blob}, {hand_drv, identity},
                   {nc_drv, identity}, {nc_drv, blob}, {hand_drv_async, identity},
                   {nc_drv_async, identity}]).

%% @doc The receiver settings of the GC-step phase: {Name, min_bin_vheap_size
%% in words, or default}. Applied with process_flag/2 in the measuring process:
%% on OTP 25.2.3, spawn_opt(F, [{min_bin_vheap_size, W}]) on its own is
%% silently ignored (the process keeps the default; measured here, see
%% bench/README.md); it takes effect only together with another GC option
%% such as min_heap_size or fullsweep_after.
gc_settings() ->
    [{default, default},
     {vheap_8MiB, ?MiB},                 % words: 8 MiB
     {vheap_256MiB, 32 * ?MiB}].         % words: 256 MiB

gc_step(Cfg, Live) ->
    say("~nGC step (ns per call; GCs per call):~n", []),
    lists:flatmap(
      fun(S) ->
              P = payload(S),
              lists:flatmap(
                fun({Id, W}) ->
                        case proplists:get_value(Id, Live) of
                            undefined -> [];
                            Env -> gc_item(Cfg, Id, Env, W, S, P)
                        end
                end, ?GC_ITEMS)
      end, maps:get(gc_sizes, Cfg)).

gc_item(Cfg, Id, Env, W, S, P) ->
    arm({gc_step, Id, W, S}),
    Arg = case W of
              blob when Id =:= nc_nif -> nc_bench:blob_new(S);
              blob -> nc_bench_drv:blob_new(maps:get(port, Env), S);
              _ -> P
          end,
    Cells = [begin
                 R = gc_measure(Cfg, Id, Env, W, Arg, Words),
                 R#{contender => Id, workload => W, size => S, setting => Name}
             end || {Name, Words} <- gc_settings()],
    say("  ~-14s ~-8s ~9s", [Id, W, size_label(S)]),
    [say("  ~s: ~s ~.2f", [N, fmt_ns(M), G])
     || #{setting := N, median := M, gcs_per_call := G} <- Cells],
    say("~n", []),
    Cells.

%% What min_bin_vheap_size a process spawned with the option really gets: alone,
%% and next to another GC option (see gc_settings/0).
spawn_opt_check() ->
    W = ?MiB,
    Get = fun(Opts) ->
                  Self = self(),
                  _ = spawn_opt(fun() ->
                                        {_, GC} = process_info(self(), garbage_collection),
                                        Self ! {vheap, self(),
                                                proplists:get_value(min_bin_vheap_size, GC)}
                                end, Opts),
                  receive {vheap, _, V} -> V end
          end,
    #{requested_words => W,
      spawn_opt_alone => Get([{min_bin_vheap_size, W}]),
      spawn_opt_with_fullsweep_after => Get([{min_bin_vheap_size, W}, {fullsweep_after, 65535}])}.

%% In a fresh process that sets its own allowance first, as a user would.
gc_measure(Cfg, Id, Env, W, Arg, Words) ->
    Self = self(),
    {Pid, MRef} = spawn_monitor(
                    fun() ->
                            Words =:= default orelse process_flag(min_bin_vheap_size, Words),
                            Self ! {gc_result, self(), gc_worker(Cfg, Id, Env, W, Arg)}
                    end),
    receive
        {gc_result, Pid, R} ->
            erlang:demonitor(MRef, [flush]),
            R;
        {'DOWN', MRef, process, Pid, Why} ->
            #{median => null, gcs_per_call => null,
              error => iolist_to_binary(io_lib:format("~0tP", [Why, 10]))}
    end.

gc_worker(Cfg, Id, Env, W, Arg) ->
    N = calibrate(Id, Env, W, Arg, maps:get(batch_ns, Cfg)),
    Runs = [begin
                erlang:garbage_collect(),
                {G0, _, _} = erlang:statistics(garbage_collection),
                T = timed(Id, Env, W, N, Arg),
                {G1, _, _} = erlang:statistics(garbage_collection),
                {T / N, G1 - G0}
            end || _ <- lists:seq(1, maps:get(gc_rounds, Cfg))],
    {_, Info} = erlang:process_info(self(), garbage_collection_info),
    {_, MinBin} = lists:keyfind(min_bin_vheap_size,1,
                                element(2, erlang:process_info(self(), garbage_collection))),
    Ns = [X || {X, _} <- Runs],
    (stats(Ns))#{samples => Ns, calls_per_batch => N,
                 gcs_per_call => lists:sum([G || {_, G} <- Runs]) / (N * length(Runs)),
                 min_bin_vheap_size_words => MinBin,
                 bin_vheap_block_size_words => proplists:get_value(bin_vheap_block_size, Info)}.

%% ===========================================================================
%% Phase 4: erlang:memory(binary) growth after GC
%% ===========================================================================

binary_memory(Cfg, Live) ->
    S = maps:get(mem_size, Cfg),
    N = maps:get(mem_calls, Cfg),
    P = payload(S),
    say("~nBinary memory growth after GC (~b calls of ~s):~n", [N, size_label(S)]),
    lists:flatmap(
      fun(W) ->
              Arg = arg(W, P),
              Cells = [binary_memory_one(Id, Env, W, N, S, Arg) || {Id, Env} <- Live,
                                                                   applies(Id, W),
                                                                   skip(Id, W, S) =:= run],
              say("  ~-8s", [W]),
              [say(" ~s=~s", [Id, fmt_bytes(G)]) || #{contender := Id, growth := G} <- Cells],
              say("~n", []),
              Cells
      end, ?WORKLOADS).

binary_memory_one(Id, Env, W, N, S, Arg) ->
    arm({binary_memory, Id, W}),
    B0 = settled_binary_memory(),
    ok = batch(Id, Env, W, N, Arg),
    B1 = settled_binary_memory(),
    #{contender => Id, workload => W, size => S, calls => N,
      before => B0, 'after' => B1, growth => B1 - B0}.

%% After a GC of every process (the caller included), and a moment for worker
%% threads to drop their references.
settled_binary_memory() ->
    gc_all(),
    timer:sleep(20),
    gc_all(),
    erlang:memory(binary).

gc_all() ->
    [erlang:garbage_collect(P) || P <- erlang:processes()],
    ok.

%% ===========================================================================
%% Phase 5: peak RSS around a big round trip, one fresh VM per contender
%% ===========================================================================

%% VmHWM cannot be lowered from inside a VM that has already held big data,
%% except by writing 5 to /proc/self/clear_refs (Linux 4.0+), and the
%% allocators keep freed memory cached. So each contender runs in its own VM:
%% baseline RSS after start-up and set-up, then the payload is made, then the
%% peak is taken over `rss_iters' identity round trips.
rss(Cfg, Ids0) ->
    S = maps:get(rss_size, Cfg),
    Ids = case maps:get(rss_only, Cfg, all) of
              all -> Ids0;
              Only -> [Id || Id <- Ids0, lists:member(Id, Only)]
          end,
    say("~nPeak RSS, ~s identity round trip (fresh VM per contender):~n", [size_label(S)]),
    [rss_one(Cfg, Id, S) || Id <- Ids].

rss_one(Cfg, Id, S) ->
    case skip(Id, identity, S) of
        {skip, Why} ->
            #{contender => Id, size => S, status => skipped, reason => Why};
        run ->
            arm({rss, Id}),
            Erl = os:find_executable("erl"),
            Paths = lists:usort([filename:absname(filename:dirname(code:which(M)))
                                 || M <- [nocopy, nocopy_bench, nc_bench]]),
            Args = ["-noshell", "-pa" | Paths] ++
                ["-run", "nocopy_bench", "rss_child", atom_to_list(Id),
                 integer_to_list(S), integer_to_list(maps:get(rss_iters, Cfg))],
            Port = open_port({spawn_executable, Erl},
                             [{args, Args}, exit_status, stderr_to_stdout, binary,
                              {line, 65536}]),
            {Status, Lines} = collect(Port, []),
            R = case [L || <<"RSS-RESULT ", L/binary>> <- Lines] of
                    [Term | _] ->
                        {ok, Toks, _} = erl_scan:string(binary_to_list(Term) ++ "."),
                        {ok, M} = erl_parse:parse_term(Toks),
                        M#{status => ok};
                    [] ->
                        #{status => failed,
                          reason => iolist_to_binary(
                                      io_lib:format("exit ~p: ~ts", [Status, lists:join("\n", Lines)]))}
                end,
            R1 = R#{contender => Id, size => S},
            case R1 of
                #{peak_over_base := Over} ->
                    say("  ~-15s peak - base = ~s (payload ~s)~n",
                        [Id, fmt_bytes(Over), fmt_bytes(S)]);
                #{reason := Why} ->
                    say("  ~-15s FAILED ~ts~n", [Id, Why])
            end,
            R1
    end.

collect(Port, Acc) ->
    receive
        {Port, {data, {_, Line}}} -> collect(Port, [Line | Acc]);
        {Port, {exit_status, St}} -> {St, lists:reverse(Acc)}
    end.
