%% @doc The contenders of the nocopy benchmark and how each is called: set-up
%% (init/1), one call for the checks (one/4), timed batches of direct calls
%% (batch/5, timed/5, timed_fresh/5, calibrate/5), the payloads of each
%% workload and the check of each result (zero copy included). The phases
%% that measure them are in nocopy_bench_phases; bench/README.md says what
%% each contender is.
-module(nocopy_bench_contenders).

-export([contenders/0, applies/2, skip/3, init/1, one/4, batch/5, now_ns/0, timed/5, timed_fresh/5,
         calibrate/5, payload/1, pieces/1, arg/2, check/4]).

-include("nocopy_bench.hrl").

-define(PIECES, 64).             % pieces of the iodata workload
-define(MAX_N, 4000000).         % calls per batch, at most
-define(EXT_MAX, 16 * ?MiB).     % largest payload for the external port program

%% ===========================================================================
%% Contenders
%% ===========================================================================

%% {Id, Label, Group, Kind}. Group: nocopy | hand | copy | reference.
contenders() ->
    [{nc_nif, <<"nocopy NIF">>, nocopy, nif},
     {nc_nif_dirty, <<"nocopy NIF, dirty CPU">>, nocopy, nif},
     {nc_drv, <<"nocopy driver, inline">>, nocopy, drv},
     {nc_drv_async, <<"nocopy driver, worker thread">>, nocopy, drv},
     {hand_nif, <<"hand NIF">>, hand, nif},
     {hand_nif_dirty, <<"hand NIF, dirty CPU">>, hand, nif},
     {hand_drv, <<"hand outputv driver, inline">>, hand, drv},
     {hand_drv_async, <<"hand outputv driver, worker thread">>, hand, drv},
     {copy_nif, <<"copying NIF (flatten + copy)">>, copy, nif},
     {copy_drv, <<"driver without outputv (flatten + copy)">>, copy, drv},
     {port_call, <<"port_call, external term format">>, copy, drv},
     {ext_port, <<"external port program, {packet,4}">>, copy, ext},
     {erl_local, <<"pure Erlang, same work (reference)">>, reference, erlang}].

%% @doc Does contender Id run workload W? seed_calls is the seed call with
%% nocopy's C written in typed calls instead of format strings: it measures
%% nocopy against itself and the hand-written code (which runs its one seed
%% for it), so only those contenders run it, and no cell is reported for the
%% others.
applies(Id, seed_calls) -> lists:member(Id, [nc_nif, nc_drv, hand_nif, hand_drv]);
applies(_, _) -> true.

%% @doc Contenders skipped at some sizes, and why (reported in the results).
skip(ext_port, _W, S) when S > ?EXT_MAX ->
    {skip, <<"an external port round trip of 256 MiB pushes 512 MiB through two pipes "
             "and copies it four times (about 1 s per call, minutes per cell); "
             "measured up to 16 MiB">>};
skip(_, _, _) ->
    run.

%% ---- set-up: {ok, Env} | {error, Reason} ------------------------------------

init(Id) ->
    try init1(Id)
    catch C:E:St -> {error, iolist_to_binary(io_lib:format("~p:~0tp at ~0tp", [C, E, hd(St)]))}
    end.

