%% nocopy_misuse_tests: every misuse of a generated or generic entry point is
%% error:badarg (or a documented nocopy reason) with error_info naming the
%% argument at fault, raised from the function the caller called, with its own
%% arguments; and ports cannot be mixed up: a port of another module, or a
%% port that is not a nocopy driver at all, is refused without running
%% anything and without waiting.
%%
%% Uses the README's example (sums), the seed demo (gss_demo) and the test
%% module (nocopy_test, which counts what it runs).
-module(nocopy_misuse_tests).

-include("nocopy_test_util.hrl").

%% Runs Fun, which must raise error:Reason from Mod:F called with exactly
%% Args, with error_info whose formatted text for Key (an argument number or
%% `general') is Text, as the shell prints it.
expect(Reason, {Mod, F, Args}, Key, Text, Fun) ->
    try Fun() of
        V -> erlang:error({expected_error, Reason, {returned, V}})
    catch
        error:Got:St ->
            ?assertEqual(Reason, Got),
            [{M, Fn, A, Info} | _] = St,
            ?assertEqual({Mod, F, Args}, {M, Fn, A}),
            ?assertMatch(#{module := nocopy}, proplists:get_value(error_info, Info)),
            ?assertEqual(#{Key => Text}, nocopy_test_lib:error_strings(Got, St)),
            Shown = unicode:characters_to_list(erl_error:format_exception(error, Got, St)),
            Line = case Key of
                       general -> Text;
                       N -> lists:flatten(io_lib:format("argument ~b: ~ts", [N, Text]))
                   end,
            ?assert(nc_contains(Shown, Line))
    end.

big() -> nc_big(1000).

with_port(Module, Fun) ->
    {ok, P} = Module:open(),
    try Fun(P) after Module:close(P) end.

%% ---- a result built from an argument of the wrong type ------------------------------

%% sums:middle/3 slices argument 1 without reading it first (the README's
%% example): a non-binary there is a badarg on argument 1, not einternal.
slice_of_wrong_type_test_() ->
    [{"nif: sums:middle(foo, 0, 10)",
      fun() -> expect(badarg, {sums, middle, [foo, 0, 10]}, 1, "expected a binary, got: foo",
                      fun() -> sums:middle(foo, 0, 10) end)
      end},
     {"drv: sums_drv:middle(P, foo, 0, 10)",
      fun() ->
              with_port(sums_drv, fun(P) ->
                  expect(badarg, {sums_drv, middle, [P, foo, 0, 10]}, 2,
                         "expected a binary, got: foo",
                         fun() -> sums_drv:middle(P, foo, 0, 10) end)
              end)
      end}
     | ?NC_FOR_EACH_BACKEND(fun slice_cases/1)].

slice_cases(B) ->
    [{nc_title(B, "slice_unread(" ++ T ++ ")"),
      fun() -> nc_assert_badarg(B, slice_unread, [Arg, 0, 1], 1, nc_got("expected a binary", Arg))
      end}
     || {T, Arg} <- [{"an atom", foo}, {"a tuple whose last element is no binary", {x, 1.5}},
                     {"a bitstring", <<1:7>>}]]
    ++ [{nc_title(B, "slice_unread of a binary still works"),
         ?_assertEqual(<<"bc">>, call(B, slice_unread, [<<"abcd">>, 1, 2]))},
        {nc_title(B, "slice_unread of a tuple's last element"),
         ?_assertEqual(<<"bc">>, call(B, slice_unread, [{x, <<"abcd">>}, 1, 2]))}].

%% ---- the generic driver API ---------------------------------------------------------

generic_api_test_() ->
    {setup, spawn, fun() -> {ok, P} = sums_drv:open(), P end, fun sums_drv:close/1,
     fun(P) ->
             Big = big(),
             Funs = "(it has checksum/2, middle/3)",
             Timeout = "expected a timeout (infinity or milliseconds, 0..4294967295)",
             [{"call/3: Args not a list",
               fun() -> expect(badarg, {sums_drv, call, [P, middle, notalist]}, 3,
                               "expected a list of arguments, got: notalist",
                               fun() -> sums_drv:call(P, middle, notalist) end)
               end},
              {"call/3: no such function",
               fun() -> expect(badarg, {sums_drv, call, [P, nosuch, []]}, 2,
                               "sums_drv has no function nosuch with 0 arguments " ++ Funs,
                               fun() -> sums_drv:call(P, nosuch, []) end)
               end},
              {"call/3: the function with another number of arguments",
               fun() -> expect(badarg, {sums_drv, call, [P, middle, [Big]]}, 2,
                               "sums_drv has no function middle with 1 arguments " ++ Funs,
                               fun() -> sums_drv:call(P, middle, [Big]) end)
               end},
              {"call/3: Fun not an atom",
               fun() -> expect(badarg, {sums_drv, call, [P, "middle", [Big, 0, 1]]}, 2,
                               "expected the name of a function (an atom), got: \"middle\"",
                               fun() -> sums_drv:call(P, "middle", [Big, 0, 1]) end)
               end},
              {"call/3: not a port",
               fun() -> expect(badarg, {sums_drv, call, [foo, middle, [Big, 0, 1]]}, 1,
                               "expected a port, got: foo",
                               fun() -> sums_drv:call(foo, middle, [Big, 0, 1]) end)
               end},
              {"call/3: a bad element of Args names the element",
               fun() -> expect(badarg, {sums_drv, call, [P, middle, [foo, 0, 1]]}, 3,
                               "element 1: expected a binary",
                               fun() -> sums_drv:call(P, middle, [foo, 0, 1]) end)
               end},
              {"call/3: works",
               ?_assertEqual(binary:part(Big, 3, 100), sums_drv:call(P, middle, [Big, 3, 100]))},
              {"call/4: bad timeouts",
               [fun() -> expect(badarg, {sums_drv, call, [P, middle, [Big, 0, 1], T]}, 4,
                                lists:flatten(io_lib:format("~s, got: ~0tP", [Timeout, T, 12])),
                                fun() -> sums_drv:call(P, middle, [Big, 0, 1], T) end)
                end || T <- [foo, -1, 1.5, 1 bsl 32]]},
              {"async/3: no such function, not a port, Args not a list",
               fun() ->
                       expect(badarg, {sums_drv, async, [P, nosuch, []]}, 2,
                              "sums_drv has no function nosuch with 0 arguments " ++ Funs,
                              fun() -> sums_drv:async(P, nosuch, []) end),
                       expect(badarg, {sums_drv, async, [foo, middle, [Big, 0, 1]]}, 1,
                              "expected a port, got: foo",
                              fun() -> sums_drv:async(foo, middle, [Big, 0, 1]) end),
                       expect(badarg, {sums_drv, async, [P, middle, x]}, 3,
                              "expected a list of arguments, got: x",
                              fun() -> sums_drv:async(P, middle, x) end)
               end},
              {"await/1,2: not a reference, bad timeout",
               fun() ->
                       expect(badarg, {sums_drv, await, [foo]}, 1,
                              "expected a reference from async/3, got: foo",
                              fun() -> sums_drv:await(foo) end),
                       Ref = sums_drv:async(P, middle, [Big, 0, 1]),
                       expect(badarg, {sums_drv, await, [Ref, foo]}, 2,
                              Timeout ++ ", got: foo",
                              fun() -> sums_drv:await(Ref, foo) end),
                       ?assertEqual(binary:part(Big, 0, 1), sums_drv:await(Ref, 5000))
               end},
              {"await/2: a bad argument of the call is general, naming it",
               fun() ->
                       Ref = sums_drv:async(P, middle, [foo, 0, 1]),
                       expect(badarg, {sums_drv, await, [Ref, 5000]}, general,
                              "argument 1: expected a binary",
                              fun() -> sums_drv:await(Ref, 5000) end)
               end},
              {"open/1: not a list",
               fun() -> expect(badarg, {sums_drv, open, [foo]}, 1,
                               "expected a list of options, got: foo",
                               fun() -> sums_drv:open(foo) end)
               end},
              {"open/1: a bad option is a documented error value",
               ?_assertEqual({error, {bad_option, {workers, 0}}}, sums_drv:open([{workers, 0}]))},
              {"close/1: not a port",
               fun() -> expect(badarg, {sums_drv, close, [foo]}, 1, "expected a port, got: foo",
                               fun() -> sums_drv:close(foo) end)
               end},
              {"a function stub: not a port",
               fun() -> expect(badarg, {sums_drv, middle, [foo, Big, 0, 1]}, 1,
                               "expected a port, got: foo",
                               fun() -> sums_drv:middle(foo, Big, 0, 1) end)
               end},
              {"a function stub: a closed port is eclosed",
               fun() ->
                       {ok, Q} = sums_drv:open(),
                       ok = sums_drv:close(Q),
                       expect(eclosed, {sums_drv, middle, [Q, Big, 0, 1]}, general,
                              "the port is closed",
                              fun() -> sums_drv:middle(Q, Big, 0, 1) end)
               end}]
     end}.

%% ---- ports that cannot be mixed up --------------------------------------------------

mixed_up_ports_test_() ->
    {setup, spawn,
     fun() -> {element(2, sums_drv:open()), element(2, gss_demo_drv:open())} end,
     fun({S, G}) -> sums_drv:close(S), gss_demo_drv:close(G) end,
     fun({S, G}) ->
             Big = big(),
             [{"gss_demo_drv:wrap on a sums port",
               fun() -> expect(badarg, {gss_demo_drv, wrap, [S, ctx, default, Big]}, 1,
                               "the port runs sums_drv, not gss_demo_drv",
                               fun() -> gss_demo_drv:wrap(S, ctx, default, Big) end)
               end},
              {"sums_drv:middle on a gss_demo port",
               fun() -> expect(badarg, {sums_drv, middle, [G, Big, 0, 10]}, 1,
                               "the port runs gss_demo_drv, not sums_drv",
                               fun() -> sums_drv:middle(G, Big, 0, 10) end)
               end},
              {"sums_drv:call/3 on a gss_demo port",
               fun() -> expect(badarg, {sums_drv, call, [G, middle, [Big, 0, 10]]}, 1,
                               "the port runs gss_demo_drv, not sums_drv",
                               fun() -> sums_drv:call(G, middle, [Big, 0, 10]) end)
               end},
              {"sums_drv:async/3 on a gss_demo port: refused before anything is sent",
               fun() -> expect(badarg, {sums_drv, async, [G, middle, [Big, 0, 10]]}, 1,
                               "the port runs gss_demo_drv, not sums_drv",
                               fun() -> sums_drv:async(G, middle, [Big, 0, 10]) end)
               end},
              {"each port still works for its own module",
               fun() ->
                       ?assertEqual(binary:part(Big, 0, 10), sums_drv:middle(S, Big, 0, 10)),
                       ?assertMatch({0, 0, _, _, _},
                                    gss_demo_drv:wrap(G, gss_demo_drv:new_context(G, key()),
                                                      default, Big))
               end}]
     end}.

key() -> binary:copy(<<7>>, 32).

%% A request made for another module is refused before the function runs: a
%% request for nocopy_test's new_counter_handle/0 with a wrong fingerprint
%% creates no handle. Dirty functions are refused at once too, never queued.
wrong_module_runs_nothing_test() ->
    {ok, P} = nocopy_test_drv:open(),
    try
        Index = nocopy_test_drv:'$index'(new_counter_handle, 0),
        {Created, _, _, _, _} = nocopy_test_drv:handle_stats(P),
        Fp = nocopy_test_drv:'$fingerprint'() bxor 1,
        true = erlang:port_command(P, nocopy_wire:request(P, Fp, 5, Index, [])),
        ?assertEqual({nocopy_error, 5, {'$nocopy_error', badarg, {wrong_port, <<"nocopy_test_drv">>}}},
                     receive {_, 5, _} = R -> R after 5000 -> no_reply end),
        ?assertEqual(Created, element(1, nocopy_test_drv:handle_stats(P))),
        %% gate_wait is a dirty function (a worker's): answered at once too.
        expect(badarg, {nocopy_prop_drv, echo, [P, x]}, 1,
               "the port runs nocopy_test_drv, not nocopy_prop_drv",
               fun() -> nocopy_prop_drv:echo(P, x) end),
        {ok, Q} = nocopy_prop_drv:open(),
        expect(badarg, {nocopy_test_drv, gate_wait, [Q, 60000]}, 1,
               "the port runs nocopy_prop_drv, not nocopy_test_drv",
               fun() -> nocopy_test_drv:gate_wait(Q, 60000) end),
        nocopy_prop_drv:close(Q)
    after
        nocopy_test_drv:close(P)
    end.

%% A port that is not a nocopy driver would never answer: it is refused
%% before the caller waits (the test's own timeout would fail a hang).
foreign_ports_test_() ->
    Big = big(),
    [{"a port of an external program (cat)",
      fun() ->
              Cat = cat(),
              try
                  Text = "the port runs /bin/cat, not sums_drv",
                  expect(badarg, {sums_drv, middle, [Cat, Big, 0, 10]}, 1, Text,
                         fun() -> sums_drv:middle(Cat, Big, 0, 10) end),
                  expect(badarg, {sums_drv, call, [Cat, middle, [Big, 0, 10]]}, 1, Text,
                         fun() -> sums_drv:call(Cat, middle, [Big, 0, 10]) end),
                  expect(badarg, {sums_drv, async, [Cat, middle, [Big, 0, 10]]}, 1, Text,
                         fun() -> sums_drv:async(Cat, middle, [Big, 0, 10]) end)
              after
                  close_cat(Cat)
              end
      end},
     {"a port of a driver built into the runtime (udp_inet)",
      fun() ->
              {ok, Sock} = gen_udp:open(0),
              try
                  expect(badarg, {sums_drv, middle, [Sock, Big, 0, 10]}, 1,
                         "the port runs udp_inet, not sums_drv",
                         fun() -> sums_drv:middle(Sock, Big, 0, 10) end),
                  %% The socket answered the bytes it was sent, as it would.
                  receive {inet_reply, Sock, {error, _}} -> ok after 5000 -> ok end
              after
                  gen_udp:close(Sock)
              end
      end},
     {"a process that checked one port is not fooled by another",
      fun() ->
              {ok, P} = sums_drv:open([{inline, false}]),
              Cat = cat(),
              try
                  %% inline=false: the reply is never there at once, so the
                  %% port is checked (and remembered) before waiting.
                  ?assertEqual(binary:part(Big, 0, 10), sums_drv:middle(P, Big, 0, 10)),
                  expect(badarg, {sums_drv, middle, [Cat, Big, 0, 10]}, 1,
                         "the port runs /bin/cat, not sums_drv",
                         fun() -> sums_drv:middle(Cat, Big, 0, 10) end),
                  ?assertEqual(binary:part(Big, 1, 10), sums_drv:middle(P, Big, 1, 10))
              after
                  close_cat(Cat),
                  sums_drv:close(P)
              end
      end}].

%% An external program that reads what it is sent and echoes it back.
cat() ->
    open_port({spawn_executable, "/bin/cat"}, [binary]).

%% Takes back everything cat echoed before closing it, so that cat never
%% writes into a closed pipe.
close_cat(Cat) ->
    {output, Sent} = erlang:port_info(Cat, output),
    drain(Cat, Sent),
    port_close(Cat).

drain(_Cat, 0) -> ok;
drain(Cat, Left) ->
    receive {Cat, {data, D}} -> drain(Cat, Left - byte_size(D)) after 5000 -> ok end.
