%% nocopy_zero_copy_tests: large binaries cross without a copy, both ways.
%%
%% Method (docs/research otp-zero-copy.md section 7): the test module reports
%% the data address C sees (inputs) or wrote (results); the address of an
%% Erlang binary is what the NIF probe nocopy_test:address_of/1 reports, i.e.
%% enif_inspect_binary, which points into a refc binary's shared data. Where
%% possible an Erlang-side fact backs it up: binary:referenced_byte_size/1 shows
%% that a slice still refers to its whole parent, erlang:memory(binary) that
%% N results did not allocate N copies.
%%
%% Every proof has a negative control: the same probe on a path that copies
%% must report a different address, so the proofs can fail. Binaries are refc
%% sized (> 64 bytes, and >= 256 bytes where a driver iolist could be packed);
%% the 64-byte heap-binary limit is tested on its own, as documented.
-module(nocopy_zero_copy_tests).

-include("nocopy_test_util.hrl").

-define(BIG, (1 bsl 20)).

%% The address of an Erlang binary's data, by the NIF probe.
erl_addr(Bin) -> nocopy_test:address_of(Bin).

%% ---- Erlang -> C ---------------------------------------------------------------------

input_test_() ->
    ?NC_FOR_EACH_BACKEND(fun(B) -> input(B) end).

input(B) ->
    [{nc_title(B, "input: C sees the binary's own bytes, on every call, after GC"),
      fun() ->
              Big = nc_big(?BIG),
              A = erl_addr(Big),
              ?assertEqual(A, call(B, address_of, [Big])),
              ?assertEqual(A, call(B, address_of, [Big])),
              erlang:garbage_collect(),
              ?assertEqual(A, call(B, address_of, [Big])),
              %% Negative control: a copy of the same bytes is somewhere else.
              Copy = binary:copy(Big),
              ?assertEqual(Big, Copy),
              ?assertNotEqual(A, call(B, address_of, [Copy]))
      end},
     {nc_title(B, "input: the same binary seen from another process"),
      fun() ->
              Big = nc_big(?BIG),
              A = call(B, address_of, [Big]),
              Self = self(),
              {Pid, Ref} = spawn_monitor(fun() -> Self ! {self(), call(B, address_of, [Big])} end),
              receive {Pid, Other} -> ?assertEqual(A, Other) end,
              receive {'DOWN', Ref, process, Pid, _} -> ok end
      end},
     {nc_title(B, "input: sub-binaries are viewed at their offset"),
      fun() ->
              Big = nc_big(?BIG),
              A = erl_addr(Big),
              [begin
                   ?assertEqual(A + Off, call(B, address_of, [binary:part(Big, Off, Len)])),
                   <<_:Off/binary, Sub:Len/binary, _/binary>> = Big,
                   ?assertEqual(A + Off, call(B, address_of, [Sub]))
               end || {Off, Len} <- [{1, 1000}, {3, 65}, {100, 256}, {?BIG - 65, 65},
                                     {?BIG - 1000, 1000}, {12345, 500000}]]
      end},
     {nc_title(B, "input: a sub-binary at a bit offset is copied (negative control)"),
      fun() ->
              Big = nc_big(?BIG),
              A = erl_addr(Big),
              <<_:3, Sub:100000/binary, _/bitstring>> = Big,
              Seen = call(B, address_of, [Sub]),
              ?assert(Seen < A orelse Seen >= A + ?BIG)
      end},
     {nc_title(B, "input: tuple and list elements are viewed in place"),
      fun() ->
              Big = nc_big(?BIG),
              A = erl_addr(Big),
              ?assertEqual(A, call(B, address_of_elem, [{x, Big}])),
              ?assertEqual([A, A + 500, A], call(B, list_addresses, [[Big, binary:part(Big, 500, 1000), Big]]))
      end},
     {nc_title(B, "input: iodata pieces point into the binaries (no flattening)"),
      fun() ->
              Big = nc_big(?BIG),
              Other = nc_big(300),
              A = erl_addr(Big),
              O = erl_addr(Other),
              ?assertEqual({?BIG, 1, [{A, ?BIG}]}, call(B, iovec_info, [Big])),
              ?assertEqual({?BIG, 1, [{A, ?BIG}]}, call(B, iovec_info, [[Big]])),
              ?assertEqual({?BIG + 1000 + 300, 3, [{A, ?BIG}, {A + 7, 1000}, {O, 300}]},
                           call(B, iovec_info, [[Big, [binary:part(Big, 7, 1000)] | Other]])),
              %% Negative control: flattened iodata is a new binary elsewhere.
              Flat = iolist_to_binary([Big, Other]),
              {_, 1, [{F, _}]} = call(B, iovec_info, [Flat]),
              ?assertNotEqual(A, F),
              %% Integer bytes are gathered into a scratch piece, not in Big.
              {_, 3, [{A, ?BIG}, {G, 3}, {O, 300}]} = call(B, iovec_info, [[Big, [1, 2, 3], Other]]),
              ?assert(G < A orelse G >= A + ?BIG)
      end},
     {nc_title(B, "input: an appendable binary has a stable address once inspected"),
      fun() ->
              App = lists:foldl(fun(I, Acc) -> <<Acc/binary, I:32>> end, <<>>,
                                lists:seq(1, 100000)),
              _ = call(B, address_of, [App]),
              A = call(B, address_of, [App]),
              ?assertEqual(A, erl_addr(App)),
              erlang:garbage_collect(),
              ?assertEqual(A, call(B, address_of, [App]))
      end}].

