%% @doc Call a function of any shared library by its C prototype, with no C
%% to write: binaries cross by address, out-buffers come back as binaries
%% without a copy. See docs/ffi.md for the type mapping, what is copied and
%% the safety model.
%%
%% ```
%% {ok, Z} = nocopy_ffi:open("libz.so.1"),
%% {ok, Crc32} = nocopy_ffi:bind(Z, "unsigned long crc32(unsigned long crc,"
%%                                  " const unsigned char *buf, unsigned int len)"),
%% Crc = nocopy_ffi:call(Crc32, [0, Bin, byte_size(Bin)]).
%% '''
%%
%% The C side is the nocopy module nc_ffi (c_src/ffi/), built for the NIF
%% (module nc_ffi), the driver (nc_ffi_drv) and the isolated backend
%% (nc_ffi_iso); a library opened with `#{backend => {drv, Port}}' (Port from
%% `nc_ffi_drv:open/1') lives in that port, one opened with
%% `#{backend => iso}' in a child OS process of its own (an isolate), and so
%% do the functions bound from it.
-module(nocopy_ffi).

-export([open/1, open/2, close/1, bind/2, bind/3, call/2, release/1, cdef/2, cdef/3,
         constants/1, info/1, module/3, module/4, delete_module/1, address/1, format_error/2]).
%% Called by the modules module/4 generates.
-export(['$arg_error'/2]).

-export_type([library/0, fn/0, pointer/0, bind_opts/0]).

