#!/usr/bin/env bash
# test/integration/new.sh (make test-new): tools/new, in a scratch directory
# outside the tree.
#
#   1. Wrong uses fail with a message and leave nothing behind: a bad name, a
#      name that clashes (an OTP module, a reserved word, a module of nocopy), an
#      unknown layout, a directory that is not empty, a template with a
#      misspelt placeholder.
#   2. Layouts are the directories of tools/templates/: a layout added to a
#      copy of tools/ is listed by --help and used, every placeholder replaced
#      in paths and text, without a change to tools/new.
#   3. The rebar3 layout, as docs/guide-rebar3.md's quick start runs it (its
#      git dependency fetched from a snapshot of this working tree): rebar3
#      compile, eunit, dialyzer; its .gitignore covers the build.
#   4. The make layout, from this working tree: make test.
#   5. Nothing is written into this tree or the snapshot.
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

NEW=$NOCOPY_TREE/tools/new
say "nocopy under test: $NOCOPY_TREE; scratch: $SCRATCH"
SNAP=$SCRATCH/nocopy
snapshot "$NOCOPY_TREE" "$SNAP"
tree_mark
TREE_BEFORE=$(tree_state "$NOCOPY_TREE")
SNAP_BEFORE=$(tree_state "$SNAP")
mkdir -p "$SCRATCH/logs"

# must_fail WHAT PATTERN ARGS...: tools/new ARGS fails, says PATTERN (an
# ERE) and leaves no file in $SCRATCH/wrong.
must_fail() {
    local what=$1 pattern=$2 out st=0
    shift 2
    out=$(cd "$SCRATCH/wrong" && sh "$NEW" "$@" 2>&1) || st=$?
    if [ "$st" -eq 0 ]; then
        fail "tools/new $*: succeeded ($what)"
    elif ! printf '%s\n' "$out" | grep -Eq -- "$pattern"; then
        fail "tools/new $*: status $st, but the message does not match '$pattern': $out"
    elif [ -n "$(cd "$SCRATCH/wrong" && find . -mindepth 1 ! -path './full' ! -path './full/*')" ]; then
        fail "tools/new $*: left files behind: $(cd "$SCRATCH/wrong" && find . -mindepth 1)"
    else
        say "tools/new $* fails: $(printf '%s\n' "$out" | grep -E -- "$pattern" | head -n 1)"
    fi
}

# 1. ---------------------------------------------------------------------------
mkdir -p "$SCRATCH/wrong/full"
touch "$SCRATCH/wrong/full/keep"
must_fail "no name" 'usage:'
must_fail "capital letter" 'not a name' Mylib
must_fail "a dash" 'not a name' my-lib
must_fail "OTP's lists" 'clash: module lists of' lists
must_fail "OTP's crypto" 'clash: module crypto of' crypto
must_fail "a reserved word" 'clash: reserved word' receive
must_fail "nocopy's own module" 'clash: module nocopy_port of nocopy' nocopy_port
must_fail "an unknown layout" "no layout 'cmake'" mylib --layout cmake
must_fail "a layout outside templates/" "no layout '\.\./rebar3'" mylib --layout ../rebar3
must_fail "a directory in use" 'exists and is not an empty directory' mylib full
must_fail "an unknown option" 'unknown option' mylib --force

# 2. ---------------------------------------------------------------------------
# A copy of tools/ with two layouts more: "probe" names every placeholder;
# "typo" misspells one.
COPY=$SCRATCH/toolcopy
mkdir -p "$COPY"
cp -R "$NOCOPY_TREE/tools" "$COPY/tools"
PROBE=$COPY/tools/templates/probe
mkdir -p "$PROBE/sub_@name@"
printf 'summary: a probe layout\nnext: look in @dir@\n' > "$PROBE/.template"
printf '%s\n' 'name=@name@ Name=@Name@ dir=@dir@' 'nocopy_dir=@nocopy_dir@' \
    'nocopy_git=@nocopy_git@ nocopy_branch=@nocopy_branch@' 'plain @ sign, $@ and a@b' \
    > "$PROBE/sub_@name@/@name@.txt"
