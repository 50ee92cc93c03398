%% The C module sums on both backends: the NIF (module sums) and the linked-in
%% driver (module sums_drv, through a port).
-module(sums_tests).
-include_lib("eunit/include/eunit.hrl").

nif_test() ->
    check(fun sums:checksum/2, fun sums:middle/3).

driver_test() ->
    {ok, Port} = sums_drv:open(),
    try
        check(fun(Key, Data) -> sums_drv:checksum(Port, Key, Data) end,
              fun(Data, Off, Len) -> sums_drv:middle(Port, Data, Off, Len) end)
    after
        ok = sums_drv:close(Port)
    end.

check(Checksum, Middle) ->
    Data = binary:copy(<<"nocopy">>, 1000),
    ?assertEqual({ok, checksum(7, Data)}, Checksum(7, Data)),
    ?assertEqual({error, empty}, Checksum(7, <<>>)),
    ?assertError(badarg, Checksum(7, not_a_binary)),
    Slice = Middle(Data, 6, 600),
    ?assertEqual(binary:part(Data, 6, 600), Slice),
    %% A slice of Data, not a copy: it references all of Data's bytes.
    ?assertEqual(byte_size(Data), binary:referenced_byte_size(Slice)).

%% What sums.c computes, in Erlang.
checksum(Key, Data) ->
    lists:foldl(fun(Byte, Sum) -> (Sum * 31 + Byte) band 16#ffffffffffffffff end,
                Key, binary_to_list(Data)).
