%% @doc Small calls in a tight loop: the isolated backend's identity of 12
%% bytes with its fast path ({spin, 10}, the default) and without it
%% ({spin, 0}), and the external port program ({packet,4}), in alternating
%% batches in one VM; prints each one's median time per call over the
%% batches. The case the fast path is for: one caller calling back to back,
%% the caller and a child thread each on a core (make bench-iso interleaves
%% other contenders' batches between the isolate's, so its calls start cold).
%%
%%   erl -noshell -pa ebin _build/bench/ebin -run iso_tight_loop main 7 10000
%%
%% With a third argument (spin10, spin0 or port) only that contender runs, so
%% each can have the VM to itself: the fast path is sensitive to what else
%% the VM and the machine run (one run: 8.9 us alone, 24 us beside the others).
-module(iso_tight_loop).
-export([main/1]).

-spec main([string()]) -> no_return().
main([BatchesS, CallsS]) ->
    main([BatchesS, CallsS, "spin10", "spin0", "port"]);
main([BatchesS, CallsS | Which]) ->
    {Batches, Calls} = {list_to_integer(BatchesS), list_to_integer(CallsS)},
    Contenders = [contender(W) || W <- Which],
    Times = [[{Name, batch(F, Calls)} || {Name, F} <- Contenders] || _ <- lists:seq(1, Batches)],
    [io:format("~-24s ~8.2f us per call (median of ~b batches of ~b)~n",
               [Name, median([T || Round <- Times, {N, T} <- Round, N =:= Name]), Batches, Calls])
     || {Name, _} <- Contenders],
    halt(0).

contender("spin10") ->
    {ok, I} = nc_bench_iso:start([{spin, 10}]),
    {"isolated, spin 10", fun() -> <<"hello world!">> = nc_bench_iso:identity(I, <<"hello world!">>) end};
contender("spin0") ->
    {ok, I} = nc_bench_iso:start([{spin, 0}]),
    {"isolated, spin 0", fun() -> <<"hello world!">> = nc_bench_iso:identity(I, <<"hello world!">>) end};
contender("port") ->
    {ok, P} = bench_ports:ext_open(),
    {"external port program", fun() -> <<"hello world!">> = bench_ports:ext_identity(P, <<"hello world!">>) end}.

batch(F, Calls) ->
    T0 = erlang:monotonic_time(nanosecond),
    loop(F, Calls),
    (erlang:monotonic_time(nanosecond) - T0) / Calls / 1000.

loop(_, 0) -> ok;
loop(F, K) -> F(), loop(F, K - 1).

median(L) -> lists:nth((length(L) + 1) div 2, lists:sort(L)).
