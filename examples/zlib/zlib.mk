# examples/zlib/zlib.mk: the zlib binding (nc_zlib.c, linked with -lz), its
# benchmark driver and `make bench-zlib`. Included by the top-level Makefile
# (include $(wildcard examples/*/*.mk)) after nocopy.mk. See examples/zlib/README.md.

NC_ZLIB_OUT := $(BUILD)/nc_zlib
$(eval $(call nocopy_module,nc_zlib,examples/zlib/nc_zlib.c,-lz,$(NC_ZLIB_OUT)))
EXAMPLE_TARGETS += nc_zlib_all
EXAMPLE_EBINS += $(NC_ZLIB_OUT)/ebin

# The benchmark driver is plain Erlang, not generated, so it has its own rule
# (an explicit rule wins over nocopy_module's generated-stub pattern rule for
# $(NC_ZLIB_OUT)/ebin/%.beam). `make all` builds it, `make dialyzer` checks it.
NC_ZLIB_BENCH_BEAM := $(NC_ZLIB_OUT)/ebin/nc_zlib_bench.beam

$(NC_ZLIB_BENCH_BEAM): examples/zlib/nc_zlib_bench.erl
	@mkdir -p $(dir $@)
	$(ERLC) -Wall +warnings_as_errors +debug_info -o $(NC_ZLIB_OUT)/ebin $<

nc_zlib_all: $(NC_ZLIB_BENCH_BEAM)

# `make bench-zlib`: nc_zlib (NIF and driver) against OTP's zlib, side by side
# in one run; about 3 minutes on 2 cores. Writes bench/results/zlib.md and
# zlib.json. `make bench-zlib-quick`: every contender and operation at 1 and
# 64 KiB in seconds, into $(NC_ZLIB_OUT)/bench-quick (a smoke run; it still
# checks every result).
NC_ZLIB_BENCH_RUN = $(ERL) -noshell -pa ebin $(NC_ZLIB_OUT)/ebin -run nc_zlib_bench main

.PHONY: bench-zlib bench-zlib-quick
bench-zlib: $(APP_BEAMS) nc_zlib_all
	$(NC_ZLIB_BENCH_RUN) full bench/results

bench-zlib-quick: $(APP_BEAMS) nc_zlib_all
	$(NC_ZLIB_BENCH_RUN) quick $(NC_ZLIB_OUT)/bench-quick
