%% nocopy_reload_tests: module lifecycle. The NIF module survives code
%% upgrades (load over loaded code: the resource types are taken over, so
%% handles stay valid) and full purge/reload cycles (jiffy's "purge and reload
%% twice"); a handle made before a full purge belongs to the purged instance:
%% it is refused as a wrong-type handle, never a crash, and still destroyed
%% exactly once. The driver's ports can be closed and reopened, and its client
%% module reloaded with a port open.
-module(nocopy_reload_tests).

-include("nocopy_test_util.hrl").

%% Every test leaves nocopy_test loaded, so later suites find it.
reload_test_() ->
    {foreach, fun() -> ok end, fun(_) -> {module, nocopy_test} = code:ensure_loaded(nocopy_test) end,
     [{"nif: upgrade twice (load over loaded code); handles stay valid",
       fun upgrade_twice/0},
      {"nif: purge, delete and load again, twice",
       fun purge_twice/0},
      {"nif: a handle from before a full purge is refused cleanly, destroyed once",
       fun handle_across_purge/0},
      {"nif: kept binaries and foreign memory across an upgrade",
       fun kept_across_upgrade/0}]}.

works() ->
    ?assertEqual(42, nocopy_test:echo_i64(42)),
    Big = nc_big(100000),
    ?assertEqual(nocopy_test:address_of(Big), nocopy_test:address_of(Big)),
    H = nocopy_test:new_counter_handle(),
    ?assertEqual(1, nocopy_test:use_handle(H)),
    {error, badarg, _} = nc_catch(nif, echo_i64, [foo]),
    ok.

upgrade_twice() ->
    {H, Id} = nocopy_test:new_counter_handle_id(),
    ?assertEqual(1, nocopy_test:use_handle(H)),
    [begin
         ?assertEqual({module, nocopy_test}, code:load_file(nocopy_test)),
         ?assert(erlang:check_old_code(nocopy_test)),
         %% Nothing runs the old code, so it goes without killing anyone.
         ?assert(code:soft_purge(nocopy_test)),
         works(),
         ?assertEqual(N + 1, nocopy_test:use_handle(H))
     end || N <- [1, 2]],
    ok = nocopy_test:close_handle(H),
    ?assertEqual(1, nocopy_test:handle_dtor_runs(Id)).

purge_twice() ->
    [begin
         code:purge(nocopy_test),
         ?assert(code:delete(nocopy_test)),
         code:purge(nocopy_test),
         ?assertNot(erlang:module_loaded(nocopy_test)),
         ?assertEqual({module, nocopy_test}, code:load_file(nocopy_test)),
         works()
     end || _ <- [1, 2]],
    ok.

handle_across_purge() ->
    Holder = nc_holder(),
    {H, Id} = nc_holder_run(Holder, fun(_) ->
                                            {X, I} = nocopy_test:new_counter_handle_id(),
                                            {X, {X, I}}
                                    end),
    code:purge(nocopy_test),
    true = code:delete(nocopy_test),
    code:purge(nocopy_test),
    ?assertEqual({module, nocopy_test}, code:load_file(nocopy_test)),
    works(),
    nc_assert_badarg(nif, use_handle, [H], 1, {prefix, "expected a counter handle"}),
    %% The purged instance's destructor still runs, once, when the term goes.
    ok = nc_holder_drop(Holder),
    erlang:garbage_collect(),
    nc_holder_stop(Holder),
    nc_await(1, fun() -> nocopy_test:handle_dtor_runs(Id) end).

kept_across_upgrade() ->
    Big = nc_big(300000),
    KAddr = nocopy_test:keep_put(0, Big),
    {Foreign, FAddr} = nocopy_test:foreign_new(100000, 3),
    ?assertEqual({module, nocopy_test}, code:load_file(nocopy_test)),
    ?assert(code:soft_purge(nocopy_test)),
    Got = nocopy_test:keep_get_all(0),
    ?assertEqual(Big, Got),
    ?assertEqual(KAddr, nocopy_test:address_of(Got)),
    ?assertEqual(FAddr, nocopy_test:address_of(Foreign)),
    ?assert(nocopy_test:keep_release(0)).

%% ---- driver ------------------------------------------------------------------------

driver_test_() ->
    [{"drv: close and reopen a port three times",
      fun() ->
              [begin
                   B = nc_open([]),
                   ?assertEqual(42, call(B, echo_i64, [42])),
                   Big = nc_big(100000),
                   ?assertEqual(nocopy_test:address_of(Big), call(B, address_of, [Big])),
                   nc_close(B),
                   {drv, Port} = B,
                   ?assertEqual(undefined, erlang:port_info(Port))
               end || _ <- [1, 2, 3]]
      end},
     {"drv: the client module reloaded twice while a port is open",
      fun() ->
              B = nc_open([]),
              [begin
                   code:purge(nocopy_test_drv),
                   ?assertEqual({module, nocopy_test_drv}, code:load_file(nocopy_test_drv)),
                   ?assertEqual(42, call(B, echo_i64, [42]))
               end || _ <- [1, 2]],
              nc_close(B)
      end},
     {"drv: two ports at once are independent",
      fun() ->
              B1 = nc_open([]),
              B2 = nc_open([]),
              H1 = call(B1, new_counter_handle, []),
              H2 = call(B2, new_counter_handle, []),
              ?assertEqual(1, call(B1, use_handle, [H1])),
              nc_close(B1),
              ?assertEqual(1, call(B2, use_handle, [H2])),
              nc_close(B2)
      end}].
