%% nocopy_prop_tests: property tests (PropEr) on both backends, run by EUnit.
%%
%% Random and adversarial terms (deep nesting, bignums and 64-bit edges,
%% floats, improper lists, sub-binaries at odd offsets, byte-sized binaries at
%% bit offsets, bitstrings, binaries of 0-70 and 250-260 bytes, handles of
%% the wrong type, closed, forged or of another port, pids, refs, maps, funs)
%% are fed to every argument reader of the native test module `nocopy_test',
%% and the outcome is compared with a model written here from nocopy.h:
%% either the value the model predicts, or error:badarg whose error_info
%% names the right argument (shifted past the port on the driver), or one of
%% the documented status errors. Anything else fails, and so does a crash.
%%
%% Round trips: every result form (integers, floats, atoms, the four binary
%% forms, tuples, lists, handles) and, through `nocopy_prop:echo/1' (C reads a
%% term with the API and rebuilds it), the driver's wire format: encoded in
%% Erlang, decoded in C, answered by the driver's term builder, compared.
%% The driver also gets raw garbage and mutated requests on its port.
%%
%% Cases per property: NOCOPY_PROPER_NUMTESTS (default 100, so `make test'
%% stays fast); `make proper' and `make stress' run thousands.
%%
%% This module holds the properties and their EUnit entry; the generators are
%% in nocopy_prop_gen, the model in nocopy_prop_model, what the three share in
%% nocopy_prop_util.hrl.
-module(nocopy_prop_tests).

-include_lib("eunit/include/eunit.hrl").
-include("nocopy_proper.hrl").

-import(proper_types, [integer/0, binary/0, binary/1, vector/2, range/2, elements/1, oneof/1,
                       frequency/1]).
-import(nocopy_prop_gen, [any/1, int/0, float_any/0, atom_any/0, reader_arg/1, result_case/0,
                          mutated_request/1, lying_request/4, bad_ref_request/1]).
-import(nocopy_prop_model, [readers/0, model/3, run_result/2, echo_model/3, agrees/3,
                            matches/2, badarg_named/2]).

%% After the imports: it defines functions.
-include("nocopy_prop_util.hrl").

%% ---------------------------------------------------------------------------
%% EUnit entry: one test per property and backend
%% ---------------------------------------------------------------------------

prop_test_() ->
    {setup, fun setup/0, fun cleanup/1,
     fun(Backends) ->
             [{Title, {timeout, 600, fun() -> check(Title, Prop) end}}
              || B <- Backends, {Title, Prop} <- properties(B)]
     end}.

properties(B) ->
    N = name(B),
    [{N ++ ": every reader, any term: the model's value or a documented error",
      prop_readers(B)},
     {N ++ ": results of every form equal the model", prop_results(B)},
     {N ++ ": echo through the API (driver: the wire format) equals the model",
      prop_echo(B)},
     {N ++ ": several arguments at once, echoed", prop_echo_args(B)}]
        ++ case B of
               nif -> [];
               _ -> [{N ++ ": garbage and mutated requests get eproto or a reply",
                      prop_wire_garbage(B)},
                     {N ++ ": requests that lie about their sizes get eproto, at once",
                      prop_wire_lies(B)},
                     {N ++ ": a port of another module, or no nocopy port, runs nothing",
                      prop_wrong_port(B)}]
           end.

%% Bugs found by these properties and fixed since, kept as regression tests:
%%   H1 stubgen: an argument named Reason or Cause captured the stub's catch
%%      pattern, so errors escaped unconverted as {'$nocopy_error', ...}.
%%   H4 nocopy:format_error/2 returned {error, _, _} instead of a string when
%%      the C error text was not UTF-8, and erl_error:format_exception/3 then
%%      crashed.
%%   H5 driver: a request whose reference tag the runtime refuses got no reply
%%      at all; now it gets an eproto reply tagged undefined.
%%   H3 driver: every nocopy_make_handle of an object already in the port's
%%      table took a new slot (and id) until the port closed; now the same id.
%%   (H2, non-ASCII atom names in a module's table, is now refused when the
%%   stubs are generated: see nocopy_stubgen_tests.)
fixed_bugs_test_() ->
    {setup, fun setup/0, fun cleanup/1,
     fun(Backends) ->
             [{"H1 " ++ name(B) ++ ": return_error(Reason) not in the table: "
               "error:badarg with error_info",
               fun() -> true = badarg_named(1 + shift(B), stack_of(
                            fun() -> t(B, return_error, [not_in_any_table]) end))
               end} || B <- Backends]
                 ++ [{"H4 " ++ name(B) ++ ": a non-UTF-8 error text still formats",
                      fun() ->
                              St = stack_of(fun() -> t(B, fail_badarg, [0, <<250>>, x]) end),
                              true = badarg_named(1 + shift(B), St),
                              ?assert(is_list(erl_error:format_exception(error, badarg, St)))
                      end} || B <- Backends]
                 ++ [{"H5 drv: a reference tag the runtime refuses still gets a reply",
                      fun() ->
                              true = erlang:port_command(PP, bad_ref_request(PP)),
                              ?assertMatch({nocopy_reply, undefined,
                                            {'$nocopy_error', eproto, {general, _}}},
                                           receive R -> R after 4000 -> no_reply end)
                      end} || {drv, _, PP} <- Backends]
                 ++ [{"H3 drv: echoing one handle 100 times gives one id, one table slot",
                      fun() ->
                              H = p(B, new_handle, []),
                              Ids = lists:usort([Id || _ <- lists:seq(1, 100),
                                                       {_, _, Id} <- [p(B, echo, [H])]]),
                              ?assertEqual([element(3, H)], Ids)
                      end} || {drv, _, _} = B <- Backends]
     end}.

stack_of(Fun) ->
    try Fun() of
        V -> {returned, V}
    catch
        error:badarg:St -> St;
        error:Other:St -> {wrong_reason, Other, St}
    end.

check(Title, Prop) ->
    io:format(user, "~n~s~n", [Title]),
    Result = proper:quickcheck(Prop, [{numtests, nocopy_test_lib:proper_numtests()},
                                      {to_file, user}, {max_size, 30}, long_result]),
    ?assertEqual(true, Result).

setup() ->
    ets:new(?REG, [named_table, public, set]),
    {ok, TP} = nocopy_test_drv:open([]),
    {ok, PP} = nocopy_prop_drv:open([]),
    %% A port that is not a nocopy driver, for prop_wrong_port.
    {ok, Udp} = gen_udp:open(0),
    ets:insert(?REG, {udp_port, Udp}),
    [nif, {drv, TP, PP}].

cleanup(Backends) ->
    [begin nocopy_test_drv:close(TP), nocopy_prop_drv:close(PP) end
     || {drv, TP, PP} <- Backends],
    [gen_udp:close(Udp) || {udp_port, Udp} <- ets:lookup(?REG, udp_port)],
    [nocopy_test:keep_release(S) || S <- lists:seq(0, 7)],
    ets:delete(?REG),
    ok.

%% ---------------------------------------------------------------------------
%% Properties
%% ---------------------------------------------------------------------------

prop_readers(B) ->
    ?FORALL({F, X}, {elements(readers()), reader_arg(B)},
            begin
                Expected = model(B, F, X),
                Got = outcome(fun() -> t(B, F, [X]) end),
                Verdict = agrees(Expected, Got, B),
                ?WHENFAIL(io:format(user, "~p(~P)~n  model: ~P~n  got:   ~P~n  ~P~n",
                                    [F, X, 12, Expected, 12, Got, 12, Verdict, 12]),
                          Verdict =:= true)
            end).

%% Result forms. Sizes include the heap/refc boundary (64/65) and huge ones.
prop_results(B) ->
    ?FORALL(Case, result_case(),
            begin
                {Expected, Got} = run_result(B, Case),
                Verdict = agrees(Expected, Got, B),
                ?WHENFAIL(io:format(user, "~P~n  model: ~P~n  got:   ~P~n  ~P~n",
                                    [Case, 12, Expected, 12, Got, 12, Verdict, 12]),
                          Verdict =:= true)
            end).

%% echo/1 of nocopy_prop, and echo_dirty/1 (NIF: a dirty scheduler; driver: a
%% worker thread, so the request's binaries are kept while it waits).
prop_echo(B) ->
    ?FORALL({F, X}, {elements([echo, echo, echo_dirty]), any(B)},
            begin
                Expected = {ok, echo_model(B, X, 0)},
                Got = outcome(fun() -> p(B, F, [X]) end),
                ?WHENFAIL(io:format(user, "~p(~P)~n  model: ~P~n  got:   ~P~n",
                                    [F, X, 12, Expected, 12, Got, 12]),
                          matches(Expected, Got))
            end).

prop_echo_args(B) ->
    ?FORALL(Args, oneof([vector(2, any(B)), vector(4, any(B)), vector(5, any(B)),
                         %% the driver's one-binary fast path: small leaves + a big binary
                         ?LET({L, Big}, {vector(3, oneof([int(), atom_any(), float_any()])),
                                         binary(300)}, L ++ [Big])]),
            begin
                F = list_to_atom("echo_args" ++ integer_to_list(length(Args))),
                Expected = {ok, list_to_tuple([echo_model(B, A, 0) || A <- Args])},
                Got = outcome(fun() -> p(B, F, Args) end),
                ?WHENFAIL(io:format(user, "~p(~P)~n  model: ~P~n  got:   ~P~n",
                                    [F, Args, 12, Expected, 12, Got, 12]),
                          matches(Expected, Got))
            end).

%% Raw bytes and damaged requests sent straight to the driver: each gets one
%% reply, either eproto (tagged undefined when the tag could not be read) or,
%% if the damage left a valid request, an ordinary reply. The port stays
%% usable, and no reply ever comes for a request that was not sent.
prop_wire_garbage({drv, _, PP} = B) ->
    ?FORALL(Req, oneof([binary(), mutated_request(B)]),
            begin
                true = erlang:port_command(PP, Req),
                Reply = reply_message(10000),
                Stray = reply_message(0),
                Alive = outcome(fun() -> p(B, echo, [ok]) end),
                Good = case Reply of
                           {_, {'$nocopy_error', eproto, {general, T}}} ->
                               is_binary(T);
                           {_, {'$nocopy_error', badarg, {N, T}}}
                             when is_integer(N) ->
                               is_binary(T);
                           {_, {'$nocopy_error', badarg, {wrong_port, Drv}}} ->
                               %% The damage hit the module's fingerprint.
                               Drv =:= <<"nocopy_prop_drv">>;
                           {_, {'$nocopy_error', _, {general, T}}} ->
                               is_binary(T);
                           {_, {ok, _}} -> true;
                           _ -> false
                       end,
                ?WHENFAIL(io:format(user, "request ~P~n  reply ~P~n  stray ~P~n  alive ~P~n",
                                    [Req, 20, Reply, 12, Stray, 12, Alive, 12]),
                          Good andalso Stray =:= none andalso Alive =:= {ok, ok})
            end).

%% Requests whose declared sizes promise more terms than the bytes that
%% follow (issue 9: nested tuples each declaring as many elements as bytes are
%% left, the argument count, list cells left open), or that name another
%% module: each is answered at once (eproto, or badarg wrong_port), without
%% running anything, and the decoder does no more than linear work: the reply
%% comes within a generous deadline even for a request of a million levels.
prop_wire_lies({drv, _, PP} = B) ->
    ?FORALL({Shape, Levels, Slack, Tag},
            {elements([lying_tuples, lying_argc, open_cells, other_module]),
             frequency([{4, range(1, 200)}, {1, range(10000, 1 bsl 20)}]),
             range(0, 3), integer()},
            begin
                Req = lying_request(Shape, Levels, Slack, Tag),
                T0 = erlang:monotonic_time(millisecond),
                true = erlang:port_command(PP, Req),
                Reply = case reply_message(10000) of
                            {Tag, R} -> R;
                            Other -> Other
                        end,
                Ms = erlang:monotonic_time(millisecond) - T0,
                Alive = outcome(fun() -> p(B, echo, [ok]) end),
                Good = case {Shape, Reply} of
                           {other_module, {'$nocopy_error', badarg, {wrong_port, Drv}}} ->
                               Drv =:= <<"nocopy_prop_drv">>;
                           {_, {'$nocopy_error', eproto, {general, _}}} ->
                               Shape =/= other_module;
                           _ ->
                               false
                       end,
                ?WHENFAIL(io:format(user, "~p x ~p (+~p): ~P in ~p ms~n",
                                    [Shape, Levels, Slack, Reply, 12, Ms]),
                          Good andalso Ms < 5000 andalso Alive =:= {ok, ok})
            end).

%% Calls through the generated stubs on a port that is not nocopy_prop's:
%% a port of nocopy_test, or a UDP socket (a driver that is not nocopy's,
%% which answers the bytes it was sent with an inet_reply of its own).
%% Whatever the arguments, the caller gets badarg naming argument 1, the port,
%% with what the port runs, and no nocopy reply ever comes later.
prop_wrong_port({drv, TP, _}) ->
    ?FORALL({[A, B, C, D], Which}, {vector(4, any(nif)), elements([test, udp])},
            begin
                {Port, Runs} = case Which of
                                   test -> {TP, "nocopy_test_drv"};
                                   udp -> {ets:lookup_element(?REG, udp_port, 2), "udp_inet"}
                               end,
                Out = outcome(fun() -> nocopy_prop_drv:echo_args4(Port, A, B, C, D) end),
                Stray = reply_message(0),
                receive {inet_reply, _, _} -> ok after 0 -> ok end,
                Text = "the port runs " ++ Runs ++ ", not nocopy_prop_drv",
                Good = case Out of
                           {error, badarg, St} ->
                               nocopy_test_lib:error_strings(badarg, St) =:= #{1 => Text};
                           _ ->
                               false
                       end,
                ?WHENFAIL(io:format(user, "~p: ~P~n  stray ~P~n", [Which, Out, 12, Stray, 8]),
                          Good andalso Stray =:= none)
            end).

%% The next driver reply within Ms, as {Tag, {ok, Value}} or {Tag, Error}
%% whatever its shape (a call's, with an integer tag, is flat; an async or an
%% untagged one is wrapped: docs/wire-format.md); no_reply, or none when Ms
%% is 0, if there is none.
reply_message(Ms) ->
    receive
        {nocopy_reply, Tag, Value} when is_integer(Tag) -> {Tag, {ok, Value}};
        {nocopy_error, Tag, Error} when is_integer(Tag) -> {Tag, Error};
        {nocopy_reply, Tag, Reply} when not is_integer(Tag) -> {Tag, Reply}
    after Ms ->
        case Ms of
            0 -> none;
            _ -> no_reply
        end
    end.
