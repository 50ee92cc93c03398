%% nc_crypto_tests: the OpenSSL binding of examples/openssl, on both backends
%% (module nc_crypto, and nc_crypto_drv:F(Port, ...) through a port, whose
%% argument numbers are one higher).
%%
%% Two independent oracles, whose tests are in nc_crypto_oracle: published
%% known answers (FIPS 180-2, RFC 4231, the GCM specification, RFC 8439) and
%% OTP's crypto module, on random data of 0 bytes to 24 MiB in many iodata
%% shapes and in a PropEr property.
%%
%% This module is the suite's EUnit entry and holds the other tests (what it
%% and nc_crypto_oracle both use is in nc_crypto_util.hrl): tampering is
%% refused, every bad argument raises badarg with its exact error_info text,
%% closed and busy contexts, destructors (live_contexts/0), and the AEAD
%% output is the buffer C wrote (address probes, with negative controls). No
%% timing is asserted; waits poll to a deadline.
-module(nc_crypto_tests).

-include_lib("eunit/include/eunit.hrl").

-import(nocopy_test_lib, [call/3, assert_badarg/5]).

%% After the imports: it defines functions.
-include("nc_crypto_util.hrl").

%% ---- fixtures: one group per backend -------------------------------------------

nc_crypto_test_() ->
    nocopy_test_lib:example_groups({nc_crypto, nc_crypto_drv}, fun tests/1, 300).

tests(Kind) ->
    [{"known answers: SHA-2 (FIPS 180-2 examples)", fun nc_crypto_oracle:kat_sha/1},
     {"known answers: HMAC (RFC 4231)", fun nc_crypto_oracle:kat_hmac/1},
     {"known answers: AES-GCM (GCM spec cases 1, 2, 13-16), ChaCha20-Poly1305 (RFC 8439)",
      fun nc_crypto_oracle:kat_aead/1},
     {"hash = crypto:hash on random data, 0 B..1 MiB, every iodata shape",
      fun nc_crypto_oracle:cross_hash/1},
     {"hmac = crypto:mac, key lengths around the block size", fun nc_crypto_oracle:cross_hmac/1},
     {"streaming hash/hmac in random chunks = crypto", fun nc_crypto_oracle:cross_stream/1},
     {"aead_seal = crypto_one_time_aead, aead_open opens crypto's output",
      fun nc_crypto_oracle:cross_aead/1},
     {"24 MiB: digests, HMAC and AEAD, as a binary and as 1000 pieces", fun nc_crypto_oracle:big/1},
     {"tampered ciphertext, tag, AAD, nonce or key: {error, auth}", fun tampered/1},
     {"bad arguments: badarg with the exact error_info text", fun bad_arguments/1},
     {"a bad Data leaves the context usable", fun bad_data_keeps_ctx/1},
     {"closed contexts: final closes, later use is refused", fun closed_contexts/1},
     {"a context in use by another call: badarg, state intact", fun busy_context/1},
     {"concurrent updates of one context: each applied once or refused", fun concurrent/1},
     {"parallel one-shot calls from 8 processes = crypto", fun parallel/1},
     {"no copy in or out: the AEAD output is the buffer C wrote", fun zero_copy/1},
     {"boundary: outputs of <= 64 bytes are copied, 65 are not", fun heap_boundary/1},
     {"property: random iodata, nc_crypto = crypto", fun nc_crypto_oracle:property/1},
     {"destructors: every context of this suite is gone", fun no_leftover_contexts/1}]
        ++ [{"destructors: dropped contexts die with their last reference, once",
             fun gc_destroys/1} || Kind =:= nif]
        ++ [{"destructors: a port's contexts die when it closes, once", fun port_close_destroys/1}
            || Kind =:= drv]
        ++ [{"a context of the other backend is refused", fun foreign_context/1}
            || Kind =:= drv].

%% ---- helpers ----------------------------------------------------------------------

%% The address of a binary's bytes, by the NIF probe: for driver results too,
%% so that the driver's report is compared with an independent view.
addr(Bin) -> nc_crypto:address_of(Bin).

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
