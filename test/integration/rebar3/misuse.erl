%% Not part of the guide's project: rebar3.sh adds it to src/ to check that
%% dialyzer sees the generated stubs' specs and rejects a call that breaks one.
-module(misuse).
-export([bad/0]).

bad() ->
    sums:checksum(-1, not_a_binary).
