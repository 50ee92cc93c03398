%% @doc Writes the Erlang stub modules of a nocopy C module from its table.
%%
%% The C module's table is printed as Erlang terms by the module's "describe"
%% build (see nocopy.mk); this module turns those terms into `NAME.erl' (NIF
%% stubs), `NAME_drv.erl' (driver client) and `NAME_iso.erl' (isolated
%% backend client), each function with the `-spec' written once in C. Run as
%% `erl -noshell -run nocopy_stubgen main Table.nocopy OutDir'.
-module(nocopy_stubgen).

-export([main/1, generate/2, add_docs/1, add_docs/2]).

-record(func, {index :: non_neg_integer(),
               name :: string(),
               arity :: non_neg_integer(),
               args :: [{string(), string()}],   % {VarName, Type}
               result :: string(),
               sched :: atom(),
               doc :: string()}).

%% @doc Command-line entry: `main([TableFile, OutDir])'. Halts with status 1
%% and a message on any error.
-spec main([string()]) -> no_return().
main([TableFile, OutDir]) ->
    try generate(TableFile, OutDir) of
        ok -> halt(0)
    catch
        throw:{stubgen, Msg} ->
            io:format(standard_error, "nocopy_stubgen: ~ts: ~ts~n", [TableFile, Msg]),
            halt(1)
    end;
main(_) ->
    io:format(standard_error, "usage: nocopy_stubgen TableFile OutDir~n", []),
    halt(2).

%% @doc Reads `TableFile' and writes `NAME.erl', `NAME_drv.erl' and
%% `NAME_iso.erl' into `OutDir'.
%% Throws `{stubgen, Message}' on a malformed table.
-spec generate(file:filename(), file:filename()) -> ok.
generate(TableFile, OutDir) ->
    Terms = case file:consult(TableFile) of
                {ok, T} -> T;
                {error, E} -> fail("cannot read: ~p", [E])
            end,
    Name = proplists:get_value(module, Terms),
    is_list(Name) orelse fail("no module name", []),
    Types = proplists:get_value(types, Terms, ""),
    %% The runtime makes atoms from Latin-1 text and C source is UTF-8: only
    %% ASCII names mean the same atom on both sides and both backends.
    [fail("atom name ~tp is not ASCII", [A]) || A <- proplists:get_value(atoms, Terms, []),
                                                 lists:any(fun(Ch) -> Ch > 127 end, A)],
    Funcs = [parse_func(F) || F <- Terms, element(1, F) =:= function],
    check_unique(Funcs),
    Fp = proplists:get_value(fingerprint, Terms),
    is_integer(Fp) andalso Fp >= 0 andalso Fp =< 16#ffffffff orelse
        fail("no fingerprint (a table printed by an older describe build?)", []),
    write(OutDir, Name ++ ".erl", nif_module(Name, Types, Funcs)),
    Options = proplists:get_value(port_options, Terms),
    is_list(Options) orelse
        fail("no port_options (a table printed by an older describe build?)", []),
    write(OutDir, Name ++ "_drv.erl", drv_module(Name, Types, Funcs, Fp, Options)),
    Atoms = proplists:get_value(atoms, Terms, []),
    write(OutDir, Name ++ "_iso.erl", iso_module(Name, Types, Funcs, Fp, Atoms)).

%% @doc Command-line entry: `add_docs([BeamFile, TableFile])'. Halts with status
%% 1 and a message on any error.
-spec add_docs([string()]) -> no_return().
add_docs([Beam, TableFile]) ->
    try add_docs(Beam, TableFile) of
        ok -> halt(0)
    catch
        throw:{stubgen, Msg} ->
            io:format(standard_error, "nocopy_stubgen: ~ts: ~ts~n", [Beam, Msg]),
            halt(1)
    end.

