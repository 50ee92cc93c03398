#!/usr/bin/env escript
%% -*- erlang -*-
%% doctest.escript: the one runner of nocopy's executable docs (the README,
%% docs/guide-*.md). It runs their code blocks as a user following them would,
%% so that the documentation cannot drift from the code. `make doctest` runs
%% every doc with it (test/integration/doctest.sh); the integration scripts
%% (test/integration/lib.sh) use it to run a guide's project or to write its
%% files for a variant. Usage:
%%
%%     escript mk/doctest.escript [OPTION]... NOCOPY_DIR SCRATCH FILE.md...
%%
%% A block runs when a marker comment stands on the line before its fence
%% (blank lines may come between):
%%
%%   <!-- nocopy-test: project=P file=PATH -->   the block is written to
%%                                               SCRATCH/P/PATH
%%   <!-- nocopy-test: project=P run -->         the block runs with `sh -e` in
%%                                               SCRATCH/P
%%   <!-- nocopy-test: project=P erl="ARGS" -->  the block is an Erlang shell
%%                                               session, replayed in
%%                                               `erl ARGS` in SCRATCH/P
%%   <!-- nocopy-test: same-as=PATH -->          the block must equal the file
%%                                               PATH of NOCOPY_DIR, byte for
%%                                               byte (also with file=: both)
%%
%% In every block (and in ARGS), the text /path/to/nocopy stands for the nocopy
%% under test: NOCOPY_DIR, or the --nocopy PATH. Blocks run in the order of the
%% files, each file's in its order; a project's blocks are in one file, and
%% once one of them fails the rest of that project is skipped. A block runs in
%% the user's environment, not that of a make running the tests (MAKEFLAGS and
%% nocopy.mk's variables, such as BUILD or MOREFLAGS, are removed), with
%% NOCOPY_DIR set, stdin closed and MAKEFLAGS=-jN (N processors). A session is
%% checked prompt by prompt (mk/doctest_session.erl): each expression is
%% evaluated in order, with the bindings of the earlier ones, and what the
%% block shows after it must match what the shell would print ("..." matches
%% anything; an exception must be raised where the block shows one, and each
%% line the block shows of it must appear in the formatted exception). Blocks
%% without a marker are not run: say why in the text (a command that needs
%% Debian's network, a fragment already run elsewhere). A malformed marker (an
%% unknown attribute, a path outside the project, no fence after it) fails.
%%
%% Options:
%%   --project P        only P's blocks (may be repeated)
%%   --nocopy PATH      what /path/to/nocopy stands for (default: NOCOPY_DIR)
%%   --git-snapshot DIR git fetches of file://NOCOPY (NOCOPY: what
%%                      /path/to/nocopy stands for) get the git repository DIR
%%                      instead: a snapshot of NOCOPY's working tree (branches
%%                      main and NOCOPY's own), so that a git dependency, as the
%%                      docs or tools/new write it, gets the working tree under
%%                      test while paths use NOCOPY itself (git's
%%                      url.DIR.insteadOf, in the blocks' environment)
%%   --files-only       write the file blocks (and check same-as), run nothing:
%%                      a guide's project, for a variant of it
%%   --logs DIR         per-block logs: DIR/P.LINE.log, the output of the block
%%                      of P at line LINE (default: SCRATCH/logs)
%%   --timeout SECONDS  a block running longer is killed and fails (1800)
%%
%% Output: a line per block (what it wrote, or its commands), the test runners'
%% and dialyzer's summary lines from a block's log and its time; the end of the
%% log of a block that failed. Last, `doctest: N blocks run, N failed`. Exits 0
%% when at least one block ran, every block ran as shown and every --project
%% has blocks; 1 otherwise, 2 on a usage error.
-mode(compile).

-define(TAIL, 40).

main(Args) ->
    case options(Args, #{projects => [], files_only => false, timeout => 1800}) of
        {ok, Opts0, [NocopyDir0, Scratch0 | Files]} when Files =/= [] ->
            NocopyDir = absdir(NocopyDir0),
            Scratch = filename:absname(Scratch0),
            %% --nocopy may name a repository that does not exist (a variant
            %% whose git dependency must not be fetched).
            Nocopy = case maps:find(nocopy, Opts0) of
                         {ok, N} -> case filelib:is_dir(N) of
                                        true -> absdir(N);
                                        false -> filename:absname(N)
                                    end;
                         error -> NocopyDir
                     end,
            Opts = Opts0#{dir => NocopyDir, nocopy => Nocopy, scratch => Scratch,
                          logs => filename:absname(maps:get(logs, Opts0,
                                                            filename:join(Scratch, "logs")))},
            halt(run(Files, Opts));
        {ok, _, _} ->
            usage();
        {error, Why} ->
            io:format(standard_error, "doctest: ~s~n", [Why]),
            usage()
    end.

usage() ->
    io:format(standard_error,
              "usage: doctest.escript [--project P]... [--nocopy PATH] [--git-snapshot DIR]~n"
              "           [--files-only] [--logs DIR] [--timeout SECONDS] NOCOPY_DIR SCRATCH FILE.md...~n"
              "(see the comment at the top of mk/doctest.escript)~n", []),
    halt(2).

options(["--project", P | Rest], O = #{projects := Ps}) -> options(Rest, O#{projects := Ps ++ [P]});
options(["--nocopy", P | Rest], O) -> options(Rest, O#{nocopy => P});
options(["--git-snapshot", D | Rest], O) -> options(Rest, O#{snapshot => absdir(D)});
options(["--files-only" | Rest], O) -> options(Rest, O#{files_only := true});
options(["--logs", D | Rest], O) -> options(Rest, O#{logs => D});
options(["--timeout", S | Rest], O) ->
    case string:to_integer(S) of
        {N, []} when N > 0 -> options(Rest, O#{timeout := N});
        _ -> {error, "--timeout takes a number of seconds"}
    end;
options(["--" ++ _ = Opt | _], _) -> {error, ["unknown option ", Opt]};
options(Rest, O) -> {ok, O, Rest}.

absdir(Dir) ->
    case file:read_file_info(Dir) of
        {ok, _} -> string:trim(os:cmd("cd '" ++ Dir ++ "' && pwd -P"));
        _ -> io:format(standard_error, "doctest: ~s: no such directory~n", [Dir]), halt(2)
    end.

%% ---- the run ---------------------------------------------------------------

run(Files, Opts = #{scratch := Scratch, logs := Logs, projects := Only, files_only := FilesOnly}) ->
    Parsed = [{F, parse(F)} || F <- Files],
    case owners(Parsed) of
        ok -> ok;
        {clash, P, F1, F2} ->
            io:format("doctest: project ~s has blocks in ~s and in ~s: a project belongs to "
                      "one file (rename one)~n", [P, F1, F2]),
            halt(1)
    end,
    Selected = [{F, [B || B <- Bs, selected(B, Only)]} || {F, Bs} <- Parsed],
    Missing = [P || P <- Only,
                    not lists:any(fun({_, Bs}) -> lists:any(fun(B) -> project(B) =:= P end, Bs) end,
                                  Selected)],
    [io:format("doctest: no block of project ~s in ~s~n", [P, lists:join(", ", Files)])
     || P <- Missing],
    ok = filelib:ensure_dir(filename:join(Scratch, "x")),
    ok = filelib:ensure_dir(filename:join(Logs, "x")),
    Env = env(Opts),
    Session = case FilesOnly of
                  true -> none;
                  false -> compile_session(Scratch)
              end,
    St = lists:foldl(fun({File, Blocks}, St0) ->
                             run_file(File, Blocks, Opts#{env => Env, session => Session}, St0)
                     end, #{ran => 0, failed => 0, skipped => #{}}, Selected),
    #{ran := Ran, failed := Failed, skipped := Skipped} = St,
    [io:format("doctest: ~b block~s of project ~s skipped after its failure~n",
               [N, plural(N), P]) || {P, N} <- maps:to_list(Skipped), N > 0],
    io:format("doctest: ~b blocks run, ~b failed~n", [Ran, Failed]),
    if Failed =:= 0, Ran > 0, Missing =:= [] -> 0; true -> 1 end.

plural(1) -> "";
plural(_) -> "s".

selected(_, []) -> true;
selected({bad, _, _}, _) -> true;
selected(B, Only) -> lists:member(project(B), Only).

project({block, _, Attrs, _}) -> binary_to_list(proplists:get_value(project, Attrs, <<>>));
project({bad, _, _}) -> "".

%% A project's blocks are in one file.
owners(Parsed) ->
    Pairs = lists:usort([{project(B), F} || {F, Bs} <- Parsed, B <- Bs, project(B) =/= ""]),
    owners1(Pairs).

owners1([{P, F1}, {P, F2} | _]) -> {clash, P, F1, F2};
owners1([_ | Rest]) -> owners1(Rest);
owners1([]) -> ok.

%% mk/doctest_session.erl, beside this script, compiled into SCRATCH/.doctest.
compile_session(Scratch) ->
    Ebin = filename:join([Scratch, ".doctest", "ebin"]),
    ok = filelib:ensure_dir(filename:join(Ebin, "x")),
    Src = filename:join(filename:dirname(filename:absname(escript:script_name())),
                        "doctest_session.erl"),
    case compile:file(Src, [{outdir, Ebin}, report, warnings_as_errors]) of
        {ok, _} -> Ebin;
        _ -> io:format("doctest: cannot compile ~s~n", [Src]), halt(1)
    end.

run_file(File, [], #{projects := []}, St) ->
    io:format("== ~s: no marked block~n", [File]),
    St;
run_file(_, [], _, St) ->
    St;
run_file(File, Blocks, Opts, St) ->
    Projects = lists:usort([project(B) || B <- Blocks]) -- [""],
    io:format("== ~s: ~b block~s~s~n",
              [File, length(Blocks), plural(length(Blocks)),
               case Projects of
                   [] -> "";
                   _ -> [" (", lists:join(", ", Projects), ")"]
               end]),
    lists:foldl(fun(B, S) -> step(B, File, Opts, S) end, St, Blocks).

step(B, File, Opts, St = #{ran := Ran, failed := Failed, skipped := Skipped}) ->
    P = project(B),
    case maps:find(P, Skipped) of
        {ok, N} when P =/= "" ->
            St#{skipped := Skipped#{P := N + 1}};
        _ ->
            case block(B, File, Opts) of
                skip -> St;
                true -> St#{ran := Ran + 1};
                false when P =:= "" -> St#{ran := Ran + 1, failed := Failed + 1};
                false -> St#{ran := Ran + 1, failed := Failed + 1, skipped := Skipped#{P => 0}}
            end
    end.

%% ---- markdown --------------------------------------------------------------

%% [{block, Line, Attrs, Lines} | {bad, Line, Why}]: every fenced block preceded
%% by a marker, and every malformed marker.
parse(File) ->
    case file:read_file(File) of
        {ok, Text} -> blocks(string:split(Text, "\n", all), 1, none, []);
        {error, Why} -> [{bad, 0, io_lib:format("cannot read: ~s", [file:format_error(Why)])}]
    end.

blocks([], _, none, Acc) ->
    lists:reverse(Acc);
blocks([], _, {At, _}, Acc) ->
    lists:reverse([{bad, At, "a marker must be followed by a fenced block"} | Acc]);
blocks([Line | Rest], N, Marker, Acc) ->
    Fence = string:prefix(string:trim(Line, leading), "```"),
    case {marker(Line), Fence, Marker} of
        {{ok, M}, _, none} ->
            blocks(Rest, N + 1, {N, M}, Acc);
        {{ok, M}, _, {At, _}} ->
            blocks(Rest, N + 1, {N, M}, [{bad, At, "a marker must be followed by a fenced block"} | Acc]);
        {{bad, Why}, _, _} ->
            blocks(Rest, N + 1, none, [{bad, N, Why} | Acc]);
        {none, nomatch, none} ->
            blocks(Rest, N + 1, none, Acc);
        {none, nomatch, {At, _}} ->
            case string:trim(Line) of
                <<>> -> blocks(Rest, N + 1, Marker, Acc);     % blank lines may separate them
                _ -> blocks(Rest, N + 1, none,
                            [{bad, At, "a marker must be followed by a fenced block"} | Acc])
            end;
        {none, _Info, _} ->
            %% A fence indented in a list item: its lines lose that indent.
            Indent = byte_size(Line) - byte_size(string:trim(Line, leading)),
            {Body0, After, Skipped, Closed} = fence(Rest, []),
            Body = [dedent(L, Indent) || L <- Body0],
            Acc1 = case {Marker, Closed} of
                       {none, _} -> Acc;
                       {{At, _}, false} -> [{bad, At, "the fenced block is not closed"} | Acc];
                       {{At, M}, true} -> [{block, At, M, Body} | Acc]
                   end,
            blocks(After, N + 1 + Skipped, none, Acc1)
    end.

dedent(Line, N) ->
    Spaces = byte_size(Line) - byte_size(string:trim(Line, leading, " ")),
    binary:part(Line, min(N, Spaces), byte_size(Line) - min(N, Spaces)).

%% The lines of a fenced block up to its closing fence.
fence([], Acc) ->
    {lists:reverse(Acc), [], length(Acc), false};
fence([Line | Rest], Acc) ->
    case string:prefix(string:trim(Line, leading), "```") of
        nomatch -> fence(Rest, [Line | Acc]);
        _ -> {lists:reverse(Acc), Rest, length(Acc) + 1, true}
    end.

%% {ok, Attrs}, {bad, Why} for a line that names nocopy-test but is no marker,
%% or none.
marker(Line) ->
    case re:run(Line, "^\\s*<!--\\s*nocopy-test:(.*)-->\\s*$", [{capture, [1], binary}, unicode]) of
        {match, [Text]} ->
            Attrs = attrs(Text),
            case check_attrs(Attrs) of
                ok -> {ok, [{binary_to_atom(K), V} || {K, V} <- Attrs]};
                {bad, Why} -> {bad, [Why, ": ", string:trim(Line)]}
            end;
        nomatch ->
            case binary:match(Line, <<"nocopy-test">>) of
                nomatch -> none;
                _ -> {bad, ["not a marker (<!-- nocopy-test: ... -->): ", string:trim(Line)]}
            end
    end.

attrs(Text) ->
    case re:run(Text, "([^\\s=]+)(?:=(\"[^\"]*\"|[^\\s\"]+))?",
                [global, {capture, all_but_first, binary}]) of
        {match, Pairs} ->
            [case P of
                 [K] -> {K, true};
                 [K, <<$", V/binary>>] -> {K, binary:part(V, 0, byte_size(V) - 1)};
                 [K, V] -> {K, V}
             end || P <- Pairs];
        nomatch ->
            []
    end.

-define(KEYS, [<<"project">>, <<"file">>, <<"run">>, <<"erl">>, <<"same-as">>]).

check_attrs(Attrs0) ->
    Keys = [K || {K, _} <- Attrs0],
    Attrs = [{binary_to_atom(K), V} || {K, V} <- Attrs0, lists:member(K, ?KEYS)],
    Get = fun(K) -> proplists:get_value(K, Attrs) end,
    Kinds = [K || K <- [file, run, erl], Get(K) =/= undefined],
    Unknown = Keys -- ?KEYS,
    Twice = length(Keys) =/= length(lists:usort(Keys)),
    if
        Unknown =/= [] ->
            {bad, ["unknown attribute ", hd(Unknown)]};
        Twice ->
            {bad, "an attribute given twice"};
        length(Kinds) > 1 ->
            {bad, "more than one of file, run and erl"};
        Kinds =:= [], Attrs =:= [] ->
            {bad, "no attribute"};
        Kinds =:= [] ->
            case Get('same-as') of
                V when is_binary(V) -> ok;
                _ -> {bad, "no file, run, erl or same-as"}
            end;
        true ->
            Paths = [V || K <- [file, 'same-as'], V <- [Get(K)], V =/= undefined],
            case {Get(project), Get(run), Get(erl)} of
                {P, _, _} when not is_binary(P) ->
                    {bad, "no project= name"};
                {P, _, _} when P =:= <<>> ->
                    {bad, "an empty project name"};
                {_, R, _} when R =/= undefined, R =/= true ->
                    {bad, "run takes no value"};
                {_, _, E} when E =:= true ->
                    {bad, "erl takes a value: erl=\"ARGS\""};
                _ ->
                    case [V || V <- [Get(project) | Paths], not relative(V)] of
                        [] -> ok;
                        [V | _] -> {bad, ["a path outside the project or tree: ", V]}
                    end
            end
    end.

relative(true) -> false;
relative(Path) ->
    Parts = filename:split(Path),
    filename:pathtype(Path) =:= relative andalso not lists:member(<<"..">>, Parts).

%% ---- blocks ----------------------------------------------------------------

%% true if the block ran as shown, false if not, skip if not to be run.
block({bad, At, Why}, File, _) ->
    io:format("~s:~b: ~s~n~s:~b: FAILED~n", [File, At, Why, File, At]),
    false;
block({block, At, Attrs, Lines}, File, Opts = #{dir := Dir, files_only := FilesOnly}) ->
    Body = iolist_to_binary([[L, "\n"] || L <- Lines]),
    Where = io_lib:format("~s:~b", [File, At]),
    P = project({block, At, Attrs, Lines}),
    Same = case proplists:get_value('same-as', Attrs) of
               undefined -> true;
               Orig -> same_as(Body, Orig, Dir, Where)
           end,
    Kind = case {proplists:get_value(file, Attrs), proplists:get_value(run, Attrs),
                 proplists:get_value(erl, Attrs)} of
               {F, _, _} when is_binary(F) -> {file, F};
               {_, true, _} -> run;
               {_, _, E} when is_binary(E) -> {erl, E};
               _ -> same_as_only
           end,
    Result = case Kind of
                 _ when not Same -> false;
                 same_as_only -> true;
                 {file, Path} -> write(P, Path, Body, Where, Opts);
                 _ when FilesOnly -> skip;
                 run -> run(P, At, Body, Where, Opts);
                 {erl, Args} -> session(P, At, Args, Body, Where, Opts)
             end,
    Result =:= false andalso io:format("~s: FAILED~n", [Where]),
    Result.

subst(Text, #{nocopy := Nocopy}) ->
    binary:replace(Text, <<"/path/to/nocopy">>, unicode:characters_to_binary(Nocopy), [global]).

%% Whether a block is the nocopy tree's file Orig, byte for byte.
same_as(Body, Orig, Dir, Where) ->
    case file:read_file(filename:join(Dir, Orig)) of
        {ok, Body} ->
            io:format("~s: same as ~s~n", [Where, Orig]),
            true;
        {ok, Other} ->
            io:format("~s: DIFFERS from ~s, first ~ts~n", [Where, Orig, first_difference(Body, Other)]),
            false;
        {error, Why} ->
            io:format("~s: same-as ~s: ~s~n", [Where, Orig, file:format_error(Why)]),
            false
    end.

first_difference(Block, File) ->
    first_difference(string:split(Block, "\n", all), string:split(File, "\n", all), 1).

first_difference([L | Bs], [L | Fs], N) -> first_difference(Bs, Fs, N + 1);
first_difference([B | _], [F | _], N) ->
    io_lib:format("at line ~b:~n    block: ~ts~n    file:  ~ts", [N, B, F]);
first_difference([], _, N) -> io_lib:format("at line ~b: the block ends, the file goes on", [N]);
first_difference(_, [], N) -> io_lib:format("at line ~b: the file ends, the block goes on", [N]).

write(P, Path, Body, Where, Opts = #{scratch := Scratch}) ->
    Dest = filename:join([Scratch, P, Path]),
    ok = filelib:ensure_dir(Dest),
    case file:write_file(Dest, subst(Body, Opts)) of
        ok ->
            io:format("~s: wrote ~s/~s~n", [Where, P, Path]),
            true;
        {error, Why} ->
            io:format("~s: cannot write ~s: ~s~n", [Where, Dest, file:format_error(Why)]),
            false
    end.

%% A run block: its commands, shown as the docs have them, then run.
run(P, At, Body, Where, Opts = #{logs := Logs}) ->
    Commands = [L || L <- string:split(string:trim(Body, trailing), "\n", all),
                     string:prefix(string:trim(L), "#") =:= nomatch, string:trim(L) =/= <<>>],
    io:format("~s: ~s: ~ts~n", [Where, P, lists:join("; ", Commands)]),
    Script = filename:join(Logs, io_lib:format("~s.~b.sh", [P, At])),
    ok = file:write_file(Script, subst(Body, Opts)),
    shell(P, At, ["sh -e '", Script, "'"], Opts).

%% An erl block: the session replayed by doctest_session.
session(P, At, Args, Body, Where, Opts = #{logs := Logs, session := Ebin}) ->
    io:format("~s: ~s: erl ~s~n", [Where, P, Args]),
    Text = filename:join(Logs, io_lib:format("~s.~b.session", [P, At])),
    ok = file:write_file(Text, subst(Body, Opts)),
    shell(P, At, ["erl -noshell -pa '", Ebin, "' ", subst(Args, Opts),
                  " -run doctest_session main '", Text, "'"], Opts).

%% Runs the shell command Cmd in SCRATCH/P, stdin closed, its output in
%% LOGS/P.AT.log; shows the summaries and the time, the log's end if it fails.
shell(P, At, Cmd, #{scratch := Scratch, logs := Logs, env := Env, timeout := Timeout}) ->
    Dir = filename:join(Scratch, P),
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    Log = filename:join(Logs, io_lib:format("~s.~b.log", [P, At])),
    T0 = erlang:monotonic_time(millisecond),
    Line = ["exec timeout -k 10 ", integer_to_list(Timeout), " ", Cmd,
            " </dev/null >'", Log, "' 2>&1"],
    Port = open_port({spawn_executable, "/bin/sh"},
                     [{args, ["-c", unicode:characters_to_list(Line)]}, {cd, Dir}, {env, Env},
                      exit_status, stderr_to_stdout, binary]),
    Status = wait(Port),
    Secs = (erlang:monotonic_time(millisecond) - T0) div 1000,
    Out = clean(Log),
    [io:format("    ~ts~n", [S]) || S <- summaries(Out)],
    case Status of
        0 ->
            io:format("    (~b s)~n", [Secs]),
            true;
        _ ->
            io:format("    (~b s, exit status ~b~s); the end of ~s:~n", [Secs, Status,
                      case Status of 124 -> ": timed out"; _ -> "" end, Log]),
            Lines = string:split(string:trim(Out, trailing), "\n", all),
            [io:format("    | ~ts~n", [L]) || L <- lists:nthtail(max(0, length(Lines) - ?TAIL), Lines)],
            false
    end.

wait(Port) ->
    receive
        {Port, {data, _}} -> wait(Port);
        {Port, {exit_status, St}} -> St
    end.

%% The log without terminal colours and progress lines (text before a \r):
%% rewritten so, and returned.
clean(Log) ->
    case file:read_file(Log) of
        {ok, Raw} ->
            Text = re:replace(re:replace(Raw, "\e\\[[0-9;?]*[A-Za-z]", "", [global]),
                              "[^\n]*\r(?!\n)", "", [global, {return, binary}]),
            Text =:= Raw orelse file:write_file(Log, Text),
            Text;
        _ ->
            <<>>
    end.

%% The test runners' and dialyzer's own summary lines, a compiler's errors.
summaries(Out) ->
    Re = "^(===> )?(Finished in |[0-9]+ (tests?|propert(y|ies)|doctests?), [0-9]+ failures?"
         "|Analyzing [0-9]+ files|Warnings occurred|Hook for |Error in dialyzing"
         "|doctest_session: )"
         "|^ *((All )?[0-9]+ tests passed|Test passed|Failed: |There were no tests)"
         "|^make(\\[[0-9]+\\])?: \\*\\*\\*|^[^ :]+:[0-9]+(:[0-9]+)?: (fatal )?error:",
    [string:trim(L) || L <- string:split(Out, "\n", all),
                       re:run(L, Re, [unicode]) =/= nomatch].

%% The environment of every block: the user's, less what a make running the
%% tests put there (its flags, variables given on its command line, and
%% nocopy.mk's variables), plus NOCOPY_DIR, parallel make and, with
%% --git-snapshot, git's URL rewrite.
env(#{nocopy := Nocopy} = Opts) ->
    CommandLine = case os:getenv("MAKEFLAGS") of
                      false -> [];
                      Flags ->
                          case string:split(Flags, " -- ") of
                              [_, Vars] -> [hd(string:split(V, "=")) || V <- string:lexemes(Vars, " ")];
                              _ -> []
                          end
                  end,
    Unset = ["MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "MAKE_TERMOUT", "MAKE_TERMERR",
             "BUILD", "NOCOPY_LAYOUT", "NOCOPY_PRIV_DIR", "NOCOPY_GEN_DIR", "NOCOPY_BEAM_DIR",
             "NOCOPY_EBIN", "ERL", "ERLC", "ERTS_INC", "OPTFLAGS", "MOREFLAGS",
             "GIT_CONFIG_COUNT" | CommandLine],
    Jobs = erlang:system_info(logical_processors_available),
    Git = case maps:find(snapshot, Opts) of
              {ok, Snap} ->
                  [{"GIT_CONFIG_COUNT", "1"},
                   {"GIT_CONFIG_KEY_0", "url.file://" ++ Snap ++ ".insteadOf"},
                   {"GIT_CONFIG_VALUE_0", "file://" ++ Nocopy}];
              error ->
                  []
          end,
    Set = [{"NOCOPY_DIR", Nocopy},
           {"MAKEFLAGS", "-j" ++ integer_to_list(case Jobs of unknown -> 2; J -> J end)} | Git],
    [{V, false} || V <- lists:usort(Unset) -- [K || {K, _} <- Set]] ++ Set.
