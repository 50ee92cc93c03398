%% @doc What the generated NIF stub's shape costs, measured around the
%% hand-written NIF (hand_nif:seed/3, so that only the Erlang side differs):
%% the NIF called directly, through a plain wrapper (a tail call), through
%% the stub's `try ... catch' (nocopy_stubgen's NIF stub), and through a
%% `case' on a reserved error return, with and without keeping the
%% arguments for the error. Rounds run every shape's batch once in a new
%% random order, each batch in a fresh process. A measurement, never a test.
%%
%%   erl -noshell -pa ebin _build/bench/ebin -run stub_shape main Rounds Calls Size
%%
%% Short batches (20 000 calls, about 1 ms) are preempted far less often on a
%% loaded machine than long ones.
-module(stub_shape).

-export([main/1]).

-define(QOP, 1).
-define(EI(Cause), [{error_info, #{module => nocopy, cause => Cause}}]).

-spec main([string()]) -> no_return().
main([RoundsS, CallsS, SizeS]) ->
    Rounds = list_to_integer(RoundsS),
    N = list_to_integer(CallsS),
    Ctx = hand_nif:new_ctx(),
    Msg = nocopy_bench_contenders:payload(list_to_integer(SizeS)),
    Shapes = [direct, wrapper, 'try', 'case', case_no_args],
    _Warm = [time(S, N, Ctx, Msg) || S <- Shapes],
    Rows = [begin
                Order = [S || {_, S} <- lists:sort([{rand:uniform(), S} || S <- Shapes])],
                Ts = maps:from_list([{S, time(S, N, Ctx, Msg)} || S <- Order]),
                [maps:get(S, Ts) || S <- Shapes]
            end || _ <- lists:seq(1, Rounds)],
    lists:foreach(
      fun({K, S}) ->
              Ts = [lists:nth(K, R) || R <- Rows],
              Ratios = [lists:nth(K, R) / hd(R) || R <- Rows],
              io:format("~-13s ~7.1f ns (fastest ~.1f)  ~.3fx~n",
                        [S, median(Ts), lists:min(Ts), median(Ratios)])
      end, lists:zip(lists:seq(1, length(Shapes)), Shapes)),
    halt(0).

time(Shape, N, Ctx, Msg) ->
    Self = self(),
    Pid = spawn(fun() ->
                        T0 = erlang:monotonic_time(nanosecond),
                        ok = loop(Shape, N, Ctx, Msg),
                        Self ! {self(), erlang:monotonic_time(nanosecond) - T0}
                end),
    receive {Pid, T} -> T / N end.

loop(direct, N, C, M) -> l_direct(N, C, M);
loop(wrapper, N, C, M) -> l_wrapper(N, C, M);
loop('try', N, C, M) -> l_try(N, C, M);
loop('case', N, C, M) -> l_case(N, C, M);
loop(case_no_args, N, C, M) -> l_case_no_args(N, C, M).

l_direct(0, _, _) -> ok;
l_direct(N, C, M) -> _ = hand_nif:seed(C, ?QOP, M), l_direct(N - 1, C, M).
l_wrapper(0, _, _) -> ok;
l_wrapper(N, C, M) -> _ = wrapper(C, ?QOP, M), l_wrapper(N - 1, C, M).
l_try(0, _, _) -> ok;
l_try(N, C, M) -> _ = with_try(C, ?QOP, M), l_try(N - 1, C, M).
l_case(0, _, _) -> ok;
l_case(N, C, M) -> _ = with_case(C, ?QOP, M), l_case(N - 1, C, M).
l_case_no_args(0, _, _) -> ok;
l_case_no_args(N, C, M) -> _ = with_case_no_args(C, ?QOP, M), l_case_no_args(N - 1, C, M).

wrapper(C, Q, M) -> hand_nif:seed(C, Q, M).

%% The shape nocopy_stubgen generates.
with_try(C, Q, M) ->
    try hand_nif:seed(C, Q, M)
    catch error:{'$nocopy_error', R, Cause} -> erlang:error(R, [C, Q, M], ?EI(Cause))
    end.

%% An error returned, not raised: the arguments kept for erlang:error/3.
with_case(C, Q, M) ->
    case hand_nif:seed(C, Q, M) of
        {'$nocopy_error', R, Cause, _Token} -> erlang:error(R, [C, Q, M], ?EI(Cause));
        Result -> Result
    end.

%% The same with the arguments in the error return: no value kept across
%% the call (a frame all the same, to look at the result).
with_case_no_args(C, Q, M) ->
    case hand_nif:seed(C, Q, M) of
        {'$nocopy_error', R, Cause, Args, _Token} -> erlang:error(R, Args, ?EI(Cause));
        Result -> Result
    end.

median(L) ->
    lists:nth((length(L) + 1) div 2, lists:sort(L)).
