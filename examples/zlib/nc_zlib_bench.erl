%% @doc nc_zlib against OTP's zlib module, side by side (`make bench-zlib').
%%
%% Contenders: nc_zlib through the NIF (`nif'), nc_zlib through a driver port
%% (`drv'), and OTP's own `zlib' module (`otp', itself a NIF over the same
%% system libz). Operations, all at the default level (6) on both sides:
%% <ul>
%% <li>`compress': `nc_zlib:compress/1' against `zlib:compress/1';</li>
%% <li>`uncompress': `nc_zlib:uncompress/1' (a list of binaries) against
%%     `zlib:uncompress/1' (one binary);</li>
%% <li>`deflate_stream': open a stream, feed the input in 64 KiB pieces with
%%     flush none, finish, end it; `nc_zlib:deflate_init/deflate/deflate_end'
%%     against `zlib:open/deflateInit/deflate/deflateEnd/close';</li>
%% <li>`inflate_stream': the same for inflating the compressed data.</li>
%% </ul>
%% Method: for each data kind, size and operation, each contender gets a batch
%% size calibrated to about `batch_ms' (one call when a call takes longer);
%% then rounds run every contender's batch once, in a new random order each
%% round, each batch in a fresh process. Reported: the median time per call
%% over the rounds, and the ratio OTP / nocopy as the median of the per-round
%% ratios (paired within a round, so that noise on a shared machine hits both
%% alike). Every timed batch returns its last result, which is checked after
%% the clock stops: compressed outputs must equal OTP's one-shot output at the
%% same level byte for byte (or else decompress to the input with the other
%% implementation), decompressed outputs must equal the input. A failed check
%% fails the run.
%%
%% Usage: `erl -noshell -pa ... -run nc_zlib_bench main full|quick OutDir'.
%% Writes OutDir/zlib.json and OutDir/zlib.md.
-module(nc_zlib_bench).

-export([main/1]).

-define(KiB, 1024).
-define(MiB, 1048576).
-define(PIECE, 65536).
-define(CONTENDERS, [nif, drv, otp]).
-define(OPS, [compress, uncompress, deflate_stream, inflate_stream]).

%% ---- configuration -------------------------------------------------------------

%% kinds: {Kind, LargestSize}. `repeated' runs at every size; `words' (slow
%% to compress: about 8 MB/s here) and `random' stop where a round would take
%% minutes.
config(full) ->
    #{mode => full,
      sizes => [?KiB, 64 * ?KiB, ?MiB, 16 * ?MiB, 256 * ?MiB],
      kinds => [{repeated, 256 * ?MiB}, {words, ?MiB}, {random, 16 * ?MiB}],
      batch_ms => 50};
config(quick) ->
    #{mode => quick,
      sizes => [?KiB, 64 * ?KiB],
      kinds => [{repeated, 64 * ?KiB}, {words, 64 * ?KiB}, {random, 64 * ?KiB}],
      batch_ms => 5}.

%% Rounds per cell: fewer where one call takes seconds.
rounds(#{mode := quick}, _, _, _) -> 2;
rounds(_, _, S, _) when S >= 256 * ?MiB -> 3;
rounds(_, _, S, _) when S >= 16 * ?MiB -> 5;
rounds(_, _, S, _) when S >= ?MiB -> 7;
rounds(_, _, _, _) -> 11.

deflating(Op) -> Op =:= compress orelse Op =:= deflate_stream.

%% ---- entry ------------------------------------------------------------------------

-spec main([string()]) -> no_return().
main([Mode, OutDir]) when Mode =:= "full"; Mode =:= "quick" ->
    try run(config(list_to_atom(Mode)), OutDir) of
        ok -> halt(0);
        {failed, N} ->
            io:format(standard_error, "nc_zlib_bench: ~b checks failed~n", [N]),
            halt(1)
    catch
        C:E:St ->
            io:format(standard_error, "nc_zlib_bench: ~p:~0tp~n~p~n", [C, E, St]),
            halt(1)
    end;
main(_) ->
    io:format(standard_error, "usage: nc_zlib_bench full|quick OutDir~n", []),
    halt(2).

run(Cfg, OutDir) ->
    T0 = now_ns(),
    {ok, Port} = nc_zlib_drv:open(),
    Machine = machine(),
    io:format("nc_zlib benchmark, ~p mode: ~ts~n", [maps:get(mode, Cfg), maps:get(summary, Machine)]),
    Cells = lists:append(
              [kind_cells(Cfg, Port, Kind, S)
               || {Kind, Max} <- maps:get(kinds, Cfg), S <- maps:get(sizes, Cfg), S =< Max]),
    ok = nc_zlib_drv:close(Port),
    Failed = [C || C = #{status := failed} <- Cells],
    Results = #{tool => <<"nc_zlib_bench">>,
                mode => maps:get(mode, Cfg),
                machine => maps:remove(summary, Machine),
                config => #{batch_ms => maps:get(batch_ms, Cfg), piece_bytes => ?PIECE,
                            level => default, sizes => maps:get(sizes, Cfg),
                            kinds => [#{kind => K, largest => M} || {K, M} <- maps:get(kinds, Cfg)]},
                duration_s => (now_ns() - T0) / 1.0e9,
                cells => Cells,
                ratios => ratios(Cells)},
    ok = filelib:ensure_dir(filename:join(OutDir, "x")),
    ok = file:write_file(filename:join(OutDir, "zlib.json"), [json(Results), $\n]),
    ok = file:write_file(filename:join(OutDir, "zlib.md"), markdown(Results)),
    io:format("~nwrote ~ts/zlib.json and zlib.md (~b s)~n",
              [OutDir, round((now_ns() - T0) / 1.0e9)]),
    case Failed of
        [] -> ok;
        _ -> {failed, length(Failed)}
    end.

now_ns() -> erlang:monotonic_time(nanosecond).

%% ---- data ---------------------------------------------------------------------------

%% words: English words in a random order, with punctuation and line breaks,
%% a 64 KiB block repeated (further apart than deflate's 32 KiB window, so
%% each block compresses like fresh text, about 3:1). repeated: a 16 KiB block
%% of the same words repeated (within the window: long matches, fast, about
%% 100:1). random: incompressible bytes.
data(words, N) ->
    repeat(words_block(65536 + 17), N);
data(repeated, N) ->
    repeat(words_block(16384 + 7), N);
data(random, N) ->
    _ = rand:seed(exsss, {2, 71, 82}),
    rand:bytes(N).

words_block(Size) ->
    _ = rand:seed(exsss, {3, 14, 15}),
    Words = list_to_tuple([list_to_binary(W) || W <- string:lexemes(
        "the of and to in is that it was for on are as with his they at be this from "
        "have or by one had not but what all were when we there can an your which their "
        "said if do will each about how up out them then she many some so these would "
        "other into has more her two like him see time could no make than first been its "
        "who now people my made over did down only way find use may water long little "
        "very after words called just where most know get through back much before go "
        "good new write our used me man too any day same right look think also around "
        "another came come work three word must because does part even place well such",
        " ")]),
    NW = tuple_size(Words),
    Block = iolist_to_binary(
              [[element(rand:uniform(NW), Words),
                case rand:uniform(20) of 1 -> <<".\n">>; 2 -> <<", ">>; _ -> <<" ">> end]
               || _ <- lists:seq(1, 20000)]),
    binary:part(Block, 0, Size).

repeat(Block, N) ->
    S = byte_size(Block),
    iolist_to_binary([binary:copy(Block, N div S), binary:part(Block, 0, N rem S)]).

split(B, K) ->
    [binary:part(B, P, min(K, byte_size(B) - P)) || P <- lists:seq(0, byte_size(B) - 1, K)].

%% ---- the operations --------------------------------------------------------------------

op(compress, nif, _, D) -> nc_zlib:compress(D);
op(compress, drv, P, D) -> nc_zlib_drv:compress(P, D);
op(compress, otp, _, D) -> zlib:compress(D);
op(uncompress, nif, _, C) -> nc_zlib:uncompress(C);
op(uncompress, drv, P, C) -> nc_zlib_drv:uncompress(P, C);
op(uncompress, otp, _, C) -> zlib:uncompress(C);
op(deflate_stream, nif, _, Pieces) ->
    Z = nc_zlib:deflate_init(default),
    Out = [nc_zlib:deflate(Z, X, none) || X <- Pieces],
    Last = nc_zlib:deflate(Z, <<>>, finish),
    ok = nc_zlib:deflate_end(Z),
    [Out, Last];
op(deflate_stream, drv, P, Pieces) ->
    Z = nc_zlib_drv:deflate_init(P, default),
    Out = [nc_zlib_drv:deflate(P, Z, X, none) || X <- Pieces],
    Last = nc_zlib_drv:deflate(P, Z, <<>>, finish),
    ok = nc_zlib_drv:deflate_end(P, Z),
    [Out, Last];
op(deflate_stream, otp, _, Pieces) ->
    Z = zlib:open(),
    ok = zlib:deflateInit(Z, default),
    Out = [zlib:deflate(Z, X, none) || X <- Pieces],
    Last = zlib:deflate(Z, <<>>, finish),
    ok = zlib:deflateEnd(Z),
    ok = zlib:close(Z),
    [Out, Last];
op(inflate_stream, nif, _, Pieces) ->
    Z = nc_zlib:inflate_init(),
    Out = [element(2, nc_zlib:inflate(Z, X)) || X <- Pieces],
    ok = nc_zlib:inflate_end(Z),
    Out;
op(inflate_stream, drv, P, Pieces) ->
    Z = nc_zlib_drv:inflate_init(P),
    Out = [element(2, nc_zlib_drv:inflate(P, Z, X)) || X <- Pieces],
    ok = nc_zlib_drv:inflate_end(P, Z),
    Out;
op(inflate_stream, otp, _, Pieces) ->
    Z = zlib:open(),
    ok = zlib:inflateInit(Z),
    Out = [zlib:inflate(Z, X) || X <- Pieces],
    ok = zlib:inflateEnd(Z),
    ok = zlib:close(Z),
    Out.

%% N calls in a loop; returns the last result (checked after timing).
loop(1, Op, Who, P, A) -> op(Op, Who, P, A);
loop(N, Op, Who, P, A) -> _ = op(Op, Who, P, A), loop(N - 1, Op, Who, P, A).

%% One batch in a fresh process, so that every batch starts with the default
%% heap and binary-heap allowance: {Ns, LastResult}.
timed(Op, Who, P, Arg, N) ->
    Self = self(),
    {Pid, MRef} = spawn_monitor(fun() ->
                                        T0 = now_ns(),
                                        R = loop(N, Op, Who, P, Arg),
                                        T1 = now_ns(),
                                        Self ! {self(), T1 - T0, R}
                                end),
    receive
        {Pid, T, R} ->
            erlang:demonitor(MRef, [flush]),
            {T, R};
        {'DOWN', MRef, process, Pid, Why} ->
            erlang:error({batch_failed, Op, Who, Why})
    end.

%% Calls per batch for about Ms milliseconds (1 when one call takes longer).
calibrate(Op, Who, P, Arg, Ms) ->
    calibrate(Op, Who, P, Arg, Ms * 1000000, 1).

calibrate(Op, Who, P, Arg, Target, N) ->
    {T, _} = timed(Op, Who, P, Arg, N),
    if
        T >= Target, N =:= 1 -> 1;
        T * 4 >= Target -> max(1, (N * Target) div max(T, 1));
        true -> calibrate(Op, Who, P, Arg, Target, N * 4)
    end.

%% ---- checks ---------------------------------------------------------------------------

%% ok | {ok, Note} | {failed, Why}. C is OTP's one-shot output at the same level.
check(compress, Who, R, D, C) -> check_deflated(Who, R, D, C);
check(deflate_stream, Who, R, D, C) -> check_deflated(Who, iolist_to_binary(R), D, C);
check(uncompress, otp, R, D, _) -> same(R, D);
check(uncompress, _, {ok, Chunks}, D, _) ->
    case same(iolist_to_binary(Chunks), D) of
        ok -> {ok, #{chunks => length(Chunks)}};
        Bad -> Bad
    end;
check(uncompress, _, R, _, _) -> {failed, {returned, R}};
check(inflate_stream, _, R, D, _) -> same(iolist_to_binary(R), D).

check_deflated(Who, R, D, C) ->
    case R =:= C of
        true -> ok;
        false ->
            %% Not OTP's bytes: it must still decompress to the input, by the
            %% other implementation.
            Back = case Who of
                       otp -> catch iolist_to_binary(element(2, nc_zlib:uncompress(R)));
                       _ -> catch zlib:uncompress(R)
                   end,
            case Back =:= D of
                true -> {ok, #{note => <<"bytes differ from zlib:compress/1">>}};
                false -> {failed, <<"does not decompress to the input">>}
            end
    end.

same(A, B) when A =:= B -> ok;
same(A, B) -> {failed, iolist_to_binary(io_lib:format("~b bytes, expected ~b", [byte_size(A), byte_size(B)]))}.

%% ---- measuring a (kind, size) --------------------------------------------------------

kind_cells(Cfg, Port, Kind, S) ->
    D = data(Kind, S),
    C = zlib:compress(D),
    %% The reference itself must be right, by the other implementation.
    D = iolist_to_binary(element(2, nc_zlib:uncompress(C))),
    Args = #{compress => D, uncompress => C, deflate_stream => split(D, ?PIECE),
             inflate_stream => split(C, ?PIECE)},
    io:format("~n~s ~s (compressed ~.2f:1)~n", [Kind, size_label(S), S / byte_size(C)]),
    Cells = [[Cell#{compressed_bytes => byte_size(C)}
              || Cell <- cell(Cfg, Port, Kind, S, Op, maps:get(Op, Args), D, C)]
             || Op <- ?OPS],
    erlang:garbage_collect(),
    lists:append(Cells).

cell(Cfg, Port, Kind, S, Op, Arg, D, C) ->
    Ms = maps:get(batch_ms, Cfg),
    Rounds = rounds(Cfg, Kind, S, Op),
    %% One call of a large input takes longer than a batch: no calibration.
    Ns = [{Who, case S >= 16 * ?MiB of
                    true -> 1;
                    false -> calibrate(Op, Who, Port, Arg, Ms)
                end} || Who <- ?CONTENDERS],
    Samples = run_rounds(Rounds, Ns, Op, Port, Arg, D, C),
    Cells = [begin
                 {PerCall, Checks} = lists:unzip(maps:get(Who, Samples)),
                 Failed = [Why || {failed, Why} <- Checks],
                 Notes = lists:usort([Note || {ok, Note} <- Checks]),
                 Stats = stats(PerCall),
                 (maps:merge(Stats, #{kind => Kind, size => S, op => Op, contender => Who,
                                      rounds => Rounds, calls_per_batch => N,
                                      samples_ns => PerCall,
                                      mb_s => S / (maps:get(median, Stats) / 1000),
                                      notes => Notes}))#{
                     status => case Failed of [] -> ok; _ -> failed end,
                     failures => Failed}
             end || {Who, N} <- Ns],
    io:format("  ~-15s", [Op]),
    [io:format(" ~s=~s~s", [Who, fmt_ns(M), case St of ok -> ""; failed -> " CHECK FAILED" end])
     || #{contender := Who, median := M, status := St} <- Cells],
    io:format("~n"),
    Cells.

%% #{Who => [{NsPerCall, CheckResult}]}, in round order. Each round runs every
%% contender's batch once, in a fresh random order.
run_rounds(Rounds, Ns, Op, Port, Arg, D, C) ->
    Acc = lists:foldl(
            fun(_, Acc0) ->
                    lists:foldl(
                      fun({Who, N}, Acc1) ->
                              {T, R} = timed(Op, Who, Port, Arg, N),
                              Check = check(Op, Who, R, D, C),
                              maps:update_with(Who, fun(L) -> [{T / N, Check} | L] end,
                                               [{T / N, Check}], Acc1)
                      end, Acc0, shuffle(Ns))
            end, #{}, lists:seq(1, Rounds)),
    maps:map(fun(_, L) -> lists:reverse(L) end, Acc).

shuffle(L) ->
    [X || {_, X} <- lists:sort([{rand:uniform(), X} || X <- L])].

%% OTP time / nocopy time per (kind, size, op), as nc_crypto_bench reports
%% it (above 1: nocopy is faster): medians of the per-round ratios.
ratios(Cells) ->
    Key = fun(#{kind := K, size := S, op := O}) -> {K, S, O} end,
    Otp = maps:from_list([{Key(C), C} || C = #{contender := otp} <- Cells]),
    [begin
         #{samples_ns := OtpNs} = maps:get(Key(C), Otp),
         Rs = [Otp1 / Nc || {Nc, Otp1} <- lists:zip(Ns, OtpNs)],
         #{kind => K, size => S, op => O, contender => Who,
           ratio_median => median(Rs), ratio_min => lists:min(Rs), ratio_max => lists:max(Rs),
           rounds => length(Rs)}
     end || C = #{kind := K, size := S, op := O, contender := Who, samples_ns := Ns} <- Cells,
            Who =/= otp].

%% ---- statistics and formatting ----------------------------------------------------------

stats(Xs) ->
    S = lists:sort(Xs),
    #{median => median(S), min => hd(S), max => lists:last(S)}.

median(Xs) ->
    S = lists:sort(Xs),
    N = length(S),
    case N rem 2 of
        1 -> lists:nth(N div 2 + 1, S);
        0 -> (lists:nth(N div 2, S) + lists:nth(N div 2 + 1, S)) / 2
    end.

size_label(S) when S >= ?MiB -> io_lib:format("~b MiB", [S div ?MiB]);
size_label(S) -> io_lib:format("~b KiB", [S div ?KiB]).

fmt_ns(Ns) when Ns >= 1.0e9 -> io_lib:format("~.2f s", [Ns / 1.0e9]);
fmt_ns(Ns) when Ns >= 1.0e6 -> io_lib:format("~.1f ms", [Ns / 1.0e6]);
fmt_ns(Ns) when Ns >= 1.0e3 -> io_lib:format("~.1f us", [Ns / 1.0e3]);
fmt_ns(Ns) -> io_lib:format("~b ns", [round(Ns)]).

fmt_mbs(X) when X >= 100 -> integer_to_list(round(X));
fmt_mbs(X) -> io_lib:format("~.1f", [X]).

fmt_ratio(R) -> io_lib:format("~.2fx", [R]).

machine() ->
    Cpu = case file:read_file("/proc/cpuinfo") of
              {ok, Info} ->
                  case re:run(Info, "model name\\s*:\\s*([^\\n]+)", [{capture, all_but_first, binary}]) of
                      {match, [M]} -> M;
                      nomatch -> <<"unknown">>
                  end;
              _ -> <<"unknown">>
          end,
    Zlib = string:trim(os:cmd("dpkg-query -W -f='${Version}' zlib1g 2>/dev/null")),
    Commit = string:trim(os:cmd("git rev-parse --short HEAD 2>/dev/null")),
    Otp = erlang:system_info(otp_release),
    Erts = erlang:system_info(version),
    Cpus = erlang:system_info(logical_processors_available),
    #{cpu => Cpu, cpus => Cpus, otp => list_to_binary(Otp), erts => list_to_binary(Erts),
      zlib1g => list_to_binary(Zlib), commit => list_to_binary(Commit),
      schedulers => erlang:system_info(schedulers_online),
      summary => io_lib:format("~ts, ~p CPUs, OTP ~s (erts ~s), zlib1g ~s",
                               [Cpu, Cpus, Otp, Erts, Zlib])}.

%% ---- markdown -------------------------------------------------------------------------

markdown(#{machine := M, duration_s := Dur, cells := Cells, ratios := Ratios, mode := Mode}) ->
    Get = fun(K, S, O, W) ->
                  hd([C || C = #{kind := K1, size := S1, op := O1, contender := W1} <- Cells,
                           {K1, S1, O1, W1} =:= {K, S, O, W}])
          end,
    Ratio = fun(K, S, O, W) ->
                    hd([R || R = #{kind := K1, size := S1, op := O1, contender := W1} <- Ratios,
                             {K1, S1, O1, W1} =:= {K, S, O, W}])
            end,
    Kinds = [K || K <- [repeated, words, random], lists:any(fun(#{kind := K1}) -> K1 =:= K end, Cells)],
    [io_lib:format("# nc_zlib against OTP's zlib~n~n"
                   "`make bench-zlib` (~p mode) at commit ~s, ~b s, on ~ts (~b CPUs, a shared VM), "
                   "Erlang/OTP ~s (erts ~s), zlib1g ~s: OTP's `zlib` and nc_zlib call the same "
                   "`libz.so.1`.~n~n",
                   [Mode, maps:get(commit, M), round(Dur), maps:get(cpu, M), maps:get(cpus, M),
                    maps:get(otp, M), maps:get(erts, M), maps:get(zlib1g, M)]),
     summary(Kinds, Cells, Ratio),
     method(Cells),
     [kind_table(K, Cells, Get, Ratio) || K <- Kinds],
     chunk_notes(Cells)].

%% One table per data kind: OTP / NIF and OTP / driver for every operation
%% and size, the figures a reader compares first.
summary(Kinds, Cells, Ratio) ->
    ["## Summary: OTP time / nocopy time, NIF / driver (above 1.00x: nocopy is faster)\n\n",
     [begin
          Sizes = lists:usort([S || #{kind := K1, size := S} <- Cells, K1 =:= K]),
          [io_lib:format("~s:~n~n", [kind_name(K)]),
           "| | ", lists:join(" | ", [size_label(S) || S <- Sizes]), " |\n",
           "|---", [["|---"] || _ <- Sizes], "|\n",
           [["| ", atom_to_list(Op), " | ",
             lists:join(" | ", [[fmt_ratio(maps:get(ratio_median, Ratio(K, S, Op, nif))), " / ",
                                 fmt_ratio(maps:get(ratio_median, Ratio(K, S, Op, drv)))]
                                || S <- Sizes]),
             " |\n"] || Op <- ?OPS],
           "\n"]
      end || K <- Kinds]].

kind_name(repeated) -> "Repeated English text";
kind_name(words) -> "English words";
kind_name(random) -> "Random bytes".

method(Cells) ->
    ["## Method\n\n"
    "- Contenders: `nc_zlib` through the NIF, `nc_zlib_drv` through one driver port, and "
    "OTP's `zlib` module (itself a NIF). Default level (6) on both sides.\n"
    "- Operations: `compress` is `compress/1` against `zlib:compress/1`; `uncompress` is "
    "`uncompress/1` (returns a list of binaries, each written once) against "
    "`zlib:uncompress/1` (one binary); `deflate_stream` and `inflate_stream` open a stream, "
    "feed the input in 64 KiB pieces (flush `none`), finish and end it, so one call is a "
    "whole stream.\n"
    "- Timing: per cell, each contender gets a batch of calls calibrated to about 50 ms "
    "(one call from 16 MiB on); each round runs every contender's batch once, in a new "
    "random order, each batch in a fresh process. Latency is the median time per call over "
    "the rounds; throughput is uncompressed bytes per second at that median (MB = 10^6 B). "
    "**Ratios are OTP time / nocopy time per call, medians of per-round ratios** (above 1: "
    "nocopy is faster), paired within rounds so that the noise of this shared machine hits both "
    "sides alike; single timings vary by 10-30 % here.\n"
    "- Rounds per cell (fewer where one call takes seconds; a cell of 1 round is one "
    "paired sample): ", rounds_text(Cells), ".\n"
    "- Checks: the last result of every timed batch is checked after the clock stops. "
    "Compressed output must equal `zlib:compress/1`'s bytes (same library, same level) or "
    "else decompress to the input with the other implementation; decompressed output must "
    "equal the input; the run fails otherwise. ", checks_text(Cells), "\n\n"].

rounds_text(Cells) ->
    Groups = lists:usort([{K, S, deflating(O), R} || #{kind := K, size := S, op := O, rounds := R} <- Cells]),
    lists:join("; ",
               [io_lib:format("~s ~s: ~s", [K, size_label(S),
                                            case lists:usort([R || {K1, S1, _, R} <- Groups,
                                                                   {K1, S1} =:= {K, S}]) of
                                                [R] -> integer_to_list(R);
                                                _ -> [integer_to_list(hd([R || {K1, S1, true, R} <- Groups, {K1, S1} =:= {K, S}])),
                                                      " compressing, ",
                                                      integer_to_list(hd([R || {K1, S1, false, R} <- Groups, {K1, S1} =:= {K, S}])),
                                                      " decompressing"]
                                            end])
                || {K, S} <- lists:usort([{K, S} || {K, S, _, _} <- Groups])]).

checks_text(Cells) ->
    Checked = lists:sum([length(Ns) || #{samples_ns := Ns} <- Cells]),
    Failed = [C || C = #{status := failed} <- Cells],
    Differ = [C || C = #{notes := Notes} <- Cells, #{note := _} <- Notes],
    io_lib:format("~b batch results checked, ~b cells failed, ~b cells whose compressed "
                  "bytes differ from zlib:compress/1.", [Checked, length(Failed), length(Differ)]).

kind_table(K, Cells, Get, Ratio) ->
    Sizes = lists:usort([S || #{kind := K1, size := S} <- Cells, K1 =:= K]),
    Title = case K of
                repeated -> "## Compressible: repeated English text (a 16 KiB block of words, repeated)\n\n";
                words -> "## Compressible: English words (a 64 KiB block, further apart than the window)\n\n";
                random -> "## Incompressible: random bytes\n\n"
            end,
    Ratios = [io_lib:format("~s ~.2f:1", [size_label(S), S / Cb])
              || S <- Sizes, #{compressed_bytes := Cb} <- [Get(K, S, compress, otp)]],
    [Title,
     "Compression ratio at the default level: ", lists:join(", ", Ratios), ". "
     "Each cell: latency per call (throughput); ratio: median [min-max] over rounds.\n\n",
     "| operation | size | OTP zlib | nc NIF | **OTP / NIF** | nc driver | **OTP / driver** |\n",
     "|---|---|---|---|---|---|---|\n",
     [begin
          O0 = Get(K, S, Op, otp),
          N0 = Get(K, S, Op, nif),
          D0 = Get(K, S, Op, drv),
          io_lib:format("| ~s | ~s | ~s | ~s | ~s | ~s | ~s |~n",
                        [Op, size_label(S), cell_text(O0), cell_text(N0),
                         ratio_text(Ratio(K, S, Op, nif)), cell_text(D0),
                         ratio_text(Ratio(K, S, Op, drv))])
      end || Op <- ?OPS, S <- Sizes],
     "\n"].

cell_text(#{median := M, mb_s := X}) ->
    io_lib:format("~s (~s MB/s)", [fmt_ns(M), fmt_mbs(X)]).

ratio_text(#{ratio_median := R, rounds := 1}) -> io_lib:format("~s (1 round)", [fmt_ratio(R)]);
ratio_text(#{ratio_median := R, ratio_min := Lo, ratio_max := Hi}) ->
    io_lib:format("~s [~s-~s]", [fmt_ratio(R), fmt_ratio(Lo), fmt_ratio(Hi)]).

chunk_notes(Cells) ->
    Ns = lists:usort([{K, S, C} || #{kind := K, size := S, op := uncompress, contender := nif,
                                     notes := Notes} <- Cells,
                                   #{chunks := C} <- Notes]),
    ["## Shape of nc_zlib:uncompress/1's result\n\n"
     "Binaries in the returned list (the output is written into chunks allocated once; "
     "see examples/zlib/README.md):\n\n",
     lists:join(", ", [io_lib:format("~s ~s: ~b", [K, size_label(S), C]) || {K, S, C} <- Ns]),
     ".\n"].

%% ---- JSON (OTP 25 has no json module) ----------------------------------------------------

json(M) when is_map(M) ->
    ["{", lists:join(",", [[json(key(K)), ":", json(V)] || {K, V} <- lists:sort(maps:to_list(M))]), "}"];
json(L) when is_list(L) -> ["[", lists:join(",", [json(X) || X <- L]), "]"];
json(B) when is_binary(B) -> [$", escape(B), $"];
json(true) -> "true";
json(false) -> "false";
json(null) -> "null";
json(A) when is_atom(A) -> json(atom_to_binary(A, utf8));
json(I) when is_integer(I) -> integer_to_list(I);
json(F) when is_float(F) -> float_to_list(F, [{decimals, 3}, compact]).

key(K) when is_atom(K) -> atom_to_binary(K, utf8);
key(K) -> K.

escape(B) ->
    [case C of
         $" -> "\\\"";
         $\\ -> "\\\\";
         $\n -> "\\n";
         C when C < 32 -> io_lib:format("\\u~4.16.0b", [C]);
         C -> C
     end || <<C/utf8>> <= B].
