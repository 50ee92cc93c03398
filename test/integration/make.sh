#!/usr/bin/env bash
# test/integration/make.sh (make test-plain-make): docs/guide-make.md, a user's
# plain make project on nocopy, in a scratch directory outside the tree (the
# guide is the source of the project; `make doctest` runs it as written).
#
#   1. The guide's project sums_make, block by block, against this working
#      tree, with deeper checks: make, make test (EUnit on both backends), with
#      no C warning; its .gitignore covers the build; the stubs carry their
#      docs (EEP 48).
#   2. A broken C file must stop make.
#   3. Nothing is written into this tree.
set -euo pipefail
# shellcheck source=test/integration/lib.sh
. "$(dirname "$0")/lib.sh"

need make make
need cc gcc
need erl erlang-nox
need git git
scratch_dir
build_env

GUIDE=$NOCOPY_TREE/docs/guide-make.md
say "nocopy under test: $NOCOPY_TREE; scratch: $SCRATCH"
tree_mark
TREE_BEFORE=$(tree_state "$NOCOPY_TREE")

P=$SCRATCH/sums_make
git_init() { git -C "$1" init -q; }
if guide_run "$GUIDE" sums_make git_init; then
    logs=("$SCRATCH"/logs/sums_make.*.log)
    check_eunit sums_make 1 "${logs[@]}"
    no_warnings sums_make "${logs[@]}"
    # What git would add: the guide's files and the C file its block copies.
    guide_files "$GUIDE" sums_make "$SCRATCH/sums_make.files"
    expected=$( (cd "$SCRATCH/sums_make.files" && find . -type f | sed 's|^\./||'
                 echo c_src/sums.c) | sort)
    actual=$(git -C "$P" status --porcelain --untracked-files=all | sed 's/^?? //' | sort)
    if [ "$actual" = "$expected" ]; then
        say "sums_make: git status after the build: only the files written by hand"
    else
        fail "sums_make: .gitignore does not cover the build's files:"
        diff <(echo "$expected") <(echo "$actual") | sed 's/^/    /'
    fi
    if logged "$SCRATCH/logs/docs.log" "$P" erl -noshell -pa _build/sums/ebin -eval '
        {ok, {docs_v1, _, _, _, _, _, Fs}} = code:get_doc(sums),
        [_] = [D || {{function, checksum, 2}, _, _, #{<<"en">> := D}, _} <- Fs],
        io:format("sums: ~b documented functions~n", [length(Fs)]), halt().'; then
        say "sums_make: h(sums, checksum) has a doc"
    else
        fail "sums_make: the stubs have no EEP 48 docs"
    fi

    say "sums_make: a C error must stop make"
    printf '\nint broken = ;\n' >> "$P/c_src/sums.c"
    if EXPECT_FAIL=1 logged "$SCRATCH/logs/broken.log" "$P" make; then
        fail "sums_make: make passed with a broken C file"
    else
        expect_in "$SCRATCH/logs/broken.log" 'c_src/sums\.c:[0-9]+:[0-9]+: error' \
            "sums_make: make stopped at the compiler's error"
    fi
fi

check_untouched "$NOCOPY_TREE" "$TREE_BEFORE"
finish
