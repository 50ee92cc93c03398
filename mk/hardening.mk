# mk/hardening.mk: sanitizers, valgrind, property tests, stress, and fuzzing
# (fuzz/fuzz.mk, included below, owns every fuzz target). Included by the
# top-level Makefile (after nocopy.mk, so NOCOPY_*, BUILD, TEST_OUT and
# EUNIT_MODULES are known).
#
#   make asan        `make test` with ASan+UBSan in the native code, in
#                    _build/asan, except the docs' projects (make doctest:
#                    user builds, no nocopy code the suites do not run); then the EUnit suites again with the runtime's
#                    own allocators turned into malloc (+Mea min) so ASan also
#                    guards binaries, resources and enif_alloc/driver_alloc
#                    memory. Fails on any sanitizer report.
#   make valgrind    C unit tests and every fuzz corpus under valgrind (no VM), then
#                    a focused EUnit subset inside a VM under valgrind.
#   make stress      the full-scale stress run (under a minute here) and PropEr
#                    with PROPER_NUMTESTS cases per property, in _build/stress.
#   make proper      the property tests alone, PROPER_NUMTESTS cases per property.
#   make fuzz, fuzz-replay, fuzz-merge, fuzz-corpus: see fuzz/fuzz.mk.
#
# Every output goes under $(BUILD) (or the target's own build directory), never
# elsewhere: other builds in the same tree are left alone.

# ---------------------------------------------------------------------------
# The property tests' native fixture (test/nocopy_prop_nif.c): modules
# nocopy_prop (NIF) and nocopy_prop_drv (driver), next to nocopy_test.
# ---------------------------------------------------------------------------

$(eval $(call nocopy_module,nocopy_prop,test/nocopy_prop_nif.c,,$(TEST_OUT)))

eunit: nocopy_prop_all

# Everything the EUnit suites and the C unit tests need, built, nothing run.
.PHONY: harden-build-tests
harden-build-tests: all nocopy_prop_all $(TEST_BEAMS) $(C_TEST_BIN)

# ---------------------------------------------------------------------------
# Fuzzing: every target's build and runs (make fuzz-replay is part of make test).
# ---------------------------------------------------------------------------

include fuzz/fuzz.mk

# ---------------------------------------------------------------------------
# make asan
# ---------------------------------------------------------------------------
# The native libraries are built with ASan and UBSan; beam.smp is not. A
# sanitized shared object needs the ASan runtime to be the first library in
# the process (it must intercept malloc/free before anything allocates), and
# dlopen of a NIF or driver comes far too late for that. So the VM is started
# with the runtimes preloaded: LD_PRELOAD of the libasan and libubsan that gcc
# links against. (ASAN_OPTIONS=verify_asan_link_order=0 would only silence the
# check and leave allocations made before the load unknown to ASan.)
#
# Leaks: LeakSanitizer stays on, in the VM too, with mk/lsan.supp suppressing
# exactly the runtime's own leaks (each explained there), rather than
# detect_leaks=0: it sees every malloc, nocopy's own (the per-call arena, the
# NIF function table: it found bug F4 there) and, in the second pass,
# everything the runtime allocates for nocopy. What LSan cannot see (runtime
# carriers in the first pass, references kept alive rather than lost) the
# project's counters prove in the suites: live handles, kept binaries,
# foreign releases, erlang:memory(binary) back to its baseline.
# mk/lsan-known-bugs.supp holds the leaks of open bugs, named and temporary.
#
# Reports go to files (log_path), because the VM's stderr belongs to the tests
# and reports of helper processes (erl_child_setup, inet_gethost) would be
# lost; the output of both passes is kept there too (UBSan may still print
# to stderr), and mk/sanitizer-check.sh fails the target when any holds a
# report.
# halt_on_error (the default) and -fno-sanitize-recover make the first report
# end the process, so a test run with an error also fails on its own.
# fast_unwind_on_malloc=0: beam.smp has no frame pointers, so the fast
# unwinder stops at erts_sys_alloc and every runtime block would have the same
# two-frame allocation stack; the slow (DWARF) unwinder names the real
# allocation sites, which the suppressions and the reports need.
# allocator_may_return_null: the suites ask for impossible sizes to test
# ENOMEM paths; with it malloc returns NULL (as without ASan) instead of
# aborting. detect_stack_use_after_return: also catches BORROWED pointers used
# after the wrapped function returned, when they point into its frame.

ASAN_BUILD   ?= _build/asan
ASAN_LOGDIR   = $(CURDIR)/$(ASAN_BUILD)/sanitizer-logs
# Leaks of open bugs (see that file); `make asan ASAN_KNOWN_BUGS=` shows them.
ASAN_KNOWN_BUGS ?= mk/lsan-known-bugs.supp
ASAN_LSAN_SUPP  = $(CURDIR)/$(ASAN_BUILD)/lsan.supp
ASAN_RUNTIME := $(shell $(CC) -print-file-name=libasan.so) $(shell $(CC) -print-file-name=libubsan.so)
# Without -flto (NOCOPY_LTO=): the sanitizers check the same C either way,
# and link-time code generation at every library's link (three per module)
# only lengthens the build.
ASAN_FLAGS    = OPTFLAGS="-O1 -g -fno-omit-frame-pointer" NOCOPY_LTO= \
                MOREFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
