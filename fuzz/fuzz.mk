# fuzz/fuzz.mk: the driver request decoder's fuzz target (fuzz/fuzz_drv_request.c),
# included by the top-level Makefile.
#
#   make fuzz-replay   gcc build of the target with fuzz/replay.c, run over the
#                      committed corpus fuzz/corpus/drv_request/ (part of make test),
#                      with ASan and UBSan unless FUZZ_REPLAY_SAN is set empty.
#   make fuzz          clang libFuzzer build (sh tools/deps.sh fuzz installs clang),
#                      runs FUZZ_SECONDS (default 60) or FUZZ_RUNS executions,
#                      whichever ends first, and appends the count to
#                      $(BUILD)/fuzz/fuzz-runs.log. New inputs go to
#                      _build/fuzz/corpus/drv_request/; copy the interesting ones
#                      (crashes fixed, new coverage) into fuzz/corpus/drv_request/.
#   make fuzz-corpus   regenerates the encoder-made seeds (fuzz/gen_corpus.escript).

FUZZ_OUT        := $(BUILD)/fuzz
FUZZ_SECONDS    ?= 60
FUZZ_RUNS       ?= -1
FUZZ_CC         ?= clang
FUZZ_REPLAY_SAN ?= -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS      = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -g -O1 \
                   -Iinclude -iquote c_src/drv -fno-omit-frame-pointer
FUZZ_DRV_SRCS    = fuzz/fuzz_drv_request.c c_src/drv/nc_drv_wire.c
FUZZ_DRV_DEPS    = $(FUZZ_DRV_SRCS) c_src/drv/nc_drv_wire.h include/nocopy_status.h

.PHONY: fuzz fuzz-replay fuzz-corpus

$(FUZZ_OUT)/replay_drv_request: fuzz/replay.c $(FUZZ_DRV_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(FUZZ_CFLAGS) $(FUZZ_REPLAY_SAN) -o $@ fuzz/replay.c $(FUZZ_DRV_SRCS)

fuzz-replay: $(FUZZ_OUT)/replay_drv_request
	$(FUZZ_OUT)/replay_drv_request fuzz/corpus/drv_request

$(FUZZ_OUT)/fuzz_drv_request: $(FUZZ_DRV_DEPS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $(FUZZ_DRV_SRCS)

fuzz: $(FUZZ_OUT)/fuzz_drv_request
	@mkdir -p $(FUZZ_OUT)/corpus/drv_request $(FUZZ_OUT)/crashes
	@echo "== fuzz_drv_request, $(FUZZ_SECONDS) s"
	@$(FUZZ_OUT)/fuzz_drv_request -max_total_time=$(FUZZ_SECONDS) -runs=$(FUZZ_RUNS) \
	    -rss_limit_mb=3000 -print_final_stats=1 -artifact_prefix=$(FUZZ_OUT)/crashes/ \
	    -dict=fuzz/drv_request.dict $(FUZZ_OUT)/corpus/drv_request fuzz/corpus/drv_request \
	    2>$(FUZZ_OUT)/fuzz_drv_request.log || { tail -60 $(FUZZ_OUT)/fuzz_drv_request.log; exit 1; }
	@runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $(FUZZ_OUT)/fuzz_drv_request.log); \
	    echo "$$(date -u +%FT%TZ) fuzz_drv_request $$runs executions clean" | \
	    tee -a $(FUZZ_OUT)/fuzz-runs.log

fuzz-corpus: all
	escript fuzz/gen_corpus.escript fuzz/corpus/drv_request
