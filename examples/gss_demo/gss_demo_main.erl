%% gss_demo_main: `make demo`. Runs the 2006 seed scenario (GSS-style wrap and
%% unwrap of large messages, AES-256-GCM in C via OpenSSL) through the three
%% nocopy backends (NIF, linked-in driver, isolated child process) and prints,
%% per message size: the time per call, a round-trip check, and the addresses
%% that show the message went into C and the token came back without a copy.
%% On the isolated backend it then makes the C code segfault (gss_demo:crash):
%% the VM survives, the call fails with ecrashed, the next call works.
%%
%% Run: erl -noshell -pa ebin _build/gss_demo/ebin -run gss_demo_main main [MAX] -s init stop
%% MAX (argument, or the DEMO_MAX environment variable) caps the message size,
%% e.g. 16M, 512K, 1G or a byte count; the default runs 1 KiB .. 256 MiB.
%%
%% Where the addresses come from: "C read"/"C wrote" are reported by the
%% wrapped C function itself (gss_demo:wrap_traced/3, unwrap_traced/3: demo
%% instrumentation). "Erlang" is the address of the binary's bytes in the
%% Erlang term, read by the NIF probe gss_demo:address_of/1 for both backends,
%% so the driver's addresses are checked against an independent view.
%% The isolated backend's C runs in another process, with the shared regions
%% mapped at other addresses: its addresses are translated to this VM's
%% (same offset from the region's base on both sides, the bases from
%% nocopy_iso:info/1), and the message is first placed in the isolate's input
%% region (nocopy_iso:binary/2, one copy, made once, outside the timings), as
%% a result of an earlier call would be.
-module(gss_demo_main).
-export([main/0, main/1]).

-define(KIB, 1024).
-define(MIB, (1024 * 1024)).
-define(SIZES, [?KIB, 64 * ?KIB, ?MIB, 16 * ?MIB, 256 * ?MIB]).
-define(HEADER_BYTES, 16).   % token header, see examples/gss_demo/gss_demo.c
%% Twin of GSS_DIRTY_ABOVE in gss_demo.c: calls whose binary arguments total
%% more bytes than this run on a dirty CPU scheduler (NIF) or a driver worker
%% thread (driver); marked "d" in the table.
-define(DIRTY_ABOVE, (256 * 1024)).

main() -> main([]).

main(Args) ->
    try run(max_size(Args)) of
        ok -> ok;
        failed ->
            io:format("~nDEMO FAILED: see the lines above that say MISMATCH"
                      " or \"same address: no\"~n"),
            halt(1)
    catch Class:Reason:Stack ->
        io:format("~nDEMO CRASHED: ~ts~n",
                  [erl_error:format_exception(Class, Reason, Stack)]),
        halt(1)
    end.

run(Max) when Max < ?KIB ->
    erlang:error({size_cap_below_smallest_size, Max, ?KIB});
run(Max) ->
    Sizes = [S || S <- ?SIZES, S =< Max],
    io:format("nocopy demo: the 2006 seed scenario, GSS-style wrap/unwrap~n"
              "  cipher   AES-256-GCM (OpenSSL libcrypto), token = 16-byte header"
              " + payload + 16-byte tag~n"
              "  runtime  Erlang/OTP ~s, erts ~s, ~b schedulers~n"
              "  sizes    ~ts (cap ~ts; set DEMO_MAX or pass a size to change)~n"
              "  times    median per call after a warm-up call, memory collected between"
              " samples;~n"
              "           d = binary arguments over ~ts: ran off the normal schedulers~n"
              "           (NIF: on a dirty CPU scheduler; driver: on a driver worker thread)~n"
              "  checks   \"same address: yes\" means no copy: C read the caller's bytes"
              " in place,~n"
              "           and the binary Erlang got back is the buffer C wrote~n",
              [erlang:system_info(otp_release), erlang:system_info(version),
               erlang:system_info(schedulers_online),
               lists:join(", ", [fmt_size(S) || S <- Sizes]), fmt_size(Max),
               fmt_size(?DIRTY_ABOVE)]),
    Results = [run_backend(B, Sizes) || B <- backends()],
    summary(Results).

%% ---- backends ---------------------------------------------------------------

