# examples/zlib/zlib.mk: the zlib binding (nc_zlib.c, linked with -lz), its
# benchmark driver and `make bench-zlib`. Included by the top-level Makefile
# (include $(wildcard examples/*/*.mk)) after nocopy.mk. See examples/zlib/README.md.

NC_ZLIB_OUT := $(BUILD)/nc_zlib
$(eval $(call nocopy_module,nc_zlib,examples/zlib/nc_zlib.c,-lz,$(NC_ZLIB_OUT)))
EXAMPLE_TARGETS += nc_zlib_all
EXAMPLE_EBINS += $(NC_ZLIB_OUT)/ebin
