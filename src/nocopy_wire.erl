%% @doc The driver backend's wire format (docs/wire-format.md): the one place
%% Erlang writes requests. {@link request/5} encodes any call; {@link
%% encoder/4} writes the source of the per-function encoder each generated
%% `NAME_drv' module carries (nocopy_stubgen puts it there), which makes the
%% same bytes faster for the argument kinds its spec names and falls back to
%% request/5 for anything else.
%%
%% A request is an iolist in which every binary is its own element, so that
%% `port_command/2' hands each binary of more than 64 bytes to the driver's
%% `outputv' by reference; the small values around them travel in a compact
%% header. An argument whose spec says iodata is sent as it is, its length
%% before it (`request/6'; as the last argument of a driver stub's request,
%% with no length, running to the end, `request/7'): the runtime lays its
%% pieces out in the I/O vector, and the driver reads them from there. The
%% decoder is
%% `nocopy__wire_decode()' in c_src/wire/nc_wire.c.
-module(nocopy_wire).

-export([request/5, request/6, request/7, arg/2, term/2, version/0, encoder/4, encoder/5]).

-export_type([kind/0]).

-include("nocopy_wire.hrl").

%% What the stub generator knows of an argument from its spec: the encoder
%% specialises the kinds it can check with a guard, and leaves `other' (and
%% any value that fails its guard) to request/5. `iodata' is the one kind
%% whose encoding differs from term/2's (see request/6).
-type kind() :: binary | int | float | handle | iodata | other.

%% @doc The request for calling function `FunIndex' of the module with
%% fingerprint `Fp' with `Args' on `Port', tagged `Tag' (an integer, or a
%% reference for async calls), as an iolist ready for `port_command/2'.
%% Binaries are placed in it as they are, never copied or flattened. A handle
%% is encoded as a handle only if it belongs to `Port'.
%% `Port' is the handles' owner: a port, or an isolate (nocopy_iso, whose
%% stubs use the same encoders).
-spec request(port() | nocopy_iso:iso(), nocopy_port:fingerprint(), nocopy_port:tag(),
              non_neg_integer(), list()) ->
          iodata().
request(Port, Fp, Tag, FunIndex, Args) ->
    request(Port, Fp, Tag, FunIndex, Args, [other || _ <- Args]).

%% The fixed header, the kinds (the tag's, then Kinds) and the tag's body:
%% one binary, the request's first element.
header(Fp, Tag, FunIndex, Argc, Kinds) when is_integer(Tag), Tag >= ?NC_I64_MIN,
                                            Tag =< ?NC_I64_MAX ->
    <<?NC_WIRE_MAGIC, ?NC_WIRE_VERSION, Fp:32, FunIndex:32, Argc:32, $i, Kinds/binary,
      Tag:64/signed>>;
header(Fp, Tag, FunIndex, Argc, Kinds) when is_reference(Tag) ->
    Ext = term_to_binary(Tag),
    <<?NC_WIRE_MAGIC, ?NC_WIRE_VERSION, Fp:32, FunIndex:32, Argc:32, $r, Kinds/binary,
      (byte_size(Ext)):16, Ext/binary>>.

%% @doc request/5, with each argument's kind from the function's spec: an
%% argument of kind `iodata' that is an I/O list (iolist_size/1 accepts it;
%% an empty one too, whose "v" of 0 bytes reads as `[]') is sent as the wire
%% term `"v" Size:64' followed by the list itself, so that the runtime, not
%% Erlang, lays its pieces out (referencing the large binaries, merging small
%% ones into its buffer) and the driver reads them where they lie, with no
%% term per piece (an isolate's VM side walks the list the same way, and its
%% child reads the pieces where they lie). Anything else is encoded as by
%% request/5 (the C side then reads the term, and refuses what is not iodata
%% with its own error).
-spec request(port() | nocopy_iso:iso(), nocopy_port:fingerprint(), nocopy_port:tag(),
              non_neg_integer(), list(), [kind()]) -> iodata().
request(Port, Fp, Tag, FunIndex, Args, Kinds) ->
    request(Port, Fp, Tag, FunIndex, Args, Kinds, false).

