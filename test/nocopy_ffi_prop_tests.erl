%% nocopy_ffi_prop_tests: properties (PropEr) of the run-time FFI, run by EUnit.
%%
%% - Random prototypes: a return type, 0 to 10 parameters of random C types
%%   (named or not, spelled with random spaces, comments and const
%%   placements), bound to libc's `labs' symbol (bind never calls it, so any
%%   prototype is harmless) and compared with a model written here from
%%   docs/ffi.md's type mapping: each input's Erlang type, each output, or
%%   the refusal of a pointer C could write through.
%% - Random texts made by damaging a valid one: the parse either succeeds or
%%   names a line and column inside the text; nothing else.
%% - Random arguments: labs on any integer (its value, or badarg naming the
%%   range), crc32 on random binaries and sub-binaries against erlang:crc32,
%%   snprintf with random integers and strings against io_lib.
%%
%% Cases per property: NOCOPY_PROPER_NUMTESTS (default 100).
-module(nocopy_ffi_prop_tests).

-include_lib("eunit/include/eunit.hrl").
-include("nocopy_proper.hrl").

-import(proper_types, [integer/0, integer/2, binary/0, list/1, vector/2, elements/1,
                       oneof/1, boolean/0, range/2]).

props_test_() ->
    N = nocopy_test_lib:proper_numtests(),
    {setup, fun setup/0, fun(_) -> ok end,
     fun(S) ->
             [{timeout, 120, {Title, fun() -> ?assert(proper:quickcheck(P(S), [{numtests, N}, {max_shrinks, 200}, quiet, long_result]) =:= true) end}}
              || {Title, P} <- [{"random prototypes bind as the type mapping says", fun prop_prototypes/1},
                                {"damaged texts: parsed, or refused at a position inside", fun prop_damaged/1},
                                {"labs on any integer", fun prop_labs/1},
                                {"crc32 on random (sub-)binaries = erlang:crc32", fun prop_crc32/1},
                                {"snprintf with random values = io_lib", fun prop_snprintf/1}]]
     end}.

setup() ->
    {ok, C} = nocopy_ffi:open("libc.so.6"),
    {ok, Z} = nocopy_ffi:open("libz.so.1"),
    {ok, Labs} = nocopy_ffi:bind(C, "long labs(long j)"),
    {ok, Crc} = nocopy_ffi:bind(Z, "unsigned long crc32(unsigned long crc, const unsigned char *buf, unsigned int len)"),
    {ok, Sn} = nocopy_ffi:bind(C, "int snprintf(char *str, size_t size, const char *format, ...)",
                               #{out => #{str => size}, len => #{str => nul},
                                 varargs => ["long long", "const char *"]}),
    #{c => C, labs => Labs, crc => Crc, snprintf => Sn}.

%% ---- random prototypes --------------------------------------------------------------

%% {Spelling, Model}: Model is {in, ErlangType} | {out, ErlangType} | refused.
scalars() ->
    [{"char", s(1)}, {"signed char", s(1)}, {"unsigned char", u(1)}, {"short", s(2)},
     {"short int", s(2)}, {"unsigned short", u(2)}, {"int", s(4)}, {"signed", s(4)},
     {"unsigned", u(4)}, {"unsigned int", u(4)}, {"long", s(8)}, {"long int", s(8)},
     {"unsigned long", u(8)}, {"long long", s(8)}, {"unsigned long long", u(8)},
     {"int8_t", s(1)}, {"uint8_t", u(1)}, {"int16_t", s(2)}, {"uint16_t", u(2)},
     {"int32_t", s(4)}, {"uint32_t", u(4)}, {"int64_t", s(8)}, {"uint64_t", u(8)},
     {"size_t", u(8)}, {"ssize_t", s(8)}, {"_Bool", "boolean()"}, {"bool", "boolean()"},
     {"float", "number()"}, {"double", "number()"}].

s(N) -> lists:flatten(io_lib:format("~b..~b", [-(1 bsl (8 * N - 1)), (1 bsl (8 * N - 1)) - 1])).
u(N) -> lists:flatten(io_lib:format("0..~b", [(1 bsl (8 * N)) - 1])).

param_type() ->
    oneof([?LET({T, M}, elements(scalars()), {[T], {in, M}}),
           ?LET(T, elements(["char", "void", "unsigned char", "int", "double", "uint8_t"]),
                oneof([{["const ", T, " *"], {in, "binary() | null"}},
                       {[T, " const *"], {in, "binary() | null"}}])),
           ?LET({T, M}, elements([X || {_, M0} = X <- scalars(), M0 =/= s(1), M0 =/= u(1),
                                       M0 =/= "boolean()"]),
                {[T, " *"], {out, M}}),
           {["char **"], {in, "null"}},
           ?LET(T, elements(["char", "void", "unsigned char"]), {[T, " *"], refused})]).

ret_type() ->
    oneof([?LET({T, M}, elements(scalars()), {[T], M}),
           {["void"], "ok"}, {["const char *"], "binary() | null"}, {["void *"], "non_neg_integer()"}]).

blank() -> elements([" ", "  ", "\n", " /* c */ ", "\t"]).

