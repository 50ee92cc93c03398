%% @doc The worker path under concurrency, side by side in one VM: N caller
%% processes share one port and call the seed for Ms milliseconds, each
%% contender in turn, in a new random order each round, as `make bench''s
%% concurrency phase does (nocopy_bench_phases). Reported per contender and
%% caller count: the median calls per second and the median of its per-round
%% ratios to the first contender; and, per call, the VM's threads' context
%% switches (voluntary + involuntary, from /proc/self/task, summed by thread
%% name), the CPU time they ran (/proc/self/task/*/schedstat, likewise: on
%% a loaded machine, steadier than the rate), and how many nocopy calls were not answered by the first receive
%% (nocopy_port:wait/4) or took a port monitor (nocopy_port:watch/5), counted
%% by call_count tracing. A measurement, never a test.
%%
%%   erl -noshell -pa ebin _build/bench/ebin -run conc_side_by_side main \
%%       Rounds Ms Size Procs,Procs hand_drv_async nc_drv_async
-module(conc_side_by_side).

-export([main/1]).

-define(K, 8).                          % calls between clock reads

-spec main([string()]) -> no_return().
main([RoundsS, MsS, SizeS, ProcsS | Ids0]) ->
    Rounds = list_to_integer(RoundsS),
    Ms = list_to_integer(MsS),
    ProcsL = [list_to_integer(P) || P <- string:lexemes(ProcsS, ",")],
    M = nocopy_bench_contenders,
    Ids = [list_to_atom(I) || I <- Ids0],
    Envs = maps:from_list([{Id, element(2, M:init(base(Id)))} || Id <- Ids]),
    Arg = M:arg(seed, M:payload(list_to_integer(SizeS))),
    Mfas = [{nocopy_port, wait, 4}, {nocopy_port, watch, 5}],
    {module, _} = code:ensure_loaded(nocopy_port),
    [1 = erlang:trace_pattern(Mfa, true, [local, call_count]) || Mfa <- Mfas],
    _ = [throughput(Id, maps:get(Id, Envs), Arg, 4, 20) || Id <- Ids],
    lists:foreach(
      fun(Procs) ->
              Rows = [begin
                          Order = [I || {_, I} <- lists:sort([{rand:uniform(), I} || I <- Ids])],
                          maps:from_list([{I, measured(I, maps:get(I, Envs), Arg, Procs, Ms, Mfas)}
                                          || I <- Order])
                      end || _ <- lists:seq(1, Rounds)],
              report(Procs, Ids, Rows)
      end, ProcsL),
    halt(0).

measured(Id, Env, Arg, Procs, Ms, Mfas) ->
    [erlang:trace_pattern(Mfa, restart, [local, call_count]) || Mfa <- Mfas],
    Sw0 = switches(),
    {Calls, Rate} = throughput(Id, Env, Arg, Procs, Ms),
    Sw1 = switches(),
    Counts = [case erlang:trace_info(Mfa, call_count) of
                  {call_count, C} when is_integer(C) -> C;
                  _ -> 0
              end || Mfa <- Mfas],
    Per = fun(Field) ->
                  maps:map(fun(K, V) -> (element(Field, V) - element(Field, maps:get(K, Sw0, {0, 0})))
                                            / Calls end, Sw1)
          end,
    #{rate => Rate, calls => Calls, switches => Per(1), cpu => Per(2), waits => [C / Calls || C <- Counts]}.

report(Procs, Ids, Rows) ->
    Base = [maps:get(rate, maps:get(hd(Ids), R)) || R <- Rows],
    lists:foreach(
      fun(Id) ->
              Rs = [maps:get(Id, R) || R <- Rows],
              Rates = [maps:get(rate, X) || X <- Rs],
              Ratios = [X / B || {X, B} <- lists:zip(Rates, Base)],
              Names = lists:usort(lists:flatmap(fun(X) -> maps:keys(maps:get(switches, X)) end, Rs)),
              Sw = [{N, median([maps:get(N, maps:get(switches, X), 0.0) || X <- Rs])} || N <- Names],
              Cpu = [{N, median([maps:get(N, maps:get(cpu, X), 0.0) || X <- Rs])} || N <- Names],
              CpuAll = median([lists:sum(maps:values(maps:get(cpu, X))) || X <- Rs]),
              [Wait, Watch] = [median([lists:nth(K, maps:get(waits, X)) || X <- Rs]) || K <- [1, 2]],
              io:format("~3b callers ~-15s ~8.1fk/s  ~.2fx (min ~.2f, max ~.2f)  "
                        "waited ~.3f, monitored ~.4f per call, ~b calls~n",
                        [Procs, Id, median(Rates) / 1000, median(Ratios), lists:min(Ratios),
                         lists:max(Ratios), Wait, Watch,
                         lists:sum([maps:get(calls, X) || X <- Rs])]),
              io:format("      switches per call: ~s~n",
                        [lists:join(" ", [io_lib:format("~s=~.2f", [N, S])
                                          || {N, S} <- Sw, S >= 0.01])]),
              io:format("      CPU ns per call: ~b: ~s~n",
                        [round(CpuAll), lists:join(" ", [io_lib:format("~s=~b", [N, round(S)])
                                                  || {N, S} <- Cpu, S >= 1])])
      end, Ids).

%% {context switches, ns on a CPU} of the VM's threads, summed by thread name
%% (digits dropped, so "3_scheduler" and "nocopy_w2" count with their kind).
switches() ->
    Dir = "/proc/self/task",
    {ok, Tids} = file:list_dir(Dir),
    lists:foldl(
      fun(Tid, Acc) ->
              Read = fun(F) -> file:read_file(filename:join([Dir, Tid, F])) end,
              case {Read("comm"), Read("status"), Read("schedstat")} of
                  {{ok, Comm}, {ok, Status}, {ok, Sched}} ->
                      Name = kind(string:trim(binary_to_list(Comm))),
                      N = lists:sum([list_to_integer(string:trim(V))
                                     || L <- string:split(binary_to_list(Status), "\n", all),
                                        [K, V] <- [string:split(L, ":")],
                                        K =:= "voluntary_ctxt_switches" orelse
                                            K =:= "nonvoluntary_ctxt_switches"]),
                      Ns = list_to_integer(hd(string:lexemes(binary_to_list(Sched), " "))),
                      maps:update_with(Name, fun({A, B}) -> {A + N, B + Ns} end, {N, Ns}, Acc);
                  _ ->
                      Acc                   % the thread ended meanwhile
              end
      end, #{}, Tids).

kind(Comm) ->
    [C || C <- Comm, C < $0 orelse C > $9].

throughput(Id, Env, Arg, Procs, Ms) ->
    Self = self(),
    Pids = [spawn_link(fun() -> caller(Self, Id, Env, Arg) end) || _ <- lists:seq(1, Procs)],
    T0 = erlang:monotonic_time(nanosecond),
    Deadline = T0 + Ms * 1000000,
    _ = [Pid ! {go, Deadline} || Pid <- Pids],
    Done = [receive {done, Pid, C, T} -> {C, T} end || Pid <- Pids],
    Calls = lists:sum([C || {C, _} <- Done]),
    Wall = lists:max([T || {_, T} <- Done]) - T0,
    {Calls, Calls * 1.0e9 / Wall}.

caller(Parent, Id, Env, Arg) ->
    receive {go, Deadline} -> ok end,
    C = loop(Id, Env, Arg, Deadline, 0),
    Parent ! {done, self(), C, erlang:monotonic_time(nanosecond)}.

loop(Id, Env, Arg, Deadline, C) ->
    ok = batch(Id, Env, ?K, Arg),
    case erlang:monotonic_time(nanosecond) >= Deadline of
        true -> C + ?K;
        false -> loop(Id, Env, Arg, Deadline, C + ?K)
    end.

%% Experiments, besides the bench's contenders: what the caller's wait costs.
%% nc_notimer: nocopy's request, then a receive without the timer of
%% nocopy_port:wait/4 (unsafe: it would wait forever on a dead port);
%% hand_timer: the hand driver's request, then nocopy_port's two receives,
%% the second with its 2 ms timer.
base(nc_notimer) -> nc_drv_async;
base(hand_timer) -> hand_drv_async;
base(Id) -> Id.

batch(nc_notimer, #{port := P, ctx := Ctx} = E, N, A) when N > 0 ->
    Tag = erlang:unique_integer(),
    true = erlang:port_command(P, nc_bench_drv:'$nocopy_request_seed_dirty'(P, Tag, Ctx, 1, A)),
    receive {nocopy_reply, Tag, _} -> ok end,
    batch(nc_notimer, E, N - 1, A);
batch(hand_timer, #{port := P} = E, N, A) when N > 0 ->
    true = erlang:port_command(P, [<<2, 0:32, 1:32>>, A]),
    receive
        {P, _} -> ok
    after 0 ->
            receive {P, _} -> ok after 2 -> receive {P, _} -> ok end end
    end,
    batch(hand_timer, E, N - 1, A);
batch(Id, _, 0, _) when Id =:= nc_notimer; Id =:= hand_timer ->
    ok;
batch(Id, Env, N, A) ->
    nocopy_bench_contenders:batch(Id, Env, seed, N, A).

median(L) ->
    lists:nth((length(L) + 1) div 2, lists:sort(L)).
