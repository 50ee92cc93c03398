# nocopy top-level Makefile. `make` builds, `make test` runs every test,
# `make demo` runs the seed scenario. See README.md.

# nocopy's own Erlang modules are built here, into ebin/ (see APP_BEAMS).
NOCOPY_EBIN := ebin
# The isolated backend's NIF library, one per build (make asan builds its
# own with the sanitizers): nocopy_iso finds it through NOCOPY_ISO_NIF_DIR.
NOCOPY_ISO_NIF := $(or $(BUILD),_build)/nocopy/priv/nocopy_iso_nif.so
include nocopy.mk
# The run-time FFI (c_src/ffi/, a nocopy module): its sources, its parser.
include mk/ffi.mk

# The nocopy_module rules below come before `all`: name the default goal.
.DEFAULT_GOAL := all

APP_SRCS  := $(wildcard src/*.erl)
APP_BEAMS := $(patsubst src/%.erl,ebin/%.beam,$(APP_SRCS)) ebin/nocopy.app

# Native test module (test/nocopy_test/, one file per topic): every type,
# probes, counters. Its objects also depend on the header the files share.
TEST_OUT := $(BUILD)/test
TEST_NATIVE_SRCS := $(addprefix test/nocopy_test/, \
    test_module.c test_args.c test_results.c test_handles.c test_sched.c)
$(eval $(call nocopy_module,nocopy_test,$(TEST_NATIVE_SRCS),,$(TEST_OUT)))
$(call nocopy_user_objs,$(TEST_NATIVE_SRCS),$(TEST_OUT)): test/nocopy_test/test_module.h

# The isolated backend's fault tests: functions that crash, abort, exit and
# never return (only their isolate is ever run).
ISO_FAULTS_OUT := $(BUILD)/iso_faults
$(eval $(call nocopy_module,iso_faults,test/iso_faults/iso_faults.c,,$(ISO_FAULTS_OUT)))

# Examples. Each one with more than a C file brings a make fragment,
# examples/NAME/NAME.mk, which defines its module(s) and appends to
# EXAMPLE_TARGETS (built by `all`) and EXAMPLE_EBINS (on the test code path).
EXAMPLE_TARGETS :=
EXAMPLE_EBINS :=

# The seed scenario: GSS-style wrap/unwrap over OpenSSL's AEAD.
GSS_OUT := $(BUILD)/gss_demo
$(eval $(call nocopy_module,gss_demo,examples/gss_demo/gss_demo.c,-lcrypto,$(GSS_OUT)))
EXAMPLE_TARGETS += gss_demo_all
EXAMPLE_EBINS += $(GSS_OUT)/ebin

# The README's example.
SUMS_OUT := $(BUILD)/sums
$(eval $(call nocopy_module,sums,examples/sums/sums.c,,$(SUMS_OUT)))
EXAMPLE_TARGETS += sums_all
EXAMPLE_EBINS += $(SUMS_OUT)/ebin

include $(wildcard examples/*/*.mk)

# The FFI's generated stubs, on the code path with the examples'.
EXAMPLE_TARGETS += nc_ffi_all
EXAMPLE_EBINS += $(NC_FFI_OUT)/ebin