ASAN_ENV      = ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:fast_unwind_on_malloc=0:allocator_may_return_null=1:detect_stack_use_after_return=1:log_path=$(ASAN_LOGDIR)/asan \
                LSAN_OPTIONS=suppressions=$(ASAN_LSAN_SUPP):print_suppressions=0 \
                UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$(ASAN_LOGDIR)/ubsan
ASAN_ERL      = env LD_PRELOAD='$(ASAN_RUNTIME)' erl
# The second pass: +Mea min turns the runtime's allocators into plain malloc,
# so binaries, resources and enif_alloc/driver_alloc blocks get ASan redzones
# and quarantine (overruns of a binary are seen from 8 bytes past its end: the
# runtime rounds binary blocks up). It disables erlang:memory/1, so suites
# that call it are left to the first pass, except ours, which check for that.
ASAN_MALLOC_SKIP := $(filter-out nocopy_prop_tests nocopy_stress_tests, \
                      $(patsubst test/%.erl,%,$(shell grep -l 'erlang:memory' test/*_tests.erl 2>/dev/null)))
ASAN_MALLOC_MODULES = $(filter-out $(ASAN_MALLOC_SKIP),$(EUNIT_MODULES))

.PHONY: asan
asan:
	@rm -rf $(ASAN_LOGDIR) && mkdir -p $(ASAN_LOGDIR)
	@cat mk/lsan.supp $(ASAN_KNOWN_BUGS) > $(ASAN_LSAN_SUPP)
	@{ env $(ASAN_ENV) $(MAKE) --no-print-directory test BUILD=$(ASAN_BUILD) $(ASAN_FLAGS) \
	      ERL="$(ASAN_ERL)" NOCOPY_DOCTEST=no || echo 1 > $(ASAN_LOGDIR)/failed; } 2>&1 | tee $(ASAN_LOGDIR)/pass1.out
	@[ -f $(ASAN_LOGDIR)/failed ] || { \
	    echo "== asan, second pass: runtime allocators as malloc (+Mea min)"; \
	    env $(ASAN_ENV) $(MAKE) --no-print-directory eunit BUILD=$(ASAN_BUILD) $(ASAN_FLAGS) \
	        ERL="$(ASAN_ERL) +Mea min" EUNIT_MODULES="$(ASAN_MALLOC_MODULES)" || \
	    echo 1 > $(ASAN_LOGDIR)/failed; } 2>&1 | tee $(ASAN_LOGDIR)/pass2.out
	@st=0; sh mk/sanitizer-check.sh $(ASAN_LOGDIR) || st=1; \
	if [ -f $(ASAN_LOGDIR)/failed ]; then echo "make asan: a test run failed" >&2; st=1; fi; \
	exit $$st

# ---------------------------------------------------------------------------
# make valgrind
# ---------------------------------------------------------------------------
# 1. No VM: the C unit tests and the replay of every fuzz corpus (the core's
#    three and the driver decoder's: $(FUZZ_PLAIN_BINS)), built without
#    sanitizers. Any error or
#    definite leak fails, no suppressions at all.
# 2. In a VM: valgrind cannot run the JIT's dual-mapped code, so the VM runs
#    with +JPperf map (single-mapped JIT memory, for perf) and +Mea min (plain malloc,
#    so valgrind sees the runtime's blocks), --smc-check=all-non-file for code
#    written at run time. Even so the runtime alone reports thousands of
#    errors (JIT frames valgrind cannot unwind, the runtime's own stack and
#    heap tricks): mk/valgrind-beam.supp suppresses errors whose innermost
#    frames are the runtime's (each rule explained there), never an error
#    raised in nocopy's code or in a runtime function nocopy called directly.
#    The JIT also moves the stack pointer between process stacks that lie in
#    the malloc heap, less than valgrind's 2 MB "stack switch" threshold
#    apart; valgrind then marks the heap between them as dead stack, and reads
#    of live blocks there (nocopy's handles included) look invalid.
#    --max-stackframe=16384 makes such moves count as stack switches.
#    --fair-sched=yes: valgrind runs one thread at a time, and with its
#    default lock the schedulers' busy wait can keep a woken driver worker
#    from running for a minute (seen once in session 11: a stress test's
#    gate, opened, still had a waiter 60 s later; alone it passed).
#    What survives still holds runtime noise: values the JIT stored on its
#    stack look uninitialised even when nocopy reads them through the API.
#    So --error-exitcode (99) only says valgrind counted errors (and it
#    replaces the VM's own exit status, so a failed test leaves a file
#    behind, eunit-failed, which fails the target); the verdict on errors
#    is mk/valgrind_check.escript's, which judges each error by whose code did
#    the access, freed the block or created the uninitialised value
#    (--track-origins=yes), and each definite leak by its allocation stack.
#    A start-and-halt takes ~8 s and the runtime ~50x slower, so this runs a
#    focused subset: the property tests and the reduced stress tests with
#    small counts, which call every argument type, result form and lifecycle
#    path on both backends.

VALGRIND_BUILD ?= _build/valgrind
VG_LOGDIR       = $(CURDIR)/$(VALGRIND_BUILD)/valgrind-logs
VALGRIND       ?= valgrind
VG_OPTS         = --error-exitcode=99 --leak-check=full --show-leak-kinds=definite \
                  --errors-for-leak-kinds=definite --num-callers=30
VG_VM_OPTS      = $(VG_OPTS) --track-origins=yes --trace-children=yes --fair-sched=yes \
                  --trace-children-skip='*/erl_child_setup,*/inet_gethost,*/epmd,*/sh,*/dash' \
                  --smc-check=all-non-file --max-stackframe=16384 \
                  --suppressions=$(CURDIR)/mk/valgrind-beam.supp \
                  --log-file=$(VG_LOGDIR)/vm.%p.log
# The isolated backend's stress suite runs its child under valgrind too
# (--trace-children): the VM's side and the child's, every binary path, held
# calls, killed callers, kill -9. Its fault suite is left out (a child that
# segfaults on purpose is a log "terminating with a signal"), and so is
# nocopy_iso_tests (EUnit's 5 s per test is too short under valgrind).
VG_EUNIT_MODULES ?= nocopy_prop_tests nocopy_stress_tests nocopy_iso_stress_tests
VG_ENV          = NOCOPY_PROPER_NUMTESTS=15 NOCOPY_STRESS_SCALE=valgrind \
                  NOCOPY_ISO_NIF_DIR=$(VALGRIND_BUILD)/nocopy/priv

.PHONY: valgrind valgrind-c valgrind-vm
valgrind: valgrind-c valgrind-vm

valgrind-c:
	@$(MAKE) --no-print-directory BUILD=$(VALGRIND_BUILD) OPTFLAGS="-O1 -g" \
	    $(VALGRIND_BUILD)/c_tests $(patsubst $(BUILD)/%,$(VALGRIND_BUILD)/%,$(FUZZ_PLAIN_BINS))
	$(VALGRIND) $(VG_OPTS) -q $(VALGRIND_BUILD)/c_tests
	@set -e; for t in $(FUZZ_ALL_TARGETS); do \
	    printf '%s: ' $$t; \
	    $(VALGRIND) $(VG_OPTS) -q $(VALGRIND_BUILD)/fuzz/replay-plain/$$t fuzz/corpus/$(FUZZ_STEM); \
	done

valgrind-vm:
	@$(MAKE) --no-print-directory BUILD=$(VALGRIND_BUILD) OPTFLAGS="-O1 -g" harden-build-tests
	@rm -rf $(VG_LOGDIR) && mkdir -p $(VG_LOGDIR)
	@echo "== valgrind: $(VG_EUNIT_MODULES) in a VM (slow: minutes)"
	@st=0; env $(VG_ENV) $(VALGRIND) $(VG_VM_OPTS) erl +JPperf map +Mea min -noshell \
	    -pa ebin $(VALGRIND_BUILD)/test/ebin $(VALGRIND_BUILD)/iso_faults/ebin \
	    -eval 'case eunit:test([$(subst $(eval) ,$(comma),$(strip $(VG_EUNIT_MODULES)))], [verbose]) of ok -> halt(0); _ -> ok = file:write_file("$(VG_LOGDIR)/eunit-failed", <<>>), halt(1) end.' \
	    || st=$$?; \
	if [ $$st = 99 ]; then st=0; fi; \
	if [ -f $(VG_LOGDIR)/eunit-failed ]; then echo "make valgrind-vm: a test failed" >&2; st=1; fi; \
	escript mk/valgrind_check.escript $(VG_LOGDIR) || st=1; \
	exit $$st

# ---------------------------------------------------------------------------
# make stress / make proper
# ---------------------------------------------------------------------------

STRESS_BUILD    ?= _build/stress
PROPER_NUMTESTS ?= 3000

.PHONY: stress proper
stress:
	$(MAKE) --no-print-directory BUILD=$(STRESS_BUILD) harden-build-tests
	env NOCOPY_STRESS_SCALE=full NOCOPY_PROPER_NUMTESTS=$(PROPER_NUMTESTS) \
	    $(ERL) +P 2000000 -noshell -pa ebin $(STRESS_BUILD)/test/ebin \
	    -eval 'case eunit:test([nocopy_stress_tests, nocopy_prop_tests], [verbose]) of ok -> halt(0); _ -> halt(1) end.'

proper:
	$(MAKE) --no-print-directory BUILD=$(STRESS_BUILD) harden-build-tests
	env NOCOPY_PROPER_NUMTESTS=$(PROPER_NUMTESTS) $(ERL) -noshell -pa ebin $(STRESS_BUILD)/test/ebin \
	    -eval 'case eunit:test([nocopy_prop_tests], [verbose]) of ok -> halt(0); _ -> halt(1) end.'
