%% @doc Contenders timed side by side in one VM, for profiling work between
%% full runs of `make bench': rounds run every contender's batch once, in a
%% new random order each round (nocopy_bench_contenders:timed_fresh/5), and
%% each contender's time is reported (the median and the fastest round) with
%% the median of its per-round ratios to the first one. A measurement, never
%% a test.
%%
%%   erl -noshell -pa ebin _build/bench/ebin -run side_by_side main \
%%       Rounds Calls Size hand_nif:seed nc_nif:seed_calls nc_nif:seed
-module(side_by_side).

-export([main/1]).

-spec main([string()]) -> no_return().
main([RoundsS, CallsS, SizeS | Pairs]) ->
    Rounds = list_to_integer(RoundsS),
    Calls = list_to_integer(CallsS),
    M = nocopy_bench_contenders,
    Cs = [contender(P) || P <- Pairs],
    Envs = maps:from_list([{Id, element(2, M:init(Id))} || {Id, _} <- lists:usort(Cs)]),
    Payload = M:payload(list_to_integer(SizeS)),
    Time = fun({Id, W}) ->
                   M:timed_fresh(Id, maps:get(Id, Envs), W, Calls, M:arg(W, Payload)) / Calls
           end,
    _Warm = [Time(C) || C <- Cs],
    Rows = [begin
                Order = [C || {_, C} <- lists:sort([{rand:uniform(), C} || C <- Cs])],
                Ts = maps:from_list([{C, Time(C)} || C <- Order]),
                [maps:get(C, Ts) || C <- Cs]
            end || _ <- lists:seq(1, Rounds)],
    Base = [hd(R) || R <- Rows],
    lists:foreach(
      fun({K, {Id, W}}) ->
              Ts = [lists:nth(K, R) || R <- Rows],
              Ratios = [T / B || {T, B} <- lists:zip(Ts, Base)],
              io:format("~-10s ~-11s ~8.1f ns (fastest ~.1f)  ~.2fx (min ~.2f, max ~.2f)~n",
                        [Id, W, median(Ts), lists:min(Ts), median(Ratios),
                         lists:min(Ratios), lists:max(Ratios)])
      end, lists:zip(lists:seq(1, length(Cs)), Cs)),
    halt(0).

contender(Pair) ->
    [Id, W] = string:split(Pair, ":"),
    {list_to_atom(Id), list_to_atom(W)}.

median(L) ->
    lists:nth((length(L) + 1) div 2, lists:sort(L)).
