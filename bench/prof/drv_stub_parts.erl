%% @doc Where the nocopy driver's inline seed call spends its time beyond the
%% hand-written outputv driver's, peeled off one layer at a time, each shape
%% timed side by side in one VM (rounds in a new random order, each batch in
%% a fresh process; the median per call, the fastest round, and the median
%% of the per-round ratios to `hand'). A measurement, never a test.
%%
%%   erl -noshell -pa ebin _build/bench/ebin -run drv_stub_parts main Rounds Calls Size
%%
%% Shapes, for seed_calls(Port, Ctx, 1, Msg) and hand_drv's seed:
%%   hand      bench_ports:drv_seed/4 (builds <<2, Ctx:32, Qop:32>>, receives {Port, R})
%%   stub      nc_bench_drv:seed_calls/4, the generated stub: unique_integer,
%%             the stub's encoder, nocopy_port:call_request/5 in a try
%%   no_try    the same without the stub's try (call_request/5 called directly)
%%   no_tag    no_try with one tag for every call (no unique_integer)
%%   no_enc    call_request/5 with a request built once, its tag reused
%%             (no unique_integer, no encoder): port_command, the driver, the reply
%%   raw       port_command/2 and a receive of the reply, the request built once
%%   hand_frame  hand inside a frame of its own (a case on the result)
%%   no_try_frame  no_try inside a frame of its own, like the stub's but no try
%% So stub - no_try is the try, no_try - no_tag the tag, no_tag - no_enc the
%% encoder,
%% no_enc - raw call_request's wrapper, raw - hand the driver's C and its
%% bigger request and reply; no_try_frame - no_try and hand_frame - hand
%% what a frame around the call costs each. Each shape's row also shows the
%% minor garbage collections of its batches per 1000 calls: a frame costs
%% little in itself, but how often the caller collects (the heap size it
%% settles at) moves the small calls by as much as the C does (session 10,
%% bench/README.md).
-module(drv_stub_parts).

-export([main/1]).

-define(QOP, 1).

-spec main([string()]) -> no_return().
main([RoundsS, CallsS, SizeS]) ->
    Rounds = list_to_integer(RoundsS),
    N = list_to_integer(CallsS),
    M = nocopy_bench_contenders,
    {ok, #{port := P, ctx := Ctx}} = M:init(nc_drv),
    {ok, #{port := HP}} = M:init(hand_drv),
    Msg = M:payload(list_to_integer(SizeS)),
    Env = {P, Ctx, HP, Msg},
    Shapes = [hand, stub, no_try, no_tag, no_enc, raw, hand_frame, no_try_frame],
    _Warm = [time(S, N, Env) || S <- Shapes],
    Rows = [begin
                Order = [S || {_, S} <- lists:sort([{rand:uniform(), S} || S <- Shapes])],
                Ts = maps:from_list([{S, time(S, N, Env)} || S <- Order]),
                [maps:get(S, Ts) || S <- Shapes]
            end || _ <- lists:seq(1, Rounds)],
    lists:foreach(
      fun({K, S}) ->
              Ts = [element(1, lists:nth(K, R)) || R <- Rows],
              Ratios = [element(1, lists:nth(K, R)) / element(1, hd(R)) || R <- Rows],
              Gcs = lists:sum([element(2, lists:nth(K, R)) || R <- Rows]),
              io:format("~-12s ~8.1f ns (fastest ~7.1f)  ~.3fx  ~6.1f GCs per 1000 calls~n",
                        [S, median(Ts), lists:min(Ts), median(Ratios),
                         Gcs * 1000 / (N * Rounds)])
      end, lists:zip(lists:seq(1, length(Shapes)), Shapes)),
    halt(0).

time(Shape, N, Env) ->
    Self = self(),
    Pid = spawn(fun() ->
                        F = shape(Shape, Env),
                        {garbage_collection, G0} = process_info(self(), garbage_collection),
                        T0 = erlang:monotonic_time(nanosecond),
                        ok = loop(N, F),
                        T1 = erlang:monotonic_time(nanosecond),
                        {garbage_collection, G1} = process_info(self(), garbage_collection),
                        Gcs = proplists:get_value(minor_gcs, G1) - proplists:get_value(minor_gcs, G0),
                        Self ! {self(), T1 - T0, Gcs}
                end),
    receive {Pid, T, Gcs} -> {T / N, Gcs} end.

shape(hand, {_, _, HP, Msg}) ->
    fun() -> bench_ports:drv_seed(HP, 0, ?QOP, Msg) end;
shape(stub, {P, Ctx, _, Msg}) ->
    fun() -> nc_bench_drv:seed_calls(P, Ctx, ?QOP, Msg) end;
shape(no_try, {P, Ctx, _, Msg}) ->
    fun() ->
            T = erlang:unique_integer(),
            nocopy_port:call_request(P, nc_bench_drv, T,
                                     nc_bench_drv:'$nocopy_request_seed_calls'(P, T, Ctx, ?QOP, Msg),
                                     infinity)
    end;
shape(no_tag, {P, Ctx, _, Msg}) ->
    T = erlang:unique_integer(),
    fun() ->
            nocopy_port:call_request(P, nc_bench_drv, T,
                                     nc_bench_drv:'$nocopy_request_seed_calls'(P, T, Ctx, ?QOP, Msg),
                                     infinity)
    end;
shape(no_enc, {P, Ctx, _, Msg}) ->
    T = erlang:unique_integer(),
    Req = nc_bench_drv:'$nocopy_request_seed_calls'(P, T, Ctx, ?QOP, Msg),
    fun() -> nocopy_port:call_request(P, nc_bench_drv, T, Req, infinity) end;
shape(hand_frame, {_, _, HP, Msg}) ->
    fun() -> framed(fun() -> bench_ports:drv_seed(HP, 0, ?QOP, Msg) end) end;
shape(no_try_frame, {P, Ctx, _, Msg}) ->
    fun() ->
            framed(fun() ->
                           T = erlang:unique_integer(),
                           nocopy_port:call_request(
                             P, nc_bench_drv, T,
                             nc_bench_drv:'$nocopy_request_seed_calls'(P, T, Ctx, ?QOP, Msg),
                             infinity)
                   end)
    end;
shape(raw, {P, Ctx, _, Msg}) ->
    T = erlang:unique_integer(),
    Req = nc_bench_drv:'$nocopy_request_seed_calls'(P, T, Ctx, ?QOP, Msg),
    fun() ->
            erlang:port_command(P, Req),
            receive {nocopy_reply, T, V} -> V end
    end.

%% F called inside a frame that looks at its result, as the stub's try keeps one.
framed(F) ->
    case F() of
        {'$never', R} -> erlang:error(R);
        V -> V
    end.

loop(0, _) -> ok;
loop(N, F) -> _ = F(), loop(N - 1, F).

median(L) ->
    lists:nth((length(L) + 1) div 2, lists:sort(L)).
