%% Tests of what only the isolated backend has (nocopy_iso): its API, zero
%% copy through the shared regions proven by address both ways, the one copy
%% of an ordinary input, and release accounting. Results, arguments and
%% errors of every kind are checked on all three backends by the shared
%% suites (nocopy_results_tests, nocopy_args_tests, nocopy_errors_tests);
%% faults are in nocopy_iso_faults_tests.
%%
%% Addresses: nocopy_iso:info/1 gives each region's base in this VM and, as
%% the child reported it, in the child. A binary in a region is at the same
%% offset from the base on both sides: that is the proof that the bytes C
%% read (or wrote) are the bytes Erlang holds. Each proof has a negative
%% control that copies, whose addresses do not line up, so it can fail.
-module(nocopy_iso_tests).

-include_lib("eunit/include/eunit.hrl").

-define(SIZE, 100000).

start() ->
    {ok, Iso} = nocopy_test_iso:start([{region_bytes, 1 bsl 26}]),
    Iso.

iso_test_() ->
    {foreach, fun start/0, fun nocopy_test_iso:stop/1,
     [fun(Iso) -> {Name, fun() -> F(Iso) end} end
      || {Name, F} <- [{"arena input: the child reads the region's bytes", fun arena_input/1},
                       {"ordinary input: copied once", fun ordinary_input/1},
                       {"result buffer: Erlang holds the region's bytes", fun result_buffer/1},
                       {"slice of an arena input: no copy", fun arena_slice/1},
                       {"a result passed back in: no copy", fun pipeline/1},
                       {"small pieces and many pieces", fun many_pieces/1},
                       {"requests around the 2 KiB mark (inline bytes, pieces)", fun stack_buffer_edge/1},
                       {"iodata: sent as its bytes, pieces where they lie", fun iodata/1},
                       {"keeps of arena inputs", fun keeps/1},
                       {"accounting: back to empty", fun accounting/1},
                       {"bad arguments of nocopy_iso", fun bad_api/1},
                       {"a stopped isolate", fun stopped/1}]]}.

%% A fresh refc binary of Size bytes with varied content.
big(Size) ->
    Pattern = <<"0123456789abcdefghijklmnopqrstuvwxyz">>,
    list_to_binary([binary:copy(Pattern, Size div 36), binary:part(Pattern, 0, Size rem 36)]).

%% The child's bases arrive in its first message (HELLO), soon after start:
%% polled for, to a deadline.
info(Iso, Key) when Key =:= child_input_base; Key =:= child_output_base ->
    nocopy_test_lib:wait_until(fun() -> maps:is_key(Key, nocopy_iso:info(Iso)) end, 10000),
    maps:get(Key, nocopy_iso:info(Iso));
info(Iso, Key) ->
    maps:get(Key, nocopy_iso:info(Iso)).

%% The offset of a binary in the VM's input region, or `outside'.
vm_offset(Iso, Base, Bin) ->
    A = nocopy_iso:address(Bin),
    case A >= Base andalso A < Base + info(Iso, region_bytes) of
        true -> A - Base;
        false -> outside
    end.

arena_input(Iso) ->
    Big = big(?SIZE),
    A = nocopy_iso:binary(Iso, Big),
    ?assertEqual(Big, A),
    VB = info(Iso, input_base),
    CB = info(Iso, child_input_base),
    Off = vm_offset(Iso, VB, A),
    ?assertNotEqual(outside, Off),
    Copied0 = info(Iso, copied_bytes),
    %% The address C sees is the child's base plus the same offset.
    ?assertEqual(CB + Off, nocopy_test_iso:address_of(Iso, A)),
    ?assertEqual(CB + Off, nocopy_test_iso:address_of(Iso, A)),
    %% And within a tuple.
    ?assertEqual(CB + Off, nocopy_test_iso:address_of_elem(Iso, {x, A})),
    ?assertEqual(Copied0, info(Iso, copied_bytes)),
    %% Negative control: the same bytes, not in the region, reach C somewhere
    %% else (a copy), so the comparison above can fail.
    Seen = nocopy_test_iso:address_of(Iso, Big),
    ?assertEqual(outside, vm_offset(Iso, VB, Big)),
    ?assertNotEqual(CB + Off, Seen).

