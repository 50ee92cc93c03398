#!/usr/bin/env escript
%%! -pa ebin
%% gen_corpus.escript: writes the seed corpus of the driver request decoder,
%% fuzz/corpus/drv_request/, from nocopy_wire:request/5 (the real
%% encoder) plus hand-made malformed requests. Deterministic: rerunning it
%% rewrites the same files. Usage (from the top directory, after make):
%%     escript fuzz/gen_corpus.escript fuzz/corpus/drv_request
-mode(compile).

main([Dir]) ->
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    Port = list_to_port("#Port<0.0>"),
    Other = list_to_port("#Port<0.1>"),
    %% A fixed reference, so the files do not change from run to run.
    Ref = binary_to_term(<<131, 90, 0, 3, 100, 0, 13, "nonode@nohost", 0:32,
                           1:32, 2:32, 3:32>>),
    Big = binary:copy(<<"0123456789abcdef">>, 20),
    Good = [{"int", [42]},
            {"ints_edges", [-16#8000000000000000, 16#7fffffffffffffff, 0, -1]},
            {"ints_32_edges", [-16#80000000, 16#7fffffff, 16#80000000, -16#80000001]},
            {"uint_and_bigint", [16#ffffffffffffffff, 1 bsl 70, -(1 bsl 70)]},
            {"floats", [1.5, -0.0, 1.0e300]},
            {"atoms", [ok, true, false, undefined, red, 'héllo']},
            {"atom_long", [list_to_atom(lists:duplicate(255, $a))]},
            {"binaries", [<<>>, <<"small">>, Big, binary:part(Big, 10, 100)]},
            {"bitstring", [<<1:3>>]},
            {"tuples", [{}, {1, {2, {3, {}}}}, {a, <<"b">>, 1.0}]},
            {"lists", [[], [1, 2, 3], "abc", [a | b], [[[]]], [<<"x">> | <<"tail">>]]},
            {"iolist", [[<<"ab">>, [$c, <<"de">>], Big | <<"end">>]]},
            {"handles", [{'$nocopy_handle', Port, 7}, {'$nocopy_handle', Other, 7},
                         {'$nocopy_handle', Port, (3 bsl 32) bor 5}]},
            {"others", [self(), Port, Ref, #{a => 1}, fun() -> ok end]},
            {"no_args", []},
            {"deep_tuple_tail", [deep_tail(1000)]},
            {"deep_list_head", [deep_head(3000)]},
            {"deep_iolist", [lists:foldl(fun(_, Acc) -> [Acc, $x] end, [], lists:seq(1, 3000))]},
            {"long_list", [lists:seq(1, 500)]}],
    %% The decoder does not know the module (the driver compares the
    %% fingerprint with its own): one fixed value, and another module's.
    Fp = 0,
    [write(Dir, "ok_" ++ Name, nocopy_wire:request(Port, Fp, 17, 3, Args))
     || {Name, Args} <- Good],
    write(Dir, "ok_ref_tag", nocopy_wire:request(Port, Fp, Ref, 0, [1, <<"x">>])),
    write(Dir, "ok_other_module", nocopy_wire:request(Port, 16#deadbeef, 17, 3, [1])),
    %% Arguments a stub sends as iodata ("v"): the list's bytes, inline.
    Iodata = [{"iodata", [[<<"ab">>, [$c, <<"de">>], Big | <<"end">>]], [iodata]},
              {"iodata_between", [1, [Big, Big], <<"x">>], [int, iodata, binary]},
              {"iodata_two", [[<<"a">>], [$b, [$c]]], [iodata, iodata]}],
    [write(Dir, "ok_" ++ Name, nocopy_wire:request(Port, Fp, 17, 3, Args, Kinds))
     || {Name, Args, Kinds} <- Iodata],
    %% The driver stubs' last binary or iodata argument runs to the end ("B",
    %% "V": request/7 with Tail).
    Tail = [{"tail_iodata", [1, [<<"ab">>, [$c, <<"de">>], Big | <<"end">>]], [int, iodata]},
            {"tail_binary", [[$a], Big], [iodata, binary]},
            {"tail_empty", [[]], [iodata]}],
    [write(Dir, "ok_" ++ Name, nocopy_wire:request(Port, Fp, 17, 3, Args, Kinds, true))
     || {Name, Args, Kinds} <- Tail],
    %% The fixed header, the kinds (the tag's, then one per argument) and the
    %% tag: the arguments' bodies follow.
    Hdr = fun(Kinds) -> <<"nc", (nocopy_wire:version()), Fp:32, 3:32, (byte_size(Kinds)):32,
                          $i, Kinds/binary, 17:64>> end,
    <<$T, LyingBodies/binary>> = lying_tuples(2000),
    Bad = [{"empty", <<>>},
           {"garbage", <<"garbage">>},
           {"bad_magic", <<"xx", 2, Fp:32, 0:32, 0:32, $i, 0:64>>},
           {"bad_version", <<"nc", 1, $i, 0:64, 0:32, 0:32>>},
           {"bad_tag_kind", <<"nc", (nocopy_wire:version()), Fp:32, 0:32, 0:32, $z, 0:64>>},
           {"bad_ref_tag", <<"nc", (nocopy_wire:version()), Fp:32, 0:32, 0:32, $r, 4:16, 131, 100, 0, 0>>},
           {"truncated_header", <<"nc", (nocopy_wire:version()), Fp:32, 0:32>>},
           {"argc_too_big", <<"nc", (nocopy_wire:version()), Fp:32, 3:32, 16#ffffffff:32, $i, "n">>},
           {"unknown_term_tag", Hdr(<<"?">>)},
           {"binary_len_huge", <<(Hdr(<<"b">>))/binary, 16#ffffffffffffffff:64, "abc">>},
           {"atom_len_huge", <<(Hdr(<<"a">>))/binary, 16#ffff:16, "abc">>},
           {"tuple_arity_huge", <<(Hdr(<<"T">>))/binary, 16#ffffffff:32, "nn">>},
           {"nan_float", <<(Hdr(<<"f">>))/binary, 16#7ff8000000000000:64>>},
           {"inf_float", <<(Hdr(<<"f">>))/binary, 16#7ff0000000000000:64>>},
           {"trailing_bytes", <<(Hdr(<<"n">>))/binary, "junk">>},
           {"truncated_term", <<(Hdr(<<"ii">>))/binary, 1:32>>},
           {"truncated_i32", <<(Hdr(<<"j">>))/binary, 1:16>>},
           {"cons_missing_tail", <<(Hdr(<<"c">>))/binary, "n">>},
           %% Issue 9's quadratic decode: every tuple declares as many
           %% elements as bytes are left, and the request ends early.
           {"nested_tuples_lying", <<(Hdr(<<"T">>))/binary, LyingBodies/binary>>},
           {"nested_cons_cut", <<(Hdr(<<"c">>))/binary, (binary:copy(<<"c">>, 2999))/binary>>},
           {"args_lying_kinds", <<"nc", (nocopy_wire:version()), Fp:32, 3:32, 1000:32, $i, "nnn",
                                  17:64>>},
           {"args_lying_bodies", <<(Hdr(binary:copy(<<"j">>, 1000)))/binary, 1:32, 2:32, 3:32>>},
           {"iodata_len_huge", <<(Hdr(<<"v">>))/binary, 16#ffffffffffffffff:64, "abc">>},
           {"iodata_len_cut", <<(Hdr(<<"v">>))/binary, 0:32>>},
           {"iodata_short", <<(Hdr(<<"vn">>))/binary, 4:64, "abc">>},
           {"tail_iodata_not_last", <<(Hdr(<<"Vn">>))/binary, "abc">>},
           {"tail_binary_in_tuple", <<(Hdr(<<"T">>))/binary, 2:32, $B, "abcn">>}],
    [write(Dir, "bad_" ++ Name, Bin) || {Name, Bin} <- Bad],
    io:format("wrote ~b seeds to ~s~n", [length(Good) + 2 + length(Iodata) + length(Tail) + length(Bad), Dir]);
main(_) ->
    io:format(standard_error, "usage: gen_corpus.escript DIR~n", []),
    halt(2).

%% N nested tuples, each declaring as many elements as bytes follow it.
lying_tuples(N) ->
    lists:foldl(fun(_, Acc) -> <<$T, (byte_size(Acc)):32, Acc/binary>> end, <<>>,
                lists:seq(1, N)).

deep_tail(0) -> {};
deep_tail(N) -> {N, deep_tail(N - 1)}.

deep_head(0) -> [];
deep_head(N) -> [deep_head(N - 1)].

write(Dir, Name, IoData) ->
    ok = file:write_file(filename:join(Dir, Name), iolist_to_binary(IoData)).
