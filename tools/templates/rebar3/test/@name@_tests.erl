%% The C module @name@ on both backends: the NIF (module @name@) and the
%% linked-in driver (module @name@_drv, whose functions take a port first).
-module(@name@_tests).
-include_lib("eunit/include/eunit.hrl").

nif_test_() ->
    cases("nif", fun @name@:checksum/1, fun @name@:field/3).

driver_test_() ->
    {setup,
     fun() -> {ok, Port} = @name@_drv:open(), Port end,
     fun(Port) -> ok = @name@_drv:close(Port) end,
     fun(Port) ->
             cases("driver",
                   fun(Data) -> @name@_drv:checksum(Port, Data) end,
                   fun(Data, Sep, N) -> @name@_drv:field(Port, Data, Sep, N) end)
     end}.

%% The same cases on either backend, titled "Backend: what".
cases(Backend, Checksum, Field) ->
    Row = <<"alpha,,gamma">>,
    Long = binary:copy(<<"x">>, 1000),
    Big = <<"id,", Long/binary, ",end">>,
    Cases =
        [{"checksum: FNV-1a", ?_assertEqual(fnv1a(Big), Checksum(Big))},
         {"checksum of no bytes", ?_assertEqual(16#cbf29ce484222325, Checksum(<<>>))},
         {"checksum: not a binary", ?_assertError(badarg, Checksum("text"))},
         {"field 0", ?_assertEqual({ok, <<"alpha">>}, Field(Row, $,, 0))},
         {"field 1 is empty", ?_assertEqual({ok, <<>>}, Field(Row, $,, 1))},
         {"field 2, the last", ?_assertEqual({ok, <<"gamma">>}, Field(Row, $,, 2))},
         {"no field 3", ?_assertEqual({error, no_field}, Field(Row, $,, 3))},
         {"a last field may be empty", ?_assertEqual({ok, <<>>}, Field(<<"a,">>, $,, 1))},
         {"no separator: the whole", ?_assertEqual({ok, Row}, Field(Row, $;, 0))},
         {"a separator is a byte", ?_assertError(badarg, Field(Row, 256, 0))},
         {"a field is a slice, not a copy",
          fun() ->
                  {ok, F} = Field(Big, $,, 1),
                  ?assertEqual(Long, F),
                  ?assertEqual(byte_size(Big), binary:referenced_byte_size(F))
          end}],
    [{Backend ++ ": " ++ Title, Test} || {Title, Test} <- Cases].

%% What checksum/1 computes, in Erlang.
fnv1a(Data) ->
    lists:foldl(fun(Byte, H) -> ((H bxor Byte) * 16#100000001b3) band 16#ffffffffffffffff end,
                16#cbf29ce484222325, binary_to_list(Data)).
