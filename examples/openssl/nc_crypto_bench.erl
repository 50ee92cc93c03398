%% @doc nc_crypto against OTP's crypto, side by side in one run
%% (`make bench-crypto', `make bench-crypto-quick').
%%
%% Contenders: `nif' (nc_crypto, the NIF backend), `drv' (nc_crypto_drv, the
%% driver backend through one port) and `otp' (OTP's crypto module, itself a
%% NIF over the same libcrypto). Operations: SHA-256, SHA-512, HMAC-SHA256,
%% AES-256-GCM seal and open (16 bytes of AAD). Inputs: a binary, and the
%% same bytes as iodata of 64 pieces (sub-binaries of it).
%%
%% Method: for each cell (operation, input shape, size) every contender's
%% result is first checked against OTP's (digests and MACs equal, seal gives
%% the same ciphertext and tag, open gives the plaintext back). Then each
%% contender gets a batch size calibrated to about `batch_ms'; `rounds'
%% rounds run every contender's batch once, in a new random order each
%% round, so that noise on a shared machine hits all of them alike. A batch
%% is a tail-recursive loop of direct calls in a fresh process. Reported: the
%% median time per call over the rounds (and its quartiles), the throughput
%% that gives, and the ratio OTP time / nocopy time computed within each
%% round (paired) and then the median: above 1.00x nocopy is faster.
%% Nothing here asserts a timing.
-module(nc_crypto_bench).

-export([main/1]).

-define(KiB, 1024).
-define(MiB, (1024 * 1024)).
-define(PIECES, 64).
-define(MAX_N, 1000000).
-define(CONTENDERS, [nif, drv, otp]).
-define(OPS, [sha256, sha512, hmac_sha256, gcm_seal, gcm_open]).
-define(SHAPES, [binary, iodata]).
%% The thresholds of examples/openssl/nc_crypto.c (HASH_DIRTY_ABOVE,
%% AEAD_DIRTY_ABOVE), to report where each nocopy cell ran.
-define(HASH_DIRTY_ABOVE, (64 * ?KiB)).
-define(AEAD_DIRTY_ABOVE, (256 * ?KiB)).
-define(AAD, <<"sixteen byte aad">>).

%% ---- configuration ------------------------------------------------------------

%% Rounds and batch length by size: fewer repetitions at the top.
config(full) ->
    #{mode => full,
      sizes => [64, ?KiB, 64 * ?KiB, ?MiB, 16 * ?MiB, 256 * ?MiB],
      rounds => fun(S) when S >= 256 * ?MiB -> 5;
                   (S) when S >= 16 * ?MiB -> 9;
                   (_) -> 15
                end,
      batch_ns => 10000000,
      gap_sizes => [16 * ?MiB, 256 * ?MiB]};
config(quick) ->
    #{mode => quick,
      sizes => [64, ?KiB, 64 * ?KiB],
      rounds => fun(_) -> 2 end,
      batch_ns => 300000,
      gap_sizes => [4 * ?MiB]}.

%% ---- entry ----------------------------------------------------------------------

