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
-module(nocopy_bench).

-export([main/1, rss_child/1, profile/1, prof_requests/1, prof_hand_requests/1,
         contenders/0, skip/3,
         gc_settings/0]).

-import(nocopy_bench_report, [stats/1, median/1, fmt_ns/1, fmt_rate/1, fmt_bytes/1,
                              size_label/1]).

-define(QOP, 1).
-define(KiB, 1024).
-define(MiB, 1048576).
-define(WORKLOADS, [identity, seed, iodata]).
-define(PIECES, 64).             % pieces of the iodata workload
-define(MAX_N, 4000000).         % calls per batch, at most
-define(CONC_K, 8).              % calls between clock reads under concurrency
-define(EXT_MAX, 16 * ?MiB).     % largest payload for the external port program

%% ===========================================================================
%% Configuration
%% ===========================================================================

config(full) ->
    #{mode => full,
      sizes => [0, 64, 256, 4 * ?KiB, 64 * ?KiB, ?MiB, 16 * ?MiB, 256 * ?MiB],
      rounds => 15,
      batch_ns => 10000000,
      conc_procs => [1, 2, 4, 16, 64],
      conc_ms => 300,
      conc_rounds => 3,
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
%% Contenders
%% ===========================================================================

%% {Id, Label, Group, Kind}. Group: nocopy | hand | copy | reference.
contenders() ->
    [{nc_nif, <<"nocopy NIF">>, nocopy, nif},
     {nc_nif_dirty, <<"nocopy NIF, dirty CPU">>, nocopy, nif},
     {nc_drv, <<"nocopy driver, inline">>, nocopy, drv},
     {nc_drv_async, <<"nocopy driver, worker thread">>, nocopy, drv},
     {hand_nif, <<"hand NIF">>, hand, nif},
     {hand_nif_dirty, <<"hand NIF, dirty CPU">>, hand, nif},
     {hand_drv, <<"hand outputv driver, inline">>, hand, drv},
     {hand_drv_async, <<"hand outputv driver, worker thread">>, hand, drv},
     {copy_nif, <<"copying NIF (flatten + copy)">>, copy, nif},
     {copy_drv, <<"driver without outputv (flatten + copy)">>, copy, drv},
     {port_call, <<"port_call, external term format">>, copy, drv},
     {ext_port, <<"external port program, {packet,4}">>, copy, ext},
     {erl_local, <<"pure Erlang, same work (reference)">>, reference, erlang}].

%% @doc Contenders skipped at some sizes, and why (reported in the results).
skip(ext_port, _W, S) when S > ?EXT_MAX ->
    {skip, <<"an external port round trip of 256 MiB pushes 512 MiB through two pipes "
             "and copies it four times (about 1 s per call, minutes per cell); "
             "measured up to 16 MiB">>};
skip(_, _, _) ->
    run.

%% ---- set-up: {ok, Env} | {error, Reason} ------------------------------------

init(Id) ->
    try init1(Id)
    catch C:E:St -> {error, iolist_to_binary(io_lib:format("~p:~0tp at ~0tp", [C, E, hd(St)]))}
    end.

