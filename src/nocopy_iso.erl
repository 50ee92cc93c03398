%% @doc The isolated backend: a module's wrapped functions run in a child OS
%% process (`priv/NAME_iso', built by the same `nocopy_module' line as the
%% NIF and the driver), so a crash in C costs the calls in flight, not the VM,
%% while large binaries still cross with no copy, through memory mapped in
%% both processes (docs/design.md, "The isolated backend").
%%
%% An isolate ({@link iso()}) is started with {@link start/2} (or the generated
%% `NAME_iso:start/0,1'), and called through the generated stubs,
%% `NAME_iso:f(Iso, A...)', which take the same arguments as `NAME:f(A...)'
%% and return the same results, raising the same errors with the same
%% `error_info' texts (argument numbers one higher: the isolate is argument
%% 1).
%%
%% Binaries. A binary placed in the isolate's input region with
%% {@link binary/2}, or a binary result of a call (a buffer the function
%% filled, or a slice of an input that was in the region), crosses with no
%% copy: the child reads, and Erlang sees, the region's own bytes. Any other
%% binary argument is copied once into the region (those of at most 1024
%% bytes travel in the call message instead).
%%
%% Errors that only this backend has:
%% <ul>
%% <li>`ecrashed', `{general, Text}': the child process died during the call
%% (Text names the signal or exit status), or died and could not be restarted
%% within the restart budget. The next call starts a new child, unless the
%% budget is spent: `{restarts, {Intensity, PeriodMs}}', at most Intensity
%% restarts within PeriodMs (default 5 within 10000), as a supervisor's.
%% Handles of a dead child are refused as closed.</li>
%% <li>`timeout', `{general, Text}': the call took longer than the isolate's
%% `{timeout, Ms}' option; the child is killed (every call in flight on it
%% fails with `ecrashed'), and the next call starts a new one.</li>
%% <li>`eclosed', `{general, Text}': the isolate was stopped.</li>
%% <li>`eoverload', `{general, Text}': the channel to the child is full and
%% the VM's queue of calls waiting for it is at its bound (`{queue, N}' calls
%% or `{queue_bytes, B}' bytes; Text says which).</li>
%% </ul>
-module(nocopy_iso).

-export([start/1, start/2, stop/1, binary/2, info/1, call_request/5, address/1]).

-export_type([iso/0, option/0]).

-on_load(load/0).

%% An isolate: a reference to the VM's side of one child process (and its
%% successors, after restarts).
-opaque iso() :: reference().

%% `{threads, N}': the child's threads that run calls, 1..64, default 4.
%% `{region_bytes, N}': the size of each of the two shared regions, a
%% multiple of 4096 from 65536 to 2^46, default 1 GiB (address space: only
%% bytes written take memory). `{timeout, Ms}': the longest a call may take
%% before the child is killed (default `infinity'). `{restarts, {Intensity,
%% PeriodMs}}': the restart budget. `{spin, Us}': how long, in microseconds
%% (0..100000, default 10), a caller's scheduler waits for a small
%% reply in shared memory before it lets the reply come as a message, and a
%% child's thread polls for the next call before it sleeps; 0 turns both
%% off (docs/design.md, "The isolated backend", Channel). `{queue, N}' and
%% `{queue_bytes, B}': the bound of the calls that wait in the VM while the
%% channel to the child is full (it holds a few hundred small calls), in
%% calls (default 65536, 0..2^20; 0: none wait, a full channel is
%% `eoverload') and in their messages' bytes (default 64 MiB, 0..2^40); a
%% call past either fails with `eoverload'. A call that times out while it
%% waits there is taken out, never sent: it fails with `timeout' and the
%% child is not killed.
-type option() :: {threads, 1..64} | {region_bytes, pos_integer()}
                | {timeout, timeout()} | {restarts, {non_neg_integer(), pos_integer()}}
                | {spin, 0..100000} | {queue, non_neg_integer()}
                | {queue_bytes, non_neg_integer()}.

%% Measured on 2 shared cores (docs/design.md, "The isolated backend").
-define(SPIN_DEFAULT, 10).

-define(EI(Cause), [{error_info, #{module => nocopy, cause => Cause}}]).

%% The NIF library: in $NOCOPY_ISO_NIF_DIR when set (nocopy's own tree builds
%% one per build directory), else in nocopy's priv directory (beside its
%% ebin, or its application's: the make layout), else in the priv directory
%% of an application on the code path (the rebar3 layout and nocopy's Mix
%% compiler build it beside the application's NAME_iso: nocopy's own priv is
%% not theirs to write, rebar3 links a checkout's into the nocopy tree).
load() ->
    App = filename:dirname(filename:dirname(code:which(?MODULE))),
    Own = [os:getenv("NOCOPY_ISO_NIF_DIR", ""),
           case code:priv_dir(nocopy) of
               {error, _} -> filename:join(App, "priv");
               P -> P
           end,
           filename:join([App, "_build", "nocopy", "priv"])],
    Apps = [filename:join(filename:dirname(D), "priv") || D <- code:get_path()],
    case [D || D <- Own ++ Apps,
               D =/= "", filelib:is_regular(filename:join(D, "nocopy_iso_nif.so"))] of
        [Dir | _] -> erlang:load_nif(filename:join(Dir, "nocopy_iso_nif"), 0);
        [] -> {error, {load_failed, "nocopy_iso_nif.so was not found (build nocopy; "
                                    "NOCOPY_ISO_NIF_DIR names its directory)"}}
    end.

%% @doc Starts an isolate of `Module' (a generated `NAME_iso' module) with
%% default options.
-spec start(module()) -> {ok, iso()} | {error, term()}.
start(Module) ->
    start(Module, []).

%% @doc Starts an isolate of `Module' (a generated `NAME_iso' module): its
%% child process `priv/NAME_iso' with two fresh regions. The isolate lives
%% until {@link stop/1} or until no process holds its term.
-spec start(module(), [option()]) -> {ok, iso()} | {error, term()}.
start(Module, Opts) when is_atom(Module), is_list(Opts) ->
    Limits = option_limits_nif(),
    Defaults = maps:from_list([{Name, Def} || {Name, Def, _, _} <- Limits]),
    case options(Opts, Defaults#{threads => 4, region_bytes => 1 bsl 30, timeout => infinity,
                                 restarts => {5, 10000}, spin => ?SPIN_DEFAULT}, Limits) of
        {ok, #{threads := T, region_bytes := R, timeout := To, restarts := {I, P},
               spin := Spin, queue := Q, queue_bytes := QB}} ->
            Path = filename:join(nocopy:priv_dir(Module), atom_to_list(Module)),
            Atoms = [list_to_atom(A) || A <- Module:'$atoms'()],
            TimeoutMs = case To of infinity -> -1; _ -> To end,
            case start_nif(unicode:characters_to_binary(Path), Module, Atoms, R, T, TimeoutMs,
                           I, P, Spin) of
                {ok, Iso} ->
                    ok = set_queue_nif(Iso, Q, QB),
                    {ok, Iso};
                {error, Reason, Text} -> {error, {Reason, Text}}
            end;
        {error, _} = Error ->
            Error
    end;
start(Module, Opts) ->
    erlang:error(badarg, [Module, Opts],
                 ?EI(case is_atom(Module) of
                         false -> {1, <<"expected a module">>};
                         true -> {2, <<"expected a list of options">>}
                     end)).

%% Limits: the queue's options as the NIF library defines them
%% (c_src/iso_host/nc_iso_host_options.h), [{Name, Default, Min, Max}].
options([], Acc, _) ->
    {ok, Acc};
options([{threads, N} | Rest], Acc, L) when is_integer(N), N >= 1, N =< 64 ->
    options(Rest, Acc#{threads := N}, L);
options([{region_bytes, N} | Rest], Acc, L) when is_integer(N), N >= 65536, N =< 1 bsl 46,
                                                 N rem 4096 =:= 0 ->
    options(Rest, Acc#{region_bytes := N}, L);
options([{timeout, infinity} | Rest], Acc, L) ->
    options(Rest, Acc#{timeout := infinity}, L);
options([{timeout, Ms} | Rest], Acc, L) when is_integer(Ms), Ms >= 0, Ms =< 16#7fffffff ->
    options(Rest, Acc#{timeout := Ms}, L);
options([{restarts, {I, P}} | Rest], Acc, L) when is_integer(I), I >= 0, I =< 1000,
                                                  is_integer(P), P >= 1, P =< 16#7fffffff ->
    options(Rest, Acc#{restarts := {I, P}}, L);
options([{spin, Us} | Rest], Acc, L) when is_integer(Us), Us >= 0, Us =< 100000 ->
    options(Rest, Acc#{spin := Us}, L);
options([{Name, N} = Opt | Rest], Acc, L) when is_atom(Name), is_integer(N) ->
    case lists:keyfind(Name, 1, L) of
        {Name, _, Min, Max} when N >= Min, N =< Max -> options(Rest, Acc#{Name => N}, L);
        _ -> {error, {bad_option, Opt}}
    end;
options([Bad | _], _, _) ->
    {error, {bad_option, Bad}}.

%% @doc Stops the isolate: its child is killed, calls in flight fail with
%% `eclosed', later calls too. Binaries made by the isolate stay valid.
-spec stop(iso()) -> ok.
stop(Iso) ->
    try stop_nif(Iso)
    catch error:badarg -> erlang:error(badarg, [Iso], ?EI({1, <<"expected an isolate">>}))
    end.

%% @doc A copy of `Data' in the isolate's input region, as one binary:
%% passing it to the isolate's functions copies nothing. `Data' is iodata,
%% copied piece by piece (an I/O list is never flattened in the VM first);
%% more than 1 MiB is copied on a dirty CPU scheduler. The binary stays
%% valid after the child dies, but a later child reads it as an ordinary
%% binary (copied once).
-spec binary(iso(), iodata()) -> binary().
binary(Iso, Data) ->
    case catch_badarg(fun() -> binary_nif(Iso, Data) end) of
        {ok, B} -> B;
        dead ->
            ok = restart(Iso, [Iso, Data]),
            binary(Iso, Data);
        {error, Reason, Text} ->
            erlang:error(Reason, [Iso, Data], ?EI({general, Text}));
        badarg ->
            case is_iodata(Data) of
                false -> erlang:error(badarg, [Iso, Data], ?EI({2, <<"expected iodata">>}));
                true -> erlang:error(badarg, [Iso, Data], ?EI({1, <<"expected an isolate">>}))
            end
    end.

is_iodata(Data) ->
    try erlang:iolist_size(Data) of
        _ -> true
    catch
        error:badarg -> false
    end.

%% @doc What the isolate's VM side knows now: its child (`os_pid', `alive',
%% `incarnation'), the calls in flight, the input region's live blocks and
%% bytes, the child's keeps of them, the output handovers Erlang still holds,
%% the request bytes copied into the region or sent inline so far, the
%% replies taken from a reply slot (`slot_replies'), the slots given up at
%% the spin's end (`slot_abandoned') or turned down by the child
%% (`slot_declined'): those replies came as messages; the calls sent without
%% a slot after a slot was given up (`slot_skipped'), the messages waiting in
%% the VM for the channel (`queued_calls', `queued_releases', `queued_bytes')
%% and the calls ever queued (`queued_total'), the copies of more than 1 MiB
%% into the input region, made on a dirty CPU scheduler (`dirty_copies'),
%% and the
%% regions' addresses in this VM and (reported by the child) in the child.
-spec info(iso()) -> #{atom() => term()}.
info(Iso) ->
    try info_nif(Iso)
    catch error:badarg -> erlang:error(badarg, [Iso], ?EI({1, <<"expected an isolate">>}))
    end.

%% @doc The address of a binary's bytes in this VM, for tests of zero copy.
-spec address(binary()) -> non_neg_integer().
address(Bin) ->
    address_nif(Bin).

%% @doc Sends `Request', made by a generated `NAME_iso' stub (the driver's
%% encoder: the same bytes) with the integer tag `Tag', to the isolate, and
%% returns the result or raises `error:{'$nocopy_error', Reason, Cause}' as
%% `nocopy_port:call_request/5' does. `Module' is the stub's module, checked
%% against the isolate's. `Timeout' is the caller's wait (the isolate's own
%% timeout applies too, and kills the child).
-spec call_request(iso(), module(), integer(), iodata(), timeout()) -> term().
call_request(Iso, Module, Tag, Request, Timeout) ->
    call_request(Iso, Module, Tag, Request, Timeout, 1).

call_request(Iso, Module, Tag, Request, Timeout, Retries) ->
    %% The reply taken from the reply slot first, with no closure around the
    %% NIF (a sequential small call's common case); the rest in sent/7.
    try call_nif(Iso, Module, Tag, Request) of
        {nocopy_reply, Tag, {ok, Value}} -> Value;
        Sent -> sent(Sent, Iso, Module, Tag, Request, Timeout, Retries)
    catch
        error:badarg -> sent(badarg, Iso, Module, Tag, Request, Timeout, Retries)
    end.

%% What call_nif/4 answered, other than a result from the reply slot.
sent(Sent, Iso, Module, Tag, Request, Timeout, Retries) ->
    case Sent of
        dead when Retries > 0 ->
            case restart_nif(Iso) of
                ok -> call_request(Iso, Module, Tag, Request, Timeout, Retries - 1);
                {error, Reason, Text} -> erlang:error({'$nocopy_error', Reason, {general, Text}})
            end;
        dead ->
            fail(ecrashed, <<"the isolate's process died again as the call was sent">>);
        {wrong_module, Runs} ->
            erlang:error({'$nocopy_error', badarg,
                          {port, iolist_to_binary(["the isolate runs ", atom_to_binary(Runs),
                                                   ", not ", atom_to_binary(Module)])}});
        {error, Reason, Text} ->
            fail(Reason, Text);
        badarg ->
            erlang:error({'$nocopy_error', badarg, {port, <<"expected an isolate">>}});
        {nocopy_reply, Tag, Error} ->
            erlang:error(Error);
        IsoTimeout ->
            wait(Iso, Tag, min_timeout(Timeout, IsoTimeout))
    end.

min_timeout(infinity, T) -> T;
min_timeout(T, infinity) -> T;
min_timeout(A, B) -> min(A, B).

wait(Iso, Tag, Timeout) ->
    receive
        {nocopy_reply, Tag, {ok, Value}} -> Value;
        {nocopy_reply, Tag, Error} -> erlang:error(Error)
    after Timeout ->
        timeout_hook(),
        %% The child that holds this call is killed: every call in flight on
        %% it gets its answer (ecrashed, or the result if it came first), so
        %% this one's never arrives later as a stray message. If the call is
        %% no longer in flight on the current child (answered, or its child
        %% died and another caller restarted the isolate), nothing is killed
        %% and the call's own answer, here or on its way, is the result.
        case kill_nif(Iso, Tag) of
            queued ->
                fail(timeout, iolist_to_binary(io_lib:format(
                                                 "no reply within ~b ms: the call was still "
                                                 "queued in the VM, never sent to the "
                                                 "isolate's process (not killed)", [Timeout])));
            true ->
                receive
                    {nocopy_reply, Tag, {ok, Value}} -> Value;
                    {nocopy_reply, Tag, _} ->
                        fail(timeout, iolist_to_binary(io_lib:format(
                                                         "no reply within ~b ms: the isolate's "
                                                         "process was killed", [Timeout])))
                end;
            false ->
                wait(Iso, Tag, infinity)
        end
    end.

%% A test seam: the tests make the window between a call's timer and its kill
%% deterministic (test/nocopy_iso_faults_tests.erl, "a late timeout").
timeout_hook() ->
    case get('$nocopy_iso_timeout_hook') of
        undefined -> ok;
        Hook -> Hook()
    end.

restart(Iso, Args) ->
    case restart_nif(Iso) of
        ok -> ok;
        {error, Reason, Text} -> erlang:error(Reason, Args, ?EI({general, Text}))
    end.

catch_badarg(Fun) ->
    try Fun() catch error:badarg -> badarg end.

-spec fail(atom(), binary()) -> no_return().
fail(Reason, Text) ->
    erlang:error({'$nocopy_error', Reason, {general, Text}}).

%% ---- NIFs -------------------------------------------------------------------------

start_nif(_Path, _Module, _Atoms, _RegionBytes, _Threads, _TimeoutMs, _Intensity, _PeriodMs,
          _SpinUs) ->
    erlang:nif_error(nocopy_iso_nif_not_loaded).
restart_nif(_Iso) -> erlang:nif_error(nocopy_iso_nif_not_loaded).
stop_nif(_Iso) -> erlang:nif_error(nocopy_iso_nif_not_loaded).
kill_nif(_Iso, _Tag) -> erlang:nif_error(nocopy_iso_nif_not_loaded).
binary_nif(_Iso, _Bin) -> erlang:nif_error(nocopy_iso_nif_not_loaded).
call_nif(_Iso, _Module, _Tag, _Request) -> erlang:nif_error(nocopy_iso_nif_not_loaded).
info_nif(_Iso) -> erlang:nif_error(nocopy_iso_nif_not_loaded).
option_limits_nif() -> erlang:nif_error(nocopy_iso_nif_not_loaded).
set_queue_nif(_Iso, _Calls, _Bytes) -> erlang:nif_error(nocopy_iso_nif_not_loaded).
address_nif(_Bin) -> erlang:nif_error(nocopy_iso_nif_not_loaded).
