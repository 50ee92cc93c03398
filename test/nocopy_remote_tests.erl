%% nocopy_remote_tests: the README's pattern for calling nocopy functions on
%% another node: erpc to a node started with OTP's peer, large binaries
%% included; and what is copied on the way.
%%
%% What the distribution does with a large binary (OTP 25, measured here):
%% the sending node hands the binary to the connection by reference (the
%% external-format encoder puts off-heap binaries in the output I/O vector),
%% so its bytes are copied once into the socket, and once out of it into the
%% receiving node's message buffer; the term the receiver gets refers to that
%% buffer (binary:referenced_byte_size/1 is the payload plus the message's few
%% header bytes). On that node nocopy then works as everywhere: C reads the
%% received binary in place, and results go back the same way, each as its own
%% bytes (a slice crosses as the slice, not as its parent).
-module(nocopy_remote_tests).

-export([remote_view/1]).

-include_lib("eunit/include/eunit.hrl").

-define(SIZE, (8 bsl 20)).

remote_test_() ->
    {setup, fun start/0, fun stop/1,
     fun({_, Node}) ->
             Big = binary:copy(<<"0123456789abcdef">>, ?SIZE div 16),
             [{"a call on the other node: the same result as here",
               ?_assertEqual(sums:checksum(7, Big), erpc:call(Node, sums, checksum, [7, Big]))},
              {"errors cross with their error_info (argument 2 named)",
               fun() ->
                       try erpc:call(Node, sums, checksum, [7, foo]) of
                           V -> erlang:error({expected_badarg, V})
                       catch
                           error:{exception, badarg, St} ->
                               ?assertEqual(#{2 => "expected a binary, got: foo"},
                                            nocopy_test_lib:error_strings(badarg, St))
                       end
               end},
              {"the binary arrives as a view of the received message, read in place by C",
               fun() ->
                       {Ref, Size, NifAddr, DrvAddr} = erpc:call(Node, ?MODULE, remote_view, [Big]),
                       ?assertEqual(?SIZE, Size),
                       %% The received message's header, not a second copy.
                       ?assert(Ref >= Size andalso Ref < Size + 256),
                       %% The NIF and the driver on that node see the same bytes.
                       ?assertEqual(NifAddr, DrvAddr),
                       %% Negative control: here the bytes are elsewhere.
                       ?assertNotEqual(nocopy_test:address_of(Big), NifAddr)
               end},
              {"a slice made there comes back as the slice alone",
               fun() ->
                       Mid = erpc:call(Node, sums, middle, [Big, 100, 1 bsl 20]),
                       ?assertEqual(binary:part(Big, 100, 1 bsl 20), Mid),
                       ?assert(binary:referenced_byte_size(Mid) < (1 bsl 20) + 256)
               end}]
     end}.

%% @private Runs on the other node: how the received binary looks there.
remote_view(Bin) ->
    {ok, P} = nocopy_test_drv:open(),
    try
        {binary:referenced_byte_size(Bin), byte_size(Bin), nocopy_test:address_of(Bin),
         nocopy_test_drv:address_of(P, Bin)}
    after
        nocopy_test_drv:close(P)
    end.

%% This node becomes distributed (epmd started if needed), and a peer node
%% starts with the same code paths.
start() ->
    _ = os:cmd("epmd -daemon"),
    Started = case node() of
                  nonode@nohost ->
                      Name = list_to_atom("nocopy_remote_tests_" ++ os:getpid()),
                      {ok, _} = net_kernel:start([Name, shortnames]),
                      true;
                  _ ->
                      false
              end,
    Paths = lists:usort([filename:dirname(code:which(M))
                         || M <- [nocopy, nocopy_port, sums, nocopy_test, ?MODULE]]),
    {ok, Peer, Node} = peer:start_link(#{name => peer:random_name(),
                                         args => lists:append([["-pa", D] || D <- Paths])}),
    {{Peer, Started}, Node}.

stop({{Peer, Started}, _}) ->
    peer:stop(Peer),
    Started andalso net_kernel:stop(),
    ok.
