# bench/iso.mk: the isolated backend's measurements (issue 12). Included by the
# top-level Makefile after bench/bench.mk.
#
#   make bench-iso        the backend's benchmark alone (bench/nocopy_bench_iso.erl):
#                         small calls and binaries of 4 KiB to 256 MiB against the
#                         external port program, the NIF and a memcpy; peak RSS of
#                         the VM and the child. Writes iso.md and iso.term into
#                         $(BENCH_RESULTS) (bench/results/); `make bench` runs it
#                         after the main benchmark. About two minutes.
#   make bench-iso-quick  the same in seconds, tiny sizes, into $(BENCH_QUICK_RESULTS).
#   make iso-signal       round trip of each way to wake another process and be
#                         woken back (bench/iso_signal.c), ISO_SIGNAL_TRIPS of them
#                         per method (default 20000); prints medians in ns.

ISO_SIGNAL_TRIPS ?= 20000

$(BUILD)/bench/iso_signal: bench/iso_signal.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -O2 $(MOREFLAGS) -o $@ $<

.PHONY: iso-signal
iso-signal: $(BUILD)/bench/iso_signal
	$(BUILD)/bench/iso_signal $(ISO_SIGNAL_TRIPS)

BENCH_ISO_BEAM := $(BENCH_OUT)/ebin/nocopy_bench_iso.beam
$(BENCH_ISO_BEAM): bench/nocopy_bench_iso.erl $(APP_BEAMS)
	@mkdir -p $(dir $@)
	$(ERLC) -Wall +warnings_as_errors +debug_info -pa ebin -o $(BENCH_OUT)/ebin $<

BENCH_ISO_RUN = NOCOPY_ISO_NIF_DIR=$(dir $(NOCOPY_ISO_NIF)) \
                $(ERL) -noshell $(BENCH_ERL_FLAGS) -pa ebin $(BENCH_OUT)/ebin -run nocopy_bench_iso main

.PHONY: bench-iso bench-iso-quick
bench-iso: bench-build $(NOCOPY_ISO_NIF) $(BENCH_ISO_BEAM)
	@mkdir -p $(BENCH_RESULTS)
	$(BENCH_ISO_RUN) full $(BENCH_RESULTS)

bench-iso-quick: bench-build $(NOCOPY_ISO_NIF) $(BENCH_ISO_BEAM)
	@mkdir -p $(BENCH_QUICK_RESULTS)
	$(BENCH_ISO_RUN) quick $(BENCH_QUICK_RESULTS)

# make bench and bench-quick (bench/bench.mk) run it too.
bench bench-quick: $(NOCOPY_ISO_NIF) $(BENCH_ISO_BEAM)

# bench/prof/iso_context.erl: a small call in the bench's context or simpler
# ones, with the fast path's counts and context switches per call.
BENCH_ISO_PROF_BEAMS := $(BENCH_OUT)/ebin/iso_context.beam
$(BENCH_ISO_PROF_BEAMS): $(BENCH_OUT)/ebin/%.beam: bench/prof/%.erl $(APP_BEAMS)
	@mkdir -p $(dir $@)
	$(ERLC) -Wall +warnings_as_errors +debug_info -pa ebin -o $(BENCH_OUT)/ebin $<
bench-build: $(BENCH_ISO_PROF_BEAMS)
