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
%%
%% The isolated backend runs C in another process, at other addresses: there
%% the proofs are by offset. C's address is mapped into this VM (c_addr/2:
%% the child's region base, as the child reported it, replaced by the VM's
%% base of the same region, nocopy_iso:info/1), and must be the address of
%% the Erlang binary. Its zero-copy inputs are binaries in the isolate's input
%% region (input/2 places them there with nocopy_iso:binary/2; any other
%% binary is copied once, which nocopy_iso_tests counts); its results are
%% blocks of the output region. Where the isolate differs (a binary placed in
%% the region is by reference at every size; Erlang's binary memory does not
%% count the regions; foreign memory) the tests say so.
-module(nocopy_zero_copy_tests).

-include("nocopy_test_util.hrl").

-define(BIG, (1 bsl 20)).

%% The address of an Erlang binary's data, by the NIF probe.
erl_addr(Bin) -> nocopy_test:address_of(Bin).

%% An address C reported, as an address in this VM: itself on the NIF and the
%% driver; on the isolate, the same offset in the VM's mapping of the region
%% it is in, or a negative number (equal to no address here) if in neither.
c_addr({iso, Iso}, A) ->
    Info = wait_info(Iso),
    #{region_bytes := R} = Info,
    case [VBase + (A - CBase)
          || {VK, CK} <- [{input_base, child_input_base}, {output_base, child_output_base}],
             #{VK := VBase, CK := CBase} <- [Info],
             A >= CBase, A < CBase + R] of
        [V] -> V;
        [] -> -1 - A
    end;
c_addr(_, A) ->
    A.

%% The isolate's info once the child has reported its bases (its first
%% message, soon after a start or restart).
wait_info(Iso) ->
    nocopy_test_lib:wait_until(
      fun() -> maps:is_key(child_output_base, nocopy_iso:info(Iso)) end, 10000),
    nocopy_iso:info(Iso).

%% C's address of the call's result (an address, or {Bin, Addr}), mapped.
ccall(B, F, Args) ->
    case call(B, F, Args) of
        {Bin, A} when is_binary(Bin) -> {Bin, c_addr(B, A)};
        A when is_integer(A) -> c_addr(B, A);
        L when is_list(L) -> [c_addr(B, A) || A <- L]
    end.

%% A refc binary of Size bytes to pass by reference: on the isolate, placed
%% in its input region.
input({iso, Iso}, Size) -> nocopy_iso:binary(Iso, nc_big(Size));
input(_, Size) -> nc_big(Size).

%% ---- Erlang -> C ---------------------------------------------------------------------

input_test_() ->
    ?NC_FOR_ALL_THREE(fun(B) -> inputs(B) end).

