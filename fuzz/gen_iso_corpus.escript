#!/usr/bin/env escript
%%! -pa ebin
%% gen_iso_corpus.escript: writes the seed corpora of the isolated backend's
%% fuzz targets. fuzz_iso_call (the child reading a CALL),
%% fuzz/corpus/iso_call/: requests
%% made by nocopy_wire:request/5 (the real encoder, as the NAME_iso stubs
%% call it) for the harness's functions read0..read6 (function index = arity,
%% fingerprint 0), each laid out in several shapes (the input's first byte:
%% see fuzz/fuzz_iso_call.c), plus raw CALL bodies, well-formed and not.
%% fuzz_iso_reply (the VM decoding a REPLY), fuzz/corpus/iso_reply/: replies
%% of every term tag and outcome as the child encodes them
%% (c_src/iso_shared/nc_iso_msg.h), well-formed and not (fuzz/fuzz_iso_reply.c
%% says how an input is split between the message and the output region).
%% Deterministic. Usage (from the top directory, after make):
%%     escript fuzz/gen_iso_corpus.escript fuzz/corpus/iso_call fuzz/corpus/iso_reply
-mode(compile).

main([Dir, ReplyDir]) ->
    calls(Dir),
    replies(ReplyDir).

calls(Dir) ->
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    Port = list_to_port("#Port<0.0>"),
    Big = binary:copy(<<"0123456789abcdef">>, 20),
    Args = [{"none", []},
            {"int", [42]},
            {"binaries", [<<>>, <<"small">>, Big, binary:part(Big, 3, 200)]},
            {"numbers", [-1, 1 bsl 62, 1.5, ok]},
            {"tuple", [{a, Big, 7}]},
            {"list", [[1, 2, 3]]},
            {"iolist", [[<<"ab">>, [$c, <<"de">>], Big | <<"end">>]]},
            {"nested", [[{x, [Big]}, {y, <<"z">>}]]},
            {"handle", [{'$nocopy_handle', Port, (1 bsl 40) bor 5}]},
            {"six", [1, Big, {Big}, [Big], 2.0, true]}],
    Reqs = [{Name, iolist_to_binary(nocopy_wire:request(Port, 0, 17, length(A), A))}
            || {Name, A} <- Args],
    %% Shapes: the cut length (low nibble) and the first piece's place (high
    %% bits: inline, input block, output block).
    Shapes = [16#00, 16#0F, 16#13, 16#25, 16#01],
    [write(Dir, io_lib:format("~s_shape~2.16.0b", [Name, S]), <<S, Req/binary>>)
     || {Name, Req} <- Reqs, S <- Shapes],
    %% Raw bodies: the request inline as one segment; then broken ones.
    [write(Dir, "raw_" ++ Name, <<16#80, (raw_inline(Req))/binary>>) || {Name, Req} <- Reqs],
    {_, Req} = lists:keyfind("binaries", 1, Reqs),
    N = byte_size(Req),
    Bad = [{"segs_too_many", <<1001:32/native, 0:32/native>>},
           {"seg_past_inline", <<1:32/native, N:32/native, (seg(0, 0, 1, N))/binary, Req/binary>>},
           {"seg_input_past_region", <<1:32/native, 0:32/native,
                                       (seg(1, 0, 1 bsl 20, 16))/binary>>},
           {"seg_input_block_after", <<1:32/native, 0:32/native, (seg(1, 128, 64, 8))/binary>>},
           {"seg_output_unheld", <<1:32/native, 0:32/native, (seg(2, 0, 4096, 8))/binary>>},
           {"seg_kind_bad", <<1:32/native, N:32/native, (seg(7, 0, 0, N))/binary, Req/binary>>},
           {"short_body", <<1:32/native>>},
           {"inline_short", <<0:32/native, 100:32/native, 1, 2, 3>>}],
    [write(Dir, "bad_" ++ Name, <<16#80, Body/binary>>) || {Name, Body} <- Bad],
    ok.

raw_inline(Req) ->
    N = byte_size(Req),
    <<1:32/native, N:32/native, (seg(0, 0, 0, N))/binary, Req/binary>>.

seg(Where, Block, Off, Len) ->
    <<Where:32/native, 0:32, Block:64/native, Off:64/native, Len:64/native>>.

write(Dir, Name, Bytes) ->
    ok = file:write_file(filename:join(Dir, lists:flatten(Name)), Bytes).

%% ---- replies -------------------------------------------------------------------

replies(Dir) ->
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    Hello = <<"hello, region">>,
    Region = <<Hello/binary, 0:(64 - byte_size(Hello))/unit:8>>,
    Spilled = <<0, (t_tuple([t_int(1), t_bin(<<"spilled">>), t_atom(2)]))/binary>>,
    Ok = [{"int", t_int(-42)},
          {"uint", <<$u, (1 bsl 64 - 1):64/native>>},
          {"float", <<$f, 1.5:64/float-native>>},
          {"atoms", t_list([t_atom(A) || A <- [-1, -2, -3, -4, -5, 0, 1, 2]])},
          {"tuple", t_tuple([t_int(1), t_tuple([]), t_list([])])},
          {"bin_inline", t_bin(<<"small binary">>)},
          {"bin_output", t_ref(1, 0, 0, byte_size(Hello))},
          {"bin_output_twice", t_list([t_ref(1, 0, 0, 5), t_ref(1, 0, 7, 6)])},
          {"bin_input", t_ref(0, 0, 8, 100)},
          {"handle", <<$h, ((1 bsl 40) bor 5):64/native>>},
          {"deep", deep(200)}],
    [write(Dir, "ok_" ++ Name, reply(<<0, T/binary>>, Region)) || {Name, T} <- Ok],
    write(Dir, "error", reply(<<1, 2:32/native, 1:32/native, 5:16/native, "oops!">>, <<>>)),
    write(Dir, "error_general", reply(<<1, 0:32/native, 0:32/native, 0:16/native>>, <<>>)),
    write(Dir, "spilled", reply(<<2, 64:64/native, (byte_size(Spilled)):64/native>>,
                                <<Region/binary, Spilled/binary>>)),
    Bad = [{"empty", <<>>},
           {"outcome_unknown", <<9>>},
           {"float_nan", <<0, $f, 16#7ff8000000000000:64/native>>},
           {"atom_out_of_table", <<0, $a, 3:32/native>>},
           {"atom_builtin_unknown", <<0, $a, -6:32/signed-native>>},
           {"count_too_big", <<0, $T, 16#ffffffff:32/native>>},
           {"bin_cut", <<0, $b, 10:32/native, "abc">>},
           {"ref_past_region", <<0, (t_ref(1, 1 bsl 20 - 8, 0, 64))/binary>>},
           {"ref_input_not_lent", <<0, (t_ref(0, 4096, 0, 8))/binary>>},
           {"ref_region_bad", <<0, (t_ref(2, 0, 0, 8))/binary>>},
           {"trailing", <<0, (t_int(1))/binary, 0>>},
           {"error_reason_bad", <<1, 999:32/native, 0:32/native, 0:16/native>>},
           {"error_text_cut", <<1, 0:32/native, 0:32/native, 50:16/native, "ab">>},
           {"spilled_too_long", <<2, 0:64/native, (1 bsl 40):64/native>>},
           {"spilled_trailing", <<2, 0:64/native, 8:64/native, 0>>}],
    [write(Dir, "bad_" ++ Name, reply(B, Region)) || {Name, B} <- Bad],
    ok.

reply(Body, Region) -> <<(byte_size(Body)):16/native, Body/binary, Region/binary>>.

t_int(I) -> <<$i, I:64/signed-native>>.
t_atom(A) -> <<$a, A:32/signed-native>>.
t_bin(B) -> <<$b, (byte_size(B)):32/native, B/binary>>.
t_ref(Region, Block, Off, Len) -> <<$B, Region, Block:64/native, Off:64/native, Len:64/native>>.
t_tuple(Es) -> <<$T, (length(Es)):32/native, (iolist_to_binary(Es))/binary>>.
t_list(Es) -> <<$L, (length(Es)):32/native, (iolist_to_binary(Es))/binary>>.

deep(0) -> t_int(0);
deep(N) -> t_tuple([deep(N - 1)]).
