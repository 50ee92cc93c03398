%% nocopy_prop_gen: the PropEr generators of nocopy_prop_tests.
%%
%% - any/1: any term, biased to what nocopy must get right: 64-bit edges and
%%   bignums, floats, atoms in and out of the tables, binaries of 0-70 and
%%   250-260 bytes (refc, sub-binaries at odd offsets, byte-sized binaries at
%%   bit offsets), bitstrings, deep nests, improper lists, iodata, pids, refs,
%%   maps, funs, and handles of every kind (of the wrong type, closed, forged,
%%   of another port), each registered in ?REG so that the model knows it;
%% - reader_arg/1 and result_case/0: the arguments of the reader property (the
%%   shapes the readers want, with one part wrong) and the cases of the result
%%   property (sizes at the heap/refc boundary and beyond any memory);
%% - mutated_request/1, lying_request/4, bad_ref_request/1: driver requests,
%%   damaged, lying about their sizes, or tagged with a reference the runtime
%%   refuses.
-module(nocopy_prop_gen).

-export([any/1, int/0, float_any/0, atom_any/0, reader_arg/1, result_case/0,
         mutated_request/1, lying_request/4, bad_ref_request/1]).

-include("nocopy_proper.hrl").

-import(proper_types, [integer/0, integer/2, float/0, list/1, nat/0, range/2, elements/1,
                       oneof/1, frequency/1, resize/2]).

%% After the imports: it defines functions.
-include("nocopy_prop_util.hrl").

%% Any term, biased to what nocopy must get right.
any(B) ->
    ?SIZED(S, any(B, min(S, 16))).

any(B, S) when S =< 1 ->
    leaf(B);
any(B, S) ->
    frequency([{8, leaf(B)},
               {2, ?LAZY(tuple_of(B, S))},
               {2, ?LAZY(list_of(B, S))},
               {1, ?LAZY(improper(B, S))},
               {2, ?LAZY(iodata(S))},
               {1, ?LAZY(deep(B))}]).

tuple_of(B, S) ->
    ?LET(L, resize(5, list(any(B, S div 3))), list_to_tuple(L)).

list_of(B, S) ->
    resize(5, list(any(B, S div 3))).

improper(B, S) ->
    ?LET({H, T}, {any(B, S div 2), oneof([leaf(B), bin(), tuple_of(B, S div 2)])},
         case T of
             [] -> [H | x];
             _ -> [H | T]
         end).

%% Valid iodata more often than chance: bytes, binaries, nested lists, and
%% binary tails.
iodata(S) ->
    ?LET({Elems, Tail}, {resize(6, list(io_elem(S))), oneof([[], bin()])},
         Elems ++ Tail).

io_elem(S) when S =< 2 ->
    oneof([range(0, 255), bin()]);
io_elem(S) ->
    frequency([{3, range(0, 255)}, {3, bin()}, {1, ?LAZY(iodata(S div 2))},
               {1, elements([256, -1, 1.0, atom])}]).

%% Deep nests: lists, tuples, left-nested iolists ([[[A, B], C], D]).
deep(B) ->
    ?LET({Kind, N, X}, {elements([list, tuple, left_iolist]),
                        frequency([{3, range(90, 110)}, {1, range(1000, 5000)}]),
                        oneof([bin(), range(0, 255), leaf(B)])},
         nest(Kind, N, X)).

nest(_, 0, X) -> X;
nest(list, N, X) -> nest(list, N - 1, [X]);
nest(tuple, N, X) -> nest(tuple, N - 1, {X});
nest(left_iolist, N, X) -> nest(left_iolist, N - 1, [X, N rem 256]).

leaf(B) ->
    frequency([{3, int()}, {2, float_any()}, {2, atom_any()}, {4, bin()},
               {1, bits()}, {2, handle(B)}, {1, other()}, {1, []}]).

int() ->
    oneof([elements([0, 1, -1, 10, 11, -10, -11, 255, 256, 1 bsl 59 - 1, 1 bsl 59,
                     -(1 bsl 59), -(1 bsl 59) - 1, ?MAX_I64, ?MAX_I64 + 1, ?MIN_I64,
                     ?MIN_I64 - 1, ?MAX_U64, ?MAX_U64 + 1, 1 bsl 70, -(1 bsl 70),
                     1 bsl 1000]),
           integer(),
           ?LET({Sign, E, D}, {elements([-1, 1]), range(0, 200), integer(0, 1000)},
                Sign * (1 bsl E) + D)]).

float_any() ->
    oneof([elements([0.0, -0.0, 1.5, -2.25, 2.2250738585072014e-308, 5.0e-324,
                     1.7976931348623157e308, -1.7976931348623157e308, 1.0e-300]),
           float()]).

atom_any() ->
    elements(?BUILTIN ++ [red, green, blue, nan, integer, '$bignum',
                          a_longer_atom_name_in_the_table, not_in_any_table, '',
                          'Ünïcödé ✓', list_to_atom(lists:duplicate(255, $x))]
             ).

