%% nc_zlib_oracle: the tests of nc_zlib_tests that check the zlib binding
%% against OTP's zlib module (linked to the same system libz here, so at the
%% same level the compressed bytes are equal too):
%% - one-shot: OTP decompresses what nc_zlib compressed (zlib, gzip, raw;
%%   every level, size and kind) and the reverse, 24 MiB both ways, the size
%%   hint, gzip members and ISIZE;
%% - streams: the same bytes as one-shot for any split of the input, sync and
%%   full flushes decodable at once, every format, OTP's streams inflated in
%%   any split, members and trailing data;
%% - iodata of every shape, corrupt and truncated input (every prefix of a
%%   stream), preset dictionaries;
%% - round trips of random iodata, levels, splits and flushes with PropEr.
%% Each export is one test, given the backend (nocopy_test_lib:backend()).
-module(nc_zlib_oracle).

-export([compress_oracle/1, uncompress_oracle/1, big/1, size_hints/1, gzip_oracle/1,
         deflate_splits/1, deflate_flushes/1, deflate_formats/1, inflate_splits/1,
         inflate_flushed/1, inflate_formats/1, iodata_shapes/1, corrupt/1, dictionary/1,
         properties/1]).

-include_lib("eunit/include/eunit.hrl").
-include("nocopy_proper.hrl").

-import(nocopy_test_lib, [call/3]).

%% After the imports: it defines functions.
-include("nc_zlib_util.hrl").

%% ---- helpers ---------------------------------------------------------------------

chunks({ok, Chunks}) when is_list(Chunks) ->
    [true = is_binary(C) || C <- Chunks],
    iolist_to_binary(Chunks).

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
