# fuzz/fuzz.mk: every fuzz target's build and runs, in one place. Included by
# mk/hardening.mk (after nocopy.mk, so NOCOPY_* and BUILD are known).
#
# The targets, one fuzz/fuzz_<name>.c each, with its corpus in fuzz/corpus/:
#   fuzz_drv_request  the driver's request decoder (c_src/wire/nc_wire.c
#                     alone; corpus drv_request/, seeds from fuzz/gen_corpus.escript)
#   fuzz_format       format strings (nc_format.c), against fuzz_format_ref.c
#   fuzz_iovec        the iodata walker (nc_iovec.c)
#   fuzz_args         the argument readers (nc_args.c)
#   fuzz_ffi_parse    the FFI's declaration parser (c_src/ffi/, NC_FFI_PARSER_SRCS
#                     of mk/ffi.mk: pure C, no core, no backend)
#   fuzz_iso_call     the isolated backend's child reading a CALL (c_src/iso/
#                     but its main, over the core compiled for it, wire/ and
#                     iso_shared/; corpus iso_call/, seeds from
#                     fuzz/gen_iso_corpus.escript)
#   fuzz_iso_reply    the VM decoding a REPLY from the child (c_src/iso_host/
#                     reply, blocks and ref, over a fake erl_nif:
#                     fuzz/fake_erl_nif/; corpus iso_reply/, same generator)
# The last three run the core over a fake backend (fuzz/fake_backend.h),
# compiled with -iquote fuzz so that the core's "nc_backend.h" is
# fuzz/nc_backend.h.
#
#   make fuzz-replay   every corpus replayed by a gcc build with fuzz/replay.c,
#                      with ASan and UBSan unless FUZZ_REPLAY_SAN is set empty
#                      (part of make test)
#   make fuzz          libFuzzer (clang; sh tools/deps.sh fuzz installs it) on
#                      each target, FUZZ_SECONDS (default 60) or FUZZ_RUNS
#                      executions, whichever ends first; the count of each run
#                      is appended to $(BUILD)/fuzz/fuzz-runs.log. New inputs go
#                      to $(BUILD)/fuzz/work/<target>/, crashes to crashes/.
#   make fuzz-merge    adds the work corpora's new coverage to the committed ones
#   make fuzz-corpus   regenerates the driver decoder's seeds
# FUZZ_TARGETS="fuzz_format fuzz_args" limits fuzz, fuzz-replay and fuzz-merge
# to those targets. Without sanitizers, for valgrind (mk/hardening.mk), the
# same builds are $(FUZZ_PLAIN_BINS).

FUZZ_OUT          := $(BUILD)/fuzz
FUZZ_CORE_TARGETS := fuzz_format fuzz_iovec fuzz_args
FUZZ_DRV_TARGETS  := fuzz_drv_request
FUZZ_FFI_TARGETS  := fuzz_ffi_parse
FUZZ_ISO_TARGETS  := fuzz_iso_call fuzz_iso_reply
FUZZ_ALL_TARGETS  := $(FUZZ_DRV_TARGETS) $(FUZZ_CORE_TARGETS) $(FUZZ_FFI_TARGETS) \
                     $(FUZZ_ISO_TARGETS)
FUZZ_TARGETS      ?= $(FUZZ_ALL_TARGETS)
FUZZ_SECONDS      ?= 60
FUZZ_RUNS         ?= -1
FUZZ_CC           ?= clang
FUZZ_REPLAY_SAN   ?= -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS        = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -g -O1 \
                     -fno-omit-frame-pointer -Iinclude -iquote c_src/core \
                     -iquote fuzz -iquote c_src/wire -Ifuzz

# Corpus and dictionary of a target, as a shell expression of $$t (the
# decoder's are named after its messages, the others after the target).
FUZZ_STEM = $$(case $$t in fuzz_drv_request) echo drv_request;; \
                fuzz_iso_call) echo iso_call;; fuzz_iso_reply) echo iso_reply;; \
                *) echo $$t;; esac)