%% {Name, Call, Close, Place, Extra}: Call(F, Args) calls F on that backend,
%% Place(Message) puts a message where the backend reads it without a copy,
%% Extra() runs what only that backend shows and returns its checks.
backends() ->
    Nif = {"NIF backend (module gss_demo)",
           fun(F, A) -> apply(gss_demo, F, A) end, fun() -> ok end, fun(M) -> M end,
           fun() -> [] end},
    [Nif | driver_backend()] ++ iso_backend().

driver_backend() ->
    Title = "driver backend (module gss_demo_drv, linked-in driver)",
    case catch gss_demo_drv:open() of
        {ok, Port} -> [drv_backend(Title, Port)];
        Other -> [{Title, {not_available, io_lib:format("could not open a port: ~0tp",
                                                       [Other])}}]
    end.

drv_backend(Title, Port) ->
    {Title, fun(F, A) -> apply(gss_demo_drv, F, [Port | A]) end,
     fun() -> gss_demo_drv:close(Port) end, fun(M) -> M end, fun() -> [] end}.

%% Regions of 8 GiB each: address space only (sparse), room for a 256 MiB
%% message and the tokens of the timed calls before their release.
iso_backend() ->
    Title = "isolated backend (module gss_demo_iso, child process priv/gss_demo_iso)",
    case catch gss_demo_iso:start([{region_bytes, 8 bsl 30}]) of
        {ok, Iso} ->
            Call = fun(F, A) when F =:= wrap_traced; F =:= unwrap_traced ->
                           {Status, In, Out} = apply(gss_demo_iso, F, [Iso | A]),
                           {Status, vm_address(Iso, In), vm_address(Iso, Out)};
                      (F, A) -> apply(gss_demo_iso, F, [Iso | A])
                   end,
            [{Title, Call, fun() -> ok end, fun(M) -> nocopy_iso:binary(Iso, M) end,
              fun() -> Checks = crash(Iso), gss_demo_iso:stop(Iso), Checks end}];
        Other ->
            [{Title, {not_available, io_lib:format("could not start an isolate: ~0tp",
                                                   [Other])}}]
    end.

%% An address in the child's mapping of a region, as this VM maps it (the
%% same offset from the base); any other address as it is.
vm_address(Iso, A) ->
    I = child_info(Iso),
    #{input_base := In, output_base := Out, child_input_base := CIn,
      child_output_base := COut, region_bytes := R} = I,
    if A >= CIn, A < CIn + R -> A - CIn + In;
       A >= COut, A < COut + R -> A - COut + Out;
       true -> A
    end.

%% The child reports its bases in its first message, soon after it starts.
child_info(Iso) ->
    I = nocopy_iso:info(Iso),
    case maps:is_key(child_output_base, I) of
        true -> I;
        false -> receive after 1 -> child_info(Iso) end
    end.

%% The deliberate crash: C writes to a page it may not touch. The call fails
%% with error:ecrashed, the VM carries on, and the next call starts a new
%% child; a context of the dead child is refused as closed.
crash(Iso) ->
    io:format("~n  deliberate crash: gss_demo_iso:crash/1 (a store to a PROT_NONE page)~n"),
    Old = gss_demo_iso:new_context(Iso, crypto:strong_rand_bytes(32)),
    Pid = maps:get(os_pid, nocopy_iso:info(Iso)),
    {Crashed, Said} = try gss_demo_iso:crash(Iso) of
                          V -> {false, io_lib:format("~0tp (expected ecrashed)", [V])}
                      catch error:ecrashed:St ->
                              #{general := Text} = nocopy:format_error(ecrashed, St),
                              {true, ["error:ecrashed, \"", Text, "\""]}
                      end,
    io:format("    the call: ~ts~n", [Said]),
    io:format("    the VM: still running (this line), ~b processes~n",
              [erlang:system_info(process_count)]),
    Ctx = gss_demo_iso:new_context(Iso, crypto:strong_rand_bytes(32)),
    Msg = message(?KIB),
    {0, 0, true, _, Token} = gss_demo_iso:wrap(Iso, Ctx, confidentiality, Msg),
    {0, 0, true, _, Back} = gss_demo_iso:unwrap(Iso, Ctx, confidentiality, Token),
    NewPid = maps:get(os_pid, nocopy_iso:info(Iso)),
    Next = Back =:= Msg andalso NewPid =/= Pid,
    io:format("    the next call: a new child (os pid ~b, was ~b), wrap/unwrap round trip ~s~n",
              [NewPid, Pid, ok_or(Back =:= Msg, "ok", "MISMATCH")]),
    Closed = try gss_demo_iso:wrap(Iso, Old, confidentiality, Msg) of
                 _ -> false
             catch error:badarg -> true
             end,
    io:format("    a context of the dead child: ~s~n",
              [ok_or(Closed, "refused as closed (badarg)", "ACCEPTED")]),
    gss_demo_iso:close_context(Iso, Ctx),
    [Crashed, Next, Closed].

