%% nocopy_driver_util.hrl: helpers of the driver backend's own suites
%% (nocopy_driver_tests, nocopy_driver_wire_tests, nocopy_driver_workers_tests,
%% nocopy_driver_faults_tests): ports of nocopy_test_drv, nocopy_port's raw
%% calls, the test module's gate, and waiting on facts. Include it after
%% nocopy_test_util.hrl.
%%
%% The gate and every counter live in the driver library's own statics, so
%% they are read through a second "control" port of the same driver, never
%% through the NIF (a separate library).

-compile({nowarn_unused_function,
          [{open, 1}, {close, 1}, {with_ports, 2}, {index, 1}, {fp, 0}, {table, 0},
           {raw_call, 4}, {raw_async, 3}, {raw_await, 2}, {nif_addr, 1}, {until, 1},
           {gate_reset, 1}, {gate_waiting, 1}, {until_waiting, 1}, {raw_reply, 0},
           {catch_nocopy, 1}, {worker_thread, 1}]}).

-define(GATE_MS, 60000).       % the gate's own timeout: only breaks a deadlock
-define(ABOVE, 1000).          % DIRTY_ABOVE_BYTES in test/nocopy_test/test_module.c

%% Fixtures are {setup, spawn, ...}: erl_ddll counts every process that loaded
%% the driver as a user until it exits, and the unload test needs to be the
%% only one.

open(Opts) ->
    {ok, P} = nocopy_test_drv:open(Opts),
    P.

close(P) ->
    nocopy_test_drv:close(P).

%% Runs Fun(Ports...) with fresh ports, closing them whatever happens.
with_ports(OptsList, Fun) ->
    Ports = [open(O) || O <- OptsList],
    try apply(Fun, Ports)
    after
        [close(P) || P <- Ports]
    end.

%% The function's index in the C table, from the table the stubs came from.
index(Name) ->
    N = atom_to_list(Name),
    [I] = [I || {function, I, F, _, _, _, _, _, _} <- table(), F =:= N],
    I.

%% The fingerprint every request of nocopy_test_drv carries.
fp() ->
    nocopy_test_drv:'$fingerprint'().

table() ->
    Ebin = filename:dirname(code:which(nocopy_test_drv)),
    {ok, Terms} = file:consult(filename:join([filename:dirname(Ebin), "gen",
                                              "nocopy_test.nocopy"])),
    Terms.

%% nocopy_port's raw calls, with this module's driver and fingerprint.
raw_call(P, Fun, Args, Timeout) ->
    nocopy_port:call(P, nocopy_test_drv, fp(), index(Fun), Args, Timeout).

raw_async(P, Fun, Args) ->
    nocopy_port:async_call(P, nocopy_test_drv, fp(), index(Fun), Args).

raw_await(Ref, Timeout) ->
    nocopy_port:await(Ref, nocopy_test_drv, Timeout).

nif_addr(Bin) -> nocopy_test:address_of(Bin).

%% Waits until Pred() holds (C state sends no message); fails after ~10 s.
until(Pred) ->
    case nocopy_test_lib:wait_until(Pred, 10000) of
        true -> ok;
        false -> erlang:error(condition_never_held)
    end.

gate_reset(C) ->
    ok = nocopy_test_drv:gate_close(C).

gate_waiting(C) ->
    element(1, nocopy_test_drv:gate_stats(C)).

%% Waits until a process is blocked in nocopy_port's receive: its request was
%% handed to port_command (ordered before anything the test sends later).
until_waiting(Pid) ->
    until(fun() ->
                  case erlang:process_info(Pid, current_function) of
                      %% wait: the first UNWATCHED_MS; watch: after them,
                      %% which a slow run (asan, a loaded machine) may poll
                      %% too late to see the first.
                      {current_function, {nocopy_port, F, _}} ->
                          F =:= wait orelse F =:= watch orelse F =:= await;
                      _ -> false
                  end
          end).

%% The raw reply of a raw request, as {Tag, {ok, Value}} or {Tag, Error}: a
%% call's reply (an integer tag) is {nocopy_reply, Tag, Value} or
%% {nocopy_error, Tag, Error}, an async call's (a reference) or an untagged
%% one {nocopy_reply, Tag, {ok, Value} | Error} (docs/wire-format.md).
raw_reply() ->
    receive
        {nocopy_reply, Tag, Value} when is_integer(Tag) -> {Tag, {ok, Value}};
        {nocopy_error, Tag, Error} when is_integer(Tag) -> {Tag, Error};
        {nocopy_reply, Tag, Reply} when not is_integer(Tag) -> {Tag, Reply}
    after 5000 -> erlang:error(no_reply)
    end.

catch_nocopy(Fun) ->
    try Fun() of
        V -> {ok, V}
    catch
        error:{'$nocopy_error', Reason, Cause} -> {error, Reason, Cause};
        error:Reason -> {error, Reason}
    end.

worker_thread(Name) -> binary:longest_common_prefix([Name, <<"nocopy_w">>]) =:= 8.
