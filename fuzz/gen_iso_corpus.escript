#!/usr/bin/env escript
%%! -pa ebin
%% gen_iso_corpus.escript: writes the seed corpus of fuzz_iso_call (the
%% isolated backend's child reading a CALL), fuzz/corpus/iso_call/: requests
%% made by nocopy_wire:request/5 (the real encoder, as the NAME_iso stubs
%% call it) for the harness's functions read0..read6 (function index = arity,
%% fingerprint 0), each laid out in several shapes (the input's first byte:
%% see fuzz/fuzz_iso_call.c), plus raw CALL bodies, well-formed and not.
%% Deterministic. Usage (from the top directory, after make):
%%     escript fuzz/gen_iso_corpus.escript fuzz/corpus/iso_call
-mode(compile).

main([Dir]) ->
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
