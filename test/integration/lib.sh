# shellcheck shell=bash
# test/integration/lib.sh: helpers of the integration scripts (bash; sourced).
#
# The scripts build user projects outside the nocopy tree, in a scratch
# directory, against the nocopy tree they belong to (NOCOPY_TREE), and check
# that nothing is ever written into that tree.
#
# Guides (docs/guide-*.md) are executable: a block a user would copy is
# preceded by a marker on its own line,
#   <!-- nocopy-test: project=P file=PATH -->   the block is the file P/PATH
#   <!-- nocopy-test: project=P run -->         the block runs with sh -e in P
# and /path/to/nocopy in a block stands for the nocopy under test.
# guide_check compares a guide's files with the fixtures; guide_run runs a
# guide's project as a user would, block by block.

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

# snapshot TREE DEST: DEST becomes a git repository, branch main, whose one
# commit is TREE's working tree as it is (tracked files as modified, untracked
# files that are not ignored; deleted files left out): a "remote" that a git
# dependency can fetch with a file:// URL. Left out: fuzz/corpus/, 3,000-odd
# fuzz inputs that no build reads; each file of the snapshot is written three
# times (the tree, git's object, a dependency's clone) and removed again, which
# on a busy disk costs more than all the builds.
snapshot() {
    local tree=$1 dest=$2
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

# guide_extract GUIDE OUT: OUT/manifest lists the blocks in order, one a line,
# "N<TAB>PROJECT<TAB>file<TAB>PATH" or "N<TAB>PROJECT<TAB>run<TAB>-"; block N's
# text (unsubstituted) is OUT/N.
guide_extract() {
    mkdir -p "$2"
    awk -v out="$2" '
        function bad(msg) { printf "%s:%d: %s\n", FILENAME, FNR, msg > "/dev/stderr"; err = 1; exit 1 }
        state == 0 && /^<!-- nocopy-test:/ {
            if ($0 !~ /^<!-- nocopy-test: project=[A-Za-z0-9_.-]+ (run|file=[^ ]+) -->$/)
                bad("malformed marker: " $0)
            project = substr($3, 9)
            if ($4 == "run") { kind = "run"; path = "-" }
            else {
                kind = "file"; path = substr($4, 6)
                if (path ~ /^\// || path ~ /(^|\/)\.\.(\/|$)/) bad("path outside the project: " path)
            }
            state = 1; next
        }
        state == 1 {
            if ($0 !~ /^```/) bad("a marker must be followed by a fenced block")
            n++; block = out "/" n
            printf "" > block
            printf "%d\t%s\t%s\t%s\n", n, project, kind, path > (out "/manifest")
            state = 2; next
        }
        state == 2 {
            if ($0 == "```") { close(block); state = 0; next }
            print > block
        }
        END {
            if (err) exit 1
            if (state != 0) { printf "%s: unterminated block\n", FILENAME > "/dev/stderr"; exit 1 }
            if (n == 0) { printf "%s: no nocopy-test blocks\n", FILENAME > "/dev/stderr"; exit 1 }
        }' "$1"
}

# subst_nocopy FILE NOCOPY: FILE's text with /path/to/nocopy replaced.
subst_nocopy() {
    local esc
    esc=$(printf '%s' "$2" | sed 's/[\\|&]/\\&/g')
    sed "s|/path/to/nocopy|$esc|g" "$1"
}

# guide_check GUIDE FIXTURES: every file block of GUIDE is the fixture
# FIXTURES/PROJECT/PATH, byte for byte, and every fixture file of the projects
# the guide names is in the guide.
guide_check() {
    local guide=$1 fixtures=$2 out n project kind path
    out=$(mktemp -d "$SCRATCH/guide.XXXXXX")
    guide_extract "$guide" "$out" || { fail "$guide: cannot be read as an executable guide"; return; }
    local before=$FAILURES
    while IFS=$'\t' read -r n project kind path; do
        [ "$kind" = file ] || continue
        if [ ! -f "$fixtures/$project/$path" ]; then
            fail "$guide: $project/$path is not a fixture in $fixtures"
        elif ! cmp -s "$out/$n" "$fixtures/$project/$path"; then
            fail "$guide: $project/$path differs from its fixture:"
            diff "$fixtures/$project/$path" "$out/$n" | sed 's/^/    /'
        fi
    done < "$out/manifest"
    cut -f2 "$out/manifest" | sort -u > "$out/projects"
    while IFS= read -r project; do
        [ -d "$fixtures/$project" ] || continue
        (cd "$fixtures/$project" && find . \( -type f -o -type l \) | sed 's|^\./||') |
            while IFS= read -r path; do
                awk -F '\t' -v p="$project" -v f="$path" \
                    '$2 == p && $3 == "file" && $4 == f { found = 1 } END { exit !found }' \
                    "$out/manifest" || echo "$path"
            done > "$out/missing"
        if [ -s "$out/missing" ]; then
            fail "$guide: fixture files of $project not in the guide: $(tr '\n' ' ' < "$out/missing")"
        fi
    done < "$out/projects"
    if [ "$FAILURES" -eq "$before" ]; then
        say "$guide: its files are the fixtures in ${fixtures#"$NOCOPY_TREE"/}"
    fi
}

# guide_run GUIDE PROJECT NOCOPY [HOOK]: writes PROJECT's files and runs its
# blocks in order in $SCRATCH/PROJECT, as a user would, with /path/to/nocopy
# replaced by NOCOPY. Each run block's output goes to
# $SCRATCH/logs/PROJECT.N.log; the runners' summaries are shown. HOOK, if
# given, is called with the project directory before the first block runs.
# Returns 1 if a block fails.
guide_run() {
    local guide=$1 project=$2 nocopy=$3 hook=${4:-} out n p kind path dir
    out=$(mktemp -d "$SCRATCH/guide.XXXXXX")
    guide_extract "$guide" "$out" || return 1
    dir=$SCRATCH/$project
    mkdir -p "$dir" "$SCRATCH/logs"
    [ -z "$hook" ] || "$hook" "$dir"
    while IFS=$'\t' read -r n p kind path; do
        [ "$p" = "$project" ] || continue
        if [ "$kind" = file ]; then
            mkdir -p "$(dirname "$dir/$path")"
            subst_nocopy "$out/$n" "$nocopy" > "$dir/$path"
        else
            subst_nocopy "$out/$n" "$nocopy" > "$out/$n.sh"
            say "$project: block $n: $(grep -v '^#' "$out/$n.sh" | tr '\n' ';' | sed 's/;$//; s/;/; /g')"
            if ! logged "$SCRATCH/logs/$project.$n.log" "$dir" sh -e "$out/$n.sh"; then
                fail "$project: block $n failed"
                return 1
            fi
        fi
    done < "$out/manifest"
}

# logged LOG DIR CMD...: runs CMD in DIR with its output in LOG (terminal
# colours taken out); shows the runners' summaries and the time taken, and
# LOG's end if CMD fails (unless EXPECT_FAIL=1). Returns CMD's status.
logged() {
    local log=$1 dir=$2 st=0 t0=$SECONDS
    shift 2
    (cd "$dir" && "$@") > "$log" 2>&1 < /dev/null || st=$?
    sed -i 's/\x1b\[[0-9;]*m//g' "$log"
    summaries "$log"
    printf '    (%ss, exit status %d)\n' $((SECONDS - t0)) "$st"
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