ordinary_input(Iso) ->
    Big = big(?SIZE),
    C0 = info(Iso, copied_bytes),
    I0 = info(Iso, inline_bytes),
    _ = nocopy_test_iso:address_of(Iso, Big),
    %% Exactly the binary's bytes were copied into the region; the small
    %% header travelled inline.
    ?assertEqual(C0 + ?SIZE, info(Iso, copied_bytes)),
    ?assert(info(Iso, inline_bytes) - I0 < 100),
    %% An arena binary: nothing copied.
    A = nocopy_iso:binary(Iso, Big),
    C1 = info(Iso, copied_bytes),
    _ = nocopy_test_iso:address_of(Iso, A),
    ?assertEqual(C1, info(Iso, copied_bytes)).

result_buffer(Iso) ->
    VO = info(Iso, output_base),
    CO = info(Iso, child_output_base),
    {Bin, CAddr} = nocopy_test_iso:buf_new(Iso, ?SIZE, 7),
    ?assertEqual(binary:copy(<<7>>, ?SIZE), Bin),
    %% Erlang's binary is the block C wrote, at the same offset.
    ?assertEqual(CAddr - CO, nocopy_iso:address(Bin) - VO),
    ?assert(CAddr >= CO andalso CAddr < CO + info(Iso, region_bytes)),
    %% Negative control: a copy of C's bytes is not where C wrote them.
    {Copy, CAddr2} = nocopy_test_iso:copy_new(Iso, ?SIZE, 7),
    ?assertEqual(Bin, Copy),
    ?assertNotEqual(CAddr2 - CO, nocopy_iso:address(Copy) - VO).

arena_slice(Iso) ->
    A = nocopy_iso:binary(Iso, big(?SIZE)),
    VB = info(Iso, input_base),
    CB = info(Iso, child_input_base),
    Off = vm_offset(Iso, VB, A),
    {S, CAddr} = nocopy_test_iso:slice(Iso, A, 100, 1000),
    ?assertEqual(binary:part(A, 100, 1000), S),
    ?assertEqual(CB + Off + 100, CAddr),
    ?assertEqual(Off + 100, vm_offset(Iso, VB, S)),
    %% Negative control: copy_slice copies, so its result is elsewhere.
    {S2, _} = nocopy_test_iso:copy_slice(Iso, A, 100, 1000),
    ?assertEqual(S, S2),
    ?assertNotEqual(Off + 100, vm_offset(Iso, VB, S2)),
    %% A slice of an ordinary input (copied for the call) is right too.
    Big = big(?SIZE),
    {S3, _} = nocopy_test_iso:slice(Iso, Big, 5000, 20000),
    ?assertEqual(binary:part(Big, 5000, 20000), S3).

%% A result (an output-region block) given to the next call: C reads the
%% block it wrote, nothing is copied, and a slice of it is the same block.
pipeline(Iso) ->
    VO = info(Iso, output_base),
    CO = info(Iso, child_output_base),
    {Bin, CAddr} = nocopy_test_iso:buf_new(Iso, ?SIZE, 9),
    C0 = info(Iso, copied_bytes),
    ?assertEqual(CAddr, nocopy_test_iso:address_of(Iso, Bin)),
    {S, SAddr} = nocopy_test_iso:slice(Iso, Bin, 10, 5000),
    ?assertEqual(CAddr + 10, SAddr),
    ?assertEqual(nocopy_iso:address(Bin) + 10, nocopy_iso:address(S)),
    ?assertEqual(SAddr - CO, nocopy_iso:address(S) - VO),
    ?assertEqual(C0, info(Iso, copied_bytes)),
    %% Kept by C, then returned from the keep: still the same block.
    ?assertEqual(CAddr, nocopy_test_iso:keep_put(Iso, 2, Bin)),
    {K, _} = nocopy_test_iso:keep_get(Iso, 2, 0, 1000),
    ?assertEqual(nocopy_iso:address(Bin), nocopy_iso:address(K)),
    ?assert(nocopy_test_iso:keep_release(Iso, 2)),
    %% Negative control: a copy of the result is an ordinary binary.
    Copy = binary:copy(Bin),
    ?assertNotEqual(CAddr, nocopy_test_iso:address_of(Iso, Copy)),
    ?assertEqual(C0 + ?SIZE, info(Iso, copied_bytes)).

