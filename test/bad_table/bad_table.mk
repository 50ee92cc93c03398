# test/bad_table/bad_table.mk: builds one of the bad tables of bad_table.c as
# a user would, with nocopy.mk (make check-bad-tables runs it for each, and
# expects the describe step to stop it):
#   make -f test/bad_table/bad_table.mk BAD_TABLE=dup|atom|funcs
include nocopy.mk

CFLAGS += -DBAD_$(BAD_TABLE)
$(eval $(call nocopy_module,bad_$(BAD_TABLE),test/bad_table/bad_table.c,,$(BUILD)/bad_table/$(BAD_TABLE)))
