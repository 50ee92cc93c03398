%% nocopy_proper.hrl: PropEr's macros, as its proper.hrl defines them, for
%% the suites with properties (nocopy_prop_*, nc_zlib_tests, nc_crypto_tests).
%% Debian ships proper.hrl in erlang-proper-dev, while the runtime package
%% (erlang-proper) is all `make test' needs this way.
%%
%% Include it after eunit.hrl: eunit's ?LET is not PropEr's, and is undefined
%% here.

-define(FORALL(X, Gen, Prop), proper:forall(Gen, fun(X) -> Prop end)).
-undef(LET).
-define(LET(X, Gen, Body), proper_types:bind(Gen, fun(X) -> Body end, false)).
-define(SIZED(S, Gen), proper_types:sized(fun(S) -> Gen end)).
-define(LAZY(Gen), proper_types:lazy(fun() -> Gen end)).
-define(WHENFAIL(Action, Prop), proper:whenfail(fun() -> Action end, fun() -> Prop end)).
