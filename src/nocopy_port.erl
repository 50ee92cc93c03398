%% @doc The driver backend's client: opens ports on a module's driver build,
%% encodes calls, and waits for their replies.
%%
%% A call is sent with `erlang:port_command/2' as an iolist in which every
%% binary is its own element, so the driver's `outputv' sees each binary of
%% more than 64 bytes by reference, never copied. The small values travel in a
%% compact header around them. The format is versioned and documented in one
%% place, `docs/wire-format.md'; {@link nocopy_wire} is its encoder.
%%
%% The driver answers the calling process (not the port owner) with a real
%% term: for a call (an integer tag, {@link call/6} and the stubs)
%% ```
%% {nocopy_reply, Tag, Value}
%% {nocopy_error, Tag, {'$nocopy_error', Reason, Cause}}
%% '''
%% and for an {@link async_call/5} (a reference)
%% ```
%% {nocopy_reply, Ref, {ok, Value}}
%% {nocopy_reply, Ref, {'$nocopy_error', Reason, Cause}}
%% '''
%% {@link call/6} returns `Value' or raises `error:{'$nocopy_error', Reason,
%% Cause}', exactly what the NIF backend raises; the generated `NAME_drv'
%% stubs turn that into `error:Reason' with `error_info', as `NAME' does.
%%
%% A port belongs to one module: every request carries the fingerprint of the
%% module its stubs were generated for (a checksum of the function table, from
%% the build), and a port of another module refuses it without running
%% anything. A port that is not a nocopy driver at all never answers, so
%% before a call waits for a reply that is not there yet, the port's driver is
%% checked by name. Either way the error is `badarg' with the cause
%% `{port, Text}', about the port argument ("the port runs gss_demo_drv, not
%% sums_drv").
%%
%% Errors that only the driver backend has:
%% <ul>
%% <li>`eclosed', `{general, Text}': the port closed (or was never open) before
%% the call was answered.</li>
%% <li>`timeout', `{general, Text}': no reply within the timeout. The call may
%% still complete; its reply then arrives later as a stray
%% `{nocopy_reply, _, _}' or `{nocopy_error, _, _}' message, as with
%% `gen_server:call/3' before OTP 24.</li>
%% <li>`eoverload', `{general, Text}': the port's queue of calls waiting for a
%% worker thread is full (see the `queue' and `queue_bytes' options).</li>
%% <li>`eproto', `{general, Text}': the driver could not decode the request
%% (never for requests made by this module).</li>
%% </ul>
%%
%% Where calls run: a function scheduled `NOCOPY_NORMAL' runs inside
%% `port_command', on the caller's scheduler. Dirty functions (and
%% `NOCOPY_DIRTY_ABOVE' ones above their threshold) are queued to the port's
%% own worker threads, so one port runs many long calls at once; their input
%% binaries are kept (refcounted), not copied, while they wait.
%%
%% Lifecycle: closing the port (or its owner exiting, or the driver being
%% unloaded) cancels the queued calls and destroys the port's handles; it does
%% not wait for the calls running on the workers, which finish on their
%% threads (their callers get `eclosed') and release what they hold. A handle ({@link handle()}) belongs to one port:
%% it stays valid until C closes it or the port closes (the driver cannot see
%% Erlang drop a term, so unlike a NIF resource it is not collected); a closed
%% handle is reported as closed, a handle of another port (or a NIF resource)
%% as not a handle of the expected type.
-module(nocopy_port).

-export([open/3, close/1, unload_driver/1, call/6, call_request/5, async_call/5, await/3,
         generic/4, check_timeout/1]).

-export_type([handle/0, option/0, port_option_limit/0, tag/0, fingerprint/0]).

%% A C object of a driver port, as returned by a wrapped function: an entry
%% in that port's handle table. It is valid on that port only, until C closes
%% it (nocopy_handle_close) or the port closes.
-opaque handle() :: {'$nocopy_handle', port(), non_neg_integer()}.

%% `{workers, N}': threads for calls that must not run on a scheduler
%% (dirty functions), 1..64, default 4. `{queue, N}': calls that may wait for
%% a worker, 1..1048576, default 1024; more are refused with `eoverload'.
%% `{queue_bytes, N}': the memory those calls' decoded requests may hold,
%% 1..2^40 bytes, default 64 MiB; a call that would take the queue past it is
%% refused with `eoverload' (a call is always taken when none waits). A request
%% of small terms decodes into up to 40 times its size; input binaries are held
%% by reference and not counted. `{inline, false}': run every call on the workers, normal functions too
%% (default `true': normal functions run inline in the driver, on the
%% caller's scheduler). The bounds are the driver's (c_src/drv/nc_drv_options.h);
%% `NAME_drv:'$port_options'()' lists them.
-type option() :: {workers, pos_integer()} | {queue, pos_integer()}
                | {queue_bytes, pos_integer()} | {inline, boolean()}.

%% An option's name, default, bounds and kind (a boolean is 0..1).
-type port_option_limit() :: {atom(), non_neg_integer(), non_neg_integer(), pos_integer(),
                              integer | boolean}.

%% What a request is tagged with; the reply carries it back.
-type tag() :: integer() | reference().

%% The checksum of a module's function table that its requests carry.
-type fingerprint() :: 0..16#ffffffff.

-include("nocopy_wire.hrl").

-define(MAX_TIMEOUT, 16#ffffffff).

%% How long a call waits for its reply before it monitors the port (wait/4).
-define(UNWATCHED_MS, 2).

%% ---------------------------------------------------------------------------
%% Ports
%% ---------------------------------------------------------------------------

%% @doc Loads the driver `Driver' (file `Driver.so' in `PrivDir') if needed and
%% opens a port on it, owned and linked to the calling process. Any process may
%% call through the port; the port closes when its owner exits. `Driver' is
%% also the generated client module (NAME_drv), whose '$port_options'/0 gives
%% the options' bounds.
-spec open(Driver :: atom(), PrivDir :: file:filename(), Opts :: [option()]) ->
          {ok, port()} | {error, term()}.
open(Driver, PrivDir, Opts) when is_atom(Driver), is_list(Opts) ->
    case settings(Opts, Driver:'$port_options'(), []) of
        {ok, Settings} ->
            case load_driver(PrivDir, Driver) of
                ok ->
                    Cmd = lists:flatten([atom_to_list(Driver) | Settings]),
                    try open_port({spawn_driver, Cmd}, [binary]) of
                        Port -> {ok, Port}
                    catch
                        error:Reason -> {error, Reason}
                    end;
                {error, _} = Error ->
                    Error
            end;
        {error, _} = Error ->
            Error
    end.

%% Drivers are loaded by one long-lived process of nocopy's, not by each
%% caller. erl_ddll unloads a driver, killing all its ports, when the last
%% process that loaded it exits: with each caller loading, a process that
%% opened a port and died could take every other process's ports down, and a
%% port opened while such an unload was pending died at once with
%% driver_unloaded (seen in ExUnit, where each test is a process that exits).
%% A driver so loaded stays loaded until unload_driver/1.
-spec load_driver(file:filename(), atom()) -> ok | {error, term()}.
load_driver(PrivDir, Driver) ->
    loader_call({load, PrivDir, Driver}).

%% @doc Unloads `Driver' (a `NAME_drv' module's driver), which nocopy loaded
%% when a port was first opened on it: its ports are closed (callers get
%% `eclosed'), and the next open/3 loads it again. For upgrading the
%% library in a running node.
-spec unload_driver(atom()) -> ok | {error, term()}.
unload_driver(Driver) when is_atom(Driver) ->
    loader_call({unload, Driver}).

loader_call(Request) ->
    Loader = loader(),
    MRef = erlang:monitor(process, Loader),
    Loader ! {Request, self(), MRef},
    receive
        {MRef, Result} ->
            erlang:demonitor(MRef, [flush]),
            Result;
        {'DOWN', MRef, process, _, Why} ->
            {error, {nocopy_driver_loader, Why}}
    end.

%% The registered loader, started by whoever needs it first.
loader() ->
    case whereis(nocopy_driver_loader) of
        undefined ->
            Pid = spawn(fun loader_loop/0),
            try register(nocopy_driver_loader, Pid) of
                true -> Pid
            catch
                error:badarg ->                % another process was first
                    exit(Pid, kill),
                    loader()
            end;
        Pid ->
            Pid
    end.

loader_loop() ->
    receive
        {{load, PrivDir, Driver}, From, MRef} ->
            Result = case erl_ddll:load_driver(PrivDir, Driver) of
                         ok -> ok;
                         {error, Why} -> {error, {load_driver, erl_ddll:format_error(Why)}}
                     end,
            From ! {MRef, Result};
        {{unload, Driver}, From, MRef} ->
            From ! {MRef, erl_ddll:unload_driver(Driver)}
    end,
    loader_loop().

%% The driver's command line for `Opts', checked against `Limits': the
%% driver's own table (c_src/drv/nc_drv_options.h), which the stub generator
%% copies into every NAME_drv module as '$port_options'/0.
-spec settings([option()], [port_option_limit()], iodata()) ->
          {ok, iodata()} | {error, {bad_option, term()}}.
settings([], _, Acc) ->
    {ok, lists:reverse(Acc)};
settings([{Name, Value} = Opt | Rest], Limits, Acc) when is_atom(Name) ->
    case {lists:keyfind(Name, 1, Limits), Value} of
        {{_, _, Min, Max, integer}, N} when is_integer(N), N >= Min, N =< Max ->
            settings(Rest, Limits, [[$\s, atom_to_list(Name), $=, integer_to_list(N)] | Acc]);
        {{_, _, _, _, boolean}, B} when is_boolean(B) ->
            Bit = if B -> "1"; true -> "0" end,
            settings(Rest, Limits, [[$\s, atom_to_list(Name), $=, Bit] | Acc]);
        _ ->
            {error, {bad_option, Opt}}
    end;
settings([Bad | _], _, _) ->
    {error, {bad_option, Bad}}.

%% @doc Closes the port and returns once it is gone. Calls still queued are
%% cancelled and their callers get `eclosed', and the port's handles are
%% dropped. Calls running on worker threads are not waited for: they finish on
%% their threads, their callers get `eclosed', and what they hold is released
%% when they end (a handle they use is destroyed then). Closing a closed port
%% is fine.
-spec close(port()) -> ok.
close(Port) when not is_port(Port) ->
    fail_port(<<"expected a port">>);
close(Port) ->
    MRef = erlang:monitor(port, Port),
    try erlang:port_close(Port) catch error:badarg -> ok end,
    receive
        {'DOWN', MRef, port, Port, _} -> ok
    end.

%% ---------------------------------------------------------------------------
%% Calls
%% ---------------------------------------------------------------------------

%% @doc Calls function `FunIndex' (its 0-based position in the C table of the
%% module whose driver is `Driver' and whose table has fingerprint `Fp') with
%% `Args' through `Port' and returns its result, or raises
%% `error:{'$nocopy_error', Reason, Cause}'. The timeout is `infinity' for the
%% generated stubs, as for a NIF: a call always ends with a reply or with
%% `eclosed' when the port goes down.
%%
%% The tag is an integer: cheaper than a reference (which the driver would have
%% to decode), and a function that runs inline has replied by the time
%% `port_command' returns, so the first `receive' finds it at once. Only when
%% it has not (the call was queued) does the caller wait, and only when the
%% reply takes more than a moment does it check the port and monitor it.
-spec call(port(), atom(), fingerprint(), non_neg_integer(), list(), timeout()) -> term().
call(Port, Driver, Fp, FunIndex, Args, Timeout) ->
    %% Unique on the node, so no two calls of any process or port share a tag
    %% (a stray reply of a call that timed out is never taken for another's).
    %% Without options (no list to parse) they start at the smallest small
    %% integer and count up: below 2^59 for centuries of calls, so the tag
    %% costs no bignum work in the encoder, the reply or the receive match
    %% (nocopy_wire:request/5 checks the range anyway).
    Tag = erlang:unique_integer(),
    call_request(Port, Driver, Tag, nocopy_wire:request(Port, Fp, Tag, FunIndex, Args), Timeout).

%% @doc Sends `Request', made for `Port' with the integer tag `Tag' (by
%% {@link nocopy_wire:request/5}, or by a generated stub's own encoder, which makes
%% the same bytes), and returns the result as {@link call/6} does. For the
%% generated `NAME_drv' stubs; `Driver' names the driver the request is for.
-spec call_request(port(), atom(), integer(), iodata(), timeout()) -> term().
call_request(Port, Driver, Tag, Request, Timeout) ->
    try erlang:port_command(Port, Request) of
        true ->
            receive
                {nocopy_reply, Tag, Value} -> Value;
                {nocopy_error, Tag, Error} -> reply(Error, Driver)
            after 0 ->
                wait(Port, Driver, Tag, Timeout)
            end
    catch
        error:badarg -> not_sent(Port, Driver, Tag, Request, Timeout)
    end.

%% port_command/2 refused a stub's request. Its last argument may be a list
%% sent unmeasured to the end of the request ("V", nocopy_wire:request/7),
%% the request's last element, that is no I/O list: if the port is open, the
%% request goes again with that argument as the term it is (its kind "c", a
%% list cell, in the kinds of the header, the request's first element), which
%% C refuses with its own error, as the NIF does. Otherwise the port is
%% closed, or no port.
-spec not_sent(term(), atom(), integer(), iodata(), timeout()) -> term().
not_sent(Port, Driver, Tag, [Head | Rest], Timeout)
  when is_port(Port), is_binary(Head), byte_size(Head) >= ?NC_WIRE_HEADER_BYTES,
       is_list(Rest), Rest =/= [] ->
    <<_:11/binary, Argc:32, _/binary>> = Head,
    At = ?NC_WIRE_HEADER_BYTES + Argc,                 % the last argument's kind
    case {erlang:port_info(Port, id), lists:last(Rest)} of
        {{id, _}, [H | T]} when byte_size(Head) > At ->
            case binary:at(Head, At) of
                $V ->
                    <<Before:At/binary, $V, After/binary>> = Head,
                    Middle = lists:droplast(Rest),
                    Cell = [nocopy_wire:term(H, Port), nocopy_wire:term(T, Port)],
                    call_request(Port, Driver, Tag,
                                 [<<Before/binary, $c, After/binary>> | Middle ++ [Cell]],
                                 Timeout);
                _ ->
                    not_sent(Port)
            end;
        _ ->
            not_sent(Port)
    end;
not_sent(Port, _, _, _, _) ->
    not_sent(Port).

%% A call queued to the port's workers. A port known to run Driver answers
%% every request port_command/2 accepted exactly once, even when it closes
%% (its stop answers the calls queued and running with eclosed: nocopy
%% driver's nc_drv_pool.c), so without a timeout the caller just waits: no
%% timer, no monitor (each costs about as much as the call under many
%% callers). runs/2 remembers the port, so a process calling through one port
%% checks it once. Otherwise (a timeout, or a port not known to run Driver)
%% the caller first waits ?UNWATCHED_MS without a monitor, and only a call
%% still unanswered then monitors the port, which reports a port that died
%% even before the monitor was made (noproc), and checks that the port is a
%% nocopy driver of this module at all: a failure is seen ?UNWATCHED_MS
%% later, the same failure.
-spec wait(port(), atom(), integer(), timeout()) -> term().
wait(Port, Driver, Tag, infinity) ->
    case known(Port, Driver) of
        true ->
            receive
                {nocopy_reply, Tag, Value} -> Value;
                {nocopy_error, Tag, Error} -> reply(Error, Driver)
            end;
        false ->
            receive
                {nocopy_reply, Tag, Value} -> Value;
                {nocopy_error, Tag, Error} -> reply(Error, Driver)
            after ?UNWATCHED_MS ->
                watch(Port, Driver, Tag, infinity, infinity)
            end
    end;
wait(Port, Driver, Tag, Timeout) when Timeout > ?UNWATCHED_MS ->
    receive
        {nocopy_reply, Tag, Value} -> Value;
        {nocopy_error, Tag, Error} -> reply(Error, Driver)
    after ?UNWATCHED_MS ->
        watch(Port, Driver, Tag, Timeout - ?UNWATCHED_MS, Timeout)
    end;
wait(Port, Driver, Tag, Timeout) ->
    watch(Port, Driver, Tag, Timeout, Timeout).

%% Waits Left more ms of the call's Timeout.
-spec watch(port(), atom(), integer(), timeout(), timeout()) -> term().
watch(Port, Driver, Tag, Left, Timeout) ->
    MRef = erlang:monitor(port, Port),
    case runs(Port, Driver) of
        true ->
            receive
                {nocopy_reply, Tag, Value} ->
                    erlang:demonitor(MRef, [flush]),
                    Value;
                {nocopy_error, Tag, Error} ->
                    erlang:demonitor(MRef, [flush]),
                    reply(Error, Driver);
                {'DOWN', MRef, port, _, Why} ->
                    down(Tag, Driver, Why)
            after Left ->
                erlang:demonitor(MRef, [flush]),
                %% The reply may have arrived with the timeout.
                receive
                    {nocopy_reply, Tag, Value} -> Value;
                    {nocopy_error, Tag, Error} -> reply(Error, Driver)
                after 0 ->
                    fail(timeout, "no reply within ~p ms", [Timeout])
                end
            end;
        {false, Other} ->
            %% A port of another nocopy module answers at once (wrong_port);
            %% any other port never will.
            erlang:demonitor(MRef, [flush]),
            receive
                {nocopy_reply, Tag, Value} -> Value;
                {nocopy_error, Tag, Error} -> reply(Error, Driver)
            after 0 ->
                fail_port(wrong_port_text(Other, Driver))
            end
    end.

%% Whether Port is known to run Driver: remembered by runs/2 (not for a port
%% that is gone, which may be another port's number by now).
-spec known(port(), atom()) -> boolean().
known(Port, Driver) ->
    get('$nocopy_port_checked') =:= {Port, Driver} orelse
        (runs(Port, Driver) =:= true andalso get('$nocopy_port_checked') =:= {Port, Driver}).

%% Whether Port runs the driver Driver (the first word of its name, the
%% command it was opened with); `true' too for a port that is gone, which the
%% monitor then reports. erlang:port_info/2 costs microseconds, several times
%% a whole inline call, so the last port found right is remembered in the
%% process dictionary: a process that keeps calling through one port pays once.
-spec runs(port(), atom()) -> true | {false, binary()}.
runs(Port, Driver) ->
    case get('$nocopy_port_checked') of
        {Port, Driver} ->
            true;
        _ ->
            case erlang:port_info(Port, name) of
                {name, Name} ->
                    First = hd(string:split(Name, " ")),
                    case First =:= atom_to_list(Driver) of
                        true ->
                            put('$nocopy_port_checked', {Port, Driver}),
                            true;
                        false ->
                            {false, unicode:characters_to_binary(First)}
                    end;
                undefined ->
                    true
            end
    end.

-spec wrong_port_text(binary(), atom()) -> binary().
wrong_port_text(Runs, Driver) ->
    iolist_to_binary(["the port runs ", Runs, ", not ", atom_to_binary(Driver, utf8)]).

%% The port sent its reply, if any, before it went down: a call's (an
%% integer tag) or an async call's (a reference, whose value is wrapped).
-spec down(tag(), atom(), term()) -> term().
down(Ref, Driver, Why) when is_reference(Ref) ->
    receive
        {nocopy_reply, Ref, Reply} -> reply(Reply, Driver)
    after 0 ->
        down(Why)
    end;
down(Tag, Driver, Why) ->
    receive
        {nocopy_reply, Tag, Value} -> Value;
        {nocopy_error, Tag, Error} -> reply(Error, Driver)
    after 0 ->
        down(Why)
    end.

-spec down(term()) -> no_return().
down(Why) ->
    fail(eclosed, "the port closed before replying (~0tp)", [Why]).

%% @doc Starts a call and returns at once. The reply arrives as the message
%% `{nocopy_reply, Ref, Reply}'; collect it with {@link await/3}. `Ref' is also
%% a monitor of the port: if the port goes down first, the message is
%% `{'DOWN', Ref, port, Port, Reason}', and await/3 raises `eclosed'. A port
%% that does not run `Driver' is refused here, before anything waits on it.
-spec async_call(port(), atom(), fingerprint(), non_neg_integer(), list()) -> reference().
async_call(Port, Driver, Fp, FunIndex, Args) when is_port(Port) ->
    case runs(Port, Driver) of
        true -> ok;
        {false, Other} -> fail_port(wrong_port_text(Other, Driver))
    end,
    Ref = erlang:monitor(port, Port),
    try erlang:port_command(Port, nocopy_wire:request(Port, Fp, Ref, FunIndex, Args))
    catch
        %% Closed: the monitor reports it, and await/3 raises eclosed.
        error:badarg -> ok
    end,
    Ref;
async_call(_Port, _Driver, _Fp, _FunIndex, _Args) ->
    fail_port(<<"expected a port">>).

%% @doc Waits for the reply of {@link async_call/5}: its result, or raises as
%% {@link call/6} does. On a timeout the call is abandoned (the monitor is
%% removed; a late reply is a stray message).
-spec await(reference(), atom(), timeout()) -> term().
await(Ref, Driver, Timeout) when is_reference(Ref) ->
    receive
        {nocopy_reply, Ref, Reply} ->
            erlang:demonitor(Ref, [flush]),
            reply(Reply, Driver);
        {'DOWN', Ref, port, _, Why} ->
            down(Ref, Driver, Why)
    after Timeout ->
        erlang:demonitor(Ref, [flush]),
        receive
            {nocopy_reply, Ref, Reply} -> reply(Reply, Driver)
        after 0 ->
            fail(timeout, "no reply within ~p ms", [Timeout])
        end
    end.

%% port_command/2 refused the request: a closed port (the request itself is
%% always valid iodata), or no port at all.
-spec not_sent(term()) -> no_return().
not_sent(Port) when is_port(Port) ->
    fail(eclosed, "the port is closed", []);
not_sent(_) ->
    fail_port(<<"expected a port">>).

-spec reply({ok, term()} | {'$nocopy_error', atom(), term()}, atom()) -> term().
reply({ok, Value}, _) ->
    Value;
reply({'$nocopy_error', badarg, {wrong_port, Runs}}, Driver) ->
    fail_port(wrong_port_text(Runs, Driver));
reply(Error, _) ->
    erlang:error(Error).

-spec fail(atom(), io:format(), [term()]) -> no_return().
fail(Reason, Fmt, Args) ->
    Text = unicode:characters_to_binary(io_lib:format(Fmt, Args)),
    erlang:error({'$nocopy_error', Reason, {general, Text}}).

%% A badarg about the port argument.
-spec fail_port(binary()) -> no_return().
fail_port(Text) ->
    erlang:error({'$nocopy_error', badarg, {port, Text}}).

%% ---------------------------------------------------------------------------
%% The generated generic API (NAME_drv:close/1, call/3,4, async/3, await/1,2)
%% ---------------------------------------------------------------------------

%% @doc Runs `Module:What(Args...)' for a generated driver module `Module'
%% (its table's fingerprint `Fp') and returns `{ok, Result}', or the error
%% for the stub to raise from its own frame: `{error, Reason, Cause}' with
%% `Cause' about the stub's own arguments (1: the port or reference,
%% 2: the function or timeout, 3: the argument list, 4: the timeout).
-spec generic(close | call | async | await, module(), fingerprint(), list()) ->
          {ok, term()} | {error, atom(), nocopy:cause()}.
generic(close, _Module, _Fp, [Port]) when not is_port(Port) ->
    {error, badarg, {1, <<"expected a port">>}};
generic(close, _Module, _Fp, [Port]) ->
    {ok, close(Port)};
generic(call, Module, Fp, [Port, Fun, Args, Timeout]) ->
    case index(Module, Fun, Args, Timeout) of
        {ok, Index} ->
            caught(fun() -> call(Port, Module, Fp, Index, Args, Timeout) end, 3);
        Error ->
            Error
    end;
generic(async, Module, Fp, [Port, Fun, Args]) ->
    case index(Module, Fun, Args, infinity) of
        {ok, Index} ->
            caught(fun() -> async_call(Port, Module, Fp, Index, Args) end, 3);
        Error ->
            Error
    end;
generic(await, _Module, _Fp, [Ref, _Timeout]) when not is_reference(Ref) ->
    {error, badarg, {1, <<"expected a reference from async/3">>}};
generic(await, Module, _Fp, [Ref, Timeout]) ->
    case check_timeout(Timeout) of
        true -> caught(fun() -> await(Ref, Module, Timeout) end, 0);
        false -> {error, badarg, {2, timeout_text()}}
    end.

%% The result of Fun, or its nocopy error with the cause about element K of
%% the argument list made about argument ListArgNo (0: general).
caught(Fun, ListArgNo) ->
    try Fun() of
        Value -> {ok, Value}
    catch
        error:{'$nocopy_error', Reason, Cause} ->
            {error, Reason, nocopy:list_cause(Cause, ListArgNo)}
    end.

%% The index of Fun with length(Args) arguments in Module's table, or the
%% error about the argument at fault (2: Fun, 3: Args, 4: Timeout).
index(_Module, _Fun, Args, _Timeout) when not is_list(Args) ->
    {error, badarg, {3, <<"expected a list of arguments">>}};
index(_Module, Fun, _Args, _Timeout) when not is_atom(Fun) ->
    {error, badarg, {2, <<"expected the name of a function (an atom)">>}};
index(Module, Fun, Args, Timeout) ->
    case {Module:'$index'(Fun, length(Args)), check_timeout(Timeout)} of
        {undefined, _} ->
            Text = io_lib:format("~s has no function ~tw with ~b arguments (it has ~s)",
                                 [Module, Fun, length(Args), Module:'$functions'()]),
            {error, badarg, {2, unicode:characters_to_binary(Text)}};
        {_, false} ->
            {error, badarg, {4, timeout_text()}};
        {Index, true} ->
            {ok, Index}
    end.

%% @doc Whether `Timeout' is a timeout `receive ... after' accepts.
-spec check_timeout(term()) -> boolean().
check_timeout(infinity) -> true;
check_timeout(T) -> is_integer(T) andalso T >= 0 andalso T =< ?MAX_TIMEOUT.

timeout_text() ->
    <<"expected a timeout (infinity or milliseconds, 0..4294967295)">>.
