%% @doc The driver backend's client: opens ports on a module's driver build,
%% encodes calls, and waits for their replies.
%%
%% A call is sent with `erlang:port_command/2' as an iolist in which every
%% binary is its own element, so the driver's `outputv' sees each binary of
%% more than 64 bytes by reference, never copied. The small values travel in a
%% compact header around them. The format is versioned and documented in one
%% place, `docs/wire-format.md'; {@link encode_request/4} is its encoder.
%%
%% The driver answers the calling process (not the port owner) with a real term:
%% ```
%% {nocopy_reply, Tag, {ok, Value}}
%% {nocopy_reply, Tag, {'$nocopy_error', Reason, Cause}}
%% '''
%% {@link call/4} returns `Value' or raises `error:{'$nocopy_error', Reason,
%% Cause}', exactly what the NIF backend raises; the generated `NAME_drv'
%% stubs turn that into `error:Reason' with `error_info', as `NAME' does.
%%
%% Errors that only the driver backend has:
%% <ul>
%% <li>`eclosed', `{general, Text}': the port closed (or was never open) before
%% the call was answered.</li>
%% <li>`timeout', `{general, Text}': no reply within the timeout. The call may
%% still complete; its reply then arrives later as a stray
%% `{nocopy_reply, _, _}' message, as with `gen_server:call/3' before OTP 24.</li>
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
%% unloaded) cancels the queued calls, waits for the running ones, then
%% destroys the port's handles. A handle ({@link handle()}) belongs to one port:
%% it stays valid until C closes it or the port closes (the driver cannot see
%% Erlang drop a term, so unlike a NIF resource it is not collected); a closed
%% handle is reported as closed, a handle of another port (or a NIF resource)
%% as not a handle of the expected type.
-module(nocopy_port).

-export([open/3, close/1, call/3, call/4, call_request/4, async_call/3, await/2,
         encode_request/4, encode_term/2, wire_version/0]).

-export_type([handle/0, option/0, tag/0]).

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
%% of small terms decodes into up to 48 times its size; input binaries are held
%% by reference and not counted. `{inline, false}': run every call on the workers, normal functions too
%% (default `true': normal functions run inline in the driver, on the
%% caller's scheduler). Twins of NC_DRV_* in c_src/nc_drv.h.
-type option() :: {workers, 1..64} | {queue, 1..1048576}
                | {queue_bytes, 1..1099511627776} | {inline, boolean()}.

%% What a request is tagged with; the reply carries it back.
-type tag() :: integer() | reference().

-define(MAGIC, "nc").
-define(VERSION, 1).
-define(MIN_I64, -16#8000000000000000).
-define(MAX_I64, 16#7fffffffffffffff).
-define(MAX_U64, 16#ffffffffffffffff).

%% ---------------------------------------------------------------------------
%% Ports
%% ---------------------------------------------------------------------------

%% @doc Loads the driver `Driver' (file `Driver.so' in `PrivDir') if needed and
%% opens a port on it, owned and linked to the calling process. Any process may
%% call through the port; the port closes when its owner exits.
-spec open(Driver :: atom(), PrivDir :: file:filename(), Opts :: [option()]) ->
          {ok, port()} | {error, term()}.
open(Driver, PrivDir, Opts) when is_atom(Driver), is_list(Opts) ->
    case settings(Opts, []) of
        {ok, Settings} ->
            case erl_ddll:load_driver(PrivDir, Driver) of
                ok ->
                    Cmd = lists:flatten([atom_to_list(Driver) | Settings]),
                    try open_port({spawn_driver, Cmd}, [binary]) of
                        Port -> {ok, Port}
                    catch
                        error:Reason -> {error, Reason}
                    end;
                {error, Reason} ->
                    {error, {load_driver, erl_ddll:format_error(Reason)}}
            end;
        {error, _} = Error ->
            Error
    end.

-spec settings([option()], [string()]) -> {ok, [string()]} | {error, {bad_option, term()}}.
settings([], Acc) ->
    {ok, lists:reverse(Acc)};
settings([{workers, N} | Rest], Acc) when is_integer(N), N >= 1, N =< 64 ->
    settings(Rest, [" workers=" ++ integer_to_list(N) | Acc]);
settings([{queue, N} | Rest], Acc) when is_integer(N), N >= 1, N =< 1048576 ->
    settings(Rest, [" queue=" ++ integer_to_list(N) | Acc]);
settings([{queue_bytes, N} | Rest], Acc) when is_integer(N), N >= 1, N =< 1 bsl 40 ->
    settings(Rest, [" queue_bytes=" ++ integer_to_list(N) | Acc]);
settings([{inline, B} | Rest], Acc) when is_boolean(B) ->
    settings(Rest, [if B -> " inline=1"; true -> " inline=0" end | Acc]);
settings([Bad | _], _) ->
    {error, {bad_option, Bad}}.

%% @doc Closes the port and returns once it is gone. Calls still queued are
%% cancelled and their callers get `eclosed'; calls running on worker threads
%% finish first (closing waits for them). Then the port's handles are
%% destroyed. Closing a closed port is fine.
-spec close(port()) -> ok.
close(Port) when is_port(Port) ->
    MRef = erlang:monitor(port, Port),
    try erlang:port_close(Port) catch error:badarg -> ok end,
    receive
        {'DOWN', MRef, port, Port, _} -> ok
    end.

%% ---------------------------------------------------------------------------
%% Calls
%% ---------------------------------------------------------------------------

%% @equiv call(Port, FunIndex, Args, infinity)
%% @doc The default timeout is `infinity', as for a NIF: a call always ends
%% with a reply or with `eclosed' when the port goes down.
-spec call(port(), non_neg_integer(), list()) -> term().
call(Port, FunIndex, Args) ->
    call(Port, FunIndex, Args, infinity).

%% @doc Calls function `FunIndex' (its 0-based position in the C table) with
%% `Args' through `Port' and returns its result, or raises
%% `error:{'$nocopy_error', Reason, Cause}'.
%%
%% The tag is an integer: cheaper than a reference (which the driver would have
%% to decode), and a function that runs inline has replied by the time
%% `port_command' returns, so the first `receive' finds it at once. Only when
%% it has not (the call was queued) does the caller monitor the port.
-spec call(port(), non_neg_integer(), list(), timeout()) -> term().
call(Port, FunIndex, Args, Timeout) ->
    %% Positive unique integers start small and stay below 2^59 for centuries
    %% of calls: a small integer tag costs no bignum work in the encoder, the
    %% reply or the receive match. (encode_request/4 checks the range anyway.)
    Tag = erlang:unique_integer([positive]),
    call_request(Port, Tag, encode_request(Port, Tag, FunIndex, Args), Timeout).

%% @doc Sends `Request', made for `Port' with the integer tag `Tag' (by
%% {@link encode_request/4}, or by a generated stub's own encoder, which makes
%% the same bytes), and returns the result as {@link call/4} does. For the
%% generated `NAME_drv' stubs.
-spec call_request(port(), integer(), iodata(), timeout()) -> term().
call_request(Port, Tag, Request, Timeout) ->
    try erlang:port_command(Port, Request) of
        true ->
            receive
                {nocopy_reply, Tag, {ok, Value}} -> Value;
                {nocopy_reply, Tag, Error} -> erlang:error(Error)
            after 0 ->
                wait(Port, Tag, Timeout)
            end
    catch
        error:badarg -> not_sent(Port)
    end.

-spec wait(port(), integer(), timeout()) -> term().
wait(Port, Tag, Timeout) ->
    MRef = erlang:monitor(port, Port),
    receive
        {nocopy_reply, Tag, Reply} ->
            erlang:demonitor(MRef, [flush]),
            reply(Reply);
        {'DOWN', MRef, port, _, Why} ->
            down(Tag, Why)
    after Timeout ->
        erlang:demonitor(MRef, [flush]),
        %% The reply may have arrived with the timeout.
        receive
            {nocopy_reply, Tag, Reply} -> reply(Reply)
        after 0 ->
            fail(timeout, "no reply within ~p ms", [Timeout])
        end
    end.

%% The port sent its reply, if any, before it went down.
-spec down(tag(), term()) -> term().
down(Tag, Why) ->
    receive
        {nocopy_reply, Tag, Reply} -> reply(Reply)
    after 0 ->
        fail(eclosed, "the port closed before replying (~0tp)", [Why])
    end.

%% @doc Starts a call and returns at once. The reply arrives as the message
%% `{nocopy_reply, Ref, Reply}'; collect it with {@link await/2}. `Ref' is also
%% a monitor of the port: if the port goes down first, the message is
%% `{'DOWN', Ref, port, Port, Reason}', and await/2 raises `eclosed'.
-spec async_call(port(), non_neg_integer(), list()) -> reference().
async_call(Port, FunIndex, Args) when is_port(Port) ->
    Ref = erlang:monitor(port, Port),
    try erlang:port_command(Port, encode_request(Port, Ref, FunIndex, Args))
    catch
        %% Closed: the monitor reports it, and await/2 raises eclosed.
        error:badarg -> ok
    end,
    Ref.

%% @doc Waits for the reply of {@link async_call/3}: its result, or raises as
%% {@link call/4} does. On a timeout the call is abandoned (the monitor is
%% removed; a late reply is a stray message).
-spec await(reference(), timeout()) -> term().
await(Ref, Timeout) when is_reference(Ref) ->
    receive
        {nocopy_reply, Ref, Reply} ->
            erlang:demonitor(Ref, [flush]),
            reply(Reply);
        {'DOWN', Ref, port, _, Why} ->
            down(Ref, Why)
    after Timeout ->
        erlang:demonitor(Ref, [flush]),
        receive
            {nocopy_reply, Ref, Reply} -> reply(Reply)
        after 0 ->
            fail(timeout, "no reply within ~p ms", [Timeout])
        end
    end.

%% port_command/2 refused the request: a closed port (the request itself is
%% always valid iodata).
-spec not_sent(term()) -> no_return().
not_sent(Port) when is_port(Port) ->
    fail(eclosed, "the port is closed", []);
not_sent(Port) ->
    fail(badarg, "expected a port, got: ~0tP", [Port, 10]).

-spec reply({ok, term()} | {'$nocopy_error', atom(), nocopy:cause()}) -> term().
reply({ok, Value}) -> Value;
reply(Error) -> erlang:error(Error).

-spec fail(atom(), io:format(), [term()]) -> no_return().
fail(Reason, Fmt, Args) ->
    Text = unicode:characters_to_binary(io_lib:format(Fmt, Args)),
    erlang:error({'$nocopy_error', Reason, {general, Text}}).

%% ---------------------------------------------------------------------------
%% The request encoder (docs/wire-format.md, version 1)
%% ---------------------------------------------------------------------------

%% @doc The request for calling function `FunIndex' with `Args' on `Port',
%% tagged `Tag', as an iolist ready for `port_command/2'. Binaries are placed in
%% it as they are, never copied or flattened. A handle is encoded as a handle
%% only if it belongs to `Port'. Exported for tests and corpus generation.
-spec encode_request(port(), tag(), non_neg_integer(), list()) -> iodata().
encode_request(Port, Tag, FunIndex, Args)
  when is_integer(Tag),
       %% Small integers first: comparing with a bignum bound is slower.
       (Tag >= -16#800000000000000 andalso Tag =< 16#7ffffffffffffff) orelse
       (Tag >= ?MIN_I64 andalso Tag =< ?MAX_I64) ->
    %% The common call has a few small arguments, perhaps followed by one
    %% large binary: then the request is one binary built in one go (plus the
    %% large binary as the second and last element), which costs less than an
    %% iolist of small binaries, both here and in port_command. (The header is
    %% spelled out in each expression: a binary variable as the first segment
    %% would make the runtime allocate an appendable off-heap binary.)
    case leaves(Args, Port, 4) of
        {Es, Big} ->
            N = length(Args),
            Small = case Es of
                        [] ->
                            <<?MAGIC, ?VERSION, $i, Tag:64/signed, FunIndex:32, N:32>>;
                        [A] ->
                            <<?MAGIC, ?VERSION, $i, Tag:64/signed, FunIndex:32, N:32, A/binary>>;
                        [A, B] ->
                            <<?MAGIC, ?VERSION, $i, Tag:64/signed, FunIndex:32, N:32, A/binary,
                              B/binary>>;
                        [A, B, C] ->
                            <<?MAGIC, ?VERSION, $i, Tag:64/signed, FunIndex:32, N:32, A/binary,
                              B/binary, C/binary>>;
                        [A, B, C, D] ->
                            <<?MAGIC, ?VERSION, $i, Tag:64/signed, FunIndex:32, N:32, A/binary,
                              B/binary, C/binary, D/binary>>
                    end,
            case Big of
                none -> Small;
                _ -> [Small, Big]
            end;
        none ->
            [<<?MAGIC, ?VERSION, $i, Tag:64/signed, FunIndex:32, (length(Args)):32>>
             | args(Args, Port)]
    end;
encode_request(Port, Tag, FunIndex, Args) when is_reference(Tag) ->
    Ext = term_to_binary(Tag),
    [<<?MAGIC, ?VERSION, $r, (byte_size(Ext)):16, Ext/binary, FunIndex:32,
       (length(Args)):32>>
     | args(Args, Port)].

%% For at most Max arguments that are all small leaves (no tuple or list, no
%% binary over 64 bytes) except that the last may be a large binary: their
%% encodings, and that binary (or `none'). Otherwise `none'.
-spec leaves(list(), port(), non_neg_integer()) -> {[binary()], binary() | none} | none.
leaves([B], _, Max) when Max > 0, is_binary(B), byte_size(B) > 64 ->
    {[<<$b, (byte_size(B)):64>>], B};
leaves([A | As], Port, Max) when Max > 0 ->
    case leaf(A, Port) of
        none -> none;
        E ->
            case leaves(As, Port, Max - 1) of
                none -> none;
                {Es, Big} -> {[E | Es], Big}
            end
    end;
leaves([], _, _) -> {[], none};
leaves(_, _, _) -> none.

-spec leaf(term(), port()) -> binary() | none.
leaf(I, _) when is_integer(I), I >= -16#800000000000000, I =< 16#7ffffffffffffff ->
    <<$i, I:64/signed>>;
leaf(true, _) -> <<$a, 4:16, "true">>;
leaf(false, _) -> <<$a, 5:16, "false">>;
leaf(A, _) when is_atom(A) ->
    T = atom_to_binary(A, utf8),
    <<$a, (byte_size(T)):16, T/binary>>;
leaf(B, _) when is_binary(B), byte_size(B) =< 64 ->
    %% Copied here, as the runtime would copy it anyway.
    <<$b, (byte_size(B)):64, B/binary>>;
leaf(F, _) when is_float(F) ->
    <<$f, F:64/float>>;
leaf({'$nocopy_handle', Port, Id}, Port) when is_integer(Id), Id >= 0,
                                              Id =< 16#7ffffffffffffff ->
    <<$h, Id:64>>;
leaf(_, _) ->
    none.

%% @doc The version of the wire format this encoder writes (the third byte of
%% every request). nocopy_stubgen writes it into the stubs' own encoders.
-spec wire_version() -> pos_integer().
wire_version() ->
    ?VERSION.

%% @doc One argument's encoding, as iodata: what {@link encode_request/4}
%% puts in the request for `Term' sent to `Port'. For the generated stubs'
%% encoders, for arguments whose type they do not specialise.
-spec encode_term(term(), port()) -> iodata().
encode_term(Term, Port) ->
    enc(Term, Port).

-spec args(list(), port()) -> iolist().
args([A | As], Port) -> [enc(A, Port) | args(As, Port)];
args([], _) -> [].

%% One term, as iodata (binaries and lists only: no bare integers).
-spec enc(term(), port()) -> iodata().
enc(B, _) when is_binary(B) ->
    %% The binary itself is the next element: referenced by the runtime when
    %% larger than 64 bytes, copied into its buffer otherwise.
    [<<$b, (byte_size(B)):64>>, B];
enc(I, _) when is_integer(I), I >= ?MIN_I64, I =< ?MAX_I64 ->
    <<$i, I:64/signed>>;
enc(I, _) when is_integer(I), I > ?MAX_I64, I =< ?MAX_U64 ->
    <<$u, I:64>>;
enc(I, _) when is_integer(I) ->
    <<"I">>;
enc(true, _) ->
    <<$a, 4:16, "true">>;
enc(false, _) ->
    <<$a, 5:16, "false">>;
enc(A, _) when is_atom(A) ->
    T = atom_to_binary(A, utf8),
    <<$a, (byte_size(T)):16, T/binary>>;
enc(F, _) when is_float(F) ->
    <<$f, F:64/float>>;
enc([H | T], Port) ->
    [<<"c">>, enc(H, Port), enc(T, Port)];
enc([], _) ->
    <<"n">>;
enc({'$nocopy_handle', Port, Id}, Port) when is_integer(Id), Id >= 0, Id =< ?MAX_U64 ->
    <<$h, Id:64>>;
enc({'$nocopy_handle', Other, Id}, _) when is_port(Other), is_integer(Id) ->
    <<"H">>;
enc(T, Port) when is_tuple(T) ->
    N = tuple_size(T),
    [<<$T, N:32>> | elems(T, 1, N, Port)];
enc(B, _) when is_bitstring(B) ->
    <<"t">>;
enc(_, _) ->
    %% pid, port, reference (a NIF handle among them), map, fun
    <<"o">>.

-spec elems(tuple(), pos_integer(), non_neg_integer(), port()) -> iolist().
elems(T, I, N, Port) when I =< N -> [enc(element(I, T), Port) | elems(T, I + 1, N, Port)];
elems(_, _, _, _) -> [].