%% @doc request/6, and when `Tail' is `true' the last argument runs to the end
%% of the request: one of kind `binary' that is a binary is sent as `"B"'
%% followed by the binary, an
%% argument of kind `iodata' that is a list as `"V"' followed by the list,
%% neither with its size (the driver knows the request's size). The list is
%% not checked here: `port_command/2' refuses one that is no I/O list, and
%% nocopy_port:call_request/5 then sends it again as the term it is (C refuses
%% it with its own error). What the driver stubs send; an isolate's are
%% request/6's (its VM side measures the request itself). The list or binary
%% is then the request's last element.
-spec request(port() | nocopy_iso:iso(), nocopy_port:fingerprint(), nocopy_port:tag(),
              non_neg_integer(), list(), [kind()], boolean()) -> iodata().
request(Port, Fp, Tag, FunIndex, Args, Kinds, Tail) when length(Args) =:= length(Kinds) ->
    {KindBytes, Bodies} = kinded(Args, Kinds, Port, Tail, [], []),
    [header(Fp, Tag, FunIndex, length(Args), KindBytes) | Bodies].

%% The arguments' kinds (a binary) and their bodies (a list, in order).
kinded([A], [iodata], _, true, Ks, Bs) when is_list(A) ->
    kinds_bodies([$V | Ks], [A | Bs]);
kinded([B], [binary], _, true, Ks, Bs) when is_binary(B) ->
    kinds_bodies([$B | Ks], [B | Bs]);
kinded([A | As], [iodata | Kinds], Port, Tail, Ks, Bs) when is_list(A) ->
    {K, B} = try iolist_size(A) of
                 N -> {$v, [<<N:64>>, A]}
             catch
                 error:badarg -> arg(A, Port)
             end,
    kinded(As, Kinds, Port, Tail, [K | Ks], [B | Bs]);
kinded([A | As], [_ | Kinds], Port, Tail, Ks, Bs) ->
    {K, B} = arg(A, Port),
    kinded(As, Kinds, Port, Tail, [K | Ks], [B | Bs]);
kinded([], [], _, _, Ks, Bs) ->
    kinds_bodies(Ks, Bs).

kinds_bodies(Ks, Bs) ->
    {list_to_binary(lists:reverse(Ks)), lists:reverse(Bs)}.

%% @doc The version of the format written here (the third byte of every
%% request).
-spec version() -> pos_integer().
version() ->
    ?NC_WIRE_VERSION.

%% @doc One argument's encoding for `Port', split as a request holds it: its
%% kind byte (which goes with the other arguments' kinds, after the fixed
%% header) and its body. The generated encoders call it for the arguments
%% they do not specialise.
-spec arg(term(), port() | nocopy_iso:iso()) -> {byte(), iodata()}.
arg(B, _) when is_binary(B) ->
    %% The binary itself is the next element: referenced by the runtime when
    %% larger than 64 bytes, copied into its buffer otherwise.
    {$b, [<<(byte_size(B)):64>>, B]};
arg(I, _) when is_integer(I), I >= ?NC_I32_MIN, I =< ?NC_I32_MAX ->
    {$j, <<I:32/signed>>};
arg(I, _) when is_integer(I), I >= ?NC_I64_MIN, I =< ?NC_I64_MAX ->
    {$i, <<I:64/signed>>};
arg(I, _) when is_integer(I), I > ?NC_I64_MAX, I =< ?NC_U64_MAX ->
    {$u, <<I:64>>};
arg(I, _) when is_integer(I) ->
    {$I, <<>>};
arg(true, _) ->
    {$a, <<4:16, "true">>};
arg(false, _) ->
    {$a, <<5:16, "false">>};
arg(A, _) when is_atom(A) ->
    T = atom_to_binary(A, utf8),
    {$a, <<(byte_size(T)):16, T/binary>>};
arg(F, _) when is_float(F) ->
    {$f, <<F:64/float>>};
arg([H | T], Port) ->
    {$c, [term(H, Port), term(T, Port)]};
arg([], _) ->
    {$n, <<>>};
arg({'$nocopy_handle', Port, Id}, Port) when is_integer(Id), Id >= 0, Id =< ?NC_U64_MAX ->
    {$h, <<Id:64>>};
arg({'$nocopy_handle', Other, Id}, _) when is_port(Other), is_integer(Id) ->
    {$H, <<>>};
arg(T, Port) when is_tuple(T) ->
    N = tuple_size(T),
    {$T, [<<N:32>> | elems(T, 1, N, Port)]};
arg(B, _) when is_bitstring(B) ->
    {$t, <<>>};
arg(_, _) ->
    %% pid, port, reference (a NIF handle among them), map, fun
    {$o, <<>>}.

%% @doc A term inside another (a tuple's element, a list cell's head or
%% tail), as iodata: its kind byte and its body together.
-spec term(term(), port() | nocopy_iso:iso()) -> iodata().
term(B, _) when is_binary(B) ->
    [<<$b, (byte_size(B)):64>>, B];
term(I, _) when is_integer(I), I >= ?NC_I32_MIN, I =< ?NC_I32_MAX ->
    <<$j, I:32/signed>>;
term(T, Port) ->
    {K, Body} = arg(T, Port),
    [K, Body].

elems(T, I, N, Port) when I =< N -> [term(element(I, T), Port) | elems(T, I + 1, N, Port)];
elems(_, _, _, _) -> [].

%% @doc The Erlang source of `Name', the encoder of function `FunIndex' whose
%% arguments are of `Kinds' (one per argument, from its spec): `Name(Port,
%% Tag, A1, ...)', for a module that defines `?FP' (its fingerprint). One
%% clause for the kinds, with guards that check every assumption, builds the
%% request with one binary construction per run of small fields, the fixed
%% header and the kinds one constant run, each binary (and each iodata
%% argument) its own iolist element. When an integer argument does not fit
%% 32 bits, a second clause of the same shape sends the integers in 64 bits
%% ("i"). Any other value (a tag outside the small range, an integer outside
%% 64 bits, a handle of another port, a list that is no I/O list, ...) falls
%% through to request/5 (request/6 when an argument is iodata). Every clause
%% makes the same bytes (nocopy_driver_wire_tests compares them).
-spec encoder(iodata(), non_neg_integer(), [kind()], iodata()) -> iodata().
encoder(Name, FunIndex, Kinds, Comment) ->
    encoder(Name, FunIndex, Kinds, Comment, false).

%% @doc encoder/4, making request/7's bytes with `Tail' (the driver stubs:
%% `true', their last binary or I/O list argument sent to the end of the
%% request, not measured).
-spec encoder(iodata(), non_neg_integer(), [kind()], iodata(), boolean()) -> iodata().
encoder(Name, FunIndex, Kinds, Comment, Tail) ->
    Arity = length(Kinds),
    Named = [{K, "A" ++ integer_to_list(I)} || {K, I} <- lists:zip(Kinds, lists:seq(1, Arity))],
    Vars = [V || {_, V} <- Named],
    Pats = [case K of
                handle -> ["{'$nocopy_handle', P, ", V, "}"];
                _ -> V
            end || {K, V} <- Named],
    Range = fun(V, Min, Max) -> [V, " >= ", integer_to_list(Min), ", ", V, " =< ",
                                 integer_to_list(Max)] end,
    Final = tail_last(Named, Tail),
    %% P is used by handles' patterns, other terms' encoding and a measured
    %% I/O list's fallback.
    P = case [K || {K, _} <- Final, K =:= handle orelse K =:= other orelse K =:= iodata] of
            [] -> "_";
            _ -> "P"
        end,
    Generic = ["nocopy_wire:request(P, ?FP, T, ", integer_to_list(FunIndex), ", [",
               join(Vars, ", "), "]"],
    KindList = ["[", join([atom_to_list(K) || K <- Kinds], ", "), "]"],
    Fallback = case {Tail, lists:member(iodata, Kinds)} of
                   {true, _} -> [Generic, ", ", KindList, ", true)"];
                   {false, false} -> [Generic, ")"];
                   {false, true} -> [Generic, ", ", KindList, ")"]
               end,
    %% A last binary is the list's tail (iodata allows it); dialyzer's style
    %% check of improper lists is off for this function only.
    Improper = case lists:last([{none, ""} | Final]) of
                   {binary_tail, _} ->
                       ["-dialyzer({no_improper_lists, ", Name, "/",
                        integer_to_list(Arity + 2), "}).\n"];
                   _ ->
                       []
               end,
    Clause = fun(Fin) ->
                     Header = ["\"", ?NC_WIRE_MAGIC, "\", ",
                               integer_to_list(?NC_WIRE_VERSION), ", ?FP:32, ",
                               integer_to_list(FunIndex), ":32, ", integer_to_list(Arity),
                               ":32, ", kind_segments(Fin), ", T:64/signed"],
                     Guards = [["is_integer(T), ", Range("T", ?NC_SMALL_MIN, ?NC_SMALL_MAX)] |
                               [guard(K, V, Range) || {K, V} <- Fin, K =/= other]],
                     [Name, "(", join([P, "T" | Pats], ", "), ")\n",
                      "  when ", join(Guards, ",\n       "), " ->\n",
                      "    ", lets(Fin), sized(Fin, elements(Fin, [Header], []), Fallback),
                      ";\n"]
             end,
    ["%% ", Comment, "\n",
     Improper,
     Clause(Final),
     [Clause(Wide) || Wide <- [wide(Final)], Wide =/= Final],
     Name, "(", join(["P", "T" | Vars], ", "), ") ->\n",
     "    ", Fallback, ".\n\n"].

%% The second clause's kinds, for integers outside 32 bits: an integer
%% argument in 64 bits is sent as "i" (arg/2's encoding of such a value).
%% With one integer argument the kind is constant: the first clause took
%% every call whose integer fits 32 bits and whose other arguments pass the
%% same guards, so here it does not fit. With more, each integer's kind is
%% chosen by its value (int_wide). Without this clause such a call went to
%% request/7, about ten times the time (bench/README.md, session 14).
wide(Named) ->
    case [V || {int, V} <- Named] of
        [] -> Named;
        [_] -> [case KV of {int, V} -> {int64, V}; _ -> KV end || KV <- Named];
        _ -> [case KV of {int, V} -> {int_wide, V}; _ -> KV end || KV <- Named]
    end.

%% The bindings before the request: an unspecialised argument's kind byte
%% and body (arg/2), an int_wide argument's kind byte and width by its value.
lets(Named) ->
    [case K of
         other ->
             ["{", kind_var(V), ", ", body_var(V), "} = nocopy_wire:arg(", V, ", P),\n    "];
         int_wide ->
             ["{", kind_var(V), ", ", width_var(V), "} = if ", V, " >= ",
              integer_to_list(?NC_I32_MIN), ", ", V, " =< ", integer_to_list(?NC_I32_MAX),
              " -> {$j, 32}; true -> {$i, 64} end,\n    "];
         _ ->
             []
     end || {K, V} <- Named].

%% With Tail, the last argument, if a binary or iodata, runs to the end of
%% the request (kinds binary_tail, iodata_tail: no size).
tail_last(Named, false) ->
    Named;
tail_last([], true) ->
    [];
tail_last(Named, true) ->
    {Init, [{K, V}]} = lists:split(length(Named) - 1, Named),
    case K of
        binary -> Init ++ [{binary_tail, V}];
        iodata -> Init ++ [{iodata_tail, V}];
        _ -> Named
    end.

%% The tag's and the arguments' kinds, as binary segments: runs of constant
%% kinds one string, an unspecialised argument's kind its variable.
kind_segments(Named) ->
    Parts = [case kind_byte(K) of
                 other -> {var, kind_var(V)};
                 C -> {char, C}
             end || {K, V} <- Named],
    join(kind_runs([{char, $i} | Parts], []), ", ").

kind_runs([], Acc) ->
    lists:reverse(Acc);
kind_runs([{var, V} | Rest], Acc) ->
    kind_runs(Rest, [V | Acc]);
kind_runs(Parts, Acc) ->
    {Chars, Rest} = lists:splitwith(fun(P) -> element(1, P) =:= char end, Parts),
    kind_runs(Rest, [[$", [C || {char, C} <- Chars], $"] | Acc]).

kind_byte(int) -> $j;
kind_byte(int64) -> $i;
kind_byte(int_wide) -> other;
kind_byte(float) -> $f;
kind_byte(handle) -> $h;
kind_byte(binary) -> $b;
kind_byte(iodata) -> $v;
kind_byte(binary_tail) -> $B;
kind_byte(iodata_tail) -> $V;
kind_byte(other) -> other.

kind_var(V) -> ["K", V].
body_var(V) -> ["B", V].
width_var(V) -> ["W", V].

%% The first clause's body: the request, once each iodata argument is
%% measured (iolist_size/1 also checks that it is an I/O list: one that is
%% not goes to the fallback, reaches C as a term, and C refuses it with its
%% own error text).
sized(Named, Elems, Fallback) ->
    case [V || {iodata, V} <- Named] of
        [] ->
            iolist_expr(Elems);
        Io ->
            {Expr, Pat} = case Io of
                              [V] -> {["iolist_size(", V, ")"], size_var(V)};
                              _ -> {["{", join([["iolist_size(", V, ")"] || V <- Io], ", "), "}"],
                                    ["{", join([size_var(V) || V <- Io], ", "), "}"]}
                          end,
            ["try ", Expr, " of\n",
             "        ", Pat, " ->\n",
             "            ", iolist_expr(Elems, "\n             "), "\n",
             "    catch\n",
             "        error:badarg -> ", Fallback, "\n",
             "    end"]
    end.

size_var(V) -> ["Sz", V].

guard(int, V, Range) -> ["is_integer(", V, "), ", Range(V, ?NC_I32_MIN, ?NC_I32_MAX)];
guard(int64, V, Range) -> ["is_integer(", V, "), ", Range(V, ?NC_I64_MIN, ?NC_I64_MAX)];
guard(int_wide, V, Range) -> ["is_integer(", V, "), ", Range(V, ?NC_I64_MIN, ?NC_I64_MAX)];
guard(float, V, _) -> ["is_float(", V, ")"];
guard(binary, V, _) -> ["is_binary(", V, ")"];
guard(iodata, V, _) -> ["is_list(", V, ")"];
guard(handle, V, Range) -> ["is_integer(", V, "), ", Range(V, 0, ?NC_SMALL_MAX)];
guard(binary_tail, V, Range) -> guard(binary, V, Range);
guard(iodata_tail, V, Range) -> guard(iodata, V, Range).

%% The iolist's elements after the header: {bin, Segments} (one binary
%% construction) or {expr, Text}. Each argument's body in order; fields
%% accumulate in Cur until a binary, an I/O list or an unspecialised
%% argument's body needs an element of its own.
elements([], Cur, Acc) ->
    lists:reverse(flush(Cur, Acc));
elements([{Kind, V} | Rest], Cur, Acc) ->
    case Kind of
        int -> elements(Rest, Cur ++ [[V, ":32/signed"]], Acc);
        int64 -> elements(Rest, Cur ++ [[V, ":64/signed"]], Acc);
        int_wide -> elements(Rest, Cur ++ [[V, ":", width_var(V), "/signed"]], Acc);
        float -> elements(Rest, Cur ++ [[V, ":64/float"]], Acc);
        handle -> elements(Rest, Cur ++ [[V, ":64"]], Acc);
        binary ->
            Acc1 = flush(Cur ++ [["(byte_size(", V, ")):64"]], Acc),
            elements(Rest, [], [{expr, V} | Acc1]);
        iodata ->
            Acc1 = flush(Cur ++ [[size_var(V), ":64"]], Acc),
            elements(Rest, [], [{expr, V} | Acc1]);
        binary_tail ->
            %% The list's tail (an iolist may end in a binary): one list
            %% cell less of garbage per call.
            elements(Rest, [], [{tail, V} | flush(Cur, Acc)]);
        iodata_tail ->
            %% Its own element: nocopy_port:not_sent/5 finds it there.
            elements(Rest, [], [{expr, V} | flush(Cur, Acc)]);
        other ->
            elements(Rest, [], [{expr, body_var(V)} | flush(Cur, Acc)])
    end.

flush([], Acc) -> Acc;
flush(Segs, Acc) -> [{bin, Segs} | Acc].

iolist_expr(Elems) ->
    iolist_expr(Elems, "\n     ").

%% Sep: what goes between elements (a newline and the indentation).
iolist_expr([{bin, Segs}], _) ->
    ["<<", join(Segs, ", "), ">>"];
iolist_expr(Elems, Sep) ->
    {Init, Tail} = case lists:last(Elems) of
                       {tail, V} -> {lists:droplast(Elems), [" | ", V]};
                       _ -> {Elems, []}
                   end,
    ["[", join([case E of
                    {bin, Segs} -> ["<<", join(Segs, ", "), ">>"];
                    {expr, X} -> X
                end || E <- Init], [",", Sep]), Tail, "]"].

join([], _) -> [];
join([H | T], Sep) -> [H | [[Sep, X] || X <- T]].
