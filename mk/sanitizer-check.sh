#!/bin/sh
# mk/sanitizer-check.sh DIR: fails when any sanitizer report was written to
# DIR (ASAN_OPTIONS/UBSAN_OPTIONS log_path of `make asan`), printing them.
# Reports of every process land there: the VM, its helper programs, the C
# unit tests and the fuzz replays, whatever their exit status was; `make asan`
# also keeps the output of its test runs there (pass*.out), where a report
# printed to stderr is found too.
dir=$1
[ -d "$dir" ] || { echo "sanitizer-check: no directory $dir" >&2; exit 2; }
reports=$(grep -l -E 'ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer)|runtime error:|WARNING: (AddressSanitizer|LeakSanitizer)' "$dir"/* 2>/dev/null)
if [ -n "$reports" ]; then
    for f in $reports; do
        echo "==== $f"
        cat "$f"
    done
    echo "sanitizer-check: $(echo "$reports" | wc -l) report file(s) in $dir: FAILED" >&2
    exit 1
fi
echo "sanitizer-check: no ASan, LSan or UBSan report ($(ls "$dir" | wc -l) log file(s) in $dir)"