printf '#!/bin/sh\necho @name@\n' > "$PROBE/run_@name@.sh"
chmod +x "$PROBE/run_@name@.sh"
mkdir -p "$COPY/tools/templates/typo"
printf 'summary: a template with a typo\n' > "$COPY/tools/templates/typo/.template"
printf 'hello @nmae@\n' > "$COPY/tools/templates/typo/README"
mkdir -p "$COPY/tools/templates/not_a_layout"

if (cd "$SCRATCH" && sh "$COPY/tools/new" --help) > "$SCRATCH/logs/help.log" 2>&1; then
    layouts=$(sed -n 's/^  \([a-z0-9_]*\) .*/\1/p' "$SCRATCH/logs/help.log" | sort | tr '\n' ' ')
    # The tree's layouts, and the two added to the copy; not not_a_layout.
    expected=$( (cd "$NOCOPY_TREE/tools/templates" && ls -d */.template | sed 's|/.template||';
                 echo probe; echo typo) | sort | tr '\n' ' ')
    if [ "$layouts" = "$expected" ]; then
        say "tools/new --help lists the layouts found: $layouts"
    else
        fail "tools/new --help lists '$layouts'"
        cat "$SCRATCH/logs/help.log"
    fi
else
    fail "tools/new --help failed"
fi
if (cd "$SCRATCH" && sh "$COPY/tools/new" my_probe probe_out --layout probe) \
        > "$SCRATCH/logs/probe.log" 2>&1; then
    got=$(cat "$SCRATCH/probe_out/sub_my_probe/my_probe.txt" 2>/dev/null || true)
    want=$(printf '%s\n' "name=my_probe Name=MyProbe dir=$SCRATCH/probe_out" \
        "nocopy_dir=$COPY" "nocopy_git=file://$COPY nocopy_branch=main" 'plain @ sign, $@ and a@b')
    if [ "$got" = "$want" ]; then
        say "layout probe: paths renamed, every placeholder replaced"
    else
        fail "layout probe: sub_my_probe/my_probe.txt is wrong:"
        diff <(echo "$want") <(echo "$got") | sed 's/^/    /'
    fi
    if [ -x "$SCRATCH/probe_out/run_my_probe.sh" ] &&
        [ "$("$SCRATCH/probe_out/run_my_probe.sh")" = my_probe ]; then
        say "layout probe: an executable file stays executable"
    else
        fail "layout probe: run_my_probe.sh is not an executable script printing my_probe"
    fi
    expect_in "$SCRATCH/logs/probe.log" "^  look in $SCRATCH/probe_out\$" "layout probe: its next: line"
    expect_in "$SCRATCH/logs/probe.log" 'is not a git checkout' \
        "layout probe: a nocopy that is not a git checkout is pointed out"
    if [ -e "$SCRATCH/probe_out/.template" ]; then fail "layout probe: .template was copied"; fi
else
    fail "tools/new --layout probe failed: $(cat "$SCRATCH/logs/probe.log")"
fi
if (cd "$SCRATCH" && sh "$COPY/tools/new" typo_out --layout typo) > "$SCRATCH/logs/typo.log" 2>&1; then
    fail "tools/new --layout typo succeeded with @nmae@ in a template"
elif grep -q 'unknown placeholders in its files: @nmae@' "$SCRATCH/logs/typo.log" &&
    [ ! -e "$SCRATCH/typo_out" ]; then
    say "layout typo: $(cat "$SCRATCH/logs/typo.log")"
else
    fail "layout typo: $(cat "$SCRATCH/logs/typo.log")"
