%% @doc The report of the nocopy benchmark: the issue's targets (reported as
%% ratios, never asserted), statistics and number formatting, and the output
%% files: results.json, results.md and the gnuplot inputs of latency.png.
%% Everything here works on the results map built by nocopy_bench.
-module(nocopy_bench_report).

-export([write_all/2, regenerate/1, targets/1, stats/1, median/1,
         fmt_ns/1, fmt_rate/1, fmt_bytes/1, size_label/1]).

-include("nocopy_bench.hrl").

%% @doc Writes results.json, results.md, latency_*.dat and latency.gp into Dir.
-spec write_all(file:filename(), map()) -> ok.
write_all(Dir, Results) ->
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    %% The same data as Erlang terms, so that the report can be rewritten
    %% without measuring again (make bench-report).
    write(Dir, "results.term", io_lib:format("~tp.~n", [Results])),
    write(Dir, "results.json", [json(Results), $\n]),
    write(Dir, "results.md", markdown(Results)),
    plot_files(Dir, Results).

%% @doc `erl -run nocopy_bench_report regenerate Dir': rewrites results.json,
%% results.md and the plot inputs from Dir/results.term (targets re-judged).
-spec regenerate([string()]) -> no_return().
regenerate([Dir]) ->
    {ok, [R0]} = file:consult(filename:join(Dir, "results.term")),
    R = R0#{targets => targets(R0)},
    ok = write_all(Dir, R),
    io:format("rewrote the report in ~s~n", [Dir]),
    halt(0).

write(Dir, File, IoData) ->
    ok = file:write_file(filename:join(Dir, File), unicode:characters_to_binary(IoData)).

label(Id) -> element(2, lists:keyfind(Id, 1, nocopy_bench_contenders:contenders())).
group(Id) -> element(3, lists:keyfind(Id, 1, nocopy_bench_contenders:contenders())).

%% nocopy contender -> its hand-written baseline.
baseline(nc_nif) -> hand_nif;
baseline(nc_nif_dirty) -> hand_nif_dirty;
baseline(nc_drv) -> hand_drv;
baseline(nc_drv_async) -> hand_drv_async.

%% ===========================================================================
%% Targets (issue 4): reported as ratios, never asserted
%% ===========================================================================

targets(R) ->
    Lat = maps:get(latency, R),
    put(nocopy_bench_ran, lists:usort([Id || #{contender := Id, status := ok} <- Lat])),
    put(nocopy_bench_unavailable, [{Id, Why} || #{id := Id, available := false, reason := Why}
                                                    <- maps:get(contenders, R)]),
    lists:flatten([flat_target(Lat, Id) || Id <- [nc_nif, nc_drv]] ++
                  [thin_target(Lat, Id, Limit)
                   || {Id, Limit} <- [{nc_nif, 1.25}, {nc_drv, 1.5}, {nc_drv_async, 1.5}]] ++
                  [ahead_target(Lat, Id, Alt, W) || Id <- [nc_nif, nc_drv],
                                                    Alt <- [ext_port, port_call],
                                                    W <- [identity, seed]] ++
                  [binary_growth_target(maps:get(binary_memory, R))] ++
                  [rss_target(maps:get(rss, R), Id) || Id <- [nc_nif, nc_drv]]).

target(Name, Verdict, Fmt, Args) ->
    #{name => iolist_to_binary(Name), verdict => Verdict,
      text => iolist_to_binary(io_lib:format(Fmt, Args))}.

cell(Lat, Id, W, S) ->
    case [C || #{contender := I, workload := W1, size := S1, status := ok} = C <- Lat,
               I =:= Id, W1 =:= W, S1 =:= S] of
        [C] -> C;
        [] -> undefined
    end.

%% Median of the per-round ratios A/B (both ran in every round, interleaved).
paired_ratio(#{samples := A}, #{samples := B}) when length(A) =:= length(B) ->
    median([X / max(Y, 1.0e-9) || {X, Y} <- lists:zip(A, B)]);
paired_ratio(#{median := A}, #{median := B}) ->
    A / max(B, 1.0e-9).

flat_target(Lat, Id) ->
    Name = io_lib:format("Flat (~s)", [label(Id)]),
    case {cell(Lat, Id, identity, 4 * ?KiB), cell(Lat, Id, identity, ?MiB),
          cell(Lat, Id, identity, 256 * ?MiB)} of
        {#{median := T4k}, #{median := T1m}, #{median := T256}} ->
            R1 = T256 / T1m,
            R2 = T256 / T4k,
            V = verdict(R1 =< 1.2 andalso R2 =< 2.0),
            target(Name, V, "identity round trip: 256 MiB ~s = ~.2fx the 1 MiB ~s (limit 1.2x) "
                   "and ~.2fx the 4 KiB ~s (limit 2x)",
                   [fmt_ns(T256), R1, fmt_ns(T1m), R2, fmt_ns(T4k)]);
        _ ->
            not_measured(Name, Id)
    end.

thin_target(Lat, Id, Limit) ->
    Base = baseline(Id),
    Name = io_lib:format("Thin (~s vs ~s)", [label(Id), label(Base)]),
    Sizes = lists:usort([S || #{workload := seed, size := S, status := ok} <- Lat]),
    Ratios = [{S, paired_ratio(A, B)} || S <- Sizes,
                                         A <- [cell(Lat, Id, seed, S)], A =/= undefined,
                                         B <- [cell(Lat, Base, seed, S)], B =/= undefined],
    case Ratios of
        [] ->
            not_measured(Name, Id);
        _ ->
            {WS, Worst} = lists:last(lists:keysort(2, Ratios)),
            Met = [S || {S, X} <- Ratios, X =< Limit],
            V = verdict(length(Met) =:= length(Ratios)),
            target(Name, V, "seed call: nocopy/hand ~ts (limit ~.2fx at every size); "
                   "within the limit at ~b of ~b sizes, worst ~.2fx at ~s",
                   [lists:join(", ", [io_lib:format("~s ~.2fx", [size_label(S), X])
                                      || {S, X} <- Ratios]),
                    Limit, length(Met), length(Ratios), Worst, size_label(WS)])
    end.

ahead_target(Lat, Id, Alt, W) ->
    S = 16 * ?MiB,
    Name = io_lib:format("Ahead (~s vs ~s, ~s, 16 MiB)", [label(Id), label(Alt), W]),
    case {cell(Lat, Id, W, S), cell(Lat, Alt, W, S)} of
        {#{median := Tn} = A, #{median := Ta} = B} ->
            X = paired_ratio(B, A),
            target(Name, verdict(X >= 1000), "~s per call against ~s: ~s faster (limit 1000x)",
                   [fmt_ns(Tn), fmt_ns(Ta), fmt_ratio(X)]);
        {undefined, _} -> not_measured(Name, Id);
        {_, undefined} -> not_measured(Name, Alt)
    end.

binary_growth_target(Mem) ->
    Name = "Memory: erlang:memory(binary) after GC (nocopy contenders)",
    Cells = [C || #{contender := Id} = C <- Mem, group(Id) =:= nocopy],
    case Cells of
        [] ->
            target(Name, 'NOT MEASURED', "no nocopy contender ran", []);
        _ ->
            %% Unrelated allocations in the VM move the figure by a few KiB;
            %% one leaked result per call would be calls x payload.
            Limit = 64 * ?KiB,
            Worst = lists:max([G || #{growth := G} <- Cells]),
            #{calls := N, size := S} = hd(Cells),
            target(Name, verdict(Worst =< Limit),
                   "largest growth ~s over ~b calls of ~s (~ts); counted as no growth up to ~s "
                   "(a leak of one result per call would be ~s)",
                   [fmt_bytes(Worst), N, size_label(S),
                    lists:join(", ", [io_lib:format("~s ~s ~s", [I, W, fmt_bytes(G)])
                                      || #{contender := I, workload := W, growth := G} <- Cells]),
                    fmt_bytes(Limit), fmt_bytes(N * S)])
    end.

rss_target(Rss, Id) ->
    S = case Rss of [#{size := S0} | _] -> S0; [] -> 256 * ?MiB end,
    Name = io_lib:format("Memory: peak RSS, ~s round trip (~s)", [size_label(S), label(Id)]),
    case [C || #{contender := I, status := ok} = C <- Rss, I =:= Id] of
        [#{peak_over_base := Over}] ->
            Limit = S + 64 * ?MiB,
            target(Name, verdict(Over =< Limit),
                   "peak RSS rose ~s above the VM's RSS before the payload existed "
                   "(payload ~s; limit payload + 64 MiB = ~s)",
                   [fmt_bytes(Over), fmt_bytes(S), fmt_bytes(Limit)]);
        _ ->
            not_measured(Name, Id)
    end.

verdict(true) -> 'MET';
verdict(false) -> 'MISSED'.

not_measured(Name, Id) ->
    Ran = lists:member(Id, get(nocopy_bench_ran)),
    case proplists:get_value(Id, get(nocopy_bench_unavailable)) of
        undefined when Ran ->
            target(Name, 'NOT MEASURED', "~s ran, but not at the sizes this target needs "
                   "(the quick mode measures small sizes only)", [label(Id)]);
        undefined ->
            target(Name, 'NOT MEASURED', "~s failed its result check (see the notes)",
                   [label(Id)]);
        Why ->
            target(Name, 'NOT MEASURED', "~s is not available: ~ts", [label(Id), Why])
    end.

%% ===========================================================================
%% Statistics and formatting
%% ===========================================================================

stats(L) ->
    S = lists:sort(L),
    #{median => pct(S, 0.5), p25 => pct(S, 0.25), p75 => pct(S, 0.75),
      min => hd(S), max => lists:last(S), rounds => length(S)}.

median(L) -> pct(lists:sort(L), 0.5).

%% Linear interpolation between closest ranks.
pct([X], _) -> X;
pct(S, P) ->
    Pos = P * (length(S) - 1),
    Lo = trunc(Pos),
    F = Pos - Lo,
    A = lists:nth(Lo + 1, S),
    B = lists:nth(min(Lo + 2, length(S)), S),
    A + (B - A) * F.

num(X) when X >= 100 -> integer_to_list(round(X));
num(X) when X >= 10 -> float_to_list(float(X), [{decimals, 1}]);
num(X) -> float_to_list(float(X), [{decimals, 2}]).

fmt_ns(null) -> "-";
fmt_ns(X) when X < 0 -> "-" ++ fmt_ns(-X);
fmt_ns(X) when X < 1.0e3 -> num(X) ++ " ns";
fmt_ns(X) when X < 1.0e6 -> num(X / 1.0e3) ++ " us";
fmt_ns(X) when X < 1.0e9 -> num(X / 1.0e6) ++ " ms";
fmt_ns(X) -> num(X / 1.0e9) ++ " s".

fmt_rate(X) when X < 1.0e3 -> num(X) ++ "/s";
fmt_rate(X) when X < 1.0e6 -> num(X / 1.0e3) ++ "k/s";
fmt_rate(X) -> num(X / 1.0e6) ++ "M/s".

fmt_bytes(B) when abs(B) < ?KiB -> integer_to_list(B) ++ " B";
fmt_bytes(B) when abs(B) < ?MiB -> num(B / ?KiB) ++ " KiB";
fmt_bytes(B) when abs(B) < 1024 * ?MiB -> num(B / ?MiB) ++ " MiB";
fmt_bytes(B) -> num(B / (1024 * ?MiB)) ++ " GiB".

fmt_ratio(X) when X >= 100 -> integer_to_list(round(X)) ++ "x";
fmt_ratio(X) when X >= 10 -> float_to_list(X, [{decimals, 1}]) ++ "x";
fmt_ratio(X) -> float_to_list(X, [{decimals, 2}]) ++ "x".

size_label(0) -> "0 B";
size_label(S) when S < ?KiB -> integer_to_list(S) ++ " B";
size_label(S) when S < ?MiB -> integer_to_list(S div ?KiB) ++ " KiB";
size_label(S) -> integer_to_list(S div ?MiB) ++ " MiB".

%% ===========================================================================
%% Output: JSON
%% ===========================================================================

json(V) -> json(V, 0).

json(M, Ind) when is_map(M) ->
    Pairs = lists:sort([{key(K), V} || {K, V} <- maps:to_list(M)]),
    case lists:all(fun({_, V}) -> scalar(V) end, Pairs) of
        true ->
            ["{", lists:join(", ", [[jstr(K), ": ", json(V, Ind)] || {K, V} <- Pairs]), "}"];
        false ->
            I2 = Ind + 2,
            ["{\n", lists:join(",\n", [[pad(I2), jstr(K), ": ", json(V, I2)] || {K, V} <- Pairs]),
             "\n", pad(Ind), "}"]
    end;
json(L, Ind) when is_list(L) ->
    case lists:all(fun scalar/1, L) of
        true ->
            ["[", lists:join(", ", [json(X, Ind) || X <- L]), "]"];
        false ->
            I2 = Ind + 2,
            ["[\n", lists:join(",\n", [[pad(I2), json(X, I2)] || X <- L]), "\n", pad(Ind), "]"]
    end;
json(B, _) when is_binary(B) -> jstr(B);
json(true, _) -> "true";
json(false, _) -> "false";
json(null, _) -> "null";
json(undefined, _) -> "null";
json(A, _) when is_atom(A) -> jstr(atom_to_binary(A, utf8));
json(I, _) when is_integer(I) -> integer_to_list(I);
json(F, _) when is_float(F) -> float_to_list(F, [short]);
json(T, _) -> jstr(iolist_to_binary(io_lib:format("~0tp", [T]))).

scalar(V) -> not (is_map(V) orelse (is_list(V) andalso V =/= [])).

key(K) when is_atom(K) -> atom_to_binary(K, utf8);
key(K) when is_binary(K) -> K;
key(K) -> iolist_to_binary(io_lib:format("~0tp", [K])).

pad(N) -> lists:duplicate(N, $\s).

jstr(B) ->
    [$", [esc(C) || C <- unicode:characters_to_list(B)], $"].

esc($") -> "\\\"";
esc($\\) -> "\\\\";
esc($\n) -> "\\n";
esc($\t) -> "\\t";
esc(C) when C < 32 -> io_lib:format("\\u~4.16.0b", [C]);
esc(C) -> C.

%% ===========================================================================
%% Output: Markdown
%% ===========================================================================

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
     headline_md(Lat, Sizes),
     latency_md(Lat, Sizes, Avail, Cfg),
     ratio_md(Lat, Sizes),
     conc_md(maps:get(concurrency, R)),
     memory_md(maps:get(binary_memory, R), maps:get(rss, R)),
     gc_md(maps:get(gc_step, R), M, maps:get(gc_spawn_opt, R)),
     contenders_md(),
     skipped_md(Lat)].

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
        || Id <- Avail],
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
        || {A, B} <- ?HEADLINE ++ ?ALTS],
       "\n"] || W <- ?WORKLOADS]].

conc_md(Conc) ->
    Procs = lists:usort([P || #{procs := P} <- Conc]),
    Ids = [Id || Id <- ?CONC_IDS, lists:any(fun(#{contender := I}) -> I =:= Id end, Conc)],
    Rate = fun(Id, P) ->
                   case [R || #{contender := I, procs := P1, calls_per_s := R} <- Conc,
                              I =:= Id, P1 =:= P] of
                       [R] -> R;
                       [] -> undefined
                   end
           end,
    case Conc of
        [] -> [];
        [#{size := S} | _] ->
            ["## Calls per second under concurrency\n\n",
             io_lib:format("The seed call with a ~s message; N caller processes share one "
                           "context and, for drivers, one port. Median calls per second over "
                           "the rounds (higher is better); the nocopy/hand rows give "
                           "nocopy's share of the hand-written throughput.\n\n", [size_label(S)]),
             "| contender | ", lists:join(" | ", [integer_to_list(P) ++ " procs" || P <- Procs]),
             " |\n|---|", lists:duplicate(length(Procs), "---:|"), "\n",
             [["| ", label(Id), " | ",
               lists:join(" | ", [case Rate(Id, P) of undefined -> "-"; R -> fmt_rate(R) end
                                  || P <- Procs]), " |\n"] || Id <- Ids],
             [["| ", label(A), " / ", label(B), " | ",
               lists:join(" | ", [case {Rate(A, P), Rate(B, P)} of
                                      {RA, RB} when is_number(RA), is_number(RB) ->
                                          fmt_ratio(RA / RB);
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
     [io_lib:format("| `~s` | ~ts | ~s |\n", [Id, L, G]) || {Id, L, G, _} <- nocopy_bench_contenders:contenders()],
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

%% ===========================================================================
%% Output: gnuplot inputs for latency.png (make bench-plot runs gnuplot)
%% ===========================================================================

%% Size 0 is drawn at x = 16 on the log axis, labelled "0".
plot_x(0) -> 16;
plot_x(S) -> S.

plot_files(Dir, R) ->
    Lat = maps:get(latency, R),
    Sizes = maps:get(sizes, maps:get(config, R)),
    Ids = [Id || #{id := Id, available := true, group := G} <- maps:get(contenders, R),
                 G =/= reference],
    lists:foreach(
      fun(W) ->
              Rows = [[integer_to_list(plot_x(S)),
                       [[" ", case cell(Lat, Id, W, S) of
                                  #{median := Med} -> float_to_list(float(Med), [short]);
                                  undefined -> "NaN"
                              end] || Id <- Ids], "\n"] || S <- Sizes],
              write(Dir, "latency_" ++ atom_to_list(W) ++ ".dat",
                    ["# size_bytes (0 drawn at 16)", [[" ", atom_to_list(Id)] || Id <- Ids], "\n",
                     Rows])
      end, ?WORKLOADS),
    M = maps:get(machine, R),
    Title = io_lib:format("nocopy benchmark: ~b CPUs ~ts, OTP ~ts (~s mode)",
                          [maps:get(nproc, M), maps:get(cpu, M), maps:get(otp, M),
                           maps:get(mode, R)]),
    Tics = lists:join(", ", [io_lib:format("\"~s\" ~b", [tic(S), plot_x(S)]) || S <- Sizes]),
    %% Each nocopy contender and its hand-written baseline share a colour
    %% (solid: nocopy, dashed: hand); copying alternatives are dotted.
    Style = fun(Id) ->
                    Colour = case Id of
                                 I when I =:= nc_nif; I =:= hand_nif -> "#7b2cbf";
                                 I when I =:= nc_nif_dirty; I =:= hand_nif_dirty -> "#2a9d8f";
                                 I when I =:= nc_drv; I =:= hand_drv -> "#1f77b4";
                                 I when I =:= nc_drv_async; I =:= hand_drv_async -> "#ff7f0e";
                                 copy_nif -> "#d62728";
                                 copy_drv -> "#8c564b";
                                 port_call -> "#7f7f7f";
                                 _ -> "#000000"
                             end,
                    Dash = case group(Id) of
                               nocopy -> "lw 3 dt 1";
                               hand -> "lw 2 dt 2";
                               _ -> "lw 1.5 dt 3"
                           end,
                    io_lib:format("lc rgb \"~s\" ~s", [Colour, Dash])
            end,
    Plot = fun(W, Key) ->
                   [io_lib:format("set title \"~s\"\n", [W]),
                    case Key of true -> "set key top left font \",9\" box opaque\n";
                        false -> "unset key\n" end,
                    "plot ",
                    lists:join(", \\\n     ",
                               [io_lib:format("'latency_~s.dat' using 1:(column(~b)*1e-9) with linespoints ~s pt ~b "
                                              "title \"~ts\"",
                                              [W, I + 1, Style(Id), I, label(Id)])
                                || {I, Id} <- lists:zip(lists:seq(1, length(Ids)), Ids)]),
                    "\n"]
           end,
    write(Dir, "latency.gp",
          ["# Generated by nocopy_bench; run in this directory: gnuplot latency.gp\n",
           "set encoding utf8\n",
           "set terminal pngcairo noenhanced size 1500,1250 font \",10\"\n",
           "set output 'latency.png'\n",
           "set datafile missing \"NaN\"\n",
           "set logscale xy\n",
           "set grid\n",
           io_lib:format("set xtics (~s)\n", [Tics]),
           "set format y \"%.0s%cs\"\n",
           "set xlabel \"payload size (bytes)\"\n",
           "set ylabel \"time per call (median)\"\n",
           io_lib:format("set multiplot layout 2,2 title \"~ts\"\n", [Title]),
           Plot(identity, false), Plot(seed, false), Plot(iodata, false),
           "# the fourth panel only holds the key\n",
           "unset title\nunset xlabel\nunset ylabel\nunset border\nunset tics\nunset grid\n",
           "set key center center font \",11\" box\n",
           "set yrange [1:2]\nset xrange [1:2]\n",
           "plot ",
           lists:join(", \\\n     ",
                      [io_lib:format("NaN with linespoints ~s pt ~b title \"~ts\"",
                                     [Style(Id), I, label(Id)])
                       || {I, Id} <- lists:zip(lists:seq(1, length(Ids)), Ids)]),
           "\n",
           "unset multiplot\n"]).

tic(0) -> "0";
tic(S) when S < ?KiB -> integer_to_list(S);
tic(S) when S < ?MiB -> integer_to_list(S div ?KiB) ++ "K";
tic(S) -> integer_to_list(S div ?MiB) ++ "M".