inputs(B) ->
    [{nc_title(B, "input: C sees the binary's own bytes, on every call, after GC"),
      fun() ->
              Big = input(B, ?BIG),
              A = erl_addr(Big),
              ?assertEqual(A, ccall(B, address_of, [Big])),
              ?assertEqual(A, ccall(B, address_of, [Big])),
              erlang:garbage_collect(),
              ?assertEqual(A, ccall(B, address_of, [Big])),
              %% Negative control: a copy of the same bytes is somewhere else.
              Copy = binary:copy(Big),
              ?assertEqual(Big, Copy),
              ?assertNotEqual(A, ccall(B, address_of, [Copy]))
      end},
     {nc_title(B, "input: the same binary seen from another process"),
      fun() ->
              Big = input(B, ?BIG),
              A = call(B, address_of, [Big]),
              Self = self(),
              {Pid, Ref} = spawn_monitor(fun() -> Self ! {self(), call(B, address_of, [Big])} end),
              receive {Pid, Other} -> ?assertEqual(A, Other) end,
              receive {'DOWN', Ref, process, Pid, _} -> ok end
      end},
     {nc_title(B, "input: sub-binaries are viewed at their offset"),
      fun() ->
              Big = input(B, ?BIG),
              A = erl_addr(Big),
              [begin
                   ?assertEqual(A + Off, ccall(B, address_of, [binary:part(Big, Off, Len)])),
                   <<_:Off/binary, Sub:Len/binary, _/binary>> = Big,
                   ?assertEqual(A + Off, ccall(B, address_of, [Sub]))
               end || {Off, Len} <- [{1, 1000}, {3, 65}, {100, 256}, {?BIG - 65, 65},
                                     {?BIG - 1000, 1000}, {12345, 500000}]]
      end},
     {nc_title(B, "input: a sub-binary at a bit offset is copied (negative control)"),
      fun() ->
              Big = input(B, ?BIG),
              A = erl_addr(Big),
              <<_:3, Sub:100000/binary, _/bitstring>> = Big,
              Seen = ccall(B, address_of, [Sub]),
              ?assert(Seen < A orelse Seen >= A + ?BIG)
      end},
     {nc_title(B, "input: tuple and list elements are viewed in place"),
      fun() ->
              Big = input(B, ?BIG),
              A = erl_addr(Big),
              ?assertEqual(A, ccall(B, address_of_elem, [{x, Big}])),
              ?assertEqual([A, A + 500, A], ccall(B, list_addresses, [[Big, binary:part(Big, 500, 1000), Big]]))
      end},
     {nc_title(B, "input: iodata pieces point into the binaries (no flattening)"),
      fun() ->
              Big = input(B, ?BIG),
              Other = input(B, 300),
              A = erl_addr(Big),
              O = erl_addr(Other),
              Iov = fun(Data) ->
                            {Size, N, Pieces} = call(B, iovec_info, [Data]),
                            {Size, N, [{c_addr(B, P), L} || {P, L} <- Pieces]}
                    end,
              ?assertEqual({?BIG, 1, [{A, ?BIG}]}, Iov(Big)),
              ?assertEqual({?BIG, 1, [{A, ?BIG}]}, Iov([Big])),
              ?assertEqual({?BIG + 1000 + 300, 3, [{A, ?BIG}, {A + 7, 1000}, {O, 300}]},
                           Iov([Big, [binary:part(Big, 7, 1000)] | Other])),
              %% Negative control: flattened iodata is a new binary elsewhere.
              Flat = iolist_to_binary([Big, Other]),
              {_, 1, [{F, _}]} = Iov(Flat),
              ?assertNotEqual(A, F),
              %% Integer bytes are gathered into a scratch piece, not in Big.
              {_, 3, [{A, ?BIG}, {G, 3}, {O, 300}]} = Iov([Big, [1, 2, 3], Other]),
              ?assert(G < A orelse G >= A + ?BIG)
      end},
     {nc_title(B, "input: an appendable binary has a stable address once inspected"),
      fun() ->
              App = lists:foldl(fun(I, Acc) -> <<Acc/binary, I:32>> end, <<>>,
                                lists:seq(1, 100000)),
              In = case B of
                       {iso, Iso} -> nocopy_iso:binary(Iso, App);  % a copy in the region
                       _ -> App
                   end,
              _ = call(B, address_of, [In]),
              A = ccall(B, address_of, [In]),
              ?assertEqual(A, erl_addr(In)),
              erlang:garbage_collect(),
              ?assertEqual(A, ccall(B, address_of, [In]))
      end}].

%% The runtime keeps binaries of at most 64 bytes on the process heap: a GC
%% moves them, so their address is only valid during a call; from 65 bytes on
%% they are refc binaries whose address never changes. A binary placed in an
%% isolate's region is a resource binary at every size: in place, even of 1
%% byte; the same bytes as a heap binary reach the child copied.
heap_limit_input_test_() ->
    ?NC_FOR_ALL_THREE(
       fun({iso, Iso} = B) ->
               [{nc_title(B, io_lib:format("input of ~b bytes in the region: in place", [N])),
                 fun() ->
                         Bin = nocopy_iso:binary(Iso, nc_big(N)),
                         A1 = ccall(B, address_of, [Bin]),
                         erlang:garbage_collect(),
                         ?assertEqual({A1, A1}, {ccall(B, address_of, [Bin]), erl_addr(Bin)}),
                         %% Negative control: the same bytes outside the region.
                         ?assertNotEqual(A1, ccall(B, address_of, [nc_big(N)]))
                 end}
                || N <- [1, 63, 64, 65, 66, 300]];
          (B) ->
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
    ?NC_FOR_ALL_THREE(fun(B) -> results(B) end).

%% Erlang's own view of a slice: a sub-binary of the whole parent (the NIF,
%% the driver), or on the isolate a binary over the region's block, whose
%% referenced size this VM does not report as the parent's. There the
%% address proofs stand alone.
assert_refers_to_all(Size, Bin, B) ->
    case B of
        {iso, _} -> ok;
        _ -> ?assertEqual(Size, binary:referenced_byte_size(Bin))
    end.

