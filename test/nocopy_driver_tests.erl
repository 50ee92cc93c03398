%% nocopy_driver_tests: what only the driver backend has.
%%
%% The shared suites (nocopy_*_tests) run every argument, result, error, handle
%% and zero-copy case against both backends. This module covers the rest:
%% hostile requests sent with port_command, the runtime's copying of small
%% pieces, the worker path (kept inputs, zero copy there too), concurrency on
%% one port, back-pressure, and the faults: callers that die, ports that close
%% or lose their owner with calls in flight, and unloading the driver.
%%
%% No test asserts a duration. Waiting is on facts: a gate in the test module's
%% C code that calls block on (gate_stats/0 counts them), a process found in
%% its receive, a port's 'DOWN'. The gate and every counter live in the
%% driver library's own statics, so they are read through a second "control"
%% port of the same driver, never through the NIF (a separate library).
-module(nocopy_driver_tests).

-export([unload_scenario/0]).

-include("nocopy_test_util.hrl").

-define(GATE_MS, 60000).       % the gate's own timeout: only breaks a deadlock
-define(ABOVE, 1000).          % DIRTY_ABOVE_BYTES in test/nocopy_test/test_module.c

%% ---- helpers ------------------------------------------------------------------------
%%
%% Fixtures are {setup, spawn, ...}: erl_ddll counts every process that loaded
%% the driver as a user until it exits, and the unload test needs to be the
%% only one.

open(Opts) ->
    {ok, P} = nocopy_test_drv:open(Opts),
    P.

close(P) ->
    nocopy_test_drv:close(P).

%% Runs Fun(Ports...) with fresh ports, closing them whatever happens.
with_ports(OptsList, Fun) ->
    Ports = [open(O) || O <- OptsList],
    try apply(Fun, Ports)
    after
        [close(P) || P <- Ports]
    end.

%% The function's index in the C table, from the table the stubs came from.
index(Name) ->
    N = atom_to_list(Name),
    [I] = [I || {function, I, F, _, _, _, _, _, _} <- table(), F =:= N],
    I.

%% The fingerprint every request of nocopy_test_drv carries.
fp() ->
    nocopy_test_drv:'$fingerprint'().

table() ->
    Ebin = filename:dirname(code:which(nocopy_test_drv)),
    {ok, Terms} = file:consult(filename:join([filename:dirname(Ebin), "gen",
                                              "nocopy_test.nocopy"])),
    Terms.

%% nocopy_port's raw calls, with this module's driver and fingerprint.
raw_call(P, Fun, Args, Timeout) ->
    nocopy_port:call(P, nocopy_test_drv, fp(), index(Fun), Args, Timeout).

raw_async(P, Fun, Args) ->
    nocopy_port:async_call(P, nocopy_test_drv, fp(), index(Fun), Args).

raw_await(Ref, Timeout) ->
    nocopy_port:await(Ref, nocopy_test_drv, Timeout).

nif_addr(Bin) -> nocopy_test:address_of(Bin).

%% Waits until Pred() holds (C state sends no message); fails after ~10 s.
until(Pred) ->
    case nocopy_test_lib:wait_until(Pred, 10000) of
        true -> ok;
        false -> erlang:error(condition_never_held)
    end.

gate_reset(C) ->
    ok = nocopy_test_drv:gate_close(C).

gate_waiting(C) ->
    element(1, nocopy_test_drv:gate_stats(C)).

%% Waits until a process is blocked in nocopy_port's receive: its request was
%% handed to port_command (ordered before anything the test sends later).
until_waiting(Pid) ->
    until(fun() ->
                  case erlang:process_info(Pid, current_function) of
                      {current_function, {nocopy_port, F, _}} -> F =:= wait orelse F =:= await;
                      _ -> false
                  end
          end).

%% The raw reply of a raw request.
raw_reply() ->
    receive
        {nocopy_reply, Tag, Reply} -> {Tag, Reply}
    after 5000 -> erlang:error(no_reply)
    end.

catch_nocopy(Fun) ->
    try Fun() of
        V -> {ok, V}
    catch
        error:{'$nocopy_error', Reason, Cause} -> {error, Reason, Cause};
        error:Reason -> {error, Reason}
    end.

worker_thread(Name) -> binary:longest_common_prefix([Name, <<"nocopy_w">>]) =:= 8.

%% ---- hostile requests --------------------------------------------------------------------

