%% nocopy_ffi_nif_tests: what the run-time FFI does on the NIF only: a library
%% dlclose'd when it and its functions are collected, pointer handles'
%% destructors run by the collector, module/3's generated module (specs,
%% errors naming arguments, its code holding its functions), scheduling.
-module(nocopy_ffi_nif_tests).

-include_lib("eunit/include/eunit.hrl").
-include("nocopy_ffi_test.hrl").

nif_only_test_() ->
    [{D, {timeout, 60, F}} || {D, F} <- nif_only()].

nif_only() ->
    [{"a library is dlclose'd when it and its functions are collected", fun gc_closes/0},
     {"a collected pointer handle runs its destructor", fun gc_runs_destructor/0},
     {"module/3: real functions with specs, errors naming their arguments", fun module_gen/0},
     {"module/3: its code holds its functions until delete_module/1", fun module_holds/0},
     {"module/3 made by a process that collects at every chance", fun module_made_under_gc/0},
     {"scheduling options", fun sched/0}].

gc_closes() ->
    Base = settled_libraries(),
    fn_keeps_library(Base),
    %% ... until the function goes too
    ?assert(nocopy_test_lib:wait_until(
              fun() -> erlang:garbage_collect(), nc_ffi:live_libraries() =:= Base end, 5000)),
    Pid = spawn(fun() ->
                        {ok, C} = nocopy_ffi:open(?LIBC),
                        F = bind(C, "long labs(long j)"),
                        ok = nocopy_ffi:close(C),
                        receive {go, From} -> From ! {held, nc_ffi:live_libraries(), F} end
                end),
    Pid ! {go, self()},
    receive {held, Held, F} -> ok end,
    %% closed, but a function of it is still referenced (F): still mapped
    ?assertEqual(Base + 1, Held),
    ?assertError(badarg, nocopy_ffi:call(F, [-1])),
    _ = F,
    nocopy_test_lib:gc_all(),
    erlang:garbage_collect(),
    ?assert(nocopy_test_lib:wait_until(
              fun() -> erlang:garbage_collect(), nc_ffi:live_libraries() =:= Base end, 5000)).

%% The count of mapped libraries once earlier tests' garbage is gone: their
%% functions and libraries die as the processes holding them exit and are
%% collected, so the count may still fall for a while (seen under ASan).
%% Settled: the same count on three reads 20 ms apart, each after collecting
%% every process.
settled_libraries() ->
    settled_libraries(nc_ffi:live_libraries(), 0,
                      erlang:monotonic_time(millisecond) + 10000).

settled_libraries(Last, 3, _Deadline) ->
    Last;
settled_libraries(Last, Same, Deadline) ->
    timer:sleep(20),
    nocopy_test_lib:gc_all(),
    Now = nc_ffi:live_libraries(),
    case erlang:monotonic_time(millisecond) > Deadline of
        true -> error({libraries_never_settled, Last, Now});
        false when Now =:= Last -> settled_libraries(Now, Same + 1, Deadline);
        false -> settled_libraries(Now, 0, Deadline)
    end.

%% A function keeps its library: dropping the library's handle stops nothing.
%% (A function of its own, so that no reference to Labs outlives it.)
fn_keeps_library(Base) ->
    Labs = spawn_bind(?LIBC, "long labs(long j)"),
    nocopy_test_lib:gc_all(),
    ?assertEqual(Base + 1, nc_ffi:live_libraries()),
    ?assertEqual(4, nocopy_ffi:call(Labs, [-4])).

%% A function bound in another process, which drops its library handle.
spawn_bind(Lib, Decl) ->
    Self = self(),
    {Pid, Ref} = spawn_monitor(fun() ->
                                       {ok, L} = nocopy_ffi:open(Lib),
                                       Self ! {fn, bind(L, Decl)}
                               end),
    receive {'DOWN', Ref, process, Pid, normal} -> ok end,
    receive {fn, F} -> F end.

