%% nocopy_test_util.hrl: helpers shared by the EUnit suites of the native
%% test module nocopy_test (plain helpers that any suite may use, polling and
%% GC among them, are in nocopy_test_lib).
%%
%% Every suite runs against every backend: a backend is `nif' (calls go to
%% nocopy_test:F(Args...)) or `{drv, Port}' (calls go to
%% nocopy_test_drv:F(Port, Args...), so argument numbers in errors are one
%% higher). Suites build their tests with ?NC_FOR_EACH_BACKEND(Fun), where
%% Fun(Backend) returns a list of EUnit tests. Both backends are always
%% built: failing to open a port is a test failure, never a skip. The suites
%% whose semantics the isolated backend shares (arguments, results, errors)
%% use ?NC_FOR_ALL_THREE(Fun), which adds `{iso, Iso}' (calls go to
%% nocopy_test_iso:F(Iso, Args...), argument numbers one higher too).

-include_lib("eunit/include/eunit.hrl").

-compile({nowarn_unused_function,
          [{nc_for_each_backend, 2}, {nc_open, 1}, {nc_close, 1}, {call, 3}, {nc_start_iso, 0}, {nc_start_iso, 1},
           {nc_name, 1}, {nc_module, 1}, {nc_argno, 2}, {nc_args, 2},
           {nc_catch, 3}, {nc_assert_badarg, 5}, {nc_assert_error, 5},
           {nc_got, 2}, {nc_format, 2}, {nc_contains, 2}, {nc_big, 1},
           {nc_holder, 0}, {nc_holder_run, 2}, {nc_holder_drop, 1},
           {nc_holder_stop, 1}, {holder_loop, 1}, {holder_dropped, 2},
           {nc_title, 2}, {nc_await, 2}]}).

-define(NC_FOR_EACH_BACKEND(Fun), nc_for_each_backend(Fun, [])).
-define(NC_FOR_ALL_THREE(Fun), nc_for_each_backend(Fun, [iso])).

%% The bounds of C's int64_t and uint64_t.
-define(I64_MAX, ((1 bsl 63) - 1)).
-define(I64_MIN, (-(1 bsl 63))).
-define(U64_MAX, ((1 bsl 64) - 1)).

%% ---- backends -----------------------------------------------------------------

%% Opts: `{drv_open, Opts}' passes options to nocopy_test_drv:open/1,
%% `{iso_start, Opts}' to nocopy_test_iso:start/1.
nc_for_each_backend(Fun, Opts) ->
    IsoOpts = proplists:get_value(iso_start, Opts, []),
    [{"nif backend", Fun(nif)},
     {"driver backend",
      {setup, fun() -> nc_open(Opts) end, fun nc_close/1, Fun}}
     | [{"isolated backend", {setup, fun() -> nc_start_iso(IsoOpts) end, fun nc_close/1, Fun}}
        || lists:member(iso, Opts)]].

nc_start_iso() ->
    nc_start_iso([]).

nc_start_iso(Opts) ->
    case nocopy_test_iso:start([{region_bytes, 1 bsl 26} | Opts]) of
        {ok, Iso} -> {iso, Iso};
        Other -> erlang:error({isolate_start_failed, Other})
    end.

nc_open(Opts) ->
    DrvOpts = proplists:get_value(drv_open, Opts, []),
    case nocopy_test_drv:open(DrvOpts) of
        {ok, Port} when is_port(Port) -> {drv, Port};
        Other -> erlang:error({driver_open_failed, Other})
    end.

nc_close({drv, Port}) -> nocopy_test_drv:close(Port);
nc_close({iso, Iso}) -> nocopy_test_iso:stop(Iso);
nc_close(nif) -> ok.

nc_name(nif) -> "nif";
nc_name({drv, _}) -> "drv";
nc_name({iso, _}) -> "iso".

nc_module(nif) -> nocopy_test;
nc_module({drv, _}) -> nocopy_test_drv;
nc_module({iso, _}) -> nocopy_test_iso.

%% A test title naming the backend: "nif: echo_i64(foo)".
nc_title(Backend, Text) ->
    lists:flatten([nc_name(Backend), ": ", Text]).

%% ---- calling --------------------------------------------------------------------

call(nif, F, Args) -> apply(nocopy_test, F, Args);
call({drv, Port}, F, Args) -> apply(nocopy_test_drv, F, [Port | Args]);
call({iso, Iso}, F, Args) -> apply(nocopy_test_iso, F, [Iso | Args]).

%% The argument number the caller sees for argument N of the C function.
nc_argno(nif, N) -> N;
nc_argno({drv, _}, N) -> N + 1;
nc_argno({iso, _}, N) -> N + 1.

%% The argument list of the stub's stack frame.
nc_args(nif, Args) -> Args;
nc_args({drv, Port}, Args) -> [Port | Args];
nc_args({iso, Iso}, Args) -> [Iso | Args].

%% {ok, Value} | {error, Reason, Stacktrace} (other classes are re-raised).
nc_catch(B, F, Args) ->
    try call(B, F, Args) of
        V -> {ok, V}
    catch
        error:Reason:St -> {error, Reason, St}
    end.

%% ---- error checks ---------------------------------------------------------------

%% Checks that F(Args) fails with error:badarg whose error_info names argument
%% ArgNo (of the C function; shifted for the driver) with exactly Message, and
%% that the shell-style formatted exception shows "argument N: Message".
nc_assert_badarg(B, F, Args, ArgNo, Message) ->
    nc_assert_error(B, F, Args, badarg, {ArgNo, Message}).

%% Where is {ArgNo, Message} or {general, Message}; Message may be
%% {prefix, Start} when only the start of the text is fixed.
nc_assert_error(B, F, Args, Reason, Where) ->
    case nc_catch(B, F, Args) of
        {ok, V} ->
            erlang:error({expected_error, Reason, {F, Args}, {returned, V}});
        {error, Got, St} ->
            ?assertEqual(Reason, Got),
            [{Mod, Fun, FrameArgs, Info} | _] = St,
            %% The error is raised from the stub itself, with its real arguments.
            ?assertEqual({nc_module(B), F, nc_args(B, Args)}, {Mod, Fun, FrameArgs}),
            ErrorInfo = proplists:get_value(error_info, Info),
            ?assertMatch(#{module := nocopy, cause := _}, ErrorInfo),
            {Key, Text} = case Where of
                              {general, T} -> {general, T};
                              {N, T} when is_integer(N) -> {nc_argno(B, N), T}
                          end,
            Map = nocopy_test_lib:error_strings(Got, St),
            Shown = case Text of
                        {prefix, P} ->
                            %% Only the start is fixed (nested terms: the
                            %% ", got: ..." part shows the whole argument).
                            ?assertEqual([Key], maps:keys(Map)),
                            ?assertEqual(P, lists:sublist(maps:get(Key, Map), length(P))),
                            P;
                        _ ->
                            ?assertEqual(#{Key => Text}, Map),
                            Text
                    end,
            Formatted = nc_format(Got, St),
            Line = case Key of
                       general -> Shown;
                       _ -> lists:flatten(io_lib:format("argument ~b: ~ts", [Key, Shown]))
                   end,
            ?assert(nc_contains(Formatted, Line)),
            ok
    end.

%% ", got: X" as nocopy:format_error/2 appends it after "expected ..." texts.
nc_got(Text, Arg) ->
    lists:flatten(io_lib:format("~ts, got: ~0tP", [Text, Arg, 12])).

%% The exception as the shell prints it.
nc_format(Reason, St) ->
    unicode:characters_to_list(erl_error:format_exception(error, Reason, St)).

nc_contains(Haystack, Needle) ->
    string:find(Haystack, Needle) =/= nomatch.

%% ---- data -------------------------------------------------------------------------

%% A fresh binary of exactly Size bytes with varied content: a heap binary up
%% to 64 bytes, a refc binary above (never a sub-binary, never appendable).
nc_big(Size) ->
    Pattern = <<"0123456789abcdefghijklmnopqrstuvwxyz">>,
    list_to_binary([binary:copy(Pattern, Size div 36), binary:part(Pattern, 0, Size rem 36)]).

%% ---- holder processes: hold terms, drop them and collect on request ------------------

%% A process that runs funs on request and keeps what they return alive until
%% told to drop everything. Every request is answered after a full GC of the
%% holder, so "dropped" means the holder no longer references anything.
nc_holder() ->
    spawn_link(fun() -> holder_loop([]) end).

holder_loop(Held) ->
    receive
        {run, From, Ref, Fun} ->
            %% Fun(Held) -> {Keep, Reply}: Keep stays here, Reply goes back.
            {Keep, Reply} = Fun(Held),
            erlang:garbage_collect(),
            From ! {Ref, Reply},
            holder_loop([Keep | Held]);
        {drop, From, Ref} ->
            holder_dropped(From, Ref);
        {stop, From, Ref} ->
            From ! {Ref, stopped}
    end.

%% A tail call, so no stack frame still refers to the old state during the GC.
holder_dropped(From, Ref) ->
    erlang:garbage_collect(),
    From ! {Ref, dropped},
    holder_loop([]).

%% Runs Fun(HeldSoFar) -> {Keep, Reply} in the holder and returns Reply.
nc_holder_run(Pid, Fun) ->
    Ref = make_ref(),
    Pid ! {run, self(), Ref, Fun},
    receive {Ref, Reply} -> Reply end.

nc_holder_drop(Pid) ->
    Ref = make_ref(),
    Pid ! {drop, self(), Ref},
    receive {Ref, dropped} -> ok end.

nc_holder_stop(Pid) ->
    Ref = make_ref(),
    unlink(Pid),
    Pid ! {stop, self(), Ref},
    receive {Ref, stopped} -> ok end.

%% Waits until Fun() returns Expected, then asserts it. For C state, which
%% sends no message (see nocopy_test_lib:wait_until/2): the deadline only turns
%% a hang into a failure.
nc_await(Expected, Fun) ->
    nocopy_test_lib:wait_until(fun() -> Fun() =:= Expected end, 10000),
    ?assertEqual(Expected, Fun()).