prototype() ->
    ?LET({Ret, Params, Named, Blanks},
         {ret_type(), vector_upto(10, param_type()), boolean(), vector(24, blank())},
         render(Ret, Params, Named, Blanks)).

vector_upto(Max, G) -> ?LET(N, range(0, Max), vector(N, G)).

render({RetT, RetM}, Params, Named, Blanks) ->
    B = fun(I) -> lists:nth(1 + (I rem length(Blanks)), Blanks) end,
    Ps = [[T, B(I), case Named of true -> ["p", integer_to_list(I)]; false -> [] end]
          || {{T, _}, I} <- lists:zip(Params, lists:seq(1, length(Params)))],
    Text = lists:flatten([RetT, " ", B(0), "labs", B(1), "(",
                          case Ps of [] -> "void"; _ -> lists:join([",", B(2)], Ps) end,
                          ")", B(3), ";"]),
    {Text, RetM, [M || {_, M} <- Params]}.

prop_prototypes(#{c := C}) ->
    ?FORALL({Text, RetM, Models}, prototype(),
            begin
                R = nocopy_ffi:bind(C, Text),
                case lists:member(refused, Models) of
                    true ->
                        ?WHENFAIL(io:format("~ts~n~p~n", [Text, R]),
                                  element(1, element(2, R)) =:= unsupported);
                    false ->
                        {ok, Fn} = R,
                        #{result := Ret, inputs := Ins, outputs := Outs} = nocopy_ffi:info(Fn),
                        Want = {RetM, [T || {in, T} <- Models], [T || {out, T} <- Models]},
                        Got = {binary_to_list(Ret), [binary_to_list(T) || {_, _, T} <- Ins],
                               [binary_to_list(T) || T <- Outs]},
                        ?WHENFAIL(io:format("~ts~nwant ~p~ngot  ~p~n", [Text, Want, Got]), Want =:= Got)
                end
            end).

%% ---- damaged texts --------------------------------------------------------------------

prop_damaged(_) ->
    ?FORALL({{Text, _, _}, Cuts}, {prototype(), list({integer(0, 300), range(0, 255)})},
            begin
                Damaged = damage(list_to_binary(Text), Cuts),
                case nc_ffi:decls(Damaged) of
                    {ok, Names, _} -> is_list(Names);
                    {error, {parse, L, Col, Msg}} ->
                        Lines = binary:split(Damaged, <<"\n">>, [global]),
                        ?WHENFAIL(io:format("~p: ~p:~p ~s~n", [Damaged, L, Col, Msg]),
                                  L >= 1 andalso L =< length(Lines) andalso Col >= 1 andalso
                                  Col =< byte_size(lists:nth(L, Lines)) + 1 andalso byte_size(Msg) > 0)
                end
            end).

damage(Bin, []) -> Bin;
damage(<<>>, _) -> <<>>;
damage(Bin, [{At, Byte} | Rest]) ->
    P = At rem byte_size(Bin),
    <<A:P/binary, _, B/binary>> = Bin,
    damage(<<A/binary, Byte, B/binary>>, Rest).

%% ---- random arguments ------------------------------------------------------------------

prop_labs(#{labs := Labs}) ->
    ?FORALL(X, oneof([integer(), integer(-(1 bsl 70), 1 bsl 70),
                      elements([-(1 bsl 63), (1 bsl 63) - 1, 1 bsl 63, -(1 bsl 63) - 1])]),
            try nocopy_ffi:call(Labs, [X]) of
                %% labs(LONG_MIN) overflows in C: any value, but no error
                V -> X >= -(1 bsl 63) andalso X < 1 bsl 63 andalso
                         (V =:= abs(X) orelse X =:= -(1 bsl 63))
            catch
                error:badarg:St ->
                    (X < -(1 bsl 63) orelse X >= 1 bsl 63) andalso
                    nocopy_ffi:format_error(badarg, St) =:=
                        #{2 => iolist_to_binary(["element 1 (long j): expected an integer in ",
                                                 s(8), ", got: ", integer_to_list(X)])}
            end).

prop_crc32(#{crc := Crc}) ->
    ?FORALL({B, Skip, Init}, {binary(), range(0, 70), integer(0, 16#ffffffff)},
            begin
                Big = <<(binary:copy(<<7>>, Skip))/binary, B/binary>>,
                Sub = binary:part(Big, Skip, byte_size(B)),       % a sub-binary at any offset
                nocopy_ffi:call(Crc, [Init, Sub, byte_size(Sub)]) =:= erlang:crc32(Init, Sub)
            end).

prop_snprintf(#{snprintf := Sn}) ->
    ?FORALL({I, S}, {integer(-(1 bsl 63), (1 bsl 63) - 1), list(range($a, $z))},
            begin
                Want = iolist_to_binary(io_lib:format("~b:~s", [I, S])),
                {Len, Got} = nocopy_ffi:call(Sn, [128, <<"%lld:%s">>, I, list_to_binary(S)]),
                Len =:= byte_size(Want) andalso
                    Got =:= binary:part(Want, 0, min(127, byte_size(Want)))
            end).
