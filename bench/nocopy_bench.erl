%% @doc The nocopy benchmark driver (`make bench', `make bench-quick').
%%
%% Runs every contender side by side in one VM, on the same workloads, and
%% writes results.json, results.md and the gnuplot inputs of latency.png into
%% the output directory. See bench/README.md for what each contender is and
%% how to read the results.
%%
%% Method, in short:
%% <ul>
%% <li>Latency: for each payload size and workload, each contender gets a
%%     calibrated batch size (about `batch_ms' per batch); then `rounds' rounds
%%     run every contender's batch once, in a new random order each round, so
%%     that noise on this shared machine hits all of them alike. Reported: the
%%     median, quartiles and extremes of ns per call over the rounds; ratios are
%%     medians of per-round ratios (paired).</li>
%% <li>Concurrency: N caller processes share one context (and one port) and
%%     call for a fixed time; calls per second over the wall time.</li>
%% <li>Memory: `erlang:memory(binary)' before and after a run of calls, both
%%     after a GC of every process; peak RSS (VmHWM) of a fresh VM per contender
%%     around a 256 MiB round trip.</li>
%% <li>GC step: results that are new references to a large binary charge the
%%     receiver's binary virtual heap; measured with and without raising
%%     `min_bin_vheap_size'.</li>
%% </ul>
%% Nothing here asserts timing: targets are reported, met or missed, with the
%% numbers.
%%
%% This module holds the entry points (the run, the fresh-VM RSS child, the
%% profiling helpers), the configuration and the machine's description. The
%% contenders and how to call them are in nocopy_bench_contenders, the phases
%% in nocopy_bench_phases, the report in nocopy_bench_report (which see).
-module(nocopy_bench).

-export([main/1, rss_child/1, profile/1, prof_requests/1, prof_hand_requests/1]).

-include("nocopy_bench.hrl").

-import(nocopy_bench_contenders, [contenders/0, init/1, one/4, batch/5, now_ns/0, payload/1,
                                  pieces/1, arg/2, check/4]).
-import(nocopy_bench_phases, [say/2]).
-import(nocopy_bench_stats, [fmt_ns/1, size_label/1]).

%% ===========================================================================
%% Configuration
%% ===========================================================================

config(full) ->
    #{mode => full,
      sizes => [0, 64, 256, 4 * ?KiB, 64 * ?KiB, ?MiB, 16 * ?MiB, 256 * ?MiB],
      rounds => 15,
      batch_ns => 10000000,
      conc_procs => [1, 2, 4, 16, 64],
      conc_ms => 200,
      conc_rounds => 9,
      conc_size => 4 * ?KiB,
      mem_size => ?MiB,
      mem_calls => 200,
      rss_size => 256 * ?MiB,
      rss_iters => 3,
      gc_sizes => [4 * ?KiB, 256 * ?KiB, ?MiB, 16 * ?MiB],
      gc_rounds => 7,
      timeout_ms => 600000};
config(quick) ->
    #{mode => quick,
      sizes => [0, 64, 4 * ?KiB, 64 * ?KiB],
      rounds => 2,
      batch_ns => 200000,
      conc_procs => [1, 4],
      conc_ms => 20,
      conc_rounds => 1,
      conc_size => 4 * ?KiB,
      mem_size => 64 * ?KiB,
      mem_calls => 10,
      rss_size => ?MiB,
      rss_iters => 1,
      rss_only => [nc_nif, nc_drv],
      gc_sizes => [4 * ?KiB, ?MiB],
      gc_rounds => 1,
      timeout_ms => 60000}.

%% ===========================================================================
%% Entry points
%% ===========================================================================

-spec main([string()]) -> no_return().
main([Mode, OutDir]) when Mode =:= "full"; Mode =:= "quick" ->
    try run(list_to_atom(Mode), OutDir) of
        ok -> halt(0)
    catch
        C:E:St ->
            io:format(standard_error, "nocopy_bench: ~p:~0tp~n~p~n", [C, E, St]),
            halt(1)
    end;
