# mk/integration-mix.mk: `make test-mix`, nocopy as a mix dependency (path and
# git) in scratch projects outside this tree, offline; see
# test/integration/mix.sh and docs/guide-mix.md. Included by the top-level
# Makefile. Run it on its own: it checks that nothing in the tree was written
# while it ran.
.PHONY: test-mix
test-mix:
	@sh test/integration/mix.sh
