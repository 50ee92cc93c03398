%% doctest_session: replays an Erlang shell session shown in the docs, for
%% mk/doctest.escript. Run as `erl -noshell ... -run doctest_session main FILE`.
%%
%% FILE is the block as the docs show it:
%%     1> {ok, Port} = sums_drv:open().
%%     {ok,#Port<0.5>}
%%     2> sums:checksum(7, foo).
%%     ** exception error: bad argument
%%          ...
%% Each expression (the text after "N> ", continued on following prompts until
%% it ends with a full stop) is evaluated with the bindings of the earlier
%% ones, and with the shell's commands (h/2 and the rest of shell_default). The
%% lines after it, if any, are what the shell printed: what the expression
%% printed followed by its value must read the same, ignoring spaces and line
%% breaks, where "..." stands for any text; an exception must be raised, and
%% each of its lines shown must appear in the formatted exception. An
%% expression that does not parse is a mismatch. Ends with the line
%% "doctest_session: N prompts, N as shown" (the runner shows it) and halts 0
%% if every expression behaved as shown.
-module(doctest_session).
-export([main/1]).

main([File]) ->
    Good = try
               {ok, Bin} = file:read_file(File),
               Lines = string:split(unicode:characters_to_list(Bin), "\n", all),
               Steps = steps(Lines, none, []),
               Results = run(Steps, erl_eval:new_bindings(), []),
               io:format("doctest_session: ~b prompts, ~b as shown~n",
                         [length(Results), length([x || true <- Results])]),
               Results =/= [] andalso lists:all(fun(R) -> R end, Results)
           catch
               Class:Reason:St ->
                   io:format("doctest_session: ~ts~n",
                             [erl_error:format_exception(Class, Reason, St)]),
                   false
           end,
    halt(case Good of true -> 0; false -> 1 end).

%% [{Expr, ExpectedLines}]
steps([], none, Acc) ->
    lists:reverse(Acc);
steps([], Cur, Acc) ->
    lists:reverse([Cur | Acc]);
steps([Line | Rest], Cur, Acc) ->
    Prompt = re:run(Line, "^[0-9]+> (.*)$", [{capture, [1], list}, unicode]),
    case {Prompt, Cur} of
        {{match, [Text]}, none} ->
            steps(Rest, {Text, []}, Acc);
        {_, {Expr, []}} ->
            %% An expression not ended yet goes on, with or without a prompt.
            Text = case Prompt of {match, [T]} -> T; nomatch -> Line end,
            case complete(Expr) of
                false -> steps(Rest, {Expr ++ "\n" ++ Text, []}, Acc);
                true when Prompt =:= nomatch -> steps(Rest, {Expr, [Line]}, Acc);
                true -> steps(Rest, {Text, []}, [Cur | Acc])
            end;
        {{match, [Text]}, _} ->
            steps(Rest, {Text, []}, [Cur | Acc]);
        {nomatch, none} ->
            steps(Rest, none, Acc);               % text before the first prompt
        {nomatch, {Expr, Out}} ->
            steps(Rest, {Expr, Out ++ [Line]}, Acc)
    end.

complete(Expr) ->
    case erl_scan:string(Expr) of
        {ok, Tokens, _} -> Tokens =/= [] andalso element(1, lists:last(Tokens)) =:= dot;
        _ -> false
    end.

%% [true | false], a result per expression.
run([], _, Acc) ->
    lists:reverse(Acc);
run([{Expr, Out} | Rest], Bindings, Acc) ->
    Expected = [L || L <- Out, string:trim(L) =/= ""],
    io:format("> ~ts~n", [Expr]),
    case parse(Expr) of
        {ok, Exprs} ->
            eval(Exprs, Expected, Rest, Bindings, Acc);
        {error, Why} ->
            io:format("MISMATCH: the expression does not parse: ~ts~n", [Why]),
            run(Rest, Bindings, [false | Acc])
    end.

parse(Expr) ->
    case erl_scan:string(Expr) of
        {ok, Tokens, _} ->
            case erl_parse:parse_exprs(Tokens) of
                {ok, Exprs} -> {ok, Exprs};
                {error, {_, Mod, Why}} -> {error, Mod:format_error(Why)}
            end;
        {error, {_, Mod, Why}, _} ->
            {error, Mod:format_error(Why)}
    end.

eval(Exprs, Expected, Rest, Bindings, Acc) ->
    Shell = {value, fun(F, As) -> apply(shell_default, F, As) end},
    try capture(fun() -> erl_eval:exprs(Exprs, Bindings, Shell) end) of
        {{value, Value, NewBindings}, Printed} ->
            Shown = Printed ++ lists:flatten(io_lib:format("~tp", [Value])),
            Good = case Expected of
                       [] -> true;
                       ["** exception" ++ _ | _] -> false;
                       _ -> matches(string:join(Expected, " "), Shown)
                   end,
            report(Good, Expected, Shown),
            run(Rest, NewBindings, [Good | Acc])
    catch
        Class:Reason:St ->
            Shown = unicode:characters_to_list(erl_error:format_exception(Class, Reason, St)),
            Good = case Expected of
                       ["** exception" ++ _ | _] ->
                           lists:all(fun(L) -> matches_in(exception_line(L), Shown) end,
                                     Expected);
                       _ ->
                           false
                   end,
            report(Good, Expected, Shown),
            run(Rest, Bindings, [Good | Acc])
    end.

%% Runs Fun with its output collected: {Result, Output}.
capture(Fun) ->
    Old = group_leader(),
    Collector = spawn_link(fun() -> collect([]) end),
    group_leader(Collector, self()),
    try Fun() of
        Result ->
            group_leader(Old, self()),
            {Result, collected(Collector)}
    catch
        Class:Reason:St ->
            group_leader(Old, self()),
            _ = collected(Collector),
            erlang:raise(Class, Reason, St)
    end.

collected(Collector) ->
    Collector ! {done, self()},
    receive {Collector, Text} -> Text end.

%% A minimal I/O server: keeps what is written, refuses reads.
collect(Acc) ->
    receive
        {io_request, From, ReplyAs, Request} ->
            {Reply, Acc1} = io_request(Request, Acc),
            From ! {io_reply, ReplyAs, Reply},
            collect(Acc1);
        {done, Pid} ->
            Pid ! {self(), lists:flatten(lists:reverse(Acc))}
    end.

io_request({put_chars, Enc, Chars}, Acc) ->
    {ok, [unicode:characters_to_list(Chars, Enc) | Acc]};
io_request({put_chars, Enc, M, F, A}, Acc) ->
    io_request({put_chars, Enc, apply(M, F, A)}, Acc);
io_request({requests, Rs}, Acc) ->
    lists:foldl(fun(R, {_, A}) -> io_request(R, A) end, {ok, Acc}, Rs);
io_request({get_geometry, _}, Acc) ->
    {{error, enotsup}, Acc};
io_request(getopts, Acc) ->
    {[{binary, false}, {encoding, unicode}], Acc};
io_request(_, Acc) ->
    {{error, request}, Acc}.

report(true, _, Shown) ->
    io:format("~ts~n", [Shown]);
report(false, Expected, Shown) ->
    io:format("MISMATCH: the docs show~n~ts~nbut the shell gives~n~ts~n",
              [string:join(Expected, "\n"), Shown]).

%% "** exception error: bad argument" -> "exception error: bad argument"
exception_line(L) ->
    string:trim(string:trim(L), leading, "* ").

%% Whether Shown is Expected, spaces aside, "..." matching any text.
matches(Expected, Shown) ->
    re:run(squash(Shown), ["^", pattern(Expected), "$"], [unicode, dotall]) =/= nomatch.

matches_in(Expected, Shown) ->
    re:run(squash(Shown), pattern(Expected), [unicode, dotall]) =/= nomatch.

pattern(Expected) ->
    Parts = string:split(squash(Expected), "...", all),
    lists:join(".*", [re_quote(P) || P <- Parts]).

squash(S) ->
    re:replace(S, "\\s+", "", [global, unicode, {return, list}]).

re_quote(S) ->
    re:replace(S, "[.^$*+?()\\[\\]{}|\\\\]", "\\\\&", [global, unicode, {return, list}]).
