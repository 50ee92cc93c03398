# mk/integration.mk: nocopy as its users build on it. Each script makes user
# projects in a scratch directory outside the tree (mktemp -d), builds and
# tests them offline, checks that nothing was written into this tree, shows the
# test runners' summaries and exits non-zero on any failure (bash scripts in
# test/integration/; NOCOPY_IT_KEEP=1 keeps the scratch directory).
#
#   make test-rebar3       a rebar3 application on nocopy, as a git dependency
#                          (a snapshot of this working tree) and from _checkouts:
#                          docs/guide-rebar3.md block by block, and failures
#                          that must be caught (about 45 seconds)
#   make test-new          tools/new: both layouts built and tested, its errors,
#                          layouts found by directory (about 45 seconds)
#   make test-plain-make   docs/guide-make.md block by block (about 15 seconds)
#   make test-mix          a mix project on nocopy, as a path and as a git
#                          dependency: docs/guide-mix.md's projects, compile,
#                          test, failures that must be caught (about 40 seconds)
#   make test-integration  the four
#
# They need rebar3, elixir, git and erlang-dialyzer besides the build packages
# (sh tools/deps.sh test installs them). The first rebar3 dialyzer on a
# machine builds rebar3's base PLT in ~/.cache/rebar3 (a minute or two more).

.PHONY: test-rebar3 test-new test-plain-make test-mix test-integration
test-rebar3:
	bash test/integration/rebar3.sh

test-new:
	bash test/integration/new.sh

test-plain-make:
	bash test/integration/make.sh

test-mix:
	bash test/integration/mix.sh

test-integration: test-rebar3 test-new test-plain-make test-mix
