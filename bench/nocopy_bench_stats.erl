%% @doc Numbers for the nocopy benchmark, shared by the phases and the report:
%% statistics over samples, look-ups in the results (a latency cell, a paired
%% ratio, a contender's label and group), and how numbers are written.
-module(nocopy_bench_stats).

-export([stats/1, median/1, paired_ratio/2, cell/4, label/1, group/1,
         fmt_ns/1, fmt_rate/1, fmt_bytes/1, fmt_ratio/1, size_label/1]).

-include("nocopy_bench.hrl").

%% ===========================================================================
%% Look-ups in the results
%% ===========================================================================

label(Id) -> element(2, lists:keyfind(Id, 1, nocopy_bench_contenders:contenders())).
group(Id) -> element(3, lists:keyfind(Id, 1, nocopy_bench_contenders:contenders())).

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
