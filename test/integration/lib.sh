# shellcheck shell=bash
# test/integration/lib.sh: helpers of the integration scripts (bash; sourced).
#
# The scripts build user projects outside the nocopy tree, in a scratch
# directory, against the nocopy tree they belong to (NOCOPY_TREE), and check
# that nothing is ever written into that tree.
#
# Guides (docs/guide-*.md) are executable: mk/doctest.escript, the runner of
# every doc, runs their marked blocks. guide_run runs a guide's project as a
# user would, block by block; guide_files writes a guide's project without
# running it, for a variant (the guides are the only copy of their files).

NOCOPY_TREE=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
export INTEGRATION_DIR=$NOCOPY_TREE/test/integration
FAILURES=0
STARTED=$(date +%s)

say() { printf '==> %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*"; FAILURES=$((FAILURES + 1)); }
die() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }

# need CMD PACKAGE: stop with a message when a tool is missing.
need() {
    command -v "$1" >/dev/null 2>&1 ||
        die "$1 not found: install the Debian package $2 (apt-get install $2)"
}

# scratch_dir: a fresh directory outside the tree, removed on exit (kept
# when NOCOPY_IT_KEEP=1, to look at the projects and logs).
scratch_dir() {
    SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/nocopy-it.XXXXXX")
    case $SCRATCH/ in
        "$NOCOPY_TREE"/*) die "scratch directory $SCRATCH is inside the nocopy tree" ;;
    esac
    if [ "${NOCOPY_IT_KEEP:-0}" = 1 ]; then
        trap 'say "kept $SCRATCH"' EXIT
    else
        trap 'rm -rf "$SCRATCH"' EXIT
    fi
    trap 'exit 130' INT TERM
}

# The environment of every build: rebar3 without colours (its output is
# grepped), make with as many jobs as CPUs (MAKEFLAGS reaches the make of
# rebar3's hooks; a jobserver of an outer make would not).
build_env() {
    local jobs
    jobs=$(nproc 2>/dev/null || echo 2)
    unset MAKELEVEL MFLAGS
    export MAKEFLAGS="-j$jobs"
    export REBAR_COLOR=none LC_ALL=C
}

# snapshot TREE DEST: DEST becomes a git repository, branches main and TREE's
# current one, whose one commit is TREE's working tree as it is (tracked files as modified, untracked
# files that are not ignored; deleted files left out): a "remote" that a git
# dependency can fetch with a file:// URL. Left out: fuzz/corpus/, 3,000-odd
# fuzz inputs that no build reads; each file of the snapshot is written three
# times (the tree, git's object, a dependency's clone) and removed again, which
# on a busy disk costs more than all the builds.
snapshot() {
    local tree=$1 dest=$2 branch
    mkdir -p "$dest"
    (cd "$tree" && git ls-files -z --cached --others --exclude-standard --deduplicate |
        while IFS= read -r -d '' f; do
            case $f in fuzz/corpus/*) continue ;; esac
            if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
        done | tar --null --no-recursion -T - -cf -) | tar -xf - -C "$dest"
    git -C "$dest" init -q -b main
    git -C "$dest" add -A
    git -C "$dest" -c user.name=nocopy-it -c user.email=nocopy-it@localhost \
        commit -q -m "snapshot of $tree"
    # tools/new names the tree's own branch in the projects it makes.
    branch=$(git -C "$tree" symbolic-ref -q --short HEAD || true)
    [ -z "$branch" ] || [ "$branch" = main ] || git -C "$dest" branch "$branch"
}

# tree_state TREE: what must not change while users build against TREE:
# git's view (ignored files included) and every file or directory modified
# since tree_mark (outside .git).
tree_mark() { MARK=$SCRATCH/.mark; touch "$MARK"; sleep 1; }
tree_state() {
    git -C "$1" status --porcelain --ignored --untracked-files=all
    find "$1" -path "$1/.git" -prune -o -newer "$MARK" -print
}

# check_untouched TREE BEFORE: TREE's state is BEFORE (from tree_state).
check_untouched() {
    local now
    now=$(tree_state "$1")
    if [ "$now" = "$2" ]; then
        say "nocopy tree untouched: $1"
    else
        fail "the build wrote into $1:"
        diff <(printf '%s\n' "$2") <(printf '%s\n' "$now") | sed 's/^/    /'
    fi
}

# ---- guides ------------------------------------------------------------------

# The docs' one runner, mk/doctest.escript (its header says what the markers
# mean). Its logs go to $SCRATCH/logs/PROJECT.LINE.log.
DOCTEST=$NOCOPY_TREE/mk/doctest.escript
doctest() { escript "$DOCTEST" --logs "$SCRATCH/logs" "$@"; }

# guide_run GUIDE PROJECT [HOOK]: runs PROJECT's blocks of GUIDE in
# $SCRATCH/PROJECT, as a user would: /path/to/nocopy is this tree, and a git
# dependency on it gets the snapshot $SNAP (when set). HOOK, if given, is
# called with the project directory first. The runner shows each block and the
# test runners' summaries. Returns 1 if a block fails.
guide_run() {
    local guide=$1 project=$2 hook=${3:-}
    mkdir -p "$SCRATCH/$project"
    [ -z "$hook" ] || "$hook" "$SCRATCH/$project"
    # From the tree, so that the runner names the guide as docs/guide-....md.
    if (cd "$NOCOPY_TREE" && doctest --project "$project" ${SNAP:+--git-snapshot "$SNAP"} \
        "$NOCOPY_TREE" "$SCRATCH" "${guide#"$NOCOPY_TREE"/}") | sed 's/^/    /'; then
        say "$project: ${guide#"$NOCOPY_TREE"/} ran as shown"
    else
        fail "$project: ${guide#"$NOCOPY_TREE"/} did not run as shown"
        return 1
    fi
}

# guide_files GUIDE PROJECT DEST [NOCOPY]: DEST (which must not exist) becomes
# PROJECT's files as GUIDE shows them (its file blocks, same-as checked), with
# /path/to/nocopy replaced by NOCOPY (default: this tree); nothing is run. The
# start of a variant of a guide's project. Returns 1 if the guide cannot give
# them.
guide_files() {
    local guide=$1 project=$2 dest=$3 nocopy=${4:-$NOCOPY_TREE} tmp
    tmp=$(mktemp -d "$SCRATCH/files.XXXXXX")
    if escript "$DOCTEST" --files-only --project "$project" --nocopy "$nocopy" \
        --logs "$tmp/logs" "$NOCOPY_TREE" "$tmp" "$guide" > "$tmp/out" 2>&1 &&
        mv "$tmp/$project" "$dest"; then
        say "$project: $(grep -c ': wrote ' "$tmp/out") files from ${guide#"$NOCOPY_TREE"/} in $dest"
        rm -rf "$tmp"
    else
        fail "$project: no files from ${guide#"$NOCOPY_TREE"/}:"
        sed 's/^/    /' "$tmp/out"
        return 1
    fi
}

# check_clones WHAT MIN: every git clone of this tree in $SCRATCH (a git
# dependency fetched from file://$NOCOPY_TREE) holds the snapshot's commit, and
# there are at least MIN: git dependencies got the working tree under test.
check_clones() {
    local what=$1 min=$2 head dir url n=0
    head=$(git -C "$SNAP" rev-parse HEAD)
    while IFS= read -r dir; do
        url=$(git -C "$dir" config --get remote.origin.url || true)
        [ "$url" = "file://$NOCOPY_TREE" ] || continue
        n=$((n + 1))
        [ "$(git -C "$dir" rev-parse HEAD)" = "$head" ] ||
            fail "$what: ${dir#"$SCRATCH"/} is not the snapshot: $(git -C "$dir" log -1 --format='%h %s')"
    done < <(find "$SCRATCH" -path "$SNAP" -prune -o -name .git -print | sed 's|/\.git$||')
    if [ "$n" -lt "$min" ]; then
        fail "$what: $n git clone(s) of nocopy, at least $min expected"
    else
        say "$what: $n git clone(s) of nocopy, each the snapshot of the working tree"
    fi
}

# logged LOG DIR CMD...: runs CMD in DIR with its output in LOG (terminal
# colours taken out); shows the runners' summaries and the time taken, and
# LOG's end if CMD fails (unless EXPECT_FAIL=1). Returns CMD's status.
logged() {
    local log=$1 dir=$2 st=0 t0=$SECONDS cmd
    shift 2
    cmd=$*
    cmd=${cmd%%$'\n'*}
    [ "${#cmd}" -le 60 ] || cmd="${cmd:0:57}..."
    (cd "$dir" && "$@") > "$log" 2>&1 < /dev/null || st=$?
    sed -i 's/\x1b\[[0-9;]*m//g' "$log"
    summaries "$log"
    printf '    (%s in %s: %ss, exit status %d)\n' "$cmd" "${dir#"$SCRATCH"/}" $((SECONDS - t0)) "$st"
    if [ "$st" -ne 0 ] && [ "${EXPECT_FAIL:-0}" != 1 ]; then
        printf '    The end of %s:\n' "$log"
        tail -n 40 "$log" | sed 's/^/    | /'
    fi
    return "$st"
}

# summaries LOG: the test runners' and dialyzer's own summary lines.
summaries() {
    grep -E '^(===> )?(Finished in |[0-9]+ tests?, [0-9]+ failures|Analyzing [0-9]+ files|Warnings occurred|Hook for |Error in dialyzing)|^ *((All )?[0-9]+ tests passed|Test passed|Failed: |There were no tests)|^make: \*\*\*|error:' "$1" |
        sed 's/^ *//; s/^/    /' || true
}

