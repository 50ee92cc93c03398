#!/usr/bin/env bash
# test/integration/rebar3.sh (make test-rebar3): a user's rebar3 project on
# nocopy, offline, in a scratch directory outside the tree.
#
#   1. docs/guide-rebar3.md's files are the fixtures in test/integration/rebar3/
#      (and a guide that differs is caught).
#   2. The guide's project myapp, block by block: nocopy as a git dependency
#      (its "remote" is a git repository of this working tree as it is,
#      uncommitted changes included), compile, eunit, dialyzer; then with
#      nocopy linked into _checkouts. Its .gitignore covers what the build makes.
#   3. The same project with only _checkouts/nocopy, a link to this working
#      tree, and a dependency URL that does not exist (nothing is fetched);
#      then dialyzer must reject a call that breaks a stub's spec, and a broken
#      C file must stop rebar3 compile.
#   4. Neither this tree nor the snapshot has a file written, changed or added.
# The guide's quick start (project quick, tools/new) runs in new.sh.
#
# Exits non-zero on any failure. The first run on a machine also builds
# rebar3's base PLT in ~/.cache/rebar3 (a minute or two); later runs reuse it.
set -euo pipefail
# shellcheck source=test/integration/lib.sh
. "$(dirname "$0")/lib.sh"

need rebar3 rebar3
need make make
need cc gcc
need git git
need dialyzer erlang-dialyzer
scratch_dir
build_env

GUIDE=$NOCOPY_TREE/docs/guide-rebar3.md
FIXTURES=$INTEGRATION_DIR/rebar3
say "nocopy under test: $NOCOPY_TREE; scratch: $SCRATCH; $(rebar3 version)"

# 1. ---------------------------------------------------------------------------
guide_check "$GUIDE" "$FIXTURES"
# The check itself: a guide whose c_src/Makefile differs by one word must fail.
sed '/project=myapp file=c_src\/Makefile/,/^```$/ s/NOCOPY_LAYOUT = rebar3/NOCOPY_LAYOUT = make/' \
    "$GUIDE" > "$SCRATCH/mutated.md"
if (FAILURES=0; guide_check "$SCRATCH/mutated.md" "$FIXTURES" > "$SCRATCH/mutated.log"; [ "$FAILURES" -gt 0 ]) &&
    grep -q 'myapp/c_src/Makefile differs from its fixture' "$SCRATCH/mutated.log"; then
    say "a guide that differs from its fixtures is caught"
else
    fail "guide_check missed a difference: $(cat "$SCRATCH/mutated.log")"
fi

SNAP=$SCRATCH/nocopy
snapshot "$NOCOPY_TREE" "$SNAP"
say "snapshot of the working tree: $SNAP ($(git -C "$SNAP" ls-files | wc -l) files, branch main)"
tree_mark
TREE_BEFORE=$(tree_state "$NOCOPY_TREE")
SNAP_BEFORE=$(tree_state "$SNAP")
[ -z "$SNAP_BEFORE" ] || die "the snapshot is not clean: $SNAP_BEFORE"

# 2. ---------------------------------------------------------------------------
# The project is a git repository from the start, so that git status shows
# afterwards whether .gitignore covers everything the build made.
git_init() { git -C "$1" init -q; }
if guide_run "$GUIDE" myapp "$SNAP" git_init; then
    logs=("$SCRATCH"/logs/myapp.*.log)
    for log in "${logs[@]}"; do
        if grep -q '^cc .*nc_arena\.c' "$log"; then
            case $(grep -o '[^ ]*/nc_arena\.c' "$log") in
                "$SCRATCH/myapp/_build/default/lib/nocopy/c_src/nc_arena.c")
                    say "myapp: $(basename "$log"): nocopy's C built from the git dependency" ;;
                "$SCRATCH/myapp/_checkouts/nocopy/c_src/nc_arena.c")
                    say "myapp: $(basename "$log"): nocopy's C built from _checkouts" ;;
                *) fail "myapp: $(basename "$log"): nocopy's C built from $(grep -o '[^ ]*/nc_arena\.c' "$log")" ;;
            esac
        fi
    done
    built_from=$(cat "${logs[@]}" | grep -o '[^ ]*/nc_arena\.c' | sort -u | wc -l)
    [ "$built_from" -eq 2 ] ||
        fail "myapp: nocopy's C should be built twice (git dependency, _checkouts), was from $built_from place(s)"
    check_eunit myapp 2 "${logs[@]}"
    no_warnings myapp "${logs[@]}"
    # What git would add: the files the user wrote, and rebar.lock.
    expected=$( (cd "$FIXTURES/myapp" && find . -type f | sed 's|^\./||'; echo c_src/sums.c; echo rebar.lock) | sort)
    actual=$(git -C "$SCRATCH/myapp" status --porcelain --untracked-files=all | sed 's/^?? //' | sort)
    if [ "$actual" = "$expected" ]; then
        say "myapp: git status after the builds: only the files written by hand, and rebar.lock"
    else
        fail "myapp: .gitignore does not cover the build's files:"
        diff <(echo "$expected") <(echo "$actual") | sed 's/^/    /'
    fi