%% Binaries: 0-70 and 250-260 bytes mostly; refc, sub-binaries at odd
%% offsets, and byte-sized binaries starting at a bit offset (copied by the
%% runtime when inspected, but the same value).
bin() ->
    ?LET({Kind, N}, {elements([plain, refc, sub, unaligned]), bin_size()}, make_bin(Kind, N)).

bin_size() ->
    frequency([{5, range(0, 70)}, {4, range(250, 260)}, {1, range(1000, 70000)}]).

make_bin(plain, N) -> pattern(N, 0);
make_bin(refc, N) -> binary:copy(<<(N rem 251)>>, N);
make_bin(sub, N) ->
    Off = 1 + 2 * (N rem 7),
    binary:part(pattern(N + Off + 3, 1), Off, N);
make_bin(unaligned, N) ->
    <<_:3, X:N/binary, _:5>> = <<5:3, (pattern(N, 2))/binary, 0:5>>,
    X.

pattern(N, Seed) ->
    P = <<"0123456789abcdefghijklmnopqrstuvwxyz">>,
    Rot = Seed rem byte_size(P),
    <<A:Rot/binary, Z/binary>> = P,
    Q = <<Z/binary, A/binary>>,
    list_to_binary([binary:copy(Q, N div 36), binary:part(Q, 0, N rem 36)]).

bits() ->
    ?LET({N, Bits}, {oneof([range(0, 70), range(250, 260)]), range(1, 7)},
         <<(pattern(N, 3))/binary, 0:Bits>>).

other() ->
    ?LET(K, elements([pid, ref, map, fun_, port, bigmap]), mk_other(K)).

mk_other(pid) -> self();
mk_other(ref) -> make_ref();
mk_other(map) -> #{a => 1, <<"b">> => [2]};
mk_other(bigmap) -> maps:from_list([{I, I} || I <- lists:seq(1, 40)]);
mk_other(fun_) -> fun erlang:abs/1;
mk_other(port) -> hd(erlang:ports()).

%% Handles of every kind, registered so the model knows what each is.
handle(B) ->
    ?LET(K, elements(handle_kinds(B)), mk_handle(B, K)).

handle_kinds(nif) -> [counter, counter, other, closed, prop];
handle_kinds(_) -> [counter, counter, other, closed, prop, forged, forged_big, not_a_port].

mk_handle(B, Kind) ->
    H = case Kind of
            counter -> t(B, new_counter_handle, []);
            other -> t(B, new_other_handle, []);
            closed ->
                C = t(B, new_counter_handle, []),
                ok = t(B, close_handle, [C]),
                C;
            prop -> p(B, new_handle, []);
            forged ->
                {drv, TP, _} = B,
                {'$nocopy_handle', TP, 1 bsl 40 + erlang:unique_integer([positive])};
            forged_big ->
                {drv, TP, _} = B,
                {'$nocopy_handle', TP, 1 bsl 64};
            not_a_port ->
                {'$nocopy_handle', self(), 1}
        end,
    ets:insert(?REG, {H, Kind}),
    H.

%% Mostly any term; sometimes the shape a reader wants, with one part wrong.
reader_arg(B) ->
    frequency([{6, any(B)},
               {2, ?LET({I, Bin, A, F}, {int(), bin(), atom_any(), float_any()},
                        {I, Bin, {A, F}})},
               {2, ?LET({U, Z, R, O, V}, {int(), int(), int(), elements([true, false, 1]),
                                          oneof([iodata(4), any(B)])},
                        {U, Z, R, O, V})},
               {2, ?LET({I, U, Z, F, O, A, Bin, V},
                        {int(), int(), int(), float_any(), elements([true, false]),
                         atom_any(), oneof([bin(), bits()]), iodata(4)},
                        {I, U, Z, F, O, A, Bin, V})},
               {1, ?LET({I, A, Bin}, {int(), atom_any(), bin()}, {{I, {A}}, Bin})},
               {1, ?LET({X, Bin}, {any(B), oneof([bin(), bits()])}, {X, Bin})}]).

size_any() ->
    frequency([{6, bin_size()}, {1, elements([64, 65, 0])},
               {1, elements([?MAX_U64, ?MAX_U64 + 1, -1, 1 bsl 62])}]).

off_len(N) ->
    frequency([{4, ?LET({O, L}, {range(0, N), range(0, N)}, {O, min(L, N - O)})},
               {1, {range(0, N + 2), range(0, N + 2)}},
               {1, {elements([0, N, ?MAX_U64, ?MAX_U64 + 1, -1]),
                    elements([0, 1, ?MAX_U64, ?MAX_U64 + 1])}}]).

