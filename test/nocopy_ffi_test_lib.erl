%% nocopy_ffi_test_lib: what the run-time FFI's suites share (nocopy_ffi_tests
%% on every backend, nocopy_ffi_nif_tests, nocopy_ffi_iso_tests): binding,
%% data, and the errors a call raises, formatted as the shell would.
-module(nocopy_ffi_test_lib).

-export([bind/2, bind/3, data/1, tmp_file/1, arg_error/1, ok/1, iso_error/1, open_error/1]).

bind(Lib, Decl) -> bind(Lib, Decl, #{}).

bind(Lib, Decl, Opts) ->
    {ok, F} = nocopy_ffi:bind(Lib, Decl, Opts),
    F.

data(N) -> rand:bytes(N).

%% A fresh file name under $TMPDIR.
tmp_file(Tag) ->
    filename:join(os:getenv("TMPDIR", "/tmp"),
                  io_lib:format("nocopy_ffi_~s_~s_~b", [Tag, os:getpid(), erlang:unique_integer([positive])])).

%% The text nocopy_ffi:format_error gives for argument N of the error Fun raises.
arg_error(Fun) ->
    try Fun() of
        V -> erlang:error({no_error, V})
    catch
        error:badarg:St ->
            [{M, _, _, _} | _] = St,
            Map = (error_module(St)):format_error(badarg, St),
            {M, maps:map(fun(_, T) -> unicode:characters_to_list(T) end, Map)}
    end.

error_module([{_, _, _, Info} | _]) ->
    maps:get(module, proplists:get_value(error_info, Info)).

ok({ok, V}) -> V.

%% {Reason, general message} of an error raised by nocopy_ffi:call/2 (the
%% isolated backend's own: ecrashed, timeout), formatted as the shell would.
iso_error(Fun) ->
    try Fun() of
        V -> erlang:error({no_error, V})
    catch
        error:Reason:St ->
            [{nocopy_ffi, call, [_, _], _} | _] = St,
            #{general := Text} = nocopy_ffi:format_error(Reason, St),
            {Reason, unicode:characters_to_list(Text)}
    end.

open_error(Fun) ->
    try Fun() of
        V -> erlang:error({no_error, V})
    catch
        error:badarg:St ->
            [{nocopy_ffi, open, [_, _], _} | _] = St,
            {nocopy_ffi, maps:map(fun(_, T) -> unicode:characters_to_list(T) end,
                                  nocopy_ffi:format_error(badarg, St))}
    end.
