%% The isolated backend's reply slots (c_src/iso_shared/nc_iso_slot.h): a
%% small reply written by the child into shared memory, taken by the calling
%% NIF within the isolate's `spin', else sent as a message. Each test counts
%% the path taken with nocopy_iso:info/1 (slot_replies: taken from a slot;
%% slot_abandoned: the NIF stopped waiting at the spin's end; slot_declined:
%% the child turned the slot down; in both the reply came as a message):
%% taken, off, declined (a call that keeps its input must not overtake its
%% KEEP_IN), abandoned (a call longer than the spin), and a hostile child
%% writing garbage into its slot (the VM refuses it with eproto, kills the
%% child, survives, and the next call works).
-module(nocopy_iso_slot_tests).

-include_lib("eunit/include/eunit.hrl").

-define(LONG_SPIN, 100000).   % us: the child always answers within it here

slot_test_() ->
    [{"taken: replies from the slot", fun taken/0},
     {"spin 0: no slot, replies as messages", fun off/0},
     {"declined: a call that keeps its input replies on the channel", fun declined/0},
     {"abandoned: a call longer than the spin replies as a message", fun abandoned/0},
     {"a cold wait given up (no poller) turns no call away", fun cold/0},
     {"the backoff is a time, not a number of calls", {timeout, 60, fun backoff_time/0}},
     {"a hostile child's slot: refused, the VM survives", {timeout, 120, fun hostile/0}},
     {"bad spin options", fun bad_options/0}].

counts(Iso) ->
    #{slot_replies := R, slot_abandoned := A} = nocopy_iso:info(Iso),
    {R, A}.

declines(Iso) ->
    maps:get(slot_declined, nocopy_iso:info(Iso)).

taken() ->
    {ok, Iso} = iso_faults_iso:start([{spin, ?LONG_SPIN}]),
    try
        {R0, A0} = counts(Iso),
        [?assertEqual(ok, iso_faults_iso:ok(Iso)) || _ <- lists:seq(1, 20)],
        {R1, A1} = counts(Iso),
        ?assertEqual(0, declines(Iso)),
        %% Every call went one way or the other, and the slot's way at least
        %% once (the child answers within 100 ms).
        %% (A call after a slot given up goes without one: slot_skipped.)
        S = maps:get(slot_skipped, nocopy_iso:info(Iso)),
        ?assertEqual(20, (R1 - R0) + (A1 - A0) + S),
        ?assert(R1 - R0 >= 1),
        ?assertEqual(0, maps:get(calls_in_flight, nocopy_iso:info(Iso)))
    after
        iso_faults_iso:stop(Iso)
    end.

off() ->
    {ok, Iso} = iso_faults_iso:start([{spin, 0}]),
    try
        [?assertEqual(ok, iso_faults_iso:ok(Iso)) || _ <- lists:seq(1, 20)],
        ?assertEqual({0, 0}, counts(Iso))
    after
        iso_faults_iso:stop(Iso)
    end.

