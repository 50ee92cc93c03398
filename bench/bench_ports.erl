%% @doc Erlang clients of the benchmark's hand-written port contenders, one
%% small function per call, written as a user would:
%% <ul>
%% <li>`drv_*': the outputv drivers (hand_drv, hand_drv_async) and the driver
%%     without outputv (copy_drv). Request: `[<<Op, Ctx:32, Qop:32>>, Payload]'
%%     by erlang:port_command/2; the driver sends `{Port, Result}' to the caller
%%     (bench_proto.h).</li>
%% <li>`call_*': erlang:port_call/3 to call_drv, external term format both ways.</li>
%% <li>`ext_*': the external port program ext_port over pipes, `{packet, 4}'.</li>
%% </ul>
-module(bench_ports).

-export([open_driver/1, close/1,
         drv_identity/2, drv_seed/4, drv_iodata/2,
         call_identity/2, call_seed/4, call_iodata/2,
         ext_open/0, ext_identity/2, ext_seed/4, ext_iodata/2]).

-define(IDENTITY, 1).
-define(SEED, 2).
-define(IODATA, 3).

%% @doc Loads driver `Name' from the benchmark's priv directory and opens a port.
-spec open_driver(string()) -> {ok, port()} | {error, term()}.
open_driver(Name) ->
    case erl_ddll:load_driver(nocopy:priv_dir(?MODULE), Name) of
        ok ->
            try {ok, open_port({spawn_driver, Name}, [binary])}
            catch error:E -> {error, E}
            end;
        {error, E} ->
            {error, erl_ddll:format_error(E)}
    end.

-spec close(port()) -> ok.
close(Port) ->
    catch erlang:port_close(Port),
    ok.

%% ---- outputv drivers and the driver without outputv -------------------------

-spec drv_identity(port(), binary()) -> binary().
drv_identity(Port, Bin) ->
    erlang:port_command(Port, [<<?IDENTITY, 0:32, 0:32>>, Bin]),
    receive {Port, R} -> R end.

-spec drv_seed(port(), non_neg_integer(), non_neg_integer(), binary()) -> tuple().
drv_seed(Port, Ctx, Qop, Msg) ->
    erlang:port_command(Port, [<<?SEED, Ctx:32, Qop:32>>, Msg]),
    receive {Port, R} -> R end.

-spec drv_iodata(port(), iodata()) -> non_neg_integer().
drv_iodata(Port, Data) ->
    erlang:port_command(Port, [<<?IODATA, 0:32, 0:32>> | Data]),
    receive {Port, R} -> R end.

%% ---- port_call, external term format -----------------------------------------

-spec call_identity(port(), binary()) -> binary().
call_identity(Port, Bin) ->
    erlang:port_call(Port, ?IDENTITY, Bin).

-spec call_seed(port(), non_neg_integer(), non_neg_integer(), binary()) -> tuple().
call_seed(Port, Ctx, Qop, Msg) ->
    erlang:port_call(Port, ?SEED, {Ctx, Qop, Msg}).

-spec call_iodata(port(), iodata()) -> non_neg_integer().
call_iodata(Port, Data) ->
    erlang:port_call(Port, ?IODATA, Data).

%% ---- external port program -----------------------------------------------------

-spec ext_open() -> {ok, port()} | {error, term()}.
ext_open() ->
    Exe = filename:join(nocopy:priv_dir(?MODULE), "ext_port"),
    try {ok, open_port({spawn_executable, Exe}, [{packet, 4}, binary, use_stdio])}
    catch error:E -> {error, E}
    end.

-spec ext_identity(port(), binary()) -> binary().
ext_identity(Port, Bin) ->
    erlang:port_command(Port, [<<?IDENTITY, 0:32, 0:32>>, Bin]),
    receive {Port, {data, R}} -> R end.

-spec ext_seed(port(), non_neg_integer(), non_neg_integer(), binary()) -> tuple().
ext_seed(Port, Ctx, Qop, Msg) ->
    erlang:port_command(Port, [<<?SEED, Ctx:32, Qop:32>>, Msg]),
    receive
        {Port, {data, <<Major:32, Minor:32, Conf:8, Q:32, Out/binary>>}} ->
            {Major, Minor, Conf =:= 1, Q, Out};
        {Port, {data, Other}} ->
            {error, Other}
    end.

-spec ext_iodata(port(), iodata()) -> non_neg_integer().
ext_iodata(Port, Data) ->
    erlang:port_command(Port, [<<?IODATA, 0:32, 0:32>> | Data]),
    receive
        {Port, {data, <<Total:64>>}} -> Total;
        {Port, {data, Other}} -> {error, Other}
    end.
