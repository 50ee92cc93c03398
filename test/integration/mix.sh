#!/bin/sh
# test/integration/mix.sh: nocopy as a mix dependency, offline, from outside
# the tree (`make test-mix`). In a scratch directory it builds user projects
# from the fixtures in test/integration/mix/ (common/ plus path/ or git/):
#
#   path  {:nocopy, path: NOCOPY}: two C modules (one with ldlibs and cflags),
#         mix compile --warnings-as-errors, a second mix compile that must do
#         nothing, mix test, a broken C file that must fail readably, mix clean
#   git   {:nocopy, git: "file://SNAPSHOT"}, where SNAPSHOT is a git repository
#         of this checkout as it is on disk (uncommitted changes and untracked,
#         unignored files included): mix deps.get, mix compile, mix test
#
# and checks that docs/guide-mix.md shows the fixtures as they are, and that
# nothing in this checkout was created or changed. MIX_HOME, HEX_HOME and HOME
# are scratch directories, hex is offline and absent, any HTTP goes to a closed
# port and MIX_REBAR3 is a stub that fails, so nothing can come from the
# network, a rebar3 or the user's home. Needs elixir (mix), erlang, make, gcc,
# git and zlib's headers (Debian: elixir erlang-dev make gcc git zlib1g-dev).
# Exits non-zero on the first failure; removes the scratch directory.
set -eu

NOCOPY=$(cd "$(dirname "$0")/../.." && pwd)
REAL_HOME=${HOME:-}
FIXTURES=$NOCOPY/test/integration/mix
GUIDE=$NOCOPY/docs/guide-mix.md
T0=$(date +%s)

fail() {
    echo "mix.sh: FAIL: $*" >&2
    exit 1
}
step() {
    echo "==== mix.sh: $* ($(($(date +%s) - T0)) s)"
}

for tool in mix elixir erl make gcc git; do
    command -v "$tool" >/dev/null 2>&1 ||
        fail "$tool not found (Debian: apt-get install elixir erlang-dev make gcc git zlib1g-dev)"
done

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/nocopy-mix.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT
trap 'exit 130' INT TERM

# What this checkout holds before (git's view, ignored files included, with the
# caller's HOME for safe.directory), and a stamp: afterwards nothing in it may
# be newer.
tree_state() {
    HOME=$REAL_HOME git -C "$NOCOPY" --no-optional-locks status --porcelain --ignored \
        --untracked-files=all
}
HOME=$REAL_HOME git -C "$NOCOPY" rev-parse --git-dir >/dev/null 2>&1 || fail "$NOCOPY is not a git checkout"
tree_state >"$SCRATCH/tree-before"
touch "$SCRATCH/stamp"

# ---- a hermetic environment ---------------------------------------------------
export HOME="$SCRATCH/home" MIX_HOME="$SCRATCH/mix-home" HEX_HOME="$SCRATCH/hex-home"
mkdir -p "$HOME" "$MIX_HOME" "$HEX_HOME"
export HEX_OFFLINE=1 MIX_REBAR3="$SCRATCH/no-rebar3"
printf '#!/bin/sh\necho "mix.sh: rebar3 was called: $*" >&2\nexit 1\n' >"$MIX_REBAR3"
chmod +x "$MIX_REBAR3"
export http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9
export HTTP_PROXY=$http_proxy HTTPS_PROXY=$https_proxy
export GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0
unset MIX_ENV MIX_TARGET MIX_BUILD_PATH MIX_BUILD_ROOT MIX_DEPS_PATH MIX_EXS \
    MIX_LOCKFILE MIX_PATH MIX_QUIET ERL_LIBS ERL_FLAGS ERL_AFLAGS ERL_ZFLAGS \
    MAKEFLAGS MFLAGS MAKELEVEL CFLAGS LDFLAGS MOREFLAGS 2>/dev/null || true

# mix CMD... in the project directory, stdin closed (no prompt can wait), its
# output kept in $SCRATCH/out and shown (a progress line as it ended).
run_mix() {
    echo "\$ ${MIX_ENV:+MIX_ENV=$MIX_ENV }mix $*"
    status=0
    mix "$@" </dev/null >"$SCRATCH/out" 2>&1 || status=$?
    awk '{ sub(/.*\r/, ""); print }' "$SCRATCH/out"
    [ "$status" -eq 0 ] || fail "mix $* failed in $(pwd)"
}