main(_) ->
    io:format(standard_error, "usage: nocopy_bench full|quick OutDir~n", []),
    halt(2).

run(Mode, OutDir) ->
    Cfg = config(Mode),
    T0 = now_ns(),
    ok = nocopy_bench_phases:watchdog_start(maps:get(timeout_ms, Cfg)),
    Machine = machine(),
    say("nocopy benchmark, ~p mode: ~s~n", [Mode, maps:get(summary, Machine)]),
    Inits = [{Id, init(Id)} || {Id, _, _, _} <- contenders()],
    Live = [{Id, Env} || {Id, {ok, Env}} <- Inits],
    Unavailable = [{Id, Why} || {Id, {error, Why}} <- Inits],
    [say("  ~s: NOT AVAILABLE: ~ts~n", [Id, Why]) || {Id, Why} <- Unavailable],
    Latency = nocopy_bench_phases:latency(Cfg, Live),
    Flat = nocopy_bench_phases:flat(Cfg, Live),
    Conc = nocopy_bench_phases:concurrency(Cfg, Live),
    Gc = nocopy_bench_phases:gc_step(Cfg, Live),
    Mem = nocopy_bench_phases:binary_memory(Cfg, Live),
    Rss = nocopy_bench_phases:rss(Cfg, [Id || {Id, _} <- Live]),
    _ = [catch bench_ports:close(P) || {_, #{port := P}} <- Live, is_port(P)],
    Results0 = #{machine => maps:remove(summary, Machine),
                 mode => Mode,
                 config => maps:without([mode], Cfg),
                 duration_s => (now_ns() - T0) / 1.0e9,
                 contenders => [#{id => Id, label => L, group => G, kind => K,
                                  available => lists:keymember(Id, 1, Live),
                                  reason => proplists:get_value(Id, Unavailable, null)}
                                || {Id, L, G, K} <- contenders()],
                 latency => Latency,
                 flat => Flat,
                 concurrency => Conc,
                 gc_step => Gc,
                 gc_spawn_opt => nocopy_bench_phases:spawn_opt_check(),
                 binary_memory => Mem,
                 rss => Rss},
    Results = Results0#{targets => nocopy_bench_targets:targets(Results0)},
    ok = nocopy_bench_phases:watchdog_stop(),
    ok = nocopy_bench_report:write_all(OutDir, Results),
    say("~nTargets:~n", []),
    [say("  ~-12s ~ts: ~ts~n", [V, Name, Text])
     || #{name := Name, verdict := V, text := Text} <- maps:get(targets, Results)],
    say("~nwrote ~s/results.json, results.md, latency.gp (~b s)~n",
        [OutDir, round((now_ns() - T0) / 1.0e9)]),
    ok.

%% ===========================================================================
%% Entry points for one contender: the fresh-VM RSS child, profilers
%% ===========================================================================

%% @doc Runs in a fresh VM: `erl -run nocopy_bench rss_child Id Size Iters'.
-spec rss_child([string()]) -> no_return().
rss_child([IdS, SizeS, ItersS]) ->
    Id = list_to_atom(IdS),
    S = list_to_integer(SizeS),
    Iters = list_to_integer(ItersS),
    {ok, Env} = init(Id),
    Warm = payload(4096),
    {true, _} = check(identity, one(Id, Env, identity, Warm), Warm, Warm),
    erlang:garbage_collect(),
    Base = vm_kb("VmRSS") * 1024,
    P = payload(S),
    WithPayload = vm_kb("VmRSS") * 1024,
    Reset = file:write_file("/proc/self/clear_refs", <<"5">>),
    HwmBefore = vm_kb("VmHWM") * 1024,
    Last = rss_loop(Id, Env, P, Iters, undefined),
    Peak = vm_kb("VmHWM") * 1024,
    After = vm_kb("VmRSS") * 1024,
    Bin = erlang:memory(binary),
    Ok = check(identity, Last, P, P),
    R = #{base_rss => Base, rss_with_payload => WithPayload, hwm_reset => Reset =:= ok,
          hwm_before_calls => HwmBefore, peak_rss => Peak, rss_after => After,
          peak_over_base => Peak - Base, peak_over_payload_rss => Peak - WithPayload,
          binary_memory => Bin, iters => Iters, result_ok => element(1, Ok),
          zero_copy => element(2, Ok)},
    io:format("RSS-RESULT ~w~n", [R]),
    halt(0).

%% @doc For profilers: `erl -run nocopy_bench profile Id Workload Size Calls'
%% sets up one contender and makes Calls calls of one workload, then halts.
%% Run it twice with different Calls under `valgrind --tool=callgrind' and
%% divide the difference in instructions by the difference in calls; or under
%% `perf record' (see bench/README.md).
-spec profile([string()]) -> no_return().
profile([IdS, WS, SizeS, CallsS]) ->
    Id = list_to_atom(IdS),
    W = list_to_atom(WS),
    S = list_to_integer(SizeS),
    {ok, Env} = init(Id),
    P = payload(S),
    Arg = arg(W, P),
    {true, _} = check(W, one(Id, Env, W, Arg), P, Arg),
    T0 = now_ns(),
    ok = batch(Id, Env, W, list_to_integer(CallsS), Arg),
    io:format("~s ~s ~s: ~s per call~n",
              [Id, W, size_label(S), fmt_ns((now_ns() - T0) / max(1, list_to_integer(CallsS)))]),
    halt(0).

%% @doc For bench/prof/drv_prof.c: `erl -run nocopy_bench prof_requests Dir
%% Size' writes the nocopy driver requests of the workloads (and of new_ctx,
%% which makes the seed call's handle) as outputv would receive them: small
%% data merged into copied runs, each binary over 64 bytes in its own entry
%% (requests here have fewer than 16 entries, so the runtime packs nothing).
-spec prof_requests([string()]) -> no_return().
prof_requests([Dir, SizeS]) ->
    P = payload(list_to_integer(SizeS)),
    {ok, Port} = nc_bench_drv:open(),
    Ctx = nc_bench_drv:new_ctx(Port),
    Reqs = [{"new_ctx", []},
            {"identity", [P]},
            {"seed", [Ctx, ?QOP, P]},
            {"seed_calls", [Ctx, ?QOP, P]},
            {"iodata", [pieces(P)]}],
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    %% Each request as the stub makes it: its own encoder (an iodata argument
    %% goes as its bytes, which nocopy_wire:request/5 would not do).
    [ok = file:write_file(filename:join(Dir, Name ++ ".req"),
                          segments(apply(nc_bench_drv, list_to_atom("$nocopy_request_" ++ Name),
                                         [Port, 42 | Args])))
     || {Name, Args} <- Reqs],
    halt(0).

%% @doc The same for bench/hand_drv.c (bench_proto.h requests); new_ctx.req,
%% which drv_prof runs first, is an empty identity call there.
-spec prof_hand_requests([string()]) -> no_return().
prof_hand_requests([Dir, SizeS]) ->
    P = payload(list_to_integer(SizeS)),
    Reqs = [{"new_ctx", [<<1, 0:32, 0:32>>, <<>>]},
            {"identity", [<<1, 0:32, 0:32>>, P]},
            {"seed", [<<2, 0:32, ?QOP:32>>, P]},
            {"seed_calls", [<<2, 0:32, ?QOP:32>>, P]},
            {"iodata", [<<3, 0:32, 0:32>> | pieces(P)]}],
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    [ok = file:write_file(filename:join(Dir, Name ++ ".req"), segments(Req))
     || {Name, Req} <- Reqs],
    halt(0).

segments(IoList) ->
    {Segs, Run} = lists:foldl(
                    fun(B, {Acc, R}) when byte_size(B) > 64 -> {[{1, B}, {0, R} | Acc], <<>>};
                       (B, {Acc, R}) -> {Acc, <<R/binary, B/binary>>}
                    end, {[], <<>>}, leaves(IoList)),
    [<<K, (byte_size(B)):32, B/binary>> || {K, B} <- lists:reverse([{0, Run} | Segs]),
                                           byte_size(B) > 0].

leaves(B) when is_binary(B) -> [B];
leaves(I) when is_integer(I) -> [<<I>>];
leaves([H | T]) -> leaves(H) ++ leaves(T);
leaves([]) -> [].

rss_loop(_, _, _, 0, Last) -> Last;
rss_loop(Id, Env, P, N, _) -> rss_loop(Id, Env, P, N - 1, one(Id, Env, identity, P)).

vm_kb(Field) ->
    {ok, Status} = file:read_file("/proc/self/status"),
    F = list_to_binary(Field),
    [V] = [V || <<K:(byte_size(F))/binary, ":", V/binary>> <- binary:split(Status, <<"\n">>, [global]),
                K =:= F],
    [Num | _] = string:lexemes(binary_to_list(V), " \t"),
    list_to_integer(Num).

%% ===========================================================================
%% Machine
%% ===========================================================================

machine() ->
    Cpu = case file:read_file("/proc/cpuinfo") of
              {ok, Info} ->
                  case [string:trim(V) || L <- string:split(binary_to_list(Info), "\n", all),
                                          [K, V] <- [string:split(L, ":")],
                                          string:trim(K) =:= "model name"] of
                      [Model | _] -> list_to_binary(Model);
                      [] -> <<"unknown">>
                  end;
              _ -> <<"unknown">>
          end,
    Nproc = erlang:system_info(logical_processors_available),
    MemKb = case file:read_file("/proc/meminfo") of
                {ok, MI} ->
                    case re:run(MI, "MemTotal:\\s+(\\d+)", [{capture, all_but_first, list}]) of
                        {match, [K]} -> list_to_integer(K);
                        _ -> 0
                    end;
                _ -> 0
            end,
    Kernel = string:trim(os:cmd("uname -sr")),
    Commit = string:trim(os:cmd("git rev-parse --short HEAD 2>/dev/null")),
    %% Library files that differ from that commit, found read-only (no index
    %% refresh): the results describe the tree that was built.
    Changed = string:lexemes(
                os:cmd("git ls-tree -r HEAD c_src include src 2>/dev/null | "
                       "while read mode type hash path; do "
                       "[ \"$(git hash-object \"$path\" 2>/dev/null)\" = \"$hash\" ] "
                       "|| echo \"$path\"; done"), "\n"),
    Otp = erlang:system_info(otp_release),
    Erts = erlang:system_info(version),
    Date = list_to_binary(calendar:system_time_to_rfc3339(erlang:system_time(second))),
    M = #{nproc => Nproc, cpu => Cpu, mem_gib => round(MemKb / 1048576),
          kernel => list_to_binary(Kernel), otp => list_to_binary(Otp),
          erts => list_to_binary(Erts), emu_flavor => erlang:system_info(emu_flavor),
          schedulers => erlang:system_info(schedulers),
          dirty_cpu_schedulers => erlang:system_info(dirty_cpu_schedulers),
          dirty_io_schedulers => erlang:system_info(dirty_io_schedulers),
          async_threads => erlang:system_info(thread_pool_size),
          min_bin_vheap_size_words => element(2, lists:keyfind(min_bin_vheap_size, 1,
                                                                erlang:system_info(garbage_collection))),
          date => Date, commit => list_to_binary(Commit),
          uncommitted_library_changes => [list_to_binary(F) || F <- Changed]},
    Summary = io_lib:format("~b CPUs (~ts), ~b GiB, ~ts; Erlang/OTP ~ts (erts ~ts, ~p), "
                            "~b schedulers, ~b dirty CPU",
                            [Nproc, Cpu, maps:get(mem_gib, M), Kernel, Otp, Erts,
                             erlang:system_info(emu_flavor), erlang:system_info(schedulers),
                             erlang:system_info(dirty_cpu_schedulers)]),
    M#{summary => lists:flatten(Summary)}.
