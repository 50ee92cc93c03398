%% nc_crypto_util.hrl: what the OpenSSL binding's test modules share
%% (nc_crypto_tests and nc_crypto_oracle): the algorithms, random bytes, key
%% sizes.

-compile({nowarn_unused_function, [{rnd, 1}, {key_size, 1}]}).

-define(MIB, (1024 * 1024)).
-define(TYPES, [sha224, sha256, sha384, sha512]).
-define(CIPHERS, [aes_128_gcm, aes_256_gcm, chacha20_poly1305]).

rnd(N) -> crypto:strong_rand_bytes(N).

key_size(aes_128_gcm) -> 16;
key_size(_) -> 32.