# A project from the fixtures: common/ then VARIANT/, with the dependency's
# placeholder replaced.
make_project() { # VARIANT DIR FROM TO
    mkdir -p "$2"
    cp -R "$FIXTURES/common/." "$FIXTURES/$1/." "$2/"
    sed "s|$3|$4|" "$2/mix.exs" >"$2/mix.exs.tmp"
    mv "$2/mix.exs.tmp" "$2/mix.exs"
    grep -q "$4" "$2/mix.exs" || fail "$1/mix.exs does not name $3"
}

# "N tests, 0 failures" with N as expected: tests ran, none failed.
check_summary() { # EXPECTED_TESTS
    grep -Eq "^$1 tests?, 0 failures" "$SCRATCH/out" ||
        fail "expected \"$1 tests, 0 failures\" in mix test's summary"
}

# ---- the guide shows the fixtures ---------------------------------------------
step "docs/guide-mix.md against the fixtures"
[ -f "$GUIDE" ] || fail "$GUIDE is missing"
# Every "nocopy-test: project=P file=F" block, written to guide/P/F.
awk -v out="$SCRATCH/guide" '
    /^<!-- nocopy-test: .*file=/ {
        match($0, /project=[^ ]+/); p = substr($0, RSTART + 8, RLENGTH - 8)
        match($0, /file=[^ ]+/); f = substr($0, RSTART + 5, RLENGTH - 5)
        want = out "/" p "/" f; next
    }
    want != "" && !inblock && /^```/ {
        inblock = 1; dir = want; sub("/[^/]*$", "", dir)
        system("mkdir -p \"" dir "\""); printf "" > want; next
    }
    inblock && /^```/ { inblock = 0; close(want); want = ""; next }
    inblock { print > want }
' "$GUIDE"
for project in my_app my_app_git; do
    [ -d "$SCRATCH/guide/$project" ] || fail "the guide has no project $project"
done
# Each guide file is the fixture of that name: project my_app is path/ over
# common/, my_app_git is git/ over common/.
checked=0
for project in my_app my_app_git; do
    variant=path
    [ "$project" = my_app_git ] && variant=git
    for f in $(cd "$SCRATCH/guide/$project" && find . -type f | sed 's|^\./||'); do
        fixture=$FIXTURES/$variant/$f
        [ -f "$fixture" ] || fixture=$FIXTURES/common/$f
        [ -f "$fixture" ] || fail "the guide's $project/$f is no fixture"
        diff -u "$fixture" "$SCRATCH/guide/$project/$f" ||
            fail "the guide's $project/$f differs from $fixture"
        checked=$((checked + 1))
    done
done
echo "$checked guide files are the fixtures"

# ---- path dependency ----------------------------------------------------------
APP=$SCRATCH/path/my_app
make_project path "$APP" /path/to/nocopy "$NOCOPY"
# A priv/ of the project's own: the libraries must not be written into it.
mkdir -p "$APP/priv"
echo data >"$APP/priv/data.txt"
cd "$APP"

step "path dependency: mix deps.get, mix compile --warnings-as-errors"
run_mix deps.get
run_mix compile --warnings-as-errors
grep -q "Compiling 2 nocopy modules (sums, crc)" "$SCRATCH/out" ||
    fail "mix compile did not build the two nocopy modules"
OUT=_build/dev/lib/my_app
for f in priv/sums_nif.so priv/sums_drv.so priv/crc_nif.so priv/crc_drv.so priv/data.txt \
    ebin/sums.beam ebin/sums_drv.beam ebin/crc.beam ebin/crc_drv.beam; do
    [ -f "$OUT/$f" ] || fail "$OUT/$f was not built"
done
[ ! -L "$OUT/priv" ] || fail "$OUT/priv is a link into the project"
[ "$(ls priv)" = data.txt ] || fail "the project's priv/ holds more than data.txt: $(ls priv)"
grep -q "{modules,\['Elixir.MyApp',crc,crc_drv,sums,sums_drv\]}" "$OUT/ebin/my_app.app" ||
    fail "my_app.app does not list the stubs: $(grep modules "$OUT/ebin/my_app.app")"

