# nocopy.mk: build one wrapped C module into a NIF library, a driver library
# and its generated Erlang stubs. Include it after setting NOCOPY_DIR, then:
#
#   $(eval $(call nocopy_module,NAME,SOURCES,LDLIBS,OUTDIR))
#
# produces
#   OUTDIR/priv/NAME_nif.so    the NIF library      (module NAME)
#   OUTDIR/priv/NAME_drv.so    the driver library   (client module NAME_drv)
#   OUTDIR/gen/NAME.erl, NAME_drv.erl   stubs with -specs, derived from the table
#   OUTDIR/ebin/NAME.beam, NAME_drv.beam
# The table in the C source is the single source of truth: a small program built
# from the same source prints it, and nocopy_stubgen writes the stubs.

NOCOPY_DIR ?= .
ERL        ?= erl
ERLC       ?= erlc
ERTS_INC   := $(shell $(ERL) -noshell -eval 'io:put_chars(filename:join(code:root_dir(), "usr/include")), halt().' 2>/dev/null)
ifeq ($(ERTS_INC),)
$(error erl not found: run sh tools/deps.sh first)
endif

CC         ?= gcc
OPTFLAGS   ?= -O2 -g
NOCOPY_CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wstrict-prototypes \
                -fPIC -fvisibility=hidden $(OPTFLAGS) \
                -I$(NOCOPY_DIR)/include -I$(NOCOPY_DIR)/c_src -I$(ERTS_INC) $(MOREFLAGS)
NOCOPY_LDFLAGS = $(MOREFLAGS)
BUILD      ?= $(NOCOPY_DIR)/_build
NOCOPY_OBJ  = $(BUILD)/obj

NOCOPY_CORE_SRCS = $(addprefix $(NOCOPY_DIR)/c_src/, \
    nc_arena.c nc_status.c nc_call.c nc_args.c nc_iovec.c nc_reply.c nc_handle.c nc_format.c)
NOCOPY_NIF_SRCS  = $(wildcard $(NOCOPY_DIR)/c_src/nc_nif*.c)
NOCOPY_DRV_SRCS  = $(wildcard $(NOCOPY_DIR)/c_src/nc_drv*.c)
NOCOPY_DESCRIBE_SRCS = $(NOCOPY_DIR)/c_src/nc_describe.c

nocopy_objs = $(patsubst $(NOCOPY_DIR)/%.c,$(NOCOPY_OBJ)/%.o,$(1))
NOCOPY_CORE_OBJS = $(call nocopy_objs,$(NOCOPY_CORE_SRCS))
NOCOPY_NIF_OBJS  = $(call nocopy_objs,$(NOCOPY_NIF_SRCS))
NOCOPY_DRV_OBJS  = $(call nocopy_objs,$(NOCOPY_DRV_SRCS))
NOCOPY_DESCRIBE_OBJS = $(call nocopy_objs,$(NOCOPY_DESCRIBE_SRCS))
NOCOPY_HEADERS = $(wildcard $(NOCOPY_DIR)/include/*.h $(NOCOPY_DIR)/c_src/*.h)

$(NOCOPY_OBJ)/%.o: $(NOCOPY_DIR)/%.c $(NOCOPY_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(NOCOPY_CFLAGS) -c -o $@ $<

NOCOPY_EBIN = $(NOCOPY_DIR)/ebin

# nocopy_module(NAME, SOURCES, LDLIBS, OUTDIR). The SOURCES of one module live
# in one directory; they are compiled once and linked into all three builds.
nocopy_user_objs = $(addprefix $(2)/obj/,$(notdir $(1:.c=.o)))

define nocopy_module
$(call nocopy_user_objs,$(2),$(4)): $(4)/obj/%.o: $(dir $(firstword $(2)))%.c $$(NOCOPY_HEADERS)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(NOCOPY_CFLAGS) -c -o $$@ $$<

$(4)/priv/$(1)_nif.so: $(call nocopy_user_objs,$(2),$(4)) $$(NOCOPY_CORE_OBJS) $$(NOCOPY_NIF_OBJS)
	@mkdir -p $$(dir $$@)
	$$(CC) -shared -o $$@ $$^ $$(NOCOPY_LDFLAGS) $(3) -lpthread

$(4)/priv/$(1)_drv.so: $(call nocopy_user_objs,$(2),$(4)) $$(NOCOPY_CORE_OBJS) $$(NOCOPY_DRV_OBJS)
	@mkdir -p $$(dir $$@)
	$$(CC) -shared -o $$@ $$^ $$(NOCOPY_LDFLAGS) $(3) -lpthread

$(4)/gen/$(1)_describe: $(call nocopy_user_objs,$(2),$(4)) $$(NOCOPY_CORE_OBJS) $$(NOCOPY_DESCRIBE_OBJS)
	@mkdir -p $$(dir $$@)
	$$(CC) -o $$@ $$^ $$(NOCOPY_LDFLAGS) $(3) -lpthread

$(4)/gen/$(1).nocopy: $(4)/gen/$(1)_describe
	$(4)/gen/$(1)_describe > $$@.tmp && mv $$@.tmp $$@

$(4)/gen/$(1).erl $(4)/gen/$(1)_drv.erl &: $(4)/gen/$(1).nocopy $$(NOCOPY_EBIN)/nocopy_stubgen.beam \
        $$(NOCOPY_EBIN)/nocopy_port.beam
	$$(ERL) -noshell -pa $$(NOCOPY_EBIN) -run nocopy_stubgen main $(4)/gen/$(1).nocopy $(4)/gen

$(4)/ebin/%.beam: $(4)/gen/%.erl $$(NOCOPY_EBIN)/nocopy.beam
	@mkdir -p $$(dir $$@)
	$$(ERLC) -Wall +warnings_as_errors +debug_info -pa $$(NOCOPY_EBIN) -o $(4)/ebin $$<

$(1)_all: $(4)/priv/$(1)_nif.so $(4)/priv/$(1)_drv.so $(4)/ebin/$(1).beam $(4)/ebin/$(1)_drv.beam
.PHONY: $(1)_all
endef
