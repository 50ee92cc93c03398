%% nc_crypto_tests: the OpenSSL binding of examples/openssl, on both backends
%% (module nc_crypto, and nc_crypto_drv:F(Port, ...) through a port, whose
%% argument numbers are one higher).
%%
%% Two independent oracles:
%% - published known answers: FIPS 180-2 / NIST examples for SHA-224/256/384/512,
%%   RFC 4231 for HMAC, the GCM specification's test cases (McGrew and Viega,
%%   cases 1-2 and 13-16) and RFC 8439 section 2.8.2 for ChaCha20-Poly1305;
%% - OTP's crypto module (crypto:hash/2, crypto:mac/4,
%%   crypto:crypto_one_time_aead/6,7) on random data of 0 bytes to 24 MiB in
%%   many iodata shapes (nested lists, bytes, binary tails, empty pieces, a
%%   thousand pieces), and in a PropEr property.
%% Then: tampering is refused, every bad argument raises badarg with its exact
%% error_info text, closed and busy contexts, destructors (live_contexts/0),
%% and the AEAD output is the buffer C wrote (address probes, with negative
%% controls). No timing is asserted; waits poll to a deadline.
-module(nc_crypto_tests).

-include_lib("eunit/include/eunit.hrl").

-define(MIB, (1024 * 1024)).
-define(BIG, (24 * ?MIB)).              % above every dirty threshold
-define(TYPES, [sha224, sha256, sha384, sha512]).
-define(CIPHERS, [aes_128_gcm, aes_256_gcm, chacha20_poly1305]).
-define(SIZES, [0, 1, 2, 15, 16, 17, 55, 56, 63, 64, 65, 111, 112, 127, 128, 129, 255,
                1000, 4095, 4096, 4097, 65535, 65536, 65537, 262145, ?MIB + 3]).
-define(SHAPES, [binary, wrapped, pieces, bytes, nested, tail, copies]).

-include("nocopy_proper.hrl").

%% ---- fixtures: one group per backend -------------------------------------------

nc_crypto_test_() ->
    nocopy_test_lib:example_groups({nc_crypto, nc_crypto_drv}, fun tests/1, 300).

tests(Kind) ->
    [{"known answers: SHA-2 (FIPS 180-2 examples)", fun kat_sha/1},
     {"known answers: HMAC (RFC 4231)", fun kat_hmac/1},
     {"known answers: AES-GCM (GCM spec cases 1, 2, 13-16), ChaCha20-Poly1305 (RFC 8439)",
      fun kat_aead/1},
     {"hash = crypto:hash on random data, 0 B..1 MiB, every iodata shape", fun cross_hash/1},
     {"hmac = crypto:mac, key lengths around the block size", fun cross_hmac/1},
     {"streaming hash/hmac in random chunks = crypto", fun cross_stream/1},
     {"aead_seal = crypto_one_time_aead, aead_open opens crypto's output", fun cross_aead/1},
     {"24 MiB: digests, HMAC and AEAD, as a binary and as 1000 pieces", fun big/1},
     {"tampered ciphertext, tag, AAD, nonce or key: {error, auth}", fun tampered/1},
     {"bad arguments: badarg with the exact error_info text", fun bad_arguments/1},
     {"a bad Data leaves the context usable", fun bad_data_keeps_ctx/1},
     {"closed contexts: final closes, later use is refused", fun closed_contexts/1},
     {"a context in use by another call: badarg, state intact", fun busy_context/1},
     {"concurrent updates of one context: each applied once or refused", fun concurrent/1},
     {"parallel one-shot calls from 8 processes = crypto", fun parallel/1},
     {"no copy in or out: the AEAD output is the buffer C wrote", fun zero_copy/1},
     {"boundary: outputs of <= 64 bytes are copied, 65 are not", fun heap_boundary/1},
     {"property: random iodata, nc_crypto = crypto", fun property/1},
     {"destructors: every context of this suite is gone", fun no_leftover_contexts/1}]
        ++ [{"destructors: dropped contexts die with their last reference, once",
             fun gc_destroys/1} || Kind =:= nif]
        ++ [{"destructors: a port's contexts die when it closes, once", fun port_close_destroys/1}
            || Kind =:= drv]
        ++ [{"a context of the other backend is refused", fun foreign_context/1}
            || Kind =:= drv].

