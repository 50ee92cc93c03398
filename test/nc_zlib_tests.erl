%% nc_zlib_tests: the zlib binding (examples/zlib/nc_zlib.c) checked against an
%% independent implementation, OTP's zlib module, on both backends.
%%
%% - OTP decompresses what nc_zlib compressed (zlib, gzip, raw; one-shot and
%%   streaming; every level) and nc_zlib decompresses what OTP compressed;
%%   OTP's zlib is linked to the same system libz here (Debian's erts links
%%   libz.so.1), so at the same level the compressed bytes are equal too;
%% - streaming against one-shot: the same bytes for any split of the input
%%   (levels 1-9); sync and full flushes make every segment decodable at once;
%% - iodata of every shape, sizes from 0 to 24 MiB, corrupt and truncated input
%%   (every prefix of a stream), trailing data, preset dictionaries;
%% - every bad argument raises badarg whose error_info names the argument with
%%   the exact text; closed streams and streams of the other kind or backend;
%% - every z_stream is ended exactly once (a live counter in the library);
%% - the result binaries are the buffers zlib wrote (addresses, with negative
%%   controls that must differ); calls above the threshold run off the normal
%%   schedulers (thread names, no timing); a stream used by two calls at once
%%   refuses the second;
%% - round trips of random iodata, levels, splits and flushes with PropEr.
%%
%% Every test runs once per backend: the NIF (module nc_zlib) and the driver
%% (nc_zlib_drv:F(Port, ...), whose argument numbers are one higher because the
%% port comes first). "Erlang's address" of a binary is always read with the
%% NIF probe nc_zlib:address_of/1. No timing is asserted anywhere; what waits
%% for the runtime polls to a deadline.
-module(nc_zlib_tests).
-include_lib("eunit/include/eunit.hrl").

%% ZL_DIRTY_ABOVE in examples/zlib/nc_zlib.c.
-define(DIRTY_ABOVE, 4096).
-define(MIB, 1048576).
-define(LEVEL_TEXT,
        "expected a compression level: 0..9, none, default, best_speed or best_compression").
-define(IODATA_TEXT, "expected iodata").

-include("nocopy_proper.hrl").

%% ---- fixtures: one group per backend -----------------------------------------

nc_zlib_test_() ->
    nocopy_test_lib:example_groups({nc_zlib, nc_zlib_drv}, fun tests/1, 120).

tests(Kind) ->
    %% First: the live-stream count starts from this backend's library state
    %% before any other test leaves streams for the garbage collector.
    [{"every stream is ended exactly once", fun stream_lifetimes/1},
     {"compress: OTP decompresses it, every level, size and kind", fun compress_oracle/1},
     {"uncompress: decompresses what OTP compressed", fun uncompress_oracle/1},
     {"24 MiB both ways, one-shot and gzip", fun big/1},
     {"uncompress/2: the size hint", fun size_hints/1},
     {"gzip and gunzip against OTP; members; ISIZE", fun gzip_oracle/1},
     {"streaming deflate: same bytes as one-shot for any split", fun deflate_splits/1},
     {"streaming deflate: sync and full flushes decode at once", fun deflate_flushes/1},
     {"streaming deflate: gzip and raw formats", fun deflate_formats/1},
     {"streaming inflate: any split of OTP's streams", fun inflate_splits/1},
     {"streaming inflate: OTP's flushed segments", fun inflate_flushed/1},
     {"streaming inflate: formats, members, trailing data", fun inflate_formats/1},
     {"iodata of every shape", fun iodata_shapes/1},
     {"corrupt, truncated and trailing input", fun corrupt/1},
     {"a preset dictionary is need_dictionary", fun dictionary/1},
     {"bad arguments: badarg with the exact error_info", fun bad_arguments/1},
     {"closed streams and finished deflate streams", fun closed_streams/1},
     {"no copy out: the result is the buffer zlib wrote", fun no_copy_out/1},
     {"negative controls: copies have other addresses", fun controls/1},
     {"scheduling: the threshold moves calls off normal schedulers", fun scheduling/1},
     {"a stream used by two calls at once refuses the second", fun concurrent_use/1},
     {"round trips of random iodata, levels, splits, flushes (PropEr)", fun properties/1}]
    ++ [{"a stream of the other backend is refused", fun foreign_stream/1} || Kind =:= drv].

%% ---- helpers ---------------------------------------------------------------------

call(B, F, Args) -> nocopy_test_lib:call(B, F, Args).

addr(Bin) -> nc_zlib:address_of(Bin).

chunks({ok, Chunks}) when is_list(Chunks) ->
    [true = is_binary(C) || C <- Chunks],
    iolist_to_binary(Chunks).

%% Deterministic data of exactly N bytes. text: words in a random order (about
%% 3:1 at the default level); repeats: an 8 KiB run of such text repeated
%% (long matches, fast, about 100:1); random: incompressible.
data(Kind, N) ->
    rand:seed(exsss, {erlang:phash2(Kind), N, 17}),
    data1(Kind, N).

data1(_, 0) -> <<>>;
data1(random, N) -> rand:bytes(N);
data1(text, N) when N > 65536 ->
    repeat(words(65536 + 17), N);
data1(text, N) ->
    words(N);
data1(repeats, N) ->
    repeat(words(8192), N).

words(N) ->
    Words = {<<"lorem ">>, <<"ipsum ">>, <<"dolor ">>, <<"sit ">>, <<"amet, ">>,
             <<"consectetur ">>, <<"adipiscing ">>, <<"elit ">>, <<"sed ">>, <<"do\n">>},
    B = iolist_to_binary([element(rand:uniform(10), Words) || _ <- lists:seq(1, N div 5 + 1)]),
    binary:part(B, 0, N).

repeat(Block, N) ->
    S = byte_size(Block),
    B = iolist_to_binary([binary:copy(Block, N div S), binary:part(Block, 0, N rem S)]),
    N = byte_size(B),
    B.

%% OTP's streaming API, the oracle for streams.
otp_deflate(Level, Format, Parts) ->
    Z = zlib:open(),
    WBits = case Format of zlib -> 15; gzip -> 31; raw -> -15 end,
    ok = zlib:deflateInit(Z, Level, deflated, WBits, 8, default),
    Out = [zlib:deflate(Z, P, Flush) || {P, Flush} <- Parts],
    ok = zlib:deflateEnd(Z),
    zlib:close(Z),
    Out.

otp_inflate_stream() ->
    Z = zlib:open(),
    ok = zlib:inflateInit(Z),
    Z.

%% Splits a binary into pieces of K bytes (the last one shorter).
split(B, K) ->
    [binary:part(B, P, min(K, byte_size(B) - P)) || P <- lists:seq(0, byte_size(B) - 1, K)].

%% Runs an nc_zlib deflate stream over [{Data, Flush}], in order (a list
%% comprehension is sequential; the operands of ++ or a list's elements are
%% not evaluated in a defined order). Returns the outputs, in order.
deflate_all(B, Z, Steps) ->
    [begin
         Out = call(B, deflate, [Z, Io, Flush]),
         [true = is_binary(C) || C <- Out],
         Out
     end || {Io, Flush} <- Steps].

