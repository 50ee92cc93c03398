# mk/ffi.mk: the run-time FFI (issue 13). Included by the top-level Makefile
# right after nocopy.mk.
#
# c_src/ffi/ is a nocopy module like a user's: its C sees include/ only (and
# libffi's header), and nocopy.mk's nocopy_module line builds it into
# nc_ffi_nif.so, nc_ffi_drv.so and the stubs nc_ffi.erl / nc_ffi_drv.erl, which
# src/nocopy_ffi.erl calls. Its declaration parser (NC_FFI_PARSER_SRCS) is pure
# C with no nocopy or libffi header, so the C unit tests and the fuzz target
# (fuzz/fuzz_ffi_parse.c) build it alone.

NC_FFI_PARSER_SRCS    := $(addprefix c_src/ffi/,nc_ffi_lex.c nc_ffi_enum.c nc_ffi_parse.c nc_ffi_decl.c)
NC_FFI_PARSER_HEADERS := c_src/ffi/nc_ffi_decl.h c_src/ffi/nc_ffi_lex.h

# The module: every C file of c_src/ffi/, linked with libffi and libdl.
NC_FFI_SRCS := $(sort $(wildcard c_src/ffi/*.c))
NC_FFI_OUT  := $(BUILD)/nc_ffi
$(eval $(call nocopy_module,nc_ffi,$(NC_FFI_SRCS),-lffi -ldl,$(NC_FFI_OUT)))
$(call nocopy_user_objs,$(NC_FFI_SRCS),$(NC_FFI_OUT)): $(wildcard c_src/ffi/*.h)
