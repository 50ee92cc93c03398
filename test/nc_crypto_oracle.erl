%% nc_crypto_oracle: the tests of nc_crypto_tests that check the OpenSSL
%% binding against its two independent oracles:
%% - published known answers: FIPS 180-2 / NIST examples for SHA-224/256/384/512,
%%   RFC 4231 for HMAC, the GCM specification's test cases (McGrew and Viega,
%%   cases 1-2 and 13-16) and RFC 8439 section 2.8.2 for ChaCha20-Poly1305;
%% - OTP's crypto module (crypto:hash/2, crypto:mac/4,
%%   crypto:crypto_one_time_aead/6,7) on random data of 0 bytes to 24 MiB in
%%   many iodata shapes (nested lists, bytes, binary tails, empty pieces, a
%%   thousand pieces), and in a PropEr property.
%% Each export is one test, given the backend (nocopy_test_lib:backend()).
-module(nc_crypto_oracle).

-export([kat_sha/1, kat_hmac/1, kat_aead/1, cross_hash/1, cross_hmac/1, cross_stream/1,
         cross_aead/1, big/1, property/1]).

-include_lib("eunit/include/eunit.hrl").
-include("nocopy_proper.hrl").

-import(nocopy_test_lib, [call/3]).

%% After the imports: it defines functions.
-include("nc_crypto_util.hrl").

-define(BIG, (24 * ?MIB)).              % above every dirty threshold
-define(SIZES, [0, 1, 2, 15, 16, 17, 55, 56, 63, 64, 65, 111, 112, 127, 128, 129, 255,
                1000, 4095, 4096, 4097, 65535, 65536, 65537, 262145, ?MIB + 3]).
-define(SHAPES, [binary, wrapped, pieces, bytes, nested, tail, copies]).

%% ---- helpers ----------------------------------------------------------------------

h(Hex) -> binary:decode_hex(iolist_to_binary(string:replace(Hex, " ", "", all))).

%% Iodata holding exactly the bytes of Bin, in the named shape.
shape(Kind, Bin) ->
    IoData = shape1(Kind, Bin),
    Bin = iolist_to_binary(IoData),   % the generator itself is checked
    IoData.

shape1(binary, Bin) -> Bin;
shape1(wrapped, Bin) -> [[[Bin]]];
shape1(pieces, Bin) -> cut(Bin, 1000);
shape1(bytes, Bin) ->
    %% Short pieces as lists of byte integers, the others as sub-binaries.
    [case byte_size(P) =< 24 of true -> binary_to_list(P); false -> P end
     || P <- cut(Bin, 64)];
shape1(nested, Bin) ->
    lists:foldl(fun(P, Acc) ->
                        case rand:uniform(3) of
                            1 -> [Acc, P];
                            2 -> [Acc | [[P]]];
                            3 -> [[Acc], [], P]
                        end
                end, [], cut(Bin, 50));
shape1(tail, <<>>) -> [[] | <<>>];
shape1(tail, Bin) ->
    %% An improper list ending in a binary: [P1, P2, ... | Last].
    Pieces = cut(Bin, 20),
    {Init, [Last]} = lists:split(length(Pieces) - 1, Pieces),
    lists:foldr(fun(P, Acc) -> [P | Acc] end, Last, Init);
shape1(copies, Bin) ->
    %% Fresh binaries (not sub-binaries of Bin) between empty pieces.
    [[<<>>, [], binary:copy(P)] || P <- cut(Bin, 100)] ++ [<<>>].

%% Bin cut into about N sub-binaries of random lengths.
cut(<<>>, _) -> [];
cut(Bin, N) ->
    Max = max(1, 2 * byte_size(Bin) div N),
    cut1(Bin, Max).

cut1(<<>>, _) -> [];
cut1(Bin, Max) ->
    L = min(byte_size(Bin), rand:uniform(Max)),
    <<P:L/binary, Rest/binary>> = Bin,
    [P | cut1(Rest, Max)].

%% ---- known answers -------------------------------------------------------------------