result_case() ->
    oneof([{buf_new, size_any(), range(0, 256)},
           {buf_resize, bin_size(), bin_size(), range(0, 254)},
           {foreign_new, bin_size(), range(0, 255)},
           {copy_new, bin_size(), range(0, 255)},
           ?LET(Bin, bin(), ?LET({O, L}, off_len(byte_size(Bin)), {slice, Bin, O, L})),
           ?LET(Bin, bin(), ?LET({O, L}, off_len(byte_size(Bin)), {copy_slice, Bin, O, L})),
           ?LET({Slot, Bin}, {range(0, 7), bin()},
                ?LET({O, L}, off_len(byte_size(Bin)), {keep, Slot, Bin, O, L})),
           ?LET({Slot, N, Byte}, {range(0, 7), bin_size(), range(0, 255)},
                ?LET({O, L}, off_len(N), {shared, Slot, N, Byte, O, L})),
           {make_tuple, range(0, 300)},
           {make_list, range(0, 300)},
           {make_deep, range(0, 300)},
           {make_atom_index, oneof([range(-6, 30), int()])},
           {fail_badarg, range(0, 2), error_text()},
           {return_ok, int()},
           {return_error, return_error_arg()}]).

%% Any bytes: a text that is not UTF-8 must still format (H4, fixed).
error_text() ->
    bin().

%% Any atom, table or not (H1, fixed: an argument named Reason is harmless).
return_error_arg() ->
    atom_any().

lying_request(Shape, Levels, Slack, Tag) ->
    Fp = prop_fp(),
    %% The fixed header, the kinds (the tag's, then one per argument) and the
    %% tag.
    Hdr = fun(F, Kinds) -> <<"nc", (nocopy_wire:version()), F:32, 0:32, (byte_size(Kinds)):32,
                             $i, Kinds/binary, Tag:64/signed>> end,
    Claim = fun(I) -> (Levels - 1 - I) * 5 + 1 + Slack end,
    iolist_to_binary(
      case Shape of
          lying_tuples ->
              %% Each tuple claims the bytes after it, plus 1 + Slack: even
              %% the innermost claims an element that is not there (claiming
              %% exactly the bytes after it, it would be a valid {}). The
              %% outermost is the argument: its kind is with the tag's.
              [Hdr(Fp, <<"T">>), <<(Claim(0)):32>> |
               [<<$T, (Claim(I)):32>> || I <- lists:seq(1, Levels - 1)]];
          lying_argc ->
              %% More 32-bit integers than there are values for.
              [Hdr(Fp, binary:copy(<<"j">>, Levels + Slack + 2)) |
               lists:duplicate(Levels, <<0:32>>)];
          open_cells ->
              [Hdr(Fp, <<"c">>) | lists:duplicate(Levels - 1, <<"c">>)];
          other_module ->
              [Hdr(Fp bxor (1 + Slack), <<"n">>)]
      end).

%% A valid request for one of nocopy_prop's functions, then damaged: a byte
%% changed, the end cut off, or bytes appended.
mutated_request({drv, _, PP} = B) ->
    ?LET({Args, Tag, How, Pos, Byte},
         {resize(4, list(any(B))), oneof([integer(), ?LAZY(make_ref())]),
          elements([flip, cut, extend]), nat(), range(0, 255)},
         begin
             Idx = 0,                              % echo/1; the damage may change it
             Req = iolist_to_binary(nocopy_wire:request(PP, prop_fp(), Tag, Idx,
                                                               [Args])),
             At = Pos rem max(1, byte_size(Req)),
             damage(How, Req, min(At, byte_size(Req) - 1), Byte)
         end).

%% echo([]) tagged with a reference whose first ID word is outside the 18
%% bits the runtime allows: well formed for nocopy__wire_is_ref_ext, refused
%% by binary_to_term.
bad_ref_request(PP) ->
    Good = iolist_to_binary(nocopy_wire:request(PP, prop_fp(), make_ref(), 0, [[]])),
    %% The fixed header, the kinds ("r", then the argument's) and the tag.
    <<Head:17/binary, ExtLen:16, Ext:ExtLen/binary, Rest/binary>> = Good,
    IdAt = ExtLen - 3 * 4,                   % three ID words at the end (OTP 25)
    <<Pre:IdAt/binary, _:32, Ids/binary>> = Ext,
    Bad = <<Pre/binary, 16#4D02E877:32, Ids/binary>>,
    {'EXIT', _} = (catch binary_to_term(Bad)),
    <<Head/binary, ExtLen:16, Bad/binary, Rest/binary>>.

prop_fp() ->
    nocopy_prop_drv:'$fingerprint'().

damage(flip, Req, Pos, Byte) ->
    <<A:Pos/binary, _, Z/binary>> = Req,
    <<A/binary, Byte, Z/binary>>;
damage(cut, Req, Pos, _) ->
    binary:part(Req, 0, Pos);
damage(extend, Req, _, Byte) ->
    <<Req/binary, Byte>>.