step "path dependency: a second mix compile does nothing"
ls -l --time-style=full-iso "$OUT"/priv/*.so "$OUT"/ebin/*.beam >"$SCRATCH/times-before"
run_mix compile
[ ! -s "$SCRATCH/out" ] || fail "the second mix compile printed something"
ls -l --time-style=full-iso "$OUT"/priv/*.so "$OUT"/ebin/*.beam >"$SCRATCH/times-after"
diff "$SCRATCH/times-before" "$SCRATCH/times-after" || fail "the second mix compile rewrote files"

step "path dependency: mix test"
run_mix test
check_summary 9

step "path dependency: a broken C file fails mix compile, naming the line"
cp c_src/sums.c "$SCRATCH/sums.c"
sed 's/uint64_t sum = key;/uint64_t sum = key/' "$SCRATCH/sums.c" >c_src/sums.c
if mix compile </dev/null >"$SCRATCH/out" 2>&1; then
    cat "$SCRATCH/out"
    fail "mix compile succeeded with a broken c_src/sums.c"
fi
cat "$SCRATCH/out"
grep -Eq '^c_src/sums\.c:[0-9]+:[0-9]+: error: ' "$SCRATCH/out" ||
    fail "no gcc error naming c_src/sums.c:LINE:COL"
grep -q '^nocopy: building sums failed' "$SCRATCH/out" || fail "no nocopy summary line"
cp "$SCRATCH/sums.c" c_src/sums.c

step "path dependency: mix clean"
run_mix clean
for f in priv/sums_nif.so priv/crc_drv.so ebin/sums.beam ebin/crc_drv.beam; do
    [ ! -e "$OUT/$f" ] || fail "mix clean left $OUT/$f"
done

# ---- git dependency -----------------------------------------------------------
step "git dependency: a git repository of the checkout as it is on disk"
SNAPSHOT=$SCRATCH/nocopy-snapshot
mkdir -p "$SNAPSHOT"
(HOME=$REAL_HOME git -C "$NOCOPY" ls-files -z --cached --others --exclude-standard) |
    (cd "$NOCOPY" && xargs -0 sh -c 'for f; do if [ -f "$f" ]; then printf "%s\n" "$f"; fi; done' sh) |
    (cd "$NOCOPY" && tar -cf - -T -) | (cd "$SNAPSHOT" && tar -xf -)
[ -f "$SNAPSHOT/mix.exs" ] && [ -f "$SNAPSHOT/nocopy.mk" ] || fail "the snapshot lacks mix.exs or nocopy.mk"
git -C "$SNAPSHOT" init -q -b main
git -C "$SNAPSHOT" add -A
git -C "$SNAPSHOT" -c user.name=mix.sh -c user.email=mix.sh@localhost commit -q -m snapshot
echo "$(git -C "$SNAPSHOT" ls-files | wc -l) files at $(git -C "$SNAPSHOT" rev-parse --short HEAD)"

APP=$SCRATCH/git/my_app_git
make_project git "$APP" file:///path/to/nocopy "file://$SNAPSHOT"
cd "$APP"
step "git dependency: mix deps.get, MIX_ENV=test mix compile --warnings-as-errors, mix test"
run_mix deps.get
[ -f deps/nocopy/nocopy.mk ] || fail "mix deps.get did not check nocopy out into deps/"
# The test environment, so that mix test reuses this build (and builds nothing).
export MIX_ENV=test
run_mix compile --warnings-as-errors
grep -q "Compiling 1 nocopy module (sums)" "$SCRATCH/out" || fail "mix compile did not build sums"
run_mix test
if grep -q "Compiling" "$SCRATCH/out"; then fail "mix test compiled again after MIX_ENV=test mix compile"; fi
unset MIX_ENV
check_summary 6

# ---- the checkout is untouched ------------------------------------------------
step "the nocopy checkout is untouched"
cd "$NOCOPY"
tree_state >"$SCRATCH/tree-after"
diff "$SCRATCH/tree-before" "$SCRATCH/tree-after" || fail "files in $NOCOPY were created or changed"
find "$NOCOPY" -path "$NOCOPY/.git" -prune -o -newer "$SCRATCH/stamp" -print >"$SCRATCH/newer"
[ ! -s "$SCRATCH/newer" ] || { cat "$SCRATCH/newer"; fail "files in $NOCOPY were written"; }

step "PASS: path and git dependencies, offline"