garbage_test_() ->
    {setup, spawn, fun() -> open([]) end, fun close/1,
     fun(P) ->
             Fp = fp(),
             Hdr = fun(Tag, Fun, Argc) -> <<"nc", 2, Fp:32, Fun:32, Argc:32, $i, Tag:64>> end,
             Echo = index(echo_i64),
             Big200 = nc_big(200), Big100 = nc_big(100),
             Cases =
                 [{"not a request", <<"garbage">>, undefined},
                  {"empty", <<>>, undefined},
                  {"bytes, not binaries", [1, 2, 3], undefined},
                  {"wrong version", <<"nc", 1, $i, 1:64, 0:32, 0:32>>, undefined},
                  {"header cut short", <<"nc", 2, Fp:32, Echo:32>>, undefined},
                  {"unknown tag kind", <<"nc", 2, Fp:32, Echo:32, 1:32, $x, 1:64>>, undefined},
                  {"a reference tag that is no reference",
                   [<<"nc", 2, Fp:32, Echo:32, 1:32, $r, 6:16>>, term_to_binary(foo),
                    <<$i, 1:64>>], undefined},
                  {"no such function", [Hdr(7, 100000, 0)], 7},
                  {"wrong argument count", [Hdr(8, Echo, 2), <<$i, 1:64, $i, 2:64>>], 8},
                  {"missing argument", [Hdr(9, Echo, 1)], 9},
                  {"bytes after the arguments", [Hdr(10, Echo, 1), <<$i, 1:64, "junk">>], 10},
                  {"unknown term tag", [Hdr(11, Echo, 1), <<"?">>], 11},
                  {"binary longer than the request", [Hdr(12, Echo, 1), <<$b, 1000:64, "x">>], 12},
                  {"non-finite float", [Hdr(13, Echo, 1), <<$f, 16#7ff0000000000000:64>>], 13},
                  %% Two refc binaries (few entries: each referenced on its
                  %% own), declared as one 300-byte binary: it would straddle
                  %% two I/O vector entries. Refused, never copied.
                  {"a binary straddling two entries",
                   [Hdr(14, Echo, 1), <<$b, 300:64>>, Big200, Big100], 14}],
             [{Title,
               fun() ->
                       true = erlang:port_command(P, Data),
                       ?assertMatch({Tag, {'$nocopy_error', eproto, {general, <<_/binary>>}}},
                                    raw_reply()),
                       %% The port survives and still works.
                       ?assertEqual(42, nocopy_test_drv:echo_i64(P, 42))
               end} || {Title, Data, Tag} <- Cases]
     end}.

%% A request of 2^20 nested tuples, each declaring as many elements as bytes
%% follow it, cut short (issue 9): before declared terms were charged against
%% the bytes left, the decoder allocated every tuple's element array at once,
%% and 1 MB of such a request took 836 MB and 2.9 s of a scheduler. Now it is
%% refused (eproto) in at most 50 ms with at most 64 MiB more resident
%% memory; so is an honest request of 2^20 + 1 terms. Each is timed and
%% measured three times and the best is asserted: other work on the machine
%% only adds to a measurement.
bounded_decode_test_() ->
    {"requests at the term limit: eproto within 50 ms and 64 MiB",
     {timeout, 120, fun() ->
        with_ports([[]], fun(P) ->
            Levels = 1 bsl 20,
            Lying = nested_tuples(Levels, fun(I) -> (Levels - 1 - I) * 5 end, <<>>),
            {Ms, ExtraMiB} = best_of_three(P, Lying),
            ?assert(Ms =< 50),
            ?assert(ExtraMiB =< 64),
            %% Honest: one element each, one term too many; decoded up to the
            %% limit (about 40 MB of nodes), then refused.
            Honest = nested_tuples(Levels, fun(_) -> 1 end, <<"n">>),
            {_, HonestMiB} = best_of_three(P, Honest),
            ?assert(HonestMiB =< 64),
            ?assertEqual(42, nocopy_test_drv:echo_i64(P, 42))
        end)
    end}}.

nested_tuples(Levels, Arity, Tail) ->
    Idx = index(echo_i64),
    iolist_to_binary([<<"nc", 2, (fp()):32, Idx:32, 1:32, $i, 99:64>>,
                      [<<$T, (Arity(I)):32>> || I <- lists:seq(0, Levels - 1)], Tail]).

%% {Milliseconds, MiB of resident memory added at the peak}, the least of
%% three runs of the request, which must be answered with eproto.
best_of_three(P, Req) ->
    Runs = [begin
                reset_peak_rss(),
                Rss0 = proc_status_kib("VmRSS"),
                {Us, Reply} = timer:tc(fun() -> true = erlang:port_command(P, Req),
                                                raw_reply()
                                       end),
                ?assertMatch({99, {'$nocopy_error', eproto, {general, _}}}, Reply),
                {Us / 1000, (proc_status_kib("VmHWM") - Rss0) / 1024}
            end || _ <- [1, 2, 3]],
    {lists:min([Ms || {Ms, _} <- Runs]), lists:min([MiB || {_, MiB} <- Runs])}.

%% Linux: writing 5 to clear_refs resets the peak resident size (VmHWM).
reset_peak_rss() ->
    ok = file:write_file("/proc/self/clear_refs", <<"5">>).

proc_status_kib(Field) ->
    {ok, Status} = file:read_file("/proc/self/status"),
    {match, [Kib]} = re:run(Status, "\\n" ++ Field ++ ":\\s+([0-9]+) kB",
                            [{capture, all_but_first, list}]),
    list_to_integer(Kib).

%% ---- the stubs' own request encoders ----------------------------------------------------

%% Each generated stub encodes its request itself ('$nocopy_request_NAME',
%% nocopy_stubgen:drv_encoder/3). Whatever the arguments (of the kinds the spec
%% names or not, in the small range or not, a handle of this port or another),
%% its request must be byte for byte nocopy_wire:request/5's, and every
%% binary argument must be its own iolist element (the runtime then passes a
%% large one by reference).
stub_encoders_match_generic_test() ->
    with_ports([[], []], fun(P, Other) ->
        H = nocopy_test_drv:new_plain_handle(P),
        OtherH = nocopy_test_drv:new_plain_handle(Other),
        {'$nocopy_handle', P, Id} = H,
        <<_:3/binary, Sub:100/binary, _/binary>> = nc_big(200),
        Values = [0, 1, -1, 255, 16#7ffffffffffffff, 16#800000000000000,
                  -16#800000000000000, -16#800000000000001, 16#7fffffffffffffff,
                  16#8000000000000000, 16#ffffffffffffffff, 1 bsl 64, -(1 bsl 70),
                  1.5, -0.0, <<>>, <<"abc">>, nc_big(64), nc_big(65), nc_big(4096), Sub,
                  <<1:3>>, red, true, [], [1 | 2], [<<"x">>, nc_big(100)],
                  {1, <<"x">>, {red, 1.5}}, H, OtherH,
                  {'$nocopy_handle', P, 1 bsl 62}, {'$nocopy_handle', P, -1},
                  {'$nocopy_handle', P, Id, x}, self(), make_ref(), #{}],
        Tags = [1, erlang:unique_integer([positive]), -5, 16#7ffffffffffffff,
                16#800000000000000, -(1 bsl 63)],
        Funs = [{echo_i64, 1}, {echo_double, 1}, {echo_bytes, 1}, {echo_atom, 1},
                {echo_tuple, 1}, {echo_range, 1}, {use_handle, 1}, {build_all, 0},
                {gate_wait_handle, 2}, {thread_name_above2, 2}, {build_buf, 2},
                {slice, 3}, {fail_badarg, 3}],
        [begin
             Enc = list_to_atom("$nocopy_request_" ++ atom_to_list(F)),
             I = index(F),
             [begin
                  Fast = apply(nocopy_test_drv, Enc, [P, T | Args]),
                  Generic = nocopy_wire:request(P, fp(), T, I, Args),
                  ?assertEqual({F, T, Args, iolist_to_binary(Generic)},
                               {F, T, Args, iolist_to_binary(Fast)}),
                  Elems = elements(Fast),
                  [?assert(lists:any(fun(E) -> E =:= B end, Elems))
                   || B <- Args, is_binary(B), byte_size(B) > 64]
              end || T <- Tags, Args <- arg_lists(Arity, Values)]
         end || {F, Arity} <- Funs]
    end).

%% Every list of N values, for N =< 2; for 3, every value in each position
%% with the others from a few typical ones.
arg_lists(0, _) -> [[]];
arg_lists(1, Vs) -> [[V] || V <- Vs];
arg_lists(2, Vs) -> [[A, B] || A <- Vs, B <- Vs];
arg_lists(3, Vs) ->
    Typical = [0, 7, <<"abc">>, nc_big(4096), red],
    lists:usort([[A, B, C] || A <- Vs, B <- Typical, C <- Typical] ++
                [[A, B, C] || A <- Typical, B <- Vs, C <- Typical] ++
                [[A, B, C] || A <- Typical, B <- Typical, C <- Vs]).

%% The binaries of an iolist, in order.
elements(B) when is_binary(B) -> [B];
elements([H | T]) -> elements(H) ++ elements(T);
elements([]) -> [];
elements(_) -> [].

%% Every prefix of a valid request is malformed; the reply carries the tag as
%% soon as the tag is complete (the 15-byte header, then 9 bytes).
truncated_test() ->
    with_ports([[]], fun(P) ->
        Req = iolist_to_binary(nocopy_wire:request(
                                 P, fp(), 77, index(echo_tuple), [{1, <<"x">>, {red, 1.5}}])),
        [begin
             true = erlang:port_command(P, binary:part(Req, 0, N)),
             Tag = if N < 24 -> undefined; true -> 77 end,
             ?assertMatch({Tag, {'$nocopy_error', eproto, _}}, raw_reply())
         end || N <- lists:seq(0, byte_size(Req) - 1)],
        true = erlang:port_command(P, Req),
        ?assertEqual({77, {ok, {1, <<"x">>, {red, 1.5}}}}, raw_reply())
    end).

%% iodata the runtime refuses never reaches the driver: port_command raises
%% badarg and the runtime logs "Bad value on output port"; the port lives on.
%% The log line is caught by a filter (and waited for), not printed.
bad_iodata_test() ->
    with_ports([[]], fun(P) ->
        Self = self(),
        Filter = fun(#{msg := {_, [Text]}}, _) when is_list(Text) ->
                         case string:find(Text, "Bad value on output port") of
                             nomatch -> ignore;
                             _ -> Self ! bad_value_logged, stop
                         end;
                    (_, _) ->
                         ignore
                 end,
        ok = logger:add_primary_filter(?MODULE, {Filter, []}),
        try
            ?assertError(badarg, erlang:port_command(P, [foo])),
            receive bad_value_logged -> ok after 5000 -> ok end
        after
            logger:remove_primary_filter(?MODULE)
        end,
        ?assertEqual(1, nocopy_test_drv:echo_i64(P, 1))
    end).

%% A request the encoder would not make but that is well formed: accepted.
noncanonical_request_test() ->
    with_ports([[]], fun(P) ->
        %% 5 as an unsigned 64-bit ("u"), which the encoder writes as "i".
        Req = [<<"nc", 2, (fp()):32, (index(echo_i64)):32, 1:32, $i, 3:64, $u, 5:64>>],
        true = erlang:port_command(P, Req),
        ?assertEqual({3, {ok, 5}}, raw_reply())
    end).

%% ---- what the runtime copies, and that it does not matter --------------------------------

%% With 16 or more I/O vector entries the runtime copies refc binaries under
%% 256 bytes into its own buffer (research/otp-zero-copy.md section 1.1): the
%% driver then sees a copy, and must work the same.
packing_test_() ->
    {setup, spawn, fun() -> open([]) end, fun close/1,
     fun(P) ->
             Bins = fun(N, Size) -> [nc_big(Size + I) || I <- lists:seq(1, N)] end,
             Check = fun(L, Same) ->
                             Addrs = nocopy_test_drv:list_addresses(P, L),
                             Nif = [nif_addr(B) || B <- L],
                             case Same of
                                 true -> ?assertEqual(Nif, Addrs);
                                 false -> [?assertNotEqual(A, N) || {A, N} <- lists:zip(Addrs, Nif)]
                             end,
                             ?assertEqual(iolist_to_binary(L), nocopy_test_drv:iovec_flat(P, L))
                     end,
             [{"20 binaries of 300+ bytes: every one by reference",
               fun() -> Check(Bins(20, 300), true) end},
              {"20 binaries of 200 bytes: packed, copied by the runtime (negative control)",
               fun() -> Check(Bins(20, 100), false) end},
              {"3 binaries of 200 bytes: too few entries to pack, by reference",
               fun() -> Check(Bins(3, 100), true) end},
              {"binaries of at most 64 bytes: always copied (negative control)",
               fun() -> Check(Bins(3, 10), false) end}]
     end}.

%% ---- the worker path -------------------------------------------------------------------------

%% {inline, false} sends every call to the workers: the request outlives
%% outputv there, so every input binary is KEPT; zero copy still holds.
worker_path_test_() ->
    {setup, spawn, fun() -> open([{inline, false}]) end, fun close/1,
     fun(P) ->
             Big = nc_big(1 bsl 20),
             Base = nif_addr(Big),
             [{"calls run on the port's worker threads",
               ?_assert(worker_thread(nocopy_test_drv:thread_name(P)))},
              {"input: C sees the binary's own bytes",
               ?_assertEqual(Base, nocopy_test_drv:address_of(P, Big))},
              {"slice: the result is the input's memory",
               fun() ->
                       {S, Addr} = nocopy_test_drv:slice(P, Big, 10, 1000),
                       ?assertEqual(Base + 10, Addr),
                       ?assertEqual(Base + 10, nif_addr(S)),
                       ?assertEqual(binary:part(Big, 10, 1000), S)
               end},
              {"slice copied (negative control): a different address",
               fun() ->
                       {S, _} = nocopy_test_drv:copy_slice(P, Big, 10, 1000),
                       ?assertNotEqual(Base + 10, nif_addr(S)),
                       ?assertEqual(binary:part(Big, 10, 1000), S)
               end},
              {"buffer: the result is the memory C wrote",
               fun() ->
                       {B, Addr} = nocopy_test_drv:buf_new(P, 4096, 7),
                       ?assertEqual(Addr, nif_addr(B)),
                       ?assertEqual(binary:copy(<<7>>, 4096), B)
               end},
              {"errors are the same as inline",
               ?_assertError(badarg, nocopy_test_drv:echo_i64(P, foo))},
              {"handles work", fun() ->
                                       H = nocopy_test_drv:new_counter_handle(P),
                                       ?assertEqual(1, nocopy_test_drv:use_handle(P, H)),
                                       ?assertEqual(ok, nocopy_test_drv:close_handle(P, H))
                               end}]
     end}.

%% A queued call holds its input binaries: the caller drops its last reference
%% and collects garbage while the call waits behind a blocked worker, and the
%% call still reads the right bytes.
kept_while_queued_test_() ->
    {"a queued call holds its input binaries while the caller drops them",
     {timeout, 60, fun() ->
        with_ports([[{workers, 1}, {inline, false}], []], fun(P, C) ->
            gate_reset(C),
            Blocker = nocopy_test_drv:async(P, gate_wait, [?GATE_MS]),
            until(fun() -> gate_waiting(C) =:= 1 end),
            Self = self(),
            Child = spawn_link(fun() ->
                                       Ref = start_echo(P),
                                       erlang:garbage_collect(),
                                       Self ! {queued, self()},
                                       Self ! {echoed, self(), nocopy_test_drv:await(Ref)}
                               end),
            receive {queued, Child} -> ok end,
            ok = nocopy_test_drv:gate_open(C),
            Expected = nc_big(1 bsl 20),
            receive {echoed, Child, Echo} -> ?assertEqual(Expected, Echo) end,
            ?assertMatch({released, _}, nocopy_test_drv:await(Blocker)),
            gate_reset(C)
        end)
    end}}.

%% The binary exists only inside this function: once it returns, nothing in
%% the caller refers to it.
start_echo(P) ->
    nocopy_test_drv:async(P, echo_bytes, [nc_big(1 bsl 20)]).

%% ---- many callers on one port ----------------------------------------------------------------

concurrency_test_() ->
    {"16 callers, 60 mixed calls each, on one port: every result right",
     {timeout, 120, fun() ->
        with_ports([[{workers, 4}]], fun(P) ->
            Big = nc_big(1 bsl 20),
            Base = nif_addr(Big),
            Self = self(),
            Procs = 16, Calls = 60,
            Pids = [spawn_monitor(fun() -> Self ! {self(), caller(P, Big, Base, K, Calls)} end)
                    || K <- lists:seq(1, Procs)],
            Results = [receive {Pid, R} -> R; {'DOWN', Mref, _, _, Why} -> {died, Why} end
                       || {Pid, Mref} <- Pids],
            ?assertEqual(lists:duplicate(Procs, ok), Results),
            %% Each kind of call really happened on its kind of thread.
            ?assert(worker_thread(nocopy_test_drv:thread_name_above(P, nc_big(?ABOVE + 1)))),
            ?assertNot(worker_thread(nocopy_test_drv:thread_name_above(P, nc_big(10))))
        end)
    end}}.

%% Mixed calls, inline and on workers, small and large, each result checked.
caller(P, Big, Base, K, Calls) ->
    Check = fun(I) ->
                    Size = element(1 + (I + K) rem 4, {10, 100, 5000, ?ABOVE + 1}),
                    case I rem 5 of
                        0 ->
                            Bin = nc_big(Size),
                            Bin = nocopy_test_drv:echo_bytes(P, Bin);
                        1 ->
                            Off = (K * 7919 + I) rem 1000,
                            {S, Addr} = nocopy_test_drv:slice(P, Big, Off, 100000),
                            Addr = Base + Off,
                            S = binary:part(Big, Off, 100000);
                        2 ->
                            Name = nocopy_test_drv:thread_name_above(P, nc_big(Size)),
                            true = (Size > ?ABOVE) =:= worker_thread(Name);
                        3 ->
                            Base = nocopy_test_drv:address_of(P, Big);
                        4 ->
                            N = K + I,
                            Sum = N * (N + 1) div 2,
                            Sum = nocopy_test_drv:sum_list(P, lists:seq(1, N))
                    end
            end,
    lists:foreach(Check, lists:seq(1, Calls)),
    ok.

%% ---- back-pressure -------------------------------------------------------------------------------

%% One worker busy, one call queued (queue 1): the next is refused at once
%% with eoverload, and the port carries on.
overload_test_() ->
    {"a full queue answers eoverload at once",
     {timeout, 60, fun() ->
        with_ports([[{workers, 1}, {queue, 1}], []], fun(P, C) ->
            gate_reset(C),
            Running = nocopy_test_drv:async(P, gate_wait, [?GATE_MS]),
            until(fun() -> gate_waiting(C) =:= 1 end),
            Queued = nocopy_test_drv:async(P, gate_wait, [?GATE_MS]),
            try nocopy_test_drv:gate_wait(P, ?GATE_MS) of
                V -> erlang:error({expected_eoverload, V})
            catch
                error:eoverload:St ->
                    ?assertMatch(#{general := "the port's queue of 1 calls is full"},
                                 nocopy_test_lib:error_strings(eoverload, St))
            end,
            %% Inline functions are not queued: still answered.
            ?assertEqual(5, nocopy_test_drv:echo_i64(P, 5)),
            ok = nocopy_test_drv:gate_open(C),
            ?assertMatch({released, _}, nocopy_test_drv:await(Running)),
            ?assertMatch({released, _}, nocopy_test_drv:await(Queued)),
            gate_reset(C)
        end)
    end}}.

%% The queue is bounded in decoded bytes too (hardening review O1: a request of
%% small terms decodes into tens of times its size). With one worker held at
%% the gate and a 64 KiB budget, a call of a 10,000-element list (hundreds of
%% KiB once decoded) is still queued, because nothing else waits; the next is
%% refused, and so is a small one while the big one holds the budget. Once it
%% has run, small calls queue again.
overload_bytes_test_() ->
    {"the queue's decoded bytes are bounded: eoverload past queue_bytes",
     {timeout, 60, fun() ->
        with_ports([[{workers, 1}, {queue, 100}, {queue_bytes, 65536}, {inline, false}], []],
                   fun(P, C) ->
            gate_reset(C),
            Running = nocopy_test_drv:async(P, gate_wait, [?GATE_MS]),
            until(fun() -> gate_waiting(C) =:= 1 end),
            Big = lists:seq(1, 10000),
            Queued = nocopy_test_drv:async(P, sum_list, [Big]),
            Refused = fun(Args) ->
                          try nocopy_test_drv:sum_list(P, Args) of
                              V -> erlang:error({expected_eoverload, V})
                          catch
                              error:eoverload:St ->
                                  #{general := Text} = nocopy_test_lib:error_strings(eoverload, St),
                                  Text
                          end
                      end,
            Text = Refused(Big),
            {match, [Bytes]} =
                re:run(Text, "^the port's queued calls would hold more than 65536 bytes "
                             "of decoded requests \\(this one: ([0-9]+)\\)$",
                       [{capture, all_but_first, list}]),
            ?assert(list_to_integer(Bytes) > 65536),
            _ = Refused([1, 2, 3]),
            ok = nocopy_test_drv:gate_open(C),
            ?assertMatch({released, _}, nocopy_test_drv:await(Running)),
            ?assertEqual(lists:sum(Big), nocopy_test_drv:await(Queued)),
            %% The budget is given back: small calls queue and run again.
            ?assertEqual(6, nocopy_test_drv:sum_list(P, [1, 2, 3])),
            gate_reset(C)
        end)
    end}}.

%% ---- faults ----------------------------------------------------------------------------------------

%% A caller killed while its call waits in the queue: the call still runs, its
%% result reaches nobody, and everything it held is released, including the
%% handle it made (taken out of the port's table again) and its input binary.
caller_dies_test_() ->
    {"a dead caller's result is dropped and its handle destroyed",
     {timeout, 60, fun() ->
        with_ports([[{workers, 1}, {inline, false}], []], fun(P, C) ->
            gate_reset(C),
            {Created0, Destroyed0, Bad0, _, _} = nocopy_test_drv:handle_stats(C),
            Blocker = nocopy_test_drv:async(P, gate_wait, [?GATE_MS]),
            until(fun() -> gate_waiting(C) =:= 1 end),
            Victims = [spawn(fun() -> nocopy_test_drv:new_counter_handle(P) end),
                       spawn(fun() -> nocopy_test_drv:echo_bytes(P, nc_big(32 bsl 20)) end)],
            [until_waiting(V) || V <- Victims],
            %% Dead before the calls run: a kill signal is asynchronous, and a
            %% reply delivered just before the exit would be a kept result.
            [begin
                 M = erlang:monitor(process, V),
                 exit(V, kill),
                 receive {'DOWN', M, process, V, killed} -> ok end
             end || V <- Victims],
            ok = nocopy_test_drv:gate_open(C),
            ?assertMatch({released, _}, nocopy_test_drv:await(Blocker)),
            %% One worker, FIFO: once this returns, the victims' calls ran.
            ?assertEqual(1, nocopy_test_drv:echo_i64(P, 1)),
            {Created, Destroyed, Bad, _, _} = nocopy_test_drv:handle_stats(C),
            ?assertEqual({Created0 + 1, Destroyed0 + 1, Bad0}, {Created, Destroyed, Bad}),
            gate_reset(C)
        end)
    end}}.

%% The 32 MiB input of a dropped call is freed: no reference leaks. Freeing
%% happens on the worker once the call has run (and closing the port does not
%% wait for that), so the test polls for it, collecting garbage each time.
caller_dies_binary_freed_test_() ->
    {"a dead caller's 32 MiB input is freed",
     {timeout, 60, fun() ->
        nocopy_test_lib:gc_all(),
        Before = erlang:memory(binary),
        with_ports([[{workers, 1}], []], fun(P, C) ->
            gate_reset(C),
            Blocker = nocopy_test_drv:async(P, gate_wait, [?GATE_MS]),
            until(fun() -> gate_waiting(C) =:= 1 end),
            Victim = spawn(fun() ->
                                   nocopy_test_drv:gate_wait_above(P, nc_big(32 bsl 20), ?GATE_MS)
                           end),
            until_waiting(Victim),
            M = erlang:monitor(process, Victim),
            exit(Victim, kill),
            receive {'DOWN', M, process, Victim, killed} -> ok end,
            ok = nocopy_test_drv:gate_open(C),
            ?assertMatch({released, _}, nocopy_test_drv:await(Blocker))
            %% The gate stays open: the dead caller's queued call still runs
            %% (it passes the gate at once).
        end),
        until(fun() -> nocopy_test_lib:gc_all(), erlang:memory(binary) < Before + (16 bsl 20) end)
    end}}.

%% close/1 with one call running and two queued returns at once: the queued
%% calls are cancelled (they never run: the gate counts one release, not
%% three) and their callers get eclosed; the running call is not waited for,
%% it stays blocked in C after close has returned, its caller gets eclosed
%% too, and once the gate opens it finishes on its thread and releases what it
%% holds: its handle, destroyed once the port's table and the call have both
%% let go of it.
close_with_calls_in_flight_test_() ->
    {"close does not wait for running calls; queued ones are cancelled; eclosed for all",
     {timeout, 60, fun() ->
        with_ports([[]], fun(C) ->
            gate_reset(C),
            {_, Released0, Timeouts0} = nocopy_test_drv:gate_stats(C),
            {_, Destroyed0, Bad0, _, _} = nocopy_test_drv:handle_stats(C),
            P = open([{workers, 1}]),
            H = nocopy_test_drv:new_counter_handle(P),
            Running = nocopy_test_drv:async(P, gate_wait_handle, [H, ?GATE_MS]),
            until(fun() -> gate_waiting(C) =:= 1 end),
            Queued = [nocopy_test_drv:async(P, gate_wait, [?GATE_MS]) || _ <- [1, 2]],
            ok = close(P),
            %% Closed, and the call is still in C: close did not wait for it.
            ?assertEqual(1, gate_waiting(C)),
            ?assertEqual(Destroyed0, element(2, nocopy_test_drv:handle_stats(C))),
            [?assertMatch({error, eclosed, {general, _}},
                          catch_nocopy(fun() -> raw_await(R, 5000) end))
             || R <- [Running | Queued]],
            %% Calls on the closed port fail cleanly.
            ?assertError(eclosed, nocopy_test_drv:echo_i64(P, 1)),
            ok = nocopy_test_drv:gate_open(C),
            until(fun() -> element(2, nocopy_test_drv:handle_stats(C)) =:= Destroyed0 + 1 end),
            ?assertMatch({0, Released, Timeouts0} when Released =:= Released0 + 1,
                         nocopy_test_drv:gate_stats(C)),
            ?assertEqual(Bad0, element(3, nocopy_test_drv:handle_stats(C))),
            gate_reset(C)
        end)
    end}}.

%% The port's owner dies with calls in flight: the same as a close. The
%% running call outlives its port, blocked at the gate; the test lets it go
%% and waits for it, so that no call of this test is left for the next.
owner_dies_test_() ->
    {"the owner dies with calls in flight: callers get eclosed",
     {timeout, 60, fun() ->
        with_ports([[]], fun(C) ->
            gate_reset(C),
            Self = self(),
            Owner = spawn(fun() ->
                                  Self ! {port, open([{workers, 1}])},
                                  receive never -> ok end
                          end),
            P = receive {port, Port} -> Port end,
            Running = nocopy_test_drv:async(P, gate_wait, [?GATE_MS]),
            until(fun() -> gate_waiting(C) =:= 1 end),
            Queued = nocopy_test_drv:async(P, gate_wait, [?GATE_MS]),
            exit(Owner, kill),
            ?assertMatch({error, eclosed, {general, _}},
                         catch_nocopy(fun() -> raw_await(Queued, 10000) end)),
            ?assertMatch({error, eclosed, {general, _}},
                         catch_nocopy(fun() -> raw_await(Running, 10000) end)),
            ok = nocopy_test_drv:gate_open(C),
            until(fun() -> gate_waiting(C) =:= 0 end),
            gate_reset(C)
        end)
    end}}.

%% Unloading the driver kills its ports (erl_ddll's kill_ports, which
%% nocopy_port's loader asks for): callers get eclosed, the driver's finish
%% runs, and the driver loads again afterwards. It runs in a fresh node of its
%% own, so that no other test's port is killed.
unload_with_ports_open_test_() ->
    {"unloading the driver kills its ports cleanly; it loads again",
     {timeout, 120, fun() ->
        Paths = [filename:dirname(code:which(M)) || M <- [nocopy_port, nocopy_test_drv, ?MODULE]],
        {ok, Peer, _Node} = peer:start_link(#{connection => standard_io,
                                              args => lists:append([["-pa", D] || D <- Paths])}),
        try
            ?assertMatch({driver_unloaded, Outcome, 3} when Outcome =:= answered;
                                                             Outcome =:= eclosed,
                         peer:call(Peer, ?MODULE, unload_scenario, [], 60000))
        after
            peer:stop(Peer)
        end
    end}}.

%% @private Run in the peer node by unload_with_ports_open_test_/0.
unload_scenario() ->
    %% The killed port's exit reaches its owner through their link.
    process_flag(trap_exit, true),
    P = open([]),
    %% nocopy's loader, not the caller, holds the driver loaded.
    Loader = whereis(nocopy_driver_loader),
    [Loader] = [U || {U, _} <- erl_ddll:info(nocopy_test_drv, processes)],
    PortMref = erlang:monitor(port, P),
    Ref = nocopy_test_drv:async(P, thread_name_dirty_cpu, []),
    ok = nocopy_port:unload_driver(nocopy_test_drv),
    Why = receive {'DOWN', PortMref, port, P, W} -> W end,
    receive {'EXIT', P, driver_unloaded} -> ok end,
    %% Answered before the unload, or cancelled by it: never lost.
    Outcome = case catch_nocopy(fun() -> raw_await(Ref, 5000) end) of
                  {ok, Name} -> true = worker_thread(Name), answered;
                  {error, eclosed, _} -> eclosed
              end,
    %% Loads again (init runs again), and works.
    Q = open([]),
    Three = nocopy_test_drv:echo_i64(Q, 3),
    close(Q),
    {Why, Outcome, Three}.

%% The driver stays loaded when the process that opened a port exits: a short
%% process opens a port and dies, and a port another process opened at the
%% same moment lives on (each caller used to hold the driver loaded itself:
%% the last one to exit unloaded it and killed every port of the driver).
driver_outlives_openers_test_() ->
    {"ports survive the exit of other processes that opened ports",
     {timeout, 60, fun() ->
        Self = self(),
        [begin
             Opener = spawn(fun() -> {ok, Q} = nocopy_test_drv:open(), Self ! {opened, Q} end),
             M = erlang:monitor(process, Opener),
             receive {'DOWN', M, process, Opener, _} -> ok end,
             receive {opened, _} -> ok end,
             with_ports([[]], fun(P) -> ?assertEqual(I, nocopy_test_drv:echo_i64(P, I)) end)
         end || I <- lists:seq(1, 50)],
        %% One user of the driver: nocopy's loader, whoever opened ports.
        Loader = whereis(nocopy_driver_loader),
        ?assert(is_pid(Loader)),
        ?assertEqual([Loader], [U || {U, _} <- erl_ddll:info(nocopy_test_drv, processes)])
    end}}.

%% ---- the client API -----------------------------------------------------------------------

async_test_() ->
    {setup, spawn, fun() -> open([]) end, fun close/1,
     fun(P) ->
             [{"the reply arrives as {nocopy_reply, Ref, {ok, Value}}",
               fun() ->
                       Ref = raw_async(P, echo_i64, [9]),
                       ?assert(is_reference(Ref)),
                       receive
                           {nocopy_reply, Ref, Reply} -> ?assertEqual({ok, 9}, Reply)
                       after 5000 -> erlang:error(no_reply)
                       end,
                       erlang:demonitor(Ref, [flush])
               end},
              {"await/2 returns the value, or raises as call does",
               fun() ->
                       ?assertEqual(4, nocopy_test_drv:await(nocopy_test_drv:async(P, echo_i64, [4]))),
                       ?assertError(badarg,
                                    nocopy_test_drv:await(nocopy_test_drv:async(P, echo_i64, [x])))
               end},
              {"async on a closed port: await raises eclosed",
               fun() ->
                       Q = open([]),
                       close(Q),
                       Ref = raw_async(Q, echo_i64, [1]),
                       ?assertMatch({error, eclosed, _},
                                    catch_nocopy(fun() -> raw_await(Ref, 5000) end))
               end}]
     end}.

%% A timeout raises `timeout'; the late reply is a stray message (documented).
timeout_test_() ->
    {"a timeout raises timeout; the late reply arrives as a stray message",
     {timeout, 60, fun() ->
        with_ports([[], []], fun(P, C) ->
            gate_reset(C),
            ?assertMatch({error, timeout, {general, <<"no reply within 50 ms">>}},
                         catch_nocopy(fun() ->
                                              raw_call(P, gate_wait, [?GATE_MS], 50)
                                      end)),
            ok = nocopy_test_drv:gate_open(C),
            receive
                {nocopy_reply, _, {ok, {released, _}}} -> ok
            after 10000 -> erlang:error(no_late_reply)
            end,
            gate_reset(C)
        end)
    end}}.

options_test_() ->
    [{"bad options are refused before anything is loaded",
      [?_assertEqual({error, {bad_option, {workers, 0}}}, nocopy_test_drv:open([{workers, 0}])),
       ?_assertEqual({error, {bad_option, {queue, 0}}}, nocopy_test_drv:open([{queue, 0}])),
       ?_assertEqual({error, {bad_option, {queue_bytes, 0}}},
                     nocopy_test_drv:open([{queue_bytes, 0}])),
       ?_assertEqual({error, {bad_option, {queue_bytes, 1 bsl 40 + 1}}},
                     nocopy_test_drv:open([{queue_bytes, 1 bsl 40 + 1}])),
       ?_assertEqual({error, {bad_option, {inline, 1}}}, nocopy_test_drv:open([{inline, 1}])),
       ?_assertEqual({error, {bad_option, frob}}, nocopy_test_drv:open([frob])),
       ?_assertEqual({error, {bad_option, {workers, 65}}}, nocopy_test_drv:open([{workers, 65}])),
       ?_assertEqual({error, {bad_option, {queue, 1 bsl 20 + 1}}},
                     nocopy_test_drv:open([{queue, 1 bsl 20 + 1}]))]},
     {"the stubs carry the driver's own option table (c_src/nc_drv_options.h)",
      fun() ->
              [Table] = [O || {port_options, O} <- table()],
              ?assertEqual(Table, nocopy_test_drv:'$port_options'()),
              ?assertEqual([workers, queue, queue_bytes, inline], [N || {N, _, _, _, _} <- Table])
      end},
     {"every option is taken by both sides at its bounds and refused past them",
      fun() ->
              lists:foreach(
                fun({Name, Default, Min, Max, integer}) ->
                        [begin
                             {ok, P} = nocopy_test_drv:open([{Name, V}]),
                             ok = nocopy_test_drv:close(P)
                         end || V <- [Min, Default, Max]],
                        [?assertEqual({error, {bad_option, {Name, V}}},
                                      nocopy_test_drv:open([{Name, V}]))
                         || V <- [Min - 1, Max + 1, float(Default), true]];
                   ({Name, _, _, _, boolean}) ->
                        [begin
                             {ok, P} = nocopy_test_drv:open([{Name, V}]),
                             ok = nocopy_test_drv:close(P)
                         end || V <- [true, false]],
                        [?assertEqual({error, {bad_option, {Name, V}}},
                                      nocopy_test_drv:open([{Name, V}]))
                         || V <- [0, 1, yes]]
                end, nocopy_test_drv:'$port_options'())
      end},
     {"the driver refuses bad settings too",
      fun() ->
              {ok, P} = nocopy_test_drv:open([]),   % loads the driver
              ?assertError(badarg, open_port({spawn_driver, "nocopy_test_drv workers=65"}, [binary])),
              ?assertError(badarg, open_port({spawn_driver, "nocopy_test_drv frob=1"}, [binary])),
              [?assertError(badarg, open_port({spawn_driver, "nocopy_test_drv " ++ S}, [binary]))
               || S <- ["queue_bytes=0", "queue_bytes=1099511627777", "queue_bytes=-1",
                        "queue_bytes= 5", "queue_bytes=99999999999999999999999",
                        "queue=1x", "inline=2", "workers="]],
              Q = open_port({spawn_driver, "nocopy_test_drv queue_bytes=1099511627776 inline=0"},
                            [binary]),
              port_close(Q),
              close(P)
      end},
     {"a call on something that is not a port",
      ?_assertMatch({error, badarg, {port, <<"expected a port">>}},
                    catch_nocopy(fun() -> raw_call(not_a_port, echo_i64, [1], infinity) end))}].

%% ---- handles: what the table adds ---------------------------------------------------------------

handles_test_() ->
    {setup, spawn, fun() -> open([]) end, fun close/1,
     fun(P) ->
             [{"the term is {'$nocopy_handle', Port, Id}",
               fun() ->
                       H = nocopy_test_drv:new_counter_handle(P),
                       ?assertMatch({'$nocopy_handle', P, Id} when is_integer(Id), H),
                       ok = nocopy_test_drv:close_handle(P, H)
               end},
              {"a closed handle stays closed after its slot is reused",
               fun() ->
                       H = nocopy_test_drv:new_counter_handle(P),
                       ok = nocopy_test_drv:close_handle(P, H),
                       Others = [nocopy_test_drv:new_counter_handle(P) || _ <- lists:seq(1, 50)],
                       nc_assert_badarg({drv, P}, use_handle, [H], 1, "the counter handle is closed"),
                       [ok = nocopy_test_drv:close_handle(P, O) || O <- Others]
               end},
              {"forged ids are refused",
               fun() ->
                       %% A slot never used (type counter): "closed".
                       nc_assert_badarg({drv, P}, use_handle, [{'$nocopy_handle', P, 16#ffffff}],
                                        1, "the counter handle is closed"),
                       %% A type index the module does not have.
                       nc_assert_badarg({drv, P}, use_handle,
                                        [{'$nocopy_handle', P, 200 bsl 24}], 1,
                                        {prefix, "expected a counter handle"})
               end},
              {"slots are reused: 2000 handles made and closed one by one",
               fun() ->
                       Ids = [begin
                                  {'$nocopy_handle', P, Id} = H =
                                      nocopy_test_drv:new_counter_handle(P),
                                  ok = nocopy_test_drv:close_handle(P, H),
                                  Id band 16#ffffff
                              end || _ <- lists:seq(1, 2000)],
                       ?assert(lists:max(Ids) < 64)
               end},
              {"every destructor ran once",
               fun() ->
                       {Created, Destroyed, Bad, _, _} = nocopy_test_drv:handle_stats(P),
                       ?assertEqual(0, Bad),
                       ?assertEqual(Created, Destroyed + nocopy_test_drv:live_handles(P))
               end},
              {"a handle of a closed port is refused by a new port",
               fun() ->
                       Q = open([]),
                       H = nocopy_test_drv:new_counter_handle(Q),
                       close(Q),
                       nc_assert_badarg({drv, P}, use_handle, [H], 1,
                                        {prefix, "expected a counter handle"})
               end}]
     end}.

%% ---- results the driver builds ------------------------------------------------------------------

deep_terms_test_() ->
    {setup, spawn, fun() -> open([]) end, fun close/1,
     fun(P) ->
             Deep = lists:foldl(fun(_, Acc) -> [Acc, $x] end, [], lists:seq(1, 50000)),
             [{"a result nested 10000 deep (the test module's limit)",
               ?_assertEqual(nocopy_test:make_deep(10000), nocopy_test_drv:make_deep(P, 10000))},
              {"an argument nested 50000 deep (a left-nested iolist)",
               ?_assertEqual(iolist_to_binary(Deep), nocopy_test_drv:iovec_flat(P, Deep))}]
     end}.
