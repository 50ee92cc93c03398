%% @doc A nocopy contender against its hand-written baseline, each round the
%% two batches back to back (in a random order), for the seed call at every
%% size from 0 B to 16 MiB: the Thin targets' ratios with the least drift
%% between the two sides that this shared machine allows. Batches are
%% calibrated to BatchUs microseconds and run in fresh processes, as in `make
%% bench' (nocopy_bench_contenders:calibrate/5 and timed_fresh/5). Prints per
%% cell the median of the per-round ratios and its quartiles. A measurement,
%% never a test.
%%
%%   erl -noshell -pa ebin _build/bench/ebin -run paired main \
%%       Rounds BatchUs [Contender:Baseline ...]      (default nc_nif:hand_nif)
%%   e.g. ... -run paired main 41 2000 nc_drv:hand_drv
-module(paired).

-export([main/1]).

-define(SIZES, [0, 64, 256, 4096, 65536, 1048576, 16777216]).

-spec main([string()]) -> no_return().
main([RoundsS, BatchUsS | PairsS]) ->
    Rounds = list_to_integer(RoundsS),
    Target = list_to_integer(BatchUsS) * 1000,
    Pairs = case PairsS of
                [] -> [{nc_nif, hand_nif}];
                _ -> [pair(P) || P <- PairsS]
            end,
    M = nocopy_bench_contenders,
    Envs = maps:from_list([{Id, element(2, M:init(Id))} || {A, B} <- Pairs, Id <- [A, B]]),
    [cell(A, B, W, S, Rounds, Target, Envs) || {A, B} <- Pairs, W <- [seed, seed_calls],
                                              S <- ?SIZES],
    halt(0).

pair(S) ->
    [A, B] = string:split(S, ":"),
    {list_to_atom(A), list_to_atom(B)}.

cell(A, B, W, S, Rounds, Target, Envs) ->
    M = nocopy_bench_contenders,
    Arg = M:arg(W, M:payload(S)),
    {EA, EB} = {maps:get(A, Envs), maps:get(B, Envs)},
    NA = M:calibrate(A, EA, W, Arg, Target),
    NB = M:calibrate(B, EB, W, Arg, Target),
    TimeA = fun() -> M:timed_fresh(A, EA, W, NA, Arg) / NA end,
    TimeB = fun() -> M:timed_fresh(B, EB, W, NB, Arg) / NB end,
    Ratios = lists:sort([case rand:uniform(2) of
                             1 -> TA = TimeA(), TA / TimeB();
                             2 -> TB = TimeB(), TimeA() / TB
                         end || _ <- lists:seq(1, Rounds)]),
    At = fun(Q) -> lists:nth(max(1, round(Q * Rounds)), Ratios) end,
    io:format("~p/~p ~p ~b B: median ~.3f, quartiles ~.3f ~.3f~n",
              [A, B, W, S, At(0.5), At(0.25), At(0.75)]).
