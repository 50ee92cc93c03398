%% @doc Why a small isolated call costs more in make bench-iso than in a
%% tight loop: the same 12-byte identity in batches of about BatchMs, in
%% the bench's context or a simpler one, with the fast path's counts
%% (nocopy_iso:info/1) and the context switches of the child's threads and
%% of the VM's (/proc/PID/task/*/status) per call.
%%
%%   erl -noshell -pa ebin _build/bench/ebin -run iso_context main Scenario Batches BatchMs
%%
%% Scenarios:
%%   tight    the isolate's batches back to back
%%   bench    the isolate, the port and the NIF in random order per round, a
%%            garbage collection after each batch (nocopy_bench_iso's rounds)
%%   idle2    tight, with a second isolate started and left idle
%%   port     tight, with the port program open and left idle
%%   tight4g, bench4g: as tight and bench, the isolate's regions 4 GiB each
%%            (as in make bench-iso)
%% ISO_SPIN=Us in the environment sets the isolate's spin (default: the
%% isolate's default); ISO_ARENA_BYTES=N calls with an arena binary of N
%% bytes (nocopy_iso:binary/2) instead of the 12 bytes. Prints one line per isolate batch, then the medians.
-module(iso_context).
-export([main/1]).

-define(ARG, <<"hello world!">>).

-spec main([string()]) -> no_return().
main([Scenario, BatchesS, BatchMsS]) ->
    {Batches, BatchMs} = {list_to_integer(BatchesS), list_to_integer(BatchMsS)},
    Opts = case lists:suffix("4g", Scenario) of
               true -> [{region_bytes, 4096 * 1048576}];
               false -> []
           end,
    Spin = [{spin, list_to_integer(S)} || S <- [os:getenv("ISO_SPIN", "")], S =/= ""],
    {ok, I} = nc_bench_iso:start(Opts ++ Spin),
    Extra = extra(Scenario),
    Others = case lists:prefix("bench", Scenario) of
                 true -> {ok, P} = bench_ports:ext_open(), [{port, P}, nif];
                 false -> []
             end,
    Arg = case os:getenv("ISO_ARENA_BYTES", "") of
              "" -> ?ARG;
              Bytes -> nocopy_iso:binary(I, binary:copy(<<7>>, list_to_integer(Bytes)))
          end,
    put(arg, Arg),
    Arg = nc_bench_iso:identity(I, Arg),
    N = calls_for(I, BatchMs),
    Rows = [round(I, N, Others) || _ <- lists:seq(1, Batches)],
    [io:format("~8.2f us/call  slot ~5.1f%  posted ~5.1f%  abandoned ~4b (cold ~4b)  "
               "skipped ~6b  declined ~3b  cs/call child ~5.2f vm ~5.2f~n",
               [Us, 100 * Slot / N, 100 * Po / N, Ab, Co, Sk, De, Cc / N, Cv / N])
     || {Us, Slot, Ab, Sk, De, Cc, Cv, Co, Po} <- Rows],
    Med = fun(K) -> median([element(K, R) || R <- Rows]) end,
    io:format("~s: median ~.2f us per call, slot replies ~.1f%, cs per call child ~.2f vm ~.2f "
              "(~b batches of ~b calls; load ~s)~n",
              [Scenario, Med(1), 100 * Med(2) / N, Med(6) / N, Med(7) / N, Batches, N, load()]),
    _ = Extra,
    halt(0).

extra("idle2") -> {ok, I2} = nc_bench_iso:start([]), I2;
extra("port") -> {ok, P} = bench_ports:ext_open(), P;
extra(_) -> none.

calls_for(I, BatchMs) ->
    T0 = erlang:monotonic_time(nanosecond),
    loop(I, 2000),
    Per = (erlang:monotonic_time(nanosecond) - T0) / 2000,
    max(100, round(BatchMs * 1000000 / Per)).

round(I, N, Others) ->
    Order = shuffle([iso | Others]),
    [R] = [R || C <- Order, R <- [run(C, I, N)], R =/= other],
    R.

run(iso, I, N) ->
    Pid = maps:get(os_pid, nocopy_iso:info(I)),
    C0 = info(I), S0 = {switches(Pid), switches(os:getpid())},
    T0 = erlang:monotonic_time(nanosecond),
    loop(I, N),
    T = erlang:monotonic_time(nanosecond) - T0,
    C1 = info(I), S1 = {switches(Pid), switches(os:getpid())},
    erlang:garbage_collect(),
    D = fun(K) -> maps:get(K, C1) - maps:get(K, C0) end,
    {T / N / 1000, D(slot_replies), D(slot_abandoned), D(slot_skipped), D(slot_declined),
     element(1, S1) - element(1, S0), element(2, S1) - element(2, S0), D(slot_cold),
     D(slot_posted)};
run({port, P}, _, N) ->
    [bench_ports:ext_identity(P, ?ARG) || _ <- lists:seq(1, N div 2)],
    erlang:garbage_collect(), other;
run(nif, _, N) ->
    [nc_bench:identity(?ARG) || _ <- lists:seq(1, N * 200)],
    erlang:garbage_collect(), other.

info(I) -> maps:merge(#{slot_cold => 0, slot_posted => 0},
                      maps:with([slot_replies, slot_abandoned, slot_skipped, slot_declined,
                                 slot_cold, slot_posted], nocopy_iso:info(I))).

loop(I, K) -> loop(I, K, get(arg)).
loop(_, 0, _) -> ok;
loop(I, K, A) -> _ = nc_bench_iso:identity(I, A), loop(I, K - 1, A).

%% Voluntary and involuntary context switches of every thread of a process.
switches(Pid) when is_list(Pid) -> switches(list_to_integer(Pid));
switches(Pid) ->
    Dir = "/proc/" ++ integer_to_list(Pid) ++ "/task",
    {ok, Tasks} = file:list_dir(Dir),
    lists:sum([task_switches(filename:join([Dir, T, "status"])) || T <- Tasks]).

task_switches(F) ->
    case file:read_file(F) of
        {ok, B} ->
            lists:sum([binary_to_integer(V)
                       || L <- binary:split(B, <<"\n">>, [global]),
                          [K, V0] <- [binary:split(L, <<":">>)],
                          K =:= <<"voluntary_ctxt_switches">> orelse
                              K =:= <<"nonvoluntary_ctxt_switches">>,
                          V <- [string:trim(V0)]]);
        _ -> 0
    end.

load() ->
    {ok, B} = file:read_file("/proc/loadavg"),
    hd(string:split(string:trim(B), " ")).

shuffle(L) -> [X || {_, X} <- lists:sort([{rand:uniform(), X} || X <- L])].

median(L) -> lists:nth((length(L) + 1) div 2, lists:sort(L)).
