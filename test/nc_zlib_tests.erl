%% nc_zlib_tests: the zlib binding (examples/zlib/nc_zlib.c) checked against an
%% independent implementation, OTP's zlib module, on both backends.
%%
%% - OTP decompresses what nc_zlib compressed (zlib, gzip, raw; one-shot and
%%   streaming; every level) and nc_zlib decompresses what OTP compressed;
%%   OTP's zlib is linked to the same system libz here (Debian's erts links
%%   libz.so.1), so at the same level the compressed bytes are equal too;
%% - streaming against one-shot: the same bytes for any split of the input
%%   (levels 1-9); sync and full flushes make every segment decodable at once;
%% - iodata of every shape, sizes from 0 to 24 MiB, corrupt and truncated input
%%   (every prefix of a stream), trailing data, preset dictionaries;
%% - every bad argument raises badarg whose error_info names the argument with
%%   the exact text; closed streams and streams of the other kind or backend;
%% - every z_stream is ended exactly once (a live counter in the library);
%% - the result binaries are the buffers zlib wrote (addresses, with negative
%%   controls that must differ); calls above the threshold run off the normal
%%   schedulers (thread names, no timing); a stream used by two calls at once
%%   refuses the second;
%% - round trips of random iodata, levels, splits and flushes with PropEr.
%%
%% Every test runs once per backend: the NIF (module nc_zlib) and the driver
%% (nc_zlib_drv:F(Port, ...), whose argument numbers are one higher because the
%% port comes first). "Erlang's address" of a binary is always read with the
%% NIF probe nc_zlib:address_of/1. No timing is asserted anywhere; what waits
%% for the runtime polls to a deadline.
%%
%% This module is the suite's EUnit entry and holds the lifetime, misuse, no
%% copy, scheduling and concurrency tests; the tests against OTP are in
%% nc_zlib_oracle, what both use in nc_zlib_util.hrl.
-module(nc_zlib_tests).

-include_lib("eunit/include/eunit.hrl").

-import(nocopy_test_lib, [call/3, assert_badarg/5, assert_error_info/6]).

%% After the imports: it defines functions.
-include("nc_zlib_util.hrl").

%% ---- fixtures: one group per backend -----------------------------------------

nc_zlib_test_() ->
    nocopy_test_lib:example_groups({nc_zlib, nc_zlib_drv}, fun tests/1, 120).

tests(Kind) ->
    %% First: the live-stream count starts from this backend's library state
    %% before any other test leaves streams for the garbage collector.
    [{"every stream is ended exactly once", fun stream_lifetimes/1},
     {"compress: OTP decompresses it, every level, size and kind",
      fun nc_zlib_oracle:compress_oracle/1},
     {"uncompress: decompresses what OTP compressed", fun nc_zlib_oracle:uncompress_oracle/1},
     {"24 MiB both ways, one-shot and gzip", fun nc_zlib_oracle:big/1},
     {"uncompress/2: the size hint", fun nc_zlib_oracle:size_hints/1},
     {"gzip and gunzip against OTP; members; ISIZE", fun nc_zlib_oracle:gzip_oracle/1},
     {"streaming deflate: same bytes as one-shot for any split",
      fun nc_zlib_oracle:deflate_splits/1},
     {"streaming deflate: sync and full flushes decode at once",
      fun nc_zlib_oracle:deflate_flushes/1},
     {"streaming deflate: gzip and raw formats", fun nc_zlib_oracle:deflate_formats/1},
     {"streaming inflate: any split of OTP's streams", fun nc_zlib_oracle:inflate_splits/1},
     {"streaming inflate: OTP's flushed segments", fun nc_zlib_oracle:inflate_flushed/1},
     {"streaming inflate: formats, members, trailing data", fun nc_zlib_oracle:inflate_formats/1},
     {"iodata of every shape", fun nc_zlib_oracle:iodata_shapes/1},
     {"corrupt, truncated and trailing input", fun nc_zlib_oracle:corrupt/1},
     {"a preset dictionary is need_dictionary", fun nc_zlib_oracle:dictionary/1},
     {"bad arguments: badarg with the exact error_info", fun bad_arguments/1},
     {"closed streams and finished deflate streams", fun closed_streams/1},
     {"no copy out: the result is the buffer zlib wrote", fun no_copy_out/1},
     {"negative controls: copies have other addresses", fun controls/1},
     {"scheduling: the threshold moves calls off normal schedulers", fun scheduling/1},
     {"a stream used by two calls at once refuses the second", fun concurrent_use/1},
     {"round trips of random iodata, levels, splits, flushes (PropEr)",
      fun nc_zlib_oracle:properties/1}]
    ++ [{"a stream of the other backend is refused", fun foreign_stream/1} || Kind =:= drv].