%% @doc `-run nc_crypto_bench main full|quick OutDir': measures, writes
%% OutDir/crypto.md and OutDir/crypto.json, and halts (status 1 on failure).
-spec main([string()]) -> no_return().
main([Mode, OutDir]) when Mode =:= "full"; Mode =:= "quick" ->
    Status = try
                 run(config(list_to_atom(Mode)), OutDir),
                 0
             catch
                 C:E:St ->
                     io:format(standard_error, "nc_crypto_bench failed: ~p:~p~n~p~n", [C, E, St]),
                     1
             end,
    halt(Status);
main(["gaps" | SizeArgs]) ->
    %% The child VM of the responsiveness phase (one normal scheduler).
    io:format("~p.~n", [gaps([list_to_integer(S) || S <- SizeArgs])]),
    halt(0);
main(Args) ->
    io:format(standard_error, "usage: -run nc_crypto_bench main full|quick OutDir (got ~p)~n",
              [Args]),
    halt(2).

run(Cfg = #{sizes := Sizes, rounds := RoundsOf}, OutDir) ->
    T0 = erlang:monotonic_time(millisecond),
    {ok, Port} = nc_crypto_drv:open(),
    Key = crypto:strong_rand_bytes(32),
    Nonce = crypto:strong_rand_bytes(12),
    Cells = lists:append([size_cells(Cfg, Port, Key, Nonce, Size) || Size <- Sizes]),
    ok = nc_crypto_drv:close(Port),
    Gaps = gaps_in_child(maps:get(gap_sizes, Cfg)),
    Secs = (erlang:monotonic_time(millisecond) - T0) / 1000,
    Result = #{machine => machine(), config => #{mode => maps:get(mode, Cfg),
                                                 sizes => Sizes,
                                                 rounds => [#{size => S, rounds => RoundsOf(S)} || S <- Sizes],
                                                 batch_ns => maps:get(batch_ns, Cfg),
                                                 pieces => ?PIECES},
               seconds => Secs, cells => Cells, scheduler_gaps => Gaps},
    ok = filelib:ensure_dir(filename:join(OutDir, "x")),
    ok = file:write_file(filename:join(OutDir, "crypto.json"), [json(Result), $\n]),
    ok = file:write_file(filename:join(OutDir, "crypto.md"), markdown(Result)),
    io:format("nc_crypto_bench: ~s run in ~.1f s; wrote ~s/crypto.md and crypto.json~n",
              [maps:get(mode, Cfg), Secs, OutDir]).

%% All cells of one size; the payloads exist only while this size runs.
size_cells(Cfg = #{rounds := RoundsOf}, Port, Key, Nonce, Size) ->
    Plain = crypto:strong_rand_bytes(Size),
    {Ct, Tag} = crypto:crypto_one_time_aead(aes_256_gcm, Key, Nonce, Plain, ?AAD, true),
    Inputs = #{{plain, binary} => Plain, {plain, iodata} => pieces(Plain),
               {ct, binary} => Ct, {ct, iodata} => pieces(Ct)},
    Cells = [begin
                 Env = #{port => Port, key => Key, nonce => Nonce, tag => Tag,
                         data => maps:get({input_of(Op), Shape}, Inputs)},
                 Want = expected(Op, Plain, Key, Nonce),
                 [check(Id, Op, Shape, Size, Env, Want) || Id <- ?CONTENDERS],
                 cell(Cfg, Op, Shape, Size, RoundsOf(Size), Env)
             end || Op <- ?OPS, Shape <- ?SHAPES],
    erlang:garbage_collect(),
    Cells.

input_of(gcm_open) -> ct;
input_of(_) -> plain.

%% The bytes as ?PIECES sub-binaries (fewer when there are fewer bytes).
pieces(Bin) ->
    N = max(1, byte_size(Bin) div ?PIECES),
    cut(Bin, N).

cut(Bin, N) when byte_size(Bin) =< N -> [Bin];
cut(Bin, N) ->
    <<P:N/binary, Rest/binary>> = Bin,
    [P | cut(Rest, N)].

%% ---- correctness, before any timing ---------------------------------------------

expected(sha256, Plain, _, _) -> crypto:hash(sha256, Plain);
expected(sha512, Plain, _, _) -> crypto:hash(sha512, Plain);
expected(hmac_sha256, Plain, Key, _) -> crypto:mac(hmac, sha256, Key, Plain);
expected(gcm_seal, Plain, Key, Nonce) ->
    crypto:crypto_one_time_aead(aes_256_gcm, Key, Nonce, Plain, ?AAD, true);
expected(gcm_open, Plain, _, _) -> Plain.

check(Id, Op, Shape, Size, Env, Want) ->
    Got = case {Id, Op, one(Id, Op, Env)} of
              {otp, _, R} -> R;
              {_, gcm_open, {ok, P}} -> P;
              {_, gcm_open, Other} -> {not_opened, Other};
              {_, _, R} -> R
          end,
    case Got =:= Want of
        true -> ok;
        false -> erlang:error({wrong_result, Id, Op, Shape, Size})
    end.

one(nif, sha256, #{data := D}) -> nc_crypto:hash(sha256, D);
one(nif, sha512, #{data := D}) -> nc_crypto:hash(sha512, D);
one(nif, hmac_sha256, #{data := D, key := K}) -> nc_crypto:hmac(sha256, K, D);
one(nif, gcm_seal, #{data := D, key := K, nonce := N}) ->
    nc_crypto:aead_seal(aes_256_gcm, K, N, ?AAD, D);
one(nif, gcm_open, #{data := D, key := K, nonce := N, tag := T}) ->
    nc_crypto:aead_open(aes_256_gcm, K, N, ?AAD, D, T);
one(drv, sha256, #{data := D, port := P}) -> nc_crypto_drv:hash(P, sha256, D);
one(drv, sha512, #{data := D, port := P}) -> nc_crypto_drv:hash(P, sha512, D);
one(drv, hmac_sha256, #{data := D, key := K, port := P}) -> nc_crypto_drv:hmac(P, sha256, K, D);
one(drv, gcm_seal, #{data := D, key := K, nonce := N, port := P}) ->
    nc_crypto_drv:aead_seal(P, aes_256_gcm, K, N, ?AAD, D);
one(drv, gcm_open, #{data := D, key := K, nonce := N, tag := T, port := P}) ->
    nc_crypto_drv:aead_open(P, aes_256_gcm, K, N, ?AAD, D, T);
one(otp, sha256, #{data := D}) -> crypto:hash(sha256, D);
one(otp, sha512, #{data := D}) -> crypto:hash(sha512, D);
one(otp, hmac_sha256, #{data := D, key := K}) -> crypto:mac(hmac, sha256, K, D);
one(otp, gcm_seal, #{data := D, key := K, nonce := N}) ->
    crypto:crypto_one_time_aead(aes_256_gcm, K, N, D, ?AAD, true);
one(otp, gcm_open, #{data := D, key := K, nonce := N, tag := T}) ->
    crypto:crypto_one_time_aead(aes_256_gcm, K, N, D, ?AAD, T, false).

%% ---- batches: direct calls in a tail-recursive loop --------------------------------

batch(Id, Op, N, Env) ->
    #{data := D, key := K, nonce := No, tag := T, port := P} = Env,
    case {Id, Op} of
        {nif, sha256} -> nif_sha256(N, D);
        {nif, sha512} -> nif_sha512(N, D);
        {nif, hmac_sha256} -> nif_hmac(N, K, D);
        {nif, gcm_seal} -> nif_seal(N, K, No, D);
        {nif, gcm_open} -> nif_open(N, K, No, D, T);
        {drv, sha256} -> drv_sha256(N, P, D);
        {drv, sha512} -> drv_sha512(N, P, D);
        {drv, hmac_sha256} -> drv_hmac(N, P, K, D);
        {drv, gcm_seal} -> drv_seal(N, P, K, No, D);
        {drv, gcm_open} -> drv_open(N, P, K, No, D, T);
        {otp, sha256} -> otp_sha256(N, D);
        {otp, sha512} -> otp_sha512(N, D);
        {otp, hmac_sha256} -> otp_hmac(N, K, D);
        {otp, gcm_seal} -> otp_seal(N, K, No, D);
        {otp, gcm_open} -> otp_open(N, K, No, D, T)
    end.

nif_sha256(0, _) -> ok;
nif_sha256(N, D) -> _ = nc_crypto:hash(sha256, D), nif_sha256(N - 1, D).
nif_sha512(0, _) -> ok;
nif_sha512(N, D) -> _ = nc_crypto:hash(sha512, D), nif_sha512(N - 1, D).
nif_hmac(0, _, _) -> ok;
nif_hmac(N, K, D) -> _ = nc_crypto:hmac(sha256, K, D), nif_hmac(N - 1, K, D).
nif_seal(0, _, _, _) -> ok;
nif_seal(N, K, No, D) ->
    _ = nc_crypto:aead_seal(aes_256_gcm, K, No, ?AAD, D), nif_seal(N - 1, K, No, D).
nif_open(0, _, _, _, _) -> ok;
nif_open(N, K, No, D, T) ->
    {ok, _} = nc_crypto:aead_open(aes_256_gcm, K, No, ?AAD, D, T), nif_open(N - 1, K, No, D, T).

drv_sha256(0, _, _) -> ok;
drv_sha256(N, P, D) -> _ = nc_crypto_drv:hash(P, sha256, D), drv_sha256(N - 1, P, D).
drv_sha512(0, _, _) -> ok;
drv_sha512(N, P, D) -> _ = nc_crypto_drv:hash(P, sha512, D), drv_sha512(N - 1, P, D).
drv_hmac(0, _, _, _) -> ok;
drv_hmac(N, P, K, D) -> _ = nc_crypto_drv:hmac(P, sha256, K, D), drv_hmac(N - 1, P, K, D).
drv_seal(0, _, _, _, _) -> ok;
drv_seal(N, P, K, No, D) ->
    _ = nc_crypto_drv:aead_seal(P, aes_256_gcm, K, No, ?AAD, D), drv_seal(N - 1, P, K, No, D).
drv_open(0, _, _, _, _, _) -> ok;
drv_open(N, P, K, No, D, T) ->
    {ok, _} = nc_crypto_drv:aead_open(P, aes_256_gcm, K, No, ?AAD, D, T),
    drv_open(N - 1, P, K, No, D, T).

otp_sha256(0, _) -> ok;
otp_sha256(N, D) -> _ = crypto:hash(sha256, D), otp_sha256(N - 1, D).
otp_sha512(0, _) -> ok;
otp_sha512(N, D) -> _ = crypto:hash(sha512, D), otp_sha512(N - 1, D).
otp_hmac(0, _, _) -> ok;
otp_hmac(N, K, D) -> _ = crypto:mac(hmac, sha256, K, D), otp_hmac(N - 1, K, D).
otp_seal(0, _, _, _) -> ok;
otp_seal(N, K, No, D) ->
    _ = crypto:crypto_one_time_aead(aes_256_gcm, K, No, D, ?AAD, true), otp_seal(N - 1, K, No, D).
otp_open(0, _, _, _, _) -> ok;
otp_open(N, K, No, D, T) ->
    <<_/binary>> = crypto:crypto_one_time_aead(aes_256_gcm, K, No, D, ?AAD, T, false),
    otp_open(N - 1, K, No, D, T).

%% ns per call of an N-call batch, run by a fresh process (its heap and
%% binary-heap allowance start from the defaults for every contender).
timed(Id, Op, N, Env) ->
    Self = self(),
    {Pid, Ref} = spawn_monitor(
                   fun() ->
                           T0 = erlang:monotonic_time(nanosecond),
                           ok = batch(Id, Op, N, Env),
                           T1 = erlang:monotonic_time(nanosecond),
                           Self ! {self(), (T1 - T0) / N}
                   end),
    receive
        {Pid, Ns} ->
            receive {'DOWN', Ref, process, Pid, _} -> Ns end;
        {'DOWN', Ref, process, Pid, Reason} ->
            erlang:error({batch_failed, Id, Op, Reason})
    end.

calibrate(Id, Op, Env, BatchNs) ->
    calibrate(Id, Op, Env, BatchNs, 1).

calibrate(Id, Op, Env, BatchNs, N) ->
    Ns = timed(Id, Op, N, Env),
    Total = Ns * N,
    if
        Total >= BatchNs / 4; N >= ?MAX_N ->
            max(1, min(?MAX_N, round(BatchNs / Ns)));
        true ->
            calibrate(Id, Op, Env, BatchNs, min(?MAX_N, N * 8))
    end.

cell(#{batch_ns := BatchNs}, Op, Shape, Size, Rounds, Env) ->
    Ns = maps:from_list([{Id, calibrate(Id, Op, Env, BatchNs)} || Id <- ?CONTENDERS]),
    Samples = [maps:from_list([{Id, timed(Id, Op, maps:get(Id, Ns), Env)}
                               || Id <- shuffle(?CONTENDERS)])
               || _ <- lists:seq(1, Rounds)],
    Per = maps:from_list(
            [{Id, begin
                      Xs = [maps:get(Id, S) || S <- Samples],
                      St = stats(Xs),
                      St#{batch => maps:get(Id, Ns), samples_ns => Xs,
                          mb_per_s => mbps(Size, maps:get(median, St))}
                  end} || Id <- ?CONTENDERS]),
    Ratios = maps:from_list(
               [{Id, stats([maps:get(otp, S) / maps:get(Id, S) || S <- Samples])}
                || Id <- [nif, drv]]),
    io:format("~-11s ~-6s ~9s  nif ~10s  drv ~10s  otp ~10s  otp/nif ~5.2fx  otp/drv ~5.2fx~n",
              [Op, Shape, size_label(Size)]
              ++ [fmt_ns(maps:get(median, maps:get(Id, Per))) || Id <- ?CONTENDERS]
              ++ [maps:get(median, maps:get(Id, Ratios)) || Id <- [nif, drv]]),
    #{op => Op, shape => Shape, size => Size, rounds => Rounds,
      nocopy_runs_on => runs_on(Op, Size),
      contenders => Per, otp_time_over => Ratios}.

runs_on(Op, Size) ->
    Threshold = case Op of
                    gcm_seal -> ?AEAD_DIRTY_ABOVE;
                    gcm_open -> ?AEAD_DIRTY_ABOVE;
                    _ -> ?HASH_DIRTY_ABOVE
                end,
    case Size > Threshold of
        true -> dirty;
        false -> normal
    end.

shuffle(L) ->
    [X || {_, X} <- lists:sort([{rand:uniform(), X} || X <- L])].

%% ---- responsiveness: how long a call holds a normal scheduler ---------------------

%% Runs in a child VM with one normal scheduler (+S 1), so that a call that
%% holds it stops everything else: a process ticking every millisecond
%% measures the longest gap while a contender's call runs.
gaps_in_child(Sizes) ->
    Erl = filename:join([code:root_dir(), "bin", "erl"]),
    Paths = lists:usort([filename:dirname(code:which(M)) || M <- [nocopy, nocopy_port, nc_crypto,
                                                                 nc_crypto_drv, ?MODULE]]),
    Cmd = lists:flatten([Erl, " +S 1 -noshell",
                         [[" -pa ", P] || P <- Paths],
                         " -run ", atom_to_list(?MODULE), " main gaps",
                         [[" ", integer_to_list(S)] || S <- Sizes]]),
    Out = os:cmd(Cmd),
    {ok, Tokens, _} = erl_scan:string(Out),
    {ok, Term} = erl_parse:parse_term(Tokens),
    Term.

gaps(Sizes) ->
    {ok, Port} = nc_crypto_drv:open(),
    Key = crypto:strong_rand_bytes(32),
    Nonce = crypto:strong_rand_bytes(12),
    R = lists:append(
          [begin
               Plain = crypto:strong_rand_bytes(Size),
               {Ct, Tag} = crypto:crypto_one_time_aead(aes_256_gcm, Key, Nonce, Plain, ?AAD, true),
               Nested = [[P] || P <- pieces(Plain)],
               Env = fun(Op, D) -> #{port => Port, key => Key, nonce => Nonce, tag => Tag,
                                     data => case Op of gcm_open -> Ct; _ -> D end}
                     end,
               [#{op => Op, size => Size, id => Id, shape => binary,
                  gap_ms => gap(fun() -> one(Id, Op, Env(Op, Plain)) end)}
                || Op <- ?OPS, Id <- ?CONTENDERS]
               ++ [#{op => Op, size => Size, id => Id, shape => nested,
                     gap_ms => gap(fun() -> one(Id, Op, Env(Op, Nested)) end)}
                   || Op <- [sha256, gcm_seal], Id <- [nif, drv]]
           end || Size <- Sizes]),
    ok = nc_crypto_drv:close(Port),
    R.

%% The median of three measured calls, after one that warms up (code loading,
%% the driver's threads, the binary allocators).
gap(F) ->
    _ = F(),
    median([gap1(F) || _ <- [1, 2, 3]]).

gap1(F) ->
    Self = self(),
    T = spawn_link(fun() -> tick(erlang:monotonic_time(microsecond), 0, Self) end),
    receive {T, ticking} -> ok end,
    _ = F(),
    receive after 20 -> ok end,
    T ! stop,
    receive {T, gap, G} -> G / 1000 end.

tick(Last, Max, Parent) ->
    receive
        stop -> Parent ! {self(), gap, Max}
    after 1 ->
            Now = erlang:monotonic_time(microsecond),
            _ = case Max of
                    0 -> Parent ! {self(), ticking};
                    _ -> ok
                end,
            tick(Now, max(Max, Now - Last), Parent)
    end.

%% ---- statistics and formatting --------------------------------------------------

median(Xs) -> quantile(lists:sort(Xs), 0.5).

stats(Xs) ->
    S = lists:sort(Xs),
    #{median => quantile(S, 0.5), q1 => quantile(S, 0.25), q3 => quantile(S, 0.75),
      min => hd(S), max => lists:last(S)}.

%% Linear interpolation between the closest ranks.
quantile([X], _) -> X;
quantile(S, Q) ->
    P = Q * (length(S) - 1),
    I = trunc(P),
    Lo = lists:nth(I + 1, S),
    Hi = lists:nth(min(length(S), I + 2), S),
    Lo + (Hi - Lo) * (P - I).

mbps(Size, Ns) -> Size / Ns * 1000.   % bytes per ns = GB/s; *1000 = MB/s

fmt_ns(Ns) when Ns < 1000 -> io_lib:format("~b ns", [round(Ns)]);
fmt_ns(Ns) when Ns < 1000000 -> io_lib:format("~.2f us", [Ns / 1000]);
fmt_ns(Ns) when Ns < 1000000000 -> io_lib:format("~.2f ms", [Ns / 1000000]);
fmt_ns(Ns) -> io_lib:format("~.2f s", [Ns / 1000000000]).

fmt_mbps(M) when M < 10 -> io_lib:format("~.2f", [M]);
fmt_mbps(M) when M < 100 -> io_lib:format("~.1f", [M]);
fmt_mbps(M) -> integer_to_list(round(M)).

size_label(S) when S >= ?MiB -> io_lib:format("~b MiB", [S div ?MiB]);
size_label(S) when S >= ?KiB -> io_lib:format("~b KiB", [S div ?KiB]);
size_label(S) -> io_lib:format("~b B", [S]).

op_label(sha256) -> "SHA-256";
op_label(sha512) -> "SHA-512";
op_label(hmac_sha256) -> "HMAC-SHA256";
op_label(gcm_seal) -> "AES-256-GCM seal";
op_label(gcm_open) -> "AES-256-GCM open".

shape_label(binary) -> "binary";
shape_label(iodata) -> io_lib:format("iodata, ~b pieces", [?PIECES]).

id_label(nif) -> "nc_crypto NIF";
id_label(drv) -> "nc_crypto driver";
id_label(otp) -> "OTP crypto".

%% ---- machine -----------------------------------------------------------------------

machine() ->
    Cpu = case file:read_file("/proc/cpuinfo") of
              {ok, Info} ->
                  case re:run(Info, "model name\\s*:\\s*([^\\n]*)", [{capture, [1], binary}]) of
                      {match, [M]} -> M;
                      nomatch -> <<"unknown">>
                  end;
              _ -> <<"unknown">>
          end,
    [{_, _, OpenSSL}] = crypto:info_lib(),
    #{cpu => Cpu,
      logical_processors => erlang:system_info(logical_processors_available),
      schedulers => erlang:system_info(schedulers_online),
      dirty_cpu_schedulers => erlang:system_info(dirty_cpu_schedulers_online),
      otp_release => list_to_binary(erlang:system_info(otp_release)),
      erts => list_to_binary(erlang:system_info(version)),
      crypto_app => list_to_binary(crypto_vsn()),
      libcrypto => OpenSSL,
      kernel => list_to_binary(string:trim(os:cmd("uname -sr"))),
      date => list_to_binary(calendar:system_time_to_rfc3339(erlang:system_time(second)))}.

crypto_vsn() ->
    case application:load(crypto) of
        ok -> ok;
        {error, {already_loaded, crypto}} -> ok
    end,
    {ok, V} = application:get_key(crypto, vsn),
    V.

%% ---- JSON (OTP 25 has no json module) -----------------------------------------------

json(M) when is_map(M) ->
    ["{", lists:join(",", [[json(key(K)), ":", json(V)] || {K, V} <- lists:sort(maps:to_list(M))]),
     "}"];
json(L) when is_list(L) -> ["[", lists:join(",", [json(X) || X <- L]), "]"];
json(B) when is_binary(B) -> [$", escape(B), $"];
json(true) -> "true";
json(false) -> "false";
json(A) when is_atom(A) -> json(atom_to_binary(A));
json(I) when is_integer(I) -> integer_to_list(I);
json(F) when is_float(F) -> float_to_list(F, [{decimals, 3}, compact]).

key(K) when is_atom(K) -> atom_to_binary(K);
key(K) when is_binary(K) -> K.

escape(B) ->
    [case C of
         $" -> "\\\"";
         $\\ -> "\\\\";
         C when C < 32 -> io_lib:format("\\u~4.16.0b", [C]);
         C -> C
     end || <<C>> <= B].

%% ---- Markdown ------------------------------------------------------------------------

markdown(#{machine := M, config := Cfg, seconds := Secs, cells := Cells,
           scheduler_gaps := Gaps}) ->
    Sizes = maps:get(sizes, Cfg),
    Find = fun(Op, Shape, Size) ->
                   hd([C || C = #{op := O, shape := Sh, size := Si} <- Cells,
                            O =:= Op, Sh =:= Shape, Si =:= Size])
           end,
    Header = ["| | ", lists:join(" | ", [size_label(S) || S <- Sizes]), " |\n",
              "|---|", [["---|"] || _ <- Sizes], "\n"],
    Summary =
        [Header,
         [[io_lib:format("| ~s, ~s | ", [op_label(Op), shape_label(Shape)]),
           lists:join(" | ",
                      [begin
                           #{otp_time_over := R} = Find(Op, Shape, S),
                           io_lib:format("~.2fx / ~.2fx",
                                         [maps:get(median, maps:get(nif, R)),
                                          maps:get(median, maps:get(drv, R))])
                       end || S <- Sizes]),
           " |\n"] || Op <- ?OPS, Shape <- ?SHAPES]],
    Detail =
        [[io_lib:format("### ~s, ~s\n\n", [op_label(Op), shape_label(Shape)]),
          Header,
          [[io_lib:format("| ~s | ", [id_label(Id)]),
            lists:join(" | ",
                       [begin
                            #{contenders := #{Id := St}} = Find(Op, Shape, S),
                            io_lib:format("~s, ~s MB/s",
                                          [fmt_ns(maps:get(median, St)),
                                           fmt_mbps(maps:get(mb_per_s, St))])
                        end || S <- Sizes]),
            " |\n"] || Id <- ?CONTENDERS],
          [[io_lib:format("| OTP time / ~s time | ", [id_label(Id)]),
            lists:join(" | ",
                       [begin
                            #{otp_time_over := #{Id := R}} = Find(Op, Shape, S),
                            io_lib:format("~.2fx (~.2f-~.2f)",
                                          [maps:get(median, R), maps:get(min, R),
                                           maps:get(max, R)])
                        end || S <- Sizes]),
            " |\n"] || Id <- [nif, drv]],
          "\n"] || Op <- ?OPS, Shape <- ?SHAPES],
    ["# nc_crypto against OTP's crypto\n\n",
     io_lib:format("`make bench-crypto` (~s mode), ~b s, ~s. ", [maps:get(mode, Cfg), round(Secs),
                                                                     maps:get(date, M)]),
     io_lib:format("~s, ~b logical CPUs (~b schedulers, ~b dirty CPU schedulers), ~s; "
                   "Erlang/OTP ~s (erts ~s, crypto ~s), ~s.\n\n",
                   [maps:get(cpu, M), maps:get(logical_processors, M), maps:get(schedulers, M),
                    maps:get(dirty_cpu_schedulers, M), maps:get(kernel, M),
                    maps:get(otp_release, M), maps:get(erts, M), maps:get(crypto_app, M),
                    maps:get(libcrypto, M)]),
     "## Summary: OTP time / nocopy time, NIF / driver (above 1.00x: nocopy is faster)\n\n",
     Summary,
     "\nOne cell: OTP's time per call divided by nc_crypto's, NIF first, then the driver; "
     "paired within each round, median over the rounds.\n"
     "\n## Method\n\n",
     method(Cfg),
     "\n## Holding a scheduler\n\n",
     "The longest time a process ticking every millisecond was kept waiting while one "
     "call ran, in a VM with a single normal scheduler (`+S 1`): what a call costs "
     "everything else on its scheduler (median of three calls, after one warm-up "
     "call). A few ms means the call left the scheduler free (a dirty scheduler, a "
     "worker thread, or short slices) and the rest is noise.\n\n",
     gap_tables(Gaps),
     "\n## Every cell: median time per call, throughput\n\n",
     "Ratios are medians of per-round ratios, with their range over the rounds.\n\n",
     Detail].

gap_tables(Gaps) ->
    Sizes = lists:usort([S || #{size := S} <- Gaps]),
    Get = fun(Op, Size, Id, Shape) ->
                  case [G || #{op := O, size := S, id := I, shape := Sh, gap_ms := G} <- Gaps,
                             O =:= Op, S =:= Size, I =:= Id, Sh =:= Shape] of
                      [G] -> io_lib:format("~.1f ms", [G]);
                      [] -> "-"
                  end
          end,
    [[io_lib:format("| ~s | ~s | ~s | ~s |\n|---|---|---|---|\n",
                    [size_label(Size) | [id_label(Id) || Id <- ?CONTENDERS]]),
      [io_lib:format("| ~s, binary | ~s | ~s | ~s |\n",
                     [op_label(Op) | [Get(Op, Size, Id, binary) || Id <- ?CONTENDERS]])
       || Op <- ?OPS],
      [io_lib:format("| ~s, nested iodata `[[P1], [P2], ...]` | ~s | ~s | ~s |\n",
                     [op_label(Op) | [Get(Op, Size, Id, nested) || Id <- ?CONTENDERS]])
       || Op <- [sha256, gcm_seal]],
      "\n"] || Size <- Sizes].

method(#{batch_ns := BatchNs, rounds := PerSize}) ->
    Rounds = lists:join(", ", [io_lib:format("~b at ~s", [R, size_label(S)])
                               || #{size := S, rounds := R} <- PerSize]),
    io_lib:format(
      "- Contenders: `nc_crypto` (NIF backend), `nc_crypto_drv` (driver backend, one port, "
      "calls from the measuring process) and OTP's `crypto` (`crypto:hash/2`, "
      "`crypto:mac/4`, `crypto:crypto_one_time_aead/6,7`), all over the same libcrypto. "
      "AES-256-GCM with 16 bytes of AAD; open checks the tag.\n"
      "- Inputs: a binary of the size, and the same bytes as iodata: a list of ~b "
      "sub-binaries. nocopy reads iodata piece by piece; OTP's crypto flattens it first "
      "(`iolist_to_binary/1` or `enif_inspect_iolist_as_binary`), which copies it.\n"
      "- Every contender's result is checked against OTP's before timing (same digest, "
      "MAC, ciphertext and tag; open returns the plaintext).\n"
      "- Each contender gets a batch calibrated to about ~s (at least one call); each "
      "round runs every contender's batch once, in a new random order; a batch is a "
      "tail-recursive loop of direct calls in a fresh process. Rounds: ~s. "
      "Reported: the median time per call over the rounds, the "
      "throughput it gives (MB = 10^6 bytes), and OTP time / nocopy time computed "
      "within each round, then its median (and range).\n"
      "- Scheduling: nc_crypto moves a call to a dirty CPU scheduler (NIF) or a "
      "worker thread (driver) above 64 KiB (digests, HMAC) or 256 KiB (AEAD) of "
      "binary arguments, here from 1 MiB on; it counts the binaries anywhere in the "
      "arguments, nested iodata included (up to 4096 terms). OTP 25's `crypto:hash/2` "
      "calls its NIF on slices of at most 20,000 bytes, on the calling scheduler; "
      "see \"Holding a scheduler\" for what each does with large inputs.\n"
      "- Nothing here is a test: no timing is asserted.\n",
      [?PIECES, fmt_ns(BatchNs), Rounds]).