%% ---- one backend --------------------------------------------------------------

run_backend({Title, {not_available, Why}}, _Sizes) ->
    io:format("~n== ~ts ==~n  ~ts~n", [Title, Why]),
    {Title, skipped};
run_backend({Title, Call, Close, Place, Extra}, Sizes) ->
    io:format("~n== ~ts ==~n", [Title]),
    io:format("  ~-9s ~-16s ~14s ~14s ~8s  ~s~n",
              ["size", "QOP", "wrap/call", "unwrap/call", "MB/s", "round trip"]),
    Ctx = Call(new_context, [crypto:strong_rand_bytes(32)]),
    try
        Checks = lists:append([run_size(Call, Place, Ctx, Size) || Size <- Sizes])
                 ++ negative_control(Call, Ctx, lists:max([S || S <- Sizes, S =< ?MIB])),
        Call(close_context, [Ctx]),
        {Title, Checks ++ Extra()}
    after
        Close()
    end.

run_size(Call, Place, Ctx, Size) ->
    Msg = Place(message(Size)),
    Checks = lists:append([run_qop(Call, Ctx, Msg, Qop)
                           || Qop <- [confidentiality, integrity]]),
    erlang:garbage_collect(),   % drop this size's tokens before the next size
    Checks.

run_qop(Call, Ctx, Msg, Qop) ->
    Size = byte_size(Msg),
    Addr = fun gss_demo:address_of/1,
    %% Traced calls: the same C code as wrap/unwrap, plus the addresses it used.
    {{0, 0, Conf, _, Token}, InC, OutC} = Call(wrap_traced, [Ctx, Qop, Msg]),
    {{0, 0, Conf, _, Back}, TokInC, BackC} = Call(unwrap_traced, [Ctx, Qop, Token]),
    RoundTrip = Back =:= Msg andalso Conf =:= (Qop =:= confidentiality),
    {Batch, Samples} = repeats(Size),
    WrapNs = median_ns(fun() -> Call(wrap, [Ctx, Qop, Msg]) end, Batch, Samples),
    UnwrapNs = median_ns(fun() -> Call(unwrap, [Ctx, Qop, Token]) end, Batch, Samples),
    io:format("  ~-9s ~-16s ~14s ~14s ~8s  ~s~n",
              [fmt_size(Size), Qop, fmt_ns(WrapNs) ++ dirty_mark(Size),
               fmt_ns(UnwrapNs) ++ dirty_mark(byte_size(Token)),
               fmt_rate(Size, WrapNs), ok_or(RoundTrip, "ok", "MISMATCH")]),
    Checks =
        [same("message in ", "Erlang message", Addr(Msg), "C read", InC),
         same("token out  ", "C wrote", OutC, "Erlang token", Addr(Token)),
         same("unwrap in  ", "Erlang token", Addr(Token), "C read", TokInC)]
        ++ case Qop of
               confidentiality ->
                   [same("unwrap out ", "C wrote", BackC, "Erlang message", Addr(Back))];
               integrity ->
                   %% The clear message is a slice of the token, not a copy.
                   [same("unwrap out ", "token+16", Addr(Token) + ?HEADER_BYTES,
                         "Erlang message", Addr(Back)),
                    same("           ", "C sliced", BackC, "Erlang message", Addr(Back))]
           end,
    [RoundTrip | Checks].

%% A check the demo expects to fail: a copy of the message has its own address,
%% which shows the probe can tell a copy from the original.
negative_control(Call, Ctx, Size) ->
    Msg = message(Size),
    Copy = binary:copy(Msg),
    {{0, 0, _, _, _}, InC, _} = Call(wrap_traced, [Ctx, confidentiality, Copy]),
    Same = InC =:= gss_demo:address_of(Msg),
    io:format("  control: wrap of binary:copy(Message), ~ts: C read ~s, original"
              " message at ~s, same address: ~s (expected no)~n",
              [fmt_size(Size), hex(InC), hex(gss_demo:address_of(Msg)), yes_no(Same)]),
    [not Same].