many_pieces(Iso) ->
    %% More small pieces than fit inline, and more than a call's table of
    %% segments: gathered into one block.
    L = lists:seq(1, 100000),
    ?assertEqual(lists:sum(L), nocopy_test_iso:sum_list(Iso, L)),
    Bins = [big(2000) || _ <- lists:seq(1, 1500)],
    ?assertEqual(iolist_to_binary(Bins), nocopy_test_iso:iovec_flat(Iso, Bins)).

%% Requests of 1 to 40 pieces and 1800 to 2300 inline bytes arrive whole,
%% and so do runs of bytes given as integers (their own buffer): the sizes
%% around 2048 bytes of CALL (header, one segment per piece, the inline
%% bytes), where a small request's CALL was once built on the NIF's stack
%% (reverted: docs/design.md, "Where the 5 us went").
stack_buffer_edge(Iso) ->
    C0 = info(Iso, copied_bytes),
    Ls = [L || NP <- [1, 2, 3, 16, 17, 40], Total <- lists:seq(1800, 2300, 23),
               L <- [[big(Total div NP + Total rem NP) | [big(Total div NP) || _ <- lists:seq(2, NP)]],
                     [big(Total div NP) | lists:duplicate(NP, 7)]]],
    [?assertEqual(iolist_to_binary(L), nocopy_test_iso:iovec_flat(Iso, L)) || L <- Ls],
    %% Pieces over 1024 bytes were copied into blocks, the others inline.
    Copied = lists:sum([byte_size(B) || L <- Ls, B <- L, is_binary(B), byte_size(B) > 1024]),
    ?assert(Copied > 0),
    ?assertEqual(C0 + Copied, info(Iso, copied_bytes)).

%% An iodata argument travels as its bytes (wire node "v", as to the driver):
%% C reads it as a vector whose arena piece is the region's bytes, or as a
%% list of its pieces, each a binary whose slice is the arena binary itself.
iodata(Iso) ->
    Big = big(?SIZE),
    A = nocopy_iso:binary(Iso, Big),
    CB = info(Iso, child_input_base),
    VB = info(Iso, input_base),
    Off = vm_offset(Iso, VB, A),
    L = [A, [1, 2], <<"xyz">> | <<"!">>],
    Bytes = iolist_to_binary(L),
    C0 = info(Iso, copied_bytes),
    {Total, _, [{Addr, ?SIZE} | _]} = nocopy_test_iso:iovec_info(Iso, L),
    ?assertEqual(byte_size(Bytes), Total),
    ?assertEqual(CB + Off, Addr),
    ?assertEqual(Bytes, nocopy_test_iso:iovec_flat(Iso, L)),
    %% Read as a list: a proper list of the pieces, all binaries (a term
    %% would show the nested list).
    {list, Types, Flat, First} = nocopy_test_iso:iodata_walk(Iso, L),
    ?assertEqual(lists:duplicate(length(Types), binary), Types),
    ?assertEqual(Bytes, Flat),
    ?assertEqual(A, First),
    ?assertEqual(nocopy_iso:address(A), nocopy_iso:address(First)),
    %% The arena piece was never copied; the small ones travelled inline.
    ?assertEqual(C0, info(Iso, copied_bytes)),
    %% Negative control: the same bytes outside the region reach C elsewhere.
    {_, _, [{Seen, ?SIZE} | _]} = nocopy_test_iso:iovec_info(Iso, [Big]),
    ?assertNotEqual(CB + Off, Seen),
    %% Not an I/O list: sent and read as the term it is.
    ?assertEqual({list, [atom, binary], <<"y">>, <<"y">>},
                 nocopy_test_iso:iodata_walk(Iso, [x, <<"y">>])).

