%% nocopy_ffi_iso_tests: the run-time FFI on the isolated backend, where
%% mistakes cost the child, not the VM.
-module(nocopy_ffi_iso_tests).

-include_lib("eunit/include/eunit.hrl").
-include("nocopy_ffi_test.hrl").

%% The isolated backend's safety model: mistakes that take the VM down on the
%% NIF and driver backends (a prototype that lies, a bad pointer, abort, exit,
%% a signal) cost the isolate's process, and the call fails with ecrashed; a
%% call past the library's timeout fails with timeout. The VM goes on: later
%% calls, on the NIF and in new isolates, work.
isolated_test_() ->
    {timeout, 120,
     [{"a segfault in C fails the call with ecrashed", fun iso_segfault/0},
      {"abort, exit and a signal fail the call with ecrashed", fun iso_abort_exit/0},
      {"a call past the timeout fails with timeout", fun iso_timeout/0},
      {"a function's own timeout", fun iso_fn_timeout/0},
      {"open's isolate options: bad ones are badarg", fun iso_bad_opts/0},
      {"a write through a const pointer crashes the child, not the binary",
       fun iso_const_write/0},
      {"a write past an out-buffer stays in the child's output region",
       fun iso_out_overrun/0}]}.

iso_segfault() ->
    {ok, C} = nocopy_ffi:open(?LIBC, #{backend => iso}),
    %% strlen declared with an integer parameter: C reads address 16
    Bad = bind(C, "size_t strlen(long s)"),
    Strlen = bind(C, "size_t strlen(const char *s)"),
    ?assertEqual(3, nocopy_ffi:call(Strlen, [<<"abc">>])),
    {ecrashed, Msg} = iso_error(fun() -> nocopy_ffi:call(Bad, [16]) end),
    ?assertNotEqual(nomatch, string:find(Msg, "SIGSEGV")),
    %% the child's handles died with it; the VM did not
    ?assertMatch({nocopy_ffi, #{1 := "the ffi_function handle is closed"}},
                 arg_error(fun() -> nocopy_ffi:call(Strlen, [<<"abc">>]) end)),
    ?assertEqual(5, nocopy_ffi:call(bind(ok(nocopy_ffi:open(?LIBC)), "long labs(long j)"), [-5])),
    %% the isolate starts a new process: open and bind again there
    {nocopy_ffi_lib, {iso, Iso}, _} = C,
    {ok, C2} = nocopy_ffi:open(?LIBC, #{backend => {iso, Iso}}),
    ?assertEqual(3, nocopy_ffi:call(bind(C2, "size_t strlen(const char *s)"), [<<"abc">>])),
    nocopy_iso:stop(Iso).

iso_abort_exit() ->
    lists:foreach(
      fun({Decl, Args}) ->
              {ok, C} = nocopy_ffi:open(?LIBC, #{backend => iso}),
              F = bind(C, Decl),
              ?assertMatch({ecrashed, _}, iso_error(fun() -> nocopy_ffi:call(F, Args) end))
      end, [{"void abort(void)", []},
            {"void exit(int status)", [3]},
            {"int raise(int sig)", [11]}]),            % SIGSEGV, raised
    ?assertEqual(5, nocopy_ffi:call(bind(ok(nocopy_ffi:open(?LIBC)), "long labs(long j)"), [-5])).

iso_timeout() ->
    {ok, C} = nocopy_ffi:open(?LIBC, #{backend => iso, timeout => 500}),
    Sleep = bind(C, "unsigned int sleep(unsigned int seconds)"),
    ?assertEqual(0, nocopy_ffi:call(Sleep, [0])),          % within the timeout
    {timeout, Msg} = iso_error(fun() -> nocopy_ffi:call(Sleep, [60]) end),
    ?assertNotEqual(nomatch, string:find(Msg, "500 ms")),
    ?assertEqual(5, nocopy_ffi:call(bind(ok(nocopy_ffi:open(?LIBC)), "long labs(long j)"), [-5])).

%% A function's timeout (bind option) in an isolate whose library has none:
%% the call past it fails with timeout, naming the function's milliseconds,
%% while the function bound beside it with a longer one answers; the isolate
%% goes on in a new process. On a library of the NIF backend the option is
%% refused.
iso_fn_timeout() ->
    {ok, C} = nocopy_ffi:open(?LIBC, #{backend => iso}),
    Sleep = bind(C, "unsigned int sleep(unsigned int seconds)", #{timeout => 300}),
    Labs = bind(C, "long labs(long j)", #{timeout => 60000}),
    ?assertEqual(5, nocopy_ffi:call(Labs, [-5])),
    ?assertEqual(0, nocopy_ffi:call(Sleep, [0])),           % within its timeout
    {timeout, Msg} = iso_error(fun() -> nocopy_ffi:call(Sleep, [60]) end),
    ?assertNotEqual(nomatch, string:find(Msg, "300 ms")),
    {nocopy_ffi_lib, {iso, Iso}, _} = C,
    {ok, C2} = nocopy_ffi:open(?LIBC, #{backend => {iso, Iso}}),
    ?assertEqual(7, nocopy_ffi:call(bind(C2, "long labs(long j)"), [-7])),
    nocopy_iso:stop(Iso),
    Nif = ok(nocopy_ffi:open(?LIBC)),
    ?assertMatch({nocopy_ffi, #{3 := "expected timeout only for a library opened with backend iso" ++ _}},
                 arg_error(fun() -> nocopy_ffi:bind(Nif, "long labs(long j)", #{timeout => 100}) end)),
    ?assertMatch({nocopy_ffi, #{3 := _}},
                 arg_error(fun() -> nocopy_ffi:bind(C2, "long labs(long j)", #{timeout => -1}) end)),
    ?assertMatch({nocopy_ffi, #{3 := _}},
                 arg_error(fun() -> nocopy_ffi:cdef(Nif, "long labs(long j);",
                                                    #{labs => #{timeout => 100}}) end)).

%% memset declared with a const pointer (the declaration lies): on the NIF
%% backend this would write into an Erlang binary; in an isolate the child
%% maps the input region read-only, so the write is a SIGSEGV there. Both an
%% ordinary binary (copied once into the region) and one already in the
%% region (nocopy_iso:binary/2, shared with the VM) keep their bytes.
iso_const_write() ->
    {ok, C} = nocopy_ffi:open(?LIBC, #{backend => iso}),
    {nocopy_ffi_lib, {iso, Iso}, _} = C,
    Ordinary = binary:copy(<<"abcd">>, 4096),
    InRegion = nocopy_iso:binary(Iso, Ordinary),
    lists:foreach(
      fun(Bin) ->
              {ok, C1} = nocopy_ffi:open(?LIBC, #{backend => {iso, Iso}}),
              Memset = bind(C1, "void memset(const void *s, int c, size_t n)"),
              {ecrashed, Msg} = iso_error(fun() -> nocopy_ffi:call(Memset, [Bin, $x, 16384]) end),
              ?assertNotEqual(nomatch, string:find(Msg, "SIGSEGV"))
      end, [Ordinary, InRegion]),
    ?assertEqual(binary:copy(<<"abcd">>, 4096), Ordinary),
    ?assertEqual(Ordinary, InRegion),
    nocopy_iso:stop(Iso).

%% memset into a 16-byte out-buffer told to write 64 KiB (a length the bind
%% does not bound): the bytes past the buffer land in the child's output
%% region, which the VM maps read-only and reads only through length-checked
%% replies. Whatever the child makes of it (an answer, or a crash later), the
%% VM's own binaries keep their bytes and a new isolate works.
iso_out_overrun() ->
    {ok, C} = nocopy_ffi:open(?LIBC, #{backend => iso}),
    {nocopy_ffi_lib, {iso, Iso}, _} = C,
    Mine = binary:copy(<<"untouched">>, 1000),
    Memset = bind(C, "void *memset(void *s, int c, size_t n)", #{out => #{s => 16}}),
    case catch nocopy_ffi:call(Memset, [$y, 65536]) of
        {Addr, Out} when is_integer(Addr) -> ?assertEqual(binary:copy(<<"y">>, 16), Out);
        {'EXIT', {ecrashed, _}} -> ok
    end,
    ?assertEqual(binary:copy(<<"untouched">>, 1000), Mine),
    nocopy_iso:stop(Iso),
    {ok, C2} = nocopy_ffi:open(?LIBC, #{backend => iso}),
    ?assertEqual(3, nocopy_ffi:call(bind(C2, "size_t strlen(const char *s)"), [<<"abc">>])).

iso_bad_opts() ->
    [?assertMatch({_, #{2 := Text}} when is_list(Text),
                  open_error(fun() -> nocopy_ffi:open(?LIBC, Opts) end))
     || Opts <- [#{timeout => 100}, #{backend => nif, timeout => 100},
                 #{backend => iso, timeout => -1}, #{backend => iso, timeout => soon},
                 #{backend => {iso, not_an_isolate}}]],
    ?assertMatch({error, {dlopen, _}},
                 nocopy_ffi:open("/nonexistent/libnothing.so", #{backend => iso})).
