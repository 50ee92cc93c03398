%% @doc Stubs of the copying NIF alternative (copy_nif.c): flattens its iodata
%% input and copies every binary result.
-module(copy_nif).

-export([identity/1, new_ctx/0, seed/3, iodata/1]).

-on_load(load/0).

load() ->
    erlang:load_nif(filename:join(nocopy:priv_dir(?MODULE), "copy_nif"), 0).

-spec identity(iodata()) -> binary().
identity(_Data) -> erlang:nif_error(not_loaded).
-spec new_ctx() -> reference().
new_ctx() -> erlang:nif_error(not_loaded).
-spec seed(reference(), non_neg_integer(), iodata()) ->
          {non_neg_integer(), byte(), boolean(), non_neg_integer(), binary()}.
seed(_Ctx, _Qop, _Message) -> erlang:nif_error(not_loaded).
-spec iodata(iodata()) -> non_neg_integer().
iodata(_Data) -> erlang:nif_error(not_loaded).
