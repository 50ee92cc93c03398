# mk/integration.mk: nocopy as its users build on it. The docs are executable
# (mk/doctest.escript, the one runner, says how): `make doctest` runs them as
# written, and `make test` runs it before EUnit. The deeper scripts build
# variants of the docs' projects: the docs are the only copy of their files,
# which the scripts write with the runner (--files-only); only files no doc
# shows (test/integration/rebar3/misuse.erl, mix/error_format_test.exs) are
# kept there. Each script makes user projects in a scratch directory outside
# the tree (mktemp -d), builds and tests them offline, checks that nothing was
# written into this tree, shows the test runners' summaries and exits non-zero
# on any failure (bash scripts in test/integration/; NOCOPY_IT_KEEP=1 keeps the
# scratch directory).
#
#   make doctest           DOCTEST_DOCS block by block, each project once; a git
#                          dependency gets a snapshot of this working tree; a
#                          wrong block must be caught (about 6 minutes from a
#                          clean clone: 11 builds of user projects, each of nocopy
#                          too, 3 of them with rebar3 dialyzer)
#   make test-rebar3       docs/guide-rebar3.md's myapp with deeper checks, and a
#                          variant on _checkouts alone: dialyzer must reject a
#                          misuse, a broken C file must stop rebar3 (~45 seconds)
#   make test-new          tools/new: both layouts built and tested, its errors,
#                          layouts found by directory (about 20 seconds)
#   make test-plain-make   docs/guide-make.md's sums_make with deeper checks, a
#                          broken C file (about 10 seconds)
#   make test-mix          docs/guide-mix.md's projects: a path dependency built
#                          twice, tested, broken, cleaned; a git dependency
#                          (about 30 seconds)
#   make test-integration  the four
#
# They need rebar3, elixir, git and erlang-dialyzer besides the build packages
# (sh tools/deps.sh test installs them). The first rebar3 dialyzer on a
# machine builds rebar3's base PLT in ~/.cache/rebar3 (about a minute more).
# Times measured on a busy 2-core machine (load 6), nocopy already built.

DOCTEST_DOCS := README.md docs/guide-make.md docs/guide-rebar3.md docs/guide-mix.md docs/ffi.md \
                examples/ffi/README.md

# `all`: a doc may use nocopy's own build (erl -pa /path/to/nocopy/ebin).
.PHONY: doctest test-rebar3 test-new test-plain-make test-mix test-integration
doctest: all
	@bash test/integration/doctest.sh $(DOCTEST_DOCS)

test-rebar3:
	bash test/integration/rebar3.sh

test-new:
	bash test/integration/new.sh

test-plain-make:
	bash test/integration/make.sh

test-mix:
	bash test/integration/mix.sh

test-integration: test-rebar3 test-new test-plain-make test-mix
