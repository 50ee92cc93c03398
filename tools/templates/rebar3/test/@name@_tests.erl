%% The C module @name@ on the three backends: the NIF (module @name@), the
%% linked-in driver (module @name@_drv, whose functions take a port first)
%% and the isolated backend (module @name@_iso, the same C in a child
%% process, whose functions take an isolate first).
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

isolated_test_() ->
    {setup,
     fun() -> {ok, Iso} = @name@_iso:start(), Iso end,
     fun(Iso) -> ok = @name@_iso:stop(Iso) end,
     fun(Iso) ->
             cases("isolated",
                   fun(Data) -> @name@_iso:checksum(Iso, Data) end,
                   fun(Data, Sep, N) -> @name@_iso:field(Iso, Data, Sep, N) end)
     end}.

%% The same cases on each backend, titled "Backend: what".
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
                  slice_of(Backend, Big, F)
          end}],
    [{Backend ++ ": " ++ Title, Test} || {Title, Test} <- Cases].

%% On the NIF and the driver the field refers to all of Big's bytes. The
%% isolate's is a view of Big's one copy in its shared memory, which Erlang
%% sees as a binary of its own (a binary placed there with
%% nocopy_iso:binary/2 would cross with no copy at all).
slice_of("isolated", _Big, _Field) -> ok;
slice_of(_, Big, Field) -> ?assertEqual(byte_size(Big), binary:referenced_byte_size(Field)).

%% What checksum/1 computes, in Erlang.
fnv1a(Data) ->
    lists:foldl(fun(Byte, H) -> ((H bxor Byte) * 16#100000001b3) band 16#ffffffffffffffff end,
                16#cbf29ce484222325, binary_to_list(Data)).