%% The runtime keeps binaries of at most 64 bytes on the process heap: a GC
%% moves them, so their address is only valid during a call; from 65 bytes on
%% they are refc binaries whose address never changes.
heap_limit_input_test_() ->
    ?NC_FOR_EACH_BACKEND(
       fun(B) ->
               [{nc_title(B, io_lib:format("input of ~b bytes: ~s", [N, What])),
                 fun() ->
                         Bin = nc_big(N),
                         A1 = call(B, address_of, [Bin]),
                         erlang:garbage_collect(),
                         A2 = call(B, address_of, [Bin]),
                         NifAddr = erl_addr(Bin),
                         case {N =< 64, B} of
                             {true, nif} -> ?assertNotEqual(A1, A2);
                             {true, _} -> ?assertNotEqual(NifAddr, A2);  % copied for the driver
                             {false, _} -> ?assertEqual({A1, NifAddr}, {A2, A2})
                         end
                 end}
                || N <- [1, 63, 64, 65, 66, 300],
                   What <- [if N =< 64 -> "a heap binary, copied/moved";
                               true -> "a refc binary, in place" end]]
       end).

%% ---- C -> Erlang -------------------------------------------------------------------------

result_test_() ->
    ?NC_FOR_EACH_BACKEND(fun(B) -> results(B) end).

