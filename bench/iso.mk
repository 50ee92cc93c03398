# bench/iso.mk: the isolated backend's measurements (issue 12). Included by the
# top-level Makefile. Not part of make bench yet: the backend is built, its
# benchmarks are not (docs/design.md, "The isolated backend", Status).
#
#   make iso-signal   round trip of each way to wake another process and be
#                     woken back (bench/iso_signal.c), ISO_SIGNAL_TRIPS of them
#                     per method (default 20000); prints medians in ns.

ISO_SIGNAL_TRIPS ?= 20000

$(BUILD)/bench/iso_signal: bench/iso_signal.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -O2 $(MOREFLAGS) -o $@ $<

.PHONY: iso-signal
iso-signal: $(BUILD)/bench/iso_signal
	$(BUILD)/bench/iso_signal $(ISO_SIGNAL_TRIPS)
