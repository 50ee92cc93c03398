%% @doc Stubs of the hand-written erl_nif baseline (hand_nif.c): the same
%% functions as the nocopy contender nc_bench, without the nocopy layer.
-module(hand_nif).

-export([identity/1, identity_dirty/1, new_ctx/0, seed/3, seed_dirty/3,
         iodata/1, iodata_dirty/1]).

-on_load(load/0).

load() ->
    erlang:load_nif(filename:join(nocopy:priv_dir(?MODULE), "hand_nif"), 0).

-spec identity(binary()) -> binary().
identity(_Bin) -> erlang:nif_error(not_loaded).
-spec identity_dirty(binary()) -> binary().
identity_dirty(_Bin) -> erlang:nif_error(not_loaded).
-spec new_ctx() -> reference().
new_ctx() -> erlang:nif_error(not_loaded).
-spec seed(reference(), non_neg_integer(), binary()) ->
          {non_neg_integer(), byte(), boolean(), non_neg_integer(), binary()}.
seed(_Ctx, _Qop, _Message) -> erlang:nif_error(not_loaded).
-spec seed_dirty(reference(), non_neg_integer(), binary()) ->
          {non_neg_integer(), byte(), boolean(), non_neg_integer(), binary()}.
seed_dirty(_Ctx, _Qop, _Message) -> erlang:nif_error(not_loaded).
-spec iodata(iodata()) -> non_neg_integer().
iodata(_Data) -> erlang:nif_error(not_loaded).
-spec iodata_dirty(iodata()) -> non_neg_integer().
iodata_dirty(_Data) -> erlang:nif_error(not_loaded).