%% ---- lifetimes ---------------------------------------------------------------------

%% Waits until the library counts N live streams, then asserts it.
await_count(B, N) ->
    nocopy_test_lib:wait_until(fun() -> call(B, stream_count, []) =:= N end, 10000),
    ?assertEqual(N, call(B, stream_count, [])).

stream_lifetimes(B = #{kind := nif}) ->
    nocopy_test_lib:gc_all(),
    Base = call(B, stream_count, []),
    Self = self(),
    Holder = spawn(fun() ->
                           Zs = [call(B, deflate_init, [L]) || L <- [0, 1, 6, 9, default]]
                               ++ [call(B, inflate_init, [F]) || F <- [zlib, gzip, raw, auto]]
                               ++ [call(B, inflate_init, []) || _ <- lists:seq(1, 31)],
                           {Ended, Kept} = lists:split(15, Zs),
                           [ok = end_stream(B, Z) || Z <- Ended],
                           Self ! {made, self()},
                           receive drop -> ok end,
                           %% Kept is dropped here: the process dies with it.
                           length(Kept)
                   end),
    receive {made, Holder} -> ok end,
    %% 40 made, 15 ended at once, 25 still referenced.
    await_count(B, Base + 25),
    MRef = monitor(process, Holder),
    Holder ! drop,
    receive {'DOWN', MRef, process, Holder, _} -> ok end,
    %% NIF resources: the destructors run once the runtime gets to them.
    await_count(B, Base),
    %% A stream that is used after being dropped by others still works: the
    %% count only falls when the last reference goes.
    Z = call(B, deflate_init, [1]),
    await_count(B, Base + 1),
    ?assertEqual(<<"x">>, zlib:uncompress(iolist_to_binary(call(B, deflate, [Z, <<"x">>, finish])))),
    ok = call(B, deflate_end, [Z]),
    await_count(B, Base);
stream_lifetimes(B = #{kind := drv}) ->
    Base = call(B, stream_count, []),
    %% Driver handles live until ended or until their port closes.
    {ok, P2} = nc_zlib_drv:open(),
    Zs = [nc_zlib_drv:deflate_init(P2, L) || L <- [0, 1, 6, 9, default]]
        ++ [nc_zlib_drv:inflate_init(P2, F) || F <- [zlib, gzip, raw, auto]]
        ++ [nc_zlib_drv:inflate_init(P2) || _ <- lists:seq(1, 31)],
    {Ended, _Kept} = lists:split(15, Zs),
    [ok = end_stream(#{mod => nc_zlib_drv, port => P2}, Z) || Z <- Ended],
    await_count(B, Base + 25),
    ok = nc_zlib_drv:close(P2),
    await_count(B, Base),
    Z = call(B, inflate_init, []),
    await_count(B, Base + 1),
    ok = call(B, inflate_end, [Z]),
    await_count(B, Base).

%% Ends a stream of either kind (the handle does not say which on the driver).
end_stream(B, Z) ->
    try call(B, deflate_end, [Z])
    catch error:badarg -> call(B, inflate_end, [Z])
    end.

%% ---- misuse --------------------------------------------------------------------------------

bad_arguments(B) ->
    D = data(text, 1000),
    Dz = call(B, deflate_init, [6]),
    Iz = call(B, inflate_init, []),
    Fmt = "expected zlib, gzip or raw",
    IFmt = "expected zlib, gzip, raw or auto",
    Flush = "expected none, sync, full or finish",
    DHandle = "expected a zlib deflate stream handle",
    IHandle = "expected a zlib inflate stream handle",
    Size = "expected a size (a non-negative integer)",
    Cases =
        [{compress, [foo], 1, ?IODATA_TEXT},
         {compress, [<<1:7>>], 1, ?IODATA_TEXT},
         {compress, [[256]], 1, ?IODATA_TEXT},
         {compress, [[-1]], 1, ?IODATA_TEXT},
         {compress, [[<<"a">> | foo]], 1, ?IODATA_TEXT},
         {compress, [[<<"a">>, [{x}]]], 1, ?IODATA_TEXT},
         {compress, [[<<"a">> | <<1:1>>]], 1, ?IODATA_TEXT},
         {compress, [#{}], 1, ?IODATA_TEXT},
         {compress, [1.0], 1, ?IODATA_TEXT},
         {compress, [D, 10], 2, ?LEVEL_TEXT},
         {compress, [D, -1], 2, ?LEVEL_TEXT},
         {compress, [D, 1 bsl 64], 2, ?LEVEL_TEXT},
         {compress, [D, -(1 bsl 70)], 2, ?LEVEL_TEXT},
         {compress, [D, 6.0], 2, ?LEVEL_TEXT},
         {compress, [D, "6"], 2, ?LEVEL_TEXT},
         {compress, [D, fast], 2, ?LEVEL_TEXT},           % not an atom of the table
         {compress, [D, ok], 2, ?LEVEL_TEXT},             % a built-in atom
         {compress, [D, sync], 2, ?LEVEL_TEXT},           % an atom of the table, not a level
         {compress, [foo, 10], 1, ?IODATA_TEXT},          % the first bad argument is named
         {uncompress, [foo], 1, ?IODATA_TEXT},
         {uncompress, [<<1:9>>], 1, ?IODATA_TEXT},
         {uncompress, [D, -1], 2, "expected a size (a non-negative integer that fits size_t)"},
         {uncompress, [D, 1 bsl 64], 2, "expected a size (a non-negative integer that fits size_t)"},
         {uncompress, [D, big], 2, Size},
         {uncompress, [D, 1.5], 2, Size},
         {gzip, [{D}], 1, ?IODATA_TEXT},
         {gzip, [D, 11], 2, ?LEVEL_TEXT},
         {gunzip, [self()], 1, ?IODATA_TEXT},
         {deflate_init, [10], 1, ?LEVEL_TEXT},
         {deflate_init, [-1], 1, ?LEVEL_TEXT},
         {deflate_init, [speed], 1, ?LEVEL_TEXT},
         {deflate_init, [6, zip], 2, Fmt},
         {deflate_init, [6, auto], 2, Fmt},              % auto is for inflating
         {deflate_init, [6, "zlib"], 2, Fmt},
         {deflate_init, [100, zip], 1, ?LEVEL_TEXT},
         {deflate, [not_a_stream, D, none], 1, DHandle},
         {deflate, [make_ref(), D, none], 1, DHandle},
         {deflate, [Iz, D, none], 1, DHandle ++ ", not a handle of type zlib inflate stream"},
         {deflate, [Dz, foo, none], 2, ?IODATA_TEXT},
         {deflate, [Dz, [D | bar], none], 2, ?IODATA_TEXT},
         {deflate, [Dz, D, sync_flush], 3, Flush},
         {deflate, [Dz, D, 2], 3, Flush},
         {deflate, [Dz, D, gzip], 3, Flush},              % an atom of the table
         {deflate, [Dz, D, true], 3, Flush},
         {deflate, [foo, bar, baz], 1, DHandle},
         {deflate_end, [Iz], 1, DHandle ++ ", not a handle of type zlib inflate stream"},
         {deflate_end, [D], 1, DHandle},
         {inflate_init, [zip], 1, IFmt},
         {inflate_init, [15], 1, IFmt},
         {inflate, [Dz, D], 1, IHandle ++ ", not a handle of type zlib deflate stream"},
         {inflate, [{}, D], 1, IHandle},
         {inflate, [Iz, foo], 2, ?IODATA_TEXT},
         {inflate, [Iz, [1 | 2]], 2, ?IODATA_TEXT},
         {inflate_end, [Dz], 1, IHandle ++ ", not a handle of type zlib deflate stream"},
         {inflate_end, [[]], 1, IHandle},
         {compress_traced, [D, 99], 2, ?LEVEL_TEXT},
         {uncompress_traced, [atom], 1, ?IODATA_TEXT},
         {address_of, [[<<"a list">>]], 1, "expected a binary"}],
    [assert_badarg(B, F, Args, N, Text) || {F, Args, N, Text} <- Cases],
    %% The streams took no harm from the failed calls.
    ?assertEqual(D, zlib:uncompress(iolist_to_binary(call(B, deflate, [Dz, D, finish])))),
    {finished, Out} = call(B, inflate, [Iz, zlib:compress(D)]),
    ?assertEqual(D, iolist_to_binary(Out)).

closed_streams(B) ->
    D = data(text, 5000),
    Dz = call(B, deflate_init, [6]),
    Part = call(B, deflate, [Dz, D, none]),
    ok = call(B, deflate_end, [Dz]),
    Closed = "the zlib deflate stream handle is closed",
    assert_badarg(B, deflate, [Dz, D, none], 1, Closed),
    assert_badarg(B, deflate, [Dz, <<>>, finish], 1, Closed),
    assert_badarg(B, deflate_end, [Dz], 1, Closed),
    ?assert(is_list(Part)),
    Iz = call(B, inflate_init, []),
    {continue, _} = call(B, inflate, [Iz, binary:part(zlib:compress(D), 0, 10)]),
    ok = call(B, inflate_end, [Iz]),
    assert_badarg(B, inflate, [Iz, D], 1, "the zlib inflate stream handle is closed"),
    assert_badarg(B, inflate_end, [Iz], 1, "the zlib inflate stream handle is closed"),
    %% A closed stream of one kind is still the wrong kind for the other.
    assert_badarg(B, inflate, [Dz, D], 1,
                 "expected a zlib inflate stream handle, not a handle of type zlib deflate stream"),
    %% A finished deflate stream takes no more calls.
    F = call(B, deflate_init, [1]),
    C = iolist_to_binary(call(B, deflate, [F, D, finish])),
    ?assertEqual(D, zlib:uncompress(C)),
    Finished = "expected a zlib deflate stream handle that has not finished",
    assert_badarg(B, deflate, [F, <<>>, finish], 1, Finished),
    assert_badarg(B, deflate, [F, D, none], 1, Finished),
    ok = call(B, deflate_end, [F]),
    %% Other streams are unaffected.
    Z = call(B, deflate_init, [1]),
    ?assertEqual(D, zlib:uncompress(iolist_to_binary(call(B, deflate, [Z, D, finish])))).

%% ---- no copy, scheduling, concurrency ---------------------------------------------------

no_copy_out(B) ->
    %% compress: one buffer of deflateBound bytes; the result is that buffer,
    %% and large results were cut without moving (see hand_over() in C).
    [begin
         D = data(Kind, N),
         {C, HandedAt, WroteAt, _} = call(B, compress_traced, [D, L]),
         ?assertEqual(D, zlib:uncompress(C)),
         ?assertEqual({Kind, N, HandedAt}, {Kind, N, addr(C)}),
         assert_in_place({Kind, N}, WroteAt, HandedAt)
     end || {Kind, N, L} <- [{random, 2 * ?MIB, 1},        % cut by a few bytes: a prefix
                             {text, 2 * ?MIB, 1}]],        % cut by 60%: resized in place
    %% Smaller results are still the buffer C handed over (the allocator may
    %% have moved a small one when it was cut: that is WroteAt, not asserted).
    [begin
         {C, HandedAt, _, _} = call(B, compress_traced, [data(Kind, N), 6]),
         ?assertEqual({Kind, N, HandedAt}, {Kind, N, addr(C)})
     end || {Kind, N} <- [{random, 65}, {random, 5000}, {text, 100000}]],
    %% uncompress: each chunk is a buffer inflate wrote (24 MiB: see big/1).
    [begin
         D = data(Kind, N),
         {{ok, Chunks}, HandedAt, LastWroteAt, _} = call(B, uncompress_traced, [zlib:compress(D)]),
         ?assertEqual(D, iolist_to_binary(Chunks)),
         ?assertEqual({Kind, N, HandedAt}, {Kind, N, [addr(X) || X <- Chunks]}),
         ?assert(lists:all(fun(X) -> byte_size(X) > 64 end, Chunks)),
         ?assert(length(Chunks) =< Most),
         %% A small last chunk may have been moved by the allocator when it
         %% was cut (a copy of under 512 KiB); a large one is not.
         case byte_size(lists:last(Chunks)) >= 512 * 1024 of
             true -> assert_in_place({Kind, N}, LastWroteAt, lists:last(HandedAt));
             false -> ok
         end
     end || {Kind, N, Most} <- [{repeats, 6 * ?MIB, 3}, {random, ?MIB, 1}, {text, ?MIB, 1}]],
    ok.

controls(B) ->
    %% A copy of a result lives elsewhere: the probe can fail.
    D = data(random, ?MIB),
    {C, HandedAt, _, _} = call(B, compress_traced, [D, 1]),
    ?assertEqual(HandedAt, addr(C)),
    ?assertNotEqual(HandedAt, addr(binary:copy(C))),
    %% Results of 64 bytes or less are copied by the runtime (heap binaries).
    {Small, SmallAt, _, _} = call(B, compress_traced, [<<>>, 6]),
    ?assertEqual(8, byte_size(Small)),
    ?assertNotEqual(SmallAt, addr(Small)),
    {{ok, [Tiny]}, [TinyAt], _, _} = call(B, uncompress_traced, [zlib:compress(<<"64 bytes or less">>)]),
    ?assertNotEqual(TinyAt, addr(Tiny)).

normal_thread(Name) -> re:run(Name, "^[0-9]+_scheduler$", [{capture, none}]) =:= match.
dirty_cpu_thread(Name) -> re:run(Name, "^[0-9]+_dirty_cpu", [{capture, none}]) =:= match.

check_thread(_, normal, Name) -> ?assert(normal_thread(Name));
check_thread(#{kind := nif}, dirty, Name) -> ?assert(dirty_cpu_thread(Name));
check_thread(#{kind := drv}, dirty, Name) -> ?assertNot(normal_thread(Name)).

scheduling(B) ->
    At = data(random, ?DIRTY_ABOVE),
    Above = data(random, ?DIRTY_ABOVE + 1),
    Half = data(random, ?DIRTY_ABOVE div 2),
    Cases = [{compress_traced, [<<>>, 6], normal},
             {compress_traced, [At, 6], normal},
             {compress_traced, [Above, 6], dirty},
             {compress_traced, [[Half, Half], 6], normal},
             %% The measure counts binaries (and a list's binary elements),
             %% not integer bytes.
             {compress_traced, [[Half, 1, Half], 6], normal},
             {compress_traced, [[Half, <<1>>, Half], 6], dirty},
             {uncompress_traced, [At], normal},
             {uncompress_traced, [Above], dirty}],
    [begin
         Thread = element(4, call(B, F, Args)),
         check_thread(B, Where, binary_to_list(Thread))
     end || {F, Args, Where} <- Cases].

%% Two processes call with one stream: the call that finds it in use is
%% refused with badarg (not blocked, not corrupting it), and the stream's
%% output is still right. A long call on a worker or dirty scheduler holds the
%% stream while a short one runs on a normal scheduler; the short caller polls
%% until it meets the long call (the long caller repeats to a deadline).
concurrent_use(B) ->
    Z = call(B, deflate_init, [9]),
    Big = data(random, 4 * ?MIB),
    Self = self(),
    Long = spawn_link(fun() -> long_caller(B, Z, Big, Self, [], 0) end),
    Busy = poll_busy(B, Z, Long, erlang:monotonic_time(millisecond) + 60000),
    Long ! stop,
    {Fed, Outs} = receive {long_done, Long, F, O} -> {F, O} end,
    ?assertMatch({badarg, _}, Busy),
    {badarg, St} = Busy,
    assert_error_info(B, deflate, [Z, <<>>, none], St, 1,
                      "expected a zlib deflate stream handle that no other call is using"),
    ?assert(Fed >= 1),
    Tail = call(B, deflate, [Z, <<>>, finish]),
    ?assertEqual(binary:copy(Big, Fed), zlib:uncompress(iolist_to_binary([Outs, Tail]))).

long_caller(B, Z, Big, Parent, Outs, Fed) ->
    Stop = receive stop -> true after 0 -> false end,
    case Stop orelse Fed >= 30 of
        true ->
            Parent ! {long_done, self(), Fed, lists:reverse(Outs)};
        false ->
            %% The short caller may hold the stream for an instant: retry then.
            try call(B, deflate, [Z, Big, none]) of
                Out -> long_caller(B, Z, Big, Parent, [Out | Outs], Fed + 1)
            catch
                error:badarg -> long_caller(B, Z, Big, Parent, Outs, Fed)
            end
    end.

poll_busy(B, Z, Long, Deadline) ->
    try call(B, deflate, [Z, <<>>, none]) of
        [] ->
            case is_process_alive(Long) andalso erlang:monotonic_time(millisecond) < Deadline of
                true -> poll_busy(B, Z, Long, Deadline);
                false -> never_busy
            end
    catch
        error:badarg:St -> {badarg, St}
    end.

%% Handles are backend objects: a NIF stream is not a driver stream, and each
%% backend says so in the same words.
foreign_stream(B) ->
    NifZ = nc_zlib:deflate_init(6),
    DrvZ = call(B, deflate_init, [6]),
    assert_badarg(B, deflate, [NifZ, <<"x">>, none], 1, "expected a zlib deflate stream handle"),
    Nif = #{kind => nif, mod => nc_zlib, shift => 0},
    assert_badarg(Nif, deflate, [DrvZ, <<"x">>, none], 1, "expected a zlib deflate stream handle"),
    ok = nc_zlib:deflate_end(NifZ),
    ok = call(B, deflate_end, [DrvZ]).