%% Runs an nc_zlib inflate stream over the pieces: {LastTag, Output}.
inflate_all(B, Z, Pieces) ->
    lists:foldl(fun(P, {_, Acc}) ->
                        case call(B, inflate, [Z, P]) of
                            {Tag, Out} when Tag =:= continue; Tag =:= finished ->
                                [true = is_binary(C) || C <- Out],
                                {Tag, [Acc, Out]};
                            Other ->
                                erlang:error({inflate, Other})
                        end
                end, {continue, []}, Pieces).

%% A large buffer is cut to size where zlib wrote it: a claim about OTP's own
%% allocators (measured; see hand_over() in nc_zlib.c). Under plain malloc
%% (`+Mea min', the second pass of `make asan', whose realloc always moves) it
%% does not apply; that the result is the buffer handed over is checked apart.
assert_in_place(What, WroteAt, HandedAt) ->
    case erlang:system_info({allocator, binary_alloc}) of
        false -> ok;
        _ -> ?assertEqual({What, WroteAt}, {What, HandedAt})
    end.

%% ---- error checks ------------------------------------------------------------------

%% F(Args) raises error:badarg from the stub itself, with error_info whose
%% cause is exactly {ArgNo, Text} (ArgNo of the C function, shifted past the
%% port on the driver); nocopy:format_error/2 and the shell show it.
check_badarg(B = #{shift := Shift}, F, Args, ArgNo, Text) ->
    try call(B, F, Args) of
        R -> erlang:error({expected_badarg, F, Args, {returned, R}})
    catch
        error:badarg:St -> check_error_info(B, F, Args, St, ArgNo + Shift, Text)
    end.

check_error_info(B = #{mod := Mod}, F, Args, St, N, Text) ->
    [{Mod1, F1, FrameArgs, Info} | _] = St,
    ?assertEqual({Mod, F, frame_args(B, Args)}, {Mod1, F1, FrameArgs}),
    ?assertEqual(#{module => nocopy, cause => {N, unicode:characters_to_binary(Text)}},
                 proplists:get_value(error_info, Info)),
    Shown = case Text of
                "expected" ++ _ ->
                    lists:flatten(io_lib:format("~ts, got: ~0tP", [Text, lists:nth(N, FrameArgs), 12]));
                _ ->
                    Text
            end,
    ?assertEqual(#{N => Shown}, nocopy_test_lib:error_strings(badarg, St)),
    Shell = unicode:characters_to_list(erl_error:format_exception(error, badarg, St)),
    Line = lists:flatten(io_lib:format("argument ~b: ~ts", [N, Shown])),
    ?assertNotEqual(nomatch, string:find(Shell, Line)).

frame_args(#{port := Port}, Args) -> [Port | Args];
frame_args(_, Args) -> Args.

await_count(B, N) ->
    nocopy_test_lib:wait_until(fun() -> call(B, stream_count, []) =:= N end, 10000),
    ?assertEqual(N, call(B, stream_count, [])).

%% ---- lifetimes ---------------------------------------------------------------------

stream_lifetimes(B = #{kind := nif}) ->
    [erlang:garbage_collect(P) || P <- processes()],
    Base = call(B, stream_count, []),
    Self = self(),
    Holder = spawn(fun() ->
                           Zs = [call(B, deflate_init, [L]) || L <- [0, 1, 6, 9, default]]
                               ++ [call(B, inflate_init, [F]) || F <- [zlib, gzip, raw, auto]]
                               ++ [call(B, inflate_init, []) || _ <- lists:seq(1, 31)],
                           {Ended, Kept} = lists:split(15, Zs),
                           [ok = end_stream(B, Z) || Z <- Ended],
                           Self ! {made, self()},
                           receive drop -> ok end,
                           %% Kept is dropped here: the process dies with it.
                           length(Kept)
                   end),
    receive {made, Holder} -> ok end,
    %% 40 made, 15 ended at once, 25 still referenced.
    await_count(B, Base + 25),
    MRef = monitor(process, Holder),
    Holder ! drop,
    receive {'DOWN', MRef, process, Holder, _} -> ok end,
    %% NIF resources: the destructors run once the runtime gets to them.
    await_count(B, Base),
    %% A stream that is used after being dropped by others still works: the
    %% count only falls when the last reference goes.
    Z = call(B, deflate_init, [1]),
    await_count(B, Base + 1),
    ?assertEqual(<<"x">>, zlib:uncompress(iolist_to_binary(call(B, deflate, [Z, <<"x">>, finish])))),
    ok = call(B, deflate_end, [Z]),
    await_count(B, Base);
stream_lifetimes(B = #{kind := drv}) ->
    Base = call(B, stream_count, []),
    %% Driver handles live until ended or until their port closes.
    {ok, P2} = nc_zlib_drv:open(),
    Zs = [nc_zlib_drv:deflate_init(P2, L) || L <- [0, 1, 6, 9, default]]
        ++ [nc_zlib_drv:inflate_init(P2, F) || F <- [zlib, gzip, raw, auto]]
        ++ [nc_zlib_drv:inflate_init(P2) || _ <- lists:seq(1, 31)],
    {Ended, _Kept} = lists:split(15, Zs),
    [ok = end_stream(#{mod => nc_zlib_drv, port => P2}, Z) || Z <- Ended],
    await_count(B, Base + 25),
    ok = nc_zlib_drv:close(P2),
    await_count(B, Base),
    Z = call(B, inflate_init, []),
    await_count(B, Base + 1),
    ok = call(B, inflate_end, [Z]),
    await_count(B, Base).

%% Ends a stream of either kind (the handle does not say which on the driver).
end_stream(B, Z) ->
    try call(B, deflate_end, [Z])
    catch error:badarg -> call(B, inflate_end, [Z])
    end.

%% ---- one-shot against OTP ------------------------------------------------------------

-define(LEVELS, [0, 1, 2, 5, 6, 9, none, best_speed, best_compression, default]).

otp_level(none) -> 0;
otp_level(best_speed) -> 1;
otp_level(best_compression) -> 9;
otp_level(L) -> L.

compress_oracle(B) ->
    Small = [0, 1, 2, 64, 65, 1000, 65537],
    [begin
         D = data(Kind, N),
         C = call(B, compress, [D]),
         ?assertEqual({Kind, N, D}, {Kind, N, zlib:uncompress(C)}),
         %% Same system zlib, same level: the same bytes as OTP's.
         ?assertEqual({Kind, N, zlib:compress(D)}, {Kind, N, C}),
         <<16#78, _/binary>> = C,
         [begin
              CL = call(B, compress, [D, L]),
              ?assertEqual({Kind, N, L, D}, {Kind, N, L, zlib:uncompress(CL)}),
              %% Stored blocks (level 0) end where the output room ends, which
              %% differs between the two; every other level gives the same bytes.
              [?assertEqual({Kind, N, L, otp_compress(D, otp_level(L))}, {Kind, N, L, CL})
               || otp_level(L) =/= 0]
          end || L <- ?LEVELS, N =< 1000 orelse lists:member(L, [1, 6, 9, none])]
     end || Kind <- [text, random, repeats], N <- Small],
    %% 1 MiB at the extreme levels.
    [begin
         D = data(Kind, ?MIB),
         ?assertEqual({Kind, L, D}, {Kind, L, zlib:uncompress(call(B, compress, [D, L]))})
     end || {Kind, L} <- [{text, 1}, {text, 9}, {random, 0}]],
    %% Levels do what they say on compressible data: 0 stores, 9 is no larger than 1.
    T = data(text, 100000),
    S0 = byte_size(call(B, compress, [T, 0])),
    S1 = byte_size(call(B, compress, [T, 1])),
    S9 = byte_size(call(B, compress, [T, 9])),
    ?assert(S0 > 100000),
    ?assert(S9 =< S1 andalso S1 < S0 div 2).

otp_compress(D, Level) ->
    iolist_to_binary(otp_deflate(Level, zlib, [{D, finish}])).

uncompress_oracle(B) ->
    [begin
         D = data(Kind, N),
         [begin
              C = otp_compress(D, L),
              R = call(B, uncompress, [C]),
              ?assertEqual({Kind, N, L, D}, {Kind, N, L, chunks(R)}),
              %% With the exact size as a hint: exactly one binary (none if empty).
              Exact = call(B, uncompress, [C, N]),
              ?assertEqual({Kind, N, L, [D || N > 0]}, {Kind, N, L, element(2, Exact)})
          end || L <- [0, 1, 6, 9], N < ?MIB orelse L =:= 6],
         ?assertEqual({Kind, N, D}, {Kind, N, chunks(call(B, uncompress, [zlib:compress(D)]))})
     end || Kind <- [text, random, repeats], N <- [0, 1, 64, 65, 1000, 65537, ?MIB + 3]].

%% 24 MiB both ways. Also the no-copy proof at this size: the result is the
%% buffer zlib wrote, cut to size in place (deflateBound's 24 MiB cut to a few
%% hundred KiB; inflate's last chunk, megabytes, cut to size).
big(B) ->
    N = 24 * ?MIB,
    D = data(repeats, N),
    {C, HandedAt, WroteAt, _} = call(B, compress_traced, [D, default]),
    ?assertEqual(D, zlib:uncompress(C)),
    ?assertEqual(zlib:compress(D), C),
    ?assertEqual(HandedAt, addr(C)),
    assert_in_place(compress, WroteAt, HandedAt),
    {{ok, Chunks}, Addrs, LastWroteAt, _} = call(B, uncompress_traced, [C]),
    ?assertEqual(D, iolist_to_binary(Chunks)),
    ?assert(length(Chunks) =< 3),
    ?assertEqual(Addrs, [addr(X) || X <- Chunks]),
    ?assert(byte_size(lists:last(Chunks)) >= 512 * 1024),   % so that this means something:
    assert_in_place(uncompress, LastWroteAt, lists:last(Addrs)),
    ?assertEqual({ok, [D]}, call(B, uncompress, [C, N])).

size_hints(B) ->
    D = data(text, 300000),
    C = zlib:compress(D),
    ?assertEqual({ok, [D]}, call(B, uncompress, [C, 300000])),
    %% Too small: more chunks, same bytes; the first is exactly the hint.
    {ok, [First | _] = Small} = call(B, uncompress, [C, 1000]),
    ?assertEqual(1000, byte_size(First)),
    ?assert(length(Small) > 1),
    ?assertEqual(D, iolist_to_binary(Small)),
    ?assertEqual(D, chunks(call(B, uncompress, [C, 0]))),
    ?assertEqual(D, chunks(call(B, uncompress, [C, 1]))),
    %% Too large (and absurd): capped by what the input can produce.
    ?assertEqual({ok, [D]}, call(B, uncompress, [C, 400000])),
    ?assertEqual({ok, [D]}, call(B, uncompress, [C, 1 bsl 40])),
    ?assertEqual({ok, []}, call(B, uncompress, [zlib:compress(<<>>), 0])),
    ?assertEqual({ok, []}, call(B, uncompress, [zlib:compress(<<>>), 1 bsl 40])),
    %% Incompressible data is stored (RFC 1951 BTYPE 00): the first chunk is
    %% then the input's size, not a guess 8 times larger; one binary.
    R = data(random, 300000),
    ?assertEqual({ok, [R]}, call(B, uncompress, [zlib:compress(R)])),
    ?assertEqual({ok, [R]}, call(B, uncompress, [otp_compress(R, 9)])),
    %% The hint does not change the verdict on bad data.
    ?assertEqual({error, truncated}, call(B, uncompress, [binary:part(C, 0, 100), 300000])).

gzip_oracle(B) ->
    [begin
         D = data(Kind, N),
         G = call(B, gzip, [D]),
         ?assertEqual({Kind, N, D}, {Kind, N, zlib:gunzip(G)}),
         <<31, 139, 8, _/binary>> = G,
         [?assertEqual({Kind, N, D}, {Kind, N, zlib:gunzip(call(B, gzip, [D, best_compression]))})
          || N < ?MIB],
         %% ISIZE is exact for one member: one binary, or none when empty.
         ?assertEqual({Kind, N, {ok, [D || N > 0]}}, {Kind, N, call(B, gunzip, [zlib:gzip(D)])}),
         ?assertEqual({Kind, N, {ok, [D || N > 0]}}, {Kind, N, call(B, gunzip, [G])})
     end || {Kind, N} <- [{K, N} || K <- [text, random], N <- [0, 1, 100, 65537]] ++ [{text, ?MIB}]],
    %% Members follow one another (RFC 1952 2.2), as in gzip(1) and OTP.
    A = data(text, 5000),
    Z = data(random, 3000),
    Two = [zlib:gzip(A), call(B, gzip, [Z])],
    ?assertEqual(<<A/binary, Z/binary>>, zlib:gunzip(iolist_to_binary(Two))),
    ?assertEqual(<<A/binary, Z/binary>>, chunks(call(B, gunzip, [Two]))),
    ?assertEqual(<<A/binary, Z/binary, A/binary>>, chunks(call(B, gunzip, [[Two, zlib:gzip(A)]]))),
    %% A wrong ISIZE is only an estimate: the data decides, the CRC checks.
    G = zlib:gzip(A),
    Body = binary:part(G, 0, byte_size(G) - 4),
    ?assertEqual({error, data_error}, call(B, gunzip, [[Body, <<1:32/little>>]])),
    ?assertEqual({error, data_error}, call(B, gunzip, [[Body, <<16#ffffffff:32/little>>]])),
    %% zlib data is not gzip, and gzip is not zlib.
    ?assertEqual({error, data_error}, call(B, gunzip, [zlib:compress(A)])),
    ?assertEqual({error, data_error}, call(B, uncompress, [G])).

%% ---- streams against one-shot and OTP --------------------------------------------------

deflate_splits(B) ->
    D = data(text, 100000),
    [begin
         One = call(B, compress, [D, L]),
         [begin
              Z = call(B, deflate_init, [L]),
              Out = deflate_all(B, Z, [{P, none} || P <- split(D, K)] ++ [{<<>>, finish}]),
              [true = is_binary(X) || X <- lists:append(Out)],
              ?assertEqual({L, K, One}, {L, K, iolist_to_binary(Out)}),
              ok = call(B, deflate_end, [Z])
          end || K <- [1000, 65536, 100000]],
         %% Everything in the finishing call.
         Z1 = call(B, deflate_init, [L]),
         ?assertEqual({L, One}, {L, iolist_to_binary(call(B, deflate, [Z1, D, finish]))})
     end || L <- [1, 9, default]],
    %% One-byte pieces (a short input: each call is a round trip).
    S = data(text, 3000),
    Z2 = call(B, deflate_init, [6]),
    Out2 = deflate_all(B, Z2, [{P, none} || P <- split(S, 1)] ++ [{[], finish}]),
    ?assertEqual(call(B, compress, [S, 6]), iolist_to_binary(Out2)),
    %% Level 0 (stored blocks) cuts blocks where the output room ends, so only
    %% the round trip is defined.
    Z3 = call(B, deflate_init, [none]),
    Out3 = deflate_all(B, Z3, [{P, none} || P <- split(D, 7777)] ++ [{<<>>, finish}]),
    ?assertEqual(D, zlib:uncompress(iolist_to_binary(Out3))),
    %% Empty input and nothing to flush: no output, no empty binaries.
    Z4 = call(B, deflate_init, [6]),
    ?assertEqual([], call(B, deflate, [Z4, <<>>, none])),
    ?assertEqual([], call(B, deflate, [Z4, [[], <<>>], none])),
    ?assertEqual(<<>>, zlib:uncompress(iolist_to_binary(deflate_all(B, Z4, [{<<>>, none},
                                                                            {<<>>, finish}])))).

deflate_flushes(B) ->
    Parts = [data(text, 1000), data(random, 70000), <<>>, data(repeats, 300000), <<"x">>,
             data(text, 100)],
    [begin
         Z = call(B, deflate_init, [6]),
         O = otp_inflate_stream(),
         %% After each flush, OTP's inflate returns exactly the data so far.
         [?assertEqual({Flush, P}, {Flush, iolist_to_binary(zlib:inflate(O, call(B, deflate, [Z, P, Flush])))})
          || P <- Parts],
         Last = call(B, deflate, [Z, <<"end">>, finish]),
         ?assertEqual(<<"end">>, iolist_to_binary(zlib:inflate(O, Last))),
         ok = zlib:inflateEnd(O),
         zlib:close(O)
     end || Flush <- [sync, full]],
    %% The same segments through nc_zlib's own inflate stream.
    Z2 = call(B, deflate_init, [1]),
    I = call(B, inflate_init, []),
    [?assertEqual({continue, P}, begin
                                     {T, Out} = call(B, inflate, [I, call(B, deflate, [Z2, P, sync])]),
                                     {T, iolist_to_binary(Out)}
                                 end) || P <- Parts],
    {finished, Tail} = call(B, inflate, [I, call(B, deflate, [Z2, <<"end">>, finish])]),
    ?assertEqual(<<"end">>, iolist_to_binary(Tail)),
    %% A full flush resets the dictionary: decoding can start at the flush
    %% point with a raw inflater (the segment after it stands alone).
    Z3 = call(B, deflate_init, [6, raw]),
    First = call(B, deflate, [Z3, data(text, 5000), full]),
    Second = call(B, deflate, [Z3, data(text, 5000), finish]),
    ?assert(byte_size(iolist_to_binary(First)) > 0),
    ?assertEqual(data(text, 5000), zlib:unzip(iolist_to_binary(Second))),
    %% A flush of nothing after a flush adds nothing.
    Z4 = call(B, deflate_init, [6]),
    _ = call(B, deflate, [Z4, <<"abc">>, sync]),
    ?assertEqual([], call(B, deflate, [Z4, <<>>, sync])).

deflate_formats(B) ->
    D = data(text, 100000),
    [begin
         Z = call(B, deflate_init, [L, gzip]),
         G = iolist_to_binary(deflate_all(B, Z, [{P, none} || P <- split(D, 30000)]
                                             ++ [{<<>>, finish}])),
         ?assertEqual(D, zlib:gunzip(G)),
         ?assertEqual(G, call(B, gzip, [D, L])),
         ?assertEqual(iolist_to_binary(otp_deflate(L, gzip, [{D, finish}])), G),
         R = call(B, deflate_init, [L, raw]),
         Raw = iolist_to_binary(call(B, deflate, [R, D, finish])),
         ?assertEqual(D, zlib:unzip(Raw)),
         ?assertEqual(iolist_to_binary(otp_deflate(L, raw, [{D, finish}])), Raw),
         Zl = call(B, deflate_init, [L, zlib]),
         ?assertEqual(call(B, compress, [D, L]), iolist_to_binary(call(B, deflate, [Zl, D, finish])))
     end || L <- [1, default]],
    ?assertEqual(iolist_to_binary(otp_deflate(9, raw, [{D, finish}])),
                 iolist_to_binary(call(B, deflate, [call(B, deflate_init, [9, raw]), D, finish]))).

inflate_splits(B) ->
    [begin
         D = data(Kind, N),
         C = zlib:compress(D),
         [begin
              Z = call(B, inflate_init, []),
              {Tag, Out} = inflate_all(B, Z, split(C, K)),
              ?assertEqual({Kind, N, K, finished, D}, {Kind, N, K, Tag, iolist_to_binary(Out)}),
              ok = call(B, inflate_end, [Z])
          end || K <- [1, 13, 4096, byte_size(C)], K =< byte_size(C),
                 K > 1 orelse N =< 20000, K > 13 orelse N < 700000]
     end || Kind <- [text, random, repeats], N <- [0, 100, 20000, 700000]],
    %% Until the stream ends the answer is continue, with what could be
    %% decoded: a prefix of the data.
    D2 = data(text, 50000),
    C2 = zlib:compress(D2),
    Z2 = call(B, inflate_init, []),
    {continue, Part} = call(B, inflate, [Z2, binary:part(C2, 0, byte_size(C2) div 2)]),
    P = iolist_to_binary(Part),
    ?assert(byte_size(P) > 0),
    ?assertEqual(P, binary:part(D2, 0, byte_size(P))),
    ?assertEqual({continue, []}, call(B, inflate, [Z2, <<>>])),
    {finished, Rest} = call(B, inflate, [Z2, binary:part(C2, byte_size(C2) div 2, byte_size(C2) - byte_size(C2) div 2)]),
    ?assertEqual(D2, iolist_to_binary([P, Rest])).

inflate_flushed(B) ->
    Parts = [data(text, 2000), data(random, 50000), data(repeats, 100000), <<>>, <<"y">>],
    [begin
         [C1, C2, C3, C4, C5, End] = otp_deflate(6, zlib, [{P, Flush} || P <- Parts] ++ [{<<"end">>, finish}]),
         Z = call(B, inflate_init, []),
         [?assertEqual({Flush, continue, P}, begin
                                                {T, Out} = call(B, inflate, [Z, Seg]),
                                                {Flush, T, iolist_to_binary(Out)}
                                            end) || {P, Seg} <- lists:zip(Parts, [C1, C2, C3, C4, C5])],
         {finished, Last} = call(B, inflate, [Z, End]),
         ?assertEqual(<<"end">>, iolist_to_binary(Last))
     end || Flush <- [sync, full]].

inflate_formats(B) ->
    D = data(text, 60000),
    E = data(random, 5000),
    Formats = [{zlib, zlib:compress(D)}, {gzip, zlib:gzip(D)}, {raw, zlib:zip(D)},
               {auto, zlib:compress(D)}, {auto, zlib:gzip(D)}],
    [begin
         Z = call(B, inflate_init, [F]),
         {finished, Out} = inflate_all(B, Z, split(C, 1000)),
         ?assertEqual({F, D}, {F, iolist_to_binary(Out)})
     end || {F, C} <- Formats],
    ?assertEqual({error, data_error}, call(B, inflate, [call(B, inflate_init, [gzip]), zlib:compress(D)])),
    ?assertEqual({error, data_error}, call(B, inflate, [call(B, inflate_init, [zlib]), zlib:gzip(D)])),
    %% gzip and auto: members may follow, in the same call or a later one,
    %% split anywhere.
    Members = iolist_to_binary([zlib:gzip(D), zlib:gzip(E), zlib:gzip(<<>>), zlib:gzip(D)]),
    [begin
         Z = call(B, inflate_init, [F]),
         {finished, Out} = inflate_all(B, Z, split(Members, K)),
         ?assertEqual({F, K, <<D/binary, E/binary, D/binary>>}, {F, K, iolist_to_binary(Out)})
     end || F <- [gzip, auto], K <- [7, 10000, byte_size(Members)]],
    Zg = call(B, inflate_init, [gzip]),
    {finished, O1} = call(B, inflate, [Zg, zlib:gzip(E)]),
    ?assertEqual({finished, []}, call(B, inflate, [Zg, <<>>])),
    {finished, O2} = call(B, inflate, [Zg, zlib:gzip(D)]),
    ?assertEqual(<<E/binary, D/binary>>, iolist_to_binary([O1, O2])),
    %% zlib and raw end at their end: any byte after it is trailing_data,
    %% in the same call or later, and nothing after that changes.
    C = zlib:compress(E),
    Z1 = call(B, inflate_init, []),
    ?assertEqual({error, trailing_data}, call(B, inflate, [Z1, [C, <<0>>]])),
    Z2 = call(B, inflate_init, []),
    {finished, O3} = call(B, inflate, [Z2, C]),
    ?assertEqual(E, iolist_to_binary(O3)),
    ?assertEqual({finished, []}, call(B, inflate, [Z2, []])),
    ?assertEqual({error, trailing_data}, call(B, inflate, [Z2, C])),
    ?assertEqual({finished, []}, call(B, inflate, [Z2, <<>>])),
    Zr = call(B, inflate_init, [raw]),
    ?assertEqual({error, trailing_data}, call(B, inflate, [Zr, [zlib:zip(E), <<"more">>]])).

%% ---- iodata ------------------------------------------------------------------------------

iodata_shapes(B) ->
    Big = data(text, 100000),
    Part = binary:part(Big, 3, 70001),              % a sub-binary at an odd offset
    Shapes = [<<>>, [], [[]], [<<>>, [], [[], <<>>]], "a", [$a, [$b, [$c]]],
              [Big], [[[[Big]]]], [Big | <<"tail">>], [<<"head">> | Big], [Part, Part],
              ["bytes ", Big, [$\n, <<"x">> | <<"binary tail">>], 0, 255],
              [binary:part(Big, I, 1) || I <- lists:seq(0, 9999)],      % many pieces
              lists:duplicate(5000, <<"0123456789">>),
              lists:seq(0, 255),
              [lists:duplicate(100, [[<<>>]]), Big, lists:duplicate(100, [])]],
    [begin
         D = iolist_to_binary(Shape),
         C = call(B, compress, [Shape]),
         ?assertEqual({Shape, D}, {Shape, zlib:uncompress(C)}),
         ?assertEqual(zlib:compress(D), C),
         ?assertEqual(D, zlib:gunzip(call(B, gzip, [Shape, 1]))),
         Z = call(B, deflate_init, [default]),
         ?assertEqual(C, iolist_to_binary(call(B, deflate, [Z, Shape, finish]))),
         %% The compressed data in the same shapes, on the way back.
         ?assertEqual(D, chunks(call(B, uncompress, [reshape(zlib:compress(D), Shape)]))),
         I = call(B, inflate_init, []),
         {finished, Out} = call(B, inflate, [I, reshape(zlib:compress(D), Shape)]),
         ?assertEqual(D, iolist_to_binary(Out))
     end || Shape <- Shapes],
    %% A stream fed the same data in two shapes matches one-shot on the concatenation.
    Z = call(B, deflate_init, [6]),
    Two = iolist_to_binary(deflate_all(B, Z, [{["ab", [Big]], none},
                                              {[Part | <<"z">>], finish}])),
    ?assertEqual(call(B, compress, [[<<"ab">>, Big, Part, <<"z">>], 6]), Two).

%% The binary B cut into the shape of iodata Shape's kind: bytes, nesting,
%% binary tails, many pieces.
reshape(B, Shape) when is_binary(Shape) -> B;
reshape(B, []) -> [B];
reshape(B, Shape) ->
    N = byte_size(B),
    K = max(1, N div max(1, min(top_length(Shape, 0), 1000))),
    Pieces = split(B, K),
    case Pieces of
        [First | More] when byte_size(First) > 2 ->
            <<X, Y, R/binary>> = First,
            [X, [[Y]], [R | More] | <<>>];
        _ ->
            [Pieces]
    end.

%% Elements at the top of a possibly improper list.
top_length([_ | T], N) -> top_length(T, N + 1);
top_length(_, N) -> N.

%% ---- bad input data -------------------------------------------------------------------

corrupt(B) ->
    D = data(text, 2000),
    C = zlib:compress(D),
    %% Every strict prefix of a stream is truncated, never anything else.
    ?assertEqual([{error, truncated}],
                 lists:usort([call(B, uncompress, [binary:part(C, 0, K)])
                              || K <- lists:seq(0, byte_size(C) - 1)])),
    G = zlib:gzip(D),
    ?assertEqual([{error, truncated}],
                 lists:usort([call(B, gunzip, [binary:part(G, 0, K)])
                              || K <- lists:seq(0, byte_size(G) - 1, 3)])),
    %% Header, data and checksum damage.
    Flip = fun(Bin, Pos) ->
                   <<P:Pos/binary, X, R/binary>> = Bin,
                   <<P/binary, (X bxor 16#55), R/binary>>
           end,
    Last = byte_size(C) - 1,
    [?assertEqual({Where, {error, data_error}}, {Where, call(B, uncompress, [Flip(C, Pos)])})
     || {Where, Pos} <- [{cmf, 0}, {flg, 1}, {adler, Last}, {adler_first, Last - 3}]],
    %% A damaged body: zlib rejects it (bad code or the Adler-32 check).
    [?assertEqual({Pos, {error, data_error}}, {Pos, call(B, uncompress, [Flip(C, Pos)])})
     || Pos <- [2, 10, 100, byte_size(C) div 2]],
    ?assertEqual({error, data_error}, call(B, gunzip, [Flip(G, byte_size(G) - 5)])),   % CRC-32
    ?assertEqual({error, data_error}, call(B, gunzip, [Flip(G, 0)])),                  % magic
    ?assertEqual({error, data_error}, call(B, uncompress, [<<"not zlib data at all">>])),
    ?assertEqual({error, data_error}, call(B, uncompress, [data(random, 100000)])),
    ?assertEqual({error, truncated}, call(B, uncompress, [<<>>])),
    ?assertEqual({error, truncated}, call(B, uncompress, [[]])),
    ?assertEqual({error, truncated}, call(B, gunzip, [<<>>])),
    %% After the end of a zlib stream, nothing may follow (OTP's uncompress
    %% ignores it; this binding says so); after a gzip member only a member.
    ?assertEqual({error, trailing_data}, call(B, uncompress, [<<C/binary, 0>>])),
    ?assertEqual({error, trailing_data}, call(B, uncompress, [[C, C]])),
    ?assertEqual({error, data_error}, call(B, gunzip, [<<G/binary, "junk">>])),
    ?assertEqual({error, truncated}, call(B, gunzip, [<<G/binary, 31, 139>>])),
    %% Streams: a data error is final, every later call says so.
    Z = call(B, inflate_init, []),
    {continue, _} = call(B, inflate, [Z, binary:part(C, 0, 50)]),
    ?assertEqual({error, data_error}, call(B, inflate, [Z, Flip(binary:part(C, 50, Last - 49), 0)])),
    ?assertEqual({error, data_error}, call(B, inflate, [Z, binary:part(C, 50, Last - 49)])),
    ?assertEqual({error, data_error}, call(B, inflate, [Z, <<>>])),
    Z2 = call(B, inflate_init, []),
    ?assertEqual({error, data_error}, call(B, inflate, [Z2, <<"garbage">>])).

dictionary(B) ->
    D = data(text, 10000),
    Z = zlib:open(),
    ok = zlib:deflateInit(Z, default),
    _ = zlib:deflateSetDictionary(Z, <<"lorem ipsum dolor">>),
    C = iolist_to_binary(zlib:deflate(Z, D, finish)),
    zlib:close(Z),
    ?assertEqual({error, need_dictionary}, call(B, uncompress, [C])),
    I = call(B, inflate_init, []),
    ?assertEqual({error, need_dictionary}, call(B, inflate, [I, C])).

%% ---- misuse --------------------------------------------------------------------------------

bad_arguments(B) ->
    D = data(text, 1000),
    Dz = call(B, deflate_init, [6]),
    Iz = call(B, inflate_init, []),
    Fmt = "expected zlib, gzip or raw",
    IFmt = "expected zlib, gzip, raw or auto",
    Flush = "expected none, sync, full or finish",
    DHandle = "expected a zlib deflate stream handle",
    IHandle = "expected a zlib inflate stream handle",
    Size = "expected a size (a non-negative integer)",
    Cases =
        [{compress, [foo], 1, ?IODATA_TEXT},
         {compress, [<<1:7>>], 1, ?IODATA_TEXT},
         {compress, [[256]], 1, ?IODATA_TEXT},
         {compress, [[-1]], 1, ?IODATA_TEXT},
         {compress, [[<<"a">> | foo]], 1, ?IODATA_TEXT},
         {compress, [[<<"a">>, [{x}]]], 1, ?IODATA_TEXT},
         {compress, [[<<"a">> | <<1:1>>]], 1, ?IODATA_TEXT},
         {compress, [#{}], 1, ?IODATA_TEXT},
         {compress, [1.0], 1, ?IODATA_TEXT},
         {compress, [D, 10], 2, ?LEVEL_TEXT},
         {compress, [D, -1], 2, ?LEVEL_TEXT},
         {compress, [D, 1 bsl 64], 2, ?LEVEL_TEXT},
         {compress, [D, -(1 bsl 70)], 2, ?LEVEL_TEXT},
         {compress, [D, 6.0], 2, ?LEVEL_TEXT},
         {compress, [D, "6"], 2, ?LEVEL_TEXT},
         {compress, [D, fast], 2, ?LEVEL_TEXT},           % not an atom of the table
         {compress, [D, ok], 2, ?LEVEL_TEXT},             % a built-in atom
         {compress, [D, sync], 2, ?LEVEL_TEXT},           % an atom of the table, not a level
         {compress, [foo, 10], 1, ?IODATA_TEXT},          % the first bad argument is named
         {uncompress, [foo], 1, ?IODATA_TEXT},
         {uncompress, [<<1:9>>], 1, ?IODATA_TEXT},
         {uncompress, [D, -1], 2, "expected a size (a non-negative integer that fits size_t)"},
         {uncompress, [D, 1 bsl 64], 2, "expected a size (a non-negative integer that fits size_t)"},
         {uncompress, [D, big], 2, Size},
         {uncompress, [D, 1.5], 2, Size},
         {gzip, [{D}], 1, ?IODATA_TEXT},
         {gzip, [D, 11], 2, ?LEVEL_TEXT},
         {gunzip, [self()], 1, ?IODATA_TEXT},
         {deflate_init, [10], 1, ?LEVEL_TEXT},
         {deflate_init, [-1], 1, ?LEVEL_TEXT},
         {deflate_init, [speed], 1, ?LEVEL_TEXT},
         {deflate_init, [6, zip], 2, Fmt},
         {deflate_init, [6, auto], 2, Fmt},              % auto is for inflating
         {deflate_init, [6, "zlib"], 2, Fmt},
         {deflate_init, [100, zip], 1, ?LEVEL_TEXT},
         {deflate, [not_a_stream, D, none], 1, DHandle},
         {deflate, [make_ref(), D, none], 1, DHandle},
         {deflate, [Iz, D, none], 1, DHandle ++ ", not a handle of type zlib inflate stream"},
         {deflate, [Dz, foo, none], 2, ?IODATA_TEXT},
         {deflate, [Dz, [D | bar], none], 2, ?IODATA_TEXT},
         {deflate, [Dz, D, sync_flush], 3, Flush},
         {deflate, [Dz, D, 2], 3, Flush},
         {deflate, [Dz, D, gzip], 3, Flush},              % an atom of the table
         {deflate, [Dz, D, true], 3, Flush},
         {deflate, [foo, bar, baz], 1, DHandle},
         {deflate_end, [Iz], 1, DHandle ++ ", not a handle of type zlib inflate stream"},
         {deflate_end, [D], 1, DHandle},
         {inflate_init, [zip], 1, IFmt},
         {inflate_init, [15], 1, IFmt},
         {inflate, [Dz, D], 1, IHandle ++ ", not a handle of type zlib deflate stream"},
         {inflate, [{}, D], 1, IHandle},
         {inflate, [Iz, foo], 2, ?IODATA_TEXT},
         {inflate, [Iz, [1 | 2]], 2, ?IODATA_TEXT},
         {inflate_end, [Dz], 1, IHandle ++ ", not a handle of type zlib deflate stream"},
         {inflate_end, [[]], 1, IHandle},
         {compress_traced, [D, 99], 2, ?LEVEL_TEXT},
         {uncompress_traced, [atom], 1, ?IODATA_TEXT},
         {address_of, [[<<"a list">>]], 1, "expected a binary"}],
    [check_badarg(B, F, Args, N, Text) || {F, Args, N, Text} <- Cases],
    %% The streams took no harm from the failed calls.
    ?assertEqual(D, zlib:uncompress(iolist_to_binary(call(B, deflate, [Dz, D, finish])))),
    {finished, Out} = call(B, inflate, [Iz, zlib:compress(D)]),
    ?assertEqual(D, iolist_to_binary(Out)).

closed_streams(B) ->
    D = data(text, 5000),
    Dz = call(B, deflate_init, [6]),
    Part = call(B, deflate, [Dz, D, none]),
    ok = call(B, deflate_end, [Dz]),
    Closed = "the zlib deflate stream handle is closed",
    check_badarg(B, deflate, [Dz, D, none], 1, Closed),
    check_badarg(B, deflate, [Dz, <<>>, finish], 1, Closed),
    check_badarg(B, deflate_end, [Dz], 1, Closed),
    ?assert(is_list(Part)),
    Iz = call(B, inflate_init, []),
    {continue, _} = call(B, inflate, [Iz, binary:part(zlib:compress(D), 0, 10)]),
    ok = call(B, inflate_end, [Iz]),
    check_badarg(B, inflate, [Iz, D], 1, "the zlib inflate stream handle is closed"),
    check_badarg(B, inflate_end, [Iz], 1, "the zlib inflate stream handle is closed"),
    %% A closed stream of one kind is still the wrong kind for the other.
    check_badarg(B, inflate, [Dz, D], 1,
                 "expected a zlib inflate stream handle, not a handle of type zlib deflate stream"),
    %% A finished deflate stream takes no more calls.
    F = call(B, deflate_init, [1]),
    C = iolist_to_binary(call(B, deflate, [F, D, finish])),
    ?assertEqual(D, zlib:uncompress(C)),
    Finished = "expected a zlib deflate stream handle that has not finished",
    check_badarg(B, deflate, [F, <<>>, finish], 1, Finished),
    check_badarg(B, deflate, [F, D, none], 1, Finished),
    ok = call(B, deflate_end, [F]),
    %% Other streams are unaffected.
    Z = call(B, deflate_init, [1]),
    ?assertEqual(D, zlib:uncompress(iolist_to_binary(call(B, deflate, [Z, D, finish])))).

%% ---- no copy, scheduling, concurrency ---------------------------------------------------

no_copy_out(B) ->
    %% compress: one buffer of deflateBound bytes; the result is that buffer,
    %% and large results were cut without moving (see hand_over() in C).
    [begin
         D = data(Kind, N),
         {C, HandedAt, WroteAt, _} = call(B, compress_traced, [D, L]),
         ?assertEqual(D, zlib:uncompress(C)),
         ?assertEqual({Kind, N, HandedAt}, {Kind, N, addr(C)}),
         assert_in_place({Kind, N}, WroteAt, HandedAt)
     end || {Kind, N, L} <- [{random, 2 * ?MIB, 1},        % cut by a few bytes: a prefix
                             {text, 2 * ?MIB, 1}]],        % cut by 60%: resized in place
    %% Smaller results are still the buffer C handed over (the allocator may
    %% have moved a small one when it was cut: that is WroteAt, not asserted).
    [begin
         {C, HandedAt, _, _} = call(B, compress_traced, [data(Kind, N), 6]),
         ?assertEqual({Kind, N, HandedAt}, {Kind, N, addr(C)})
     end || {Kind, N} <- [{random, 65}, {random, 5000}, {text, 100000}]],
    %% uncompress: each chunk is a buffer inflate wrote (24 MiB: see big/1).
    [begin
         D = data(Kind, N),
         {{ok, Chunks}, HandedAt, LastWroteAt, _} = call(B, uncompress_traced, [zlib:compress(D)]),
         ?assertEqual(D, iolist_to_binary(Chunks)),
         ?assertEqual({Kind, N, HandedAt}, {Kind, N, [addr(X) || X <- Chunks]}),
         ?assert(lists:all(fun(X) -> byte_size(X) > 64 end, Chunks)),
         ?assert(length(Chunks) =< Most),
         %% A small last chunk may have been moved by the allocator when it
         %% was cut (a copy of under 512 KiB); a large one is not.
         case byte_size(lists:last(Chunks)) >= 512 * 1024 of
             true -> assert_in_place({Kind, N}, LastWroteAt, lists:last(HandedAt));
             false -> ok
         end
     end || {Kind, N, Most} <- [{repeats, 6 * ?MIB, 3}, {random, ?MIB, 1}, {text, ?MIB, 1}]],
    ok.

controls(B) ->
    %% A copy of a result lives elsewhere: the probe can fail.
    D = data(random, ?MIB),
    {C, HandedAt, _, _} = call(B, compress_traced, [D, 1]),
    ?assertEqual(HandedAt, addr(C)),
    ?assertNotEqual(HandedAt, addr(binary:copy(C))),
    %% Results of 64 bytes or less are copied by the runtime (heap binaries).
    {Small, SmallAt, _, _} = call(B, compress_traced, [<<>>, 6]),
    ?assertEqual(8, byte_size(Small)),
    ?assertNotEqual(SmallAt, addr(Small)),
    {{ok, [Tiny]}, [TinyAt], _, _} = call(B, uncompress_traced, [zlib:compress(<<"64 bytes or less">>)]),
    ?assertNotEqual(TinyAt, addr(Tiny)).

normal_thread(Name) -> re:run(Name, "^[0-9]+_scheduler$", [{capture, none}]) =:= match.
dirty_cpu_thread(Name) -> re:run(Name, "^[0-9]+_dirty_cpu", [{capture, none}]) =:= match.

check_thread(_, normal, Name) -> ?assert(normal_thread(Name));
check_thread(#{kind := nif}, dirty, Name) -> ?assert(dirty_cpu_thread(Name));
check_thread(#{kind := drv}, dirty, Name) -> ?assertNot(normal_thread(Name)).

scheduling(B) ->
    At = data(random, ?DIRTY_ABOVE),
    Above = data(random, ?DIRTY_ABOVE + 1),
    Half = data(random, ?DIRTY_ABOVE div 2),
    Cases = [{compress_traced, [<<>>, 6], normal},
             {compress_traced, [At, 6], normal},
             {compress_traced, [Above, 6], dirty},
             {compress_traced, [[Half, Half], 6], normal},
             %% The measure counts binaries (and a list's binary elements),
             %% not integer bytes.
             {compress_traced, [[Half, 1, Half], 6], normal},
             {compress_traced, [[Half, <<1>>, Half], 6], dirty},
             {uncompress_traced, [At], normal},
             {uncompress_traced, [Above], dirty}],
    [begin
         Thread = element(4, call(B, F, Args)),
         check_thread(B, Where, binary_to_list(Thread))
     end || {F, Args, Where} <- Cases].

%% Two processes call with one stream: the call that finds it in use is
%% refused with badarg (not blocked, not corrupting it), and the stream's
%% output is still right. A long call on a worker or dirty scheduler holds the
%% stream while a short one runs on a normal scheduler; the short caller polls
%% until it meets the long call (the long caller repeats to a deadline).
concurrent_use(B) ->
    Z = call(B, deflate_init, [9]),
    Big = data(random, 4 * ?MIB),
    Self = self(),
    Long = spawn_link(fun() -> long_caller(B, Z, Big, Self, [], 0) end),
    Busy = poll_busy(B, Z, Long, erlang:monotonic_time(millisecond) + 60000),
    Long ! stop,
    {Fed, Outs} = receive {long_done, Long, F, O} -> {F, O} end,
    ?assertMatch({badarg, _}, Busy),
    {badarg, St} = Busy,
    check_error_info(B, deflate, [Z, <<>>, none], St, 1 + maps:get(shift, B),
                     "expected a zlib deflate stream handle that no other call is using"),
    ?assert(Fed >= 1),
    Tail = call(B, deflate, [Z, <<>>, finish]),
    ?assertEqual(binary:copy(Big, Fed), zlib:uncompress(iolist_to_binary([Outs, Tail]))).

long_caller(B, Z, Big, Parent, Outs, Fed) ->
    Stop = receive stop -> true after 0 -> false end,
    case Stop orelse Fed >= 30 of
        true ->
            Parent ! {long_done, self(), Fed, lists:reverse(Outs)};
        false ->
            %% The short caller may hold the stream for an instant: retry then.
            try call(B, deflate, [Z, Big, none]) of
                Out -> long_caller(B, Z, Big, Parent, [Out | Outs], Fed + 1)
            catch
                error:badarg -> long_caller(B, Z, Big, Parent, Outs, Fed)
            end
    end.

poll_busy(B, Z, Long, Deadline) ->
    try call(B, deflate, [Z, <<>>, none]) of
        [] ->
            case is_process_alive(Long) andalso erlang:monotonic_time(millisecond) < Deadline of
                true -> poll_busy(B, Z, Long, Deadline);
                false -> never_busy
            end
    catch
        error:badarg:St -> {badarg, St}
    end.

%% Handles are backend objects: a NIF stream is not a driver stream, and each
%% backend says so in the same words.
foreign_stream(B) ->
    NifZ = nc_zlib:deflate_init(6),
    DrvZ = call(B, deflate_init, [6]),
    check_badarg(B, deflate, [NifZ, <<"x">>, none], 1, "expected a zlib deflate stream handle"),
    Nif = #{kind => nif, mod => nc_zlib, shift => 0},
    check_badarg(Nif, deflate, [DrvZ, <<"x">>, none], 1, "expected a zlib deflate stream handle"),
    ok = nc_zlib:deflate_end(NifZ),
    ok = call(B, deflate_end, [DrvZ]).

%% ---- properties ----------------------------------------------------------------------------

properties(B) ->
    [begin
         io:format(user, "~n~s: ~s~n", [maps:get(kind, B), Name]),
         ?assertEqual(true, proper:quickcheck(Prop, [{numtests, nocopy_test_lib:proper_numtests()},
                                                     {to_file, user}, {max_size, 30}, long_result]))
     end || {Name, Prop} <- [{"one-shot round trips", prop_oneshot(B)},
                             {"stream round trips", prop_stream(B)}]].

level() ->
    proper_types:oneof([proper_types:range(0, 9), none, default, best_speed, best_compression]).

%% Bytes with some repetition, so that matches occur.
chunk() ->
    proper_types:oneof([proper_types:binary(),
                        ?LET({Bin, N}, {proper_types:binary(), proper_types:range(1, 50)},
                             binary:copy(Bin, N)),
                        proper_types:range(0, 255)]).

%% iodata: nested lists of binaries and bytes, with binary tails.
iodata() ->
    ?SIZED(S, iodata(S)).

iodata(S) when S =< 1 ->
    proper_types:oneof([proper_types:binary(), proper_types:list(proper_types:range(0, 255))]);
iodata(S) ->
    proper_types:oneof(
      [proper_types:binary(),
       proper_types:list(proper_types:oneof([chunk(), ?LAZY(iodata(S div 3))])),
       ?LET({L, Tail}, {proper_types:list(chunk()), proper_types:binary()},
            lists:foldr(fun(E, Acc) -> [E | Acc] end, Tail, L))]).

prop_oneshot(B) ->
    ?FORALL({Io, L}, {iodata(), level()},
            begin
                Ok = caught(fun() ->
                                    D = iolist_to_binary(Io),
                                    C = call(B, compress, [Io, L]),
                                    G = call(B, gzip, [Io, L]),
                                    zlib:uncompress(C) =:= D
                                        andalso zlib:gunzip(G) =:= D
                                        andalso chunks(call(B, uncompress, [C])) =:= D
                                        andalso chunks(call(B, uncompress, [zlib:compress(D)])) =:= D
                                        andalso chunks(call(B, gunzip, [G])) =:= D
                            end),
                ?WHENFAIL(io:format(user, "iodata ~0tP level ~p: ~0tP~n", [Io, 10, L, Ok, 20]),
                          Ok =:= true)
            end).

%% Runs Fun and returns its value or the exception, so that a failing property
%% reports what happened (Debian's PropEr calls erlang:get_stacktrace/0, gone
%% since OTP 23, when a property raises).
caught(Fun) ->
    try Fun()
    catch C:E:St -> {C, E, hd(St)}
    end.

flush() ->
    proper_types:oneof([none, none, sync, full]).

prop_stream(B) ->
    ?FORALL({Steps, L, Cuts}, {proper_types:list({iodata(), flush()}), level(),
                               proper_types:list(proper_types:range(1, 200))},
            begin
                Ok = caught(fun() ->
                                    Z = call(B, deflate_init, [L]),
                                    Out = deflate_all(B, Z, Steps ++ [{<<>>, finish}]),
                                    D = iolist_to_binary([Io || {Io, _} <- Steps]),
                                    C = iolist_to_binary(Out),
                                    I = call(B, inflate_init, []),
                                    {Tag, Back} = inflate_all(B, I, cut(C, Cuts)),
                                    ok = call(B, inflate_end, [I]),
                                    ok = call(B, deflate_end, [Z]),
                                    zlib:uncompress(C) =:= D
                                        andalso Tag =:= finished
                                        andalso iolist_to_binary(Back) =:= D
                            end),
                ?WHENFAIL(io:format(user, "steps ~0tP level ~p cuts ~w: ~0tP~n",
                                    [Steps, 10, L, Cuts, Ok, 20]),
                          Ok =:= true)
            end).

%% C cut at the given piece lengths (cycled), at least one piece.
cut(C, []) -> [C];
cut(C, Cuts) -> cut(C, Cuts, Cuts).

cut(<<>>, _, _) -> [];
cut(C, [], All) -> cut(C, All, All);
cut(C, [K | Ks], All) when byte_size(C) =< K -> [C | cut(<<>>, Ks, All)];
cut(C, [K | Ks], All) ->
    <<P:K/binary, R/binary>> = C,
    [P | cut(R, Ks, All)].
