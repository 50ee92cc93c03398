%% nc_zlib_util.hrl: what the zlib binding's test modules share
%% (nc_zlib_tests and nc_zlib_oracle): constants, the address probe,
%% deterministic data, and where a buffer may be expected in place.

-compile({nowarn_unused_function, [{addr, 1}, {data, 2}, {assert_in_place, 3}]}).

%% ZL_DIRTY_ABOVE in examples/zlib/nc_zlib.c.
-define(DIRTY_ABOVE, 4096).
-define(MIB, 1048576).
-define(LEVEL_TEXT,
        "expected a compression level: 0..9, none, default, best_speed or best_compression").
-define(IODATA_TEXT, "expected iodata").

addr(Bin) -> nc_zlib:address_of(Bin).

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

%% A large buffer is cut to size where zlib wrote it: a claim about OTP's own
%% allocators (measured; see hand_over() in nc_zlib.c). Under plain malloc
%% (`+Mea min', the second pass of `make asan', whose realloc always moves) it
%% does not apply; that the result is the buffer handed over is checked apart.
assert_in_place(What, WroteAt, HandedAt) ->
    case erlang:system_info({allocator, binary_alloc}) of
        false -> ok;
        _ -> ?assertEqual({What, WroteAt}, {What, HandedAt})
    end.
