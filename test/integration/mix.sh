#!/usr/bin/env bash
# test/integration/mix.sh (make test-mix): nocopy as a mix dependency, offline,
# in a scratch directory outside the tree. docs/guide-mix.md is the source of
# the projects (`make doctest` runs it as written); here, variants of them:
#
#   1. The guide's project my_app, its files written by the docs' runner (its
#      c_src/sums.c is same-as examples/sums/sums.c: a guide whose copy
#      differs must be caught), as a path dependency on this tree, with a test
#      of its own (mix/error_format_test.exs: Elixir's text for nocopy's
#      errors, as the guide shows it) and a priv/ of its own: mix compile
#      --warnings-as-errors builds the two C modules into _build, never into
#      priv/; a second mix compile does nothing; mix test; a broken C file
#      fails readably, naming the line; mix clean.
#   2. The guide's project my_app_git, block by block: a git dependency,
#      fetched from a snapshot of this working tree as it is (uncommitted
#      changes included); a second mix test compiles nothing.
#   3. Nothing is written into this tree or the snapshot.
#
# MIX_HOME, HEX_HOME and HOME are scratch directories, hex is offline and
# absent, any HTTP goes to a closed port and MIX_REBAR3 is a stub that fails,
# so nothing can come from the network, a rebar3 or the user's home. Needs
# elixir (mix), erlang, make, gcc, git and zlib's headers (Debian: elixir
# erlang-dev make gcc git zlib1g-dev). Exits non-zero on any failure.
set -euo pipefail
# shellcheck source=test/integration/lib.sh
. "$(dirname "$0")/lib.sh"

need mix elixir
need make make
need cc gcc
need git git
scratch_dir
build_env

GUIDE=$NOCOPY_TREE/docs/guide-mix.md
say "nocopy under test: $NOCOPY_TREE; scratch: $SCRATCH; $(elixir --version | tail -n 1)"
SNAP=$SCRATCH/nocopy
snapshot "$NOCOPY_TREE" "$SNAP"
tree_mark
TREE_BEFORE=$(tree_state "$NOCOPY_TREE")
SNAP_BEFORE=$(tree_state "$SNAP")

# ---- a hermetic environment ---------------------------------------------------
export HOME="$SCRATCH/home" MIX_HOME="$SCRATCH/mix-home" HEX_HOME="$SCRATCH/hex-home"
mkdir -p "$HOME" "$MIX_HOME" "$HEX_HOME" "$SCRATCH/logs"
export HEX_OFFLINE=1 MIX_REBAR3="$SCRATCH/no-rebar3"
printf '#!/bin/sh\necho "mix.sh: rebar3 was called: $*" >&2\nexit 1\n' > "$MIX_REBAR3"
chmod +x "$MIX_REBAR3"
export http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9
export HTTP_PROXY=$http_proxy HTTPS_PROXY=$https_proxy
export GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0
unset MIX_ENV MIX_TARGET MIX_BUILD_PATH MIX_BUILD_ROOT MIX_DEPS_PATH MIX_EXS \
    MIX_LOCKFILE MIX_PATH MIX_QUIET ERL_LIBS ERL_FLAGS ERL_AFLAGS ERL_ZFLAGS \
    CFLAGS LDFLAGS MOREFLAGS

# ---- 1. my_app, a path dependency ---------------------------------------------
# The check of the guide itself: a copy of c_src/sums.c that differs from
# examples/sums/sums.c by one character must fail.
sed '/project=my_app file=c_src\/sums.c/,/^```$/ s/uint64_t sum = key;/uint64_t sum = key+0;/' \
    "$GUIDE" > "$SCRATCH/mutated.md"
if (FAILURES=0; guide_files "$SCRATCH/mutated.md" my_app "$SCRATCH/mutated" > "$SCRATCH/mutated.log";
    [ "$FAILURES" -gt 0 ]) &&
    grep -q 'DIFFERS from examples/sums/sums.c, first at line' "$SCRATCH/mutated.log"; then
    say "a guide whose sums.c differs from examples/sums/sums.c is caught"
else
    fail "the runner missed a difference: $(cat "$SCRATCH/mutated.log")"
fi