%% keep_put keeps its arena input: its KEEP_IN goes on the channel, so its
%% reply must too (from the slot it would overtake the keep, and end the
%% call's loan of the block before the VM knew of the keep). The child
%% declines the slot, so the NIF stops waiting at once. A call that found no
%% thread polling (cold: the first of a child, or after a pause) makes no
%% wait, so it has nothing to decline: each try first makes a call whose
%% slot the NIF gives up (or takes), after which the child polls for the
%% next call, and is tried again until one was declined.
declined() ->
    {ok, Iso} = nocopy_test_iso:start([{region_bytes, 1 bsl 24}, {spin, ?LONG_SPIN}]),
    try
        A = nocopy_iso:binary(Iso, binary:copy(<<"0123456789abcdef">>, 4096)),
        ?assertEqual(declined, keep_declined(Iso, A, 10))
    after
        nocopy_test_iso:stop(Iso)
    end.

keep_declined(Iso, A, Tries) ->
    ?assertEqual(7, nocopy_test_iso:echo_i64(Iso, 7)),
    #{slot_replies := R0, slot_abandoned := A0, slot_cold := C0, slot_declined := D0} =
        nocopy_iso:info(Iso),
    _ = nocopy_test_iso:keep_put(Iso, 0, A),
    #{slot_replies := R1, slot_abandoned := A1, slot_cold := C1, slot_declined := D1} =
        nocopy_iso:info(Iso),
    %% Never from the slot, never a wait given up at its end.
    ?assertEqual(R0, R1),
    ?assertEqual(A1 - A0, C1 - C0),
    ?assertEqual(1, (D1 - D0) + (C1 - C0)),
    ?assertEqual(1, maps:get(child_keeps, nocopy_iso:info(Iso))),
    ?assert(nocopy_test_iso:keep_release(Iso, 0)),
    ?assert(nocopy_test_lib:wait_until(
              fun() -> maps:get(child_keeps, nocopy_iso:info(Iso)) =:= 0 end, 10000)),
    if D1 > D0 -> declined;
       Tries > 1 -> keep_declined(Iso, A, Tries - 1);
       true -> never_declined
    end.

abandoned() ->
    {ok, Iso} = iso_faults_iso:start([{spin, 1000}]),
    Gate = filename:join(os:getenv("TMPDIR", "/tmp"),
                         "nocopy_iso_slot_" ++ os:getpid() ++ "_"
                         ++ integer_to_list(erlang:unique_integer([positive]))),
    Self = self(),
    Bin = binary:copy(<<"x">>, 200),
    try
        {R0, A0} = counts(Iso),
        Caller = spawn_link(fun() ->
                                Self ! {self(), iso_faults_iso:held(Iso, list_to_binary(Gate),
                                                                    Bin)}
                            end),
        %% The NIF gives up after its 1 ms; the call is still held.
        ?assert(nocopy_test_lib:wait_until(fun() -> counts(Iso) =:= {R0, A0 + 1} end, 10000)),
        ?assertEqual(1, maps:get(calls_in_flight, nocopy_iso:info(Iso))),
        ok = file:write_file(Gate, <<>>),
        receive {Caller, R} -> ?assertEqual(Bin, R) end,
        ?assertEqual({R0, A0 + 1}, counts(Iso)),
        %% The slot is free again: the next calls can take it.
        ok = iso_faults_iso:ok(Iso)
    after
        file:delete(Gate),
        iso_faults_iso:stop(Iso)
    end.

%% The first call of a new child finds no thread polling the call slot: its
%% CALL goes on the channel (cold). Held past the spin, its wait fails, but
%% the next call still waits on a slot (slot_skipped stays 0): a burst of
%% calls is not penalised for its first one (nc_iso_slot.h, the backoff).
cold() ->
    {ok, Iso} = iso_faults_iso:start([{spin, 1000}]),
    try
        held_past_spin(Iso, 1),
        #{slot_cold := 1, slot_posted := 0, slot_skipped := 0} = nocopy_iso:info(Iso),
        ok = iso_faults_iso:ok(Iso),
        #{slot_skipped := Skipped, slot_replies := Replies, slot_abandoned := Abandoned} =
            nocopy_iso:info(Iso),
        ?assertEqual(0, Skipped),
        %% The second call waited on its slot: taken, or given up in turn.
        ?assertEqual(2, Replies + Abandoned)
    after
        iso_faults_iso:stop(Iso)
    end.

%% A wait given up while a poller had taken the CALL (warm: the first call
%% of a child is cold, given up at once and not counted; the child then
%% polls for the next one): the fast path is off for 16 spins of time (1.6
%% s at spin 100 ms), so 20 calls made at once all go without it. Counted in
%% calls, as before, the 17th would have waited on a slot again.
backoff_time() ->
    {ok, Iso} = iso_faults_iso:start([{spin, ?LONG_SPIN}]),
    try
        ok = until_warm_given_up(Iso, 1, 5),
        #{slot_skipped := 0, slot_abandoned := A} = nocopy_iso:info(Iso),
        [?assertEqual(ok, iso_faults_iso:ok(Iso)) || _ <- lists:seq(1, 20)],
        ?assertMatch(#{slot_skipped := 20, slot_abandoned := A}, nocopy_iso:info(Iso))
    after
        iso_faults_iso:stop(Iso)
    end.

until_warm_given_up(Iso, K, Tries) ->
    held_past_spin(Iso, K),
    case nocopy_iso:info(Iso) of
        #{slot_abandoned := A, slot_cold := C} when A > C -> ok;
        _ when Tries > 1 -> until_warm_given_up(Iso, K + 1, Tries - 1);
        Info -> {no_warm_wait, Info}
    end.

%% A call held until the NIF has given its slot up (the K-th given up).
held_past_spin(Iso, K) ->
    Gate = filename:join(os:getenv("TMPDIR", "/tmp"),
                         "nocopy_iso_held_" ++ os:getpid() ++ "_"
                         ++ integer_to_list(erlang:unique_integer([positive]))),
    Self = self(),
    Bin = binary:copy(<<"z">>, 50),
    try
        Caller = spawn_link(fun() ->
                                Self ! {self(), iso_faults_iso:held(Iso, list_to_binary(Gate),
                                                                    Bin)}
                            end),
        ?assert(nocopy_test_lib:wait_until(
                  fun() -> maps:get(slot_abandoned, nocopy_iso:info(Iso)) =:= K end, 10000)),
        ok = file:write_file(Gate, <<>>),
        receive {Caller, R} -> ?assertEqual(Bin, R) end
    after
        file:delete(Gate)
    end.

hostile() ->
    {ok, Iso} = iso_faults_iso:start([{spin, ?LONG_SPIN}, {restarts, {100, 60000}}]),
    try
        [begin
             Text = scribble_error(Iso, Mode),
             ?assertNotEqual(nomatch, string:find(Text, Why)),
             %% The child was killed for it (SIGKILL, seen by the reader
             %% as the channel's end); the next call starts another.
             ?assert(nocopy_test_lib:wait_until(
                       fun() -> maps:get(alive, nocopy_iso:info(Iso)) =:= false end, 10000)),
             ?assertEqual(ok, iso_faults_iso:ok(Iso))
         end || {Mode, Why} <- [{1, "a reply slot's length out of bounds"},
                                {2, "a reply slot holding another message"},
                                {4, "malformed reply"}]],
        %% A state for another call: not taken; the reply comes as a message.
        C0 = counts(Iso),
        D0 = declines(Iso),
        ?assertEqual(ok, scribble(Iso, 3)),
        ?assertEqual(C0, counts(Iso)),
        ?assertEqual(D0 + 1, declines(Iso)),
        ?assertEqual(4, maps:get(incarnation, nocopy_iso:info(Iso)))
    after
        iso_faults_iso:stop(Iso)
    end.

%% The scribble needs the NIF still waiting on the slot when the function
%% runs (spin 100 ms): a call that found its slot already given up is tried
%% again.
scribble(Iso, Mode) ->
    scribble(Iso, Mode, 20).
scribble(Iso, Mode, Tries) ->
    try iso_faults_iso:slot_scribble(Iso, Mode)
    catch
        error:einternal:St when Tries > 1 ->
            #{general := "no armed reply slot"} = nocopy_test_lib:error_strings(einternal, St),
            scribble(Iso, Mode, Tries - 1)
    end.

scribble_error(Iso, Mode) ->
    try scribble(Iso, Mode) of
        V -> erlang:error({expected_eproto, Mode, V})
    catch
        error:eproto:St ->
            #{general := Text} = nocopy_test_lib:error_strings(eproto, St),
            Text
    end.

bad_options() ->
    [?assertEqual({error, {bad_option, {spin, S}}}, iso_faults_iso:start([{spin, S}]))
     || S <- [-1, 100001, 1.5, fast]].