init1(Id) when Id =:= nc_nif; Id =:= nc_nif_dirty ->
    {ok, #{ctx => nc_bench:new_ctx()}};
init1(Id) when Id =:= hand_nif; Id =:= hand_nif_dirty ->
    {ok, #{ctx => hand_nif:new_ctx()}};
init1(copy_nif) ->
    {ok, #{ctx => copy_nif:new_ctx()}};
init1(Id) when Id =:= nc_drv; Id =:= nc_drv_async ->
    case nc_bench_drv:open() of
        {ok, Port} -> {ok, #{port => Port, ctx => nc_bench_drv:new_ctx(Port)}};
        Error -> {error, iolist_to_binary(io_lib:format("nc_bench_drv:open() -> ~0tp", [Error]))}
    end;
init1(hand_drv) -> driver_init("hand_drv");
init1(hand_drv_async) -> driver_init("hand_drv_async");
init1(copy_drv) -> driver_init("copy_drv");
init1(port_call) -> driver_init("call_drv");
init1(ext_port) ->
    case bench_ports:ext_open() of
        {ok, Port} -> {ok, #{port => Port, ctx => 0}};
        Error -> Error
    end;
init1(erl_local) ->
    {ok, #{ctx => 0}}.

driver_init(Name) ->
    case bench_ports:open_driver(Name) of
        {ok, Port} -> {ok, #{port => Port, ctx => 0}};
        {error, E} -> {error, iolist_to_binary(io_lib:format("~ts: ~0tp", [Name, E]))}
    end.

%% ---- one call, for checks and the RSS child -----------------------------------

one(nc_nif, _, identity, B) -> nc_bench:identity(B);
one(nc_nif, #{ctx := C}, seed, B) -> nc_bench:seed(C, ?QOP, B);
one(nc_nif, _, iodata, D) -> nc_bench:iodata(D);
one(nc_nif, #{ctx := C}, seed_calls, B) -> nc_bench:seed_calls(C, ?QOP, B);
one(nc_nif_dirty, _, identity, B) -> nc_bench:identity_dirty(B);
one(nc_nif_dirty, #{ctx := C}, seed, B) -> nc_bench:seed_dirty(C, ?QOP, B);
one(nc_nif_dirty, _, iodata, D) -> nc_bench:iodata_dirty(D);
one(nc_drv, #{port := P}, identity, B) -> nc_bench_drv:identity(P, B);
one(nc_drv, #{port := P, ctx := C}, seed, B) -> nc_bench_drv:seed(P, C, ?QOP, B);
one(nc_drv, #{port := P}, iodata, D) -> nc_bench_drv:iodata(P, D);
one(nc_drv, #{port := P, ctx := C}, seed_calls, B) -> nc_bench_drv:seed_calls(P, C, ?QOP, B);
one(Id, Env, seed_calls, B) when Id =:= hand_nif; Id =:= hand_drv -> one(Id, Env, seed, B);
one(nc_drv_async, #{port := P}, identity, B) -> nc_bench_drv:identity_dirty(P, B);
one(nc_drv_async, #{port := P, ctx := C}, seed, B) -> nc_bench_drv:seed_dirty(P, C, ?QOP, B);
one(nc_drv_async, #{port := P}, iodata, D) -> nc_bench_drv:iodata_dirty(P, D);
one(hand_nif, _, identity, B) -> hand_nif:identity(B);
one(hand_nif, #{ctx := C}, seed, B) -> hand_nif:seed(C, ?QOP, B);
one(hand_nif, _, iodata, D) -> hand_nif:iodata(D);
one(hand_nif_dirty, _, identity, B) -> hand_nif:identity_dirty(B);
one(hand_nif_dirty, #{ctx := C}, seed, B) -> hand_nif:seed_dirty(C, ?QOP, B);
one(hand_nif_dirty, _, iodata, D) -> hand_nif:iodata_dirty(D);
one(copy_nif, _, identity, B) -> copy_nif:identity(B);
one(copy_nif, #{ctx := C}, seed, B) -> copy_nif:seed(C, ?QOP, B);
one(copy_nif, _, iodata, D) -> copy_nif:iodata(D);
one(Id, #{port := P}, identity, B) when Id =:= hand_drv; Id =:= hand_drv_async; Id =:= copy_drv ->
    bench_ports:drv_identity(P, B);
one(Id, #{port := P}, seed, B) when Id =:= hand_drv; Id =:= hand_drv_async; Id =:= copy_drv ->
    bench_ports:drv_seed(P, 0, ?QOP, B);
one(Id, #{port := P}, iodata, D) when Id =:= hand_drv; Id =:= hand_drv_async; Id =:= copy_drv ->
    bench_ports:drv_iodata(P, D);
one(port_call, #{port := P}, identity, B) -> bench_ports:call_identity(P, B);
one(port_call, #{port := P}, seed, B) -> bench_ports:call_seed(P, 0, ?QOP, B);
one(port_call, #{port := P}, iodata, D) -> bench_ports:call_iodata(P, D);
one(ext_port, #{port := P}, identity, B) -> bench_ports:ext_identity(P, B);
one(ext_port, #{port := P}, seed, B) -> bench_ports:ext_seed(P, 0, ?QOP, B);
one(ext_port, #{port := P}, iodata, D) -> bench_ports:ext_iodata(P, D);
one(erl_local, _, identity, B) -> erl_identity(B);
one(erl_local, _, seed, B) -> erl_seed(0, ?QOP, B);
one(erl_local, _, iodata, D) -> erl_iodata(D).

%% The reference: the same work in plain Erlang (local calls, no native code).
erl_identity(B) when is_binary(B) -> B.
erl_seed(_Ctx, Qop, Msg) when is_binary(Msg) ->
    Minor = case Msg of <<B, _/binary>> -> B; <<>> -> 0 end,
    {0, Minor, Qop =/= 0, Qop, Msg}.
erl_iodata(D) -> iolist_size(D).

%% ---- batches: N calls, each a direct call in a tail-recursive loop -------------
%% No funs in the timed loop: each contender's loop calls its function directly.

-define(L1(Name, Call), Name(0, _) -> ok; Name(N, X) -> _ = Call(X), Name(N - 1, X)).
-define(L2(Name, Call), Name(0, _, _) -> ok; Name(N, P, X) -> _ = Call(P, X), Name(N - 1, P, X)).
-define(LQ(Name, Call), Name(0, _, _) -> ok; Name(N, C, X) -> _ = Call(C, ?QOP, X), Name(N - 1, C, X)).
-define(LPQ(Name, Call),
        Name(0, _, _, _) -> ok;
        Name(N, P, C, X) -> _ = Call(P, C, ?QOP, X), Name(N - 1, P, C, X)).

?L1(nc_nif_id, nc_bench:identity).
?LQ(nc_nif_seed, nc_bench:seed).
?LQ(nc_nif_seedc, nc_bench:seed_calls).
?L1(nc_nif_io, nc_bench:iodata).
?L1(nc_nif_blob, nc_bench:blob_get).
?L1(nc_nifd_id, nc_bench:identity_dirty).
?LQ(nc_nifd_seed, nc_bench:seed_dirty).
?L1(nc_nifd_io, nc_bench:iodata_dirty).
?L2(nc_drv_id, nc_bench_drv:identity).
?LPQ(nc_drv_seed, nc_bench_drv:seed).
?LPQ(nc_drv_seedc, nc_bench_drv:seed_calls).
?L2(nc_drv_io, nc_bench_drv:iodata).
?L2(nc_drv_blob, nc_bench_drv:blob_get).
?L2(nc_drva_id, nc_bench_drv:identity_dirty).
?LPQ(nc_drva_seed, nc_bench_drv:seed_dirty).
?L2(nc_drva_io, nc_bench_drv:iodata_dirty).
?L1(hand_nif_id, hand_nif:identity).
?LQ(hand_nif_seed, hand_nif:seed).
?L1(hand_nif_io, hand_nif:iodata).
?L1(hand_nifd_id, hand_nif:identity_dirty).
?LQ(hand_nifd_seed, hand_nif:seed_dirty).
?L1(hand_nifd_io, hand_nif:iodata_dirty).
?L1(copy_nif_id, copy_nif:identity).
?LQ(copy_nif_seed, copy_nif:seed).
?L1(copy_nif_io, copy_nif:iodata).
?L2(drv_id, bench_ports:drv_identity).
?LPQ(drv_seed, bench_ports:drv_seed).
?L2(drv_io, bench_ports:drv_iodata).
?L2(call_id, bench_ports:call_identity).
?LPQ(call_seed, bench_ports:call_seed).
?L2(call_io, bench_ports:call_iodata).
?L2(ext_id, bench_ports:ext_identity).
?LPQ(ext_seed, bench_ports:ext_seed).
?L2(ext_io, bench_ports:ext_iodata).
?L1(erl_id, erl_identity).
?LQ(erl_seed_l, erl_seed).
?L1(erl_io, erl_iodata).

batch(nc_nif, _, identity, N, A) -> nc_nif_id(N, A);
batch(nc_nif, #{ctx := C}, seed, N, A) -> nc_nif_seed(N, C, A);
batch(nc_nif, _, iodata, N, A) -> nc_nif_io(N, A);
batch(nc_nif, #{ctx := C}, seed_calls, N, A) -> nc_nif_seedc(N, C, A);
batch(nc_nif, _, blob, N, A) -> nc_nif_blob(N, A);
batch(nc_nif_dirty, _, identity, N, A) -> nc_nifd_id(N, A);
batch(nc_nif_dirty, #{ctx := C}, seed, N, A) -> nc_nifd_seed(N, C, A);
batch(nc_nif_dirty, _, iodata, N, A) -> nc_nifd_io(N, A);
batch(nc_drv, #{port := P}, identity, N, A) -> nc_drv_id(N, P, A);
batch(nc_drv, #{port := P, ctx := C}, seed, N, A) -> nc_drv_seed(N, P, C, A);
batch(nc_drv, #{port := P}, iodata, N, A) -> nc_drv_io(N, P, A);
batch(nc_drv, #{port := P, ctx := C}, seed_calls, N, A) -> nc_drv_seedc(N, P, C, A);
batch(Id, Env, seed_calls, N, A) when Id =:= hand_nif; Id =:= hand_drv -> batch(Id, Env, seed, N, A);
batch(nc_drv, #{port := P}, blob, N, A) -> nc_drv_blob(N, P, A);
batch(nc_drv_async, #{port := P}, identity, N, A) -> nc_drva_id(N, P, A);
batch(nc_drv_async, #{port := P, ctx := C}, seed, N, A) -> nc_drva_seed(N, P, C, A);
batch(nc_drv_async, #{port := P}, iodata, N, A) -> nc_drva_io(N, P, A);
batch(hand_nif, _, identity, N, A) -> hand_nif_id(N, A);
batch(hand_nif, #{ctx := C}, seed, N, A) -> hand_nif_seed(N, C, A);
batch(hand_nif, _, iodata, N, A) -> hand_nif_io(N, A);
batch(hand_nif_dirty, _, identity, N, A) -> hand_nifd_id(N, A);
batch(hand_nif_dirty, #{ctx := C}, seed, N, A) -> hand_nifd_seed(N, C, A);
batch(hand_nif_dirty, _, iodata, N, A) -> hand_nifd_io(N, A);
batch(copy_nif, _, identity, N, A) -> copy_nif_id(N, A);
batch(copy_nif, #{ctx := C}, seed, N, A) -> copy_nif_seed(N, C, A);
batch(copy_nif, _, iodata, N, A) -> copy_nif_io(N, A);
batch(Id, #{port := P}, identity, N, A) when Id =:= hand_drv; Id =:= hand_drv_async;
                                            Id =:= copy_drv ->
    drv_id(N, P, A);
batch(Id, #{port := P}, seed, N, A) when Id =:= hand_drv; Id =:= hand_drv_async;
                                        Id =:= copy_drv ->
    drv_seed(N, P, 0, A);
batch(Id, #{port := P}, iodata, N, A) when Id =:= hand_drv; Id =:= hand_drv_async;
                                          Id =:= copy_drv ->
    drv_io(N, P, A);
batch(port_call, #{port := P}, identity, N, A) -> call_id(N, P, A);
batch(port_call, #{port := P}, seed, N, A) -> call_seed(N, P, 0, A);
batch(port_call, #{port := P}, iodata, N, A) -> call_io(N, P, A);
batch(ext_port, #{port := P}, identity, N, A) -> ext_id(N, P, A);
batch(ext_port, #{port := P}, seed, N, A) -> ext_seed(N, P, 0, A);
batch(ext_port, #{port := P}, iodata, N, A) -> ext_io(N, P, A);
batch(erl_local, _, identity, N, A) -> erl_id(N, A);
batch(erl_local, _, seed, N, A) -> erl_seed_l(N, 0, A);
batch(erl_local, _, iodata, N, A) -> erl_io(N, A).

now_ns() -> erlang:monotonic_time(nanosecond).

timed(Id, Env, W, N, Arg) ->
    T0 = now_ns(),
    ok = batch(Id, Env, W, N, Arg),
    now_ns() - T0.

%% One batch in a fresh process, as a typical caller: the receiver's heap and
%% binary-heap allowance (which the VM adapts after every GC) then start from
%% the defaults for every batch, instead of carrying over from whichever
%% contender ran before in the round (that carry-over made the GC step of
%% by-reference results come and go from round to round). The external port
%% program answers its owner only, so its port moves to the batch's process
%% and back (port_connect/2).
timed_fresh(Id, Env, W, N, Arg) ->
    Self = self(),
    Port = case Id of
               ext_port -> maps:get(port, Env);
               _ -> undefined
           end,
    {Pid, MRef} =
        spawn_monitor(fun() ->
                              receive go -> ok end,
                              T = timed(Id, Env, W, N, Arg),
                              Port =:= undefined orelse
                                  begin
                                      true = erlang:port_connect(Port, Self),
                                      unlink(Port)
                                  end,
                              Self ! {timed, self(), T}
                      end),
    Port =:= undefined orelse
        begin
            true = erlang:port_connect(Port, Pid),
            unlink(Port)
        end,
    Pid ! go,
    receive
        {timed, Pid, T} ->
            erlang:demonitor(MRef, [flush]),
            T;
        {'DOWN', MRef, process, Pid, Why} ->
            error({batch_failed, Id, W, Why})
    end.

%% A batch size that takes about Target ns (at least one call).
calibrate(Id, Env, W, Arg, Target) ->
    calibrate(Id, Env, W, Arg, Target, 1).

calibrate(Id, Env, W, Arg, Target, N) ->
    T = timed_fresh(Id, Env, W, N, Arg),
    if
        T * 4 >= Target; N >= ?MAX_N ->
            max(1, min(?MAX_N, (N * Target) div max(T, 1)));
        true ->
            calibrate(Id, Env, W, Arg, Target, N * 4)
    end.

%% ===========================================================================
%% Payloads
%% ===========================================================================

%% A binary of S bytes that is a plain (not writable) binary: a heap binary up
%% to 64 bytes, a refc binary above, as any caller would have.
payload(S) ->
    _ = rand:seed(exsss, {17, 42, 4711}),
    Block = rand:bytes(4096),
    B = case S rem 4096 of
            0 -> binary:copy(Block, S div 4096);
            _ -> binary:copy(binary:part(Block, 0, S))     % S < 4096 here
        end,
    S = byte_size(B),
    B.

%% The iodata workload: the payload as a list of ?PIECES pieces (sub-binaries,
%% or heap binaries when small).
pieces(B) ->
    S = byte_size(B),
    Step = S div ?PIECES,
    [binary:part(B, I * Step, case I of ?PIECES - 1 -> S - I * Step; _ -> Step end)
     || I <- lists:seq(0, ?PIECES - 1)].

arg(iodata, B) -> pieces(B);
arg(_, B) -> B.

first(<<B, _/binary>>) -> B;
first(<<>>) -> 0.

%% Is R the right answer? {true, ZeroCopy} | {false, Why}. ZeroCopy says whether
%% the binary result shares the payload's bytes (null when not applicable).
check(identity, R, P, _) when R =:= P -> {true, same_bytes(R, P)};
check(seed, {0, Minor, true, ?QOP, Out} = R, P, _) when Out =:= P ->
    case Minor =:= first(P) of
        true -> {true, same_bytes(Out, P)};
        false -> {false, R}
    end;
check(seed_calls, R, P, Arg) ->
    check(seed, R, P, Arg);
check(iodata, R, _, Arg) when is_integer(R) ->
    case R =:= iolist_size(Arg) of
        true -> {true, null};
        false -> {false, R}
    end;
check(_, R, _, _) ->
    {false, R}.

same_bytes(A, B) when byte_size(B) > 64 -> nc_bench:address_of(A) =:= nc_bench:address_of(B);
same_bytes(_, _) -> null.