%% A module's functions are literals of its code: with no other reference
%% left (the process that made it is gone), the module still calls them and
%% keeps their library mapped; delete_module/1 lets them go, and the library
%% is unmapped (the runtime frees a purged module's literals soon after).
module_holds() ->
    Base = settled_libraries(),
    Self = self(),
    {Pid, Ref} = spawn_monitor(
                   fun() ->
                           {ok, Z} = nocopy_ffi:open(?LIBZ),
                           Self ! nocopy_ffi:module(zlib_ffi_held, Z, ?ZSUMS)
                   end),
    receive {'DOWN', Ref, process, Pid, normal} -> ok end,
    receive {ok, zlib_ffi_held} -> ok end,
    nocopy_test_lib:gc_all(),
    ?assertEqual(Base + 1, nc_ffi:live_libraries()),
    ?assertEqual(erlang:crc32(<<"held">>), zlib_ffi_held:crc32(0, <<"held">>, 4)),
    ok = nocopy_ffi:delete_module(zlib_ffi_held),
    ?assert(nocopy_test_lib:wait_until(
              fun() -> nocopy_test_lib:gc_all(), nc_ffi:live_libraries() =:= Base end, 10000, 10)).

gc_runs_destructor() ->
    {ok, C} = nocopy_ffi:open(?LIBC),
    {ok, #{fclose := Fclose, fwrite := Fwrite}} = nocopy_ffi:cdef(C, ?STDIO),
    Fopen = bind(C, ?STDIO, #{name => fopen, destructor => Fclose}),
    nocopy_test_lib:gc_all(),
    Base = nc_ffi:live_pointers(),
    Path = tmp_file("gc"),
    Data = data(50000),
    Self = self(),
    {Pid, Ref} = spawn_monitor(
                   fun() ->
                           F = nocopy_ffi:call(Fopen, [list_to_binary(Path), <<"w">>]),
                           50000 = nocopy_ffi:call(Fwrite, [Data, 1, 50000, F]),
                           Self ! {written, nc_ffi:live_pointers()},
                           receive stop -> ok end
                   end),
    receive {written, Live} -> ?assertEqual(Base + 1, Live) end,
    %% not flushed yet: fclose has not run
    ?assertNotEqual({ok, Data}, file:read_file(Path)),
    Pid ! stop,
    receive {'DOWN', Ref, process, Pid, normal} -> ok end,
    ?assert(nocopy_test_lib:wait_until(fun() -> nc_ffi:live_pointers() =:= Base end, 5000)),
    ?assertEqual({ok, Data}, file:read_file(Path)),
    ok = file:delete(Path).

%% The beam module/3 loads carries its functions as encoded references,
%% which loading turns back into the handles only while they are alive. A
%% process that binds them itself and sweeps its whole heap at every
%% collection (nothing else holds them) must still get a module whose calls
%% work once it is gone. Whether a collection falls between compiling and
%% loading depends on how much the process allocates, so the module's name
%% takes 30 lengths (before the fix, about half of the 30 modules raised
%% badarg: their functions were dead references).
module_made_under_gc() ->
    Failed = [L || L <- lists:seq(1, 30), not module_made_under_gc(L)],
    ?assertEqual([], Failed).

module_made_under_gc(NameLength) ->
    Self = self(),
    Name = list_to_atom(lists:duplicate(NameLength, $z) ++ "_ffi_gc"),
    {Pid, Ref} = spawn_opt(fun() ->
                                   {ok, Z} = nocopy_ffi:open(?LIBZ),
                                   Self ! {self(), nocopy_ffi:module(Name, Z, ?ZSUMS)}
                           end, [monitor, {fullsweep_after, 0}, {min_heap_size, 233}]),
    receive {Pid, {ok, Name}} -> ok end,
    receive {'DOWN', Ref, process, Pid, _} -> ok end,
    erlang:garbage_collect(),
    B = data(1000),
    Works = try Name:crc32(0, B, byte_size(B)) of
                V -> V =:= erlang:crc32(B)
            catch
                error:badarg -> false
            end,
    ok = nocopy_ffi:delete_module(Name),
    Works.

module_gen() ->
    {ok, Z} = nocopy_ffi:open(?LIBZ),
    Snippet = "typedef unsigned long uLong; typedef unsigned char Bytef; typedef uLong uLongf;"
              "uLong crc32(uLong crc, const Bytef *buf, unsigned int len);"
              "int compress2(Bytef *dest, uLongf *destLen, const Bytef *source, uLong sourceLen, int level);",
    {ok, zlib_ffi_test} =
        nocopy_ffi:module(zlib_ffi_test, Z, Snippet,
                          #{compress2 => #{out => #{dest => destLen}, inout => [destLen],
                                           len => #{dest => destLen}}}),
    B = data(5000),
    ?assertEqual(erlang:crc32(B), zlib_ffi_test:crc32(0, B, 5000)),
    {0, Packed, _} = zlib_ffi_test:compress2(10000, B, 5000, 9),
    ?assertEqual(B, zlib:uncompress(Packed)),
    ?assertEqual([{compress2, 4}, {crc32, 3}],
                 lists:sort([FA || {F, _} = FA <- zlib_ffi_test:module_info(exports),
                                   F =/= module_info])),
    %% the error names argument 2 of crc32/3 itself
    try zlib_ffi_test:crc32(0, foo, 3) of
        _ -> erlang:error(no_error)
    catch
        error:badarg:St ->
            [{zlib_ffi_test, crc32, [0, foo, 3], _} | _] = St,
            ?assertEqual(#{2 => <<"expected a binary or null (const Bytef *buf), got: foo">>},
                         nocopy:format_error(badarg, St))
    end,
    %% the specs come from the declarations
    {ok, Crc} = nocopy_ffi:bind(Z, Snippet, #{name => crc32}),
    {Gen, _} = nocopy_ffi_gen:source(m, [{crc32, nocopy_ffi:info(Crc), Crc}]),
    Src = lists:flatten(io_lib:format("~ts", [Gen])),
    ?assertNotEqual(nomatch, string:find(Src, "-spec crc32(Crc :: 0..18446744073709551615, "
                                              "Buf :: binary() | null, Len :: 0..4294967295) -> "
                                              "0..18446744073709551615.")),
    %% deleting it drops its functions: the library is unmapped
    ok = nocopy_ffi:delete_module(zlib_ffi_test),
    ?assertEqual(false, erlang:module_loaded(zlib_ffi_test)),
    ?assertEqual(undefined, persistent_term:get({nocopy_ffi, zlib_ffi_test, crc32}, undefined)).

sched() ->
    {ok, Z} = nocopy_ffi:open(?LIBZ),
    Decl = "unsigned long crc32(unsigned long crc, const unsigned char *buf, unsigned int len)",
    B = data(100000),
    [?assertEqual(erlang:crc32(B), nocopy_ffi:call(bind(Z, Decl, #{sched => S}), [0, B, 100000]))
     || S <- [normal, dirty_cpu, dirty_io, {dirty_above, 10}, {dirty_above, 1 bsl 30}]].