%% Raised inline, so that the stack's top frame is the API function itself
%% with its own arguments (erlang:error/3 names the function that calls it).
-define(BADARG(Args, N, Text),
        erlang:error(badarg, Args, [{error_info, #{module => nocopy, cause => {N, Text}}}])).

-opaque library() :: {nocopy_ffi_lib, backend(), nocopy:handle()}.
-opaque fn() :: {nocopy_ffi_fn, backend(), nocopy:handle(), sched(), conv()}.
%% How structs cross: `none' (the function has none), or their fields' names,
%% to turn maps into the tuples C reads and the tuples it returns into maps.
-type conv() :: none | {shape(), [shape()], [shape()]}.
-type shape() :: undefined | [{binary(), shape()}].
-opaque pointer() :: nocopy:handle().
-type backend() :: nif | port() | {iso, nocopy_iso:iso()}.
-type sched() :: normal | dirty_cpu | dirty_io | {dirty_above, non_neg_integer()}.
-type name() :: string() | binary() | atom().
%% name: which function of the text (default: its only one);
%% errno: also return errno after the call;
%% out: out-buffers and their sizes (an integer, or an expression of integer
%%      parameters such as "n * 2");
%% inout: pointers to scalars given in and returned;
%% len: how much of an out-buffer is the result (default: all of it);
%% varargs: the C types of a variadic function's extra arguments;
%% destructor: for a function that returns a pointer to an incomplete struct
%%      (a handle), the function that frees one; it runs exactly once per
%%      handle: at release/1, or when the handle is collected (NIF) or its
%%      port closes (driver);
%% bound: a const buffer (or out-buffer) and the integer parameter giving its
%%      length, in elements: the length is checked to be at most the buffer's
%%      size before each call (badarg naming it otherwise);
%% fill: lengths of bound const buffers that are not given: each is its
%%      buffer's size in elements;
%% sched: where calls run;
%% timeout: on a library opened in an isolate only, the longest a call of
%%      this function may take (milliseconds, or infinity, the default: the
%%      library's own timeout still applies); a call past it fails with
%%      `timeout' and the isolate's process is killed (every call in flight
%%      on it fails with `ecrashed'; the next call starts a new one, where the
%%      library must be opened and its functions bound again).
-type bind_opts() :: #{name => name(),
                       errno => boolean(),
                       out => #{name() => non_neg_integer() | string() | binary()},
                       inout => [name()],
                       len => #{name() => return | nul | name()},
                       bound => #{name() => name()},
                       fill => [name()],
                       varargs => [string() | binary()],
                       destructor => fn(),
                       sched => sched(),
                       timeout => timeout()}.

%% @equiv open(Path, #{})
-spec open(file:filename_all()) -> {ok, library()} | {error, {dlopen, binary()}}.
open(Path) ->
    open(Path, #{}).

%% @doc Opens a shared library (dlopen, RTLD_NOW | RTLD_LOCAL). The library
%% stays mapped while its handle or any function bound from it lives (a
%% function keeps its library: dropping the library's handle alone stops
%% nothing); close/1 stops its functions at once (closing it twice raises
%% badarg). `backend': `nif' (default), `{drv, Port}', `iso' (a new isolate
%% runs the library: a crash in it fails the calls in flight with `ecrashed',
%% not the VM) or `{iso, Iso}' (an isolate from `nc_ffi_iso:start/0,1', which
%% may run several libraries). `timeout' (with `iso' only): the longest a
%% call of the library may take, in milliseconds; a call that takes longer
%% fails with `timeout' and the isolate's process is killed.
-spec open(file:filename_all(), #{backend => nif | {drv, port()} | iso | {iso, nocopy_iso:iso()},
                                  timeout => timeout()}) ->
          {ok, library()} | {error, {dlopen, binary()} | {isolate, term()}}.
open(Path, Opts) ->
    Bin = try unicode:characters_to_binary(Path) of
              B when is_binary(B) -> B;
              _ -> ?BADARG([Path, Opts], 1, <<"expected a file name">>)
          catch _:_ -> ?BADARG([Path, Opts], 1, <<"expected a file name">>)
          end,
    Backend = case Opts of
                  #{backend := {drv, P}} when is_port(P) -> P;
                  #{backend := nif} -> nif;
                  #{backend := iso} -> iso;
                  #{backend := {iso, I}} when is_reference(I) -> {iso, I};
                  #{backend := _} ->
                      ?BADARG([Path, Opts], 2, <<"expected backend nif, {drv, Port}, iso or {iso, Iso}">>);
                  #{} -> nif;
                  _ -> ?BADARG([Path, Opts], 2, <<"expected a map of options">>)
              end,
    Timeout = case Opts of
                  #{timeout := _} when Backend =/= iso ->
                      ?BADARG([Path, Opts], 2, <<"expected timeout only with backend iso "
                                                 "(an isolate's own: nc_ffi_iso:start/1)">>);
                  #{timeout := infinity} -> infinity;
                  #{timeout := T} when is_integer(T), T >= 0, T =< 16#7fffffff -> T;
                  #{timeout := _} ->
                      ?BADARG([Path, Opts], 2, <<"expected timeout to be infinity or milliseconds">>);
                  #{} -> infinity
              end,
    open_in(Backend, Bin, Timeout).

open_in(nif, Bin, _) ->
    lib(nif, nc_ffi:open(Bin));
open_in(iso, Bin, Timeout) ->
    case nc_ffi_iso:start([{timeout, Timeout}]) of
        {ok, Iso} -> open_in({iso, Iso}, Bin, Timeout);
        {error, Why} -> {error, {isolate, Why}}
    end;
open_in({iso, Iso} = Backend, Bin, _) ->
    lib(Backend, nc_ffi_iso:open(Iso, Bin));
open_in(Port, Bin, _) ->
    lib(Port, nc_ffi_drv:open(Port, Bin)).

lib(Backend, {ok, H}) -> {ok, {nocopy_ffi_lib, Backend, H}};
lib(_, Error) -> Error.

%% @doc Closes a library: calls of its functions raise badarg from now on;
%% it is unmapped once no function of it is referenced.
-spec close(library()) -> ok.
close({nocopy_ffi_lib, nif, H}) -> nc_ffi:close(H);
close({nocopy_ffi_lib, {iso, Iso}, H}) -> nc_ffi_iso:close(Iso, H);
close({nocopy_ffi_lib, Port, H}) -> nc_ffi_drv:close(Port, H);
close(Lib) -> ?BADARG([Lib], 1, <<"expected a library from nocopy_ffi:open/1,2">>).

%% @equiv bind(Lib, Decl, #{})
-spec bind(library(), iodata()) -> {ok, fn()} | {error, term()}.
bind(Lib, Decl) ->
    bind(Lib, Decl, #{}).

%% @doc Binds one function: parses `Decl' (a prototype, or C declarations
%% with typedefs, structs and enums: then `name' says which function),
%% resolves the symbol and prepares the call once.
%% Errors: `{parse, Line, Column, Message}', `{undefined_symbol, Name}',
%% `{unsupported, Message}' (a parameter nocopy_ffi cannot pass as given).
-spec bind(library(), iodata(), bind_opts()) -> {ok, fn()} | {error, term()}.
bind({nocopy_ffi_lib, Backend, H} = Lib, Decl, Opts) ->
    Args = [Lib, Decl, Opts],
    Text = try iolist_to_binary(Decl)
           catch _:_ -> ?BADARG(Args, 2, <<"expected a C declaration (iodata)">>)
           end,
    {Name, COpts, Sched} = try iso_only(Backend, c_opts(Opts))
                           catch throw:{bad_opt, Bad} -> ?BADARG(Args, 3, Bad)
                           end,
    Res = case Backend of
              nif -> nc_ffi:bind(H, Text, Name, COpts);
              {iso, Iso} -> nc_ffi_iso:bind(Iso, H, Text, Name, COpts);
              Port -> nc_ffi_drv:bind(Port, H, Text, Name, COpts)
          end,
    case Res of
        {ok, F} -> {ok, fn(Backend, F, Sched)};
        Error -> Error
    end;
bind(Lib, Decl, Opts) ->
    ?BADARG([Lib, Decl, Opts], 1, <<"expected a library from nocopy_ffi:open/1,2">>).

%% A bound function's term: its handle, where its calls run, and how its
%% structs cross (none: no struct, nothing to convert).
fn(Backend, F, Sched) ->
    Shapes = case Backend of
                 nif -> nc_ffi:shapes(F);
                 {iso, I} -> nc_ffi_iso:shapes(I, F);
                 _ -> nc_ffi_drv:shapes(Backend, F)
             end,
    Conv = case Shapes of
               {undefined, Ins, Outs} ->
                   case lists:all(fun(X) -> X =:= undefined end, Ins ++ Outs) of
                       true -> none;
                       false -> Shapes
                   end;
               _ -> Shapes
           end,
    {nocopy_ffi_fn, Backend, F, Sched, Conv}.


%% @doc Calls a bound function with a list of its values: one per C parameter
%% that takes one (out-buffers and out-scalars take none). The result is the
%% return value (`ok' for void), or `{Ret, Out1, ..., [Errno]}' when the
%% function has outputs or captures errno.
-spec call(fn(), [term()]) -> term().
call({nocopy_ffi_fn, nif, H, normal, none} = Fn, Args) ->
    %% The values as the NIF's own arguments, up to 4: no list to walk in C.
    try
        case Args of
            [] -> nc_ffi:invoke0(H);
            [A] -> nc_ffi:invoke1(H, A);
            [A, B] -> nc_ffi:invoke2(H, A, B);
            [A, B, C] -> nc_ffi:invoke3(H, A, B, C);
            [A, B, C, D] -> nc_ffi:invoke4(H, A, B, C, D);
            _ -> nc_ffi:invoke(H, Args)
        end
    catch error:badarg:St -> erlang:error(badarg, [Fn, Args], call_error_info(St))
    end;
call({nocopy_ffi_fn, Backend, H, Sched, Conv} = Fn, Args) when is_list(Args) ->
    try
        CArgs = to_c(Conv, Args),
        Res = case Backend of
                  %% The isolate's own threads run every call: no scheduler to pick.
                  {iso, Iso} -> iso_invoke(Iso, H, CArgs, Sched);
                  _ -> invoke(Backend, H, CArgs, dirty(Sched, Args))
              end,
        from_c(Conv, Res)
    catch
        error:badarg:St -> erlang:error(badarg, [Fn, Args], call_error_info(St));
        %% The isolated backend's own errors (nocopy_iso): the isolate's
        %% process died (ecrashed), the call took longer than the library's
        %% timeout, the isolate was stopped or its channel is full.
        error:Reason:St when Reason =:= ecrashed; Reason =:= timeout; Reason =:= eclosed;
                             Reason =:= eoverload ->
            erlang:error(Reason, [Fn, Args], call_error_info(St))
    end;
call({nocopy_ffi_fn, _, _, _, _} = Fn, Args) ->
    ?BADARG([Fn, Args], 2, <<"expected a proper list">>);
call(Fn, Args) ->
    ?BADARG([Fn, Args], 1, <<"expected a function from nocopy_ffi:bind/2,3">>).

invoke(nif, H, CArgs, normal) -> nc_ffi:invoke(H, CArgs);
invoke(nif, H, CArgs, dirty_cpu) -> nc_ffi:invoke_dirty_cpu(H, CArgs);
invoke(nif, H, CArgs, dirty_io) -> nc_ffi:invoke_dirty_io(H, CArgs);
invoke(Port, H, CArgs, normal) -> nc_ffi_drv:invoke(Port, H, CArgs);
invoke(Port, H, CArgs, dirty_cpu) -> nc_ffi_drv:invoke_dirty_cpu(Port, H, CArgs);
invoke(Port, H, CArgs, dirty_io) -> nc_ffi_drv:invoke_dirty_io(Port, H, CArgs).

%% A call in an isolate, with the function's own timeout when it has one:
%% the generated stub's request, waited for at most Ms (nocopy_iso kills the
%% isolate's process when the wait ends first), its errors raised as the
%% stub raises them.
iso_invoke(Iso, H, CArgs, {timeout, Ms}) when is_integer(Ms) ->
    Tag = erlang:unique_integer([positive]),
    try nocopy_iso:call_request(Iso, nc_ffi_iso, Tag,
                                nc_ffi_iso:'$nocopy_request_invoke'(Iso, Tag, H, CArgs), Ms)
    catch
        error:{'$nocopy_error', Reason, Cause} ->
            erlang:error(Reason, [Iso, H, CArgs],
                         [{error_info, #{module => nocopy, cause => nocopy:drv_cause(Cause)}}])
    end;
iso_invoke(Iso, H, CArgs, _) ->
    nc_ffi_iso:invoke(Iso, H, CArgs).

%% A function's timeout is the isolated backend's alone; there it stands in
%% the place of the scheduling option, which the isolate has no use for.
iso_only({iso, _}, {Name, COpts, _Sched, infinity}) -> {Name, COpts, normal};
iso_only({iso, _}, {Name, COpts, _Sched, Ms}) -> {Name, COpts, {timeout, Ms}};
iso_only(_, {Name, COpts, Sched, infinity}) -> {Name, COpts, Sched};
iso_only(_, _) ->
    throw({bad_opt, <<"expected timeout only for a library opened with backend iso">>}).

%% @doc Runs a pointer handle's destructor now (or once the calls using it
%% have returned); later calls given it raise badarg. Without release/1 the
%% destructor runs when the handle is collected (NIF) or its port closes.
-spec release(pointer()) -> ok.
%% A driver handle names its port; release/1 reads it there rather than asking
%% the caller for it again (nocopy_port:handle() is opaque to everyone else).
-dialyzer({no_opaque, release/1}).
release(Ptr) when is_reference(Ptr) -> nc_ffi:release(Ptr);
release({'$nocopy_handle', Iso, _} = Ptr) when is_reference(Iso) -> nc_ffi_iso:release(Iso, Ptr);
release({'$nocopy_handle', Port, _} = Ptr) when is_port(Port) -> nc_ffi_drv:release(Port, Ptr);
release(Ptr) -> ?BADARG([Ptr], 1, <<"expected a pointer handle">>).

%% @equiv cdef(Lib, Text, #{})
-spec cdef(library(), iodata()) -> {ok, #{atom() => fn()}} | {error, term()}.
cdef(Lib, Text) ->
    cdef(Lib, Text, #{}).

%% @doc Binds every function a header snippet declares (its typedefs,
%% structs and enums apply): a map of name to function. `Opts' maps a
%% function's name to its bind options. The first function that cannot be
%% bound stops it: `{error, {Name, Reason}}'. The text is parsed twice
%% whatever the number of functions (once for their names, once to bind
%% them all), plus once per variadic function given `varargs'.
-spec cdef(library(), iodata(), #{name() => bind_opts()}) ->
          {ok, #{atom() => fn()}} | {error, term()}.
cdef({nocopy_ffi_lib, Backend, H} = Lib, Text0, Opts) when is_map(Opts) ->
    Args = [Lib, Text0, Opts],
    Text = try iolist_to_binary(Text0)
           catch _:_ -> ?BADARG(Args, 2, <<"expected C declarations (iodata)">>)
           end,
    FOpts = try maps:from_list([{to_bin(K), V} || {K, V} <- maps:to_list(Opts)])
            catch throw:{bad_opt, Why0} -> ?BADARG(Args, 3, Why0)
            end,
    case nc_ffi:decls(Text) of
        {ok, Names, _Consts} ->
            %% variadic types are parsed with the text: those go one by one
            {Var, Plain} = lists:partition(
                             fun(N) -> is_map_key(varargs, maps:get(N, FOpts, #{})) end, Names),
            Planned = try [{N, iso_only(Backend, c_opts(maps:get(N, FOpts, #{})))} || N <- Plain]
                      catch throw:{bad_opt, Bad} -> ?BADARG(Args, 3, Bad)
                      end,
            Funs = [{N, COpts} || {N, {_, COpts, _}} <- Planned],
            Res = case Backend of
                      nif -> nc_ffi:bind_all(H, Text, Funs);
                      {iso, I} -> nc_ffi_iso:bind_all(I, H, Text, Funs);
                      Port -> nc_ffi_drv:bind_all(Port, H, Text, Funs)
                  end,
            case Res of
                {ok, Fs} ->
                    Acc = maps:from_list([{binary_to_atom(N), fn(Backend, F, Sched)}
                                          || {{N, {_, _, Sched}}, F} <- lists:zip(Planned, Fs)]),
                    bind_all(Lib, Text, Var, FOpts, Acc);
                {error, {N, Why}} ->
                    {error, {binary_to_atom(N), Why}}
            end;
        Error ->
            Error
    end;
cdef(Lib, Text, Opts) ->
    ?BADARG([Lib, Text, Opts], case Opts of
                                   #{} -> 1;
                                   _ -> 3
                               end, <<"expected a library and a map of options">>).

bind_all(_Lib, _Text, [], _FOpts, Acc) ->
    {ok, Acc};
bind_all(Lib, Text, [N | Ns], FOpts, Acc) ->
    case bind(Lib, Text, maps:put(name, N, maps:get(N, FOpts, #{}))) of
        {ok, Fn} -> bind_all(Lib, Text, Ns, FOpts, Acc#{binary_to_atom(N) => Fn});
        {error, Why} -> {error, {binary_to_atom(N), Why}}
    end.

%% @doc The enum constants a text declares.
-spec constants(iodata()) -> {ok, #{atom() => integer()}} | {error, term()}.
constants(Text) ->
    case nc_ffi:decls(iolist_to_binary(Text)) of
        {ok, _, Consts} -> {ok, maps:from_list([{binary_to_atom(K), V} || {K, V} <- Consts])};
        Error -> Error
    end.

%% @doc What a bound function takes and returns: its name, the Erlang types of
%% its result, its inputs (name, C spelling, Erlang type) and its outputs.
-spec info(fn()) -> #{name := binary(), result := binary(),
                      inputs := [{binary(), binary(), binary()}], outputs := [binary()],
                      errno := boolean()}.
info({nocopy_ffi_fn, Backend, H, _, _}) ->
    {Name, Ret, Ins, Outs, Errno} = case Backend of
                                        nif -> nc_ffi:info(H);
                                        {iso, Iso} -> nc_ffi_iso:info(Iso, H);
                                        Port -> nc_ffi_drv:info(Port, H)
                                    end,
    #{name => Name, result => Ret, inputs => Ins, outputs => Outs, errno => Errno}.

%% @equiv module(Name, Lib, Text, #{})
-spec module(module(), library(), iodata()) -> {ok, module()} | {error, term()}.
module(Name, Lib, Text) ->
    module(Name, Lib, Text, #{}).

%% @doc Creates and loads module `Name' with one exported function per C
%% function of `Text', with specs from the declarations: `Name:crc32(0, Bin,
%% byte_size(Bin))'. Each bound function is a literal of the module's code
%% (no lookup at all, no parsing) and errors name the argument of that
%% function.
-spec module(module(), library(), iodata(), #{name() => bind_opts()}) ->
          {ok, module()} | {error, term()}.
module(Name, Lib, Text, Opts) when is_atom(Name) ->
    case cdef(Lib, Text, Opts) of
        {ok, Fns} ->
            %% A function that needs nothing of call/2 (NIF, normal scheduler,
            %% no struct) calls the NIF with its values as arguments. Each
            %% function is a literal of the module's code, which holds it
            %% (and so its library) until the module is purged.
            Funs = [{F, info(Fn), direct(Fn)} || {F, Fn} <- lists:sort(maps:to_list(Fns))],
            nocopy_ffi_gen:load(Name, nocopy_ffi_gen:source(Name, Funs));
        Error ->
            Error
    end.

%% @doc Deletes a module made by module/3,4 (purging its old code first, as
%% code:delete/1 needs, then the code deleted): its functions, literals of its
%% code, go with it, so that their libraries can be unmapped once nothing
%% else holds them (the runtime releases a purged module's literals in the
%% background, soon after).
-spec delete_module(module()) -> ok.
delete_module(Name) when is_atom(Name) ->
    _ = code:purge(Name),
    _ = code:delete(Name),
    _ = code:purge(Name),
    ok.

direct({nocopy_ffi_fn, nif, H, normal, none} = Fn) ->
    case length(maps:get(inputs, info(Fn))) =< 4 of
        true -> {direct, H};
        false -> Fn
    end;
direct(Fn) ->
    Fn.

%% @doc Where C sees a binary's bytes: the address a `const T *' parameter
%% is given (for tests of zero copy).
-spec address(binary()) -> non_neg_integer().
address(Bin) ->
    nc_ffi:address(Bin).

%% @private The error_info of a badarg raised by call/2, as the argument of a
%% generated function (for nocopy_ffi:module/4): {ArgNo, Text}.
-spec '$arg_error'(erlang:stacktrace(), [term()]) -> list().
'$arg_error'([{M, _, _, Info} | _], _Args) when M =:= ?MODULE; M =:= nc_ffi ->
    Cause = case maps:get(cause, proplists:get_value(error_info, Info, #{}), undefined) of
                {_, <<"element ", _/binary>> = Text} ->
                    {N, Spell, Expected} = parse_element(Text),
                    {N, iolist_to_binary([Expected, " (", Spell, ")"])};
                {2, Text} ->
                    {general, Text};
                Other ->
                    Other
            end,
    [{error_info, #{module => nocopy, cause => Cause}}];
'$arg_error'(_, _) ->
    [].

%% @doc Formats the error_info of nocopy_ffi's errors (erl_error and the shell
%% call it): "element 2 (const unsigned char *buf): expected a binary or
%% null, got: foo".
-spec format_error(term(), erlang:stacktrace()) -> #{pos_integer() | general => binary()}.
format_error(Reason, [{_M, _F, Args, Info} | _] = St) ->
    ErrorInfo = proplists:get_value(error_info, Info, #{}),
    case maps:get(cause, ErrorInfo, undefined) of
        {2, <<"element ", _/binary>> = Text} when is_list(Args), length(Args) >= 2 ->
            {N, _, _} = parse_element(Text),
            Got = case lists:nth(2, Args) of
                      L when is_list(L), N =< length(L) ->
                          [", got: ", io_lib:format("~0tP", [lists:nth(N, L), 12])];
                      _ -> []
                  end,
            #{2 => unicode:characters_to_binary([Text, Got])};
        _ ->
            nocopy:format_error(Reason, St)
    end.

%% ---- internals ------------------------------------------------------------------

%% Maps to tuples (in field order) where a struct is taken; anything else as
%% given, for C to check.
to_c(none, Args) -> Args;
to_c({_, Ins, _}, Args) when length(Ins) =:= length(Args) ->
    lists:zipwith(fun to_tuple/2, Ins, Args);
to_c(_, Args) -> Args.

to_tuple(Fields, M) when is_list(Fields), is_map(M) ->
    case lists:all(fun({K, _}) -> is_map_key(binary_to_atom(K), M) end, Fields) andalso
        map_size(M) =:= length(Fields) of
        true -> list_to_tuple([to_tuple(S, maps:get(binary_to_atom(K), M)) || {K, S} <- Fields]);
        false -> M
    end;
to_tuple(_, V) -> V.

%% Tuples C returned for structs, as maps.
from_c(none, Res) -> Res;
from_c({Ret, _, []}, Res) -> to_map(Ret, Res);
from_c({Ret, _, Outs}, Res) when is_tuple(Res) ->
    [R | Vals] = tuple_to_list(Res),
    Conv = lists:zipwith(fun to_map/2, Outs, lists:sublist(Vals, length(Outs))),
    list_to_tuple([to_map(Ret, R) | Conv ++ lists:nthtail(length(Outs), Vals)]).

to_map(Fields, T) when is_list(Fields), is_tuple(T) ->
    maps:from_list([{binary_to_atom(K), to_map(S, V)}
                    || {{K, S}, V} <- lists:zip(Fields, tuple_to_list(T))]);
to_map(_, V) -> V.

%% "element N (SPELL): expected X" -> {N, SPELL, "expected X"}.
parse_element(<<"element ", Rest/binary>>) ->
    {N, <<" (", Rest1/binary>>} = string:to_integer(Rest),
    [Spell, Expected] = binary:split(Rest1, <<"): ">>),
    {N, Spell, Expected}.

dirty(normal, _) -> normal;
dirty(dirty_cpu, _) -> dirty_cpu;
dirty(dirty_io, _) -> dirty_io;
dirty({dirty_above, N}, Args) ->
    case binary_bytes(Args, 0) > N of
        true -> dirty_cpu;
        false -> normal
    end.

binary_bytes([B | T], Acc) when is_binary(B) -> binary_bytes(T, Acc + byte_size(B));
binary_bytes([_ | T], Acc) -> binary_bytes(T, Acc);
binary_bytes(_, Acc) -> Acc.

%% The error_info of a badarg from nc_ffi's stubs, for call/2 to raise from
%% its own frame, naming its own arguments: argument 1 the function, argument
%% 2 the list (an element of it is named in the text).
call_error_info([{Mod, Fun, _, Info} | _]) when Mod =:= nc_ffi; Mod =:= nc_ffi_drv;
                                                Mod =:= nc_ffi_iso;
                                                Mod =:= ?MODULE, Fun =:= iso_invoke ->
    Cause0 = maps:get(cause, proplists:get_value(error_info, Info, #{}), undefined),
    Shift = case Mod of nc_ffi -> 0; _ -> 1 end,          % the port or isolate first
    Cause = case Cause0 of
                {general, <<"element ", _/binary>> = T} -> {2, T};
                {general, <<"expected a list of ", _/binary>> = T} -> {2, T};
                {1, T} -> {1, T};                          % the port
                {N, T} when is_integer(N) -> {N - Shift, T};
                Other -> Other
            end,
    [{error_info, #{module => ?MODULE, cause => Cause}}];
call_error_info(_) ->
    [].

%% The user's options as the list nc_ffi's C reads (c_src/ffi/nc_ffi_opts.h).
c_opts(Opts) when is_map(Opts) ->
    Name = case Opts of
               #{name := N} -> to_bin(N);
               #{} -> undefined
           end,
    Sched = case maps:get(sched, Opts, normal) of
                S when S =:= normal; S =:= dirty_cpu; S =:= dirty_io -> S;
                {dirty_above, B} = S when is_integer(B), B >= 0 -> S;
                _ -> throw({bad_opt, <<"expected sched normal, dirty_cpu, dirty_io or {dirty_above, Bytes}">>})
            end,
    Errno = case maps:get(errno, Opts, false) of
                E when is_boolean(E) -> [{errno, E}];
                _ -> throw({bad_opt, <<"expected errno to be true or false">>})
            end,
    Out = [{out, to_bin(P), size_expr(Sz)} || {P, Sz} <- maps:to_list(map_opt(out, Opts))],
    InOut = [{inout, to_bin(P)} || P <- list_opt(inout, Opts)],
    Len = [{len, to_bin(P), len_of(How)} || {P, How} <- maps:to_list(map_opt(len, Opts))],
    Bound = [{bound, to_bin(B), to_bin(L)} || {B, L} <- maps:to_list(map_opt(bound, Opts))],
    Fill = [{fill, to_bin(L)} || L <- list_opt(fill, Opts)],
    Var = case maps:find(varargs, Opts) of
              {ok, [_ | _] = Ts} -> [{varargs, iolist_to_binary(lists:join(", ", [to_bin(T) || T <- Ts]))}];
              {ok, []} -> [];
              {ok, _} -> throw({bad_opt, <<"expected varargs to be a list of C types">>});
              error -> []
          end,
    Dtor = case maps:find(destructor, Opts) of
               {ok, {nocopy_ffi_fn, _, DH, _, _}} -> [{destructor, DH}];
               {ok, _} -> throw({bad_opt, <<"expected destructor to be a function from bind/2,3">>});
               error -> []
           end,
    Timeout = case maps:get(timeout, Opts, infinity) of
                  infinity -> infinity;
                  T when is_integer(T), T >= 0, T =< 16#7fffffff -> T;
                  _ -> throw({bad_opt, <<"expected timeout to be infinity or milliseconds">>})
              end,
    {Name, Errno ++ Out ++ InOut ++ Len ++ Bound ++ Fill ++ Var ++ Dtor, Sched, Timeout};
c_opts(_) ->
    throw({bad_opt, <<"expected a map of options">>}).

map_opt(K, Opts) ->
    case maps:get(K, Opts, #{}) of
        M when is_map(M) -> M;
        _ -> throw({bad_opt, iolist_to_binary(["expected ", atom_to_list(K), " to be a map"])})
    end.

list_opt(K, Opts) ->
    case maps:get(K, Opts, []) of
        L when is_list(L) -> L;
        _ -> throw({bad_opt, iolist_to_binary(["expected ", atom_to_list(K), " to be a list"])})
    end.

size_expr(N) when is_integer(N), N >= 0 -> integer_to_binary(N);
size_expr(E) -> to_bin(E).

len_of(return) -> return;
len_of(nul) -> nul;
len_of(P) -> to_bin(P).

to_bin(A) when is_atom(A) -> atom_to_binary(A);
to_bin(B) when is_binary(B) -> B;
to_bin(L) when is_list(L) ->
    try unicode:characters_to_binary(L) of
        B when is_binary(B) -> B;
        _ -> throw({bad_opt, <<"expected names as strings, binaries or atoms">>})
    catch _:_ -> throw({bad_opt, <<"expected names as strings, binaries or atoms">>})
    end;
to_bin(_) ->
    throw({bad_opt, <<"expected names as strings, binaries or atoms">>}).
