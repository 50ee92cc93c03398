#!/usr/bin/env bash
# test/integration/doctest.sh (make doctest): the docs as a user follows them.
# Usage: bash test/integration/doctest.sh DOC.md...  (paths in the nocopy tree)
#
# Runs every marked block of the DOCs with mk/doctest.escript, each project
# once, in a scratch directory outside the tree (mktemp -d; NOCOPY_IT_KEEP=1
# keeps it): /path/to/nocopy is this tree, and a git dependency on it (as the
# docs or tools/new write it) fetches a snapshot of its working tree as it is,
# uncommitted changes included (lib.sh's snapshot, and the runner's
# --git-snapshot). Then checks that every git clone of nocopy made is that
# snapshot, and that neither this tree nor the snapshot had a file written,
# changed or added. First, that the runner can fail: a block differing from
# its same-as file, a failing command, a session showing a wrong value, and a
# file written into a tree must each be caught.
#
# Prints the runner's lines (a line per block, the test runners' summaries,
# the end of a failing block's log) and exits non-zero on any failure.
set -euo pipefail
# shellcheck source=test/integration/lib.sh
. "$(dirname "$0")/lib.sh"

[ $# -gt 0 ] || die "usage: bash test/integration/doctest.sh DOC.md..."
need escript erlang-nox
need make make
need cc gcc
need git git
scratch_dir
cd "$NOCOPY_TREE"

SNAP=$SCRATCH/nocopy-snapshot
snapshot "$NOCOPY_TREE" "$SNAP"
say "nocopy under test: $NOCOPY_TREE; scratch: $SCRATCH; git dependencies get $SNAP"
tree_mark
TREE_BEFORE=$(tree_state "$NOCOPY_TREE")
SNAP_BEFORE=$(tree_state "$SNAP")

# The runner fails when a doc is wrong: 4 blocks, 3 of them wrong.
SELF=$SCRATCH/selfcheck
mkdir -p "$SELF"
{
    echo '<!-- nocopy-test: project=differs file=sums.c same-as=examples/sums/sums.c -->'
    echo '```c'
    sed 's/uint64_t sum = key;/uint64_t sum = 0;/' examples/sums/sums.c
    echo '```'
    printf '%s\n' '<!-- nocopy-test: project=fails run -->' '```sh' \
        'test -f /path/to/nocopy/nocopy.mk' 'false' '```'
    printf '%s\n' '<!-- nocopy-test: project=session erl="-pa /path/to/nocopy/mk" -->' '```erlang' \
        '1> lists:seq(1, 3).' '[1,2,3]' '2> 1 + 1.' '3' '```'
    # shellcheck disable=SC2016 # $NOCOPY_DIR is the block's, expanded when it runs
    printf '%s\n' '<!-- nocopy-test: project=passes run -->' '```sh' \
        'cmp /path/to/nocopy/nocopy.mk "$NOCOPY_DIR/nocopy.mk"' '```'
} > "$SELF/self.md"
st=0
escript "$DOCTEST" --logs "$SELF/logs" "$NOCOPY_TREE" "$SELF" "$SELF/self.md" > "$SELF/out" 2>&1 || st=$?
if [ "$st" = 1 ] && grep -q '^doctest: 4 blocks run, 3 failed$' "$SELF/out" &&
    grep -q 'self.md:1: DIFFERS from examples/sums/sums.c' "$SELF/out" &&
    grep -q 'doctest_session: 2 prompts, 1 as shown' "$SELF/out"; then
    say "the runner catches a block that differs, a command that fails, a wrong session"
else
    fail "the runner missed a wrong block (exit status $st):"
    sed 's/^/    /' "$SELF/out"
fi
rm -rf "$SELF"

# The docs.
if doctest --git-snapshot "$SNAP" "$NOCOPY_TREE" "$SCRATCH" "$@"; then
    say "the docs ran as shown: $*"
else
    fail "the docs did not run as shown (logs in $SCRATCH/logs)"
fi
check_clones "git dependencies" 0
check_untouched "$NOCOPY_TREE" "$TREE_BEFORE"
check_untouched "$SNAP" "$SNAP_BEFORE"
# The check itself: a file written into the snapshot, even an ignored one,
# must be seen.
mkdir -p "$SNAP/_build"
touch "$SNAP/_build/stray.o"
if (FAILURES=0; check_untouched "$SNAP" "$SNAP_BEFORE" > "$SCRATCH/stray.log"; [ "$FAILURES" -gt 0 ]) &&
    grep -q '_build/stray.o' "$SCRATCH/stray.log"; then
    say "a file written into a tree, even an ignored one, is caught"
else
    fail "check_untouched missed _build/stray.o: $(cat "$SCRATCH/stray.log")"
fi
finish
