%% @doc The report of the nocopy benchmark: the output files. results.term
%% (the results as Erlang terms, so that `make bench-report' can rewrite the
%% rest without measuring again), results.json, results.md (written by
%% nocopy_bench_md) and the gnuplot inputs of latency.png. The targets are
%% judged by nocopy_bench_targets; everything works on the results map built
%% by nocopy_bench.
-module(nocopy_bench_report).

-export([write_all/2, regenerate/1]).

-include("nocopy_bench.hrl").

-import(nocopy_bench_stats, [cell/4, label/1, group/1]).

%% @doc Writes results.json, results.md, latency_*.dat and latency.gp into Dir.
-spec write_all(file:filename(), map()) -> ok.
write_all(Dir, Results) ->
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    %% The same data as Erlang terms, so that the report can be rewritten
    %% without measuring again (make bench-report).
    write(Dir, "results.term", io_lib:format("~tp.~n", [Results])),
    write(Dir, "results.json", [json(Results), $\n]),
    write(Dir, "results.md", nocopy_bench_md:markdown(Results)),
    plot_files(Dir, Results).

%% @doc `erl -run nocopy_bench_report regenerate Dir': rewrites results.json,
%% results.md and the plot inputs from Dir/results.term (targets re-judged).
-spec regenerate([string()]) -> no_return().
regenerate([Dir]) ->
    {ok, [R0]} = file:consult(filename:join(Dir, "results.term")),
    R = R0#{targets => nocopy_bench_targets:targets(R0)},
    ok = write_all(Dir, R),
    io:format("rewrote the report in ~s~n", [Dir]),
    halt(0).

write(Dir, File, IoData) ->
    ok = file:write_file(filename:join(Dir, File), unicode:characters_to_binary(IoData)).

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
    %% One panel per workload, without a key: the fourth panel holds it.
    Plot = fun(W) ->
                   [io_lib:format("set title \"~s\"\n", [W]),
                    "unset key\n",
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
           Plot(identity), Plot(seed), Plot(iodata),
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