results(B) ->
    [{nc_title(B, "buffer: the binary is the memory C wrote (buf_new)"),
      fun() ->
              {Bin, CAddr} = call(B, buf_new, [?BIG, 1]),
              ?assertEqual(CAddr, erl_addr(Bin)),
              %% Negative control: the same bytes returned as a copy.
              {Copy, Src} = call(B, copy_new, [?BIG, 1]),
              ?assertEqual(Bin, Copy),
              ?assertNotEqual(Src, erl_addr(Copy))
      end},
     {nc_title(B, "buffer: through the format builder (build_buf)"),
      fun() ->
              {Bin, CAddr} = call(B, build_buf, [?BIG, 2]),
              ?assertEqual(CAddr, erl_addr(Bin))
      end},
     {nc_title(B, "buffer: after nocopy_buf_resize"),
      fun() ->
              [begin
                   {Bin, CAddr} = call(B, buf_resize, [S1, S2, 3]),
                   ?assertEqual(S2, byte_size(Bin)),
                   ?assertEqual(CAddr, erl_addr(Bin))
               end || {S1, S2} <- [{1000, ?BIG}, {?BIG, 1000}, {100, 65}, {10, 100000}]]
      end},
     {nc_title(B, "slice: a sub-binary of the input, no copy"),
      fun() ->
              Big = nc_big(?BIG),
              A = erl_addr(Big),
              [begin
                   {S, CAddr} = call(B, slice, [Big, Off, Len]),
                   ?assertEqual(A + Off, CAddr),
                   ?assertEqual(CAddr, erl_addr(S)),
                   %% Erlang's own view: the slice still refers to all of Big.
                   ?assertEqual(?BIG, binary:referenced_byte_size(S))
               end || {Off, Len} <- [{0, 65}, {1, 1000}, {500, 500000}, {?BIG - 65, 65}]],
              %% The whole input comes back as itself.
              {Whole, _} = call(B, slice, [Big, 0, ?BIG]),
              ?assertEqual(A, erl_addr(Whole)),
              %% Negative control: the same bytes copied.
              {C, Src} = call(B, copy_slice, [Big, 500, 500000]),
              ?assertEqual(A + 500, Src),
              ?assertNotEqual(Src, erl_addr(C)),
              ?assertEqual(500000, binary:referenced_byte_size(C))
      end},
     {nc_title(B, "slice: of a tuple element, and through the format builder"),
      fun() ->
              Big = nc_big(?BIG),
              A = erl_addr(Big),
              {S1, C1} = call(B, slice_elem, [{x, Big}, 10, 1000]),
              ?assertEqual({A + 10, A + 10}, {C1, erl_addr(S1)}),
              {S2, C2} = call(B, build_slice, [Big, 20, 1000]),
              ?assertEqual({A + 20, A + 20}, {C2, erl_addr(S2)})
      end},
     {nc_title(B, "kept: an input kept by C comes back without a copy"),
      fun() -> kept(B) end},
     {nc_title(B, "kept: binaries of at most 64 bytes are copied once (negative control)"),
      fun() ->
              Small = nc_big(64),
              KAddr = call(B, keep_put, [5, Small]),
              ?assertNotEqual(erl_addr(Small), KAddr),
              ?assertEqual(Small, call(B, keep_get_all, [5])),
              true = call(B, keep_release, [5])
      end},
     {nc_title(B, "shared: a C buffer returned many times without a copy"),
      fun() ->
              CAddr = call(B, shared_put, [6, ?BIG, 9]),
              Results = [call(B, keep_get_all, [6]) || _ <- lists:seq(1, 5)],
              ?assertEqual([CAddr || _ <- Results], [erl_addr(R) || R <- Results]),
              {Part, PAddr} = call(B, keep_get, [6, 100, 1000]),
              ?assertEqual({CAddr + 100, CAddr + 100}, {PAddr, erl_addr(Part)}),
              ?assertEqual(?BIG, binary:referenced_byte_size(Part)),
              true = call(B, keep_release, [6])
      end}] ++
    foreign(B).

kept(B) ->
    Holder = nc_holder(),
    %% The binary lives only in the holder; C keeps it.
    {A, KAddr} = nc_holder_run(Holder,
                               fun(_) ->
                                       Big = nc_big(?BIG),
                                       {Big, {erl_addr(Big), call(B, keep_put, [7, Big])}}
                               end),
    ?assertEqual(A, KAddr),
    ok = nc_holder_drop(Holder),
    nc_holder_stop(Holder),
    %% Only C's reference is left: the bytes are still there, at the same place.
    Bin = call(B, keep_get_all, [7]),
    ?assertEqual(nc_big(?BIG), Bin),
    ?assertEqual(KAddr, erl_addr(Bin)),
    {Part, PAddr} = call(B, keep_get, [7, 1000, 2000]),
    ?assertEqual({KAddr + 1000, KAddr + 1000}, {PAddr, erl_addr(Part)}),
    ?assertEqual(?BIG, binary:referenced_byte_size(Part)),
    true = call(B, keep_release, [7]).

%% Foreign memory: on the NIF a resource binary over C's memory, released once
%% when the last reference goes; on the driver (documented in nocopy.h) a copy,
%% with the release run before the call returns.
foreign(nif = B) ->
    [{nc_title(B, "foreign: the binary is C's memory, at every size"),
      fun() ->
              [begin
                   {Bin, CAddr} = call(B, foreign_new, [N, 4]),
                   ?assertEqual(CAddr, erl_addr(Bin))
               end || N <- [1, 64, 65, ?BIG]]
      end},
     {nc_title(B, "foreign: released exactly once, after the last reference"),
      fun() -> foreign_release(B) end}];
foreign(B) ->
    [{nc_title(B, "foreign: copied, released before the call returns (documented)"),
      fun() ->
              {Made0, Rel0, 0} = call(B, foreign_stats, []),
              {Bin, CAddr} = call(B, foreign_new, [?BIG, 4]),
              ?assertEqual(binary:copy(<<4>>, ?BIG), Bin),
              ?assertNotEqual(CAddr, erl_addr(Bin)),
              ?assertEqual({Made0 + 1, Rel0 + 1, 0}, call(B, foreign_stats, []))
      end}].

