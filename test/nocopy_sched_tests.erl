%% nocopy_sched_tests: where calls run, observed without timing.
%%
%% The test module reports the OS name of the thread that ran a call. The
%% runtime names its threads "N_scheduler", "N_dirty_cpu_sch" and
%% "N_dirty_io_sche", cut to 15 bytes (Linux's limit: "10_dirty_io_sch");
%% the driver's workers have names of their own. So "which path did this call
%% take" is an exact fact.
%%
%% Responsiveness: as many dirty calls as there are normal schedulers block
%% in C on a gate that only Erlang can open. If they occupied normal
%% schedulers, no process could run; instead a ping-pong process completes
%% its rounds while all of them are blocked, and then the gate is opened from
%% Erlang. The gate's own timeout only turns a deadlock into a failure.
%% Negative control (checked by hand, since it freezes the VM for the
%% timeout): the same calls on the normal path block every scheduler, no
%% process sees them waiting, and they end in `timeout', not `released'.
%%
%% The isolated backend: the flags (.sched, dirty above N bytes) mean nothing
%% there. What holds instead: every call, of every class, runs on a thread of
%% the child process (its threads bear the program's name, "nocopy_test_iso"),
%% never on one of the VM's; calls blocked in C occupy the child's threads,
%% never a scheduler, so the VM stays responsive with as many blocked calls as
%% it has schedulers (the isolate is started with one thread more, which
%% answers the gate's probes); a killed caller's call ends in the child.
%% nocopy_consume is a no-op there (nocopy.h).
-module(nocopy_sched_tests).

-include("nocopy_test_util.hrl").

-define(ABOVE, 1000).          % DIRTY_ABOVE_BYTES in test/nocopy_test/test_module.c
-define(GATE_MS, 60000).

normal_thread(Name) -> match(Name, "^[0-9]+_scheduler$").
dirty_cpu_thread(Name) -> match(Name, "^[0-9]+_dirty_cpu").
dirty_io_thread(Name) -> match(Name, "^[0-9]+_dirty_io").

match(Name, Re) -> re:run(Name, Re, [{capture, none}]) =:= match.

check_thread(B, Class, Name) ->
    case (expect(B, Class))(Name) of
        true -> ok;
        false -> erlang:error({wrong_thread, Class, Name})
    end.

%% The isolate's threads: the child's, named after its program (15 bytes).
child_thread(Name) -> Name =:= "nocopy_test_iso".

%% The thread class a call of each scheduling class must run on.
expect({iso, _}, _Class) -> fun child_thread/1;
expect(_, normal) -> fun normal_thread/1;
expect(nif, dirty_cpu) -> fun dirty_cpu_thread/1;
expect(nif, dirty_io) -> fun dirty_io_thread/1;
expect({drv, _}, _Dirty) -> fun(Name) -> not normal_thread(Name) end.

%% The driver port gets at least as many workers as there are schedulers.
workers() -> max(4, erlang:system_info(schedulers_online)).

%% The isolate gets a thread for each normal scheduler, and one more.
for_each_backend(Fun) ->
    nc_for_each_backend(Fun, [{drv_open, [{workers, workers()}]}, iso,
                              {iso_start, [{threads, erlang:system_info(schedulers_online) + 1}]}]).

%% ---- which thread runs a call --------------------------------------------------------

thread_test_() ->
    for_each_backend(
      fun(B) ->
              Bin = fun nc_big/1,
              Cases =
                  [{"normal function", thread_name, [], normal},
                   {"dirty CPU function", thread_name_dirty_cpu, [], dirty_cpu},
                   {"dirty IO function", thread_name_dirty_io, [], dirty_io},
                   {"dirty above: no binary", thread_name_above, [<<>>], normal},
                   {"dirty above: exactly the threshold", thread_name_above, [Bin(?ABOVE)], normal},
                   {"dirty above: one byte more", thread_name_above, [Bin(?ABOVE + 1)], dirty_cpu},
                   {"dirty above: 1 MiB", thread_name_above, [Bin(1 bsl 20)], dirty_cpu},
                   {"dirty above: two arguments summing to the threshold", thread_name_above2,
                    [Bin(500), Bin(500)], normal},
                   {"dirty above: two arguments one byte over", thread_name_above2,
                    [Bin(500), Bin(501)], dirty_cpu},
                   {"dirty above: list elements summing to the threshold",
                    thread_name_above_list, [[Bin(100) || _ <- lists:seq(1, 10)]], normal},
                   {"dirty above: list elements one byte over", thread_name_above_list,
                    [[Bin(101) | [Bin(100) || _ <- lists:seq(1, 9)]]], dirty_cpu},
                   {"dirty above: tuple elements summing to the threshold",
                    thread_name_above_tuple, [{Bin(400), x, Bin(600)}], normal},
                   {"dirty above: tuple elements one byte over", thread_name_above_tuple,
                    [{Bin(400), x, Bin(601)}], dirty_cpu},
                   {"dirty above: a sub-binary counts its own size", thread_name_above,
                    [binary:part(Bin(1 bsl 20), 0, ?ABOVE)], normal},
                   %% Binaries nested in iodata and tuples count too, within
                   %% the measure's bounds (4096 terms, 64 levels).
                   {"dirty above: nested iodata summing to the threshold",
                    thread_name_above_list, [[[Bin(100)] || _ <- lists:seq(1, 10)]], normal},
                   {"dirty above: nested iodata one byte over", thread_name_above_list,
                    [[[[Bin(101)]] | [[Bin(100)] || _ <- lists:seq(1, 9)]]], dirty_cpu},
                   {"dirty above: a binary in a tuple in a list", thread_name_above_list,
                    [[{x, Bin(?ABOVE + 1)}]], dirty_cpu},
                   {"dirty above: a binary in the tail of an improper list",
                    thread_name_above_list, [[1, 2 | Bin(?ABOVE + 1)]], dirty_cpu},
                   {"dirty above: 60 levels deep is measured", thread_name_above_list,
                    [nest(Bin(?ABOVE + 1), 60)], dirty_cpu},
                   {"dirty above: 70 levels deep is not (the bound)", thread_name_above_list,
                    [nest(Bin(?ABOVE + 1), 70)], normal},
                   {"dirty above: after 4096 terms is not (the bound)", thread_name_above_list,
                    [lists:duplicate(4096, 0) ++ [Bin(?ABOVE + 1)]], normal}],
              [{nc_title(B, io_lib:format("~s runs on ~s", [Title, class_name(B, Class)])),
                fun() ->
                        Name = binary_to_list(call(B, F, Args)),
                        check_thread(B, Class, Name)
                end}
               || {Title, F, Args, Class} <- Cases] ++
              [negative_control(B)]
      end).

negative_control({iso, _} = B) ->
    {nc_title(B, "negative control: the child's threads are told from the VM's"),
     fun() ->
             %% The same probe on the NIF runs on a VM thread, which is not
             %% the child's.
             N = binary_to_list(nocopy_test:thread_name()),
             D = binary_to_list(nocopy_test:thread_name_dirty_cpu()),
             ?assertNot(child_thread(N)),
             ?assertNot(child_thread(D)),
             ?assert(child_thread(binary_to_list(call(B, thread_name, []))))
     end};
negative_control(B) ->
    {nc_title(B, "negative control: the classes are told apart"),
     fun() ->
             N = binary_to_list(call(B, thread_name, [])),
             D = binary_to_list(call(B, thread_name_dirty_cpu, [])),
             ?assert(normal_thread(N)),
             ?assertNot(normal_thread(D)),
             ?assertNot((expect(B, dirty_cpu))(N))
     end}.

class_name({iso, _}, _) -> "a child thread, whatever its class";
class_name(_, Class) -> atom_to_list(Class).

nest(X, 0) -> X;
nest(X, N) -> nest([X], N - 1).

%% ---- normal schedulers stay responsive --------------------------------------------------

responsive_test_() ->
    for_each_backend(
      fun(B) ->
              [{nc_title(B, "dirty CPU calls blocking on every normal scheduler's worth"),
                {timeout, 180, fun() -> responsive(B, fun(T) -> call(B, gate_wait, [T]) end) end}},
               {nc_title(B, "dirty-above calls with large inputs, the same"),
                {timeout, 180,
                 fun() ->
                         Big = nc_big(1 bsl 20),
                         responsive(B, fun(T) -> call(B, gate_wait_above, [Big, T]) end)
                 end}}]
      end).

responsive(B, Blocking) ->
    Schedulers = erlang:system_info(schedulers_online),
    K = case B of
            nif -> min(Schedulers, erlang:system_info(dirty_cpu_schedulers_online));
            _ -> Schedulers
        end,
    ok = call(B, gate_close, []),
    {0, _, Timeouts0} = call(B, gate_stats, []),
    Self = self(),
    Callers = [spawn_monitor(fun() -> Self ! {gate, self(), Blocking(?GATE_MS)} end)
               || _ <- lists:seq(1, K)],
    %% All K calls are inside C, blocked.
    ?assert(nocopy_test_lib:wait_until(fun() -> element(1, call(B, gate_stats, [])) =:= K end,
                                       30000)),
    %% Meanwhile a new process is scheduled and exchanges 1000 messages.
    Pong = spawn_link(fun() -> pong() end),
    ok = ping(Pong, 1000),
    %% The K calls were blocked the whole time: none returned, none timed out.
    ?assertEqual({K, Timeouts0}, begin {W, _, T} = call(B, gate_stats, []), {W, T} end),
    ok = call(B, gate_open, []),
    Results = [receive {gate, Pid, R} -> R end || {Pid, _} <- Callers],
    [receive {'DOWN', Ref, process, Pid, normal} -> ok end || {Pid, Ref} <- Callers],
    ok = call(B, gate_close, []),
    [begin
         ?assertEqual(released, Status),
         check_thread(B, dirty_cpu, binary_to_list(Name))
     end || {Status, Name} <- Results].

ping(_Pong, 0) -> ok;
ping(Pong, N) ->
    Pong ! {ping, self()},
    receive pong -> ping(Pong, N - 1) end.

pong() ->
    receive {ping, From} -> From ! pong, pong() end.

%% ---- killing the caller of a dirty call -----------------------------------------------------

kill_test_() ->
    for_each_backend(
      fun(B) ->
              [{nc_title(B, "the caller of a dirty call is killed: the call ends, borrows end"),
                {timeout, 120, fun() -> kill_caller(B) end}}]
      end).

kill_caller(B) ->
    ok = call(B, gate_close, []),
    {H, Id} = call(B, new_counter_handle_id, []),
    {Pid, Ref} = spawn_monitor(fun() -> call(B, gate_wait_handle, [H, ?GATE_MS]) end),
    ?assert(nocopy_test_lib:wait_until(fun() -> element(1, call(B, gate_stats, [])) =:= 1 end,
                                       30000)),
    exit(Pid, kill),
    ok = call(B, gate_open, []),
    receive {'DOWN', Ref, process, Pid, killed} -> ok end,
    ?assert(nocopy_test_lib:wait_until(fun() -> element(1, call(B, gate_stats, [])) =:= 0 end,
                                       30000)),
    ok = call(B, gate_close, []),
    %% The handle still works (the killed call counted one use) ...
    ?assertEqual(2, call(B, use_handle, [H])),
    %% ... and once the dead caller's call has ended its borrow, closing it
    %% runs the destructor exactly once.
    ?assertEqual(ok, call(B, close_handle, [H])),
    nc_await(1, fun() -> call(B, handle_dtor_runs, [Id]) end).

%% ---- normal calls charge the time slice ------------------------------------------------

consume_test_() ->
    [{"nif: nocopy_consume charges reductions in proportion to bytes",
      fun() ->
              R0 = reductions(),
              ok = nocopy_test:consume(0),
              R1 = reductions(),
              ok = nocopy_test:consume(1 bsl 20),
              R2 = reductions(),
              %% A whole time slice is about 4000 reductions.
              ?assert((R2 - R1) - (R1 - R0) >= 1000)
      end},
     {"drv: nocopy_consume is a no-op (documented), the call still works",
      fun() ->
              B = nc_open([]),
              ?assertEqual(ok, call(B, consume, [1 bsl 20])),
              nc_close(B)
      end},
     {"iso: nocopy_consume is a no-op (documented), the call still works",
      fun() ->
              B = nc_start_iso(),
              ?assertEqual(ok, call(B, consume, [1 bsl 20])),
              nc_close(B)
      end}].

reductions() ->
    {reductions, R} = process_info(self(), reductions),
    R.
