# bench/bench.mk: `make bench` (full run, writes bench/results/) and
# `make bench-quick` (a smoke run of every code path in seconds; asserts no
# timing; writes $(BUILD)/bench/results-quick/). Included by the top-level
# Makefile after nocopy.mk. Everything is built under $(BUILD)/bench.
# See bench/README.md.

BENCH_OUT     := $(BUILD)/bench
BENCH_RESULTS ?= bench/results
BENCH_QUICK_RESULTS := $(BENCH_OUT)/results-quick
BENCH_ERL_FLAGS ?=

# The nocopy contenders, built like any user module: nc_bench_nif.so +
# nc_bench.beam, nc_bench_drv.so + nc_bench_drv.beam.
$(eval $(call nocopy_module,nc_bench,bench/nc_bench.c,,$(BENCH_OUT)))

# The FFI benchmark's hand-wrapped baseline (bench/nc_ffi_hand.c, nocopy over
# zlib and libc), beside nocopy_ffi (mk/ffi.mk).
$(eval $(call nocopy_module,nc_ffi_hand,bench/nc_ffi_hand.c,-lz,$(BENCH_OUT)))

# Hand-written baselines and copying alternatives: no nocopy layer.
BENCH_CFLAGS  = $(NOCOPY_CFLAGS) -Ibench
BENCH_NIFS    := hand_nif copy_nif
BENCH_DRVS    := hand_drv hand_drv_async copy_drv call_drv
BENCH_LIBS    := $(patsubst %,$(BENCH_OUT)/priv/%.so,$(BENCH_NIFS) $(BENCH_DRVS))
BENCH_EXT     := $(BENCH_OUT)/priv/ext_port
# erl_interface's ei, for the port_call driver (external term format).
BENCH_EI_LIB  := $(ERTS_INC)/../lib/libei.a

BENCH_ERLS    := nocopy_bench nocopy_bench_contenders nocopy_bench_phases nocopy_bench_stats \
                 nocopy_bench_targets nocopy_bench_report nocopy_bench_md \
                 bench_ports hand_nif copy_nif nocopy_bench_ffi
BENCH_BEAMS   := $(patsubst %,$(BENCH_OUT)/ebin/%.beam,$(BENCH_ERLS))

$(BENCH_OUT)/priv/%.so: bench/%.c bench/bench_proto.h
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -shared -o $@ $< $(NOCOPY_LDFLAGS)

$(BENCH_OUT)/priv/call_drv.so: bench/call_drv.c bench/bench_proto.h
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -shared -o $@ $< $(BENCH_EI_LIB) $(NOCOPY_LDFLAGS) -lpthread

$(BENCH_EXT): bench/ext_port.c bench/bench_proto.h
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -o $@ $< $(NOCOPY_LDFLAGS)

# bench/prof/side_by_side.erl: contenders timed side by side (see bench/README.md).
# bench/prof/stub_shape.erl: what the NIF stub's shape costs (bench/README.md).
# bench/prof/conc_side_by_side.erl: the worker path under concurrency (bench/README.md).
# bench/prof/drv_stub_parts.erl: the driver seed call's layers, peeled one at a time.
BENCH_PROF_BEAMS := $(BENCH_OUT)/ebin/side_by_side.beam $(BENCH_OUT)/ebin/iso_tight_loop.beam $(BENCH_OUT)/ebin/stub_shape.beam \
                    $(BENCH_OUT)/ebin/conc_side_by_side.beam $(BENCH_OUT)/ebin/drv_stub_parts.beam \
                    $(BENCH_OUT)/ebin/paired.beam
$(BENCH_PROF_BEAMS): $(BENCH_OUT)/ebin/%.beam: bench/prof/%.erl $(APP_BEAMS)
	@mkdir -p $(dir $@)
	$(ERLC) -Wall +warnings_as_errors +debug_info -o $(BENCH_OUT)/ebin $<

# A static pattern rule: it wins over nocopy_module's generated-stub rule.
$(BENCH_BEAMS): $(BENCH_OUT)/ebin/%.beam: bench/%.erl bench/nocopy_bench.hrl $(APP_BEAMS)
	@mkdir -p $(dir $@)
	$(ERLC) -Wall +warnings_as_errors +debug_info -pa ebin -o $(BENCH_OUT)/ebin $<

