%% nocopy_handles_tests: typed handles. The destructor runs exactly once:
%% after the last reference is collected (NIF), at an explicit close once no
%% call uses the object, or when the port closes (driver, whose handles live
%% in the port's table: see nocopy_port:handle()). A closed or wrong-type
%% handle is a badarg naming the argument. The tests of both/1 run on the
%% isolated backend too (its handles live in the child's table, as the
%% driver's in the port's; their death with the child is in
%% nocopy_iso_faults_tests).
%%
%% Each counter handle has an id, and the test module counts destructor runs
%% per id, so a test follows its own objects whatever other tests' garbage does.
%% OTP runs a NIF resource's destructor as scheduler aux work soon after the
%% last reference goes, so checks that follow a drop wait for the count
%% (nc_await); checks that nothing ran early, while references exist, are
%% immediate. An explicit close runs the destructor synchronously.
-module(nocopy_handles_tests).

-include("nocopy_test_util.hrl").

%% ---- both backends ---------------------------------------------------------------------

handles_test_() ->
    ?NC_FOR_ALL_THREE(fun(B) -> both(B) end).

both(B) ->
    [{nc_title(B, "explicit close runs the destructor once; later use is an error"),
      fun() ->
              {H, Id} = call(B, new_counter_handle_id, []),
              ?assertEqual(1, call(B, use_handle, [H])),
              ?assertEqual(0, call(B, handle_dtor_runs, [Id])),
              ?assertEqual(ok, call(B, close_handle, [H])),
              ?assertEqual(1, call(B, handle_dtor_runs, [Id])),
              nc_assert_badarg(B, use_handle, [H], 1, "the counter handle is closed"),
              nc_assert_badarg(B, close_handle, [H], 1, "the counter handle is closed"),
              nc_assert_badarg(B, use_handle_list, [[H]], 1, "the counter handle is closed"),
              ?assertEqual(1, call(B, handle_dtor_runs, [Id]))
      end},
     {nc_title(B, "closing inside a call: destroyed after the call returns"),
      fun() ->
              {H, Id} = call(B, new_counter_handle_id, []),
              %% Second close reports eclosed; the object stays usable (and
              %% undestroyed) until the call that closed it returns.
              ?assertEqual({ok, eclosed, 1, false}, call(B, close_twice, [H])),
              ?assertEqual(1, call(B, handle_dtor_runs, [Id]))
      end},
     {nc_title(B, "a handle type without destructor: same object each call, closed is an error"),
      fun() ->
              P = call(B, new_plain_handle, []),
              ?assertEqual(1, call(B, use_plain, [P])),
              ?assertEqual(2, call(B, use_plain, [P])),
              ?assertEqual(ok, call(B, close_plain, [P])),
              nc_assert_badarg(B, use_plain, [P], 1, "the plain handle is closed"),
              nc_assert_badarg(B, use_handle, [P], 1,
                               {prefix, "expected a counter handle, not a handle of type plain, got: "})
      end},
     {nc_title(B, "a handle closed and swept out of the table during a call stays the call's"),
      fun() ->
              P = call(B, new_plain_handle, []),
              ?assertEqual(1, call(B, use_plain, [P])),
              %% 300 new handles in the same call: the driver's table grows
              %% and sweeps destroyed handles (P among them) several times.
              {Intact, Made} = call(B, close_plain_churn, [P, 300]),
              ?assert(Intact),
              ?assertEqual(300, length(lists:usort(Made))),
              nc_assert_badarg(B, use_plain, [P], 1, "the plain handle is closed"),
              ?assertEqual([0], lists:usort([call(B, use_plain, [M]) || M <- Made]))
      end},
     {nc_title(B, "a handle's object is aligned to 8 bytes, as documented"),
      ?_assertEqual([0], lists:usort(call(B, handle_misalignment, [256])))},
     {nc_title(B, "nocopy_handle_close(NULL) is refused"),
      ?_assertEqual(ebadarg, call(B, close_null, []))},
     {nc_title(B, "wrong handle type is a badarg for either type"),
      fun() ->
              C = call(B, new_counter_handle, []),
              O = call(B, new_other_handle, []),
              {error, badarg, _} = nc_catch(B, use_handle, [O]),
              {error, badarg, _} = nc_catch(B, use_other, [C]),
              ?assertEqual(ok, call(B, use_other, [O])),
              ?assertEqual(1, call(B, use_handle, [C]))
      end},
     {nc_title(B, "handles are independent objects"),
      fun() ->
              {H1, H2} = call(B, new_handle_pair, []),
              ?assertEqual(1, call(B, use_handle, [H1])),
              ?assertEqual(2, call(B, use_handle, [H1])),
              ?assertEqual(1, call(B, use_handle, [H2])),
              ok = call(B, close_handle, [H1]),
              ?assertEqual(2, call(B, use_handle, [H2]))
      end},
     {nc_title(B, "a handle never given to Erlang is destroyed by its release"),
      fun() ->
              %% The count of destructor runs can also grow by other tests'
              %% garbage being collected meanwhile, never shrink.
              {Created0, Destroyed0, Bad0, _, _} = call(B, handle_stats, []),
              ?assertEqual(ok, call(B, new_unreturned_handle, [])),
              {Created1, _, _} = element_range(call(B, handle_stats, [])),
              ?assertEqual(Created0 + 1, Created1),
              %% Its id is the count of handles created before it.
              nc_await(1, fun() -> call(B, handle_dtor_runs, [Created0]) end),
              {_, Destroyed1, Bad1} = element_range(call(B, handle_stats, [])),
              ?assert(Destroyed1 >= Destroyed0 + 1),
              ?assertEqual(Bad0, Bad1)
      end},
     {nc_title(B, "an unlisted handle type is refused (einternal)"),
      fun() ->
              nc_assert_error(B, new_unlisted_handle, [], einternal,
                              {general, "handle type unlisted is not listed in the "
                                        "module's handle_types"})
      end},
     {nc_title(B, "close while another call uses the handle: destroyed when it returns"),
      {timeout, 60, fun() -> close_while_used(B) end}},
     {nc_title(B, "many handles, closed explicitly: each destructor once"),
      fun() ->
              Pairs = [call(B, new_counter_handle_id, []) || _ <- lists:seq(1, 500)],
              [ok = call(B, close_handle, [H]) || {H, _} <- Pairs],
              ?assertEqual([1], lists:usort([call(B, handle_dtor_runs, [Id]) || {_, Id} <- Pairs])),
              ?assertEqual(0, element(3, call(B, handle_stats, [])))
      end}].

element_range({C, D, Bad, _, _}) -> {C, D, Bad}.

%% A dirty call holds the handle (blocked on the gate) while another process
%% closes it: the close succeeds, new calls are refused, and the destructor
%% waits for the holding call to return.
close_while_used(B) ->
    ok = call(B, gate_close, []),
    {H, Id} = call(B, new_counter_handle_id, []),
    %% No waiter yet: read before the holder starts (read after, it raced the
    %% holder's call on a child or worker thread: {1,0,0} in make asan).
    {0, _, _} = call(B, gate_stats, []),
    Self = self(),
    {Pid, Ref} = spawn_monitor(fun() -> Self ! {self(), call(B, gate_wait_handle, [H, 30000])} end),
    true = nocopy_test_lib:wait_until(fun() -> element(1, call(B, gate_stats, [])) =:= 1 end,
                                      30000),
    ?assertEqual(ok, call(B, close_handle, [H])),
    ?assertEqual(0, call(B, handle_dtor_runs, [Id])),
    nc_assert_badarg(B, use_handle, [H], 1, "the counter handle is closed"),
    ok = call(B, gate_open, []),
    receive {Pid, Result} -> ?assertEqual({released, true}, Result) end,
    receive {'DOWN', Ref, process, Pid, _} -> ok end,
    ok = call(B, gate_close, []),
    ?assertEqual(1, call(B, handle_dtor_runs, [Id])).

%% ---- NIF: lifetime follows Erlang references --------------------------------------------

gc_test_() ->
    [{"nif: destructor once, after the last reference is collected (1000 handles)",
      fun() ->
              nocopy_test_lib:gc_all(),
              Live0 = settled_live(),
              H = nc_holder(),
              Ids = nc_holder_run(H, fun(_) ->
                                             Pairs = [nocopy_test:new_counter_handle_id()
                                                      || _ <- lists:seq(1, 1000)],
                                             [1 = nocopy_test:use_handle(X) || {X, _} <- Pairs],
                                             {Pairs, [Id || {_, Id} <- Pairs]}
                                     end),
              ?assertEqual(Live0 + 1000, nocopy_test:live_handles()),
              ?assertEqual([0], lists:usort([nocopy_test:handle_dtor_runs(I) || I <- Ids])),
              ok = nc_holder_drop(H),
              nc_await([1], fun() -> lists:usort([nocopy_test:handle_dtor_runs(I) || I <- Ids]) end),
              ?assertEqual(Live0, nocopy_test:live_handles()),
              nc_holder_stop(H),
              ?assertEqual(0, element(3, nocopy_test:handle_stats()))
      end},
     {"nif: a handle shared by two processes lives until both drop it",
      fun() ->
              H1 = nc_holder(),
              H2 = nc_holder(),
              {Handle, Id} = nc_holder_run(H1, fun(_) ->
                                                       {X, I} = nocopy_test:new_counter_handle_id(),
                                                       {X, {X, I}}
                                               end),
              ok = nc_holder_run(H2, fun(_) -> {Handle, ok} end),
              ok = nc_holder_drop(H1),
              erlang:garbage_collect(),
              ?assertEqual(0, nocopy_test:handle_dtor_runs(Id)),
              ?assertEqual(1, nc_holder_run(H2, fun([X]) -> {X, nocopy_test:use_handle(X)} end)),
              ok = nc_holder_drop(H2),
              nc_await(1, fun() -> nocopy_test:handle_dtor_runs(Id) end),
              nc_holder_stop(H1),
              nc_holder_stop(H2)
      end},
     {"nif: closed then collected: the destructor does not run again",
      fun() ->
              H = nc_holder(),
              Id = nc_holder_run(H, fun(_) ->
                                            {X, I} = nocopy_test:new_counter_handle_id(),
                                            ok = nocopy_test:close_handle(X),
                                            {X, I}
                                    end),
              ?assertEqual(1, nocopy_test:handle_dtor_runs(Id)),
              ok = nc_holder_drop(H),
              %% Give a second destructor run every chance to happen: wait
              %% for another handle's collection, which is queued after it.
              ProbeId = nc_holder_run(H, fun(_) ->
                                                 {P, I} = nocopy_test:new_counter_handle_id(),
                                                 {P, I}
                                         end),
              ok = nc_holder_drop(H),
              nc_await(1, fun() -> nocopy_test:handle_dtor_runs(ProbeId) end),
              ?assertEqual(1, nocopy_test:handle_dtor_runs(Id)),
              nc_holder_stop(H)
      end},
     {"nif: a C reference (nocopy_handle_keep) outlives the Erlang terms",
      fun() ->
              0 = nocopy_test:release_kept_handles(),
              H = nc_holder(),
              Id = nc_holder_run(H, fun(_) ->
                                            {X, I} = nocopy_test:new_counter_handle_id(),
                                            ok = nocopy_test:keep_handle(X),
                                            {X, I}
                                    end),
              ok = nc_holder_drop(H),
              ?assertEqual(0, nocopy_test:handle_dtor_runs(Id)),
              ?assertEqual(1, nocopy_test:release_kept_handles()),
              nc_await(1, fun() -> nocopy_test:handle_dtor_runs(Id) end),
              nc_holder_stop(H)
      end},
     {"nif: handles of a process that exits are destroyed by its exit",
      fun() ->
              Self = self(),
              {Pid, Ref} = spawn_monitor(
                             fun() ->
                                     Ids = [element(2, nocopy_test:new_counter_handle_id())
                                            || _ <- lists:seq(1, 100)],
                                     Self ! {ids, self(), Ids}
                             end),
              Ids = receive {ids, Pid, L} -> L end,
              receive {'DOWN', Ref, process, Pid, normal} -> ok end,
              nc_await([1], fun() -> lists:usort([nocopy_test:handle_dtor_runs(I) || I <- Ids]) end)
      end},
     {"nif: the live counter returns to its baseline",
      fun() ->
              nocopy_test_lib:gc_all(),
              Live0 = settled_live(),
              [begin
                   H = nc_holder(),
                   nc_holder_run(H, fun(_) -> {[nocopy_test:new_counter_handle() || _ <- lists:seq(1, 100)], ok} end),
                   ?assert(nocopy_test:live_handles() >= Live0 + 100),
                   ok = nc_holder_drop(H),
                   nc_holder_stop(H)
               end || _ <- lists:seq(1, 10)],
              nc_await(Live0, fun() -> nocopy_test:live_handles() end),
              ?assertEqual(0, element(3, nocopy_test:handle_stats()))
      end}].

%% ---- driver: lifetime follows the port ------------------------------------------------------

port_close_test_() ->
    [{"drv: closing the port destroys its handles, each once",
      fun() ->
              {drv, Port} = B = nc_open([]),
              Ids = [element(2, call(B, new_counter_handle_id, [])) || _ <- lists:seq(1, 100)],
              {H, Id0} = call(B, new_counter_handle_id, []),
              ok = call(B, close_handle, [H]),
              ?assertEqual([0], lists:usort([call(B, handle_dtor_runs, [I]) || I <- Ids])),
              nc_close(B),
              {drv, Other} = B2 = nc_open([]),
              ?assert(Other =/= Port),
              %% Globals of the driver library are shared by its ports.
              ?assertEqual([1], lists:usort([call(B2, handle_dtor_runs, [I]) || I <- Ids])),
              ?assertEqual(1, call(B2, handle_dtor_runs, [Id0])),
              nc_close(B2)
      end},
     {"drv: a handle of another port is refused",
      fun() ->
              B1 = nc_open([]),
              B2 = nc_open([]),
              H = call(B1, new_counter_handle, []),
              {error, badarg, St} = nc_catch(B2, use_handle, [H]),
              ?assertMatch(#{2 := _}, nocopy_test_lib:error_strings(badarg, St)),
              ?assertEqual(1, call(B1, use_handle, [H])),
              nc_close(B1),
              nc_close(B2)
      end},
     {"drv: a NIF handle is refused by the driver, and the reverse",
      fun() ->
              B = nc_open([]),
              NifH = nocopy_test:new_counter_handle(),
              DrvH = call(B, new_counter_handle, []),
              {error, badarg, _} = nc_catch(B, use_handle, [NifH]),
              {error, badarg, _} = nc_catch(nif, use_handle, [DrvH]),
              nc_close(B)
      end}].

%% The live count once the handles of earlier tests have finished dying: the
%% runtime runs resource destructors as scheduler aux work after a collection,
%% not during it, so a count read right after nocopy_test_lib:gc_all/0 may still fall.
settled_live() ->
    nocopy_test_lib:gc_all(),
    settled_live(nocopy_test:live_handles(), 100).

settled_live(Last, 0) ->
    Last;
settled_live(Last, Tries) ->
    receive after 10 -> ok end,
    case nocopy_test:live_handles() of
        Last -> Last;
        Now -> settled_live(Now, Tries - 1)
    end.
