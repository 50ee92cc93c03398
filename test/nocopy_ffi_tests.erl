%% nocopy_ffi_tests: the run-time FFI against oracles nobody here wrote: zlib's
%% crc32/adler32 against erlang:crc32/adler32, compress2/uncompress against
%% OTP's zlib, libc's strlen, memchr, strtol, div/ldiv, labs, snprintf and
%% libm's frexp against Erlang's own arithmetic and formatting. Zero copy is
%% proven by address (memchr and strchr return where C read; memcpy returns
%% where it wrote), with negative controls. Then bad input: arity, types,
%% ranges, symbols, closed libraries, bad prototypes and options.
%%
%% Every test runs on the NIF, the driver and the isolated backend (there,
%% zero copy is proven in the child's addresses of the shared regions). What
%% only the NIF has: nocopy_ffi_nif_tests; the isolated backend's safety
%% model: nocopy_ffi_iso_tests.
-module(nocopy_ffi_tests).

-include_lib("eunit/include/eunit.hrl").
-include("nocopy_ffi_test.hrl").

backends_test_() ->
    [{"nif", {setup, fun() -> setup(nif) end, fun cleanup/1, fun tests/1}},
     {"driver", {setup, fun() -> {ok, P} = nc_ffi_drv:open([]), setup({drv, P}) end,
                 fun cleanup/1, fun tests/1}},
     {"isolated", {setup, fun() -> {ok, I} = nc_ffi_iso:start(), setup({iso, I}) end,
                   fun cleanup/1, fun tests/1}}].

setup(Backend) ->
    Opts = #{backend => Backend},
    {ok, Z} = nocopy_ffi:open(?LIBZ, Opts),
    {ok, C} = nocopy_ffi:open(?LIBC, Opts),
    {ok, M} = nocopy_ffi:open(?LIBM, Opts),
    #{backend => Backend, z => Z, c => C, m => M}.

cleanup(#{backend := {drv, Port}}) -> nc_ffi_drv:close(Port);
cleanup(#{backend := {iso, Iso}}) -> nocopy_iso:stop(Iso);
cleanup(_) -> ok.

%% Each test may take longer than eunit's default 5 s under ASan on a loaded
%% machine: module/4 compiles a module in the (instrumented) VM.
tests(S) ->
    [{D, {timeout, 60, F}} || {D, F} <- tests_of(S)].

tests_of(S) ->
    [{"crc32 and adler32 = erlang:crc32/adler32", fun() -> checksums(S) end},
     {"compress2/uncompress agree with OTP's zlib", fun() -> compress(S) end},
     {"strlen: NUL-terminated and copied", fun() -> strlen(S) end},
     {"memchr/strchr: zero copy by address, copy as negative control", fun() -> addresses(S) end},
     {"memcpy: out-buffer zero copy by address", fun() -> out_buffer_address(S) end},
     {"strtol with errno", fun() -> strtol(S) end},
     {"frexp: a scalar out-parameter", fun() -> frexp(S) end},
     {"div/ldiv: structs by value", fun() -> divs(S) end},
     {"labs, llabs, fabs: scalars", fun() -> scalars(S) end},
     {"narrow integers: edges of ranges, results extended by their type", fun() -> narrow(S) end},
     {"snprintf: variadic into an out-buffer", fun() -> snprintf(S) end},
     {"cdef: a header snippet", fun() -> cdef(S) end},
     {"FILE *: handles with a destructor (fclose) run once", fun() -> files(S) end},
     {"gmtime_r/timegm: structs by pointer, out and in-out", fun() -> times(S) end},
     {"bound: a length past its buffer is badarg, the VM survives", fun() -> bounds(S) end},
     {"fill: a length left out is its buffer's size", fun() -> fills(S) end},
     {"bound out-buffers; bad bound and fill options", fun() -> bound_outs(S) end},
     {"bad calls: arity, types, ranges", fun() -> bad_calls(S) end},
     {"bad binds: prototypes, symbols, options", fun() -> bad_binds(S) end},
     {"a closed library refuses calls", fun() -> closed(S) end}].


%% Bin where C reads it in place: on the isolated backend, a copy in the
%% isolate's input region (what nocopy_iso:binary/2 is for).
placed(#{backend := {iso, I}}, Bin) -> nocopy_iso:binary(I, Bin);
placed(_, Bin) -> Bin.

%% Where C sees Bin's bytes: on the isolated backend, the child's address of
%% the same bytes of a shared region (input or output), which the isolate
%% maps at another address there.
c_address(#{backend := {iso, I}}, Bin) ->
    A = nocopy_iso:address(Bin),
    #{input_base := In, child_input_base := CIn, output_base := Out,
      child_output_base := COut, region_bytes := R} = nocopy_iso:info(I),
    if A >= In, A < In + R -> A - In + CIn;
       A >= Out, A < Out + R -> A - Out + COut
    end;
c_address(_, Bin) ->
    nocopy_ffi:address(Bin).


checksums(#{z := Z}) ->
    Crc = bind(Z, "unsigned long crc32(unsigned long crc, const unsigned char *buf, unsigned int len)"),
    Adler = bind(Z, "typedef unsigned long uLong; typedef unsigned char Bytef;"
                    "uLong adler32(uLong adler, const Bytef *buf, unsigned int len);",
                 #{name => adler32}),
    lists:foreach(
      fun(N) ->
              B = data(N),
              ?assertEqual(erlang:crc32(B), nocopy_ffi:call(Crc, [0, B, N])),
              ?assertEqual(erlang:adler32(B), nocopy_ffi:call(Adler, [1, B, N])),
              %% chained: the running value of the first half continues
              H = N div 2,
              <<B1:H/binary, B2/binary>> = B,
              C1 = nocopy_ffi:call(Crc, [0, B1, H]),
              ?assertEqual(erlang:crc32(C1, B2), nocopy_ffi:call(Crc, [C1, B2, N - H]))
      end, [0, 1, 64, 65, 4096, 1 bsl 20]).

compress(#{z := Z}) ->
    Decls = "typedef unsigned char Bytef; typedef unsigned long uLong; typedef uLong uLongf;"
            "int compress2(Bytef *dest, uLongf *destLen, const Bytef *source, uLong sourceLen, int level);"
            "int uncompress(Bytef *dest, uLongf *destLen, const Bytef *source, uLong sourceLen);"
            "uLong compressBound(uLong sourceLen);",
    OutOpts = #{out => #{dest => destLen}, inout => [destLen], len => #{dest => destLen}},
    {ok, #{compress2 := C2, uncompress := U, compressBound := Bound}} =
        nocopy_ffi:cdef(Z, Decls, #{compress2 => OutOpts, uncompress => OutOpts}),
    lists:foreach(
      fun(N) ->
              B = binary:copy(data(N div 4 + 1), 4),
              Len = byte_size(B),
              Cap = nocopy_ffi:call(Bound, [Len]),
              {0, Packed, PLen} = nocopy_ffi:call(C2, [Cap, B, Len, 6]),
              ?assertEqual(PLen, byte_size(Packed)),
              ?assertEqual(B, zlib:uncompress(Packed)),
              Theirs = zlib:compress(B),
              {0, Back, Len} = nocopy_ffi:call(U, [Len, Theirs, byte_size(Theirs)]),
              ?assertEqual(B, Back),
              %% Z_BUF_ERROR (-5) when the output does not fit, as zlib.h says
              ?assertMatch({-5, _, _}, nocopy_ffi:call(U, [Len - 1, Theirs, byte_size(Theirs)]))
      end, [100, 70000, 1 bsl 20]).

strlen(#{c := C}) ->
    Strlen = bind(C, "size_t strlen(const char *s)"),
    ?assertEqual(5, nocopy_ffi:call(Strlen, [<<"hello">>])),        % copied, NUL added
    ?assertEqual(5, nocopy_ffi:call(Strlen, [<<"hello", 0>>])),     % by address
    ?assertEqual(2, nocopy_ffi:call(Strlen, [<<"he", 0, "llo", 0>>])),
    Big = binary:copy(<<"a">>, 100000),
    ?assertEqual(100000, nocopy_ffi:call(Strlen, [<<Big/binary, 0>>])),
    ?assertEqual(0, nocopy_ffi:call(Strlen, [<<>>])).

%% memchr returns where it found the byte in the memory C was given: the
%% binary's own bytes. strchr on a binary without a NUL gets a copy: the
%% address differs (the negative control).
addresses(#{c := C} = S) ->
    Memchr = bind(C, "void *memchr(const void *s, int c, size_t n)"),
    Strchr = bind(C, "void *strchr(const char *s, int c)"),
    B = placed(S, <<(binary:copy(<<"a">>, 5000))/binary, "z", (binary:copy(<<"a">>, 5000))/binary, 0>>),
    Base = c_address(S, B),
    ?assertEqual(Base + 5000, nocopy_ffi:call(Memchr, [B, $z, byte_size(B)])),
    ?assertEqual(Base + 5000, nocopy_ffi:call(Strchr, [B, $z])),
    ?assertEqual(0, nocopy_ffi:call(Memchr, [B, $q, byte_size(B)])),     % NULL
    NoNul = binary:part(B, 0, byte_size(B) - 1),                         % a sub-binary
    ?assertEqual(Base, c_address(S, NoNul)),
    ?assertEqual(Base + 5000, nocopy_ffi:call(Memchr, [NoNul, $z, byte_size(NoNul)])),
    %% const unsigned char * is bytes, not a string: no NUL needed, no copy
    Umemchr = bind(C, "void *memchr(const unsigned char *s, int c, size_t n)"),
    ?assertEqual(Base + 5000, nocopy_ffi:call(Umemchr, [NoNul, $z, byte_size(NoNul)])),
    Copied = nocopy_ffi:call(Strchr, [NoNul, $z]),
    ?assertNotEqual(0, Copied),
    ?assertNotEqual(Base + 5000, Copied).

%% memcpy returns its destination: the out-buffer, which must be the result
%% binary's own bytes. A buffer of 64 bytes or less is a heap binary the
%% runtime copies (the negative control).
out_buffer_address(#{backend := Backend, c := C} = S) ->
    Memcpy = bind(C, "void *memcpy(void *dest, const void *src, size_t n)",
                  #{out => #{dest => n}}),
    Src = data(1 bsl 20),
    {Dest, Out} = nocopy_ffi:call(Memcpy, [Src, byte_size(Src)]),
    ?assertEqual(Src, Out),
    ?assertEqual(Dest, c_address(S, Out)),
    Small = data(64),
    {SDest, SOut} = nocopy_ffi:call(Memcpy, [Small, 64]),
    ?assertEqual(Small, SOut),
    case Backend of
        nif -> ?assertNotEqual(SDest, nocopy_ffi:address(SOut));
        _ -> ok   % the driver's small results are built by the runtime too; the
                  % address C wrote is freed memory by now
    end.

strtol(#{c := C}) ->
    Strtol = bind(C, "long strtol(const char *nptr, char **endptr, int base)", #{errno => true}),
    Strerror = bind(C, "char *strerror(int errnum)"),
    ?assertEqual({123, 0}, nocopy_ffi:call(Strtol, [<<"123">>, null, 10])),
    ?assertEqual({-255, 0}, nocopy_ffi:call(Strtol, [<<"-ff", 0>>, null, 16])),
    Max = (1 bsl 63) - 1,
    {Max, Errno} = nocopy_ffi:call(Strtol, [<<"99999999999999999999">>, null, 10]),
    ?assertNotEqual(0, Errno),
    ?assertMatch({_, _}, binary:match(nocopy_ffi:call(Strerror, [Errno]), <<"range">>)).

frexp(#{m := M}) ->
    Frexp = bind(M, "double frexp(double x, int *exp)"),
    lists:foreach(
      fun(X) ->
              {Mant, E} = nocopy_ffi:call(Frexp, [X]),
              ?assertEqual(X, Mant * math:pow(2, E)),
              ?assert(abs(Mant) >= 0.5 andalso abs(Mant) < 1)
      end, [8.0, 1.0, -3.75, 1.0e300, 1.0e-300, 12345.678]),
    ?assertEqual({0.0, 0}, nocopy_ffi:call(Frexp, [0.0])).

divs(#{c := C}) ->
    Decls = "typedef struct { int quot; int rem; } div_t; typedef struct { long quot; long rem; } ldiv_t;"
            "div_t div(int numer, int denom); ldiv_t ldiv(long numer, long denom);",
    {ok, #{'div' := Div, ldiv := Ldiv}} = nocopy_ffi:cdef(C, Decls),
    lists:foreach(
      fun({A, B}) ->
              ?assertEqual(#{quot => A div B, 'rem' => A rem B}, nocopy_ffi:call(Div, [A, B])),
              ?assertEqual(#{quot => (A * 1000000007) div B, 'rem' => (A * 1000000007) rem B},
                           nocopy_ffi:call(Ldiv, [A * 1000000007, B]))
      end, [{17, 5}, {-17, 5}, {17, -5}, {0, 3}, {2147483647, 2}, {-2147483648, 7}]).

scalars(#{c := C, m := M}) ->
    Labs = bind(C, "long labs(long j)"),
    Llabs = bind(C, "long long llabs(long long j)"),
    Fabs = bind(M, "double fabs(double x)"),
    Fabsf = bind(M, "float fabsf(float x)"),
    Abs = bind(C, "int abs(int j)"),
    [?assertEqual(abs(X), nocopy_ffi:call(Labs, [X])) || X <- [0, -1, 5, -(1 bsl 62)]],
    ?assertEqual(1 bsl 62, nocopy_ffi:call(Llabs, [-(1 bsl 62)])),
    ?assertEqual(2.5, nocopy_ffi:call(Fabs, [-2.5])),
    ?assertEqual(3.0, nocopy_ffi:call(Fabs, [-3])),                % integers are numbers
    ?assertEqual(0.5, nocopy_ffi:call(Fabsf, [-0.5])),
    ?assertEqual(7, nocopy_ffi:call(Abs, [-7])),
    %% void and no parameters: srand and rand repeat a sequence
    {ok, #{srand := Srand, rand := Rand}} = nocopy_ffi:cdef(C, "void srand(unsigned int seed); int rand(void);"),
    ?assertEqual(ok, nocopy_ffi:call(Srand, [42])),
    R1 = [nocopy_ffi:call(Rand, []) || _ <- lists:seq(1, 5)],
    ok = nocopy_ffi:call(Srand, [42]),
    ?assertEqual(R1, [nocopy_ffi:call(Rand, []) || _ <- lists:seq(1, 5)]),
    ?assertMatch({_, #{2 := "element 1 (int j): expected an integer in -2147483648..2147483647, got: 2147483648"}},
                 arg_error(fun() -> nocopy_ffi:call(Abs, [1 bsl 31]) end)),
    ?assertMatch({_, #{2 := "element 1 (unsigned int seed): expected an integer in 0..4294967295, got: -1"}},
                 arg_error(fun() -> nocopy_ffi:call(Srand, [-1]) end)).

%% The shortest path (integers in and out, nc_ffi_call.c's call_ints): each
%% type's range checked at its edges, and results narrowed to their C type
%% (sign-extended for int, zero-extended for unsigned) whatever the upper bits
%% of the register hold; the same through a list (a dirty scheduler).
narrow(#{c := C}) ->
    Htons = bind(C, "uint16_t htons(uint16_t hostshort)"),
    Htonl = bind(C, "uint32_t htonl(uint32_t hostlong)"),
    Toupper = bind(C, "int toupper(int c)"),
    Ffsll = bind(C, "int ffsll(long long i)"),
    Abs = bind(C, "int abs(int j)"),
    AbsDirty = bind(C, "int abs(int j)", #{sched => dirty_cpu}),
    <<Swapped:16/little>> = <<16#1234:16/big>>,
    ?assertEqual(Swapped, nocopy_ffi:call(Htons, [16#1234])),
    ?assertEqual(16#ffff, nocopy_ffi:call(Htons, [16#ffff])),
    ?assertEqual(0, nocopy_ffi:call(Htons, [0])),
    ?assertEqual(16#80000000, nocopy_ffi:call(Htonl, [16#80])),     % zero-extended
    ?assertEqual(16#80, nocopy_ffi:call(Htonl, [16#80000000])),
    ?assertEqual(-1, nocopy_ffi:call(Toupper, [-1])),                % EOF, sign-extended
    ?assertEqual($A, nocopy_ffi:call(Toupper, [$a])),
    ?assertEqual(64, nocopy_ffi:call(Ffsll, [-(1 bsl 63)])),
    ?assertEqual(1, nocopy_ffi:call(Ffsll, [(1 bsl 63) - 1])),
    [?assertEqual(abs(X), nocopy_ffi:call(F, [X])) || F <- [Abs, AbsDirty],
                                                   X <- [-2147483647, 2147483647, -1, 0]],
    [?assertError(badarg, nocopy_ffi:call(F, [X])) || {F, X} <- [{Htons, 16#10000}, {Htons, -1},
                                                                 {Htonl, 1 bsl 32}, {Abs, 1 bsl 31},
                                                                 {Abs, -(1 bsl 31) - 1}, {AbsDirty, 1 bsl 31},
                                                                 {Ffsll, 1 bsl 63}, {Ffsll, -(1 bsl 63) - 1},
                                                                 {Htons, 1.0}, {Abs, <<>>}]],
    ?assertMatch({_, #{2 := "element 1 (uint16_t hostshort): expected an integer in 0..65535, got: 65536"}},
                 arg_error(fun() -> nocopy_ffi:call(Htons, [16#10000]) end)),
    ?assertMatch({_, #{2 := "element 1 (long long i): expected an integer in -9223372036854775808..9223372036854775807, got: 9223372036854775808"}},
                 arg_error(fun() -> nocopy_ffi:call(Ffsll, [1 bsl 63]) end)).

snprintf(#{c := C}) ->
    Sn = bind(C, "int snprintf(char *str, size_t size, const char *format, ...)",
              #{out => #{str => size}, len => #{str => nul},
                varargs => ["int", "double", "const char *", "long"]}),
    lists:foreach(
      fun({I, D, S, L}) ->
              Want = iolist_to_binary(io_lib:format("~b|~.3f|~s|~b", [I, D, S, L])),
              Size = byte_size(Want) + 1,
              ?assertEqual({byte_size(Want), Want},
                           nocopy_ffi:call(Sn, [Size, <<"%d|%.3f|%s|%ld">>, I, D, S, L])),
              %% truncated: snprintf says how much it wanted; the buffer holds size - 1
              ?assertEqual({byte_size(Want), binary:part(Want, 0, 3)},
                           nocopy_ffi:call(Sn, [4, <<"%d|%.3f|%s|%ld">>, I, D, S, L]))
      end, [{42, 3.14159, <<"hi">>, -1}, {-7, 0.0005, <<"">>, 1 bsl 40}]).

cdef(#{z := Z}) ->
    Snippet = "typedef unsigned long uLong; enum level { NONE = 0, FAST = 1, BEST = 9, DEF = -1 };"
              "uLong crc32(uLong crc, const unsigned char *buf, unsigned int len);"
              "uLong adler32(uLong adler, const unsigned char *buf, unsigned int len);"
              "const char *zlibVersion(void);",
    {ok, Fns} = nocopy_ffi:cdef(Z, Snippet),
    ?assertEqual([adler32, crc32, zlibVersion], lists:sort(maps:keys(Fns))),
    B = data(1000),
    ?assertEqual(erlang:crc32(B), nocopy_ffi:call(maps:get(crc32, Fns), [0, B, 1000])),
    ?assertMatch(<<"1.", _/binary>>, nocopy_ffi:call(maps:get(zlibVersion, Fns), [])),
    ?assertEqual({ok, #{'NONE' => 0, 'FAST' => 1, 'BEST' => 9, 'DEF' => -1}},
                 nocopy_ffi:constants(Snippet)),
    ?assertMatch({error, {parse, 1, _, _}}, nocopy_ffi:cdef(Z, "int f(")),
    %% the function that cannot be bound is named; options apply per function,
    %% and a variadic one given its extra types binds with the rest
    ?assertEqual({error, {nothere, {undefined_symbol, <<"nothere">>}}},
                 nocopy_ffi:cdef(Z, "int nothere(int); " ++ Snippet)),
    ?assertMatch({error, {crc32, {unsupported, _}}},
                 nocopy_ffi:cdef(Z, Snippet, #{crc32 => #{bound => #{nobuf => len}}})),
    {ok, C} = nocopy_ffi:open(?LIBC, backend_opts(Z)),
    {ok, #{snprintf := Sn, strlen := Strlen}} =
        nocopy_ffi:cdef(C, "int snprintf(char *str, size_t size, const char *format, ...);"
                           "size_t strlen(const char *s);",
                        #{snprintf => #{out => #{str => size}, len => #{str => nul},
                                        varargs => ["int"]},
                          "strlen" => #{errno => true}}),
    ?assertEqual({2, <<"42">>}, nocopy_ffi:call(Sn, [8, <<"%d">>, 42])),
    ?assertEqual({3, 0}, nocopy_ffi:call(Strlen, [<<"abc">>])),
    ?assertError(badarg, nocopy_ffi:cdef(Z, Snippet, #{crc32 => #{sched => fast}})),
    ?assertError(badarg, nocopy_ffi:cdef(Z, Snippet, not_a_map)),
    ?assertError(badarg, nocopy_ffi:cdef(not_a_lib, Snippet, #{})).

%% fclose flushes: the file holds what fwrite wrote only once the destructor
%% has run, and a second fclose of the same FILE would be a double free.
files(#{c := C}) ->
    {ok, #{fclose := Fclose, fwrite := Fwrite, closedir := Closedir}} = nocopy_ffi:cdef(C, ?STDIO),
    Fopen = bind(C, ?STDIO, #{name => fopen, destructor => Fclose}),
    Base = live_pointers(C),
    Path = tmp_file("w"),
    F = nocopy_ffi:call(Fopen, [list_to_binary(Path), <<"w">>]),
    ?assertEqual(Base + 1, live_pointers(C)),
    Data = data(100000),
    ?assertEqual(100000, nocopy_ffi:call(Fwrite, [Data, 1, 100000, F])),
    %% a FILE is not a DIR
    ?assertMatch({_, #{2 := "element 1 (DIR *dirp): expected a __dirstream handle or null" ++ _}},
                 arg_error(fun() -> nocopy_ffi:call(Closedir, [F]) end)),
    ok = nocopy_ffi:release(F),
    ?assertEqual(Base, live_pointers(C)),
    ?assertEqual({ok, Data}, file:read_file(Path)),
    ?assertError(badarg, nocopy_ffi:release(F)),
    ?assertMatch({_, #{2 := "element 4 (FILE *stream): expected a _IO_FILE handle or null" ++ _}},
                 arg_error(fun() -> nocopy_ffi:call(Fwrite, [Data, 1, 1, F]) end)),
    ?assertEqual(null, nocopy_ffi:call(Fopen, [<<"/nonexistent/dir/file">>, <<"r">>])),
    %% a destructor must fit: one parameter, the same struct
    ?assertMatch({error, {unsupported, <<"the destructor fwrite must take one struct _IO_FILE *", _/binary>>}},
                 nocopy_ffi:bind(C, ?STDIO, #{name => fopen, destructor => Fwrite})),
    ?assertMatch({error, {unsupported, <<"a destructor is for functions that return", _/binary>>}},
                 nocopy_ffi:bind(C, ?STDIO, #{name => fwrite, destructor => Fclose})),
    ok = file:delete(Path).

live_pointers({nocopy_ffi_lib, nif, _}) -> nc_ffi:live_pointers();
live_pointers({nocopy_ffi_lib, {iso, I}, _}) -> nc_ffi_iso:live_pointers(I);
live_pointers({nocopy_ffi_lib, Port, _}) -> nc_ffi_drv:live_pointers(Port).

-define(TM, "typedef long time_t; struct tm { int tm_sec; int tm_min; int tm_hour; int tm_mday;"
            " int tm_mon; int tm_year; int tm_wday; int tm_yday; int tm_isdst; long tm_gmtoff;"
            " const char *tm_zone; };"
            "struct tm *gmtime_r(const time_t *timep, struct tm *result);"
            "time_t timegm(struct tm *tm);").

times(#{c := C}) ->
    {ok, #{gmtime_r := Gm, timegm := Tg}} =
        nocopy_ffi:cdef(C, ?TM, #{timegm => #{inout => [tm]}}),
    lists:foreach(
      fun(T) ->
              {{Y, Mo, D}, {H, Mi, S}} = calendar:system_time_to_universal_time(T, second),
              Want = #{tm_year => Y - 1900, tm_mon => Mo - 1, tm_mday => D, tm_hour => H,
                       tm_min => Mi, tm_sec => S, tm_wday => calendar:day_of_the_week(Y, Mo, D) rem 7,
                       tm_yday => calendar:date_to_gregorian_days(Y, Mo, D) -
                                  calendar:date_to_gregorian_days(Y, 1, 1)},
              {Ret, Out} = nocopy_ffi:call(Gm, [<<T:64/native-signed>>]),
              ?assertEqual(Want, maps:with(maps:keys(Want), Out)),
              ?assertEqual(Out, Ret),             % gmtime_r returns its result
              %% timegm inverts it, and normalises: day 0 of a month is the last of the one before
              In = maps:merge(Out, #{tm_zone => null, tm_isdst => 0, tm_gmtoff => 0}),
              ?assertMatch({T, #{tm_year := _}}, nocopy_ffi:call(Tg, [In])),
              {T1, Norm} = nocopy_ffi:call(Tg, [In#{tm_mday => 0}]),
              ?assertEqual(T - (D * 86400), T1),
              ?assertEqual(calendar:system_time_to_universal_time(T1, second),
                           {{maps:get(tm_year, Norm) + 1900, maps:get(tm_mon, Norm) + 1,
                             maps:get(tm_mday, Norm)}, {H, Mi, S}})
      end, [0, 951782400, 1700000000, rand:uniform(4000000000)]),
    %% a struct given as a tuple of its fields works too; a wrong one is named
    ?assertMatch({_, #{2 := "element 1 (struct tm *tm): expected a struct: a map of its 11 fields" ++ _}},
                 arg_error(fun() -> nocopy_ffi:call(Tg, [#{tm_sec => 1}]) end)).

%% With {bound, buf, len} a len past the binary would make zlib read past
%% it: badarg naming len, before C runs (the VM is still here to see it).
%% Exact and shorter lengths are checksums of that prefix.
bounds(#{z := Z} = S) ->
    Opts = #{bound => #{buf => len}},
    {ok, #{crc32 := Crc, adler32 := Adler}} =
        nocopy_ffi:cdef(Z, ?ZSUMS, #{crc32 => Opts, adler32 => Opts}),
    lists:foreach(
      fun(N) ->
              B = data(N),
              ?assertEqual(erlang:crc32(B), nocopy_ffi:call(Crc, [0, B, N])),
              ?assertEqual(erlang:adler32(B), nocopy_ffi:call(Adler, [1, B, N])),
              Short = N div 3,
              ?assertEqual(erlang:crc32(binary:part(B, 0, Short)), nocopy_ffi:call(Crc, [0, B, Short])),
              ?assertEqual(erlang:adler32(binary:part(B, 0, Short)), nocopy_ffi:call(Adler, [1, B, Short])),
              Want = lists:flatten(io_lib:format("element 3 (unsigned int len): expected an integer in "
                                                 "0..~b (the size of const Bytef *buf, in bytes), got: ~b",
                                                 [N, N + 1])),
              ?assertEqual({nocopy_ffi, #{2 => Want}}, arg_error(fun() -> nocopy_ffi:call(Crc, [0, B, N + 1]) end)),
              ?assertEqual({nocopy_ffi, #{2 => Want}}, arg_error(fun() -> nocopy_ffi:call(Adler, [1, B, N + 1]) end)),
              %% far past: what would read unmapped memory
              ?assertMatch({nocopy_ffi, #{2 := "element 3 (unsigned int len): expected an integer in 0.." ++ _}},
                           arg_error(fun() -> nocopy_ffi:call(Crc, [0, B, 1 bsl 31]) end))
      end, [0, 1, 64, 65, 4096, 1 bsl 20]),
    %% a sub-binary's own size counts, not its parent's
    Parent = data(1000),
    Sub = binary:part(Parent, 10, 100),
    ?assertEqual(erlang:crc32(Sub), nocopy_ffi:call(Crc, [0, Sub, 100])),
    ?assertMatch({_, #{2 := "element 3 (unsigned int len): expected an integer in 0..100 " ++ _}},
                 arg_error(fun() -> nocopy_ffi:call(Crc, [0, Sub, 101]) end)),
    %% null has no bytes: only 0 (zlib's crc32(0, NULL, 0) is its initial value)
    ?assertEqual(0, nocopy_ffi:call(Crc, [0, null, 0])),
    ?assertMatch({_, #{2 := "element 3 (unsigned int len): expected an integer in 0..0 " ++ _}},
                 arg_error(fun() -> nocopy_ffi:call(Crc, [0, null, 1]) end)),
    %% without the option the length is not checked (the documented hole):
    %% only a safe call here, to show the option is what adds the check
    Plain = bind(Z, ?ZSUMS, #{name => crc32}),
    ?assertEqual(erlang:crc32(<<"ab">>), nocopy_ffi:call(Plain, [0, <<"abc">>, 2])),
    %% a length counts elements of const T *: memchr's n against a const int *
    %% is in ints (a signed size_t-like long here, so negatives are refused too)
    {ok, C} = nocopy_ffi:open(?LIBC, backend_opts(Z)),
    Wmem = bind(C, "int *wmemchr(const int *s, int c, long n)", #{bound => #{s => n}}),
    Ints = placed(S, << <<I:32/native>> || I <- lists:seq(1, 100) >>),
    ?assertEqual(c_address(S, Ints) + 4 * 99, nocopy_ffi:call(Wmem, [Ints, 100, 100])),
    ?assertEqual(0, nocopy_ffi:call(Wmem, [Ints, 100, 99])),
    ?assertMatch({_, #{2 := "element 3 (long n): expected an integer in 0..100 (the size of const int *s, in elements), got: 101"}},
                 arg_error(fun() -> nocopy_ffi:call(Wmem, [Ints, 100, 101]) end)),
    ?assertMatch({_, #{2 := "element 3 (long n): expected an integer in 0..100 " ++ _}},
                 arg_error(fun() -> nocopy_ffi:call(Wmem, [Ints, 100, -1]) end)),
    %% a partial last element is not one: 401 bytes hold 100 ints
    <<Ints401:401/binary, _/binary>> = <<Ints/binary, 0, 0, 0, 0>>,
    ?assertMatch({_, #{2 := "element 3 (long n): expected an integer in 0..100 " ++ _}},
                 arg_error(fun() -> nocopy_ffi:call(Wmem, [Ints401, 100, 101]) end)),
    %% one length bounding two buffers: memcmp's n against both
    Memcmp = bind(C, "int memcmp(const void *a, const void *b, size_t n)",
                  #{bound => #{a => n, b => n}}),
    ?assertEqual(0, nocopy_ffi:call(Memcmp, [<<"abcd">>, <<"abce">>, 3])),
    ?assertMatch({_, #{2 := "element 3 (size_t n): expected an integer in 0..2 (the size of const void *b, in bytes)" ++ _}},
                 arg_error(fun() -> nocopy_ffi:call(Memcmp, [<<"abcd">>, <<"ab">>, 3]) end)),
    %% the generated module names the argument of crc32/3 itself
    {ok, zlib_ffi_bound} = nocopy_ffi:module(zlib_ffi_bound, Z, ?ZSUMS, #{crc32 => Opts}),
    try
        ?assertEqual(erlang:crc32(<<"xyz">>), zlib_ffi_bound:crc32(0, <<"xyz">>, 3)),
        ?assertEqual({zlib_ffi_bound, #{3 => "expected an integer in 0..3 (the size of const Bytef *buf, in bytes) (unsigned int len), got: 4"}},
                     arg_error(fun() -> zlib_ffi_bound:crc32(0, <<"xyz">>, 4) end))
    after
        nocopy_ffi:delete_module(zlib_ffi_bound)
    end.

%% {fill, len}: crc32(Crc, Bin) with len from byte_size(Bin), against
%% erlang:crc32 (and chained: erlang:crc32/2 continues a running value).
fills(#{z := Z, c := C} = S) ->
    Opts = #{bound => #{buf => len}, fill => [len]},
    {ok, #{crc32 := Crc, adler32 := Adler}} =
        nocopy_ffi:cdef(Z, ?ZSUMS, #{crc32 => Opts, adler32 => Opts}),
    ?assertMatch(#{inputs := [{<<"crc">>, _, _}, {<<"buf">>, _, _}]}, nocopy_ffi:info(Crc)),
    lists:foreach(
      fun(N) ->
              B = data(N),
              ?assertEqual(erlang:crc32(B), nocopy_ffi:call(Crc, [0, B])),
              ?assertEqual(erlang:adler32(B), nocopy_ffi:call(Adler, [1, B])),
              H = N div 2,
              <<B1:H/binary, B2/binary>> = B,
              ?assertEqual(erlang:crc32(erlang:crc32(B1), B2),
                           nocopy_ffi:call(Crc, [nocopy_ffi:call(Crc, [0, B1]), B2]))
      end, [0, 1, 64, 65, 4096, 1 bsl 20]),
    ?assertEqual(0, nocopy_ffi:call(Crc, [0, null])),
    %% the length is no longer a value: three are too many
    ?assertMatch({_, #{2 := "expected a list of 2 values (crc, buf) for crc32, got: [0,<<\"a\">>,1]"}},
                 arg_error(fun() -> nocopy_ffi:call(Crc, [0, <<"a">>, 1]) end)),
    %% a binary the length's type cannot count: int8_t holds 127 at most
    Memchr = bind(C, "void *memchr(const void *s, int c, int8_t n)", #{bound => #{s => n}, fill => [n]}),
    B127 = placed(S, <<(binary:copy(<<"a">>, 126))/binary, "z">>),
    ?assertEqual(c_address(S, B127) + 126, nocopy_ffi:call(Memchr, [B127, $z])),
    ?assertMatch({_, #{2 := "element 1 (const void *s): expected a buffer of at most 127 elements (its size is given as int8_t n)" ++ _}},
                 arg_error(fun() -> nocopy_ffi:call(Memchr, [<<B127/binary, "!">>, $z]) end)),
    %% a filled length sizes an out-buffer: memcpy(dest, src, n) as copy(Src)
    Memcpy = bind(C, "void *memcpy(void *dest, const void *src, size_t n)",
                  #{out => #{dest => n}, bound => #{src => n}, fill => [n]}),
    Src = data(100000),
    {Dest, Out} = nocopy_ffi:call(Memcpy, [Src]),
    ?assertEqual(Src, Out),
    ?assertEqual(Dest, c_address(S, Out)),
    %% the generated module has crc32/2
    {ok, zlib_ffi_fill} = nocopy_ffi:module(zlib_ffi_fill, Z, ?ZSUMS, #{crc32 => Opts}),
    try
        B = data(5000),
        ?assertEqual(erlang:crc32(B), zlib_ffi_fill:crc32(0, B)),
        ?assert(erlang:function_exported(zlib_ffi_fill, crc32, 2)),
        ?assert(erlang:function_exported(zlib_ffi_fill, adler32, 3))
    after
        nocopy_ffi:delete_module(zlib_ffi_fill)
    end.

%% An out-buffer of a fixed size and the length C writes: memcpy into 64
%% bytes with n > 64 would write past it.
bound_outs(#{c := C, z := Z}) ->
    Memcpy = bind(C, "void *memcpy(void *dest, const void *src, size_t n)",
                  #{out => #{dest => 64}, bound => #{dest => n, src => n}}),
    Src = data(100),
    {_, Out} = nocopy_ffi:call(Memcpy, [Src, 64]),
    ?assertEqual(binary:part(Src, 0, 64), Out),
    {_, Out10} = nocopy_ffi:call(Memcpy, [Src, 10]),
    ?assertEqual(<<(binary:part(Src, 0, 10))/binary, 0:(54 * 8)>>, Out10),
    ?assertMatch({_, #{2 := "element 2 (size_t n): expected an integer in 0..64 (the size of out-buffer void *dest), got: 65"}},
                 arg_error(fun() -> nocopy_ffi:call(Memcpy, [Src, 65]) end)),
    %% an in-out length (zlib's destLen) against a fixed out-buffer
    Unc = bind(Z, "typedef unsigned char Bytef; typedef unsigned long uLong; typedef uLong uLongf;"
                  "int uncompress(Bytef *dest, uLongf *destLen, const Bytef *source, uLong sourceLen);",
               #{out => #{dest => 1000}, inout => [destLen], len => #{dest => destLen},
                 bound => #{dest => destLen, source => sourceLen}}),
    Plain = data(700),
    Packed = zlib:compress(Plain),
    ?assertEqual({0, Plain, 700}, nocopy_ffi:call(Unc, [1000, Packed, byte_size(Packed)])),
    ?assertMatch({_, #{2 := "element 1 (uLongf *destLen): expected an integer in 0..1000 (the size of out-buffer Bytef *dest), got: 1001"}},
                 arg_error(fun() -> nocopy_ffi:call(Unc, [1001, Packed, byte_size(Packed)]) end)),
    %% options that cannot hold are refused at bind
    Crc = "unsigned long crc32(unsigned long crc, const unsigned char *buf, unsigned int len)",
    ?assertMatch({error, {unsupported, <<"an option names nothere", _/binary>>}},
                 nocopy_ffi:bind(Z, Crc, #{bound => #{buf => nothere}})),
    ?assertMatch({error, {unsupported, <<"unsigned long crc: bound is for const buffers and out-buffers">>}},
                 nocopy_ffi:bind(Z, Crc, #{bound => #{crc => len}})),
    ?assertMatch({error, {unsupported, <<"const unsigned char *buf: a bound must be an integer parameter">>}},
                 nocopy_ffi:bind(Z, Crc, #{bound => #{buf => buf}})),
    ?assertMatch({error, {unsupported, <<"unsigned int len: fill needs", _/binary>>}},
                 nocopy_ffi:bind(Z, Crc, #{fill => [len]})),
    ?assertMatch({error, {unsupported, <<"size_t n: fill needs", _/binary>>}},
                 nocopy_ffi:bind(C, "int memcmp(const void *a, const void *b, size_t n)",
                                 #{bound => #{a => n, b => n}, fill => [n]})),
    ?assertMatch({error, {unsupported, <<"size_t n: fill needs", _/binary>>}},
                 nocopy_ffi:bind(C, "void *memcpy(void *dest, const void *src, size_t n)",
                                 #{out => #{dest => 64}, bound => #{dest => n}, fill => [n]})),
    ?assertError(badarg, nocopy_ffi:bind(Z, Crc, #{bound => [buf]})),
    ?assertError(badarg, nocopy_ffi:bind(Z, Crc, #{fill => len})).


bad_calls(#{backend := Backend, z := Z, c := C}) ->
    Crc = bind(Z, "unsigned long crc32(unsigned long crc, const unsigned char *buf, unsigned int len)"),
    B = data(100),
    Cases = [{[0, foo, 3], 2, "element 2 (const unsigned char *buf): expected a binary or null, got: foo"},
             {[-1, B, 3], 2, "element 1 (unsigned long crc): expected an integer in 0..18446744073709551615, got: -1"},
             {[0, B, 1 bsl 32], 2, "element 3 (unsigned int len): expected an integer in 0..4294967295, got: 4294967296"},
             {[0, B, 1.0], 2, "element 3 (unsigned int len): expected an integer in 0..4294967295, got: 1.0"},
             {[0, B], 2, "expected a list of 3 values (crc, buf, len) for crc32"},
             {[0, B, 3, 4], 2, "expected a list of 3 values (crc, buf, len) for crc32"},
             {not_a_list, 2, "expected a proper list"}],
    lists:foreach(
      fun({Args, N, Want}) ->
              {Mod, Map} = arg_error(fun() -> nocopy_ffi:call(Crc, Args) end),
              ?assertEqual(nocopy_ffi, Mod),
              ?assertEqual([N], maps:keys(Map)),
              ?assertEqual(Want, lists:sublist(maps:get(N, Map), length(Want)))
      end, Cases),
    %% a misaligned const int * (a sub-binary at an odd offset): a small one
    %% is copied (memchr then finds the byte at another address), a large one
    %% refused
    Bs = bind(C, "void *memchr(const int *s, int c, size_t n)"),
    <<_, Odd:4096/binary, _/binary>> = <<0, 1, 7, (data(5000))/binary>>,
    ?assertNotEqual(nocopy_ffi:address(Odd) + 1, nocopy_ffi:call(Bs, [Odd, 7, 4])),
    ?assertNotEqual(0, nocopy_ffi:call(Bs, [Odd, 7, 4])),
    <<_, OddBig:4097/binary, _/binary>> = <<0, 1, 7, (data(5000))/binary>>,
    case Backend of
        {iso, _} ->   % copied into the isolate's region, which aligns it
            ?assert(is_integer(nocopy_ffi:call(Bs, [OddBig, 0, 4])));
        _ ->
            ?assertMatch({_, #{2 := "element 1 (const int *s): expected a binary aligned to 4 bytes" ++ _}},
                         arg_error(fun() -> nocopy_ffi:call(Bs, [OddBig, 0, 4]) end))
    end,
    %% int8_t and float ranges; only null for a pointer to a pointer
    Sc = bind(C, "long strtol(const char *nptr, char **endptr, int base)"),
    ?assertMatch({_, #{2 := "element 2 (char **endptr): expected null" ++ _}},
                 arg_error(fun() -> nocopy_ffi:call(Sc, [<<"1">>, 0, 10]) end)),
    ?assertMatch({_, #{2 := "element 3 (int base): expected an integer in -2147483648..2147483647" ++ _}},
                 arg_error(fun() -> nocopy_ffi:call(Sc, [<<"1">>, null, 1 bsl 31]) end)),
    {ok, M} = nocopy_ffi:open(?LIBM, backend_opts(C)),
    Fabsf = bind(M, "float fabsf(float x)"),
    ?assertMatch({_, #{2 := "element 1 (float x): expected a number within float's range" ++ _}},
                 arg_error(fun() -> nocopy_ffi:call(Fabsf, [1.0e300]) end)),
    %% not a function at all
    ?assertMatch({_, #{1 := "expected a function from nocopy_ffi:bind/2,3" ++ _}},
                 arg_error(fun() -> nocopy_ffi:call(make_ref(), []) end)).

backend_opts({nocopy_ffi_lib, nif, _}) -> #{backend => nif};
backend_opts({nocopy_ffi_lib, {iso, I}, _}) -> #{backend => {iso, I}};
backend_opts({nocopy_ffi_lib, Port, _}) -> #{backend => {drv, Port}}.

bad_binds(#{z := Z, c := C}) ->
    ?assertEqual({error, {parse, 1, 12, <<"expected ',' or ')', got the end">>}},
                 nocopy_ffi:bind(Z, "int f(int x")),
    ?assertEqual({error, {parse, 2, 10, <<"expected ',' or ')', got 'c'">>}},
                 nocopy_ffi:bind(Z, "int f(int a,\n float b c);")),
    ?assertEqual({error, {undefined_symbol, <<"no_such_function">>}},
                 nocopy_ffi:bind(Z, "int no_such_function(int)")),
    ?assertMatch({error, {unsupported, <<"Bytef *dest: C may write there", _/binary>>}},
                 nocopy_ffi:bind(Z, "typedef unsigned char Bytef; int uncompress(Bytef *dest,"
                                    " unsigned long *destLen, const Bytef *source, unsigned long sourceLen);")),
    ?assertMatch({error, {unsupported, <<"an option names nothere", _/binary>>}},
                 nocopy_ffi:bind(C, "size_t strlen(const char *s)", #{inout => [nothere]})),
    ?assertMatch({error, {unsupported, <<"size \"n +\"", _/binary>>}},
                 nocopy_ffi:bind(C, "void *memcpy(void *dest, const void *src, size_t n)",
                                 #{out => #{dest => "n +"}})),
    ?assertMatch({error, {unsupported, <<"the declarations declare 2 functions", _/binary>>}},
                 nocopy_ffi:bind(C, "int abs(int); long labs(long);")),
    ?assertMatch({error, {parse, _, _, <<"in the variadic types: ", _/binary>>}},
                 nocopy_ffi:bind(C, "int printf(const char *f, ...)", #{varargs => ["int int"]})),
    %% bad options are badarg on argument 3
    ?assertError(badarg, nocopy_ffi:bind(C, "int abs(int)", #{sched => fast})),
    ?assertError(badarg, nocopy_ffi:bind(C, "int abs(int)", #{out => [x]})),
    ?assertError(badarg, nocopy_ffi:bind(C, "int abs(int)", not_a_map)),
    ?assertError(badarg, nocopy_ffi:bind(not_a_lib, "int abs(int)", #{})).

closed(#{backend := Backend}) ->
    {ok, C} = nocopy_ffi:open(?LIBC, #{backend => Backend}),
    Labs = bind(C, "long labs(long j)"),
    ?assertEqual(3, nocopy_ffi:call(Labs, [-3])),
    ok = nocopy_ffi:close(C),
    ?assertError(badarg, nocopy_ffi:close(C)),
    ?assertMatch({_, #{1 := "expected a function of an open library" ++ _}},
                 arg_error(fun() -> nocopy_ffi:call(Labs, [-3]) end)),
    ?assertError(badarg, nocopy_ffi:bind(C, "long labs(long j)")),
    ?assertMatch({error, {dlopen, _}}, nocopy_ffi:open("/nonexistent/libnothing.so", #{backend => Backend})).