# eunit_counts LOG...: the counts of the EUnit summaries in LOGs, one a line
# ("2" for rebar3's "2 tests, 0 failures" and eunit's "2 tests passed."),
# failing ones
# as "fail".
eunit_counts() {
    sed -nE 's/^([0-9]+) tests?, 0 failures.*/\1/p; s/^ *(All )?([0-9]+) tests passed\..*/\2/p;
             s/^ *Test passed\..*/1/p;
             s/^([0-9]+) tests?, [1-9][0-9]* failures.*/fail/p; s/^ *Failed: .*/fail/p' "$@"
}

# check_eunit WHAT MIN LOG...: every EUnit run in LOGs (rebar3's "Performing
# EUnit tests", or eunit's own "=== EUnit ===" banner) ended with a summary of
# more than 0 tests and no failure, and there were at least MIN runs.
check_eunit() {
    local what=$1 min=$2 runs counts n
    shift 2
    runs=$(cat "$@" | grep -cE '^(===> )?Performing EUnit tests|^=+ EUnit =+$' || true)
    counts=$(eunit_counts "$@" | tr '\n' ' ')
    n=$(echo "$counts" | wc -w)
    case " $counts" in
        *" fail"* | *" 0 "*) fail "$what: EUnit summaries: $counts" ;;
        *)
            if [ "$n" -ne "$runs" ] || [ "$runs" -lt "$min" ]; then
                fail "$what: $runs EUnit run(s) (at least $min expected), $n passing summaries: $counts"
            else
                say "$what: $runs EUnit run(s), all passed; tests per run: $counts"
            fi ;;
    esac
}

# no_warnings WHAT LOG...: no compiler (C or Erlang) warned in LOGs.
no_warnings() {
    local what=$1
    shift
    if grep -hi 'warning:' "$@" > "$SCRATCH/warnings"; then
        fail "$what: the build has warnings:"
        sed 's/^/    /' "$SCRATCH/warnings"
    else
        say "$what: no compiler warning"
    fi
}

# expect_in LOG PATTERN WHAT: LOG has a line matching the ERE PATTERN.
expect_in() {
    if grep -Eq -- "$2" "$1"; then say "$3"; else fail "$3: no line matches '$2' in $1"; fi
}

finish() {
    local took=$(($(date +%s) - STARTED))
    if [ "$FAILURES" -eq 0 ]; then
        say "$(basename "$0"): all checks passed (${took}s)"
    else
        say "$(basename "$0"): $FAILURES check(s) failed (${took}s)"
        exit 1
    fi
}