fi
mkdir -p "$SCRATCH/here"
if (cd "$SCRATCH/here" && sh "$NEW" here_lib . --layout make) > "$SCRATCH/logs/here.log" 2>&1 &&
    [ "$(cd "$SCRATCH/here" && find . -mindepth 1 -maxdepth 1 | sort | tr '\n' ' ')" = \
        "./.gitignore ./Makefile ./README.md ./c_src ./test " ]; then
    say "tools/new NAME . fills the empty working directory"
else
    fail "tools/new here_lib . in an empty directory: $(cat "$SCRATCH/logs/here.log"; ls -A "$SCRATCH/here")"
fi
for staged in "$SCRATCH"/.nocopy-new.* "$SCRATCH"/here/.nocopy-new.*; do
    [ ! -e "$staged" ] || fail "tools/new left a staging directory: $staged"
done

# 3. ---------------------------------------------------------------------------
if guide_run "$NOCOPY_TREE/docs/guide-rebar3.md" quick; then
    Q=$SCRATCH/quick/mylib
    branch=$(git -C "$NOCOPY_TREE" symbolic-ref -q --short HEAD || echo main)
    expect_in "$Q/rebar.config" "\{git, \"file://$NOCOPY_TREE\", \{branch, \"$branch\"\}\}" \
        "quick: rebar.config takes nocopy from this tree's git repository, branch $branch"
    check_clones quick 1
    if logged "$SCRATCH/logs/quick.dialyzer.log" "$Q" rebar3 dialyzer; then
        say "quick: rebar3 dialyzer passed"
    else
        fail "quick: rebar3 dialyzer"
    fi
    check_eunit quick 1 "$SCRATCH"/logs/quick.*.log
    no_warnings quick "$SCRATCH"/logs/quick.*.log
    (cd "$Q" && git init -q && git status --porcelain --untracked-files=all) |
        sed 's/^?? //' | sort > "$SCRATCH/logs/quick.status"
    printf '%s\n' .gitignore README.md c_src/Makefile c_src/mylib.c rebar.config rebar.lock \
        src/mylib.app.src test/mylib_tests.erl > "$SCRATCH/logs/quick.expected"
    if cmp -s "$SCRATCH/logs/quick.status" "$SCRATCH/logs/quick.expected"; then
        say "quick: git status after the build: only the files tools/new made, and rebar.lock"
    else
        fail "quick: .gitignore does not cover the build's files:"
        diff "$SCRATCH/logs/quick.expected" "$SCRATCH/logs/quick.status" | sed 's/^/    /'
    fi
fi

# 4. ---------------------------------------------------------------------------
M=$SCRATCH/my_lib
if logged "$SCRATCH/logs/make.new.log" "$SCRATCH" sh "$NEW" my_lib --layout make &&
    logged "$SCRATCH/logs/make.test.log" "$M" make test; then
    expect_in "$M/Makefile" "^NOCOPY_DIR \?= $NOCOPY_TREE\$" "my_lib: Makefile includes this tree's nocopy.mk"
    check_eunit my_lib 1 "$SCRATCH/logs/make.test.log"
    no_warnings my_lib "$SCRATCH/logs/make.test.log"
    (cd "$M" && git init -q && git status --porcelain --untracked-files=all) |
        sed 's/^?? //' | sort > "$SCRATCH/logs/make.status"
    printf '%s\n' .gitignore Makefile README.md c_src/my_lib.c test/my_lib_tests.erl \
        > "$SCRATCH/logs/make.expected"
    if cmp -s "$SCRATCH/logs/make.status" "$SCRATCH/logs/make.expected"; then
        say "my_lib: git status after the build: only the files tools/new made"
    else
        fail "my_lib: .gitignore does not cover the build's files:"
        diff "$SCRATCH/logs/make.expected" "$SCRATCH/logs/make.status" | sed 's/^/    /'
    fi
else
    fail "my_lib (make layout): tools/new or make test failed"
fi

# 5. ---------------------------------------------------------------------------
check_untouched "$NOCOPY_TREE" "$TREE_BEFORE"
check_untouched "$SNAP" "$SNAP_BEFORE"
finish