# What a target links besides its own file(s) and fuzz/replay.c (or libFuzzer).
FUZZ_FAKE      := fuzz/fake_backend.c fuzz/fake_prims.c fuzz/fake_terms.c
FUZZ_CORE_LIBS  = $(FUZZ_FAKE) $(NOCOPY_CORE_SRCS)
FUZZ_DRV_LIBS  := c_src/wire/nc_wire.c
# A target's own files: fuzz/<target>.c and, for fuzz_format, its reference.
fuzz_own        = fuzz/$(1).c $(filter fuzz/$(1)_ref.c,$(wildcard fuzz/*_ref.c))
FUZZ_CORE_DEPS  = $(FUZZ_CORE_LIBS) $(wildcard fuzz/*.h) fuzz/replay.c \
                  $(wildcard fuzz/*_ref.c) $(NOCOPY_CORE_HEADERS)
FUZZ_DRV_DEPS   = $(FUZZ_DRV_LIBS) c_src/wire/nc_wire.h include/nocopy.h include/nocopy_status.h \
                  fuzz/replay.c

FUZZ_REPLAY_BINS := $(addprefix $(FUZZ_OUT)/replay/,$(FUZZ_ALL_TARGETS))
FUZZ_PLAIN_BINS  := $(addprefix $(FUZZ_OUT)/replay-plain/,$(FUZZ_ALL_TARGETS))
FUZZ_BINS        := $(addprefix $(FUZZ_OUT)/bin/,$(FUZZ_ALL_TARGETS))

# ---- replays: gcc, a main() that feeds every file of a corpus -------------------

$(addprefix $(FUZZ_OUT)/replay/,$(FUZZ_CORE_TARGETS)): $(FUZZ_OUT)/replay/%: fuzz/%.c $(FUZZ_CORE_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(FUZZ_CFLAGS) $(FUZZ_REPLAY_SAN) -o $@ fuzz/replay.c $(call fuzz_own,$*) \
	    $(FUZZ_CORE_LIBS) -lm

$(addprefix $(FUZZ_OUT)/replay-plain/,$(FUZZ_CORE_TARGETS)): $(FUZZ_OUT)/replay-plain/%: fuzz/%.c $(FUZZ_CORE_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(FUZZ_CFLAGS) -o $@ fuzz/replay.c $(call fuzz_own,$*) $(FUZZ_CORE_LIBS) -lm

$(FUZZ_OUT)/replay/fuzz_drv_request: fuzz/fuzz_drv_request.c $(FUZZ_DRV_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(FUZZ_CFLAGS) $(FUZZ_REPLAY_SAN) -o $@ fuzz/replay.c $< $(FUZZ_DRV_LIBS)

$(FUZZ_OUT)/replay-plain/fuzz_drv_request: fuzz/fuzz_drv_request.c $(FUZZ_DRV_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(FUZZ_CFLAGS) -o $@ fuzz/replay.c $< $(FUZZ_DRV_LIBS)

$(FUZZ_OUT)/replay/fuzz_ffi_parse: fuzz/fuzz_ffi_parse.c $(NC_FFI_PARSER_SRCS) $(NC_FFI_PARSER_HEADERS) fuzz/replay.c
	@mkdir -p $(dir $@)
	$(CC) $(FUZZ_CFLAGS) -iquote c_src/ffi $(FUZZ_REPLAY_SAN) -o $@ fuzz/replay.c $< $(NC_FFI_PARSER_SRCS)

$(FUZZ_OUT)/replay-plain/fuzz_ffi_parse: fuzz/fuzz_ffi_parse.c $(NC_FFI_PARSER_SRCS) $(NC_FFI_PARSER_HEADERS) fuzz/replay.c
	@mkdir -p $(dir $@)
	$(CC) $(FUZZ_CFLAGS) -iquote c_src/ffi -o $@ fuzz/replay.c $< $(NC_FFI_PARSER_SRCS)

# The child's CALL reader: the child backend but its main, the core compiled
# for it (its nc_backend.h is c_src/iso/'s, so no -iquote fuzz here), wire/
# and iso_shared/.
FUZZ_ISO_CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -g -O1 -fno-omit-frame-pointer \
                  -Iinclude -iquote c_src/core -iquote c_src/wire -iquote c_src/iso_shared \
                  -iquote c_src/iso
FUZZ_ISO_LIBS   = $(filter-out %/nc_iso_main.c,$(NOCOPY_ISO_SRCS)) $(NOCOPY_CORE_SRCS) \
                  $(NOCOPY_WIRE_SRCS) $(NOCOPY_ISO_SHARED_SRCS)
FUZZ_ISO_DEPS   = $(FUZZ_ISO_LIBS) $(NOCOPY_CORE_HEADERS) $(wildcard c_src/iso/*.h) \
                  $(wildcard c_src/iso_shared/*.h) $(wildcard c_src/wire/*.h) fuzz/replay.c

$(FUZZ_OUT)/replay/fuzz_iso_call: fuzz/fuzz_iso_call.c $(FUZZ_ISO_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(FUZZ_ISO_CFLAGS) $(FUZZ_REPLAY_SAN) -o $@ fuzz/replay.c $< $(FUZZ_ISO_LIBS) \
	    -lpthread -lm

$(FUZZ_OUT)/replay-plain/fuzz_iso_call: fuzz/fuzz_iso_call.c $(FUZZ_ISO_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(FUZZ_ISO_CFLAGS) -o $@ fuzz/replay.c $< $(FUZZ_ISO_LIBS) -lpthread -lm

# The VM's reply decoder and the accounting it calls, over the fake erl_nif.
FUZZ_HOST_CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -g -O1 -fno-omit-frame-pointer \
                   -Iinclude -Ifuzz/fake_erl_nif -iquote c_src/iso_shared -iquote c_src/iso_host
FUZZ_HOST_LIBS   = fuzz/fake_erl_nif.c $(addprefix c_src/iso_host/nc_iso_host_, \
                     reply.c blocks.c ref.c send.c state.c) $(NOCOPY_ISO_SHARED_SRCS)
FUZZ_HOST_DEPS   = $(FUZZ_HOST_LIBS) fuzz/fake_erl_nif/erl_nif.h $(wildcard c_src/iso_host/*.h) \
                   $(wildcard c_src/iso_shared/*.h) fuzz/replay.c

$(FUZZ_OUT)/replay/fuzz_iso_reply: fuzz/fuzz_iso_reply.c $(FUZZ_HOST_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(FUZZ_HOST_CFLAGS) $(FUZZ_REPLAY_SAN) -o $@ fuzz/replay.c $< $(FUZZ_HOST_LIBS) \
	    -lpthread -lm

$(FUZZ_OUT)/replay-plain/fuzz_iso_reply: fuzz/fuzz_iso_reply.c $(FUZZ_HOST_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(FUZZ_HOST_CFLAGS) -o $@ fuzz/replay.c $< $(FUZZ_HOST_LIBS) -lpthread -lm

# ---- libFuzzer builds (clang) ------------------------------------------------------

# The harness's own helpers (the fake backend, the term parser, the exact
# arena) are built with the sanitizers but without coverage instrumentation:
# in fuzz_iovec the instrumented term parser took two thirds of the time, and
# its coverage told libFuzzer about the harness rather than about nocopy.
# Coverage, and so the search, is measured on the core and the target itself.
# The core's targets link fuzz/arena_exact.c instead of nc_arena.c, so every
# arena allocation has its own ASan redzones; the replays link the real arena.
FUZZ_HELPER_OBJS := $(addprefix $(FUZZ_OUT)/helpers/, \
                      $(notdir $(FUZZ_FAKE:.c=.o)) arena_exact.o)
FUZZ_LIBFUZZER_CORE = $(filter-out %/nc_arena.c,$(NOCOPY_CORE_SRCS))

$(FUZZ_HELPER_OBJS): $(FUZZ_OUT)/helpers/%.o: fuzz/%.c $(FUZZ_CORE_DEPS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=address,undefined -fno-sanitize-recover=all \
	    -c -o $@ $<

$(addprefix $(FUZZ_OUT)/bin/,$(FUZZ_CORE_TARGETS)): $(FUZZ_OUT)/bin/%: fuzz/%.c $(FUZZ_HELPER_OBJS) $(FUZZ_CORE_DEPS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	    -o $@ $(call fuzz_own,$*) $(FUZZ_LIBFUZZER_CORE) $(FUZZ_HELPER_OBJS) -lm

$(FUZZ_OUT)/bin/fuzz_drv_request: fuzz/fuzz_drv_request.c $(FUZZ_DRV_DEPS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	    -o $@ $< $(FUZZ_DRV_LIBS)

$(FUZZ_OUT)/bin/fuzz_ffi_parse: fuzz/fuzz_ffi_parse.c $(NC_FFI_PARSER_SRCS) $(NC_FFI_PARSER_HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -iquote c_src/ffi -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=all -o $@ $< $(NC_FFI_PARSER_SRCS)

$(FUZZ_OUT)/bin/fuzz_iso_call: fuzz/fuzz_iso_call.c $(FUZZ_ISO_DEPS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_ISO_CFLAGS) -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=all -o $@ $< $(FUZZ_ISO_LIBS) -lpthread -lm

$(FUZZ_OUT)/bin/fuzz_iso_reply: fuzz/fuzz_iso_reply.c $(FUZZ_HOST_DEPS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_HOST_CFLAGS) -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=all -o $@ $< $(FUZZ_HOST_LIBS) -lpthread -lm

# ---- runs ----------------------------------------------------------------------------

.PHONY: fuzz fuzz-replay fuzz-replay-build fuzz-merge fuzz-corpus

# The replay programs alone, built (make test builds them in parallel first).
fuzz-replay-build: $(addprefix $(FUZZ_OUT)/replay/,$(FUZZ_TARGETS))

fuzz-replay: fuzz-replay-build
	@set -e; for t in $(FUZZ_TARGETS); do \
	    printf '%s: ' $$t; $(FUZZ_OUT)/replay/$$t fuzz/corpus/$(FUZZ_STEM); done

# Each target runs FUZZ_SECONDS on a work corpus seeded by the committed one.
fuzz: $(addprefix $(FUZZ_OUT)/bin/,$(FUZZ_TARGETS))
	@set -e; for t in $(FUZZ_TARGETS); do \
	    s=$(FUZZ_STEM); \
	    mkdir -p $(FUZZ_OUT)/work/$$t $(FUZZ_OUT)/crashes/$$t $(FUZZ_OUT)/logs; \
	    dict=; [ -f fuzz/$$s.dict ] && dict=-dict=fuzz/$$s.dict; \
	    echo "== $$t, $(FUZZ_SECONDS) s"; \
	    $(FUZZ_OUT)/bin/$$t -max_total_time=$(FUZZ_SECONDS) -runs=$(FUZZ_RUNS) -rss_limit_mb=3000 \
	        -print_final_stats=1 -artifact_prefix=$(FUZZ_OUT)/crashes/$$t/ $$dict \
	        $(FUZZ_OUT)/work/$$t fuzz/corpus/$$s 2>$(FUZZ_OUT)/logs/$$t.log || \
	        { tail -60 $(FUZZ_OUT)/logs/$$t.log; exit 1; }; \
	    runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $(FUZZ_OUT)/logs/$$t.log); \
	    echo "$$(date -u +%FT%TZ) $$t $$runs executions clean" | tee -a $(FUZZ_OUT)/fuzz-runs.log; \
	done

fuzz-merge: $(addprefix $(FUZZ_OUT)/bin/,$(FUZZ_TARGETS))
	@for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(FUZZ_OUT)/work/$$t; \
	    $(FUZZ_OUT)/bin/$$t -merge=1 fuzz/corpus/$(FUZZ_STEM) $(FUZZ_OUT)/work/$$t; done

fuzz-corpus: all
	escript fuzz/gen_corpus.escript fuzz/corpus/drv_request
	escript fuzz/gen_iso_corpus.escript fuzz/corpus/iso_call fuzz/corpus/iso_reply
