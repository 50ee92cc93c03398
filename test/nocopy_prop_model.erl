%% nocopy_prop_model: what nocopy.h says the calls of nocopy_prop_tests give,
%% and the judge of each outcome.
%%
%% - model/3: for each reader of nocopy_test (readers/0) and any term, the
%%   value, a predicate on it, or badarg naming the argument;
%% - run_result/2: makes the calls of one result case and pairs them with what
%%   they should give;
%% - echo_model/3: what nocopy_prop's echo gives back for a term (C reads it
%%   with the API and rebuilds it; on the driver, through the wire format);
%% - agrees/3 and matches/2: does an outcome match? error:badarg must be
%%   raised from the stub with error_info naming the right argument (shifted
%%   past the port on the driver); status errors must carry a general text.
-module(nocopy_prop_model).

-export([readers/0, model/3, run_result/2, echo_model/3, agrees/3, matches/2,
         badarg_named/2]).

-include("nocopy_prop_util.hrl").

handle_kind(H) ->
    case ets:lookup(?REG, H) of
        [{_, K}] -> K;
        [] -> none
    end.

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