.PHONY: bench bench-quick bench-build bench-deps bench-plot bench-report

bench-build: $(APP_BEAMS) nc_bench_all nc_ffi_hand_all nc_ffi_all $(BENCH_LIBS) $(BENCH_EXT) $(BENCH_BEAMS) $(BENCH_PROF_BEAMS)

BENCH_RUN = $(ERL) -noshell $(BENCH_ERL_FLAGS) -pa ebin $(BENCH_OUT)/ebin -run nocopy_bench main

# Debian packages (gnuplot-nox for the plot), installed only when missing.
bench-deps:
	@sh tools/deps.sh build bench || \
	    echo "bench: could not install the bench packages; without gnuplot-nox there is no plot"

# Full run, the FFI's and the isolated backend's after it: about 4 minutes on 2
# cores (3.2 and 3.7 in session 9). Results, table and plot in bench/results/.
bench: bench-deps bench-build
	@mkdir -p $(BENCH_RESULTS)
	$(BENCH_RUN) full $(BENCH_RESULTS)
	@$(MAKE) --no-print-directory bench-plot BENCH_PLOT_DIR=$(BENCH_RESULTS)
	$(BENCH_FFI_RUN) full $(BENCH_RESULTS)
	$(BENCH_ISO_RUN) full $(BENCH_RESULTS)

# The FFI benchmark (bench/nocopy_bench_ffi.erl): nocopy_ffi against the same
# functions wrapped by hand; writes ffi.md and ffi.term. `make bench` runs it
# after the main run; bench-ffi alone takes about a minute, bench-ffi-quick
# seconds (into $(BENCH_QUICK_RESULTS)).
BENCH_FFI_RUN = $(ERL) -noshell $(BENCH_ERL_FLAGS) -pa ebin $(BENCH_OUT)/ebin $(NC_FFI_OUT)/ebin \
                -run nocopy_bench_ffi main
.PHONY: bench-ffi bench-ffi-quick
bench-ffi: bench-build
	@mkdir -p $(BENCH_RESULTS)
	$(BENCH_FFI_RUN) full $(BENCH_RESULTS)

bench-ffi-quick: bench-build
	@mkdir -p $(BENCH_QUICK_RESULTS)
	$(BENCH_FFI_RUN) quick $(BENCH_QUICK_RESULTS)

# Smoke run: every contender and phase once, tiny sizes, no timing asserted.
bench-quick: bench-build
	@mkdir -p $(BENCH_QUICK_RESULTS)
	$(BENCH_RUN) quick $(BENCH_QUICK_RESULTS)
	@$(MAKE) --no-print-directory bench-plot BENCH_PLOT_DIR=$(BENCH_QUICK_RESULTS)
	$(BENCH_FFI_RUN) quick $(BENCH_QUICK_RESULTS)
	$(BENCH_ISO_RUN) quick $(BENCH_QUICK_RESULTS)

# Rewrites results.json, results.md and the plot from results.term, without
# measuring again (after a change to the report: nocopy_bench_report,
# nocopy_bench_targets, nocopy_bench_md).
bench-report: bench-build
	$(ERL) -noshell -pa ebin $(BENCH_OUT)/ebin -run nocopy_bench_report regenerate $(BENCH_RESULTS)
	@$(MAKE) --no-print-directory bench-plot BENCH_PLOT_DIR=$(BENCH_RESULTS)

# The plot needs Debian's gnuplot-nox (sh tools/deps.sh bench); without it the
# rest of the results stand and this says so.
bench-plot:
	@if command -v gnuplot >/dev/null 2>&1; then \
	    (cd $(BENCH_PLOT_DIR) && gnuplot latency.gp) && echo "bench: wrote $(BENCH_PLOT_DIR)/latency.png"; \
	else \
	    echo "bench: gnuplot not found (sh tools/deps.sh bench): no latency.png"; \
	fi

# ---- profiling nocopy's own code, outside the VM (see bench/README.md) -------
# callgrind cannot run OTP 25's JIT VM, so the NIF code paths run in a plain
# process against bench/prof/fake_erl_nif.c: nif_prof_nc links the real nocopy
# core and NIF backend with nc_bench.c, nif_prof_hand links hand_nif.c.
BENCH_PROF := $(BENCH_OUT)/prof
BENCH_PROF_CFLAGS = $(NOCOPY_CFLAGS) -Ibench/prof

