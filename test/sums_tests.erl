%% Tests of the README's example (examples/sums/sums.c), so the README's code
%% is known to build and behave as it says.
-module(sums_tests).

-include_lib("eunit/include/eunit.hrl").

checksum_ref(Key, Data) ->
    lists:foldl(fun(B, S) -> (S * 31 + B) band 16#FFFFFFFFFFFFFFFF end, Key,
                binary_to_list(Data)).

checksum_test_() ->
    Small = <<"hello">>,
    Big = binary:copy(<<"xyz">>, 700000),          % above the 1 MiB dirty threshold
    [?_assertEqual({ok, checksum_ref(7, Small)}, sums:checksum(7, Small)),
     %% 2.1 MB folded in Erlang: seconds under AddressSanitizer on a busy
     %% machine, past EUnit's default 5 s.
     {timeout, 60, ?_assertEqual({ok, checksum_ref(1, Big)}, sums:checksum(1, Big))},
     ?_assertEqual({error, empty}, sums:checksum(7, <<>>))].

error_message_test() ->
    try sums:checksum(7, foo) of
        _ -> error(no_exception)
    catch
        error:badarg:Stack ->
            Text = lists:flatten(erl_error:format_exception(error, badarg, Stack)),
            ?assertNotEqual(nomatch, string:find(Text, "argument 2: expected a binary, got: foo"))
    end.

%% The slice refers to the input binary: its referenced size is the whole input.
%% Negative control: binary:copy/1 of the slice refers only to its own bytes.
middle_is_a_slice_test() ->
    Big = binary:copy(<<"0123456789">>, 1000),
    Mid = sums:middle(Big, 100, 1000),
    ?assertEqual(binary:part(Big, 100, 1000), Mid),
    ?assertEqual(byte_size(Big), binary:referenced_byte_size(Mid)),
    ?assertEqual(1000, binary:referenced_byte_size(binary:copy(Mid))).

middle_out_of_range_test() ->
    ?assertError(erange, sums:middle(<<"abc">>, 2, 5)).