APP=$SCRATCH/my_app
L=$SCRATCH/logs/path
if guide_files "$GUIDE" my_app "$APP"; then
    cp "$INTEGRATION_DIR/mix/error_format_test.exs" "$APP/test/"
    # A priv/ of the project's own: the libraries must not be written into it.
    mkdir -p "$APP/priv"
    echo data > "$APP/priv/data.txt"
    OUT=$APP/_build/dev/lib/my_app
    if logged "$L.deps.log" "$APP" mix deps.get &&
        logged "$L.compile.log" "$APP" mix compile --warnings-as-errors; then
        expect_in "$L.compile.log" '^Compiling 2 nocopy modules \(sums, crc\)' \
            "my_app: mix compile built the two nocopy modules"
        for f in priv/sums_nif.so priv/sums_drv.so priv/sums_iso priv/crc_nif.so priv/crc_drv.so \
            priv/crc_iso priv/nocopy_iso_nif.so priv/data.txt \
            ebin/sums.beam ebin/sums_drv.beam ebin/sums_iso.beam ebin/crc.beam ebin/crc_drv.beam \
            ebin/crc_iso.beam; do
            [ -f "$OUT/$f" ] || fail "my_app: $OUT/$f was not built"
        done
        [ ! -L "$OUT/priv" ] || fail "my_app: $OUT/priv is a link into the project"
        [ "$(ls "$APP/priv")" = data.txt ] ||
            fail "my_app: the project's priv/ holds more than data.txt: $(ls "$APP/priv")"
        # The list is longer than a line of the .app file: compared without
        # its line breaks.
        tr -d ' \n' < "$OUT/ebin/my_app.app" > "$SCRATCH/my_app.app.flat"
        expect_in "$SCRATCH/my_app.app.flat" "\{modules,\['Elixir.MyApp',crc,crc_drv,crc_iso,sums,sums_drv,sums_iso\]\}" \
            "my_app: my_app.app lists the stubs"

        ls -l --time-style=full-iso "$OUT"/priv/*.so "$OUT"/ebin/*.beam > "$SCRATCH/times-before"
        if logged "$L.again.log" "$APP" mix compile; then
            ls -l --time-style=full-iso "$OUT"/priv/*.so "$OUT"/ebin/*.beam > "$SCRATCH/times-after"
            if [ -s "$L.again.log" ]; then
                fail "my_app: the second mix compile printed something: $(cat "$L.again.log")"
            elif ! cmp -s "$SCRATCH/times-before" "$SCRATCH/times-after"; then
                fail "my_app: the second mix compile rewrote files"
            else
                say "my_app: a second mix compile does nothing"
            fi
        else
            fail "my_app: the second mix compile failed"
        fi

        if logged "$L.test.log" "$APP" mix test; then
            expect_in "$L.test.log" '^10 tests, 0 failures' "my_app: mix test, the guide's 8 tests and 2 of its own"
        else
            fail "my_app: mix test"
        fi

        say "my_app: a broken C file must fail mix compile, naming the line"
        cp "$APP/c_src/sums.c" "$SCRATCH/sums.c"
        sed 's/uint64_t sum = key;/uint64_t sum = key/' "$SCRATCH/sums.c" > "$APP/c_src/sums.c"
        if EXPECT_FAIL=1 logged "$L.broken.log" "$APP" mix compile; then
            fail "my_app: mix compile succeeded with a broken c_src/sums.c"
        else
            expect_in "$L.broken.log" '^c_src/sums\.c:[0-9]+:[0-9]+: error: ' \
                "my_app: gcc's error names c_src/sums.c:LINE:COL"
            expect_in "$L.broken.log" '^nocopy: building sums failed' "my_app: nocopy's summary line"
        fi
        cp "$SCRATCH/sums.c" "$APP/c_src/sums.c"

        if logged "$L.clean.log" "$APP" mix clean; then
            for f in priv/sums_nif.so priv/crc_drv.so priv/sums_iso priv/nocopy_iso_nif.so \
                ebin/sums.beam ebin/crc_drv.beam ebin/sums_iso.beam; do
                [ ! -e "$OUT/$f" ] || fail "my_app: mix clean left $OUT/$f"
            done
            say "my_app: mix clean removed the libraries and the stubs"
        else
            fail "my_app: mix clean"
        fi
    else
        fail "my_app: mix deps.get or mix compile failed"
    fi
fi

# ---- 2. my_app_git, a git dependency -----------------------------------------
# Its blocks copy files of my_app (above, as the guide shows them).
if guide_run "$GUIDE" my_app_git; then
    G=$SCRATCH/my_app_git
    logs=("$SCRATCH"/logs/my_app_git.*.log)
    if [ -f "$G/deps/nocopy/nocopy.mk" ]; then
        say "my_app_git: mix deps.get checked nocopy out into deps/"
    else
        fail "my_app_git: no deps/nocopy/nocopy.mk"
    fi
    check_clones my_app_git 1
    expect_in "${logs[-1]}" '^Compiling 1 nocopy module \(sums\)' "my_app_git: mix compile built sums"
    expect_in "${logs[-1]}" '^7 tests, 0 failures' "my_app_git: mix test, 7 tests"
    if logged "$SCRATCH/logs/git.test-again.log" "$G" mix test; then
        if grep -q Compiling "$SCRATCH/logs/git.test-again.log"; then
            fail "my_app_git: a second mix test compiled again"
        else
            say "my_app_git: a second mix test compiles nothing"
        fi
    else
        fail "my_app_git: the second mix test"
    fi
fi

# ---- 3. ---------------------------------------------------------------------
check_untouched "$NOCOPY_TREE" "$TREE_BEFORE"
check_untouched "$SNAP" "$SNAP_BEFORE"
finish