same(What, NameA, A, NameB, B) ->
    Same = A =:= B,
    io:format("    ~s ~-14s ~s  ~-14s ~s  same address: ~s~n",
              [What, NameA, hex(A), NameB, hex(B), yes_no(Same)]),
    Same.

summary(Results) ->
    io:format("~n== summary ==~n"),
    Oks = [summary_line(Title, Checks) || {Title, Checks} <- Results],
    case lists:all(fun(X) -> X end, Oks) of
        true -> ok;
        false -> failed
    end.

summary_line(Title, skipped) ->
    io:format("  ~ts: not run~n", [Title]),
    true;
summary_line(Title, Checks) ->
    Passed = length([C || C <- Checks, C]),
    io:format("  ~ts: ~b of ~b checks passed (round trips, same addresses, control)~n",
              [Title, Passed, length(Checks)]),
    Passed =:= length(Checks).

%% ---- inputs and timing ----------------------------------------------------------

%% A refc binary built with binary:copy/2: never an appendable binary, whose
%% first inspection could move it (research note, section 6.2).
message(Size) ->
    Chunk = min(Size, ?MIB),
    binary:copy(crypto:strong_rand_bytes(Chunk), Size div Chunk).

%% {calls per sample, samples}: small calls are batched so a sample is long
%% enough to time; large ones run few times to keep the demo short.
repeats(Size) when Size =< 64 * ?KIB -> {max(1, (256 * ?KIB) div Size), 11};
repeats(Size) when Size =< ?MIB -> {4, 7};
repeats(Size) when Size =< 16 * ?MIB -> {1, 5};
repeats(_) -> {1, 3}.

%% One untimed warm-up call, and a collection before each sample so that the
%% previous results are freed: the runtime's allocator then reuses their
%% memory, and a sample measures the call, not the kernel's first-touch page
%% faults on fresh memory (which cost more than AES-GCM itself at 256 MiB).
median_ns(F, Batch, Samples) ->
    _ = F(),
    Times = lists:sort([time_batch(F, Batch) || _ <- lists:seq(1, Samples)]),
    lists:nth((Samples + 1) div 2, Times) / Batch.

time_batch(F, Batch) ->
    erlang:garbage_collect(),
    T0 = erlang:monotonic_time(nanosecond),
    loop(F, Batch),
    erlang:monotonic_time(nanosecond) - T0.

loop(_, 0) -> ok;
loop(F, N) -> _ = F(), loop(F, N - 1).

%% ---- arguments and formatting ----------------------------------------------------

max_size([Arg | _]) -> parse_size(Arg);
max_size([]) ->
    case os:getenv("DEMO_MAX") of
        false -> lists:last(?SIZES);
        "" -> lists:last(?SIZES);
        Value -> parse_size(Value)
    end.

parse_size(Text) ->
    case string:to_integer(string:trim(Text)) of
        {N, Unit} when is_integer(N), N > 0 -> N * unit(string:uppercase(Unit), Text);
        _ -> erlang:error({bad_size, Text})
    end.

unit("", _) -> 1;
unit("K" ++ _, _) -> ?KIB;
unit("M" ++ _, _) -> ?MIB;
unit("G" ++ _, _) -> 1024 * ?MIB;
unit(_, Text) -> erlang:error({bad_size, Text}).

fmt_size(S) when S >= ?MIB * 1024 -> io_lib:format("~b GiB", [S div (?MIB * 1024)]);
fmt_size(S) when S >= ?MIB, S rem ?MIB =:= 0 -> io_lib:format("~b MiB", [S div ?MIB]);
fmt_size(S) when S >= ?KIB, S rem ?KIB =:= 0 -> io_lib:format("~b KiB", [S div ?KIB]);
fmt_size(S) -> io_lib:format("~b B", [S]).

dirty_mark(Bytes) when Bytes > ?DIRTY_ABOVE -> " d";
dirty_mark(_) -> "  ".

fmt_ns(Ns) when Ns < 1.0e6 -> io_lib:format("~.1f us", [Ns / 1.0e3]);
fmt_ns(Ns) -> io_lib:format("~.1f ms", [Ns / 1.0e6]).

fmt_rate(Bytes, Ns) -> integer_to_list(round(Bytes / Ns * 1.0e3)).

hex(N) -> io_lib:format("0x~12.16.0b", [N]).

yes_no(true) -> "yes";
yes_no(false) -> "no".

ok_or(true, Ok, _) -> Ok;
ok_or(false, _, Bad) -> Bad.
