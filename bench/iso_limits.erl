%% iso_limits: two numbers of the isolated backend that no benchmark ratio
%% gives, measured on this machine for the README (side-by-side timings and
%% counts in one VM, not targets):
%%
%%   1. What a crash costs: the crashing call (it fails with ecrashed), the
%%      first call after it (which starts a new child: posix_spawn, two
%%      memfds, HELLO), and a call to a live child; 21 of each, medians.
%%   2. How many CALLs the channel holds while the child reads none (its one
%%      thread held in C by the test module's gate): callers one at a time
%%      until one gets eoverload, on an isolate with no VM-side queue
%%      ({queue, 0}); with a small argument and with 1000 bytes (sent
%%      inline). Then 1000 processes each making one call at once (4 child
%%      threads), five bursts, how many get eoverload: with {queue, 0} (the
%%      channel alone, as before the queue) and with the default queue.
%%
%% After `make`, from nocopy's tree:
%%   erlc -o _build bench/iso_limits.erl && NOCOPY_ISO_NIF_DIR=_build/nocopy/priv \
%%     erl -noshell -pa ebin _build _build/test/ebin _build/iso_faults/ebin \
%%     -run iso_limits main -s init stop
-module(iso_limits).
-export([main/0]).

main() ->
    crash_cost(),
    [channel_bound(Size) || Size <- [8, 1000]],
    bursts().

median(L) -> lists:nth(length(L) div 2 + 1, lists:sort(L)).

crash_cost() ->
    {ok, Iso} = iso_faults_iso:start([{region_bytes, 1 bsl 24}, {restarts, {1000, 1}}]),
    ok = iso_faults_iso:ok(Iso),
    Runs = [begin
                {Crash, _} = timer:tc(fun() -> catch iso_faults_iso:segv(Iso) end),
                {Restart, ok} = timer:tc(fun() -> iso_faults_iso:ok(Iso) end),
                {Live, ok} = timer:tc(fun() -> iso_faults_iso:ok(Iso) end),
                {Crash, Restart, Live}
            end || _ <- lists:seq(1, 21)],
    io:format("crash: the crashing call ~b us, the first call after it (a new child) ~b us, "
              "a call to a live child ~b us (medians of 21)~n",
              [median([C || {C, _, _} <- Runs]), median([R || {_, R, _} <- Runs]),
               median([L || {_, _, L} <- Runs])]),
    iso_faults_iso:stop(Iso).

channel_bound(Size) ->
    {ok, Iso} = nocopy_test_iso:start([{threads, 1}, {region_bytes, 1 bsl 26}, {queue, 0}]),
    ok = nocopy_test_iso:gate_close(Iso),
    Holder = spawn(fun() -> nocopy_test_iso:gate_wait(Iso, 60000) end),
    %% Its CALL is sent; the child's one thread takes it within microseconds,
    %% long before the channel is full (seconds of callers later).
    wait_in_flight(Iso, 1),
    Bin = binary:copy(<<1>>, Size),
    N = fill(Iso, Bin, 0),
    io:format("channel: ~b CALLs of a ~b-byte argument wait in it while the child reads "
              "none; the next gets eoverload~n", [N, Size]),
    nocopy_test_iso:stop(Iso),
    exit(Holder, kill).

wait_in_flight(Iso, N) ->
    case maps:get(calls_in_flight, nocopy_iso:info(Iso)) >= N of
        true -> ok;
        false -> erlang:yield(), wait_in_flight(Iso, N)
    end.

%% One caller at a time; each stays blocked (its CALL waits in the channel)
%% until one returns eoverload at once.
fill(Iso, Bin, N) ->
    Self = self(),
    P = spawn(fun() ->
                      R = try nocopy_test_iso:echo_bytes(Iso, Bin), sent
                          catch error:E -> E
                          end,
                      Self ! {self(), R}
              end),
    receive
        {P, eoverload} -> N
    after 20 ->
        fill(Iso, Bin, N + 1)
    end.

bursts() ->
    [begin
         {ok, Iso} = nocopy_test_iso:start([{region_bytes, 1 bsl 26} | Opts]),
         Counts = [burst(Iso, 1000) || _ <- lists:seq(1, 5)],
         #{queued_total := Queued} = nocopy_iso:info(Iso),
         io:format("1000 callers x 1 call at once, five bursts, ~s: ~w of 1000 got eoverload "
                   "(~b calls queued in all)~n", [Name, Counts, Queued]),
         nocopy_test_iso:stop(Iso)
     end || {Name, Opts} <- [{"no queue ({queue, 0})", [{queue, 0}]},
                             {"the default queue", []}]].

burst(Iso, N) ->
    Self = self(),
    Ps = [spawn(fun() ->
                        receive go -> ok end,
                        R = try nocopy_test_iso:echo_i64(Iso, 7) catch error:E -> E end,
                        Self ! {done, R}
                end) || _ <- lists:seq(1, N)],
    [P ! go || P <- Ps],
    length([x || _ <- Ps, receive {done, eoverload} -> true; {done, 7} -> false end]).