results(B) ->
    [{nc_title(B, "buffer: the binary is the memory C wrote (buf_new)"),
      fun() ->
              {Bin, CAddr} = ccall(B, buf_new, [?BIG, 1]),
              ?assertEqual(CAddr, erl_addr(Bin)),
              %% Negative control: the same bytes returned as a copy.
              {Copy, Src} = ccall(B, copy_new, [?BIG, 1]),
              ?assertEqual(Bin, Copy),
              ?assertNotEqual(Src, erl_addr(Copy))
      end},
     {nc_title(B, "buffer: through the format builder (build_buf)"),
      fun() ->
              {Bin, CAddr} = ccall(B, build_buf, [?BIG, 2]),
              ?assertEqual(CAddr, erl_addr(Bin))
      end},
     {nc_title(B, "buffer: after nocopy_buf_resize"),
      fun() ->
              [begin
                   {Bin, CAddr} = ccall(B, buf_resize, [S1, S2, 3]),
                   ?assertEqual(S2, byte_size(Bin)),
                   ?assertEqual(CAddr, erl_addr(Bin))
               end || {S1, S2} <- [{1000, ?BIG}, {?BIG, 1000}, {100, 65}, {10, 100000}]]
      end},
     {nc_title(B, "slice: a sub-binary of the input, no copy"),
      fun() ->
              Big = input(B, ?BIG),
              A = erl_addr(Big),
              [begin
                   {S, CAddr} = ccall(B, slice, [Big, Off, Len]),
                   ?assertEqual(A + Off, CAddr),
                   ?assertEqual(CAddr, erl_addr(S)),
                   %% Erlang's own view: the slice still refers to all of Big.
                   assert_refers_to_all(?BIG, S, B)
               end || {Off, Len} <- [{0, 65}, {1, 1000}, {500, 500000}, {?BIG - 65, 65}]],
              %% The whole input comes back as itself.
              {Whole, _} = call(B, slice, [Big, 0, ?BIG]),
              ?assertEqual(A, erl_addr(Whole)),
              %% Negative control: the same bytes copied.
              {C, Src} = ccall(B, copy_slice, [Big, 500, 500000]),
              ?assertEqual(A + 500, Src),
              ?assertNotEqual(Src, erl_addr(C)),
              assert_refers_to_all(500000, C, B)
      end},
     {nc_title(B, "slice: of a tuple element, and through the format builder"),
      fun() ->
              Big = input(B, ?BIG),
              A = erl_addr(Big),
              {S1, C1} = ccall(B, slice_elem, [{x, Big}, 10, 1000]),
              ?assertEqual({A + 10, A + 10}, {C1, erl_addr(S1)}),
              {S2, C2} = ccall(B, build_slice, [Big, 20, 1000]),
              ?assertEqual({A + 20, A + 20}, {C2, erl_addr(S2)})
      end},
     {nc_title(B, "kept: an input kept by C comes back without a copy"),
      fun() -> kept(B) end},
     {nc_title(B, "kept: binaries of at most 64 bytes are copied once (negative control)"),
      fun() ->
              Small = nc_big(64),
              KAddr = ccall(B, keep_put, [5, Small]),
              ?assertNotEqual(erl_addr(Small), KAddr),
              ?assertEqual(Small, call(B, keep_get_all, [5])),
              true = call(B, keep_release, [5])
      end},
     {nc_title(B, "shared: a C buffer returned many times without a copy"),
      fun() ->
              CAddr = ccall(B, shared_put, [6, ?BIG, 9]),
              Results = [call(B, keep_get_all, [6]) || _ <- lists:seq(1, 5)],
              ?assertEqual([CAddr || _ <- Results], [erl_addr(R) || R <- Results]),
              {Part, PAddr} = ccall(B, keep_get, [6, 100, 1000]),
              ?assertEqual({CAddr + 100, CAddr + 100}, {PAddr, erl_addr(Part)}),
              assert_refers_to_all(?BIG, Part, B),
              true = call(B, keep_release, [6])
      end}] ++
    foreign(B).

kept(B) ->
    Holder = nc_holder(),
    %% The binary lives only in the holder; C keeps it.
    {A, KAddr} = nc_holder_run(Holder,
                               fun(_) ->
                                       Big = input(B, ?BIG),
                                       {Big, {erl_addr(Big), ccall(B, keep_put, [7, Big])}}
                               end),
    ?assertEqual(A, KAddr),
    ok = nc_holder_drop(Holder),
    nc_holder_stop(Holder),
    %% Only C's reference is left: the bytes are still there, at the same place.
    Bin = call(B, keep_get_all, [7]),
    ?assertEqual(nc_big(?BIG), Bin),
    ?assertEqual(KAddr, erl_addr(Bin)),
    {Part, PAddr} = ccall(B, keep_get, [7, 1000, 2000]),
    ?assertEqual({KAddr + 1000, KAddr + 1000}, {PAddr, erl_addr(Part)}),
    assert_refers_to_all(?BIG, Part, B),
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
              {Bin, CAddr} = ccall(B, foreign_new, [?BIG, 4]),
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

%% Results of at most 64 bytes become heap binaries (a copy; on the isolate
%% they travel inside the REPLY); from 65 bytes on the binary is the memory C
%% wrote.
heap_limit_result_test_() ->
    ?NC_FOR_ALL_THREE(
       fun(B) ->
               [{nc_title(B, io_lib:format("~s of ~b bytes: ~s", [F, N, copied(N)])),
                 fun() ->
                         {Bin, CAddr} = ccall(B, F, [N, 5]),
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
%% copies cost 128 MiB. Generous bounds: other tests' garbage is small. Not on
%% the isolate: its results, copies too, are blocks of the output region,
%% which erlang:memory(binary) does not count (nocopy_iso:info/1 does:
%% nocopy_iso_tests, "accounting").
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