kat_sha(B) ->
    Abc = <<"abc">>,
    M448 = <<"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq">>,
    M896 = <<"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
             "klmnopqrlmnopqrsmnopqrstnopqrstu">>,
    Million = binary:copy(<<"a">>, 1000000),
    Vectors =
        [{sha256, <<>>, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
         {sha256, Abc, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
         {sha256, M448, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
         {sha256, Million, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
         {sha512, <<>>, "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
                        "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"},
         {sha512, Abc, "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                       "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
         {sha512, M896, "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
                        "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909"},
         {sha512, Million, "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973eb"
                           "de0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b"},
         {sha224, Abc, "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7"},
         {sha384, Abc, "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded163"
                       "1a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"}],
    [begin
         Want = h(Hex),
         %% one-shot, in every shape, and streamed in two halves
         [?assertEqual({T, Kind, Want}, {T, Kind, call(B, hash, [T, shape(Kind, Msg)])})
          || Kind <- ?SHAPES],
         Half = byte_size(Msg) div 2,
         <<M1:Half/binary, M2/binary>> = Msg,
         Ctx = call(B, hash_init, [T]),
         ok = call(B, hash_update, [Ctx, M1]),
         ok = call(B, hash_update, [Ctx, shape(bytes, M2)]),
         ?assertEqual({T, stream, Want}, {T, stream, call(B, hash_final, [Ctx])})
     end || {T, Msg, Hex} <- Vectors].

kat_hmac(B) ->
    K1 = binary:copy(<<16#0b>>, 20),
    K3 = binary:copy(<<16#aa>>, 20),
    K4 = list_to_binary(lists:seq(1, 25)),
    K6 = binary:copy(<<16#aa>>, 131),
    D6 = <<"Test Using Larger Than Block-Size Key - Hash Key First">>,
    D7 = <<"This is a test using a larger than block-size key and a larger than block-size "
           "data. The key needs to be hashed before being used by the HMAC algorithm.">>,
    Cases =
        [{1, K1, <<"Hi There">>,
          [{sha224, "896fb1128abbdf196832107cd49df33f47b4b1169912ba4f53684b22"},
           {sha256, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
           {sha384, "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec6"
                    "82aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6"},
           {sha512, "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
                    "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"}]},
         {2, <<"Jefe">>, <<"what do ya want for nothing?">>,
          [{sha224, "a30e01098bc6dbbf45690f3a7e9e6d0f8bbea2a39e6148008fd05e44"},
           {sha256, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
           {sha384, "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47"
                    "e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649"},
           {sha512, "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
                    "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"}]},
         {3, K3, binary:copy(<<16#dd>>, 50),
          [{sha256, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
           {sha512, "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39"
                    "bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb"}]},
         {4, K4, binary:copy(<<16#cd>>, 50),
          [{sha256, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
           {sha512, "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db"
                    "a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd"}]},
         {6, K6, D6,
          [{sha256, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
           {sha512, "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
                    "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"}]},
         {7, K6, D7,
          [{sha256, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
           {sha512, "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944"
                    "b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58"}]}],
    [begin
         Want = h(Hex),
         ?assertEqual({Tc, T, Want}, {Tc, T, call(B, hmac, [T, Key, Data])}),
         %% the key and the data as iodata of several pieces
         ?assertEqual({Tc, T, iodata, Want},
                      {Tc, T, iodata, call(B, hmac, [T, shape(bytes, Key), shape(nested, Data)])}),
         Ctx = call(B, hmac_init, [T, shape(pieces, Key)]),
         [ok = call(B, hmac_update, [Ctx, P]) || P <- cut(Data, 7)],
         ?assertEqual({Tc, T, stream, Want}, {Tc, T, stream, call(B, hmac_final, [Ctx])})
     end || {Tc, Key, Data, Macs} <- Cases, {T, Hex} <- Macs].

kat_aead(B) ->
    Z12 = <<0:96>>,
    K15 = h("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"),
    IV15 = h("cafebabefacedbaddecaf888"),
    P15 = h("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
            "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255"),
    C15 = h("522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
            "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad"),
    KC = list_to_binary(lists:seq(16#80, 16#9f)),
    PC = <<"Ladies and Gentlemen of the class of '99: If I could offer you only one tip "
           "for the future, sunscreen would be it.">>,
    CC = h("d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
           "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
           "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
           "3ff4def08e4b7a9de576d26586cec64b6116"),
    Vectors =
        [{"GCM 1", aes_128_gcm, <<0:128>>, Z12, <<>>, <<>>, <<>>,
          "58e2fccefa7e3061367f1d57a4e7455a"},
         {"GCM 2", aes_128_gcm, <<0:128>>, Z12, <<>>, <<0:128>>,
          h("0388dace60b6a392f328c2b971b2fe78"), "ab6e47d42cec13bdf53a67b21257bddf"},
         {"GCM 13", aes_256_gcm, <<0:256>>, Z12, <<>>, <<>>, <<>>,
          "530f8afbc74536b9a963b4f1c4cb738b"},
         {"GCM 14", aes_256_gcm, <<0:256>>, Z12, <<>>, <<0:128>>,
          h("cea7403d4d606b6e074ec5d3baf39d18"), "d0d1c8a799996bf0265b98b5d48ab919"},
         {"GCM 15", aes_256_gcm, K15, IV15, <<>>, P15, C15, "b094dac5d93471bdec1a502270e3cc6c"},
         {"GCM 16", aes_256_gcm, K15, IV15, h("feedfacedeadbeeffeedfacedeadbeefabaddad2"),
          binary:part(P15, 0, 60), binary:part(C15, 0, 60), "76fc6ece0f4e1768cddf8853bb2d551b"},
         {"RFC 8439 2.8.2", chacha20_poly1305, KC, h("070000004041424344454647"),
          h("50515253c0c1c2c3c4c5c6c7"), PC, CC, "1ae10b594f09e26a7e902ecbd0600691"}],
    [begin
         Tag = h(TagHex),
         ?assertEqual({Name, {Ct, Tag}}, {Name, call(B, aead_seal, [C, K, N, A, P])}),
         ?assertEqual({Name, {Ct, Tag}},
                      {Name, call(B, aead_seal, [C, K, N, shape(bytes, A), shape(pieces, P)])}),
         ?assertEqual({Name, {ok, P}}, {Name, call(B, aead_open, [C, K, N, A, Ct, Tag])}),
         ?assertEqual({Name, {ok, P}},
                      {Name, call(B, aead_open, [C, K, N, shape(nested, A), shape(tail, Ct), Tag])})
     end || {Name, C, K, N, A, P, Ct, TagHex} <- Vectors].

%% ---- cross-checks with OTP's crypto ------------------------------------------------------

cross_hash(B) ->
    [begin
         Msg = rnd(Size),
         [?assertEqual({T, Size, Kind, crypto:hash(T, Msg)},
                       {T, Size, Kind, call(B, hash, [T, shape(Kind, Msg)])})
          || Kind <- ?SHAPES]
     end || Size <- ?SIZES, T <- ?TYPES].

cross_hmac(B) ->
    %% SHA-224/256 blocks are 64 bytes, SHA-384/512 128: keys longer than a
    %% block are hashed first, shorter ones padded.
    KeySizes = [0, 1, 20, 63, 64, 65, 127, 128, 129, 300],
    [begin
         Key = rnd(KS),
         Msg = rnd(Size),
         Want = crypto:mac(hmac, T, Key, Msg),
         [?assertEqual({T, KS, Size, Kind, Want},
                       {T, KS, Size, Kind, call(B, hmac, [T, shape(Kind, Key), shape(Kind, Msg)])})
          || Kind <- [binary, bytes, nested, tail]]
     end || T <- ?TYPES, KS <- KeySizes, Size <- [0, 1, 64, 129, 4097, 65537]].

cross_stream(B) ->
    [begin
         Msg = rnd(Size),
         Key = rnd(40),
         H = call(B, hash_init, [T]),
         M = call(B, hmac_init, [T, Key]),
         %% random chunks in random shapes, empty updates included
         [begin
              ok = call(B, hash_update, [H, shape(Kind, P)]),
              ok = call(B, hmac_update, [M, shape(Kind, P)])
          end || P <- [<<>> | cut(Msg, 12)] ++ [<<>>],
                 Kind <- [lists:nth(rand:uniform(length(?SHAPES)), ?SHAPES)]],
         ?assertEqual({T, Size, crypto:hash(T, Msg)}, {T, Size, call(B, hash_final, [H])}),
         ?assertEqual({T, Size, crypto:mac(hmac, T, Key, Msg)},
                      {T, Size, call(B, hmac_final, [M])})
     end || T <- ?TYPES, Size <- [0, 1, 127, 128, 129, 5000, 300000]].

cross_aead(B) ->
    [begin
         Key = rnd(key_size(C)),
         Nonce = rnd(12),
         Plain = rnd(Size),
         Aad = rnd(AadSize),
         {Ct, Tag} = crypto:crypto_one_time_aead(C, Key, Nonce, Plain, Aad, true),
         [begin
              ?assertEqual({C, Size, AadSize, Kind, {Ct, Tag}},
                           {C, Size, AadSize, Kind,
                            call(B, aead_seal, [C, Key, Nonce, shape(Kind, Aad), shape(Kind, Plain)])}),
              ?assertEqual({C, Size, AadSize, Kind, {ok, Plain}},
                           {C, Size, AadSize, Kind,
                            call(B, aead_open, [C, Key, Nonce, shape(Kind, Aad), shape(Kind, Ct), Tag])})
          end || Kind <- [binary, pieces, bytes, nested, tail]],
         %% and crypto opens what nc_crypto sealed (from iodata)
         {Ct2, Tag2} = call(B, aead_seal, [C, Key, Nonce, shape(copies, Aad), shape(copies, Plain)]),
         ?assertEqual(Plain, crypto:crypto_one_time_aead(C, Key, Nonce, Ct2, Aad, Tag2, false))
     end || C <- ?CIPHERS, Size <- [0, 1, 15, 16, 17, 63, 64, 65, 1000, 65537, 262145, ?MIB + 3],
            AadSize <- [0, 13, 300]].

big(B) ->
    Msg = rnd(?BIG),
    Pieces = cut(Msg, 1000),
    [?assertEqual({T, Shape, crypto:hash(T, Msg)}, {T, Shape, call(B, hash, [T, In])})
     || T <- [sha256, sha512], {Shape, In} <- [{binary, Msg}, {pieces, Pieces}]],
    Key = rnd(32),
    ?assertEqual(crypto:mac(hmac, sha256, Key, Msg), call(B, hmac, [sha256, Key, Pieces])),
    H = call(B, hash_init, [sha512]),
    ok = call(B, hash_update, [H, Pieces]),
    ok = call(B, hash_update, [H, Msg]),
    ?assertEqual(crypto:hash(sha512, [Msg, Msg]), call(B, hash_final, [H])),
    Nonce = rnd(12),
    [begin
         {Ct, Tag} = crypto:crypto_one_time_aead(C, Key, Nonce, Msg, <<"big">>, true),
         ?assertEqual({C, {Ct, Tag}}, {C, call(B, aead_seal, [C, Key, Nonce, <<"big">>, Pieces])}),
         ?assertEqual({C, {ok, Msg}}, {C, call(B, aead_open, [C, Key, Nonce, [<<"b">>, "ig"], Ct, Tag])})
     end || C <- [aes_256_gcm, chacha20_poly1305]].

%% ---- property -----------------------------------------------------------------------------

%% iodata of every kind: binaries (sub-binaries too), bytes, nested lists,
%% binary tails, empty pieces.
iodata() ->
    ?SIZED(S, iodata(S)).

iodata(0) ->
    proper_types:oneof([proper_types:binary(), proper_types:list(byte())]);
iodata(S) ->
    Elem = proper_types:oneof([byte(), proper_types:binary(), sub_binary(),
                               ?LAZY(iodata(S div 3))]),
    proper_types:frequency(
      [{2, proper_types:binary()},
       {1, sub_binary()},
       {4, proper_types:list(Elem)},
       {2, ?LET({L, T}, {proper_types:list(Elem), proper_types:binary()}, L ++ T)}]).

byte() -> proper_types:integer(0, 255).

sub_binary() ->
    ?LET({Pre, Bin, Post}, {proper_types:binary(), proper_types:binary(), proper_types:binary()},
         binary:part(<<Pre/binary, Bin/binary, Post/binary>>, byte_size(Pre), byte_size(Bin))).

prop_same_as_crypto(B) ->
    ?FORALL({T, C, Key, Data, Aad},
            {proper_types:elements(?TYPES), proper_types:elements(?CIPHERS),
             proper_types:binary(32), iodata(), iodata()},
            begin
                K = binary:part(Key, 0, key_size(C)),
                Nonce = binary:part(Key, 0, 12),
                {Ct, Tag} = crypto:crypto_one_time_aead(C, K, Nonce, Data, Aad, true),
                call(B, hash, [T, Data]) =:= crypto:hash(T, Data)
                    andalso call(B, hmac, [T, Aad, Data]) =:= crypto:mac(hmac, T, Aad, Data)
                    andalso call(B, aead_seal, [C, K, Nonce, Aad, Data]) =:= {Ct, Tag}
                    andalso call(B, aead_open, [C, K, Nonce, Aad, Ct, Tag])
                                =:= {ok, iolist_to_binary(Data)}
            end).

property(B) ->
    ?assertEqual(true, proper:quickcheck(prop_same_as_crypto(B),
                                         [{numtests, nocopy_test_lib:proper_numtests()},
                                          {to_file, user}, {max_size, 40}, long_result])).