foreign_release(B) ->
    H1 = nc_holder(),
    H2 = nc_holder(),
    %% H1 holds the binary and hands a sub-binary of it to H2.
    {Sub, Id} = nc_holder_run(H1, fun(_) ->
                                          {Bin, _, Id0} = call(B, foreign_new_id, [?BIG, 6]),
                                          {Bin, {binary:part(Bin, 10, 1000), Id0}}
                                  end),
    ok = nc_holder_run(H2, fun(_) -> {Sub, ok} end),
    ?assertEqual(0, call(B, foreign_releases, [Id])),
    ok = nc_holder_drop(H1),
    erlang:garbage_collect(),                  % this process saw Sub too
    %% H2's sub-binary keeps the memory alive.
    ?assertEqual(0, call(B, foreign_releases, [Id])),
    ok = nc_holder_drop(H2),
    %% The release runs from the resource destructor: OTP schedules it as
    %% aux work right after the last reference goes.
    nc_await(1, fun() -> call(B, foreign_releases, [Id]) end),
    nc_holder_stop(H1),
    nc_holder_stop(H2),
    %% Many at once: every one released once, none twice, none early.
    Hs = nc_holder(),
    Ids = [nc_holder_run(Hs, fun(_) ->
                                     {Bin, _, I} = call(B, foreign_new_id, [1000 + N, 1]),
                                     {Bin, I}
                             end)
           || N <- lists:seq(1, 200)],
    ?assertEqual([0], lists:usort([call(B, foreign_releases, [I]) || I <- Ids])),
    ok = nc_holder_drop(Hs),
    nc_await([1], fun() -> lists:usort([call(B, foreign_releases, [I]) || I <- Ids]) end),
    nc_holder_stop(Hs),
    %% The global count agrees once every process has collected its garbage.
    nocopy_test_lib:gc_all(),
    nc_await(true, fun() -> {M, R, _} = call(B, foreign_stats, []), M =:= R end),
    ?assertEqual(0, element(3, call(B, foreign_stats, []))).

%% Results of at most 64 bytes become heap binaries (a copy); from 65 bytes on
%% the binary is the memory C wrote.
heap_limit_result_test_() ->
    ?NC_FOR_EACH_BACKEND(
       fun(B) ->
               [{nc_title(B, io_lib:format("~s of ~b bytes: ~s", [F, N, copied(N)])),
                 fun() ->
                         {Bin, CAddr} = call(B, F, [N, 5]),
                         ?assertEqual(N, byte_size(Bin)),
                         case N =< 64 of
                             true -> ?assertNotEqual(CAddr, erl_addr(Bin));
                             false -> ?assertEqual(CAddr, erl_addr(Bin))
                         end
                 end}
                || F <- [buf_new, build_buf], N <- [1, 63, 64, 65, 66, 1000]]
       end).

copied(N) when N =< 64 -> "copied";
copied(_) -> "by reference".

%% ---- Erlang's memory accounting agrees ----------------------------------------------

%% 32 references to one kept 4 MiB binary cost no new binary memory; 32
%% copies cost 128 MiB. Generous bounds: other tests' garbage is small.
memory_test_() ->
    ?NC_FOR_EACH_BACKEND(
       fun(B) ->
               [{nc_title(B, "memory: kept results share one binary, copies do not"),
                 {timeout, 60, fun() -> memory(B) end}}]
       end).

memory(B) ->
    Size = 4 bsl 20,
    N = 32,
    _ = call(B, shared_put, [0, Size, 1]),
    erlang:garbage_collect(),
    M0 = erlang:memory(binary),
    Shared = [call(B, keep_get_all, [0]) || _ <- lists:seq(1, N)],
    M1 = erlang:memory(binary),
    ?assert(M1 - M0 < Size),
    Big = call(B, keep_get_all, [0]),
    Copies = [element(1, call(B, copy_slice, [Big, 0, Size])) || _ <- lists:seq(1, N)],
    M2 = erlang:memory(binary),
    ?assert(M2 - M1 >= (N - 1) * Size),
    ?assertEqual({N, N}, {length(Shared), length(Copies)}),    % both lists live until here
    true = call(B, keep_release, [0]).
