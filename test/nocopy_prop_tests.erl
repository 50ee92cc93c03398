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
-module(nocopy_prop_tests).

-include_lib("eunit/include/eunit.hrl").

-include("nocopy_proper.hrl").
-import(proper_types, [integer/0, integer/2, float/0, binary/0, binary/1, list/1, vector/2, nat/0,
                       range/2, elements/1, oneof/1, frequency/1, resize/2]).


-define(MIN_I64, -16#8000000000000000).
-define(MAX_I64, 16#7fffffffffffffff).
-define(MAX_U64, 16#ffffffffffffffff).
-define(REG, nocopy_prop_registry).

%% Atoms in nocopy_test's table (test/nocopy_test/test_module.c) and nocopy_prop's.
-define(BUILTIN, [ok, error, true, false, undefined]).
-define(TEST_ATOMS, [red, green, blue, released, timeout, integer, float, atom, binary,
                     bitstring, tuple, list, nil, handle, other, ebadarg, enomem, erange,
                     eclosed, eproto, eoverload, enotsup, einternal, nan, inf, neg_inf]).
-define(PROP_ATOMS, ['$bignum', '$unknown_atom', '$bitstring', '$improper',
                     '$foreign_handle', '$other', '$deep', red, green, blue,
                     a_longer_atom_name_in_the_table, 'été']).
-define(ECHO_MAX_DEPTH, 100).

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

name(nif) -> "nif";
name({drv, _, _}) -> "drv".

%% Calls into nocopy_test (t) or nocopy_prop (p) on a backend.
t(nif, F, Args) -> apply(nocopy_test, F, Args);
t({drv, TP, _}, F, Args) -> apply(nocopy_test_drv, F, [TP | Args]).

p(nif, F, Args) -> apply(nocopy_prop, F, Args);
p({drv, _, PP}, F, Args) -> apply(nocopy_prop_drv, F, [PP | Args]).

shift(nif) -> 0;
shift({drv, _, _}) -> 1.

outcome(Fun) ->
    try Fun() of
        V -> {ok, V}
    catch
        error:Reason:St -> {error, Reason, St};
        Class:Reason:St -> {crash, Class, Reason, St}
    end.

%% ---------------------------------------------------------------------------
%% Generators
%% ---------------------------------------------------------------------------

%% Any term, biased to what nocopy must get right.
any(B) ->
    ?SIZED(S, any(B, min(S, 16))).

any(B, S) when S =< 1 ->
    leaf(B);
any(B, S) ->
    frequency([{8, leaf(B)},
               {2, ?LAZY(tuple_of(B, S))},
               {2, ?LAZY(list_of(B, S))},
               {1, ?LAZY(improper(B, S))},
               {2, ?LAZY(iodata(S))},
               {1, ?LAZY(deep(B))}]).

tuple_of(B, S) ->
    ?LET(L, resize(5, list(any(B, S div 3))), list_to_tuple(L)).

list_of(B, S) ->
    resize(5, list(any(B, S div 3))).

improper(B, S) ->
    ?LET({H, T}, {any(B, S div 2), oneof([leaf(B), bin(), tuple_of(B, S div 2)])},
         case T of
             [] -> [H | x];
             _ -> [H | T]
         end).

%% Valid iodata more often than chance: bytes, binaries, nested lists, and
%% binary tails.
iodata(S) ->
    ?LET({Elems, Tail}, {resize(6, list(io_elem(S))), oneof([[], bin()])},
         Elems ++ Tail).

io_elem(S) when S =< 2 ->
    oneof([range(0, 255), bin()]);
io_elem(S) ->
    frequency([{3, range(0, 255)}, {3, bin()}, {1, ?LAZY(iodata(S div 2))},
               {1, elements([256, -1, 1.0, atom])}]).

%% Deep nests: lists, tuples, left-nested iolists ([[[A, B], C], D]).
deep(B) ->
    ?LET({Kind, N, X}, {elements([list, tuple, left_iolist]),
                        frequency([{3, range(90, 110)}, {1, range(1000, 5000)}]),
                        oneof([bin(), range(0, 255), leaf(B)])},
         nest(Kind, N, X)).

nest(_, 0, X) -> X;
nest(list, N, X) -> nest(list, N - 1, [X]);
nest(tuple, N, X) -> nest(tuple, N - 1, {X});
nest(left_iolist, N, X) -> nest(left_iolist, N - 1, [X, N rem 256]).

leaf(B) ->
    frequency([{3, int()}, {2, float_any()}, {2, atom_any()}, {4, bin()},
               {1, bits()}, {2, handle(B)}, {1, other()}, {1, []}]).

int() ->
    oneof([elements([0, 1, -1, 10, 11, -10, -11, 255, 256, 1 bsl 59 - 1, 1 bsl 59,
                     -(1 bsl 59), -(1 bsl 59) - 1, ?MAX_I64, ?MAX_I64 + 1, ?MIN_I64,
                     ?MIN_I64 - 1, ?MAX_U64, ?MAX_U64 + 1, 1 bsl 70, -(1 bsl 70),
                     1 bsl 1000]),
           integer(),
           ?LET({Sign, E, D}, {elements([-1, 1]), range(0, 200), integer(0, 1000)},
                Sign * (1 bsl E) + D)]).

float_any() ->
    oneof([elements([0.0, -0.0, 1.5, -2.25, 2.2250738585072014e-308, 5.0e-324,
                     1.7976931348623157e308, -1.7976931348623157e308, 1.0e-300]),
           float()]).

atom_any() ->
    elements(?BUILTIN ++ [red, green, blue, nan, integer, '$bignum',
                          a_longer_atom_name_in_the_table, not_in_any_table, '',
                          'Ünïcödé ✓', list_to_atom(lists:duplicate(255, $x))]
             ).

%% Binaries: 0-70 and 250-260 bytes mostly; refc, sub-binaries at odd
%% offsets, and byte-sized binaries starting at a bit offset (copied by the
%% runtime when inspected, but the same value).
bin() ->
    ?LET({Kind, N}, {elements([plain, refc, sub, unaligned]), bin_size()}, make_bin(Kind, N)).

bin_size() ->
    frequency([{5, range(0, 70)}, {4, range(250, 260)}, {1, range(1000, 70000)}]).

make_bin(plain, N) -> pattern(N, 0);
make_bin(refc, N) -> binary:copy(<<(N rem 251)>>, N);
make_bin(sub, N) ->
    Off = 1 + 2 * (N rem 7),
    binary:part(pattern(N + Off + 3, 1), Off, N);
make_bin(unaligned, N) ->
    <<_:3, X:N/binary, _:5>> = <<5:3, (pattern(N, 2))/binary, 0:5>>,
    X.

pattern(N, Seed) ->
    P = <<"0123456789abcdefghijklmnopqrstuvwxyz">>,
    Rot = Seed rem byte_size(P),
    <<A:Rot/binary, Z/binary>> = P,
    Q = <<Z/binary, A/binary>>,
    list_to_binary([binary:copy(Q, N div 36), binary:part(Q, 0, N rem 36)]).

bits() ->
    ?LET({N, Bits}, {oneof([range(0, 70), range(250, 260)]), range(1, 7)},
         <<(pattern(N, 3))/binary, 0:Bits>>).

other() ->
    ?LET(K, elements([pid, ref, map, fun_, port, bigmap]), mk_other(K)).

mk_other(pid) -> self();
mk_other(ref) -> make_ref();
mk_other(map) -> #{a => 1, <<"b">> => [2]};
mk_other(bigmap) -> maps:from_list([{I, I} || I <- lists:seq(1, 40)]);
mk_other(fun_) -> fun erlang:abs/1;
mk_other(port) -> hd(erlang:ports()).

%% Handles of every kind, registered so the model knows what each is.
handle(B) ->
    ?LET(K, elements(handle_kinds(B)), mk_handle(B, K)).

handle_kinds(nif) -> [counter, counter, other, closed, prop];
handle_kinds(_) -> [counter, counter, other, closed, prop, forged, forged_big, not_a_port].

mk_handle(B, Kind) ->
    H = case Kind of
            counter -> t(B, new_counter_handle, []);
            other -> t(B, new_other_handle, []);
            closed ->
                C = t(B, new_counter_handle, []),
                ok = t(B, close_handle, [C]),
                C;
            prop -> p(B, new_handle, []);
            forged ->
                {drv, TP, _} = B,
                {'$nocopy_handle', TP, 1 bsl 40 + erlang:unique_integer([positive])};
            forged_big ->
                {drv, TP, _} = B,
                {'$nocopy_handle', TP, 1 bsl 64};
            not_a_port ->
                {'$nocopy_handle', self(), 1}
        end,
    ets:insert(?REG, {H, Kind}),
    H.

handle_kind(H) ->
    case ets:lookup(?REG, H) of
        [{_, K}] -> K;
        [] -> none
    end.

%% ---------------------------------------------------------------------------
%% The model
%% ---------------------------------------------------------------------------

is_i64(X) -> is_integer(X) andalso X >= ?MIN_I64 andalso X =< ?MAX_I64.
is_u64(X) -> is_integer(X) andalso X >= 0 andalso X =< ?MAX_U64.

known_test(A) -> is_atom(A) andalso lists:member(A, ?BUILTIN ++ ?TEST_ATOMS).
known_prop(A) -> is_atom(A) andalso lists:member(A, ?BUILTIN ++ ?PROP_ATOMS).

is_iodata(X) ->
    try iolist_size(X) of
        _ -> true
    catch
        error:badarg -> false
    end.

is_proper_list([]) -> true;
is_proper_list([_ | T]) -> is_proper_list(T);
is_proper_list(_) -> false.

%% What kind of handle X is, seen by a call on backend B's port or library.
%% own: a handle of that library (NIF) or port (driver), by type or state;
%% foreign: a nocopy handle C cannot use; no: not a handle.
handle_view(nif, X) when is_reference(X) ->
    case handle_kind(X) of
        K when K =:= counter; K =:= other; K =:= closed -> {own, K};
        _ -> no                                  % another library's resource: other
    end;
handle_view({drv, TP, _}, {'$nocopy_handle', P, Id} = X) when is_port(P), is_integer(Id) ->
    case {P, handle_kind(X)} of
        {TP, K} when K =:= counter; K =:= other; K =:= closed -> {own, K};
        {TP, _} when Id >= 0, Id =< ?MAX_U64 -> {own, unknown_id};
        _ -> foreign
    end;
handle_view(_, _) ->
    no.

%% nocopy_test:term_type/1.
type_of(B, X) ->
    case handle_view(B, X) of
        {own, _} -> handle;
        foreign -> handle;
        no -> plain_type(X)
    end.

plain_type(X) when is_integer(X) -> integer;
plain_type(X) when is_float(X) -> float;
plain_type(X) when is_atom(X) -> atom;
plain_type(X) when is_binary(X) -> binary;
plain_type(X) when is_bitstring(X) -> bitstring;
plain_type(X) when is_tuple(X) -> tuple;
plain_type([]) -> nil;
plain_type([_ | _]) -> list;
plain_type(_) -> other.

%% The readers, and what each must do with X: {ok, Value} | {ok_if, Pred} |
%% {badarg, ArgNo}.
readers() ->
    [echo_i64, echo_u64, echo_size, echo_range, echo_double, echo_bool, echo_atom,
     atom_index, echo_bytes, address_of, iovec_flat, term_type, tuple_types, list_types,
     use_handle, use_other, echo_tuple, elem_readers, scan_flat, scan_nested, scan_term,
     address_of_elem, atom_or_int].

model(_, echo_i64, X) -> value_if(is_i64(X), X);
model(_, echo_u64, X) -> value_if(is_u64(X), X);
model(_, echo_size, X) -> value_if(is_u64(X), X);
model(_, echo_range, X) -> value_if(is_integer(X) andalso X >= -10 andalso X =< 10, X);
model(_, echo_double, X) -> value_if(is_float(X), X);
model(_, echo_bool, X) -> value_if(is_boolean(X), X);
model(_, echo_atom, X) -> value_if(known_test(X), X);
model(_, atom_index, X) -> pred_if(known_test(X), fun is_integer/1);
model(_, echo_bytes, X) -> value_if(is_binary(X), X);
model(_, address_of, X) -> pred_if(is_binary(X), fun is_integer/1);
model(_, iovec_flat, X) ->
    case is_iodata(X) of
        true -> {ok, iolist_to_binary(X)};
        false -> {badarg, 1}
    end;
model(B, term_type, X) -> {ok, type_of(B, X)};
model(B, tuple_types, X) ->
    case type_of(B, X) of                      % a driver handle is a tuple in Erlang
        tuple -> {ok, [type_of(B, E) || E <- tuple_to_list(X)]};
        _ -> {badarg, 1}
    end;
model(B, list_types, X) ->
    case is_proper_list(X) of
        true -> {ok, [type_of(B, E) || E <- X]};
        false -> {badarg, 1}
    end;
model(B, use_handle, X) -> pred_if(handle_view(B, X) =:= {own, counter}, fun is_integer/1);
model(B, use_other, X) -> value_if(handle_view(B, X) =:= {own, other}, ok);
model(_, echo_tuple, {I, Bin, {A, F}} = X) ->
    value_if(is_i64(I) andalso is_binary(Bin) andalso known_test(A) andalso is_float(F), X);
model(_, echo_tuple, _) -> {badarg, 1};
model(_, elem_readers, {U, Z, R, O, V}) ->
    Ok = is_u64(U) andalso is_u64(Z) andalso is_integer(R) andalso R >= 0 andalso R =< 255
        andalso is_boolean(O) andalso is_iodata(V),
    value_if(Ok, {U, Z, R, O, Ok andalso iolist_size(V)});
model(_, elem_readers, _) -> {badarg, 1};
model(_, scan_flat, {I, U, Z, F, O, A, Bin, V}) ->
    Ok = is_i64(I) andalso is_u64(U) andalso is_u64(Z) andalso is_float(F) andalso
        is_boolean(O) andalso known_test(A) andalso is_binary(Bin) andalso is_iodata(V),
    value_if(Ok, {I, U, Z, F, O, A, Bin, Ok andalso iolist_size(V)});
model(_, scan_flat, _) -> {badarg, 1};
model(_, scan_nested, {{I, {A}}, Bin}) ->
    value_if(is_i64(I) andalso known_test(A) andalso is_binary(Bin),
             {I, A, is_binary(Bin) andalso byte_size(Bin)});
model(_, scan_nested, _) -> {badarg, 1};
model(_, scan_term, {I, _}) -> value_if(is_i64(I), I);
model(_, scan_term, _) -> {badarg, 1};
model(_, address_of_elem, {_, Bin}) -> pred_if(is_binary(Bin), fun is_integer/1);
model(_, address_of_elem, _) -> {badarg, 1};
model(_, atom_or_int, X) ->
    case {known_test(X), is_i64(X)} of
        {true, _} -> {ok_if, fun({true, N}) -> is_integer(N); (_) -> false end};
        {_, true} -> {ok, {false, X}};
        _ -> {badarg, 1}
    end.

value_if(true, V) -> {ok, V};
value_if(false, _) -> {badarg, 1}.

pred_if(true, P) -> {ok_if, P};
pred_if(false, _) -> {badarg, 1}.

%% Does an outcome match the model? Returns true or a description.
agrees({ok, V}, {ok, V}, _B) -> true;
agrees({ok_if, P}, {ok, V}, _B) -> P(V) orelse {predicate_false, V};
agrees({badarg, N}, {error, badarg, St}, B) -> badarg_named(N + shift(B), St);
agrees({status, R}, {error, R, St}, _B) -> general_cause(St);
agrees(Expected, Got, _B) -> {expected, Expected, got, Got}.

%% error:badarg raised from the stub with error_info naming argument N, and
%% nocopy:format_error/2 giving that argument a message.
badarg_named(N, [{_M, _F, Args, Info} | _] = St) when is_list(Args) ->
    case proplists:get_value(error_info, Info) of
        #{module := nocopy, cause := {N, Text}} when is_binary(Text), Text =/= <<>> ->
            case nocopy_test_lib:error_strings(badarg, St) of
                #{N := Msg} when is_list(Msg), Msg =/= [] -> true;
                Other -> {format_error, Other}
            end;
        Other ->
            {wrong_error_info, N, Other}
    end;
badarg_named(N, St) ->
    {no_stub_frame, N, St}.

general_cause([{_M, _F, _Args, Info} | _]) ->
    case proplists:get_value(error_info, Info) of
        #{module := nocopy, cause := {general, Text}} when is_binary(Text) -> true;
        Other -> {wrong_error_info, Other}
    end.

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

%% Mostly any term; sometimes the shape a reader wants, with one part wrong.
reader_arg(B) ->
    frequency([{6, any(B)},
               {2, ?LET({I, Bin, A, F}, {int(), bin(), atom_any(), float_any()},
                        {I, Bin, {A, F}})},
               {2, ?LET({U, Z, R, O, V}, {int(), int(), int(), elements([true, false, 1]),
                                          oneof([iodata(4), any(B)])},
                        {U, Z, R, O, V})},
               {2, ?LET({I, U, Z, F, O, A, Bin, V},
                        {int(), int(), int(), float_any(), elements([true, false]),
                         atom_any(), oneof([bin(), bits()]), iodata(4)},
                        {I, U, Z, F, O, A, Bin, V})},
               {1, ?LET({I, A, Bin}, {int(), atom_any(), bin()}, {{I, {A}}, Bin})},
               {1, ?LET({X, Bin}, {any(B), oneof([bin(), bits()])}, {X, Bin})}]).

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

size_any() ->
    frequency([{6, bin_size()}, {1, elements([64, 65, 0])},
               {1, elements([?MAX_U64, ?MAX_U64 + 1, -1, 1 bsl 62])}]).

off_len(N) ->
    frequency([{4, ?LET({O, L}, {range(0, N), range(0, N)}, {O, min(L, N - O)})},
               {1, {range(0, N + 2), range(0, N + 2)}},
               {1, {elements([0, N, ?MAX_U64, ?MAX_U64 + 1, -1]),
                    elements([0, 1, ?MAX_U64, ?MAX_U64 + 1])}}]).

result_case() ->
    oneof([{buf_new, size_any(), range(0, 256)},
           {buf_resize, bin_size(), bin_size(), range(0, 254)},
           {foreign_new, bin_size(), range(0, 255)},
           {copy_new, bin_size(), range(0, 255)},
           ?LET(Bin, bin(), ?LET({O, L}, off_len(byte_size(Bin)), {slice, Bin, O, L})),
           ?LET(Bin, bin(), ?LET({O, L}, off_len(byte_size(Bin)), {copy_slice, Bin, O, L})),
           ?LET({Slot, Bin}, {range(0, 7), bin()},
                ?LET({O, L}, off_len(byte_size(Bin)), {keep, Slot, Bin, O, L})),
           ?LET({Slot, N, Byte}, {range(0, 7), bin_size(), range(0, 255)},
                ?LET({O, L}, off_len(N), {shared, Slot, N, Byte, O, L})),
           {make_tuple, range(0, 300)},
           {make_list, range(0, 300)},
           {make_deep, range(0, 300)},
           {make_atom_index, oneof([range(-6, 30), int()])},
           {fail_badarg, range(0, 2), error_text()},
           {return_ok, int()},
           {return_error, return_error_arg()}]).

%% Any bytes: a text that is not UTF-8 must still format (H4, fixed).
error_text() ->
    bin().

%% Any atom, table or not (H1, fixed: an argument named Reason is harmless).
return_error_arg() ->
    atom_any().

run_result(B, {buf_new, Size, Byte}) ->
    Expected = case {is_u64(Size), Byte =< 255} of
                   {false, _} -> {badarg, 1};
                   {true, false} -> {badarg, 2};
                   {true, true} when Size > 1 bsl 40 -> {status, enomem};
                   {true, true} -> {ok_if, fun({Bin, A}) ->
                                                   is_integer(A) andalso
                                                       Bin =:= binary:copy(<<Byte>>, Size)
                                           end}
               end,
    {Expected, outcome(fun() -> t(B, buf_new, [Size, Byte]) end)};
run_result(B, {buf_resize, S1, S2, Byte}) ->
    Want = <<(binary:copy(<<Byte>>, min(S1, S2)))/binary,
             (binary:copy(<<(Byte + 1)>>, max(0, S2 - S1)))/binary>>,
    {{ok_if, fun({Bin, _}) -> Bin =:= Want end},
     outcome(fun() -> t(B, buf_resize, [S1, S2, Byte]) end)};
run_result(B, {foreign_new, N, Byte}) ->
    {{ok_if, fun({Bin, _}) -> Bin =:= binary:copy(<<Byte>>, N) end},
     outcome(fun() -> t(B, foreign_new, [N, Byte]) end)};
run_result(B, {copy_new, N, Byte}) ->
    {{ok_if, fun({Bin, _}) -> Bin =:= binary:copy(<<Byte>>, N) end},
     outcome(fun() -> t(B, copy_new, [N, Byte]) end)};
run_result(B, {slice, Bin, O, L}) ->
    {slice_model(Bin, O, L, {status, erange}), outcome(fun() -> t(B, slice, [Bin, O, L]) end)};
run_result(B, {copy_slice, Bin, O, L}) ->
    {slice_model(Bin, O, L, {badarg, 3}),
     outcome(fun() -> t(B, copy_slice, [Bin, O, L]) end)};
run_result(B, {keep, Slot, Bin, O, L}) ->
    Got = outcome(fun() ->
                          t(B, keep_put, [Slot, Bin]),
                          t(B, keep_get, [Slot, O, L])
                  end),
    t(B, keep_release, [Slot]),
    {slice_model(Bin, O, L, {status, erange}), Got};
run_result(B, {shared, Slot, N, Byte, O, L}) ->
    Bin = binary:copy(<<Byte>>, N),
    Got = outcome(fun() ->
                          t(B, shared_put, [Slot, N, Byte]),
                          t(B, keep_get, [Slot, O, L])
                  end),
    t(B, keep_release, [Slot]),
    {slice_model(Bin, O, L, {status, erange}), Got};
run_result(B, {make_tuple, N}) ->
    {{ok, list_to_tuple(lists:seq(1, N))}, outcome(fun() -> t(B, make_tuple, [N]) end)};
run_result(B, {make_list, N}) ->
    {{ok, lists:seq(1, N)}, outcome(fun() -> t(B, make_list, [N]) end)};
run_result(B, {make_deep, D}) ->
    {{ok, lists:foldl(fun(I, Acc) -> {I, [Acc]} end, {0, []}, lists:seq(1, D))},
     outcome(fun() -> t(B, make_deep, [D]) end)};
run_result(B, {make_atom_index, I}) ->
    All = ?TEST_ATOMS,
    Expected = if
                   not is_integer(I); I < -1000; I > 1000 -> {badarg, 1};
                   I >= -5, I =< -1 -> {ok, lists:nth(-I, ?BUILTIN)};
                   I >= 0, I < length(All) -> {ok, lists:nth(I + 1, All)};
                   true -> {status, einternal}
               end,
    {Expected, outcome(fun() -> t(B, make_atom_index, [I]) end)};
run_result(B, {fail_badarg, Which, Text}) ->
    {{badarg, Which + 1}, outcome(fun() -> t(B, fail_badarg, [Which, Text, x]) end)};
run_result(B, {return_ok, I}) ->
    {value_if(is_i64(I), {ok, I}), outcome(fun() -> t(B, return_ok, [I]) end)};
run_result(B, {return_error, A}) ->
    {value_if(known_test(A), {error, A}), outcome(fun() -> t(B, return_error, [A]) end)}.

%% {Slice, Address} in range; Bad otherwise (badarg when not a size at all).
slice_model(Bin, O, L, Bad) ->
    case {is_u64(O), is_u64(L)} of
        {false, _} -> {badarg, 2};
        {_, false} -> {badarg, 3};
        _ when O + L =< byte_size(Bin) ->
            Part = binary:part(Bin, O, L),
            {ok_if, fun({S, A}) when is_binary(S) -> S =:= Part andalso is_integer(A);
                       (_) -> false
                    end};
        _ -> Bad
    end.

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

%% Exact equality, except that {same_port_handle, P} in the model stands for
%% any handle term of port P.
matches({same_port_handle, P}, {'$nocopy_handle', P, Id}) -> is_integer(Id);
matches(X, Y) when is_tuple(X), is_tuple(Y), tuple_size(X) =:= tuple_size(Y) ->
    matches(tuple_to_list(X), tuple_to_list(Y));
matches([X | Xs], [Y | Ys]) -> matches(X, Y) andalso matches(Xs, Ys);
matches(X, Y) -> X =:= Y.

%% What nocopy_prop's echo gives back for X (see test/nocopy_prop_nif.c).
echo_model(_, _, D) when D > ?ECHO_MAX_DEPTH -> '$deep';
echo_model(_, X, _) when is_integer(X) ->
    case is_i64(X) orelse is_u64(X) of
        true -> X;
        false -> '$bignum'
    end;
echo_model(_, X, _) when is_float(X) -> X;
echo_model(_, X, _) when is_atom(X) ->
    case known_prop(X) of
        true -> X;
        false -> '$unknown_atom'
    end;
echo_model(_, X, _) when is_binary(X) -> X;
echo_model(_, X, _) when is_bitstring(X) -> '$bitstring';
echo_model(B, X, D) ->
    case {prop_handle_view(B, X), X} of
        {own, _} -> X;
        {foreign, _} -> '$foreign_handle';
        {no, T} when is_tuple(T) -> list_to_tuple([echo_model(B, E, D + 1) || E <- tuple_to_list(T)]);
        {no, L} when is_list(L) ->
            case is_proper_list(L) of
                true -> [echo_model(B, E, D + 1) || E <- L];
                false -> '$improper'
            end;
        {no, _} -> '$other'
    end.

%% A handle as nocopy_prop sees it: its own open `prop' handles are echoed.
prop_handle_view(nif, X) when is_reference(X) ->
    case handle_kind(X) of
        prop -> own;
        none -> no;
        _ -> no                                  % nocopy_test's resources: other
    end;
prop_handle_view({drv, _, PP}, {'$nocopy_handle', P, Id} = X) when is_port(P), is_integer(Id) ->
    case {P, handle_kind(X)} of
        {PP, prop} -> own;
        _ -> foreign
    end;
prop_handle_view(_, _) ->
    no.

%% Raw bytes and damaged requests sent straight to the driver: each gets one
%% reply, either eproto (tagged undefined when the tag could not be read) or,
%% if the damage left a valid request, an ordinary reply. The port stays
%% usable, and no reply ever comes for a request that was not sent.
prop_wire_garbage({drv, _, PP} = B) ->
    ?FORALL(Req, oneof([binary(), mutated_request(B)]),
            begin
                true = erlang:port_command(PP, Req),
                Reply = receive {nocopy_reply, _, _} = R -> R after 10000 -> no_reply end,
                Stray = receive {nocopy_reply, _, _} = S -> S after 0 -> none end,
                Alive = outcome(fun() -> p(B, echo, [ok]) end),
                Good = case Reply of
                           {nocopy_reply, _, {'$nocopy_error', eproto, {general, T}}} ->
                               is_binary(T);
                           {nocopy_reply, _, {'$nocopy_error', badarg, {N, T}}}
                             when is_integer(N) ->
                               is_binary(T);
                           {nocopy_reply, _, {'$nocopy_error', badarg, {wrong_port, Drv}}} ->
                               %% The damage hit the module's fingerprint.
                               Drv =:= <<"nocopy_prop_drv">>;
                           {nocopy_reply, _, {'$nocopy_error', _, {general, T}}} ->
                               is_binary(T);
                           {nocopy_reply, _, {ok, _}} -> true;
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
                Reply = receive {nocopy_reply, Tag, R} -> R after 10000 -> no_reply end,
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

lying_request(Shape, Levels, Slack, Tag) ->
    Fp = prop_fp(),
    Hdr = fun(F, Argc) -> <<"nc", 2, F:32, 0:32, Argc:32, $i, Tag:64/signed>> end,
    iolist_to_binary(
      case Shape of
          lying_tuples ->
              %% Each tuple claims the bytes after it, plus Slack.
              [Hdr(Fp, 1) | [<<$T, ((Levels - 1 - I) * 5 + Slack):32>>
                             || I <- lists:seq(0, Levels - 1)]];
          lying_argc ->
              [Hdr(Fp, Levels + Slack + 2) | lists:duplicate(Levels, <<"n">>)];
          open_cells ->
              [Hdr(Fp, 1) | lists:duplicate(Levels, <<"c">>)];
          other_module ->
              [Hdr(Fp bxor (1 + Slack), 1), <<"n">>]
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
                Stray = receive {nocopy_reply, _, _} = S -> S after 0 -> none end,
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

%% A valid request for one of nocopy_prop's functions, then damaged: a byte
%% changed, the end cut off, or bytes appended.
mutated_request({drv, _, PP} = B) ->
    ?LET({Args, Tag, How, Pos, Byte},
         {resize(4, list(any(B))), oneof([integer(), ?LAZY(make_ref())]),
          elements([flip, cut, extend]), nat(), range(0, 255)},
         begin
             Idx = 0,                              % echo/1; the damage may change it
             Req = iolist_to_binary(nocopy_wire:request(PP, prop_fp(), Tag, Idx,
                                                               [Args])),
             At = Pos rem max(1, byte_size(Req)),
             damage(How, Req, min(At, byte_size(Req) - 1), Byte)
         end).

%% echo([]) tagged with a reference whose first ID word is outside the 18
%% bits the runtime allows: well formed for nocopy__wire_is_ref_ext, refused
%% by binary_to_term.
bad_ref_request(PP) ->
    Good = iolist_to_binary(nocopy_wire:request(PP, prop_fp(), make_ref(), 0, [[]])),
    <<Head:16/binary, ExtLen:16, Ext:ExtLen/binary, Rest/binary>> = Good,
    IdAt = ExtLen - 3 * 4,                   % three ID words at the end (OTP 25)
    <<Pre:IdAt/binary, _:32, Ids/binary>> = Ext,
    Bad = <<Pre/binary, 16#4D02E877:32, Ids/binary>>,
    {'EXIT', _} = (catch binary_to_term(Bad)),
    <<Head/binary, ExtLen:16, Bad/binary, Rest/binary>>.

prop_fp() ->
    nocopy_prop_drv:'$fingerprint'().

damage(flip, Req, Pos, Byte) ->
    <<A:Pos/binary, _, Z/binary>> = Req,
    <<A/binary, Byte, Z/binary>>;
damage(cut, Req, Pos, _) ->
    binary:part(Req, 0, Pos);
damage(extend, Req, _, Byte) ->
    <<Req/binary, Byte>>.