init1(Id) when Id =:= nc_nif; Id =:= nc_nif_dirty ->
    {ok, #{ctx => nc_bench:new_ctx()}};
init1(Id) when Id =:= hand_nif; Id =:= hand_nif_dirty ->
    {ok, #{ctx => hand_nif:new_ctx()}};
init1(copy_nif) ->
    {ok, #{ctx => copy_nif:new_ctx()}};
init1(Id) when Id =:= nc_drv; Id =:= nc_drv_async ->
    case nc_bench_drv:open() of
        {ok, Port} -> {ok, #{port => Port, ctx => nc_bench_drv:new_ctx(Port)}};
        Error -> {error, iolist_to_binary(io_lib:format("nc_bench_drv:open() -> ~0tp", [Error]))}
    end;
init1(hand_drv) -> driver_init("hand_drv");
init1(hand_drv_async) -> driver_init("hand_drv_async");
init1(copy_drv) -> driver_init("copy_drv");
init1(port_call) -> driver_init("call_drv");
init1(ext_port) ->
    case bench_ports:ext_open() of
        {ok, Port} -> {ok, #{port => Port, ctx => 0}};
        Error -> Error
    end;
init1(erl_local) ->
    {ok, #{ctx => 0}}.

driver_init(Name) ->
    case bench_ports:open_driver(Name) of
        {ok, Port} -> {ok, #{port => Port, ctx => 0}};
        {error, E} -> {error, iolist_to_binary(io_lib:format("~ts: ~0tp", [Name, E]))}
    end.

%% ---- one call, for checks and the RSS child -----------------------------------

one(nc_nif, _, identity, B) -> nc_bench:identity(B);
one(nc_nif, #{ctx := C}, seed, B) -> nc_bench:seed(C, ?QOP, B);
one(nc_nif, _, iodata, D) -> nc_bench:iodata(D);
one(nc_nif_dirty, _, identity, B) -> nc_bench:identity_dirty(B);
one(nc_nif_dirty, #{ctx := C}, seed, B) -> nc_bench:seed_dirty(C, ?QOP, B);
one(nc_nif_dirty, _, iodata, D) -> nc_bench:iodata_dirty(D);
one(nc_drv, #{port := P}, identity, B) -> nc_bench_drv:identity(P, B);
one(nc_drv, #{port := P, ctx := C}, seed, B) -> nc_bench_drv:seed(P, C, ?QOP, B);
one(nc_drv, #{port := P}, iodata, D) -> nc_bench_drv:iodata(P, D);
one(nc_drv_async, #{port := P}, identity, B) -> nc_bench_drv:identity_dirty(P, B);
one(nc_drv_async, #{port := P, ctx := C}, seed, B) -> nc_bench_drv:seed_dirty(P, C, ?QOP, B);
one(nc_drv_async, #{port := P}, iodata, D) -> nc_bench_drv:iodata_dirty(P, D);
one(hand_nif, _, identity, B) -> hand_nif:identity(B);
one(hand_nif, #{ctx := C}, seed, B) -> hand_nif:seed(C, ?QOP, B);
one(hand_nif, _, iodata, D) -> hand_nif:iodata(D);
one(hand_nif_dirty, _, identity, B) -> hand_nif:identity_dirty(B);
one(hand_nif_dirty, #{ctx := C}, seed, B) -> hand_nif:seed_dirty(C, ?QOP, B);
one(hand_nif_dirty, _, iodata, D) -> hand_nif:iodata_dirty(D);
one(copy_nif, _, identity, B) -> copy_nif:identity(B);
one(copy_nif, #{ctx := C}, seed, B) -> copy_nif:seed(C, ?QOP, B);
one(copy_nif, _, iodata, D) -> copy_nif:iodata(D);
one(Id, #{port := P}, identity, B) when Id =:= hand_drv; Id =:= hand_drv_async; Id =:= copy_drv ->
    bench_ports:drv_identity(P, B);
one(Id, #{port := P}, seed, B) when Id =:= hand_drv; Id =:= hand_drv_async; Id =:= copy_drv ->
    bench_ports:drv_seed(P, 0, ?QOP, B);
one(Id, #{port := P}, iodata, D) when Id =:= hand_drv; Id =:= hand_drv_async; Id =:= copy_drv ->
    bench_ports:drv_iodata(P, D);
one(port_call, #{port := P}, identity, B) -> bench_ports:call_identity(P, B);
one(port_call, #{port := P}, seed, B) -> bench_ports:call_seed(P, 0, ?QOP, B);
one(port_call, #{port := P}, iodata, D) -> bench_ports:call_iodata(P, D);
one(ext_port, #{port := P}, identity, B) -> bench_ports:ext_identity(P, B);
one(ext_port, #{port := P}, seed, B) -> bench_ports:ext_seed(P, 0, ?QOP, B);
one(ext_port, #{port := P}, iodata, D) -> bench_ports:ext_iodata(P, D);
one(erl_local, _, identity, B) -> erl_identity(B);
one(erl_local, _, seed, B) -> erl_seed(0, ?QOP, B);
one(erl_local, _, iodata, D) -> erl_iodata(D).

%% The reference: the same work in plain Erlang (local calls, no native code).
erl_identity(B) when is_binary(B) -> B.
erl_seed(_Ctx, Qop, Msg) when is_binary(Msg) ->
    Minor = case Msg of <<B, _/binary>> -> B; <<>> -> 0 end,
    {0, Minor, Qop =/= 0, Qop, Msg}.
erl_iodata(D) -> iolist_size(D).

%% ---- batches: N calls, each a direct call in a tail-recursive loop -------------
%% No funs in the timed loop: each contender's loop calls its function directly.

-define(L1(Name, Call), Name(0, _) -> ok; Name(N, X) -> _ = Call(X), Name(N - 1, X)).
-define(L2(Name, Call), Name(0, _, _) -> ok; Name(N, P, X) -> _ = Call(P, X), Name(N - 1, P, X)).
-define(LQ(Name, Call), Name(0, _, _) -> ok; Name(N, C, X) -> _ = Call(C, ?QOP, X), Name(N - 1, C, X)).
-define(LPQ(Name, Call),
        Name(0, _, _, _) -> ok;
        Name(N, P, C, X) -> _ = Call(P, C, ?QOP, X), Name(N - 1, P, C, X)).

?L1(nc_nif_id, nc_bench:identity).
?LQ(nc_nif_seed, nc_bench:seed).
?L1(nc_nif_io, nc_bench:iodata).
?L1(nc_nif_blob, nc_bench:blob_get).
?L1(nc_nifd_id, nc_bench:identity_dirty).
?LQ(nc_nifd_seed, nc_bench:seed_dirty).
?L1(nc_nifd_io, nc_bench:iodata_dirty).
?L2(nc_drv_id, nc_bench_drv:identity).
?LPQ(nc_drv_seed, nc_bench_drv:seed).
?L2(nc_drv_io, nc_bench_drv:iodata).
?L2(nc_drv_blob, nc_bench_drv:blob_get).
?L2(nc_drva_id, nc_bench_drv:identity_dirty).
?LPQ(nc_drva_seed, nc_bench_drv:seed_dirty).
?L2(nc_drva_io, nc_bench_drv:iodata_dirty).
?L1(hand_nif_id, hand_nif:identity).
?LQ(hand_nif_seed, hand_nif:seed).
?L1(hand_nif_io, hand_nif:iodata).
?L1(hand_nifd_id, hand_nif:identity_dirty).
?LQ(hand_nifd_seed, hand_nif:seed_dirty).
?L1(hand_nifd_io, hand_nif:iodata_dirty).
?L1(copy_nif_id, copy_nif:identity).
?LQ(copy_nif_seed, copy_nif:seed).
?L1(copy_nif_io, copy_nif:iodata).
?L2(drv_id, bench_ports:drv_identity).
?LPQ(drv_seed, bench_ports:drv_seed).
?L2(drv_io, bench_ports:drv_iodata).
?L2(call_id, bench_ports:call_identity).
?LPQ(call_seed, bench_ports:call_seed).
?L2(call_io, bench_ports:call_iodata).
?L2(ext_id, bench_ports:ext_identity).
?LPQ(ext_seed, bench_ports:ext_seed).
?L2(ext_io, bench_ports:ext_iodata).
?L1(erl_id, erl_identity).
?LQ(erl_seed_l, erl_seed).
?L1(erl_io, erl_iodata).

batch(nc_nif, _, identity, N, A) -> nc_nif_id(N, A);
batch(nc_nif, #{ctx := C}, seed, N, A) -> nc_nif_seed(N, C, A);
batch(nc_nif, _, iodata, N, A) -> nc_nif_io(N, A);
batch(nc_nif, _, blob, N, A) -> nc_nif_blob(N, A);
batch(nc_nif_dirty, _, identity, N, A) -> nc_nifd_id(N, A);
batch(nc_nif_dirty, #{ctx := C}, seed, N, A) -> nc_nifd_seed(N, C, A);
batch(nc_nif_dirty, _, iodata, N, A) -> nc_nifd_io(N, A);
batch(nc_drv, #{port := P}, identity, N, A) -> nc_drv_id(N, P, A);
batch(nc_drv, #{port := P, ctx := C}, seed, N, A) -> nc_drv_seed(N, P, C, A);
batch(nc_drv, #{port := P}, iodata, N, A) -> nc_drv_io(N, P, A);
batch(nc_drv, #{port := P}, blob, N, A) -> nc_drv_blob(N, P, A);
batch(nc_drv_async, #{port := P}, identity, N, A) -> nc_drva_id(N, P, A);
batch(nc_drv_async, #{port := P, ctx := C}, seed, N, A) -> nc_drva_seed(N, P, C, A);
batch(nc_drv_async, #{port := P}, iodata, N, A) -> nc_drva_io(N, P, A);
batch(hand_nif, _, identity, N, A) -> hand_nif_id(N, A);
batch(hand_nif, #{ctx := C}, seed, N, A) -> hand_nif_seed(N, C, A);
batch(hand_nif, _, iodata, N, A) -> hand_nif_io(N, A);
batch(hand_nif_dirty, _, identity, N, A) -> hand_nifd_id(N, A);
batch(hand_nif_dirty, #{ctx := C}, seed, N, A) -> hand_nifd_seed(N, C, A);
batch(hand_nif_dirty, _, iodata, N, A) -> hand_nifd_io(N, A);
batch(copy_nif, _, identity, N, A) -> copy_nif_id(N, A);
batch(copy_nif, #{ctx := C}, seed, N, A) -> copy_nif_seed(N, C, A);
batch(copy_nif, _, iodata, N, A) -> copy_nif_io(N, A);
batch(Id, #{port := P}, identity, N, A) when Id =:= hand_drv; Id =:= hand_drv_async;
                                            Id =:= copy_drv ->
    drv_id(N, P, A);
batch(Id, #{port := P}, seed, N, A) when Id =:= hand_drv; Id =:= hand_drv_async;
                                        Id =:= copy_drv ->
    drv_seed(N, P, 0, A);
batch(Id, #{port := P}, iodata, N, A) when Id =:= hand_drv; Id =:= hand_drv_async;
                                          Id =:= copy_drv ->
    drv_io(N, P, A);
batch(port_call, #{port := P}, identity, N, A) -> call_id(N, P, A);
batch(port_call, #{port := P}, seed, N, A) -> call_seed(N, P, 0, A);
batch(port_call, #{port := P}, iodata, N, A) -> call_io(N, P, A);
batch(ext_port, #{port := P}, identity, N, A) -> ext_id(N, P, A);
batch(ext_port, #{port := P}, seed, N, A) -> ext_seed(N, P, 0, A);
batch(ext_port, #{port := P}, iodata, N, A) -> ext_io(N, P, A);
batch(erl_local, _, identity, N, A) -> erl_id(N, A);
batch(erl_local, _, seed, N, A) -> erl_seed_l(N, 0, A);
batch(erl_local, _, iodata, N, A) -> erl_io(N, A).

now_ns() -> erlang:monotonic_time(nanosecond).

timed(Id, Env, W, N, Arg) ->
    T0 = now_ns(),
    ok = batch(Id, Env, W, N, Arg),
    now_ns() - T0.

%% One batch in a fresh process, as a typical caller: the receiver's heap and
%% binary-heap allowance (which the VM adapts after every GC) then start from
%% the defaults for every batch, instead of carrying over from whichever
%% contender ran before in the round (that carry-over made the GC step of
%% by-reference results come and go from round to round). The external port
%% program answers its owner only, so its port moves to the batch's process
%% and back (port_connect/2).
timed_fresh(Id, Env, W, N, Arg) ->
    Self = self(),
    Port = case Id of
               ext_port -> maps:get(port, Env);
               _ -> undefined
           end,
    {Pid, MRef} =
        spawn_monitor(fun() ->
                              receive go -> ok end,
                              T = timed(Id, Env, W, N, Arg),
                              Port =:= undefined orelse
                                  begin
                                      true = erlang:port_connect(Port, Self),
                                      unlink(Port)
                                  end,
                              Self ! {timed, self(), T}
                      end),
    Port =:= undefined orelse
        begin
            true = erlang:port_connect(Port, Pid),
            unlink(Port)
        end,
    Pid ! go,
    receive
        {timed, Pid, T} ->
            erlang:demonitor(MRef, [flush]),
            T;
        {'DOWN', MRef, process, Pid, Why} ->
            error({batch_failed, Id, W, Why})
    end.

%% A batch size that takes about Target ns (at least one call).
calibrate(Id, Env, W, Arg, Target) ->
    calibrate(Id, Env, W, Arg, Target, 1).

calibrate(Id, Env, W, Arg, Target, N) ->
    T = timed_fresh(Id, Env, W, N, Arg),
    if
        T * 4 >= Target; N >= ?MAX_N ->
            max(1, min(?MAX_N, (N * Target) div max(T, 1)));
        true ->
            calibrate(Id, Env, W, Arg, Target, N * 4)
    end.

%% ===========================================================================
%% Payloads
%% ===========================================================================

%% A binary of S bytes that is a plain (not writable) binary: a heap binary up
%% to 64 bytes, a refc binary above, as any caller would have.
payload(S) ->
    rand:seed(exsss, {17, 42, 4711}),
    Block = rand:bytes(4096),
    B = case S rem 4096 of
            0 -> binary:copy(Block, S div 4096);
            _ -> binary:copy(binary:part(Block, 0, S))     % S < 4096 here
        end,
    S = byte_size(B),
    B.

%% The iodata workload: the payload as a list of ?PIECES pieces (sub-binaries,
%% or heap binaries when small).
pieces(B) ->
    S = byte_size(B),
    Step = S div ?PIECES,
    [binary:part(B, I * Step, case I of ?PIECES - 1 -> S - I * Step; _ -> Step end)
     || I <- lists:seq(0, ?PIECES - 1)].

arg(iodata, B) -> pieces(B);
arg(_, B) -> B.

first(<<B, _/binary>>) -> B;
first(<<>>) -> 0.

%% Is R the right answer? {true, ZeroCopy} | {false, Why}. ZeroCopy says whether
%% the binary result shares the payload's bytes (null when not applicable).
check(identity, R, P, _) when R =:= P -> {true, same_bytes(R, P)};
check(seed, {0, Minor, true, ?QOP, Out} = R, P, _) when Out =:= P ->
    case Minor =:= first(P) of
        true -> {true, same_bytes(Out, P)};
        false -> {false, R}
    end;
check(iodata, R, _, Arg) when is_integer(R) ->
    case R =:= iolist_size(Arg) of
        true -> {true, null};
        false -> {false, R}
    end;
check(_, R, _, _) ->
    {false, R}.

same_bytes(A, B) when byte_size(B) > 64 -> nc_bench:address_of(A) =:= nc_bench:address_of(B);
same_bytes(_, _) -> null.

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
    Watchdog = watchdog_start(),
    put(watchdog, Watchdog),
    put(timeout_ms, maps:get(timeout_ms, Cfg)),
    Machine = machine(),
    say("nocopy benchmark, ~p mode: ~s~n", [Mode, maps:get(summary, Machine)]),
    Inits = [{Id, init(Id)} || {Id, _, _, _} <- contenders()],
    Live = [{Id, Env} || {Id, {ok, Env}} <- Inits],
    Unavailable = [{Id, Why} || {Id, {error, Why}} <- Inits],
    [say("  ~s: NOT AVAILABLE: ~ts~n", [Id, Why]) || {Id, Why} <- Unavailable],
    Latency = latency(Cfg, Live),
    Conc = concurrency(Cfg, Live),
    Gc = gc_step(Cfg, Live),
    Mem = binary_memory(Cfg, Live),
    Rss = rss(Cfg, [Id || {Id, _} <- Live]),
    [catch bench_ports:close(P) || {_, #{port := P}} <- Live, is_port(P)],
    Results0 = #{machine => maps:remove(summary, Machine),
                 mode => Mode,
                 config => maps:without([mode], Cfg),
                 duration_s => (now_ns() - T0) / 1.0e9,
                 contenders => [#{id => Id, label => L, group => G, kind => K,
                                  available => lists:keymember(Id, 1, Live),
                                  reason => proplists:get_value(Id, Unavailable, null)}
                                || {Id, L, G, K} <- contenders()],
                 latency => Latency,
                 concurrency => Conc,
                 gc_step => Gc,
                 gc_spawn_opt => spawn_opt_check(),
                 binary_memory => Mem,
                 rss => Rss},
    Results = Results0#{targets => nocopy_bench_report:targets(Results0)},
    watchdog_stop(),
    ok = nocopy_bench_report:write_all(OutDir, Results),
    say("~nTargets:~n", []),
    [say("  ~-12s ~ts: ~ts~n", [V, Name, Text])
     || #{name := Name, verdict := V, text := Text} <- maps:get(targets, Results)],
    say("~nwrote ~s/results.json, results.md, latency.gp (~b s)~n",
        [OutDir, round((now_ns() - T0) / 1.0e9)]),
    ok.

say(Fmt, Args) ->
    io:format(Fmt, Args).

%% A stuck contender (a driver that never answers) must not hang `make bench':
%% the watchdog halts the VM if one cell takes longer than timeout_ms.
watchdog_start() ->
    spawn_link(fun() -> watchdog(undefined, infinity) end).

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
    get(watchdog) ! {arm, What, get(timeout_ms)}.

watchdog_stop() ->
    get(watchdog) ! stop.

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
    {Run, Skipped} = lists:partition(fun({Id, _}) -> skip(Id, W, S) =:= run end, Live),
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

-define(CONC_IDS, [nc_nif, hand_nif, nc_nif_dirty, hand_nif_dirty,
                   nc_drv, hand_drv, nc_drv_async, hand_drv_async]).

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
    [Pid ! {go, Deadline} || Pid <- Pids],
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
                  spawn_opt(fun() ->
                                    {_, GC} = process_info(self(), garbage_collection),
                                    Self ! {vheap, self(), proplists:get_value(min_bin_vheap_size, GC)}
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
                                 || M <- [nocopy, ?MODULE, nc_bench]]),
            Args = ["-noshell", "-pa" | Paths] ++
                ["-run", atom_to_list(?MODULE), "rss_child", atom_to_list(Id),
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
    Table = filename:join([filename:dirname(filename:dirname(code:which(nc_bench))),
                           "gen", "nc_bench.nocopy"]),
    {ok, Terms} = file:consult(Table),
    Index = fun(Name) -> hd([I || {function, I, N, _, _, _, _, _, _} <- Terms, N =:= Name]) end,
    Reqs = [{"new_ctx", Index("new_ctx"), []},
            {"identity", Index("identity"), [P]},
            {"seed", Index("seed"), [Ctx, ?QOP, P]},
            {"iodata", Index("iodata"), [pieces(P)]}],
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    [ok = file:write_file(filename:join(Dir, Name ++ ".req"),
                          segments(nocopy_wire:request(Port, nc_bench_drv:'$fingerprint'(), 42,
                                                             I, Args)))
     || {Name, I, Args} <- Reqs],
    halt(0).

%% @doc The same for bench/hand_drv.c (bench_proto.h requests); new_ctx.req,
%% which drv_prof runs first, is an empty identity call there.
-spec prof_hand_requests([string()]) -> no_return().
prof_hand_requests([Dir, SizeS]) ->
    P = payload(list_to_integer(SizeS)),
    Reqs = [{"new_ctx", [<<1, 0:32, 0:32>>, <<>>]},
            {"identity", [<<1, 0:32, 0:32>>, P]},
            {"seed", [<<2, 0:32, ?QOP:32>>, P]},
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

