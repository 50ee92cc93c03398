%% nocopy_stubgen: tables it must refuse, with a message, at build time.
-module(nocopy_stubgen_tests).

-include_lib("eunit/include/eunit.hrl").

table(Atoms, Args) ->
    File = filename:join(scratch(), "t.nocopy"),
    Terms = [{module, "t"}, {fingerprint, 0}, {atoms, Atoms}, {handle_types, []}, {types, ""},
             {port_options, [{workers, 4, 1, 64, integer}]},
             {function, 0, "f", length(string:split(Args, ",", all)), Args, "ok",
              normal, 0, ""}],
    ok = file:write_file(File, [io_lib:format("~tp.~n", [T]) || T <- Terms],
                         [{encoding, utf8}]),
    File.

scratch() ->
    Dir = filename:join(["/tmp", "nocopy_stubgen_tests." ++ os:getpid()]),
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    Dir.

generate(Atoms, Args) ->
    try nocopy_stubgen:generate(table(Atoms, Args), scratch()) of
        ok -> ok
    catch
        throw:{stubgen, Msg} -> {refused, Msg}
    end.

%% A table from before fingerprints (or a damaged one) is refused.
refuses_a_table_without_fingerprint_test() ->
    File = table([], "A :: integer()"),
    {ok, Terms} = file:consult(File),
    ok = file:write_file(File, [io_lib:format("~tp.~n", [T]) || T <- Terms,
                                                              element(1, T) =/= fingerprint]),
    ?assertMatch({stubgen, "no fingerprint" ++ _}, catch nocopy_stubgen:generate(File, scratch())).

refuses_a_table_without_port_options_test() ->
    File = table([], "A :: integer()"),
    {ok, Terms} = file:consult(File),
    ok = file:write_file(File, [io_lib:format("~tp.~n", [T]) || T <- Terms,
                                                              element(1, T) =/= port_options]),
    ?assertMatch({stubgen, "no port_options" ++ _},
                 catch nocopy_stubgen:generate(File, scratch())).

accepts_a_plain_table_test() ->
    ?assertEqual(ok, generate(["low", "high"], "A :: integer()")).

%% The runtime makes atoms from Latin-1 and C source is UTF-8: a non-ASCII
%% name would be a different atom on each side (hardening bug H2).
refuses_non_ascii_atom_names_test() ->
    ?assertMatch({refused, "atom name" ++ _}, generate(["low", "\x{e9}t\x{e9}"], "A :: integer()")).

%% `_' and `_X' cannot be passed on by the stub.
refuses_underscore_argument_names_test_() ->
    [?_assertMatch({refused, _}, generate([], "_ :: integer()")),
     ?_assertMatch({refused, _}, generate([], "_X :: integer()"))].

refuses_a_wrong_argument_count_test() ->
    File = table([], "A :: integer()"),
    {ok, Terms} = file:consult(File),
    Bad = [case T of
               {function, I, N, 1, Args, R, S, D, Doc} -> {function, I, N, 2, Args, R, S, D, Doc};
               _ -> T
           end || T <- Terms],
    ?assertNotEqual(Terms, Bad),
    ok = file:write_file(File, [io_lib:format("~tp.~n", [T]) || T <- Bad]),
    ?assertMatch({stubgen, _}, catch nocopy_stubgen:generate(File, scratch())).
