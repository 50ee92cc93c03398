#!/usr/bin/env escript
%% mk/valgrind_check.escript DIR: judges the valgrind logs of `make valgrind-vm`
%% (one per traced process, run with --track-origins=yes and
%% mk/valgrind-beam.supp) and fails when any error belongs to nocopy.
%%
%% Inside the VM valgrind still reports, after the suppressions, errors that
%% are the runtime's: JIT code moves the stack pointer through memory it
%% manages, so values the JIT stored look uninitialised to memcheck ("created
%% by a stack allocation" in JIT code), even when nocopy reads them through
%% the erl_nif/driver API. Only the origin of the value or the kind of the
%% access says whose error it is. An error is nocopy's when:
%%   - an invalid read, write or free is done by nocopy's own code (the
%%     innermost frame that is nocopy's or the runtime's: libc and valgrind's
%%     memcpy act for their caller), or touches a block that was freed while
%%     nocopy's code is on the stack (a use after free, whoever does it);
%%   - an uninitialised value (conditional jump, use, system call argument)
%%     was created by nocopy's code: allocated, or on its stack;
%%   - a block is definitely lost and was allocated with nocopy's code on the
%%     stack.
%% Except an access inside a process heap (see process_heap/2).
%% nocopy's code: frames in c_src/*/nc_*.c, the test fixtures and examples, or
%% in a shared object under _build/*/priv/.
%% Every other error is counted and listed as the runtime's, not fatal.
%% Also removes the perf map of each VM (+JPperf map: /tmp/perf-<pid>.map).
-mode(compile).

main([Dir]) ->
    Logs = filelib:wildcard(filename:join(Dir, "*.log")),
    Logs =:= [] andalso fail("no valgrind log in ~s", [Dir]),
    Results = [check_log(L) || L <- Logs],
    Ours = lists:append([O || {O, _, _} <- Results]),
    Runtime = lists:sum([R || {_, R, _} <- Results]),
    Incomplete = [x || {_, _, false} <- Results],
    [io:format("==== nocopy error in ~s~n~s~n", [L, Text]) || {L, Text} <- Ours],
    [io:format("==== ~s: the process was killed by a signal~n", [L])
     || {L, {_, _, false}} <- lists:zip(Logs, Results)],
    io:format("valgrind-check: ~b process log(s); ~b error(s) of nocopy's code; "
              "~b left to the runtime's own~n", [length(Logs), length(Ours), Runtime]),
    case Ours =:= [] andalso Incomplete =:= [] of
        true -> halt(0);
        false -> halt(1)
    end;
main(_) ->
    fail("usage: valgrind_check.escript DIR", []).

fail(Fmt, Args) ->
    io:format(standard_error, "valgrind-check: " ++ Fmt ++ "~n", Args),
    halt(2).

check_log(Log) ->
    {ok, Bin} = file:read_file(Log),
    Pid = pid_of(Log),
    _ = file:delete("/tmp/perf-" ++ Pid ++ ".map"),
    Lines = [strip(L) || L <- binary:split(Bin, <<"\n">>, [global])],
    Blocks = blocks(Lines, [], []),
    Judged = [{ours(B), B} || B <- Blocks],
    Ours = [{Log, iolist_to_binary(lists:join("\n", B))} || {true, B} <- Judged],
    Runtime = length([x || {false, _} <- Judged]),
    %% A log without a summary is a fork that exec'd a program valgrind does
    %% not trace (the runtime's erl_child_setup); one that shows a fatal
    %% signal is a crash.
    Complete = binary:match(Bin, <<"Process terminating with default action">>) =:= nomatch,
    {Ours, Runtime, Complete}.

pid_of(Log) ->
    Base = filename:basename(Log, ".log"),
    lists:last(string:split(Base, ".", all)).

%% "==123== text" -> "text"; other lines are dropped (empty).
strip(<<"==", Rest/binary>>) ->
    case binary:split(Rest, <<"== ">>) of
        [_Pid, Text] -> Text;
        _ -> <<>>
    end;
strip(_) ->
    <<>>.

%% Error and leak blocks: from a headline to the next empty line.
blocks([], Cur, Acc) -> lists:reverse(close(Cur, Acc));
blocks([<<>> | Rest], Cur, Acc) -> blocks(Rest, [], close(Cur, Acc));
blocks([L | Rest], [], Acc) ->
    case headline(L) of
        true -> blocks(Rest, [L], Acc);
        false -> blocks(Rest, [], Acc)
    end;
blocks([L | Rest], Cur, Acc) -> blocks(Rest, [L | Cur], Acc).

close([], Acc) -> Acc;
close(Cur, Acc) -> [lists:reverse(Cur) | Acc].

headline(L) ->
    lists:any(fun(P) -> binary:match(L, P) =:= {0, byte_size(P)} end,
              [<<"Invalid ">>, <<"Conditional jump">>, <<"Use of uninitialised">>,
               <<"Syscall param">>, <<"Mismatched free">>, <<"Source and destination">>])
        orelse binary:match(L, <<"are definitely lost">>) =/= nomatch.

%% The block's stack (frames before the first description line), and the
%% description's own frames (where a block was allocated or freed, where an
%% uninitialised value was created).
ours([Head | Rest]) ->
    {Stack, Desc} = lists:splitwith(fun is_frame/1, Rest),
    DescFrames = [F || F <- Desc, is_frame(F)],
    DescText = iolist_to_binary(Desc),
    case kind(Head) of
        access ->
            not process_heap(DescText, DescFrames)
                andalso (decisive(Stack) =:= nocopy
                         orelse (binary:match(DescText, <<"free'd">>) =/= nomatch
                                 andalso lists:any(fun nocopy_frame/1, Stack)));
        uninit ->
            lists:any(fun nocopy_frame/1, origin_frames(Desc, DescFrames));
        leak ->
            lists:any(fun nocopy_frame/1, Stack)
    end.

%% Where an uninitialised value was created (--track-origins), when the
%% report says: that, not the block the value sits in, says whose it is. The
%% isolated backend copies an Erlang binary's bytes (the child's path, a
%% request's small pieces) into a block of its own and hands them to a system
%% call; when the JIT built that binary, memcheck thinks its bytes were never
%% written ("created by a stack allocation" in JIT code), though the block is
%% nocopy's.
origin_frames(Desc, DescFrames) ->
    case lists:dropwhile(fun(L) -> binary:match(L, <<"Uninitialised value was created">>)
                                       =:= nomatch end, Desc) of
        [] -> DescFrames;
        [_ | Origin] -> [F || F <- Origin, is_frame(F)]
    end.

%% An access inside a live block that the garbage collector allocated: a
%% process heap. The JIT runs Erlang code on the process's own stack, at the
%% top of that block, so when the stack pops, memcheck marks the popped words
%% as no longer addressable; once the heap grows into them, every write there
%% looks invalid, nocopy's too (a memcpy into a binary that
%% enif_make_new_binary has just placed there). Not an error of nocopy's:
%% inside a live block memcheck reports nothing else (an overrun within the
%% heap is addressable memory to it), and a use after free says "free'd".
%% The collector is entered as erts_garbage_collect* or, after a BIF that
%% needed heap, erts_gc_after_bif_call* (its static collector inlined): a
%% request's small binary, read by the isolated backend's NIF, sat in such a
%% heap (session 10: the same two reads, at the same offsets, with the CALL's
%% buffer on the NIF's stack or on the heap). A process spawned with a large
%% min_heap_size still runs in the heap erl_create_process gave it (session
%% 14: a NIF's error text copied into its heap binary, 7 KB below the top).
process_heap(DescText, DescFrames) ->
    binary:match(DescText, <<"bytes inside a block of size">>) =/= nomatch
        andalso binary:match(DescText, <<"free'd">>) =:= nomatch
        andalso lists:any(fun(F) -> binary:match(F, [<<"erts_garbage_collect">>,
                                                       <<"erts_gc_after_bif_call">>,
                                                       <<"erl_create_process">>]) =/= nomatch
                          end, DescFrames).

kind(<<"Invalid ", _/binary>>) -> access;
kind(<<"Mismatched free", _/binary>>) -> access;
kind(<<"Source and destination", _/binary>>) -> access;
kind(<<"Conditional jump", _/binary>>) -> uninit;
kind(<<"Use of uninitialised", _/binary>>) -> uninit;
kind(<<"Syscall param", _/binary>> = L) ->
    case binary:match(L, <<"unaddressable">>) of
        nomatch -> uninit;
        _ -> access
    end;
kind(_) -> leak.

%% Whose code made an access: the innermost frame that is nocopy's or the
%% runtime's (beam.smp, or JIT code: no object at all). libc, the dynamic
%% loader and valgrind's own replacements (memcpy, strlen, ...) act for
%% their caller and are skipped.
decisive([]) -> none;
decisive([F | Rest]) ->
    case {nocopy_frame(F), runtime_frame(F)} of
        {true, _} -> nocopy;
        {_, true} -> runtime;
        _ -> decisive(Rest)
    end.

runtime_frame(F) ->
    binary:match(F, <<"beam.smp">>) =/= nomatch orelse
        re:run(F, <<": \\?\\?\\?$">>) =/= nomatch.

is_frame(L) ->
    re:run(L, <<"^\\s+(at|by) 0x[0-9A-Fa-f]+: ">>) =/= nomatch.

nocopy_frame(F) ->
    re:run(F, <<"\\((nc_[a-z_]+|nocopy_[a-z_]+_nif|gss_demo|sums)\\.c:[0-9]+\\)"
                "|/_build/[^)]*/priv/[^)]*\\.so\\)|\\(in [^)]*_build/[^)]*/priv/">>) =/= nomatch.
