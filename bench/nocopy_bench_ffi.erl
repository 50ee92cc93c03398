%% @doc The FFI benchmark (`make bench' runs it after the main one; `make
%% bench-ffi', `make bench-ffi-quick' alone): calls through nocopy_ffi against
%% the same C functions wrapped by hand with nocopy (bench/nc_ffi_hand.c), in
%% one VM, side by side, and what binding costs.
%%
%% Workloads: `labs' (a scalar call) and zlib's `crc32' over binaries of 4 KiB
%% to 256 MiB. Contenders:
%%   ffi_nif     nocopy_ffi:call(Fn, Args), NIF backend
%%   ffi_stub    nc_ffi:invoke(H, Args): the generated stub, without
%%               nocopy_ffi's wrapper (what the wrapper costs)
%%   ffi_module  a function of a module made by nocopy_ffi:module/4
%%   hand_nif    the hand-wrapped nocopy NIF
%%   ffi_drv     nocopy_ffi:call on the driver backend (inline)
%%   hand_drv    the hand-wrapped nocopy driver (inline)
%%   erlang      abs/1, erlang:crc32/2 (a reference, not a contender)
%%
%% Method: each contender's batch is calibrated to about `batch_ms'; then
%% `rounds' rounds run every batch once in a new random order, so noise on a
%% shared machine hits all alike. Reported: the median ns per call over the
%% rounds, and ratios as medians of per-round ratios. Nothing is asserted:
%% the issue's targets are reported met or missed, with the numbers.
-module(nocopy_bench_ffi).

-export([main/1]).

-define(KiB, 1024).
-define(MiB, 1048576).

config(full) ->
    #{rounds => 11, batch_ms => 20, sizes => [4 * ?KiB, 64 * ?KiB, ?MiB, 16 * ?MiB, 256 * ?MiB],
      binds => 2000};
config(quick) ->
    #{rounds => 2, batch_ms => 2, sizes => [4 * ?KiB, 64 * ?KiB], binds => 50}.

-define(CRC_DECL, "unsigned long crc32(unsigned long crc, const unsigned char *buf, unsigned int len)").
-define(ZLIB_SNIPPET, "typedef unsigned char Bytef; typedef unsigned long uLong; typedef uLong uLongf;"
                      "uLong crc32(uLong crc, const Bytef *buf, unsigned int len);"
                      "uLong adler32(uLong adler, const Bytef *buf, unsigned int len);"
                      "int compress2(Bytef *dest, uLongf *destLen, const Bytef *source,"
                      " uLong sourceLen, int level);").

main([Mode, Dir]) ->
    Cfg = config(list_to_atom(Mode)),
    Env = setup(),
    Labs = workload(Env, Cfg, labs, 0),
    Crcs = [workload(Env, Cfg, crc32, S) || S <- maps:get(sizes, Cfg)],
    Bind = bind_cost(Env, Cfg),
    Results = #{otp => list_to_binary(erlang:system_info(otp_release)),
                schedulers => erlang:system_info(schedulers_online),
                rounds => maps:get(rounds, Cfg), labs => Labs, crc32 => Crcs, bind => Bind},
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    ok = file:write_file(filename:join(Dir, "ffi.term"), io_lib:format("~p.~n", [Results])),
    Md = report(Results),
    ok = file:write_file(filename:join(Dir, "ffi.md"), Md),
    io:put_chars(Md),
    halt(0).

setup() ->
    {ok, Z} = nocopy_ffi:open("libz.so.1"),
    {ok, C} = nocopy_ffi:open("libc.so.6"),
    {ok, Crc} = nocopy_ffi:bind(Z, ?CRC_DECL),
    {ok, Labs} = nocopy_ffi:bind(C, "long labs(long j)"),
    {ok, nc_ffi_bench_mod} = nocopy_ffi:module(nc_ffi_bench_mod, C, "long labs(long j);"),
    {ok, nc_ffi_bench_zmod} = nocopy_ffi:module(nc_ffi_bench_zmod, Z, ?CRC_DECL ++ ";"),
    {ok, Port} = nc_ffi_drv:open([]),
    {ok, HPort} = nc_ffi_hand_drv:open([]),
    {ok, ZD} = nocopy_ffi:open("libz.so.1", #{backend => {drv, Port}}),
    {ok, CD} = nocopy_ffi:open("libc.so.6", #{backend => {drv, Port}}),
    {ok, CrcD} = nocopy_ffi:bind(ZD, ?CRC_DECL),
    {ok, LabsD} = nocopy_ffi:bind(CD, "long labs(long j)"),
    #{z => Z, crc => Crc, labs => Labs, crc_d => CrcD, labs_d => LabsD, hport => HPort,
      stub_crc => element(3, Crc), stub_labs => element(3, Labs)}.

contenders() -> [ffi_nif, ffi_stub, ffi_module, hand_nif, ffi_drv, hand_drv, erlang].

%% ---- one call of each, checked against the reference before timing ----------------

args(labs, _) -> -123456789;
args(crc32, Size) -> binary:part(binary:copy(<<"nocopy_ffi">>, Size div 10 + 1), 0, Size).

one(W, Id, Env, A) -> loop(W, Id, 1, Env, A).

%% The timed loops, one clause per contender, so no contender pays for a
%% closure call the others do not.
loop(_, _, 0, _, _) -> ok;
loop(labs, ffi_nif, N, #{labs := F} = E, X) -> _ = nocopy_ffi:call(F, [X]), loop(labs, ffi_nif, N - 1, E, X);
loop(labs, ffi_stub, N, #{stub_labs := H} = E, X) -> _ = nc_ffi:invoke(H, [X]), loop(labs, ffi_stub, N - 1, E, X);
loop(labs, ffi_module, N, E, X) -> _ = nc_ffi_bench_mod:labs(X), loop(labs, ffi_module, N - 1, E, X);
loop(labs, hand_nif, N, E, X) -> _ = nc_ffi_hand:labs(X), loop(labs, hand_nif, N - 1, E, X);
loop(labs, ffi_drv, N, #{labs_d := F} = E, X) -> _ = nocopy_ffi:call(F, [X]), loop(labs, ffi_drv, N - 1, E, X);
loop(labs, hand_drv, N, #{hport := P} = E, X) -> _ = nc_ffi_hand_drv:labs(P, X), loop(labs, hand_drv, N - 1, E, X);
loop(labs, erlang, N, E, X) -> _ = abs(X), loop(labs, erlang, N - 1, E, X);
loop(crc32, ffi_nif, N, #{crc := F} = E, B) -> _ = nocopy_ffi:call(F, [0, B, byte_size(B)]), loop(crc32, ffi_nif, N - 1, E, B);
loop(crc32, ffi_stub, N, #{stub_crc := H} = E, B) -> _ = nc_ffi:invoke(H, [0, B, byte_size(B)]), loop(crc32, ffi_stub, N - 1, E, B);
loop(crc32, ffi_module, N, E, B) -> _ = nc_ffi_bench_zmod:crc32(0, B, byte_size(B)), loop(crc32, ffi_module, N - 1, E, B);
loop(crc32, hand_nif, N, E, B) -> _ = nc_ffi_hand:crc32(0, B), loop(crc32, hand_nif, N - 1, E, B);
loop(crc32, ffi_drv, N, #{crc_d := F} = E, B) -> _ = nocopy_ffi:call(F, [0, B, byte_size(B)]), loop(crc32, ffi_drv, N - 1, E, B);
loop(crc32, hand_drv, N, #{hport := P} = E, B) -> _ = nc_ffi_hand_drv:crc32(P, 0, B), loop(crc32, hand_drv, N - 1, E, B);
loop(crc32, erlang, N, E, B) -> _ = erlang:crc32(B), loop(crc32, erlang, N - 1, E, B).

result(labs, Id, Env, X) -> call1(labs, Id, Env, X);
result(crc32, Id, Env, B) -> call1(crc32, Id, Env, B).

call1(labs, ffi_nif, #{labs := F}, X) -> nocopy_ffi:call(F, [X]);
call1(labs, ffi_stub, #{stub_labs := H}, X) -> nc_ffi:invoke(H, [X]);
call1(labs, ffi_module, _, X) -> nc_ffi_bench_mod:labs(X);
call1(labs, hand_nif, _, X) -> nc_ffi_hand:labs(X);
call1(labs, ffi_drv, #{labs_d := F}, X) -> nocopy_ffi:call(F, [X]);
call1(labs, hand_drv, #{hport := P}, X) -> nc_ffi_hand_drv:labs(P, X);
call1(labs, erlang, _, X) -> abs(X);
call1(crc32, ffi_nif, #{crc := F}, B) -> nocopy_ffi:call(F, [0, B, byte_size(B)]);
call1(crc32, ffi_stub, #{stub_crc := H}, B) -> nc_ffi:invoke(H, [0, B, byte_size(B)]);
call1(crc32, ffi_module, _, B) -> nc_ffi_bench_zmod:crc32(0, B, byte_size(B));
call1(crc32, hand_nif, _, B) -> nc_ffi_hand:crc32(0, B);
call1(crc32, ffi_drv, #{crc_d := F}, B) -> nocopy_ffi:call(F, [0, B, byte_size(B)]);
call1(crc32, hand_drv, #{hport := P}, B) -> nc_ffi_hand_drv:crc32(P, 0, B);
call1(crc32, erlang, _, B) -> erlang:crc32(B).

%% ---- measuring ------------------------------------------------------------------------

now_ns() -> erlang:monotonic_time(nanosecond).

timed(W, Id, N, Env, A) ->
    T0 = now_ns(),
    loop(W, Id, N, Env, A),
    now_ns() - T0.

calibrate(W, Id, Env, A, BatchNs) ->
    calibrate(W, Id, Env, A, BatchNs, 1).
calibrate(W, Id, Env, A, BatchNs, N) ->
    T = timed(W, Id, N, Env, A),
    if T >= BatchNs div 4; N >= 4000000 -> max(1, (N * BatchNs) div max(T, 1));
       true -> calibrate(W, Id, Env, A, BatchNs, N * 4)
    end.

workload(Env, Cfg, W, Size) ->
    A = args(W, Size),
    Want = result(W, erlang, Env, A),
    [Want = result(W, Id, Env, A) || Id <- contenders()],    % every contender is right
    _ = one(W, ffi_nif, Env, A),
    BatchNs = maps:get(batch_ms, Cfg) * 1000000,
    Ns = [{Id, calibrate(W, Id, Env, A, BatchNs)} || Id <- contenders()],
    Rounds = [round1(W, Ns, Env, A) || _ <- lists:seq(1, maps:get(rounds, Cfg))],
    Per = fun(Id) -> [maps:get(Id, R) || R <- Rounds] end,
    Ratio = fun(X, Y) -> median([maps:get(X, R) / maps:get(Y, R) || R <- Rounds]) end,
    #{workload => W, size => byte_size_of(W, A),
      ns => maps:from_list([{Id, median(Per(Id))} || Id <- contenders()]),
      ratios => #{ffi_nif_vs_hand_nif => Ratio(ffi_nif, hand_nif),
                  ffi_stub_vs_hand_nif => Ratio(ffi_stub, hand_nif),
                  ffi_module_vs_hand_nif => Ratio(ffi_module, hand_nif),
                  ffi_drv_vs_hand_drv => Ratio(ffi_drv, hand_drv)}}.

byte_size_of(labs, _) -> 0;
byte_size_of(crc32, B) -> byte_size(B).

round1(W, Ns, Env, A) ->
    Order = [X || {_, X} <- lists:sort([{rand:uniform(), X} || X <- Ns])],
    maps:from_list([{Id, timed(W, Id, N, Env, A) / N} || {Id, N} <- Order]).

median(L) ->
    S = lists:sort(L),
    lists:nth((length(S) + 1) div 2, S).

%% Binding: parse + dlsym + libffi's prep + the handle, per bind; the parse
%% alone (nc_ffi:decls of the same text); cdef of a three-function snippet.
bind_cost(#{z := Z}, Cfg) ->
    N = maps:get(binds, Cfg),
    Each = fun(F) -> T0 = now_ns(), [F() || _ <- lists:seq(1, N)], (now_ns() - T0) / N end,
    #{bind_ns => Each(fun() -> {ok, _} = nocopy_ffi:bind(Z, ?CRC_DECL) end),
      parse_ns => Each(fun() -> {ok, _, _} = nc_ffi:decls(<<?CRC_DECL>>) end),
      cdef3_ns => Each(fun() -> {ok, _} = nocopy_ffi:cdef(Z, ?ZLIB_SNIPPET,
                                                           #{compress2 => #{out => #{dest => destLen},
                                                                            inout => [destLen]}}) end)}.

%% ---- report -------------------------------------------------------------------------

report(#{labs := L, crc32 := Cs, bind := B, rounds := R, otp := Otp, schedulers := S}) ->
    Ids = contenders(),
    Head = ["| workload | size | ", lists:join(" | ", [atom_to_list(I) || I <- Ids]),
            " | ffi_nif/hand_nif | ffi_drv/hand_drv |\n",
            "|---|---|", [["---|"] || _ <- Ids], "---|---|\n"],
    Row = fun(#{workload := W, size := Sz, ns := Ns, ratios := Rs}) ->
                  ["| ", atom_to_list(W), " | ", size_label(Sz), " | ",
                   lists:join(" | ", [ns(maps:get(I, Ns)) || I <- Ids]), " | ",
                   f2(maps:get(ffi_nif_vs_hand_nif, Rs)), " | ",
                   f2(maps:get(ffi_drv_vs_hand_drv, Rs)), " |\n"]
          end,
    #{ns := LNs, ratios := LR} = L,
    [C4 | _] = Cs,
    Big = [C || #{size := Sz} = C <- Cs, Sz >= ?MiB],
    Flat = case Big of
               [] -> "not measured (quick run)";
               _ -> io_lib:format("ffi_nif/hand_nif from ~s to ~s: ~s",
                                  [size_label(maps:get(size, hd(Big))), size_label(maps:get(size, lists:last(Big))),
                                   lists:join(", ", [f2(maps:get(ffi_nif_vs_hand_nif, maps:get(ratios, C)))
                                                     || C <- Big])])
           end,
    ["# nocopy_ffi benchmark\n\n",
     io_lib:format("OTP ~s, ~b schedulers, ~b rounds; median time per call; ratios are medians "
                   "of per-round ratios.\n\n", [Otp, S, R]),
     Head, Row(L), [Row(C) || C <- Cs],
     "\n## Targets (issue 13)\n\n",
     io_lib:format("- labs through the FFI on the NIF backend <= 100 ns: ~s (~s)\n",
                   [ns(maps:get(ffi_nif, LNs)), met(maps:get(ffi_nif, LNs) =< 100)]),
     io_lib:format("- labs <= 3x the hand-wrapped nocopy NIF: ~sx (~s)\n",
                   [f2(maps:get(ffi_nif_vs_hand_nif, LR)), met(maps:get(ffi_nif_vs_hand_nif, LR) =< 3)]),
     io_lib:format("- crc32 of 4 KiB <= 1.5x the hand-wrapped nocopy NIF: ~sx (~s)\n",
                   [f2(maps:get(ffi_nif_vs_hand_nif, maps:get(ratios, C4))),
                    met(maps:get(ffi_nif_vs_hand_nif, maps:get(ratios, C4)) =< 1.5)]),
     io_lib:format("- crc32 flat from 1 MiB to 256 MiB (no copy): ~s\n", [Flat]),
     io_lib:format("- binding (parse + dlsym + prep + handle): ~s per bind; the parse alone "
                   "~s; cdef of a 3-function snippet ~s\n",
                   [ns(maps:get(bind_ns, B)), ns(maps:get(parse_ns, B)), ns(maps:get(cdef3_ns, B))])].

met(true) -> "met";
met(false) -> "missed".

ns(X) when X >= 1000000 -> io_lib:format("~.1f ms", [X / 1000000]);
ns(X) when X >= 10000 -> io_lib:format("~.1f us", [X / 1000]);
ns(X) -> [integer_to_list(round(X)), " ns"].

f2(X) -> io_lib:format("~.2f", [float(X)]).

size_label(0) -> "-";
size_label(S) when S >= ?MiB -> io_lib:format("~b MiB", [S div ?MiB]);
size_label(S) -> io_lib:format("~b KiB", [S div ?KiB]).