%% ---- helpers ----------------------------------------------------------------------

call(B, F, Args) -> nocopy_test_lib:call(B, F, Args).

h(Hex) -> binary:decode_hex(iolist_to_binary(string:replace(Hex, " ", "", all))).

%% The address of a binary's bytes, by the NIF probe: for driver results too,
%% so that the driver's report is compared with an independent view.
addr(Bin) -> nc_crypto:address_of(Bin).

rnd(N) -> crypto:strong_rand_bytes(N).

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

key_size(aes_128_gcm) -> 16;
key_size(_) -> 32.

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

%% ---- tampering --------------------------------------------------------------------------

flip(Bin, Pos) ->
    <<A:Pos/binary, X, Rest/binary>> = Bin,
    <<A/binary, (X bxor 16#80), Rest/binary>>.

tampered(B) ->
    [begin
         Key = rnd(key_size(C)),
         Nonce = rnd(12),
         Aad = rnd(20),
         Plain = rnd(1000),
         {Ct, Tag} = call(B, aead_seal, [C, Key, Nonce, Aad, Plain]),
         Open = fun(K, N, A, X, T) -> call(B, aead_open, [C, K, N, A, X, T]) end,
         ?assertEqual({ok, Plain}, Open(Key, Nonce, Aad, Ct, Tag)),
         Bad = [{ciphertext_first, Key, Nonce, Aad, flip(Ct, 0), Tag},
                {ciphertext_middle, Key, Nonce, Aad, flip(Ct, 500), Tag},
                {ciphertext_last, Key, Nonce, Aad, flip(Ct, 999), Tag},
                {ciphertext_truncated, Key, Nonce, Aad, binary:part(Ct, 0, 999), Tag},
                {ciphertext_extended, Key, Nonce, Aad, [Ct, 0], Tag},
                {tag_first, Key, Nonce, Aad, Ct, flip(Tag, 0)},
                {tag_last, Key, Nonce, Aad, Ct, flip(Tag, 15)},
                {aad, Key, Nonce, flip(Aad, 7), Ct, Tag},
                {aad_missing, Key, Nonce, <<>>, Ct, Tag},
                {aad_extended, Key, Nonce, [Aad, <<0>>], Ct, Tag},
                {nonce, Key, flip(Nonce, 11), Aad, Ct, Tag},
                {key, flip(Key, 3), Nonce, Aad, Ct, Tag}],
         [?assertEqual({C, What, {error, auth}}, {C, What, Open(K, N, A, X, T)})
          || {What, K, N, A, X, T} <- Bad],
         %% an empty message still authenticates its AAD
         {<<>>, Tag0} = call(B, aead_seal, [C, Key, Nonce, Aad, <<>>]),
         ?assertEqual({ok, <<>>}, Open(Key, Nonce, Aad, <<>>, Tag0)),
         ?assertEqual({error, auth}, Open(Key, Nonce, flip(Aad, 0), <<>>, Tag0))
     end || C <- ?CIPHERS].

%% ---- bad arguments ----------------------------------------------------------------------

%% F(Args) raises error:badarg from the stub itself, with error_info whose
%% formatted text for argument ArgNo (of the C function; +1 on the driver) is
%% exactly Text, followed by ", got: Arg" when Text starts with "expected",
%% and the shell shows "argument N: ...".
assert_badarg(B = #{shift := Shift}, F, Args, ArgNo, Text) ->
    try call(B, F, Args) of
        V -> erlang:error({expected_badarg, F, Args, {returned, V}})
    catch
        error:badarg:St ->
            [{Mod, Fun, FrameArgs, Info} | _] = St,
            FullArgs = case B of #{port := P} -> [P | Args]; _ -> Args end,
            ?assertEqual({maps:get(mod, B), F, FullArgs}, {Mod, Fun, FrameArgs}),
            ?assertMatch(#{module := nocopy}, proplists:get_value(error_info, Info)),
            N = ArgNo + Shift,
            Full = case Text of
                       "expected" ++ _ ->
                           lists:flatten(io_lib:format("~ts, got: ~0tP",
                                                       [Text, lists:nth(ArgNo, Args), 12]));
                       _ -> Text
                   end,
            ?assertEqual({F, #{N => Full}}, {F, nocopy_test_lib:error_strings(badarg, St)}),
            Shell = unicode:characters_to_list(erl_error:format_exception(error, badarg, St)),
            Line = lists:flatten(io_lib:format("argument ~b: ~ts", [N, Full])),
            ?assertNotEqual({F, Line, nomatch}, {F, Line, string:find(Shell, Line)})
    end.

bad_argument_cases(Hash, Hmac) ->
    Digest = "expected sha224, sha256, sha384 or sha512",
    Aead = "expected aes_128_gcm, aes_256_gcm or chacha20_poly1305",
    Iodata = "expected iodata",
    K32 = <<0:256>>,
    N12 = <<0:96>>,
    T16 = <<0:128>>,
    [{hash, [md5, <<>>], 1, Digest},
     {hash, ["sha256", <<>>], 1, Digest},
     {hash, [ok, <<>>], 1, Digest},                      % a built-in atom
     {hash, [aes_256_gcm, <<>>], 1, Digest},             % an atom of the table, not a digest
     {hash, [sha256, foo], 2, Iodata},
     {hash, [sha256, 42], 2, Iodata},
     {hash, [sha256, [<<"a">>, 256]], 2, Iodata},
     {hash, [sha256, [<<"a">> | foo]], 2, Iodata},
     {hash, [sha256, <<1:7>>], 2, Iodata},
     {hash_init, [sha], 1, Digest},
     {hash_update, [not_a_ctx, <<>>], 1, "expected a hash_ctx handle"},
     {hash_update, [make_ref(), <<>>], 1, "expected a hash_ctx handle"},
     {hash_update, [Hmac, <<>>], 1, "expected a hash_ctx handle, not a handle of type hmac_ctx"},
     {hash_update, [Hash, {<<>>}], 2, Iodata},
     {hash_final, [Hmac], 1, "expected a hash_ctx handle, not a handle of type hmac_ctx"},
     {hmac, [sha1, <<"k">>, <<>>], 1, Digest},
     {hmac, [sha256, k, <<>>], 2, Iodata},
     {hmac, [sha256, <<"k">>, 1.0], 3, Iodata},
     {hmac_init, [sha256, 42], 2, Iodata},
     {hmac_init, [md4, <<"k">>], 1, Digest},
     {hmac_update, [Hash, <<>>], 1, "expected a hmac_ctx handle, not a handle of type hash_ctx"},
     {hmac_update, [Hmac, [-1]], 2, Iodata},
     {hmac_final, [{}], 1, "expected a hmac_ctx handle"},
     {aead_seal, [aes_256_cbc, K32, N12, <<>>, <<>>], 1, Aead},
     {aead_seal, [sha256, K32, N12, <<>>, <<>>], 1, Aead},
     {aead_seal, [aes_256_gcm, <<0:248>>, N12, <<>>, <<>>], 2,
      "expected a 32-byte binary key for aes_256_gcm"},
     {aead_seal, [aes_256_gcm, <<0:264>>, N12, <<>>, <<>>], 2,
      "expected a 32-byte binary key for aes_256_gcm"},
     {aead_seal, [aes_256_gcm, [K32], N12, <<>>, <<>>], 2,
      "expected a 32-byte binary key for aes_256_gcm"},
     {aead_seal, [aes_128_gcm, K32, N12, <<>>, <<>>], 2,
      "expected a 16-byte binary key for aes_128_gcm"},
     {aead_seal, [chacha20_poly1305, <<0:128>>, N12, <<>>, <<>>], 2,
      "expected a 32-byte binary key for chacha20_poly1305"},
     {aead_seal, [aes_256_gcm, K32, <<0:88>>, <<>>, <<>>], 3, "expected a 12-byte binary nonce"},
     {aead_seal, [aes_256_gcm, K32, <<0:104>>, <<>>, <<>>], 3, "expected a 12-byte binary nonce"},
     {aead_seal, [aes_256_gcm, K32, nonce, <<>>, <<>>], 3, "expected a 12-byte binary nonce"},
     {aead_seal, [aes_256_gcm, K32, <<0:95>>, <<>>, <<>>], 3, "expected a 12-byte binary nonce"},
     {aead_seal, [aes_256_gcm, K32, N12, aad, <<>>], 4, Iodata},
     {aead_seal, [aes_256_gcm, K32, N12, <<>>, [plain]], 5, Iodata},
     %% the first bad argument is the one reported
     {aead_seal, [aes_256_gcm, <<1>>, <<2>>, x, y], 2,
      "expected a 32-byte binary key for aes_256_gcm"},
     {aead_open, [aes_256_gcm, K32, N12, <<>>, <<>>, <<0:120>>], 6, "expected a 16-byte binary tag"},
     {aead_open, [aes_256_gcm, K32, N12, <<>>, <<>>, <<0:136>>], 6, "expected a 16-byte binary tag"},
     {aead_open, [aes_256_gcm, K32, N12, <<>>, <<>>, [T16]], 6, "expected a 16-byte binary tag"},
     {aead_open, [aes_256_gcm, K32, N12, <<>>, ct, T16], 5, Iodata},
     {aead_open, [aes_256_gcm, K32, N12, {}, <<>>, T16], 4, Iodata},
     {aead_open, [xchacha20, K32, N12, <<>>, <<>>, T16], 1, Aead},
     {aead_open, [aes_128_gcm, K32, N12, <<>>, <<>>, T16], 2,
      "expected a 16-byte binary key for aes_128_gcm"},
     {aead_seal_traced, [aes_256_gcm, K32, N12, <<>>, 7], 5, Iodata},
     {address_of, [[<<"x">>]], 1, "expected a binary"}].

bad_arguments(B) ->
    Hash = call(B, hash_init, [sha256]),
    Hmac = call(B, hmac_init, [sha256, <<"k">>]),
    [assert_badarg(B, F, Args, ArgNo, Text)
     || {F, Args, ArgNo, Text} <- bad_argument_cases(Hash, Hmac)],
    %% none of that touched the contexts
    ?assertEqual(crypto:hash(sha256, <<>>), call(B, hash_final, [Hash])),
    ?assertEqual(crypto:mac(hmac, sha256, <<"k">>, <<>>), call(B, hmac_final, [Hmac])).

bad_data_keeps_ctx(B) ->
    [begin
         Ctx = call(B, Init, InitArgs),
         ok = call(B, Update, [Ctx, <<"abc">>]),
         assert_badarg(B, Update, [Ctx, [<<"x">>, atom]], 2, "expected iodata"),
         ok = call(B, Update, [Ctx, <<"def">>]),
         ?assertEqual(Want, call(B, Final, [Ctx]))
     end || {Init, InitArgs, Update, Final, Want} <-
                [{hash_init, [sha256], hash_update, hash_final, crypto:hash(sha256, "abcdef")},
                 {hmac_init, [sha512, "key"], hmac_update, hmac_final,
                  crypto:mac(hmac, sha512, "key", "abcdef")}]].

closed_contexts(B) ->
    H = call(B, hash_init, [sha384]),
    ok = call(B, hash_update, [H, <<"x">>]),
    ?assertEqual(crypto:hash(sha384, "x"), call(B, hash_final, [H])),
    assert_badarg(B, hash_update, [H, <<"y">>], 1, "the hash_ctx handle is closed"),
    assert_badarg(B, hash_final, [H], 1, "the hash_ctx handle is closed"),
    M = call(B, hmac_init, [sha224, <<"k">>]),
    ?assertEqual(crypto:mac(hmac, sha224, "k", ""), call(B, hmac_final, [M])),
    assert_badarg(B, hmac_update, [M, <<"y">>], 1, "the hmac_ctx handle is closed"),
    assert_badarg(B, hmac_final, [M], 1, "the hmac_ctx handle is closed"),
    %% a closed context is still of its type: the type error comes first
    assert_badarg(B, hash_final, [M], 1,
                  "expected a hash_ctx handle, not a handle of type hmac_ctx").

%% A context is claimed by one call at a time. A long update (SHA-512 of
%% 8 MiB, on a dirty scheduler or a worker thread) runs in another process
%% while this one keeps trying to use the context: each such call either
%% succeeds or raises badarg "in use", and the digest stays right. At least
%% one collision must be seen in five attempts of growing length (8 to 96 MiB).
busy_context(B) ->
    Busy = "expected a hash_ctx handle that no other call is using",
    Attempt =
        fun(Size) ->
                Msg = rnd(Size),
                Ctx = call(B, hash_init, [sha512]),
                Self = self(),
                %% The long update may itself find the context claimed by
                %% one of the pokes below: it retries until it has run once.
                Pid = spawn_link(fun() ->
                                         Self ! {self(), started},
                                         ok = update_until_free(B, Ctx, Msg, Busy),
                                         Self ! {self(), done}
                                 end),
                receive {Pid, started} -> ok end,
                Seen = poke(B, Ctx, Pid, Busy, 0),
                ?assertEqual(crypto:hash(sha512, Msg), call(B, hash_final, [Ctx])),
                Seen
        end,
    Tries = lists:foldl(fun(_, {true, N}) -> {true, N};
                           (Size, {false, N}) -> {Attempt(Size) > 0, N + 1}
                        end, {false, 0}, [S * ?MIB || S <- [8, 16, 32, 64, 96]]),
    ?assertMatch({true, _}, {element(1, Tries), {attempts, element(2, Tries)}}).

update_until_free(B, Ctx, Msg, Busy) ->
    case catch_badarg(B, hash_update, [Ctx, Msg]) of
        ok -> ok;
        {badarg, 1, Text} ->
            ?assertEqual(Busy, lists:sublist(Text, length(Busy))),
            update_until_free(B, Ctx, Msg, Busy)
    end.

%% Empty updates until Pid reports done; counts the refusals.
poke(B, Ctx, Pid, Busy, Seen) ->
    receive
        {Pid, done} -> Seen
    after 0 ->
            case catch_badarg(B, hash_update, [Ctx, <<>>]) of
                ok -> poke(B, Ctx, Pid, Busy, Seen);
                {badarg, 1, Text} ->
                    ?assertEqual(Busy, lists:sublist(Text, length(Busy))),
                    poke(B, Ctx, Pid, Busy, Seen + 1)
            end
    end.

%% The value, or {badarg, ArgNo (of the C function), Text}.
catch_badarg(B = #{shift := Shift}, F, Args) ->
    try call(B, F, Args)
    catch error:badarg:St ->
            [{N, Text}] = maps:to_list(nocopy_test_lib:error_strings(badarg, St)),
            {badarg, N - Shift, Text}
    end.

%% Eight processes update one context with the same chunk, as fast as they
%% can. Whatever the interleaving, the digest is that of the chunk repeated
%% once per update that returned ok; refusals say "in use".
concurrent(B) ->
    Chunk = rnd(100000),
    [begin
         Ctx = call(B, Init, InitArgs),
         Self = self(),
         Pids = [spawn_link(fun() ->
                                    R = [catch_badarg(B, Update, [Ctx, Chunk])
                                         || _ <- lists:seq(1, 30)],
                                    Self ! {self(), R}
                            end) || _ <- lists:seq(1, 8)],
         Results = lists:append([receive {P, R} -> R end || P <- Pids]),
         Oks = length([ok || ok <- Results]),
         Busy = "expected a " ++ Type ++ " handle that no other call is using",
         [?assertEqual({badarg, 1, Busy}, {badarg, N, lists:sublist(T, length(Busy))})
          || {badarg, N, T} <- Results],
         ?assertEqual(240, Oks + length([x || {badarg, _, _} <- Results])),
         ?assert(Oks > 0),
         ?assertEqual(Want(binary:copy(Chunk, Oks)), call(B, Final, [Ctx]))
     end || {Init, InitArgs, Update, Final, Type, Want} <-
                [{hash_init, [sha256], hash_update, hash_final, "hash_ctx",
                  fun(D) -> crypto:hash(sha256, D) end},
                 {hmac_init, [sha256, <<"k">>], hmac_update, hmac_final, "hmac_ctx",
                  fun(D) -> crypto:mac(hmac, sha256, <<"k">>, D) end}]].

%% The algorithms (and HMAC's per-digest template context) are shared by all
%% calls: eight processes at once, on every scheduler, each checked.
parallel(B) ->
    Self = self(),
    Pids = [spawn_link(
              fun() ->
                      R = [begin
                               Key = rnd(I rem 70),
                               Msg = rnd(I * 37 rem 3000),
                               T = lists:nth(I rem 4 + 1, ?TYPES),
                               {Ct, Tag} = call(B, aead_seal, [aes_256_gcm, K32 = rnd(32),
                                                               N12 = rnd(12), Key, Msg]),
                               {call(B, hmac, [T, Key, Msg]) =:= crypto:mac(hmac, T, Key, Msg),
                                call(B, hash, [T, Msg]) =:= crypto:hash(T, Msg),
                                {Ct, Tag} =:= crypto:crypto_one_time_aead(aes_256_gcm, K32, N12,
                                                                          Msg, Key, true)}
                           end || I <- lists:seq(1, 300)],
                      Self ! {self(), lists:usort(R)}
              end) || _ <- lists:seq(1, 8)],
    [?assertEqual([{true, true, true}], receive {P, R} -> R end) || P <- Pids].

%% ---- zero copy ----------------------------------------------------------------------------

%% aead_seal_traced/aead_open_traced report the address of the first input
%% piece as C read it and of the buffer C wrote; the NIF probe address_of/1
%% gives Erlang's view of the result. Sizes: just above the heap-binary
%% limit, a page, and 1 MiB (above the 256 KiB dirty threshold: dirty
%% scheduler or worker thread).
zero_copy(B) ->
    [begin
         Key = rnd(key_size(C)),
         Nonce = rnd(12),
         Plain = rnd(N),
         Other = rnd(5000),
         {{Ct, Tag}, InS, OutS} =
             call(B, aead_seal_traced, [C, Key, Nonce, <<"aad">>, [Plain, Other]]),
         %% in: C read the caller's binary where it lies, no flattening
         ?assertEqual({C, N, in, addr(Plain)}, {C, N, in, InS}),
         %% out: the result binary is the buffer the cipher wrote
         ?assertEqual({C, N, out, OutS}, {C, N, out, addr(Ct)}),
         ?assertEqual(N + 5000, byte_size(Ct)),
         {{ok, Back}, InO, OutO} =
             call(B, aead_open_traced, [C, Key, Nonce, <<"aad">>, Ct, Tag]),
         ?assertEqual(iolist_to_binary([Plain, Other]), Back),
         ?assertEqual({C, N, open_in, addr(Ct)}, {C, N, open_in, InO}),
         ?assertEqual({C, N, open_out, OutO}, {C, N, open_out, addr(Back)}),
         %% negative controls: the probes see copies as copies
         Copy = binary:copy(Plain),
         {_, InCopy, _} = call(B, aead_seal_traced, [C, Key, Nonce, <<>>, Copy]),
         ?assertEqual(addr(Copy), InCopy),
         ?assertNotEqual(addr(Plain), InCopy),
         ?assertNotEqual(OutS, addr(binary:copy(Ct)))
     end || C <- ?CIPHERS, N <- [65, 4096, ?MIB]],
    %% The runtime cannot pass a heap binary (<= 64 bytes) to a driver by
    %% reference: C reads a copy there. The NIF reads it in place.
    Small = rnd(40),
    {_, InSmall, _} = call(B, aead_seal_traced, [aes_256_gcm, rnd(32), rnd(12), <<>>, Small]),
    case B of
        #{kind := drv} -> ?assertNotEqual(addr(Small), InSmall);
        #{kind := nif} -> ?assertEqual(addr(Small), InSmall)
    end.

%% The runtime copies results of 64 bytes or less into the process heap,
%% whatever C does; from 65 bytes on the buffer is the binary.
heap_boundary(B) ->
    Key = rnd(32),
    Nonce = rnd(12),
    {{Ct64, Tag}, _, Out64} = call(B, aead_seal_traced, [aes_256_gcm, Key, Nonce, <<>>, rnd(64)]),
    ?assertEqual(64, byte_size(Ct64)),
    ?assertNotEqual(Out64, addr(Ct64)),
    {{Ct65, _}, _, Out65} = call(B, aead_seal_traced, [aes_256_gcm, Key, Nonce, <<>>, rnd(65)]),
    ?assertEqual(Out65, addr(Ct65)),
    {{ok, P64}, _, PO64} = call(B, aead_open_traced, [aes_256_gcm, Key, Nonce, <<>>, Ct64, Tag]),
    ?assertNotEqual(PO64, addr(P64)).

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

%% ---- destructors ----------------------------------------------------------------------------

live(B) -> call(B, live_contexts, []).

%% Every test above finishes its contexts, or drops them in processes that
%% are gone: once the runtime has run the last destructors, none is live.
no_leftover_contexts(B) ->
    nocopy_test_lib:gc_all(),
    nocopy_test_lib:wait_until(fun() -> live(B) =< 0 end, 5000),
    ?assertEqual(0, live(B)).

%% NIF: a context's destructor runs once its last reference is gone, even if
%% it was never finished; finishing runs it at once (final closes it).
gc_destroys(B) ->
    nocopy_test_lib:gc_all(),
    nocopy_test_lib:wait_until(fun() -> live(B) =< 0 end, 5000),
    ?assertEqual(0, live(B)),
    Self = self(),
    {Pid, Ref} = spawn_monitor(
                   fun() ->
                           Cs = [call(B, hash_init, [sha256]) || _ <- lists:seq(1, 100)]
                               ++ [call(B, hmac_init, [sha512, <<"k">>]) || _ <- lists:seq(1, 100)],
                           [ok = call(B, hash_update, [C, <<"x">>]) || C <- lists:sublist(Cs, 50)],
                           Self ! {self(), live(B)},
                           receive stop -> ok end
                   end),
    ?assertEqual(200, receive {Pid, N} -> N end),
    Pid ! stop,
    receive {'DOWN', Ref, process, Pid, normal} -> ok end,
    nocopy_test_lib:wait_until(fun() -> live(B) =< 0 end, 5000),
    ?assertEqual(0, live(B)),
    %% final destroys synchronously: no GC involved
    C1 = call(B, hash_init, [sha256]),
    ?assertEqual(1, live(B)),
    _ = call(B, hash_final, [C1]),
    ?assertEqual(0, live(B)),
    %% and nothing runs twice later on
    erlang:garbage_collect(),
    nocopy_test_lib:gc_all(),
    ?assertEqual(0, live(B)).

%% Driver: contexts belong to their port; closing it destroys them, each once.
port_close_destroys(B) ->
    Base = live(B),
    {ok, P2} = nc_crypto_drv:open(),
    Cs = [nc_crypto_drv:hash_init(P2, sha256) || _ <- lists:seq(1, 20)]
        ++ [nc_crypto_drv:hmac_init(P2, sha256, <<"k">>) || _ <- lists:seq(1, 20)],
    ?assertEqual(Base + 40, live(B)),
    _ = nc_crypto_drv:hash_final(P2, hd(Cs)),
    ?assertEqual(Base + 39, live(B)),
    ok = nc_crypto_drv:close(P2),
    nocopy_test_lib:wait_until(fun() -> live(B) =< Base end, 5000),
    ?assertEqual(Base, live(B)).

%% Handles are backend objects: a NIF context is not a driver context.
foreign_context(B) ->
    NifCtx = nc_crypto:hash_init(sha256),
    assert_badarg(B, hash_update, [NifCtx, <<>>], 1, "expected a hash_ctx handle"),
    _ = nc_crypto:hash_final(NifCtx),
    DrvCtx = call(B, hash_init, [sha256]),
    Nif = #{kind => nif, mod => nc_crypto, shift => 0},
    assert_badarg(Nif, hash_update, [DrvCtx, <<>>], 1, "expected a hash_ctx handle"),
    _ = call(B, hash_final, [DrvCtx]).
