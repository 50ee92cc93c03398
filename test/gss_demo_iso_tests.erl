%% gss_demo_iso_tests: the seed scenario (examples/gss_demo) on the isolated
%% backend, as `make demo` shows it: wrap/unwrap round trips, the token read
%% by OTP's crypto (so the child's C did AES-256-GCM, not an echo), and the
%% deliberate crash (gss_demo:crash, a segfault in C): the call fails with
%% error:ecrashed naming SIGSEGV, this VM carries on, the next call starts a
%% new child and works, and a context of the dead child is refused as closed.
%% The full suite of the example (tampering, bad arguments, addresses) runs
%% on the NIF and the driver in gss_demo_tests.
-module(gss_demo_iso_tests).

-include_lib("eunit/include/eunit.hrl").

-define(HDR, 16).
-define(TAG, 16).

iso_test_() ->
    {foreach,
     fun() -> {ok, Iso} = gss_demo_iso:start([{region_bytes, 1 bsl 26}]), Iso end,
     fun gss_demo_iso:stop/1,
     [fun(Iso) -> {T, {timeout, 60, fun() -> F(Iso) end}} end
      || {T, F} <- [{"round trips, both QOPs, sizes 0 1 65 1MiB", fun round_trip/1},
                    {"crypto decrypts the token the child made", fun crypto_decrypts/1},
                    {"a segfault in C: ecrashed, the next call works", fun crash/1}]]}.

message(0) -> <<>>;
message(N) -> binary:copy(crypto:strong_rand_bytes(1), N).

round_trip(Iso) ->
    Ctx = gss_demo_iso:new_context(Iso, crypto:strong_rand_bytes(32)),
    [begin
         Msg = message(N),
         {0, 0, Conf, _, Token} = gss_demo_iso:wrap(Iso, Ctx, Qop, Msg),
         ?assertEqual(Qop =:= confidentiality, Conf),
         ?assertEqual(N + ?HDR + ?TAG, byte_size(Token)),
         ?assertMatch({0, 0, Conf, _, Msg}, gss_demo_iso:unwrap(Iso, Ctx, Qop, Token))
     end || N <- [0, 1, 65, 1 bsl 20], Qop <- [confidentiality, integrity]],
    ok = gss_demo_iso:close_context(Iso, Ctx).

%% Token = 16-byte header (its last 12 bytes the nonce) ++ ciphertext ++ tag,
%% the header being the additional data (examples/gss_demo/gss_demo.c).
crypto_decrypts(Iso) ->
    Key = crypto:strong_rand_bytes(32),
    Ctx = gss_demo_iso:new_context(Iso, Key),
    Msg = message(1000),
    {0, 0, true, _, Token} = gss_demo_iso:wrap(Iso, Ctx, confidentiality, Msg),
    <<Hdr:?HDR/binary, Rest/binary>> = Token,
    CtLen = byte_size(Rest) - ?TAG,
    <<Ct:CtLen/binary, Tag:?TAG/binary>> = Rest,
    Nonce = binary:part(Hdr, 4, 12),
    ?assertEqual(Msg, crypto:crypto_one_time_aead(aes_256_gcm, Key, Nonce, Ct, Hdr, Tag, false)).

crash(Iso) ->
    Old = gss_demo_iso:new_context(Iso, crypto:strong_rand_bytes(32)),
    Pid = maps:get(os_pid, nocopy_iso:info(Iso)),
    try gss_demo_iso:crash(Iso) of
        V -> erlang:error({expected_ecrashed, V})
    catch error:ecrashed:St ->
            #{general := Text} = nocopy:format_error(ecrashed, St),
            ?assertNotEqual(nomatch, string:find(Text, "killed by signal 11 (SIGSEGV)"))
    end,
    Ctx = gss_demo_iso:new_context(Iso, crypto:strong_rand_bytes(32)),
    Msg = message(5000),
    {0, 0, true, _, Token} = gss_demo_iso:wrap(Iso, Ctx, confidentiality, Msg),
    ?assertMatch({0, 0, true, _, Msg}, gss_demo_iso:unwrap(Iso, Ctx, confidentiality, Token)),
    ?assertNotEqual(Pid, maps:get(os_pid, nocopy_iso:info(Iso))),
    ?assertError(badarg, gss_demo_iso:wrap(Iso, Old, confidentiality, Msg)).