%% @doc Adds an EEP 48 "Docs" chunk to `BeamFile', a stub module generated
%% from `TableFile' (the NIF module or the driver client), so that the shell's
%% `h(Module, Fun)' and IEx's `h :module.fun' show each function's
%% signature, spec and the table's `doc' text. The specs come from the
%% module's own debug_info.
-spec add_docs(file:filename(), file:filename()) -> ok.
add_docs(BeamFile, TableFile) ->
    Terms = case file:consult(TableFile) of
                {ok, T} -> T;
                {error, E} -> fail("cannot read ~ts: ~p", [TableFile, E])
            end,
    Name = proplists:get_value(module, Terms),
    Funcs = [parse_func(F) || F <- Terms, element(1, F) =:= function],
    {ok, Module, Chunks} = case beam_lib:all_chunks(BeamFile) of
                               {ok, _, _} = Ok -> Ok;
                               {error, beam_lib, Why} -> fail("cannot read: ~p", [Why])
                           end,
    Specs = specs(BeamFile, Module),
    DrvName = Name ++ "_drv",
    IsoName = Name ++ "_iso",
    Kind = case atom_to_list(Module) of
               DrvName -> drv;
               IsoName -> iso;
               _ -> nif
           end,
    Entries = [doc_entry(F, Vars, Doc, Specs) || {F, Vars, Doc} <- documented(Kind, Name, Funcs)],
    ModDoc = case Kind of
                 nif -> ["NIF stubs of the nocopy module ", Name, ": the functions of its C "
                         "table, run in this VM. Generated from the table; see its C source."];
                 drv -> ["Driver client of the nocopy module ", Name, ": the same functions "
                         "through a port opened with open/0,1 (the port comes first). "
                         "Generated from the table; see its C source."];
                 iso -> ["Isolated backend client of the nocopy module ", Name, ": the same "
                         "functions run in a child OS process started with start/0,1 (the "
                         "isolate comes first). Generated from the table; see its C source."]
             end,
    Docs = {docs_v1, erl_anno:new(1), erlang, <<"text/markdown">>,
            #{<<"en">> => unicode:characters_to_binary(ModDoc)}, #{}, Entries},
    Kept = [C || {Id, _} = C <- Chunks, Id =/= "Docs"],
    {ok, Bin} = beam_lib:build_module(Kept ++ [{"Docs", term_to_binary(Docs, [compressed])}]),
    case file:write_file(BeamFile, Bin) of
        ok -> ok;
        {error, E2} -> fail("cannot write: ~p", [E2])
    end.

%% {Function, ArgumentNames, Doc} of every exported function worth a doc.
documented(nif, _Name, Funcs) ->
    [{F#func.name, [V || {V, _} <- F#func.args], doc_text(F)} || F <- Funcs];
documented(iso, Name, Funcs) ->
    [{F#func.name, ["Iso" | [V || {V, _} <- F#func.args]],
      [case string:trim(doc_text(F)) of
           "" -> "";
           Text -> [Text, "\n\n"]
       end,
       "In the isolate `Iso`, started by start/0,1; the same as ", Name, ":",
       F#func.name, "/", integer_to_list(F#func.arity), " on the NIF."]}
     || F <- Funcs]
    ++ [{"start", [], "Starts an isolate (a child process) with default options."},
        {"start", ["Opts"], "Starts an isolate with options (see nocopy_iso)."},
        {"stop", ["Iso"], "Stops the isolate: its process is killed, calls fail with "
                          "`eclosed`."}];
documented(drv, Name, Funcs) ->
    [{F#func.name, ["Port" | [V || {V, _} <- F#func.args]],
      [case string:trim(doc_text(F)) of
           "" -> "";
           Text -> [Text, "\n\n"]
       end,
       "Through `Port`, a port of ", Name, "_drv:open/0,1; the same as ", Name, ":",
       F#func.name, "/", integer_to_list(F#func.arity), " on the NIF."]}
     || F <- Funcs]
    ++ [{"open", [], "Opens a port on the driver build, with default options."},
        {"open", ["Opts"], "Opens a port on the driver build: options `{workers, N}`, "
                           "`{queue, N}`, `{queue_bytes, N}`, `{inline, Bool}` (see "
                           "nocopy_port)."},
        {"close", ["Port"], "Closes the port: queued calls fail with `eclosed`; running "
                            "calls finish on their threads."},
        {"call", ["Port", "Fun", "Args"], "Calls `Fun` with `Args` through `Port`."},
        {"call", ["Port", "Fun", "Args", "Timeout"],
         "Calls `Fun` with `Args` through `Port`, waiting at most `Timeout` ms."},
        {"async", ["Port", "Fun", "Args"],
         "Starts a call and returns a reference at once; collect the result with "
         "await/1,2."},
        {"await", ["Ref"], "Waits for the result of async/3."},
        {"await", ["Ref", "Timeout"], "Waits at most `Timeout` ms for the result of async/3."}].

doc_text(#func{doc = "", sched = S}) -> string:trim(sched_text(S));
doc_text(#func{doc = D, sched = S}) -> lists:flatten([D, sched_text(S)]).

sched_text(normal) -> "";
sched_text(dirty_cpu) -> " Runs on a dirty CPU scheduler (a worker thread on the driver).";
sched_text(dirty_io) -> " Runs on a dirty I/O scheduler (a worker thread on the driver).";
sched_text(dirty_above) -> " Large inputs run on a dirty CPU scheduler (a worker thread on "
                           "the driver).".

doc_entry(Name, Vars, Doc, Specs) ->
    F = list_to_atom(Name),
    A = length(Vars),
    Meta = case lists:keyfind({F, A}, 1, Specs) of
               {_, SpecAttr} -> #{signature => [SpecAttr]};
               false -> #{}
           end,
    Sig = unicode:characters_to_binary([atom(Name), "(", join(Vars, ", "), ")"]),
    {{function, F, A}, erl_anno:new(1), [Sig], #{<<"en">> => unicode:characters_to_binary(Doc)},
     Meta}.

%% {{F, A}, SpecAttribute} from the module's debug_info.
specs(BeamFile, Module) ->
    case beam_lib:chunks(BeamFile, [debug_info]) of
        {ok, {_, [{debug_info, {debug_info_v1, Backend, Meta}}]}} ->
            case Backend:debug_info(erlang_v1, Module, Meta, []) of
                {ok, Forms} -> [{FA, Form} || {attribute, _, spec, {FA, _}} = Form <- Forms];
                _ -> []
            end;
        _ ->
            []
    end.

write(Dir, File, Chars) ->
    Path = filename:join(Dir, File),
    ok = filelib:ensure_dir(Path),
    case file:write_file(Path, unicode:characters_to_binary(Chars)) of
        ok -> ok;
        {error, E} -> fail("cannot write ~ts: ~p", [Path, E])
    end.

-spec fail(string(), list()) -> no_return().
fail(Fmt, Args) ->
    throw({stubgen, lists:flatten(io_lib:format(Fmt, Args))}).

%% ---- the table -------------------------------------------------------------

parse_func({function, Index, Name, Arity, Args, Result, Sched, _DirtyAbove, Doc}) ->
    Parts = split_top(Args),
    length(Parts) =:= Arity orelse
        fail("~s/~b: the argument types name ~b arguments", [Name, Arity, length(Parts)]),
    Named = [name_arg(P, N) || {P, N} <- lists:zip(Parts, lists:seq(1, Arity))],
    Vars = [V || {V, _} <- Named],
    length(lists:usort(Vars)) =:= Arity orelse
        fail("~s/~b: argument names are not unique", [Name, Arity]),
    #func{index = Index, name = Name, arity = Arity, args = Named, result = Result,
          sched = Sched, doc = Doc};
parse_func(Other) ->
    fail("malformed function entry ~p", [Other]).

check_unique(Funcs) ->
    Keys = [{F#func.name, F#func.arity} || F <- Funcs],
    length(lists:usort(Keys)) =:= length(Keys) orelse fail("duplicate function", []),
    Reserved = [K || {N, A} = K <- Keys,
                     lists:member({N, A + 1}, [{"open", 1}, {"close", 1}, {"call", 3},
                                               {"call", 4}, {"async", 3}, {"await", 1},
                                               {"await", 2},
                                               %% the isolated backend client's
                                               {"start", 1}, {"stop", 1}])],
    Reserved =:= [] orelse
        fail("~p clash with the driver or isolate client's own functions", [Reserved]),
    ok.

%% "Ctx :: t(), Qop :: integer() | atom()" -> ["Ctx :: t()", "Qop :: integer() | atom()"]
split_top(S) ->
    case string:trim(S) of
        "" -> [];
        T -> split_top(T, 0, [], [])
    end.

split_top([], _, Cur, Acc) ->
    lists:reverse([string:trim(lists:reverse(Cur)) | Acc]);
split_top([$, | Rest], 0, Cur, Acc) ->
    split_top(Rest, 0, [], [string:trim(lists:reverse(Cur)) | Acc]);
split_top([C | Rest], D, Cur, Acc) when C =:= $(; C =:= $[; C =:= ${ ->
    split_top(Rest, D + 1, [C | Cur], Acc);
split_top([$<, $< | Rest], D, Cur, Acc) ->
    split_top(Rest, D + 1, [$<, $< | Cur], Acc);
split_top([$>, $> | Rest], D, Cur, Acc) ->
    split_top(Rest, D - 1, [$>, $> | Cur], Acc);
split_top([C | Rest], D, Cur, Acc) when C =:= $); C =:= $]; C =:= $} ->
    split_top(Rest, D - 1, [C | Cur], Acc);
split_top([C | Rest], D, Cur, Acc) ->
    split_top(Rest, D, [C | Cur], Acc).

name_arg(Part, N) ->
    case string:split(Part, "::") of
        [Var, Type] ->
            V = string:trim(Var),
            is_var(V) orelse fail("'~s' is not a variable name", [V]),
            {V, string:trim(Type)};
        [Type] ->
            {"Arg" ++ integer_to_list(N), Type}
    end.

%% A variable the stub can use: not `_' or `_X', which it could not pass on.
is_var([C | Rest]) when C >= $A, C =< $Z ->
    lists:all(fun(X) -> (X >= $a andalso X =< $z) orelse (X >= $A andalso X =< $Z)
                            orelse (X >= $0 andalso X =< $9) orelse X =:= $_ end, Rest);
is_var(_) -> false.

%% ---- NIF module --------------------------------------------------------------

nif_module(Name, Types, Funcs) ->
    [header(Name, "NIF stubs"),
     "-module(", atom(Name), ").\n\n",
     "-export([", join([[atom(F#func.name), "/", integer_to_list(F#func.arity)]
                        || F <- Funcs], ",\n         "), "]).\n\n",
     "-on_load('$nocopy_load'/0).\n\n",
     "-define(LOAD_ERROR, {?MODULE, '$nocopy_load_error'}).\n\n",
     types(Types),
     [nif_function(F) || F <- Funcs],
     "%% Loads ", Name, "_nif.so from the priv directory beside this module's ebin\n",
     "%% (or its application's). Needs nothing of nocopy's Erlang modules. When the\n",
     "%% library cannot be loaded, the module stays loaded and logs why, and every\n",
     "%% call raises {nif_not_loaded, ?MODULE, Why}: a reason, not a bare undef.\n",
     "'$nocopy_load'() ->\n",
     "    Path = filename:join('$nocopy_priv'(), \"", Name, "_nif\"),\n",
     "    case erlang:load_nif(Path, 0) of\n",
     "        ok ->\n",
     "            persistent_term:get(?LOAD_ERROR, none) =:= none orelse\n",
     "                persistent_term:erase(?LOAD_ERROR),\n",
     "            ok;\n",
     "        {error, {_, Text}} ->\n",
     "            Why = lists:flatten(io_lib:format(\"~ts.so could not be loaded (~ts); build \"\n",
     "                                              \"it, or install it in the priv directory\",\n",
     "                                              [Path, Text])),\n",
     "            persistent_term:put(?LOAD_ERROR, Why),\n",
     "            logger:warning(\"~s: ~ts\", [?MODULE, Why]),\n",
     "            ok\n",
     "    end.\n\n",
     "'$nocopy_not_loaded'() ->\n",
     "    {nif_not_loaded, ?MODULE, persistent_term:get(?LOAD_ERROR, \"not loaded\")}.\n\n",
     "%% The priv directory: ../priv beside this module's ebin, or else its\n",
     "%% application's (what nocopy:priv_dir/1 does, here so that loading needs no\n",
     "%% other module).\n",
     "'$nocopy_priv'() ->\n",
     "    Beside = case code:which(?MODULE) of\n",
     "                 Beam when is_list(Beam) ->\n",
     "                     filename:join(filename:dirname(filename:dirname(Beam)), \"priv\");\n",
     "                 _ ->\n",
     "                     \"priv\"\n",
     "             end,\n",
     "    case {filelib:is_dir(Beside), application:get_application(?MODULE)} of\n",
     "        {false, {ok, App}} ->\n",
     "            case code:priv_dir(App) of\n",
     "                {error, _} -> Beside;\n",
     "                Dir -> Dir\n",
     "            end;\n",
     "        _ ->\n",
     "            Beside\n",
     "    end.\n"].

nif_function(#func{name = N, args = Args} = F) ->
    Vars = [V || {V, _} <- Args],
    %% Fresh names: an argument may well be called Reason or Cause.
    Reason = fresh("Reason", Vars),
    Cause = fresh("Cause", Vars),
    Stub = atom("$nocopy_" ++ N),
    [doc(F), spec(N, Args, F#func.result),
     atom(N), "(", join(Vars, ", "), ") ->\n",
     "    try ", Stub, "(", join(Vars, ", "), ")\n",
     "    catch\n",
     "        error:{'$nocopy_error', ", Reason, ", ", Cause, "} ->\n",
     "            erlang:error(", Reason, ", [", join(Vars, ", "), "],\n",
     "                         [{error_info, #{module => nocopy, cause => ", Cause, "}}])\n",
     "    end.\n\n",
     Stub, "(", join(["_" || _ <- Vars], ", "), ") ->\n",
     "    erlang:nif_error('$nocopy_not_loaded'()).\n\n"].

%% ---- driver module -----------------------------------------------------------

drv_module(Name, Types, Funcs, Fp, Options) ->
    Drv = Name ++ "_drv",
    Exports = ["open/0", "open/1", "close/1", "call/3", "call/4", "async/3",
               "await/1", "await/2"
               | [[atom(F#func.name), "/", integer_to_list(F#func.arity + 1)] || F <- Funcs]],
    %% The request encoders are exported for the test that compares them with
    %% nocopy_wire:request/5 (nocopy_driver_wire_tests); '$index'/2 and
    %% '$functions'/0 for nocopy_port:check_generic/4; '$fingerprint'/0 for
    %% tests and tools that build requests themselves; '$port_options'/0 for
    %% nocopy_port:open/3.
    EncExports = [[encoder_name(F#func.name), "/", integer_to_list(F#func.arity + 2)]
                  || F <- Funcs],
    FunNames = join([atom(F#func.name) || F <- Funcs], " | "),
    [header(Name, "driver client"),
     "-module(", atom(Drv), ").\n\n",
     "-export([", join(Exports, ",\n         "), "]).\n",
     "-export(['$index'/2, '$functions'/0, '$fingerprint'/0, '$port_options'/0",
     [[",\n         ", E] || E <- EncExports], "]).\n\n",
     "%% The fingerprint of ", Name, "'s function table: every request carries it,\n",
     "%% and a port of another module refuses the request.\n",
     "-define(FP, ", integer_to_list(Fp), ").\n\n",
     "%% Each function raises its errors itself, so that the stack frame is its\n",
     "%% own, with its own arguments.\n",
     "-define(EI(Cause), [{error_info, #{module => nocopy, cause => Cause}}]).\n\n",
     types(Types),
     "-type function_name() :: ", case Funcs of [] -> "none()"; _ -> FunNames end, ".\n",
     "-export_type([function_name/0]).\n\n",
     "%% @doc Opens a port on the driver build of ", Name, " with default options.\n",
     "-spec open() -> {ok, port()} | {error, term()}.\n",
     "open() ->\n    open([]).\n\n",
     "%% @doc Opens a port on the driver build of ", Name, "; see nocopy_port:open/3.\n",
     "-spec open([nocopy_port:option()]) -> {ok, port()} | {error, term()}.\n",
     "open(Opts) when is_list(Opts) ->\n",
     "    try nocopy_port:open(?MODULE, nocopy:priv_dir(?MODULE), Opts)\n",
     "    catch error:undef:St -> erlang:raise(error, '$undef'(St), St)\n",
     "    end;\n",
     "open(Opts) ->\n",
     "    erlang:error(badarg, [Opts],\n",
     "                 [{error_info, #{module => nocopy,\n",
     "                                 cause => {1, <<\"expected a list of options\">>}}}]).\n\n",
     "%% @doc Closes the port; calls in flight fail with an error.\n",
     "-spec close(port()) -> ok.\n",
     "close(Port) ->\n",
     "    case '$generic'(close, [Port]) of\n",
     "        {ok, Ok} -> Ok;\n",
     "        {error, Reason, Cause} -> erlang:error(Reason, [Port], ?EI(Cause))\n",
     "    end.\n\n",
     "%% @doc Calls `Fun' with `Args' through `Port' (no timeout, as a NIF call).\n",
     "-spec call(port(), function_name(), list()) -> term().\n",
     "call(Port, Fun, Args) ->\n",
     "    case '$generic'(call, [Port, Fun, Args, infinity]) of\n",
     "        {ok, Value} -> Value;\n",
     "        {error, Reason, Cause} -> erlang:error(Reason, [Port, Fun, Args], ?EI(Cause))\n",
     "    end.\n\n",
     "%% @doc Calls `Fun' with `Args' through `Port', waiting at most `Timeout' ms.\n",
     "-spec call(port(), function_name(), list(), timeout()) -> term().\n",
     "call(Port, Fun, Args, Timeout) ->\n",
     "    case '$generic'(call, [Port, Fun, Args, Timeout]) of\n",
     "        {ok, Value} -> Value;\n",
     "        {error, Reason, Cause} -> erlang:error(Reason, [Port, Fun, Args, Timeout], ?EI(Cause))\n",
     "    end.\n\n",
     "%% @doc Starts a call and returns at once; the result is collected with await/1,2.\n",
     "-spec async(port(), function_name(), list()) -> reference().\n",
     "async(Port, Fun, Args) ->\n",
     "    case '$generic'(async, [Port, Fun, Args]) of\n",
     "        {ok, Ref} -> Ref;\n",
     "        {error, Reason, Cause} -> erlang:error(Reason, [Port, Fun, Args], ?EI(Cause))\n",
     "    end.\n\n",
     "%% @doc Waits for the result of async/3.\n",
     "-spec await(reference()) -> term().\n",
     "await(Ref) ->\n",
     "    case '$generic'(await, [Ref, infinity]) of\n",
     "        {ok, Value} -> Value;\n",
     "        {error, Reason, Cause} -> erlang:error(Reason, [Ref], ?EI(Cause))\n",
     "    end.\n\n",
     "%% @doc Waits at most `Timeout' ms for the result of async/3.\n",
     "-spec await(reference(), timeout()) -> term().\n",
     "await(Ref, Timeout) ->\n",
     "    case '$generic'(await, [Ref, Timeout]) of\n",
     "        {ok, Value} -> Value;\n",
     "        {error, Reason, Cause} -> erlang:error(Reason, [Ref, Timeout], ?EI(Cause))\n",
     "    end.\n\n",

     "'$generic'(What, Args) ->\n",
     "    try nocopy_port:generic(What, ?MODULE, ?FP, Args)\n",
     "    catch error:undef:St -> erlang:raise(error, '$undef'(St), St)\n",
     "    end.\n\n",
     "%% An undef of nocopy's own modules means they are not on the code path:\n",
     "%% an error that says so, and what to do.\n",
     "'$undef'([{M, _, _, _} | _]) when M =:= nocopy; M =:= nocopy_port; M =:= nocopy_wire ->\n",
     "    case code:which(M) of\n",
     "        non_existing ->\n",
     "            {nocopy_missing, \"nocopy's Erlang modules are not on the code path: \"\n",
     "                             \"add nocopy's ebin (erl -pa path/to/ebin; make builds \"\n",
     "                             \"it into _build/nocopy/ebin) or make nocopy a \"\n",
     "                             \"dependency of your application\"};\n",
     "        _ ->\n",
     "            undef\n",
     "    end;\n",
     "'$undef'(_) ->\n",
     "    undef.\n\n",
     [drv_function(F) || F <- Funcs],
     [drv_encoder(F, Name, handle_aliases(Types), true) || F <- Funcs],
     "%% @private The index of a function in the C table, for nocopy_port.\n",
     [["'$index'(", atom(F#func.name), ", ", integer_to_list(F#func.arity), ") -> ",
       integer_to_list(F#func.index), ";\n"] || F <- Funcs],
     "'$index'(_, _) -> undefined.\n\n",
     "%% @private The fingerprint of the table, for tests and tools.\n",
     "'$fingerprint'() -> ?FP.\n\n",
     "%% @private The port options, their defaults and bounds: the driver's own\n",
     "%% table (c_src/drv/nc_drv_options.h), for nocopy_port:open/3.\n",
     "'$port_options'() ->\n    ", io_lib:format("~w", [Options]), ".\n\n",
     "%% @private The functions, for error messages.\n",
     "'$functions'() ->\n",
     "    \"", functions_text(Funcs), "\".\n"].

%% "checksum/2, middle/3" (the C arities, as call/3 counts Args), at most 12.
functions_text([]) -> "no functions";
functions_text(Funcs) ->
    Names = [[F#func.name, "/", integer_to_list(F#func.arity)] || F <- Funcs],
    case length(Names) > 12 of
        true -> [join(lists:sublist(Names, 12), ", "), ", ..."];
        false -> join(Names, ", ")
    end.

%% The stub encodes its own request (drv_encoder/3) and hands it to
%% nocopy_port:call_request/5: the per-function encoder costs a fraction of
%% the generic one, which walks the argument list at run time.
drv_function(#func{name = N, args = Args} = F) ->
    Vars = [V || {V, _} <- Args],
    Port = fresh("Port", Vars),
    Tag = fresh("Tag", Vars),
    Reason = fresh("Reason", Vars),
    Cause = fresh("Cause", Vars),
    St = fresh("St", Vars),
    [doc(F), spec(N, [{Port, "port()"} | Args], F#func.result),
     atom(N), "(", join([Port | Vars], ", "), ") ->\n",
     "    ", Tag, " = erlang:unique_integer(),\n",
     "    try nocopy_port:call_request(", Port, ", ?MODULE, ", Tag, ",\n",
     "                                 ", encoder_name(N), "(",
     join([Port, Tag | Vars], ", "), "),\n",
     "                                 infinity)\n",
     "    catch\n",
     "        error:{'$nocopy_error', ", Reason, ", ", Cause, "} ->\n",
     "            erlang:error(", Reason, ", [", join([Port | Vars], ", "), "],\n",
     "                         [{error_info, #{module => nocopy,\n",
     "                                         cause => nocopy:drv_cause(", Cause, ")}}]);\n",
     "        error:undef:", St, " ->\n",
     "            erlang:raise(error, '$undef'(", St, "), ", St, ")\n",
     "    end.\n\n"].

%% ---- isolated backend module ----------------------------------------------------

%% NAME_iso: the same functions with the isolate first. Each stub encodes its
%% request with the driver's encoder (drv_encoder/3: the same bytes, one
%% encoder) and hands it to nocopy_iso:call_request/5.
iso_module(Name, Types, Funcs, Fp, Atoms) ->
    Iso = Name ++ "_iso",
    Exports = ["start/0", "start/1", "stop/1"
               | [[atom(F#func.name), "/", integer_to_list(F#func.arity + 1)] || F <- Funcs]],
    [header(Name, "isolated backend client"),
     "-module(", atom(Iso), ").\n\n",
     "-export([", join(Exports, ",\n         "), "]).\n",
     "-export(['$atoms'/0, '$fingerprint'/0]).\n",
     %% The requests, for callers that wait with their own timeout
     %% (nocopy_iso:call_request/5; nocopy_ffi's per-function timeout).
     "-export([", join([[encoder_name(F#func.name), "/", integer_to_list(F#func.arity + 2)]
                        || F <- Funcs], ",\n         "), "]).\n\n",
     "-define(FP, ", integer_to_list(Fp), ").\n\n",
     types(Types),
     "%% @doc Starts an isolate of ", Name, " with default options.\n",
     "-spec start() -> {ok, nocopy_iso:iso()} | {error, term()}.\n",
     "start() ->\n    nocopy_iso:start(?MODULE, []).\n\n",
     "%% @doc Starts an isolate of ", Name, "; see nocopy_iso:start/2.\n",
     "-spec start([nocopy_iso:option()]) -> {ok, nocopy_iso:iso()} | {error, term()}.\n",
     "start(Opts) ->\n    nocopy_iso:start(?MODULE, Opts).\n\n",
     "%% @doc Stops the isolate.\n",
     "-spec stop(nocopy_iso:iso()) -> ok.\n",
     "stop(Iso) ->\n    nocopy_iso:stop(Iso).\n\n",
     [iso_function(F) || F <- Funcs],
     [drv_encoder(F, Name, handle_aliases(Types), false) || F <- Funcs],
     "%% @private The module's atoms, by index, for the isolate's replies.\n",
     "'$atoms'() ->\n    ", io_lib:format("~p", [Atoms]), ".\n\n",
     "%% @private The fingerprint of the table, for tests and tools.\n",
     "'$fingerprint'() -> ?FP.\n"].

iso_function(#func{name = N, args = Args} = F) ->
    Vars = [V || {V, _} <- Args],
    Iso = fresh("Iso", Vars),
    Tag = fresh("Tag", Vars),
    Reason = fresh("Reason", Vars),
    Cause = fresh("Cause", Vars),
    [doc(F), spec(N, [{Iso, "nocopy_iso:iso()"} | Args], F#func.result),
     atom(N), "(", join([Iso | Vars], ", "), ") ->\n",
     "    ", Tag, " = erlang:unique_integer([positive]),\n",
     "    try nocopy_iso:call_request(", Iso, ", ?MODULE, ", Tag, ",\n",
     "                                ", encoder_name(N), "(",
     join([Iso, Tag | Vars], ", "), "),\n",
     "                                infinity)\n",
     "    catch\n",
     "        error:{'$nocopy_error', ", Reason, ", ", Cause, "} ->\n",
     "            erlang:error(", Reason, ", [", join([Iso | Vars], ", "), "],\n",
     "                         [{error_info, #{module => nocopy,\n",
     "                                         cause => nocopy:drv_cause(", Cause, ")}}])\n",
     "    end.\n\n"].

%% ---- per-function request encoders -------------------------------------------

%% The request encoder of one function: nocopy_wire:encoder/5 writes it from
%% the kinds of its arguments (docs/wire-format.md; the bytes are
%% nocopy_wire:request/7's, tested in nocopy_driver_wire_tests). Tail: the
%% driver's, whose last binary or I/O list argument runs to the end of the
%% request unmeasured (nocopy_port:call_request/5 resends a list that
%% port_command/2 refuses); an isolate's VM side measures the request itself,
%% so its stubs send request/6's.
drv_encoder(#func{name = N, args = Args, index = I, arity = Arity, sched = Sched}, Module,
            Handles, Tail) ->
    Kinds = [wire_kind(arg_kind(T, Module, Handles), Sched) || {_, T} <- Args],
    nocopy_wire:encoder(encoder_name(N), I, Kinds,
                        ["The request for ", atom(N), "/", integer_to_list(Arity + 1),
                         " (nocopy_wire:encoder/5)."], Tail).

encoder_name(N) -> atom("$nocopy_request_" ++ N).

%% Iodata is sent as its bytes (nocopy_wire:request/6), except to a
%% NOCOPY_DIRTY_ABOVE function: its threshold counts the binaries of the
%% argument terms, as on the NIF (not integer bytes, and within the measure's
%% bounds), which only the terms show.
wire_kind(iodata, dirty_above) -> other;
wire_kind(Kind, _) -> Kind.

%% Which kind of value the spec's type text names. Only a hint: the guards
%% decide, and `other' takes anything.
arg_kind(Type0, Module, Handles) ->
    Type = [C || C <- Type0, C =/= $\s, C =/= $\t, C =/= $\n],
    case Type of
        "binary()" -> binary;
        "nonempty_binary()" -> binary;
        "<<" ++ _ -> binary;
        "integer()" -> int;
        "non_neg_integer()" -> int;
        "pos_integer()" -> int;
        "neg_integer()" -> int;
        "byte()" -> int;
        "char()" -> int;
        "float()" -> float;
        "iodata()" -> iodata;
        "iolist()" -> iodata;
        "nocopy:handle()" -> handle;
        _ ->
            case is_int_range(Type) of
                true -> int;
                false -> alias_kind(Type, Module, Handles)
            end
    end.

is_int_range(Type) ->
    case re:run(Type, "^-?[0-9]+\\.\\.-?[0-9]+$") of
        {match, _} -> true;
        nomatch -> false
    end.

%% A type of the module's own defined as nocopy:handle(), named with or
%% without the module.
alias_kind(Type, Module, Handles) ->
    Local = case string:prefix(Type, Module ++ ":") of
                nomatch -> Type;
                Rest -> Rest
            end,
    case lists:member(Local, Handles) of
        true -> handle;
        false -> other
    end.

%% ["ctx()", ...]: the module's types whose definition is nocopy:handle().
handle_aliases(Types) ->
    Re = "-(?:type|opaque)\\s+([a-z][A-Za-z0-9_@]*)\\s*\\(\\s*\\)\\s*::\\s*nocopy:handle\\(\\s*\\)",
    case re:run(Types, Re, [global, {capture, all_but_first, list}]) of
        {match, Found} -> [Name ++ "()" || [Name] <- Found];
        nomatch -> []
    end.

fresh(Base, Vars) ->
    case lists:member(Base, Vars) of
        true -> fresh(Base ++ "_", Vars);
        false -> Base
    end.

%% ---- pieces ------------------------------------------------------------------

header(Name, What) ->
    ["%% ", What, " for the nocopy module ", Name, ".\n",
     "%% Generated by nocopy_stubgen from the function table in ", Name,
     "'s C source.\n%% Do not edit: change the table and rebuild.\n"].

%% The module's own types, exported so that other modules' specs can name them
%% (unless the table's text already has its own -export_type).
types("") -> [];
types(Types) ->
    case string:find(Types, "-export_type") of
        nomatch -> [Types, "\n", export_types(Types), "\n"];
        _ -> [Types, "\n\n"]
    end.

export_types(Types) ->
    Re = "-(?:type|opaque)\\s+([a-z][A-Za-z0-9_@]*)\\s*\\(([^)]*)\\)",
    case re:run(Types, Re, [global, {capture, all_but_first, list}]) of
        {match, Found} ->
            Names = [[Name, "/", integer_to_list(length(split_top(Params)))]
                     || [Name, Params] <- Found],
            ["-export_type([", join(Names, ", "), "]).\n"];
        nomatch ->
            []
    end.

doc(#func{doc = ""}) -> [];
doc(#func{doc = D, sched = S}) ->
    ["%% @doc ", D, sched_note(S), "\n"].

sched_note(normal) -> "";
sched_note(dirty_cpu) -> " (Runs on a dirty CPU scheduler.)";
sched_note(dirty_io) -> " (Runs on a dirty I/O scheduler.)";
sched_note(dirty_above) -> " (Large inputs run on a dirty CPU scheduler.)".

spec(Name, Args, Result) ->
    ["-spec ", atom(Name), "(", join([[V, " :: ", T] || {V, T} <- Args], ", "),
     ") -> ", Result, ".\n"].

atom(Name) -> io_lib:write_atom(list_to_atom(Name)).

join([], _) -> [];
join([H | T], Sep) -> [H | [[Sep, X] || X <- T]].
