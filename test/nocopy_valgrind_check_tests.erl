%% Tests of mk/valgrind_check.escript, the judge of `make valgrind-vm`: it
%% must fail a run on any error of nocopy's code and pass one whose errors
%% are the runtime's own (the JIT's stack marks in process heaps among
%% them). Each case is a valgrind log written here, judged by the escript.
-module(nocopy_valgrind_check_tests).

-include_lib("eunit/include/eunit.hrl").

-define(ESCRIPT, "mk/valgrind_check.escript").

%% The frames of a read by nocopy's NIF, called from the runtime.
nocopy_read() ->
    ["Invalid read of size 8",
     "   at 0x484B36F: memmove (in /usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)",
     "   by 0x4AB3C4EB: nocopy__host_build_call (nc_iso_host_request.c:313)",
     "   by 0x4AB39E7D: call_nif (nc_iso_host_nif.c:589)",
     "   by 0x19BA98: beam_jit_call_nif(process*) (in /usr/lib/erlang/erts-13.1.5/bin/beam.smp)",
     "   by 0x4660B5D9: ???"].

%% A block the collector allocated, entered the way it is named here.
gc_block(Entry, State) ->
    [" Address 0x48dc37c8 is 2,568 bytes inside a block of size 3,008 " ++ State,
     "   at 0x48417B4: malloc (in /usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)",
     "   by 0x36D08B: erts_sys_alloc (in /usr/lib/erlang/erts-13.1.5/bin/beam.smp)",
     "   by 0x30B4E2: ??? (in /usr/lib/erlang/erts-13.1.5/bin/beam.smp)",
     "   by 0x30E872: " ++ Entry ++ " (in /usr/lib/erlang/erts-13.1.5/bin/beam.smp)"].

%% A block nocopy's code allocated.
nocopy_block() ->
    [" Address 0x4a0c0010 is 0 bytes after a block of size 16 alloc'd",
     "   at 0x48417B4: malloc (in /usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)",
     "   by 0x4AB3C000: nocopy__host_scratch_take (nc_iso_host_request.c:57)"].

%% Each case starts an escript (a VM): seconds on a loaded machine, under
%% ASan more, so each has its own minute.
judge_test_() ->
    [{Name, {timeout, 120, fun() -> ?assertMatch({Status, _}, judge(Log)) end}}
     || {Name, Status, Log} <- cases()].

cases() ->
    [{"a read inside a live process heap (erts_gc_after_bif_call_lhf): the runtime's", 0,
      [nocopy_read() ++ gc_block("erts_gc_after_bif_call_lhf", "alloc'd")]},
     {"a read inside a live process heap (erts_garbage_collect_nobump): the runtime's", 0,
      [nocopy_read() ++ gc_block("erts_garbage_collect_nobump", "alloc'd")]},
     {"a read inside a spawned process's first heap (erl_create_process): the runtime's", 0,
      [nocopy_read() ++ gc_block("erl_create_process", "alloc'd")]},
     {"the same read in a freed process heap: nocopy's", 1,
      [nocopy_read() ++ gc_block("erts_gc_after_bif_call_lhf", "free'd")]},
     {"a read past a block nocopy allocated: nocopy's", 1,
      [nocopy_read() ++ nocopy_block()]},
     {"the runtime's read of its own block: the runtime's", 0,
      [["Invalid read of size 4",
        "   at 0x30B4E2: erts_foo (in /usr/lib/erlang/erts-13.1.5/bin/beam.smp)"]
       ++ gc_block("erts_alloc_fix", "alloc'd")]},
     {"no log at all is a failure, not a pass", 2, none}].

%% The escript's exit status and output over one log holding Errors.
judge(Errors) ->
    Dir = filename:join(os:getenv("TMPDIR", "/tmp"),
                        "nocopy_vgcheck_" ++ os:getpid() ++ "_"
                        ++ integer_to_list(erlang:unique_integer([positive]))),
    ok = filelib:ensure_path(Dir),
    try
        case Errors of
            none -> ok;
            _ -> ok = file:write_file(filename:join(Dir, "vm.123.log"), log(Errors))
        end,
        Port = open_port({spawn_executable, os:find_executable("escript")},
                         [{args, [?ESCRIPT, Dir]}, exit_status, stderr_to_stdout, binary]),
        collect(Port, <<>>)
    after
        _ = [file:delete(F) || F <- filelib:wildcard(filename:join(Dir, "*"))],
        file:del_dir(Dir)
    end.

log(Errors) ->
    Lines = ["Memcheck, a memory error detector"]
            ++ lists:append([E ++ [""] || E <- Errors])
            ++ ["ERROR SUMMARY: " ++ integer_to_list(length(Errors)) ++ " errors"],
    [["==123== ", L, "\n"] || L <- Lines].

collect(Port, Acc) ->
    receive
        {Port, {data, D}} -> collect(Port, <<Acc/binary, D/binary>>);
        {Port, {exit_status, S}} -> {S, Acc}
    after 110000 -> error({escript_timeout, Acc})
    end.
