%% @doc results.md of the nocopy benchmark: the targets, the headline ratios,
%% the latency and ratio tables, calls per second under concurrency, memory,
%% the GC step, the contenders and the cells not run, from the results map.
-module(nocopy_bench_md).

-export([markdown/1]).

-include("nocopy_bench.hrl").

-import(nocopy_bench_stats, [cell/4, paired_ratio/2, label/1, median/1, fmt_ns/1, fmt_rate/1,
                             fmt_bytes/1, fmt_ratio/1, size_label/1]).

markdown(R) ->
    M = maps:get(machine, R),
    Cfg = maps:get(config, R),
    Lat = maps:get(latency, R),
    Avail = [Id || #{id := Id, available := true} <- maps:get(contenders, R)],
    Unavail = [C || #{available := false} = C <- maps:get(contenders, R)],
    Sizes = maps:get(sizes, Cfg),
    ["# nocopy benchmark results\n\n",
     io_lib:format("Measured ~ts with `make bench` (~s mode) at commit ~ts~ts, in ~b s.\n\n",
                   [maps:get(date, M), maps:get(mode, R), maps:get(commit, M),
                    case maps:get(uncommitted_library_changes, M, []) of
                        [] -> "";
                        Fs -> [" with uncommitted changes to ", lists:join(", ", Fs)]
                    end,
                    round(maps:get(duration_s, R))]),
     io_lib:format("Machine: ~b CPUs (~ts), ~b GiB RAM, ~ts. Erlang/OTP ~ts (erts ~ts, ~p), "
                   "~b schedulers, ~b dirty CPU and ~b dirty I/O schedulers, ~b async thread, "
                   "default emulator flags. The machine is shared and noisy: read the ratios "
                   "(paired within each round), not single numbers.\n\n",
                   [maps:get(nproc, M), maps:get(cpu, M), maps:get(mem_gib, M), maps:get(kernel, M),
                    maps:get(otp, M), maps:get(erts, M), maps:get(emu_flavor, M),
                    maps:get(schedulers, M), maps:get(dirty_cpu_schedulers, M),
                    maps:get(dirty_io_schedulers, M), maps:get(async_threads, M)]),
     [["Not available in this run:\n\n",
       [io_lib:format("- ~ts: ~ts\n", [L, Why]) || #{label := L, reason := Why} <- Unavail],
       "\n"] || Unavail =/= []],
     "## Targets\n\n",
     "| target | verdict | numbers |\n|---|---|---|\n",
     [io_lib:format("| ~ts | **~s** | ~ts |\n", [N, V, T])
      || #{name := N, verdict := V, text := T} <- maps:get(targets, R)],
     "\n",
     missed_md([N || #{note := N} <- maps:get(targets, R)]),
     headline_md(Lat, Sizes),
     latency_md(Lat, Sizes, Avail, Cfg),
     ratio_md(Lat, Sizes),
     conc_md(maps:get(concurrency, R)),
     memory_md(maps:get(binary_memory, R), maps:get(rss, R)),
     gc_md(maps:get(gc_step, R), M, maps:get(gc_spawn_opt, R)),
     contenders_md(),
     skipped_md(Lat)].

%% Why the missed targets are missed, where it is known.
missed_md([]) -> [];
missed_md(Notes) ->
    ["Where a target is missed, the cost as profiled:\n\n",
     [["- ", N, "\n"] || N <- Notes], "\n"].

-define(HEADLINE, [{nc_nif, hand_nif}, {nc_nif_dirty, hand_nif_dirty}, {nc_drv, hand_drv},
                   {nc_drv_async, hand_drv_async}]).
-define(ALTS, [{copy_nif, nc_nif}, {copy_drv, nc_drv}, {port_call, nc_nif}, {port_call, nc_drv},
               {ext_port, nc_nif}, {ext_port, nc_drv}]).

ratio_cell(Lat, A, B, W, S) ->
    case {cell(Lat, A, W, S), cell(Lat, B, W, S)} of
        {#{} = CA, #{} = CB} -> fmt_ratio(paired_ratio(CA, CB));
        _ -> "-"
    end.

size_header(Sizes) ->
    ["| ", lists:join(" | ", ["" | [size_label(S) || S <- Sizes]]), " |\n",
     "|", lists:duplicate(length(Sizes) + 1, "---|"), "\n"].

headline_md(Lat, Sizes) ->
    ["## Headline ratios: the seed call\n\n",
     "nocopy's cost over the hand-written code it replaces (1.00x = no overhead; lower is "
     "better), and how many times slower the copying alternatives are than nocopy "
     "(higher means nocopy is further ahead). Medians of per-round ratios.\n\n",
     size_header(Sizes),
     [["| ", label(A), " / ", label(B), " | ",
       lists:join(" | ", [ratio_cell(Lat, A, B, seed, S) || S <- Sizes]), " |\n"]
      || {A, B} <- ?HEADLINE],
     [["| ", label(A), " / ", label(B), " | ",
       lists:join(" | ", [ratio_cell(Lat, A, B, seed, S) || S <- Sizes]), " |\n"]
      || {A, B} <- ?ALTS],
     "\n"].

latency_md(Lat, Sizes, Avail, Cfg) ->
    ["## Latency per call\n\n",
     io_lib:format("Median ns per call over ~b interleaved rounds (batches of about ~s each, "
                   "each batch in a fresh caller process); "
                   "the ± figure is half the interquartile range, as a percentage of the "
                   "median. `-`: not run (see the notes at the end). zero-copy: the result's "
                   "bytes are the caller's own (same address), checked on every binary "
                   "result larger than 64 bytes; `copied` marks results that are copies.\n\n",
                   [maps:get(rounds, Cfg), fmt_ns(maps:get(batch_ns, Cfg))]),
     [[io_lib:format("### ~s\n\n", [W]),
       "| contender | ", lists:join(" | ", [size_label(S) || S <- Sizes]), " |\n",
       "|---|", lists:duplicate(length(Sizes), "---:|"), "\n",
       [["| ", label(Id), " | ",
         lists:join(" | ", [lat_cell(cell(Lat, Id, W, S)) || S <- Sizes]), " |\n"]
        || Id <- Avail, nocopy_bench_contenders:applies(Id, W)],
       "\n"] || W <- ?WORKLOADS]].

lat_cell(undefined) -> "-";
lat_cell(#{median := M, p25 := A, p75 := B, zero_copy := ZC}) ->
    Spread = round(50 * (B - A) / max(M, 1.0e-9)),
    [fmt_ns(M), io_lib:format(" ±~b%", [Spread]), case ZC of false -> " copied"; _ -> "" end].

ratio_md(Lat, Sizes) ->
    ["## Ratios to the hand-written baselines, all workloads\n\n",
     [[io_lib:format("### ~s\n\n", [W]), size_header(Sizes),
       [["| ", label(A), " / ", label(B), " | ",
         lists:join(" | ", [ratio_cell(Lat, A, B, W, S) || S <- Sizes]), " |\n"]
        || {A, B} <- ?HEADLINE ++ ?ALTS, nocopy_bench_contenders:applies(A, W),
           nocopy_bench_contenders:applies(B, W)],
       "\n"] || W <- ?WORKLOADS]].

conc_md(Conc) ->
    Procs = lists:usort([P || #{procs := P} <- Conc]),
    Ids = [Id || Id <- ?CONC_IDS, lists:any(fun(#{contender := I}) -> I =:= Id end, Conc)],
    Cell = fun(Id, P) ->
                   case [C || #{contender := I, procs := P1} = C <- Conc, I =:= Id, P1 =:= P] of
                       [C] -> C;
                       [] -> undefined
                   end
           end,
    Rate = fun(Id, P) ->
                   case Cell(Id, P) of
                       #{calls_per_s := R} -> R;
                       undefined -> undefined
                   end
           end,
    case Conc of
        [] -> [];
        [#{size := S} | _] ->
            ["## Calls per second under concurrency\n\n",
             io_lib:format("The seed call with a ~s message; N caller processes share one "
                           "context and, for drivers, one port. Median calls per second over "
                           "the rounds (higher is better); the nocopy/hand rows give "
                           "nocopy's share of the hand-written throughput: the median of the "
                           "per-round ratios (each round runs every contender once, in a new "
                           "random order).\n\n", [size_label(S)]),
             "| contender | ", lists:join(" | ", [integer_to_list(P) ++ " procs" || P <- Procs]),
             " |\n|---|", lists:duplicate(length(Procs), "---:|"), "\n",
             [["| ", label(Id), " | ",
               lists:join(" | ", [case Rate(Id, P) of undefined -> "-"; R -> fmt_rate(R) end
                                  || P <- Procs]), " |\n"] || Id <- Ids],
             [["| ", label(A), " / ", label(B), " | ",
               lists:join(" | ", [case {Cell(A, P), Cell(B, P)} of
                                      {CA, CB} when is_map(CA), is_map(CB) ->
                                          fmt_ratio(paired_ratio(CA, CB));
                                      _ -> "-"
                                  end || P <- Procs]), " |\n"]
              || {A, B} <- ?HEADLINE, lists:member(A, Ids), lists:member(B, Ids)],
             "\n"]
    end.

memory_md(Mem, Rss) ->
    Ws = lists:usort([W || #{workload := W} <- Mem]),
    Ids = lists:usort([Id || #{contender := Id} <- Mem]),
    Ordered = [Id || {Id, _, _, _} <- nocopy_bench_contenders:contenders(), lists:member(Id, Ids)],
    Growth = fun(Id, W) ->
                     case [G || #{contender := I, workload := W1, growth := G} <- Mem,
                                I =:= Id, W1 =:= W] of
                         [G] -> fmt_bytes(G);
                         [] -> "-"
                     end
             end,
    ["## Memory\n\n",
     case Mem of
         [#{calls := N, size := S} | _] ->
             [io_lib:format("### erlang:memory(binary) growth after GC\n\n"
                            "~b calls with a ~s payload, by the benchmark process; measured "
                            "before and after, each time after a GC of every process and "
                            "20 ms for worker threads to drop their references. A result "
                            "leaked per call would show as ~s.\n\n",
                            [N, size_label(S), fmt_bytes(N * S)]),
              "| contender | ", lists:join(" | ", [atom_to_list(W) || W <- Ws]), " |\n",
              "|---|", lists:duplicate(length(Ws), "---:|"), "\n",
              [["| ", label(Id), " | ", lists:join(" | ", [Growth(Id, W) || W <- Ws]), " |\n"]
               || Id <- Ordered],
              "\n"];
         [] -> []
     end,
     case Rss of
         [] -> [];
         [#{size := S} | _] ->
             [io_lib:format("### Peak RSS around a ~s round trip\n\n"
                            "A fresh VM per contender (VmHWM cannot be lowered in a VM that "
                            "already held large data, and the allocators cache freed "
                            "memory): `base` is VmRSS after start-up and set-up, before the "
                            "payload exists; `peak` is VmHWM after the identity round trips "
                            "(VmHWM reset with /proc/self/clear_refs once the payload was "
                            "made, so the peak is that of the calls). Target for nocopy: "
                            "peak - base at most payload + 64 MiB.\n\n", [size_label(S)]),
              "| contender | base RSS | RSS with payload | peak RSS | peak - base | peak - base - payload | result shares the payload |\n",
              "|---|---:|---:|---:|---:|---:|---|\n",
              [case C of
                   #{status := ok} ->
                       io_lib:format("| ~ts | ~s | ~s | ~s | ~s | ~s | ~s |\n",
                                     [label(Id), fmt_bytes(maps:get(base_rss, C)),
                                      fmt_bytes(maps:get(rss_with_payload, C)),
                                      fmt_bytes(maps:get(peak_rss, C)),
                                      fmt_bytes(maps:get(peak_over_base, C)),
                                      fmt_bytes(maps:get(peak_over_base, C) - S),
                                      yes_no(maps:get(zero_copy, C))]);
                   #{reason := Why} ->
                       io_lib:format("| ~ts | ~ts |  |  |  |  |  |\n",
                                     [label(Id), first_line(Why)])
               end || #{contender := Id} = C <- Rss],
              "\n"]
     end].

yes_no(true) -> "yes";
yes_no(false) -> "no (copy)";
yes_no(_) -> "-".

first_line(B) ->
    hd(string:split(B, ".") ++ [<<>>]).

gc_md(Gc, M, SO) ->
    Sizes = lists:usort([S || #{size := S} <- Gc]),
    Items = lists:usort([{Id, W} || #{contender := Id, workload := W} <- Gc]),
    Settings = [N || {N, _} <- nocopy_bench_phases:gc_settings()],
    Get = fun(Id, W, S, Set) ->
                  case [C || #{contender := I, workload := W1, size := S1, setting := N} = C <- Gc,
                             I =:= Id, W1 =:= W, S1 =:= S, N =:= Set] of
                      [#{median := M2, gcs_per_call := G}] when is_number(M2) ->
                          io_lib:format("~s (~.2f GC)", [fmt_ns(M2), float(G)]);
                      _ -> "-"
                  end
          end,
    case Gc of
        [] -> [];
        _ ->
            ["## The GC step: results over the receiver's binary-heap allowance\n\n",
             io_lib:format(
               "Every refc binary a process references counts its size (in words) against "
               "its binary virtual heap. A by-reference result that is a *new* reference "
               "(a driver's ERL_DRV_BINARY reply, a NIF returning a kept buffer) is charged "
               "in full to the receiver, and once the charge passes the allowance "
               "(`min_bin_vheap_size`, default ~b words = ~s, grown by the VM after GCs "
               "that find much live binary data) the next allocation forces a minor GC. "
               "The GC's cost depends on the receiver's live heap, not on the binary's "
               "size (nothing is copied; the dead ProcBin is dropped), so it is a "
               "constant step: results of 1 MiB and of 256 MiB pay the same step on every "
               "call, 4 KiB results once every ~~~b calls. A NIF returning its argument "
               "(nocopy identity) adds no new reference and pays nothing.\n\n"
               "What a user can tune: the receiver's allowance, per process with "
               "`process_flag(min_bin_vheap_size, Words)` or at spawn time, VM-wide with "
               "`erl +hmbs Words`. A GC then comes every Words*8/Size calls instead of "
               "every call, at the price of keeping up to Words*8 bytes of dead results "
               "alive until it runs. Beware: on this OTP (25.2.3), "
               "`spawn_opt(F, [{min_bin_vheap_size, W}])` on its own is ignored: "
               "asked for ~b words, the process got ~b; with `{fullsweep_after, 65535}` "
               "beside it, ~b. Otherwise: short-lived worker processes, or "
               "`erlang:garbage_collect/0` or `hibernate` in long-lived ones, and for "
               "NIFs, returning the argument or a slice of it (no new reference) rather "
               "than a kept buffer. Each cell: median ns per call (GCs per call, counted "
               "by `erlang:statistics(garbage_collection)`), in a fresh process that "
               "set its allowance with process_flag/2 before calling.\n\n",
               [maps:get(min_bin_vheap_size_words, M),
                fmt_bytes(maps:get(min_bin_vheap_size_words, M) * 8),
                maps:get(min_bin_vheap_size_words, M) * 8 div 4096,
                maps:get(requested_words, SO), maps:get(spawn_opt_alone, SO),
                maps:get(spawn_opt_with_fullsweep_after, SO)]),
             "| contender | result | size | ",
             lists:join(" | ", [atom_to_list(N) || N <- Settings]), " |\n",
             "|---|---|---:|", lists:duplicate(length(Settings), "---:|"), "\n",
             [[io_lib:format("| ~ts | ~s | ~s | ", [label(Id), gc_what(W), size_label(S)]),
               lists:join(" | ", [Get(Id, W, S, N) || N <- Settings]), " |\n"]
              || {Id, W} <- Items, S <- Sizes],
             "\nThe step, measured: the cost of one GC, from the default-allowance "
             "rows, as (time per call - time per call at 4 KiB) / (GCs per call - GCs "
             "per call at 4 KiB), median over the sizes where GCs per call rose by at "
             "least 0.25. The worker-thread paths are left out: their thread hand-off "
             "varies by microseconds, far more than the step. Note how the VM adapts "
             "the allowance: when the caller itself holds a large binary (the identity "
             "argument), a GC grows the allowance to fit that live data, and larger "
             "results then GC every few calls instead of every call; results from a "
             "C-side buffer (blob_get) GC on every call.\n\n",
             [case gc_step_ns(Gc, Id, W) of
                  undefined -> [];
                  {Step, N} ->
                      io_lib:format("- ~ts, ~s: ~s per GC (~b sizes)\n",
                                    [label(Id), gc_what(W), fmt_ns(Step), N])
              end || {Id, W} <- Items, Id =/= nc_drv_async, Id =/= hand_drv_async],
             "\n"]
    end.

%% {Median ns per GC, sizes used}, or undefined (no size where GCs rose).
gc_step_ns(Gc, Id, W) ->
    Rows = [{S, M, G} || #{contender := I, workload := W1, setting := default, size := S,
                           median := M, gcs_per_call := G} <- Gc,
                         I =:= Id, W1 =:= W, is_number(M)],
    case lists:keyfind(4 * ?KiB, 1, Rows) of
        {_, M0, G0} ->
            Steps = [(M - M0) / (G - G0) || {S, M, G} <- Rows, S > 4 * ?KiB, G - G0 >= 0.25],
            case Steps of
                [] -> undefined;
                _ -> {median(Steps), length(Steps)}
            end;
        false ->
            undefined
    end.

gc_what(identity) -> "identity (driver: new reference; NIF: the argument)";
gc_what(blob) -> "kept buffer (blob_get)".

contenders_md() ->
    ["## Contenders\n\n",
     "| id | contender | group |\n|---|---|---|\n",
     [io_lib:format("| `~s` | ~ts | ~s |\n", [Id, L, G])
      || {Id, L, G, _} <- nocopy_bench_contenders:contenders()],
     "\nSee bench/README.md for what each one is.\n\n"].

skipped_md(Lat) ->
    Notes = lists:usort([{Id, St, Why} || #{contender := Id, status := St, reason := Why} <- Lat,
                                          St =/= ok]),
    case Notes of
        [] -> [];
        _ ->
            ["## Notes: cells not run\n\n",
             [io_lib:format("- ~ts (~s): ~ts; at ~ts\n",
                            [label(Id), St, Why,
                             lists:join(", ", [io_lib:format("~s ~s", [W, size_label(S)])
                                               || #{contender := I, status := St1, reason := Why1,
                                                    workload := W, size := S} <- Lat,
                                                  I =:= Id, St1 =:= St, Why1 =:= Why])])
              || {Id, St, Why} <- Notes],
             "\n"]
    end.