keeps(Iso) ->
    A = nocopy_iso:binary(Iso, big(?SIZE)),
    CB = info(Iso, child_input_base),
    Off = vm_offset(Iso, info(Iso, input_base), A),
    %% C keeps the arena binary: a keep announced to the VM, no copy.
    ?assertEqual(CB + Off, nocopy_test_iso:keep_put(Iso, 0, A)),
    ?assertEqual(1, info(Iso, child_keeps)),
    {K, _} = nocopy_test_iso:keep_get(Iso, 0, 10, 500),
    ?assertEqual(binary:part(A, 10, 500), K),
    ?assertEqual(Off + 10, vm_offset(Iso, info(Iso, input_base), K)),
    ?assert(nocopy_test_iso:keep_release(Iso, 0)),
    %% keep_get's own keep of its result's block is given back after its
    %% reply, by the child thread that ran it: that RELEASE_IN may reach the
    %% VM after keep_release's reply, which another thread sent.
    ?assert(nocopy_test_lib:wait_until(fun() -> info(Iso, child_keeps) =:= 0 end, 10000)).

%% Every block and handover made in a process is given back once the
%% process is gone and Erlang has collected its binaries.
accounting(Iso) ->
    Blocks0 = info(Iso, input_blocks),
    ?assertEqual(0, Blocks0),
    Out0 = info(Iso, output_resident),
    {Pid, Ref} = spawn_monitor(fun() ->
                                   A = nocopy_iso:binary(Iso, big(?SIZE)),
                                   _ = nocopy_test_iso:slice(Iso, A, 1, 5000),
                                   _ = nocopy_test_iso:buf_new(Iso, ?SIZE, 1),
                                   _ = nocopy_test_iso:keep_put(Iso, 1, A),
                                   true = nocopy_test_iso:keep_release(Iso, 1),
                                   _ = nocopy_test_iso:address_of(Iso, big(?SIZE)),
                                   exit(done)
                               end),
    receive {'DOWN', Ref, process, Pid, done} -> ok end,
    Empty = #{input_blocks => 0, input_bytes => 0, output_handovers => 0, child_keeps => 0,
              calls_in_flight => 0},
    nocopy_test_lib:wait_until(fun() -> maps:with(maps:keys(Empty), nocopy_iso:info(Iso)) =:= Empty end,
                               10000),
    ?assertEqual(Empty, maps:with(maps:keys(Empty), nocopy_iso:info(Iso))),
    %% The child freed the 100000-byte result block once Erlang dropped it:
    %% its pages left the output region (the child's allocator gives back
    %% the pages of freed blocks of 64 KiB or more).
    nocopy_test_lib:wait_until(fun() -> info(Iso, output_resident) - Out0 < ?SIZE end, 10000),
    ?assert(info(Iso, output_resident) - Out0 < ?SIZE).

bad_api(Iso) ->
    ?assertError(badarg, nocopy_iso:binary(Iso, foo)),
    ?assertError(badarg, nocopy_iso:binary(foo, <<"x">>)),
    ?assertError(badarg, nocopy_iso:info(foo)),
    ?assertEqual({error, {bad_option, {threads, 0}}}, nocopy_test_iso:start([{threads, 0}])),
    ?assertEqual({error, {bad_option, {region_bytes, 100}}},
                 nocopy_test_iso:start([{region_bytes, 100}])),
    %% The isolate argument of a stub.
    assert_cause(fun() -> nocopy_test_iso:echo_i64(foo, 1) end, {1, <<"expected an isolate">>}),
    {ok, Sums} = sums_iso:start([{region_bytes, 1 bsl 20}]),
    try
        assert_cause(fun() -> sums_iso:middle(Iso, <<"abc">>, 0, 1) end,
                     {1, <<"the isolate runs nocopy_test_iso, not sums_iso">>}),
        ?assertEqual(<<"b">>, sums_iso:middle(Sums, <<"abc">>, 1, 1))
    after
        sums_iso:stop(Sums)
    end.

stopped(Iso) ->
    ok = nocopy_test_iso:stop(Iso),
    ok = nocopy_test_iso:stop(Iso),
    assert_error(fun() -> nocopy_test_iso:echo_i64(Iso, 1) end, eclosed),
    ?assertEqual(true, info(Iso, stopped)).

assert_cause(Fun, Cause) ->
    nocopy_test_lib:assert_cause(Fun, Cause).

assert_error(Fun, Reason) ->
    try Fun() of
        V -> erlang:error({expected, Reason, V})
    catch
        error:Reason -> ok
    end.
