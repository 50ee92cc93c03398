#!/usr/bin/env escript
%% -*- erlang -*-
%% doctest.escript: runs the code blocks of a markdown file (the README, the
%% guides in docs/) as a user following it would, so that the documentation
%% cannot drift from the code. Usage:
%%
%%     escript mk/doctest.escript NOCOPY_DIR SCRATCH FILE.md...
%%
%% A block runs when a marker comment stands on the line before its fence:
%%
%%   <!-- nocopy-test: project=P file=PATH -->   the block is written to
%%                                               SCRATCH/P/PATH
%%   <!-- nocopy-test: project=P run -->         the block runs with `sh -e` in
%%                                               SCRATCH/P (its output shown)
%%   <!-- nocopy-test: project=P erl="ARGS" -->  the block is an Erlang shell
%%                                               session, replayed in
%%                                               `erl ARGS` in SCRATCH/P
%%   <!-- nocopy-test: same-as=PATH -->          the block must equal the file
%%                                               PATH of the nocopy tree (also
%%                                               with file=: both are done)
%%
%% In every block, the text /path/to/nocopy stands for NOCOPY_DIR. A session
%% is checked prompt by prompt (mk/doctest_session.erl): each expression is
%% evaluated in order, with the bindings of the earlier ones, and what the
%% block shows after it must match what the shell would print ("..." matches
%% anything; an exception must be raised where the block shows one, and each
%% line the block shows of it must appear in the formatted exception). Blocks
%% without a marker are not run: say why in the text (a command that needs
%% Debian's network, a fragment already run elsewhere).
%%
%% Exits 0 when every block ran as shown; prints what it did, block by block.
-mode(compile).

main([NocopyDir0, Scratch | Files]) when Files =/= [] ->
    NocopyDir = string:trim(os:cmd("cd '" ++ NocopyDir0 ++ "' && pwd")),
    ok = filelib:ensure_dir(filename:join(Scratch, "x")),
    Session = compile_session(Scratch, NocopyDir),
    Results = [run_file(F, NocopyDir, filename:absname(Scratch), Session) || F <- Files],
    N = lists:sum([Ran || {Ran, _} <- Results]),
    Failed = lists:sum([Bad || {_, Bad} <- Results]),
    io:format("doctest: ~b blocks run, ~b failed~n", [N, Failed]),
    halt(if Failed =:= 0, N > 0 -> 0; true -> 1 end);
main(_) ->
    io:format(standard_error, "usage: doctest.escript NOCOPY_DIR SCRATCH FILE.md...~n", []),
    halt(2).

%% mk/doctest_session.erl, compiled into SCRATCH/doctest_ebin.
compile_session(Scratch, NocopyDir) ->
    Ebin = filename:absname(filename:join(Scratch, "doctest_ebin")),
    ok = filelib:ensure_dir(filename:join(Ebin, "x")),
    Src = filename:join([NocopyDir, "mk", "doctest_session.erl"]),
    {ok, _} = compile:file(Src, [{outdir, Ebin}, report, warnings_as_errors]),
    Ebin.

run_file(File, NocopyDir, Scratch, Session) ->
    {ok, Text} = file:read_file(File),
    Blocks = blocks(string:split(Text, "\n", all), 1, none, []),
    io:format("== ~s: ~b blocks~n", [File, length(Blocks)]),
    Outcomes = [run_block(B, File, NocopyDir, Scratch, Session) || B <- Blocks],
    {length(Outcomes), length([x || false <- Outcomes])}.

%% [{Line, Marker, Content}] for every fenced block preceded by a marker.
blocks([], _, _, Acc) ->
    lists:reverse(Acc);
blocks([Line | Rest], N, Marker, Acc) ->
    case {marker(Line), string:prefix(string:trim(Line, leading), "```")} of
        {{ok, M}, _} ->
            blocks(Rest, N + 1, {N, M}, Acc);
        {none, nomatch} ->
            blocks(Rest, N + 1, case string:trim(Line) of
                                    <<>> -> Marker;       % blank lines may separate them
                                    _ -> none
                                end, Acc);
        {none, _Info} ->
            %% A fence indented in a list item: its lines lose that indent.
            Indent = byte_size(Line) - byte_size(string:trim(Line, leading)),
            {Body0, After, Skipped} = fence(Rest, []),
            Body = [dedent(L, Indent) || L <- Body0],
            case Marker of
                none -> blocks(After, N + 1 + Skipped, none, Acc);
                {At, M} -> blocks(After, N + 1 + Skipped, none, [{At, M, Body} | Acc])
            end
    end.

dedent(Line, N) ->
    Spaces = byte_size(Line) - byte_size(string:trim(Line, leading, " ")),
    binary:part(Line, min(N, Spaces), byte_size(Line) - min(N, Spaces)).

%% The lines of a fenced block up to its closing fence.
fence([], Acc) ->
    {lists:reverse(Acc), [], length(Acc)};
fence([Line | Rest], Acc) ->
    case string:prefix(string:trim(Line, leading), "```") of
        nomatch -> fence(Rest, [Line | Acc]);
        _ -> {lists:reverse(Acc), Rest, length(Acc) + 1}
    end.

marker(Line) ->
    case re:run(Line, "^\\s*<!--\\s*nocopy-test:(.*)-->\\s*$", [{capture, [1], binary}, unicode]) of
        {match, [Attrs]} -> {ok, attrs(Attrs)};
        nomatch -> none
    end.

attrs(Text) ->
    {match, Pairs} = re:run(Text, "([a-z-]+)(?:=(\"[^\"]*\"|[^\\s\"]+))?",
                            [global, {capture, all_but_first, binary}]),
    [case P of
         [K] -> {binary_to_atom(K), true};
         [K, <<$", V/binary>>] -> {binary_to_atom(K), binary:part(V, 0, byte_size(V) - 1)};
         [K, V] -> {binary_to_atom(K), V}
     end || P <- Pairs].

run_block({At, Attrs, Lines}, File, NocopyDir, Scratch, Session) ->
    Body = iolist_to_binary(lists:join("\n", Lines) ++ ["\n"]),
    Text = binary:replace(Body, <<"/path/to/nocopy">>, list_to_binary(NocopyDir), [global]),
    Where = io_lib:format("~s:~b", [File, At]),
    Project = filename:join(Scratch, binary_to_list(proplists:get_value(project, Attrs, <<"">>))),
    Same = case proplists:get_value('same-as', Attrs) of
               undefined -> true;
               Orig -> same_as(Body, Orig, NocopyDir, Where)
           end,
    Result = Same andalso
        case {proplists:get_value(file, Attrs), proplists:get_value(run, Attrs),
              proplists:get_value(erl, Attrs), proplists:get_value('same-as', Attrs)} of
            {Path, _, _, _} when is_binary(Path) ->
                Dest = filename:join(Project, binary_to_list(Path)),
                ok = filelib:ensure_dir(Dest),
                ok = file:write_file(Dest, Text),
                io:format("~s: wrote ~s~n", [Where, Dest]),
                true;
            {_, true, _, _} ->
                ok = filelib:ensure_dir(filename:join(Project, "x")),
                io:format("~s: running in ~s:~n~s", [Where, Project, Text]),
                sh(Project, Text, NocopyDir);
            {_, _, Args, _} when is_binary(Args) ->
                ok = filelib:ensure_dir(filename:join(Project, "x")),
                Script = filename:join(Scratch, "session.txt"),
                ok = file:write_file(Script, Text),
                io:format("~s: replaying an erl session in ~s~n", [Where, Project]),
                ErlArgs = binary:replace(Args, <<"/path/to/nocopy">>,
                                         list_to_binary(NocopyDir), [global]),
                sh(Project, ["erl -noshell -pa ", Session, " ", ErlArgs,
                             " -run doctest_session main ", Script, "\n"], NocopyDir);
            {_, _, _, SameAs} when is_binary(SameAs) ->
                true;
            _ ->
                io:format("~s: marker without file, run, erl or same-as~n", [Where]),
                false
        end,
    Result orelse io:format("~s: FAILED~n", [Where]),
    Result.

%% Whether a block is the nocopy tree's file Orig, byte for byte.
same_as(Body, Orig, NocopyDir, Where) ->
    case file:read_file(filename:join(NocopyDir, Orig)) of
        {ok, Body} -> io:format("~s: same as ~s~n", [Where, Orig]), true;
        _ -> io:format("~s: DIFFERS from ~s~n", [Where, Orig]), false
    end.

%% Runs Script with sh -e in Dir, showing its output; true if it exits 0. The
%% environment is the user's, not that of the make running the tests: its
%% variables (BUILD, MOREFLAGS, ERL...) would reach the user's own make.
sh(Dir, Script, NocopyDir) ->
    Port = open_port({spawn_executable, "/bin/sh"},
                     [{args, ["-ec", unicode:characters_to_list(Script)]}, {cd, Dir},
                      {env, [{"NOCOPY_DIR", NocopyDir}, {"MAKEFLAGS", false},
                             {"MFLAGS", false}, {"MAKELEVEL", false},
                             {"MAKEOVERRIDES", false}]},
                      exit_status, stderr_to_stdout, binary, stream]),
    relay(Port).

relay(Port) ->
    receive
        {Port, {data, D}} -> io:put_chars(D), relay(Port);
        {Port, {exit_status, St}} -> St =:= 0
    end.
