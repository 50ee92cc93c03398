#!/usr/bin/env bash
# test/integration/rebar3.sh (make test-rebar3): a user's rebar3 project on
# nocopy, offline, in a scratch directory outside the tree. docs/guide-rebar3.md
# is the source of the project (`make doctest` runs it as written); here:
#
#   1. The guide's project myapp, block by block, with deeper checks: nocopy as
#      a git dependency (fetched from a snapshot of this working tree as it is,
#      uncommitted changes included), compile, eunit, dialyzer; then with this
#      tree linked into _checkouts. nocopy's C is built from each in turn, no
#      compiler warns, and its .gitignore covers what the build makes.
#   2. A variant: the guide's files (written by the docs' runner, nothing run)
#      with only _checkouts/nocopy, a link to this tree, and a dependency URL
#      that does not exist (nothing is fetched); then dialyzer must reject a
#      call that breaks a stub's spec (rebar3/misuse.erl), and a broken C file
#      must stop rebar3 compile.
#   3. Neither this tree nor the snapshot has a file written, changed or added
#      (and a file written into the snapshot is seen).
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
say "nocopy under test: $NOCOPY_TREE; scratch: $SCRATCH; $(rebar3 version)"
SNAP=$SCRATCH/nocopy
snapshot "$NOCOPY_TREE" "$SNAP"
say "snapshot of the working tree: $SNAP ($(git -C "$SNAP" ls-files | wc -l) files)"
tree_mark
TREE_BEFORE=$(tree_state "$NOCOPY_TREE")
SNAP_BEFORE=$(tree_state "$SNAP")
[ -z "$SNAP_BEFORE" ] || die "the snapshot is not clean: $SNAP_BEFORE"

# 1. ---------------------------------------------------------------------------
# The project is a git repository from the start, so that git status shows
# afterwards whether .gitignore covers everything the build made.
git_init() { git -C "$1" init -q; }
if guide_run "$GUIDE" myapp git_init; then
    logs=("$SCRATCH"/logs/myapp.*.log)
    for log in "${logs[@]}"; do
        if grep -q '^cc .*nc_arena\.c' "$log"; then
            case $(grep -o '[^ ]*/nc_arena\.c' "$log" | sort -u) in
                "$SCRATCH/myapp/_build/default/lib/nocopy/c_src/core/nc_arena.c")
                    say "myapp: $(basename "$log"): nocopy's C built from the git dependency" ;;
                "$SCRATCH/myapp/_checkouts/nocopy/c_src/core/nc_arena.c")
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
    check_clones myapp 1
    # What git would add: the guide's files, the C file its block copies, and
    # rebar.lock.
    guide_files "$GUIDE" myapp "$SCRATCH/myapp.files"
    expected=$( (cd "$SCRATCH/myapp.files" && find . -type f | sed 's|^\./||'
                 echo c_src/sums.c; echo rebar.lock) | sort)
    actual=$(git -C "$SCRATCH/myapp" status --porcelain --untracked-files=all | sed 's/^?? //' | sort)
    if [ "$actual" = "$expected" ]; then
        say "myapp: git status after the builds: only the files written by hand, and rebar.lock"
    else
        fail "myapp: .gitignore does not cover the build's files:"
        diff <(echo "$expected") <(echo "$actual") | sed 's/^/    /'
    fi
fi

# 2. ---------------------------------------------------------------------------
CO=$SCRATCH/myapp_checkouts
say "myapp_checkouts: the guide's files, _checkouts/nocopy -> $NOCOPY_TREE"
if guide_files "$GUIDE" myapp "$CO" "$SCRATCH/no-such-repository"; then
    mkdir -p "$CO/_checkouts"
    cp "$NOCOPY_TREE/examples/sums/sums.c" "$CO/c_src/sums.c"
    ln -s "$NOCOPY_TREE" "$CO/_checkouts/nocopy"
fi
L=$SCRATCH/logs/checkouts
if logged "$L.compile.log" "$CO" rebar3 compile &&
    logged "$L.eunit.log" "$CO" rebar3 eunit &&
    logged "$L.dialyzer.log" "$CO" rebar3 dialyzer; then
    expect_in "$L.compile.log" "^cc .* $CO/_checkouts/nocopy/c_src/core/nc_arena\.c$" \
        "myapp_checkouts: nocopy's C built from _checkouts"
    if [ -e "$CO/_build/default/lib/nocopy" ]; then
        fail "myapp_checkouts: rebar3 fetched nocopy although _checkouts has it"
    else
        say "myapp_checkouts: nothing fetched"
    fi
    check_eunit myapp_checkouts 1 "$L.eunit.log"
    no_warnings myapp_checkouts "$L.compile.log"

    say "myapp_checkouts: a call that breaks sums:checksum/2's spec must fail dialyzer"
    cp "$INTEGRATION_DIR/rebar3/misuse.erl" "$CO/src/misuse.erl"
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

# 3. ---------------------------------------------------------------------------
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