fi

# 3. ---------------------------------------------------------------------------
CO=$SCRATCH/myapp_checkouts
say "myapp_checkouts: the fixtures, _checkouts/nocopy -> $NOCOPY_TREE"
mkdir -p "$CO/_checkouts"
(cd "$FIXTURES/myapp" && find . -type f) | while IFS= read -r f; do
    mkdir -p "$(dirname "$CO/$f")"
    subst_nocopy "$FIXTURES/myapp/$f" "$SCRATCH/no-such-repository" > "$CO/$f"
done
cp "$NOCOPY_TREE/examples/sums/sums.c" "$CO/c_src/sums.c"
ln -s "$NOCOPY_TREE" "$CO/_checkouts/nocopy"
L=$SCRATCH/logs/checkouts
if logged "$L.compile.log" "$CO" rebar3 compile &&
    logged "$L.eunit.log" "$CO" rebar3 eunit &&
    logged "$L.dialyzer.log" "$CO" rebar3 dialyzer; then
    expect_in "$L.compile.log" "^cc .* $CO/_checkouts/nocopy/c_src/nc_arena\.c$" \
        "myapp_checkouts: nocopy's C built from _checkouts"
    if [ -e "$CO/_build/default/lib/nocopy" ]; then
        fail "myapp_checkouts: rebar3 fetched nocopy although _checkouts has it"
    else
        say "myapp_checkouts: nothing fetched"
    fi
    check_eunit myapp_checkouts 1 "$L.eunit.log"
    no_warnings myapp_checkouts "$L.compile.log"

    say "myapp_checkouts: a call that breaks sums:checksum/2's spec must fail dialyzer"
    cp "$FIXTURES/misuse.erl" "$CO/src/misuse.erl"
    if EXPECT_FAIL=1 logged "$L.misuse.log" "$CO" rebar3 dialyzer; then
        fail "myapp_checkouts: dialyzer passed a call that breaks a stub's spec"
    else
        expect_in "$L.misuse.log" 'misuse\.erl' "myapp_checkouts: dialyzer named misuse.erl"
        expect_in "$L.misuse.log" 'sums:checksum' "myapp_checkouts: dialyzer named sums:checksum"
    fi
    rm "$CO/src/misuse.erl"

    say "myapp_checkouts: a C error must stop rebar3 compile"
    printf '\nint broken = ;\n' >> "$CO/c_src/sums.c"
    if EXPECT_FAIL=1 logged "$L.broken.log" "$CO" rebar3 compile; then
        fail "myapp_checkouts: rebar3 compile passed with a broken C file"
    else
        expect_in "$L.broken.log" 'c_src/sums\.c:[0-9]+:[0-9]+: error' \
            "myapp_checkouts: the compiler's error reached rebar3's output"
    fi
else
    fail "myapp_checkouts: build or tests failed"
fi

# 4. ---------------------------------------------------------------------------
check_untouched "$NOCOPY_TREE" "$TREE_BEFORE"
check_untouched "$SNAP" "$SNAP_BEFORE"
# The check itself: an ignored file written into the snapshot must be seen.
mkdir -p "$SNAP/_build"
touch "$SNAP/_build/stray.o"
if (FAILURES=0; check_untouched "$SNAP" "$SNAP_BEFORE" > "$SCRATCH/stray.log"; [ "$FAILURES" -gt 0 ]) &&
    grep -q '_build/stray.o' "$SCRATCH/stray.log"; then
    say "a file written into the tree, even an ignored one, is caught"
else
    fail "check_untouched missed _build/stray.o: $(cat "$SCRATCH/stray.log")"
fi
finish