# The harness and the stand-in VM are compiled apart, without link-time
# optimisation, so the link inlines nocopy into nc_bench.c exactly as it does
# for nc_bench_nif.so, and no stand-in into either: the VM's functions are
# calls into another library in the real VM too.
$(BENCH_PROF)/%.o: bench/prof/%.c $(wildcard bench/prof/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_PROF_CFLAGS) -c -o $@ $<

$(BENCH_PROF)/nif_prof_nc: $(BENCH_PROF)/nif_prof.o $(BENCH_PROF)/fake_erl_nif.o \
        $(BENCH_OUT)/obj/nc_bench.o $(NOCOPY_NIF_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(OPTFLAGS) $(NOCOPY_LTO) -o $@ $^ $(NOCOPY_LDFLAGS) -lpthread

$(BENCH_PROF)/nif_prof_hand: bench/prof/nif_prof.c bench/prof/fake_erl_nif.c bench/prof/fake_erl_nif.h \
        bench/hand_nif.c
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_PROF_CFLAGS) -o $@ bench/prof/nif_prof.c bench/prof/fake_erl_nif.c bench/hand_nif.c

.PHONY: bench-prof
bench-prof: $(BENCH_PROF)/nif_prof_nc $(BENCH_PROF)/nif_prof_hand

# The driver's outputv, replayed outside the VM against bench/prof/fake_erl_driver.c,
# on requests recorded from nocopy_port (so they follow the current wire format).
$(BENCH_PROF)/drv_prof_nc: $(BENCH_PROF)/drv_prof.o $(BENCH_PROF)/fake_erl_driver.o \
        $(BENCH_OUT)/obj/nc_bench.o $(NOCOPY_DRV_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(OPTFLAGS) $(NOCOPY_LTO) -o $@ $^ $(NOCOPY_LDFLAGS) -lpthread

$(BENCH_PROF)/drv_prof_hand: bench/prof/drv_prof.c bench/prof/fake_erl_driver.c \
        bench/prof/fake_erl_driver.h bench/hand_drv.c bench/bench_proto.h
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_PROF_CFLAGS) -Ibench -o $@ bench/prof/drv_prof.c bench/prof/fake_erl_driver.c \
	    bench/hand_drv.c -lpthread

# nocopy_ffi's call path (bench/prof/ffi_prof.c): nc_ffi against nc_ffi_hand,
#   valgrind --tool=callgrind --toggle-collect=run_calls $(BENCH_PROF)/ffi_prof_nc labs 10000
$(BENCH_PROF)/ffi_prof_nc: bench/prof/ffi_prof.c bench/prof/fake_erl_nif.c bench/prof/fake_erl_nif.h \
        $(nc_ffi_OBJS) $(NOCOPY_NIF_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_PROF_CFLAGS) -o $@ bench/prof/ffi_prof.c bench/prof/fake_erl_nif.c \
	    $(nc_ffi_OBJS) $(NOCOPY_NIF_LIB_OBJS) -lffi -ldl -lpthread

$(BENCH_PROF)/ffi_prof_hand: bench/prof/ffi_prof.c bench/prof/fake_erl_nif.c bench/prof/fake_erl_nif.h \
        $(BENCH_OUT)/obj/nc_ffi_hand.o $(NOCOPY_NIF_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_PROF_CFLAGS) -o $@ bench/prof/ffi_prof.c bench/prof/fake_erl_nif.c \
	    $(BENCH_OUT)/obj/nc_ffi_hand.o $(NOCOPY_NIF_LIB_OBJS) -lz -lpthread

bench-prof: $(BENCH_PROF)/ffi_prof_nc $(BENCH_PROF)/ffi_prof_hand

bench-prof: $(BENCH_PROF)/drv_prof_nc $(BENCH_PROF)/drv_prof_hand bench-build
	$(ERL) -noshell -pa ebin $(BENCH_OUT)/ebin -run nocopy_bench prof_requests $(BENCH_PROF)/req 4096
	@echo "bench: hand-written requests for drv_prof_hand"
	$(ERL) -noshell -pa ebin $(BENCH_OUT)/ebin -run nocopy_bench prof_hand_requests $(BENCH_PROF)/req_hand 4096
