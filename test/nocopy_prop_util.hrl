%% nocopy_prop_util.hrl: what the property modules share (nocopy_prop_tests,
%% its generators nocopy_prop_gen and its model nocopy_prop_model), and
%% nocopy_stress_tests with them: the backends and calls on them, the atom
%% tables of the native modules, the registry of generated handles.
%%
%% A backend is `nif' or `{drv, TestPort, PropPort}': calls go to the native
%% test modules nocopy_test (t/3) and nocopy_prop (p/3), on the driver through
%% ports of nocopy_test_drv and nocopy_prop_drv (argument numbers one higher).

-compile({nowarn_unused_function, [{name, 1}, {t, 3}, {p, 3}, {shift, 1}, {outcome, 1}]}).

-define(MIN_I64, -16#8000000000000000).
-define(MAX_I64, 16#7fffffffffffffff).
-define(MAX_U64, 16#ffffffffffffffff).

%% The ETS table (made by nocopy_prop_tests' setup) of every generated handle
%% and its kind, so the model knows what each is.
-define(REG, nocopy_prop_registry).

%% Atoms in nocopy_test's table (test/nocopy_test/test_module.c) and nocopy_prop's.
-define(BUILTIN, [ok, error, true, false, undefined]).
-define(TEST_ATOMS, [red, green, blue, released, timeout, integer, float, atom, binary,
                     bitstring, tuple, list, nil, handle, other, ebadarg, enomem, erange,
                     eclosed, eproto, eoverload, enotsup, einternal, nan, inf, neg_inf]).
-define(PROP_ATOMS, ['$bignum', '$unknown_atom', '$bitstring', '$improper',
                     '$foreign_handle', '$other', '$deep', red, green, blue,
                     a_longer_atom_name_in_the_table, 'été']).
-define(ECHO_MAX_DEPTH, 100).

name(nif) -> "nif";
name({drv, _, _}) -> "drv".

t(nif, F, Args) -> apply(nocopy_test, F, Args);
t({drv, TP, _}, F, Args) -> apply(nocopy_test_drv, F, [TP | Args]).

p(nif, F, Args) -> apply(nocopy_prop, F, Args);
p({drv, _, PP}, F, Args) -> apply(nocopy_prop_drv, F, [PP | Args]).

shift(nif) -> 0;
shift({drv, _, _}) -> 1.

%% {ok, Value}, {error, Reason, Stacktrace}, or any other exception as a crash.
outcome(Fun) ->
    try Fun() of
        V -> {ok, V}
    catch
        error:Reason:St -> {error, Reason, St};
        Class:Reason:St -> {crash, Class, Reason, St}
    end.
