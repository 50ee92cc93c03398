# examples/openssl/openssl.mk: nc_crypto, an OpenSSL 3 binding (digests, HMAC,
# AEAD; two C files and a shared header) built like any nocopy module, and its
# benchmark against OTP's crypto.
# Included by the top-level Makefile (include $(wildcard examples/*/*.mk)).
#
#   make                    builds $(BUILD)/nc_crypto: priv/nc_crypto_nif.so,
#                           nc_crypto_drv.so, ebin/nc_crypto.beam, nc_crypto_drv.beam
#                           and the benchmark driver nc_crypto_bench.beam
#   make bench-crypto       nc_crypto (NIF and driver) against crypto, side by side;
#                           writes bench/results/crypto.md and crypto.json (~3 min)
#   make bench-crypto-quick the same, tiny sizes and few rounds, into
#                           $(BUILD)/nc_crypto/bench-quick/ (seconds; asserts no timing)
# See examples/openssl/README.md.

NC_CRYPTO_OUT := $(BUILD)/nc_crypto
NC_CRYPTO_SRCS := examples/openssl/nc_crypto.c examples/openssl/nc_crypto_aead.c
$(eval $(call nocopy_module,nc_crypto,$(NC_CRYPTO_SRCS),-lcrypto,$(NC_CRYPTO_OUT)))
$(call nocopy_user_objs,$(NC_CRYPTO_SRCS),$(NC_CRYPTO_OUT)): examples/openssl/nc_crypto.h
EXAMPLE_TARGETS += nc_crypto_all
EXAMPLE_EBINS += $(NC_CRYPTO_OUT)/ebin

# The benchmark driver is plain Erlang, not generated: an explicit rule, which
# wins over nocopy_module's generated-stub pattern rule for $(NC_CRYPTO_OUT)/ebin.
NC_CRYPTO_BENCH_BEAM := $(NC_CRYPTO_OUT)/ebin/nc_crypto_bench.beam

$(NC_CRYPTO_BENCH_BEAM): examples/openssl/nc_crypto_bench.erl
	@mkdir -p $(dir $@)
	$(ERLC) -Wall +warnings_as_errors +debug_info -o $(NC_CRYPTO_OUT)/ebin $<

nc_crypto_all: $(NC_CRYPTO_BENCH_BEAM)

NC_CRYPTO_BENCH_RESULTS ?= bench/results
NC_CRYPTO_BENCH_RUN = $(ERL) -noshell $(BENCH_ERL_FLAGS) -pa ebin $(NC_CRYPTO_OUT)/ebin \
    -run nc_crypto_bench main

.PHONY: bench-crypto bench-crypto-quick
bench-crypto: $(APP_BEAMS) nc_crypto_all
	@mkdir -p $(NC_CRYPTO_BENCH_RESULTS)
	$(NC_CRYPTO_BENCH_RUN) full $(NC_CRYPTO_BENCH_RESULTS)

bench-crypto-quick: $(APP_BEAMS) nc_crypto_all
	@mkdir -p $(NC_CRYPTO_OUT)/bench-quick
	$(NC_CRYPTO_BENCH_RUN) quick $(NC_CRYPTO_OUT)/bench-quick
