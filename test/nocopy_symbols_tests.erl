%% @doc A nocopy library exports its runtime entry point and nothing else:
%% the API is linked in with the user's code (NOCOPY_API is hidden), so calls
%% into it are direct, and two nocopy libraries in one VM cannot bind to each
%% other's functions.
-module(nocopy_symbols_tests).

-include_lib("eunit/include/eunit.hrl").

exports_test_() ->
    Priv = nocopy:priv_dir(nocopy_test),
    %% nm in a shell took over EUnit's default 5 s on a machine at load 12.
    [{filename:basename(Lib),
      {timeout, 60, ?_assertEqual(Expected, exported(filename:join(Priv, Lib)))}}
     || {Lib, Expected} <- [{"nocopy_test_nif.so", ["nif_init"]},
                            {"nocopy_test_drv.so", ["driver_init"]},
                            {"nocopy_prop_nif.so", ["nif_init"]},
                            {"nocopy_prop_drv.so", ["driver_init"]}]].

%% The functions and data a library defines in its dynamic symbol table.
exported(Path) ->
    true = filelib:is_regular(Path),
    Out = os:cmd("nm -D --defined-only " ++ Path ++ " 2>&1"),
    lists:sort([Name || Line <- string:split(Out, "\n", all),
                        [_Addr, Type, Name] <- [string:lexemes(Line, " ")],
                        lists:member(Type, ["T", "D", "B", "R", "W", "V"])]).
