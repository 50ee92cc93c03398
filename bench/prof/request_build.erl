%% @doc What building a driver request costs on the Erlang side alone, the
%% stubs' encodings of wire versions 3 and 4 against the hand-written
%% driver's (bench/bench_ports.erl), for the seed call and for iodata of 64
%% pieces: each construction in a loop, rounds interleaved, the median and
%% the fastest round per call. A measurement, never a test.
%%
%% On OTP 25 every segment of a binary construction is a call into the
%% runtime (`erl +JDdump true': "insert string", "construct integer
%% segment"), whatever the integer's size: the seed's v4 header is seven
%% (three integers and the four constant runs around them), the hand
%% driver's three. `seed_kinds_first' is a sketch, not a wire version: the
%% same bytes with the arguments' kind bytes moved into the constant header,
%% so the header is one constant run and three integers.
%%
%%   erlc -o _build/bench/ebin bench/prof/request_build.erl
%%   erl -noshell -pa _build/bench/ebin -run request_build main 1048576
-module(request_build).

-export([main/1]).

-define(FP, 16#12345678).
-define(ROUNDS, 41).
-define(CALLS, 100000).

-spec main([string()]) -> no_return().
main([SizeS]) ->
    Size = list_to_integer(SizeS),
    B = binary:copy(<<1>>, Size),
    Io = [binary:part(B, I * (Size div 64), Size div 64) || I <- lists:seq(0, 63)],
    T = erlang:unique_integer(),
    Fs = [{empty, fun() -> ok end},
          {unique_integer, fun() -> erlang:unique_integer() end},
          {hand_seed, fun() -> hand_seed(0, 1, B) end},
          {seed_v3, fun() -> seed_v3(T, 0, 1, B) end},
          {seed_v4, fun() -> seed_v4(T, 0, 1, B) end},
          {seed_kinds_first, fun() -> seed_kinds_first(T, 0, 1, B) end},
          {hand_iodata, fun() -> hand_iodata(Io) end},
          {iodata_v3, fun() -> iodata_v3(T, Io) end},
          {iodata_v4, fun() -> iodata_v4(T, Io) end}],
    Rows = [[{K, time(F)} || {K, F} <- Fs] || _ <- lists:seq(1, ?ROUNDS)],
    [begin
         Ts = lists:sort([proplists:get_value(K, Row) || Row <- Rows]),
         io:format("~-16s median ~7.1f ns  fastest ~7.1f ns~n",
                   [K, lists:nth((?ROUNDS + 1) div 2, Ts), hd(Ts)])
     end || {K, _} <- Fs],
    halt(0).

time(F) ->
    {Us, ok} = timer:tc(fun() -> loop(?CALLS, F) end),
    Us * 1000 / ?CALLS.

loop(0, _) -> ok;
loop(N, F) -> _ = F(), loop(N - 1, F).

%% The seed call's request (seed_calls/4: handle, integer, binary).
seed_v3(T, A1, A2, A3) ->
    [<<"nc", 3, ?FP:32, 4:32, 3:32, $i, T:64/signed, $h, A1:64, $i, A2:64/signed,
       $b, (byte_size(A3)):64>>, A3].

seed_v4(T, A1, A2, A3) ->
    [<<"nc", 4, ?FP:32, 4:32, 3:32, $i, T:64/signed, $h, A1:64, $i, A2:64/signed, $B>>, A3].

%% The sketch: the arguments' kinds ("h", "i", "B") in the constant header.
seed_kinds_first(T, A1, A2, A3) ->
    [<<"nc", 5, ?FP:32, 4:32, 3:32, "hiB", $i, T:64/signed, A1:64, A2:64/signed>>, A3].

%% iodata/2's request: measured ("v") or to the end ("V").
iodata_v3(T, A1) ->
    try iolist_size(A1) of
        Sz -> [<<"nc", 3, ?FP:32, 6:32, 1:32, $i, T:64/signed, $v, Sz:64>>, A1]
    catch
        error:badarg -> error
    end.

iodata_v4(T, A1) ->
    [<<"nc", 4, ?FP:32, 6:32, 1:32, $i, T:64/signed, $V>>, A1].

hand_seed(Ctx, Qop, Msg) -> [<<2, Ctx:32, Qop:32>>, Msg].

hand_iodata(Data) -> [<<3, 0:32, 0:32>> | Data].