TEST_ERLS  := $(wildcard test/*.erl)
TEST_BEAMS := $(patsubst test/%.erl,$(TEST_OUT)/ebin/%.beam,$(TEST_ERLS))

C_TEST_SRCS := $(wildcard test/c/test_*.c) test/c/run_tests.c
C_TEST_BIN  := $(BUILD)/c_tests

.PHONY: all core deps test eunit c-test demo clean dialyzer
all: $(APP_BEAMS) $(NOCOPY_ISO_NIF) nocopy_test_all iso_faults_all $(EXAMPLE_TARGETS)

# The C core and both backends, compiled (what rebar3's pre-hook checks).
core: $(NOCOPY_NIF_LIB_OBJS) $(NOCOPY_DRV_LIB_OBJS) $(NOCOPY_DESCRIBE_LIB_OBJS) \
      $(NOCOPY_ISO_SHARED_OBJS) $(NOCOPY_ISO_LIB_OBJS) $(NOCOPY_ISO_HOST_OBJS)

deps:
	@sh tools/deps.sh build test

ebin/%.beam: src/%.erl $(wildcard include/*.hrl src/*.hrl)
	@mkdir -p ebin
	$(ERLC) -Wall +warnings_as_errors +debug_info -I include -o ebin $<

ebin/nocopy.app: src/nocopy.app.src
	@mkdir -p ebin
	cp $< $@

$(TEST_OUT)/ebin/%.beam: test/%.erl $(wildcard test/*.hrl) $(APP_BEAMS)
	@mkdir -p $(dir $@)
	$(ERLC) -Wall +warnings_as_errors +debug_info -I include -I test -pa ebin -o $(TEST_OUT)/ebin $<

# The request decoder (c_src/wire/), the isolated backend's shared layer
# (c_src/iso_shared/) and the FFI's parser (NC_FFI_PARSER_SRCS, mk/ffi.mk) are
# pure C: their tests need no runtime. The core is compiled here with the
# tests' own backend, test/c/nc_backend.h.
C_TEST_DRV_SRCS := $(NOCOPY_WIRE_SRCS) $(NOCOPY_ISO_SHARED_SRCS)
C_TEST_CFLAGS    = $(NOCOPY_CORE_CFLAGS) -iquote test/c -iquote $(NOCOPY_SRC)/wire \
                   -iquote $(NOCOPY_SRC)/iso_shared -iquote $(NOCOPY_SRC)/ffi -Itest/c
$(C_TEST_BIN): $(C_TEST_SRCS) $(C_TEST_DRV_SRCS) $(NOCOPY_CORE_SRCS) $(NOCOPY_CORE_HEADERS) \
    $(wildcard test/c/*.h) $(wildcard $(NOCOPY_SRC)/wire/*.h) $(wildcard $(NOCOPY_SRC)/iso_shared/*.h) \
    $(NC_FFI_PARSER_SRCS) $(NC_FFI_PARSER_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(C_TEST_CFLAGS) -o $@ $(C_TEST_SRCS) $(C_TEST_DRV_SRCS) $(NOCOPY_CORE_SRCS) \
	    $(NC_FFI_PARSER_SRCS) $(NOCOPY_LDFLAGS) -lpthread -lm

c-test: $(C_TEST_BIN)
	$(C_TEST_BIN)

# The isolated backend's process and channel tests under ThreadSanitizer
# (the VM kills its child from a scheduler while the reader thread reaps it:
# test iso_kill_races_reap). A failure is TSan's report, exit status 66.
C_TEST_TSAN_BIN := $(BUILD)/c_tests_tsan
$(C_TEST_TSAN_BIN): $(C_TEST_SRCS) $(C_TEST_DRV_SRCS) $(NOCOPY_CORE_SRCS) $(NOCOPY_CORE_HEADERS) \
    $(wildcard test/c/*.h) $(wildcard $(NOCOPY_SRC)/iso_shared/*.h) $(NC_FFI_PARSER_SRCS)
	@mkdir -p $(dir $@)
	$(CC) $(C_TEST_CFLAGS) -O1 -g -fsanitize=thread -o $@ $(C_TEST_SRCS) $(C_TEST_DRV_SRCS) \
	    $(NOCOPY_CORE_SRCS) $(NC_FFI_PARSER_SRCS) -lpthread -lm
.PHONY: c-test-tsan
c-test-tsan: $(C_TEST_TSAN_BIN)
	TSAN_OPTIONS=halt_on_error=1:exitcode=66 $(C_TEST_TSAN_BIN) iso_

# The layering of the C sources (tools/check-layers.sh), per backend as it is
# linked (core-B with B): no file cycles, each folder depending only on itself
# and the core, the core only on the backend's data-only state file, no
# include across them.
.PHONY: check-layers check-bad-tables
check-layers: core nc_ffi_all
	@CHECK_LAYERS_MODULE_OBJS="ffi:$(NC_FFI_OUT)/obj" sh tools/check-layers.sh $(NOCOPY_OBJ) c_src

# A bad module table stops a user's build at the describe step, saying why
# (test/bad_table/): TABLE:WORDS, the words expected in the reason.
BAD_TABLES := dup:is.listed.twice atom:is.longer.than.255 funcs:301.functions
check-bad-tables: $(NOCOPY_DESCRIBE_LIB_OBJS)
	@mkdir -p $(BUILD)/bad_table
	@set -e; n=0; for c in $(BAD_TABLES); do \
	    t=$${c%%:*}; want=$$(echo "$${c#*:}" | tr . ' '); log=$(BUILD)/bad_table/$$t.log; \
	    if $(MAKE) --no-print-directory -f test/bad_table/bad_table.mk BAD_TABLE=$$t \
	        $(BUILD)/bad_table/$$t/gen/bad_$$t.nocopy >$$log 2>&1; then \
	        cat $$log; echo "check-bad-tables: the $$t table was built"; exit 1; fi; \
	    grep -q "nocopy: bad module table in bad_$$t: .*$$want" $$log || { \
	        cat $$log; echo "check-bad-tables: the $$t table did not fail for \"$$want\""; exit 1; }; \
	    n=$$((n + 1)); done; \
	echo "check-bad-tables: $$n bad tables stopped the build at the describe step"

EUNIT_MODULES = $(patsubst test/%.erl,%,$(wildcard test/*_tests.erl))
eunit: all $(TEST_BEAMS)
	NOCOPY_ISO_NIF_DIR=$(dir $(NOCOPY_ISO_NIF)) \
	$(ERL) -noshell -pa ebin $(TEST_OUT)/ebin $(ISO_FAULTS_OUT)/ebin $(EXAMPLE_EBINS) \
	    -eval 'case eunit:test([$(subst $(eval) ,$(comma),$(EUNIT_MODULES))], [verbose]) of ok -> halt(0); _ -> halt(1) end.'

comma := ,

# make test first builds everything its runs need with one job per core
# (test-build: the build is most of a clean run's time), then runs them one at
# a time (test-run), so the output stays in order. The docs run before EUnit
# (make doctest, mk/integration.mk), unless NOCOPY_DOCTEST=no (make asan says
# so: the user projects of the docs are not built with its sanitizers). EUnit
# runs last, so that its summary ("All N tests passed.") ends the output.
NOCOPY_JOBS ?= $(shell nproc 2>/dev/null || echo 1)
.PHONY: test-build test-run
test: deps
	@$(MAKE) --no-print-directory -j$(NOCOPY_JOBS) test-build
	@$(MAKE) --no-print-directory test-run

test-build: harden-build-tests fuzz-replay-build

test-run: all c-test check-layers check-bad-tables fuzz-replay
ifneq ($(NOCOPY_DOCTEST),no)
	@$(MAKE) --no-print-directory doctest
endif
	@$(MAKE) --no-print-directory eunit

demo: deps all
	NOCOPY_ISO_NIF_DIR=$(dir $(NOCOPY_ISO_NIF)) \
	$(ERL) -noshell -pa ebin $(GSS_OUT)/ebin -run gss_demo_main main $(DEMO_ARGS) -s init stop

# The applications nocopy calls (compiler: nocopy_ffi:module/4), and crypto
# (the demo's oracle). The PLT's name lists them, so a change builds a new one.
PLT_APPS := erts kernel stdlib crypto compiler
PLT := $(BUILD)/nocopy_$(subst $(eval) ,_,$(PLT_APPS)).plt
$(PLT):
	@mkdir -p $(dir $@)
	dialyzer --build_plt --output_plt $@ --apps $(PLT_APPS)

# Dialyzer over the application and the generated stubs of the examples.
dialyzer: all $(PLT)
	dialyzer --plt $(PLT) -Wunmatched_returns -Werror_handling \
	    ebin $(EXAMPLE_EBINS)

clean:
	rm -rf _build ebin priv/*.so

# Fragments owned by their topics: benchmarks, hardening (which includes
# fuzz/fuzz.mk, the fuzz targets), the docs and user projects.
-include bench/bench.mk
-include bench/iso.mk
-include mk/hardening.mk
-include mk/integration.mk
