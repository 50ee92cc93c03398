%% gss_demo_tests: the seed scenario (examples/gss_demo) checked against an
%% independent implementation, OTP's crypto module, on both backends.
%%
%% - crypto:crypto_one_time_aead/7 decrypts/verifies what wrap produced, and
%%   unwrap accepts tokens that crypto built (token format: gss_demo.c);
%% - tampered, truncated and foreign tokens give the documented GSS status;
%% - bad arguments raise badarg with error_info naming the argument;
%% - the no-copy address checks, each with a negative control that must differ.
%%
%% Every test runs once per backend: the NIF (module gss_demo) and the driver
%% (gss_demo_drv:F(Port, ...), whose argument numbers are one higher because
%% the port comes first). "Erlang's address" of a binary is
%% always read with the NIF probe gss_demo:address_of/1, so driver addresses are
%% compared with an independent view. No timing is asserted anywhere.
-module(gss_demo_tests).
-include_lib("eunit/include/eunit.hrl").

-import(nocopy_test_lib, [call/3]).

%% GSS status values and gss_demo's minor codes (see gss_demo.c).
-define(COMPLETE, 0).
-define(BAD_SIG, 16#60000).
-define(DEFECTIVE_TOKEN, 16#90000).
-define(BAD_QOP, 16#E0000).
-define(MINOR_TOKEN_TOO_SHORT, 1).
-define(MINOR_BAD_VERSION, 2).
-define(MINOR_BAD_HEADER, 3).
-define(MINOR_TAG_MISMATCH, 4).
-define(MINOR_QOP_MISMATCH, 5).
-define(MINOR_UNSUPPORTED_QOP, 6).

-define(HDR, 16).
-define(TAG, 16).
-define(MIB, (1024 * 1024)).
-define(SIZES, [0, 1, 64, 65, ?MIB]).

%% ---- fixtures: one group per backend -----------------------------------------

gss_demo_test_() ->
    nocopy_test_lib:example_groups({gss_demo, gss_demo_drv}, fun tests/1, 5).

tests(Kind) ->
    [{"round trip, every QOP spelling, sizes 0 1 64 65 1MiB", fun round_trip/1},
     {"crypto decrypts what wrap (confidentiality) produced", fun crypto_decrypts_wrap/1},
     {"crypto verifies what wrap (integrity) produced", fun crypto_verifies_wrap/1},
     {"unwrap accepts tokens built by crypto", fun unwrap_crypto_tokens/1},
     {"token header: version, QOP, flags, salt, sequence", fun token_header/1},
     {"tampered or truncated tokens give a GSS status", fun tampered/1},
     {"a context with another key rejects the token", fun wrong_key/1},
     {"QOP policy: unsupported and mismatched QOPs", fun qop_policy/1},
     {"bad arguments: badarg with error_info", fun bad_arguments/1},
     {"closed context: later use is an error", fun closed_context/1},
     {"no copy in: C reads the message at Erlang's address", fun no_copy_in/1},
     {"no copy out: the token is the buffer C wrote", fun no_copy_out/1},
     {"no copy out: unwrapped message (new buffer or slice)", fun no_copy_unwrap/1},
     {"boundary: results of <= 64 bytes are copied, 65 are not", fun heap_boundary/1},
     {"negative control: a copy of the message has another address", fun control_copy/1},
     {"concurrent wraps on one context: distinct nonces", fun concurrent/1}]
    ++ [{"negative control: a 40-byte heap binary reaches the driver as a copy",
         fun control_heap_binary_driver/1} || Kind =:= drv]
    ++ [{"a context from the other backend is rejected", fun foreign_context/1}
        || Kind =:= drv].

%% ---- helpers ---------------------------------------------------------------------

key() -> crypto:strong_rand_bytes(32).

%% A refc binary that is not appendable (research note 6.2) for sizes > 64.
%% binary:copy/2 repeats a random chunk; iolist_to_binary tops it up to exactly
%% N bytes. Neither makes an appendable binary.
message(0) -> <<>>;
message(N) ->
    Chunk = min(N, 4096),
    Body = binary:copy(crypto:strong_rand_bytes(Chunk), N div Chunk),
    case N rem Chunk of
        0 -> Body;
        R -> iolist_to_binary([Body, crypto:strong_rand_bytes(R)])
    end.

addr(Bin) -> gss_demo:address_of(Bin).

split_token(Tok) ->
    N = byte_size(Tok) - ?HDR - ?TAG,
    <<Header:?HDR/binary, Payload:N/binary, Tag:?TAG/binary>> = Tok,
    <<_:4/binary, Nonce:12/binary>> = Header,
    {Header, Nonce, Payload, Tag}.

failure(Major, Minor) -> {Major, Minor, false, 0, <<>>}.

flip(Bin, Pos) ->
    <<A:Pos/binary, X, Rest/binary>> = Bin,
    iolist_to_binary([A, X bxor 16#01, Rest]).

%% ---- the tests ----------------------------------------------------------------------

round_trip(B) ->
    Ctx = call(B, new_context, [key()]),
    Spellings = [{default, true, 1}, {0, true, 1}, {confidentiality, true, 1}, {1, true, 1},
                 {integrity, false, 2}, {2, false, 2}],
    [begin
         Msg = message(N),
         {?COMPLETE, 0, Conf, Qs, Tok} = call(B, wrap, [Ctx, Qop, Msg]),
         ?assertEqual(N + ?HDR + ?TAG, byte_size(Tok)),
         ?assertEqual({?COMPLETE, 0, Conf, Qs, Msg}, call(B, unwrap, [Ctx, default, Tok])),
         ?assertEqual({?COMPLETE, 0, Conf, Qs, Msg}, call(B, unwrap, [Ctx, Qop, Tok]))
     end || N <- ?SIZES, {Qop, Conf, Qs} <- Spellings].

crypto_decrypts_wrap(B) ->
    Key = key(),
    Ctx = call(B, new_context, [Key]),
    [begin
         Msg = message(N),
         {?COMPLETE, 0, true, 1, Tok} = call(B, wrap, [Ctx, confidentiality, Msg]),
         {Header, Nonce, Cipher, Tag} = split_token(Tok),
         ?assertEqual(Msg, crypto:crypto_one_time_aead(aes_256_gcm, Key, Nonce, Cipher,
                                                        Header, Tag, false)),
         %% and the ciphertext is not the message: only for 16 bytes or more,
         %% where a ciphertext equal to it has odds of 2^-128 (a 1-byte one
         %% equals it once in 256 runs)
         ?assert(N < 16 orelse Cipher =/= Msg)
     end || N <- ?SIZES].

crypto_verifies_wrap(B) ->
    Key = key(),
    Ctx = call(B, new_context, [Key]),
    [begin
         Msg = message(N),
         {?COMPLETE, 0, false, 2, Tok} = call(B, wrap, [Ctx, integrity, Msg]),
         {Header, Nonce, Clear, Tag} = split_token(Tok),
         ?assertEqual(Msg, Clear),   % integrity only: the token carries the message
         ?assertEqual(<<>>, crypto:crypto_one_time_aead(aes_256_gcm, Key, Nonce, <<>>,
                                                         <<Header/binary, Clear/binary>>,
                                                         Tag, false))
     end || N <- ?SIZES].

%% Tokens made by crypto alone, following the documented format.
crypto_token(Key, Qop, Msg) ->
    Header = <<1, Qop, (case Qop of 1 -> 1; 2 -> 0 end), 0,
               (crypto:strong_rand_bytes(12))/binary>>,
    <<_:4/binary, Nonce:12/binary>> = Header,
    case Qop of
        1 ->
            {C, T} = crypto:crypto_one_time_aead(aes_256_gcm, Key, Nonce, Msg, Header, 16, true),
            iolist_to_binary([Header, C, T]);
        2 ->
            {<<>>, T} = crypto:crypto_one_time_aead(aes_256_gcm, Key, Nonce, <<>>,
                                                   [Header, Msg], 16, true),
            iolist_to_binary([Header, Msg, T])
    end.

unwrap_crypto_tokens(B) ->
    Key = key(),
    Ctx = call(B, new_context, [Key]),
    [begin
         Msg = message(N),
         ?assertEqual({?COMPLETE, 0, true, 1, Msg},
                      call(B, unwrap, [Ctx, default, crypto_token(Key, 1, Msg)])),
         ?assertEqual({?COMPLETE, 0, false, 2, Msg},
                      call(B, unwrap, [Ctx, default, crypto_token(Key, 2, Msg)]))
     end || N <- ?SIZES].

token_header(B) ->
    Ctx = call(B, new_context, [key()]),
    Msg = message(100),
    Seqs = [begin
                {_, _, _, _, Tok} = call(B, wrap, [Ctx, Qop, Msg]),
                <<1, QopByte, Flags, 0, Salt:4/binary, Seq:64, _/binary>> = Tok,
                ?assertEqual(Expected, {QopByte, Flags}),
                {Salt, Seq}
            end || {Qop, Expected} <- [{confidentiality, {1, 1}}, {integrity, {2, 0}},
                                       {default, {1, 1}}]],
    [{Salt, S0}, {Salt, S1}, {Salt, S2}] = Seqs,   % one salt per context
    ?assertEqual([S0 + 1, S0 + 2], [S1, S2]),       % the sequence counts up
    %% Another context on the same key draws another salt: no shared nonces.
    Ctx2 = call(B, new_context, [key()]),
    {_, _, _, _, <<_:4/binary, Salt2:4/binary, _/binary>>} = call(B, wrap, [Ctx2, 1, Msg]),
    ?assertNotEqual(Salt, Salt2).

tampered(B) ->
    Ctx = call(B, new_context, [key()]),
    Msg = message(1024),
    {_, _, _, _, Conf} = call(B, wrap, [Ctx, confidentiality, Msg]),
    {_, _, _, _, Integ} = call(B, wrap, [Ctx, integrity, Msg]),
    Unwrap = fun(Tok) -> call(B, unwrap, [Ctx, default, Tok]) end,
    BadSig = failure(?BAD_SIG, ?MINOR_TAG_MISMATCH),
    Last = byte_size(Conf) - 1,
    [?assertEqual({Where, BadSig}, {Where, Unwrap(flip(Tok, Pos))})
     || {Where, Tok, Pos} <- [{nonce, Conf, 4}, {nonce_seq, Conf, 15},
                              {ciphertext, Conf, ?HDR}, {ciphertext_end, Conf, Last - ?TAG},
                              {tag, Conf, Last}, {clear_message, Integ, ?HDR + 500},
                              {integ_tag, Integ, Last}]],
    ?assertEqual(failure(?DEFECTIVE_TOKEN, ?MINOR_BAD_VERSION), Unwrap(flip(Conf, 0))),
    ?assertEqual(failure(?DEFECTIVE_TOKEN, ?MINOR_BAD_HEADER), Unwrap(flip(Conf, 2))),
    ?assertEqual(failure(?DEFECTIVE_TOKEN, ?MINOR_BAD_HEADER), Unwrap(flip(Conf, 3))),
    %% QOP byte changed consistently with the flags: the header is authenticated.
    <<H0, _, _, Rest/binary>> = Conf,
    ?assertEqual(BadSig, Unwrap(<<H0, 2, 0, Rest/binary>>)),
    %% Truncation: too short for header + tag, or just one byte short.
    ?assertEqual(failure(?DEFECTIVE_TOKEN, ?MINOR_TOKEN_TOO_SHORT), Unwrap(<<>>)),
    ?assertEqual(failure(?DEFECTIVE_TOKEN, ?MINOR_TOKEN_TOO_SHORT),
                 Unwrap(binary:part(Conf, 0, ?HDR + ?TAG - 1))),
    ?assertEqual(BadSig, Unwrap(binary:part(Conf, 0, Last))),
    %% The untouched tokens still unwrap (the flips made copies).
    ?assertMatch({?COMPLETE, 0, true, 1, Msg}, Unwrap(Conf)),
    ?assertMatch({?COMPLETE, 0, false, 2, Msg}, Unwrap(Integ)).

wrong_key(B) ->
    Ctx1 = call(B, new_context, [key()]),
    Ctx2 = call(B, new_context, [key()]),
    [begin
         {_, _, _, _, Tok} = call(B, wrap, [Ctx1, Qop, message(2000)]),
         ?assertEqual(failure(?BAD_SIG, ?MINOR_TAG_MISMATCH),
                      call(B, unwrap, [Ctx2, default, Tok]))
     end || Qop <- [confidentiality, integrity]].

qop_policy(B) ->
    Ctx = call(B, new_context, [key()]),
    Msg = message(300),
    Unsupported = failure(?BAD_QOP, ?MINOR_UNSUPPORTED_QOP),
    [?assertEqual(Unsupported, call(B, wrap, [Ctx, Q, Msg])) || Q <- [3, 255, 4294967295]],
    {_, _, _, _, Conf} = call(B, wrap, [Ctx, confidentiality, Msg]),
    {_, _, _, _, Integ} = call(B, wrap, [Ctx, integrity, Msg]),
    Mismatch = failure(?BAD_QOP, ?MINOR_QOP_MISMATCH),
    ?assertEqual(Mismatch, call(B, unwrap, [Ctx, integrity, Conf])),
    ?assertEqual(Mismatch, call(B, unwrap, [Ctx, 2, Conf])),
    ?assertEqual(Mismatch, call(B, unwrap, [Ctx, confidentiality, Integ])),
    ?assertEqual(Mismatch, call(B, unwrap, [Ctx, 7, Integ])).

%% {Function, Args, 1-based argument (NIF numbering), text the message contains}
bad_argument_cases(Ctx) ->
    Msg = message(1000),
    QopText = "default | confidentiality | integrity",
    [{new_context, [<<0:248>>], 1, "a 32-byte binary key"},
     {new_context, [<<0:264>>], 1, "a 32-byte binary key"},
     {new_context, [foo], 1, "a 32-byte binary key"},
     {new_context, [<<0:256, 1:1>>], 1, "a 32-byte binary key"},
     {wrap, [not_a_context, default, Msg], 1, "gss_ctx handle"},
     {wrap, [make_ref(), default, Msg], 1, "gss_ctx handle"},
     {wrap, [Ctx, 1.5, Msg], 2, QopText},
     {wrap, [Ctx, "default", Msg], 2, QopText},
     {wrap, [Ctx, ok, Msg], 2, QopText},
     {wrap, [Ctx, unknown_qop, Msg], 2, "integrity"},
     {wrap, [Ctx, -1, Msg], 2, "4294967295"},
     {wrap, [Ctx, 1 bsl 32, Msg], 2, "4294967295"},
     {wrap, [Ctx, default, "a list"], 3, "a binary"},
     {wrap, [Ctx, default, <<1:7>>], 3, "a binary"},
     {wrap_traced, [Ctx, default, 42], 3, "a binary"},
     {unwrap, [Ctx, default, {Msg}], 3, "a binary"},
     {unwrap, [Ctx, 2.0, Msg], 2, QopText},
     {unwrap, [Msg, default, Msg], 1, "gss_ctx handle"},
     {close_context, [Msg], 1, "gss_ctx handle"},
     {address_of, [atom], 1, "a binary"}].

bad_arguments(B = #{shift := Shift}) ->
    Ctx = call(B, new_context, [key()]),
    [check_badarg(B, F, Args, ArgNo + Shift, Text)
     || {F, Args, ArgNo, Text} <- bad_argument_cases(Ctx)].

check_badarg(B, F, Args, ArgNo, Text) ->
    try call(B, F, Args) of
        R -> erlang:error({expected_badarg, F, Args, {returned, R}})
    catch
        error:badarg:Stack -> check_error_info(F, Stack, ArgNo, Text)
    end.

%% The error_info map names nocopy as the formatter, format_error/2 gives a
%% text for exactly the bad argument, and the shell's formatting shows it.
check_error_info(F, Stack, ArgNo, Text) ->
    [{_Mod, F, _Args, Info} | _] = Stack,
    #{module := Formatter} = proplists:get_value(error_info, Info),
    Map = Formatter:format_error(badarg, Stack),
    ?assertEqual({F, [ArgNo]}, {F, maps:keys(Map)}),
    Msg = unicode:characters_to_list(maps:get(ArgNo, Map)),
    ?assertNotEqual({F, Text, nomatch}, {F, Text, string:find(Msg, Text)}),
    Shell = unicode:characters_to_list(erl_error:format_exception(error, badarg, Stack)),
    Expected = "argument " ++ integer_to_list(ArgNo),
    ?assertNotEqual({F, Expected, nomatch}, {F, Expected, string:find(Shell, Expected)}).

closed_context(B = #{shift := Shift}) ->
    Ctx = call(B, new_context, [key()]),
    Msg = message(500),
    {?COMPLETE, 0, true, 1, Tok} = call(B, wrap, [Ctx, default, Msg]),
    ?assertEqual(ok, call(B, close_context, [Ctx])),
    check_badarg(B, wrap, [Ctx, default, Msg], 1 + Shift, "closed"),
    check_badarg(B, unwrap, [Ctx, default, Tok], 1 + Shift, "closed"),
    check_badarg(B, close_context, [Ctx], 1 + Shift, "closed"),
    %% Other contexts are unaffected.
    Ctx2 = call(B, new_context, [key()]),
    ?assertMatch({?COMPLETE, 0, true, 1, _}, call(B, wrap, [Ctx2, default, Msg])).

no_copy_in(B) ->
    Ctx = call(B, new_context, [key()]),
    [begin
         Msg = message(N),
         ?assertEqual(addr(Msg), call(B, address_of, [Msg])),
         {{?COMPLETE, 0, _, _, Tok}, InC, _} = call(B, wrap_traced, [Ctx, Qop, Msg]),
         ?assertEqual({N, Qop, addr(Msg)}, {N, Qop, InC}),
         {{?COMPLETE, 0, _, _, _}, TokInC, _} = call(B, unwrap_traced, [Ctx, Qop, Tok]),
         ?assertEqual({N, Qop, addr(Tok)}, {N, Qop, TokInC})
     end || N <- [65, 4096, ?MIB], Qop <- [confidentiality, integrity]],
    %% A sub-binary is read in place too, at its offset into the parent.
    Big = message(?MIB),
    Part = binary:part(Big, 100, 5000),
    {_, InPart, _} = call(B, wrap_traced, [Ctx, default, Part]),
    ?assertEqual(addr(Big) + 100, InPart).

no_copy_out(B) ->
    Ctx = call(B, new_context, [key()]),
    [begin
         {{?COMPLETE, 0, _, _, Tok}, _, OutC} = call(B, wrap_traced, [Ctx, Qop, message(N)]),
         ?assertEqual({N, Qop, OutC}, {N, Qop, addr(Tok)})
     end || N <- [33, 4096, ?MIB], Qop <- [confidentiality, integrity]].

no_copy_unwrap(B) ->
    Ctx = call(B, new_context, [key()]),
    [begin
         Msg = message(N),
         {_, _, _, _, Conf} = call(B, wrap, [Ctx, confidentiality, Msg]),
         {{?COMPLETE, 0, true, 1, Plain}, _, OutC} =
             call(B, unwrap_traced, [Ctx, default, Conf]),
         ?assertEqual({N, Msg, OutC}, {N, Plain, addr(Plain)}),
         %% Integrity only: the message is a slice of the token itself.
         {_, _, _, _, Integ} = call(B, wrap, [Ctx, integrity, Msg]),
         {{?COMPLETE, 0, false, 2, Slice}, _, SliceC} =
             call(B, unwrap_traced, [Ctx, default, Integ]),
         ?assertEqual(Msg, Slice),
         ?assertEqual({N, addr(Integ) + ?HDR, addr(Integ) + ?HDR}, {N, addr(Slice), SliceC})
     end || N <- [65, 4096, ?MIB]].

%% The runtime copies binaries of <= 64 bytes into the process heap whatever
%% nocopy does; 65 bytes and up cross by reference. A 32-byte message makes a
%% 64-byte token, a 33-byte one a 65-byte token.
heap_boundary(B) ->
    Ctx = call(B, new_context, [key()]),
    {{_, _, _, _, Tok64}, _, Out64} = call(B, wrap_traced, [Ctx, default, message(32)]),
    ?assertEqual(64, byte_size(Tok64)),
    ?assertNotEqual(Out64, addr(Tok64)),
    {{_, _, _, _, Tok65}, _, Out65} = call(B, wrap_traced, [Ctx, default, message(33)]),
    ?assertEqual(65, byte_size(Tok65)),
    ?assertEqual(Out65, addr(Tok65)),
    %% Unwrapping: a 64-byte plaintext is copied, a 65-byte one is not.
    {_, _, _, _, T1} = call(B, wrap, [Ctx, default, message(64)]),
    {{_, _, _, _, P64}, _, PO64} = call(B, unwrap_traced, [Ctx, default, T1]),
    ?assertNotEqual(PO64, addr(P64)),
    {_, _, _, _, T2} = call(B, wrap, [Ctx, default, message(65)]),
    {{_, _, _, _, P65}, _, PO65} = call(B, unwrap_traced, [Ctx, default, T2]),
    ?assertEqual(PO65, addr(P65)).

%% The probe must be able to fail: C reading a copy reports the copy's address.
control_copy(B) ->
    Ctx = call(B, new_context, [key()]),
    Msg = message(?MIB),
    Copy = binary:copy(Msg),
    {{?COMPLETE, 0, _, _, _}, InC, _} = call(B, wrap_traced, [Ctx, default, Copy]),
    ?assertNotEqual(addr(Msg), InC),
    ?assertEqual(addr(Copy), InC).

%% A heap binary cannot be passed by reference to a driver: outputv gets a
%% runtime copy, so the address C reads differs from the term's.
control_heap_binary_driver(B) ->
    Ctx = call(B, new_context, [key()]),
    Heap40 = message(40),
    {{?COMPLETE, 0, _, _, Tok}, InC, _} = call(B, wrap_traced, [Ctx, integrity, Heap40]),
    ?assertNotEqual(addr(Heap40), InC),
    ?assertMatch({?COMPLETE, 0, false, 2, Heap40}, call(B, unwrap, [Ctx, default, Tok])).

concurrent(B) ->
    Ctx = call(B, new_context, [key()]),
    Self = self(),
    Pids = [spawn_link(fun() ->
                Msg = message(256 * 1024 + I),
                Results = [begin
                               {?COMPLETE, 0, _, _, Tok} = call(B, wrap, [Ctx, Qop, Msg]),
                               {?COMPLETE, 0, _, _, Msg} = call(B, unwrap, [Ctx, 0, Tok]),
                               <<_:8/binary, Seq:64, _/binary>> = Tok,
                               Seq
                           end || Qop <- [1, 2, 1, 2]],
                Self ! {self(), Results}
            end) || I <- lists:seq(1, 8)],
    Seqs = lists:append([receive {P, R} -> R after 60000 -> error(timeout) end || P <- Pids]),
    ?assertEqual(32, length(lists:usort(Seqs))).

%% Handles are backend objects: a NIF context is not a driver context, and
%% each backend says so in the same words.
foreign_context(B = #{shift := Shift}) ->
    NifCtx = gss_demo:new_context(key()),
    DrvCtx = call(B, new_context, [key()]),
    Msg = message(200),
    check_badarg(B, wrap, [NifCtx, default, Msg], 1 + Shift, "gss_ctx handle"),
    Nif = #{kind => nif, mod => gss_demo, shift => 0},
    check_badarg(Nif, wrap, [DrvCtx, default, Msg], 1, "gss_ctx handle").
