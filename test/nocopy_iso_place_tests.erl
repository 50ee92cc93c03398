%% Tests of placing bytes in an isolate's input region: nocopy_iso:binary/2
%% of iodata (one binary in the region, the pieces copied in order, never
%% flattened in the VM first), and where large copies run: a copy of more
%% than 1 MiB into the region (by binary/2, or a call's ordinary input) is
%% made on a dirty CPU scheduler, which info/1 counts (`dirty_copies'), so
%% a copy on a normal scheduler, or a small one sent dirty, fails a test.
-module(nocopy_iso_place_tests).

-include_lib("eunit/include/eunit.hrl").

-define(MiB, (1 bsl 20)).

start() ->
    {ok, Iso} = nocopy_test_iso:start([{region_bytes, 1 bsl 26}]),
    Iso.

place_test_() ->
    {foreach, fun start/0, fun nocopy_test_iso:stop/1,
     [fun(Iso) -> {Name, {timeout, 60, fun() -> F(Iso) end}} end
      || {Name, F} <- [{"binary/2 of iodata: one binary in the region", fun iodata/1},
                       {"copies of more than 1 MiB run on a dirty CPU scheduler", fun dirty/1},
                       {"binary/2 larger than the region: enomem", fun too_big/1},
                       {"bad arguments of binary/2", fun bad_args/1}]]}.

%% Size bytes of varied content, a fresh refc binary.
big(Size) ->
    Pattern = <<"0123456789abcdefghijklmnopqrstuvwxyz">>,
    list_to_binary([binary:copy(Pattern, Size div 36), binary:part(Pattern, 0, Size rem 36)]).

info(Iso, Key) ->
    maps:get(Key, nocopy_iso:info(Iso)).

child_info(Iso, Key) ->
    nocopy_test_lib:wait_until(fun() -> maps:is_key(Key, nocopy_iso:info(Iso)) end, 10000),
    info(Iso, Key).

%% The offset of a binary in the VM's input region, or `outside'.
offset(Iso, Bin) ->
    A = nocopy_iso:address(Bin),
    Base = info(Iso, input_base),
    case A >= Base andalso A < Base + info(Iso, region_bytes) of
        true -> A - Base;
        false -> outside
    end.

iodata(Iso) ->
    Big = big(100000),
    Data = [<<"ab">>, [$c, [<<"de">> | <<"f">>]], <<>>, [], binary:part(Big, 10, 5000), 255],
    Dirty0 = info(Iso, dirty_copies),
    A = nocopy_iso:binary(Iso, Data),
    ?assertEqual(iolist_to_binary(Data), A),
    Off = offset(Iso, A),
    ?assertNotEqual(outside, Off),
    %% The child reads it where it lies: no copy.
    Copied0 = info(Iso, copied_bytes),
    ?assertEqual(child_info(Iso, child_input_base) + Off, nocopy_test_iso:address_of(Iso, A)),
    ?assertEqual(Copied0, info(Iso, copied_bytes)),
    %% Negative control: the same bytes as an ordinary binary are not in the
    %% region, and reach the child as a copy.
    Ordinary = iolist_to_binary(Data),
    ?assertEqual(outside, offset(Iso, Ordinary)),
    _ = nocopy_test_iso:address_of(Iso, Ordinary),
    ?assertEqual(Copied0 + byte_size(Ordinary), info(Iso, copied_bytes)),
    %% Empty iodata is an empty binary; small copies stay on this scheduler.
    ?assertEqual(<<>>, nocopy_iso:binary(Iso, [[], <<>>])),
    ?assertEqual(Dirty0, info(Iso, dirty_copies)).

dirty(Iso) ->
    Two = big(2 * ?MiB),
    D0 = info(Iso, dirty_copies),
    %% binary/2 of 2 MiB (an I/O list of two 1 MiB halves): dirty.
    A = nocopy_iso:binary(Iso, [binary:part(Two, 0, ?MiB), binary:part(Two, ?MiB, ?MiB)]),
    ?assertEqual(Two, A),
    ?assertEqual(D0 + 1, info(Iso, dirty_copies)),
    %% Exactly 1 MiB is not more than 1 MiB: copied here.
    One = nocopy_iso:binary(Iso, binary:part(Two, 0, ?MiB)),
    ?assertEqual(binary:part(Two, 0, ?MiB), One),
    ?assertEqual(D0 + 1, info(Iso, dirty_copies)),
    %% A call whose ordinary input is 2 MiB: copied once, on a dirty scheduler.
    C0 = info(Iso, copied_bytes),
    Addr = nocopy_test_iso:address_of(Iso, Two),
    ?assert(is_integer(Addr)),
    ?assertEqual(C0 + 2 * ?MiB, info(Iso, copied_bytes)),
    ?assertEqual(D0 + 2, info(Iso, dirty_copies)),
    %% The same bytes already in the region: no copy, nothing dirty.
    _ = nocopy_test_iso:address_of(Iso, A),
    ?assertEqual(C0 + 2 * ?MiB, info(Iso, copied_bytes)),
    ?assertEqual(D0 + 2, info(Iso, dirty_copies)).

too_big(Iso) ->
    Chunk = big(?MiB),
    Region = info(Iso, region_bytes),
    Data = lists:duplicate(Region div ?MiB + 1, Chunk),
    ?assertError(enomem, nocopy_iso:binary(Iso, Data)),
    %% The isolate still works.
    ?assertEqual(<<"ok">>, nocopy_iso:binary(Iso, <<"ok">>)).

bad_args(Iso) ->
    [assert_cause(fun() -> nocopy_iso:binary(Iso, Bad) end, {2, <<"expected iodata">>})
     || Bad <- [foo, [foo], [256], [-1], [<<"a">> | foo], 1.5, {<<"a">>}]],
    assert_cause(fun() -> nocopy_iso:binary(foo, <<"x">>) end, {1, <<"expected an isolate">>}),
    assert_cause(fun() -> nocopy_iso:binary(make_ref(), [<<"x">>]) end,
                 {1, <<"expected an isolate">>}).

assert_cause(Fun, Cause) ->
    nocopy_test_lib:assert_cause(Fun, Cause).
