# nocopy.mk: builds wrapped C modules. One C source becomes a NIF library, a
# linked-in driver library, and Erlang stubs generated from its function table.
# For your own project (plain make, rebar3 or mix) and for nocopy's own tree.
#
#   include path/to/nocopy/nocopy.mk
#   $(eval $(call nocopy_module,NAME,SOURCES[,LDLIBS[,OUTDIR]]))
#
# Plain `make` then builds every module declared (the default goal is
# nocopy-all, unless your Makefile names a target before the include); the
# target NAME_all builds one. In the rebar3 layout, `make nocopy-docs` (from
# rebar3's post_hooks, docs/guide-rebar3.md) adds the EEP 48 docs to the
# stubs' beams rebar3 compiled. For each module NAME, with OUTDIR the fourth
# argument or $(BUILD)/NAME:
#
#   $(NOCOPY_PRIV_DIR)/NAME_nif.so   the NIF library         (module NAME)
#   $(NOCOPY_PRIV_DIR)/NAME_drv.so   the driver library      (module NAME_drv)
#   $(NOCOPY_PRIV_DIR)/NAME_iso      the isolated backend's child program (module
#                                    NAME_iso; needs nocopy's nocopy_iso_nif.so,
#                                    built beside it in the rebar3 layout and by
#                                    nocopy's Mix compiler, else beside NOCOPY_EBIN)
#   $(NOCOPY_GEN_DIR)/NAME.erl, NAME_drv.erl   the stubs, -specs from the C table
#   $(NOCOPY_BEAM_DIR)/NAME.beam, NAME_drv.beam   (none when NOCOPY_BEAM_DIR is empty)
#   OUTDIR/obj/                      the module's objects
#
# nocopy's own C core and Erlang modules are built on demand into
# $(BUILD)/nocopy/; nothing is ever written into the nocopy tree.
#
# Variables you may set, before the include or on the command line:
#   BUILD           build directory (default: _build, where make runs)
#   NOCOPY_LAYOUT   where outputs go:
#                     make    OUTDIR/priv, OUTDIR/gen, OUTDIR/ebin (default)
#                     rebar3  priv/ and src/ of the app, no beams: rebar3
#                             compiles the stubs (see the README)
#                   NOCOPY_PRIV_DIR, NOCOPY_GEN_DIR and NOCOPY_BEAM_DIR override
#                   a layout's choice (nocopy's Mix compiler sets them)
#   NOCOPY_EBIN     nocopy's compiled Erlang modules, which generate the stubs
#                   and which the stubs call at run time (default:
#                   $(BUILD)/nocopy/ebin, compiled from nocopy's src/; put it on
#                   the code path at run time, e.g. erl -pa _build/nocopy/ebin,
#                   unless nocopy is a dependency of your rebar3 or mix project)
#   ERL, ERLC       the Erlang runtime and compiler (default: erl, erlc)
#   ERTS_INC        the runtime's C headers (default: asked of $(ERL))
#   CC, OPTFLAGS    the C compiler and its optimisation flags (default: -O2 -g)
#   MOREFLAGS       extra flags for every compile and link (e.g. sanitizers)
#   NOCOPY_CODE_LAYOUT  code-layout flags for nocopy's own objects (GCC default:
#                   no alignment padding; empty turns it off)
#   CFLAGS, LDFLAGS extra flags for your own sources, and for linking

NOCOPY_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
ERL        ?= erl
ERLC       ?= erlc
# The runtime's headers: asked of erl, unless the caller knows them (nocopy's
# Mix compiler does, and saves a VM start on every `mix compile`).
ifeq ($(origin ERTS_INC),undefined)
ERTS_INC   := $(shell $(ERL) -noshell -eval 'io:put_chars(filename:join(code:root_dir(), "usr/include")), halt().' 2>/dev/null)
endif
ifeq ($(ERTS_INC),)
$(error nocopy.mk: erl was not found: install Erlang/OTP (on Debian: sh $(NOCOPY_DIR)/tools/deps.sh build))
endif

# The first target: `make` alone builds every module declared below.
.PHONY: nocopy-all
nocopy-all:
# rebar3 only: adds the docs chunks to the stubs rebar3 compiled (NAME_docs).
REBAR_BUILD_DIR ?= _build/default
.PHONY: nocopy-docs
nocopy-docs:

CC         ?= gcc
OPTFLAGS   ?= -O2 -g
BUILD      ?= _build
NOCOPY_LAYOUT ?= make
NOCOPY_BUILD   = $(BUILD)/nocopy
NOCOPY_OBJ     = $(NOCOPY_BUILD)/obj
NOCOPY_EBIN   ?= $(NOCOPY_BUILD)/ebin

# Link-time optimisation of the two libraries. The user's code calls the API
# (nocopy_arg_bytes, nocopy_make_i64, ...) across object files, and the core
# calls the backend's primitives inlined; with -flto the compiler sees the
# user's objects and the backend's core together when it links each library,
# and inlines the hot readers and builders into the wrapped functions. The
# objects are fat (real code besides the compiler's IR), so that plain links
# (the describe build) and nm (tools/check-layers.sh) work on them as before.
# GCC only by default (clang's -flto needs a linker plugin that Debian's ld
# lacks); NOCOPY_LTO= turns it off, NOCOPY_LTO="..." sets other flags.
NOCOPY_CC_IS_CLANG := $(shell $(CC) -dM -E -x c /dev/null 2>/dev/null | grep -c __clang__)
NOCOPY_LTO ?= $(if $(filter 0,$(NOCOPY_CC_IS_CLANG)),-flto=auto -ffat-lto-objects)

# Code layout of nocopy's own objects (GCC): no padding before jump targets
# and loops. A driver call runs close to the instruction cache's size (the
# runtime's code, the JIT's, nocopy's hot path), and the padding costs cache
# lines and executed no-ops: without it a driver seed call ran about 250
# fewer instructions in the whole VM (bench/README.md, session 14). Your own
# sources keep your flags; NOCOPY_CODE_LAYOUT= turns it off.
NOCOPY_CODE_LAYOUT ?= $(if $(filter 0,$(NOCOPY_CC_IS_CLANG)),-falign-jumps=1 -falign-loops=1 -falign-labels=1)

# Compiler flags. User code sees include/ only (NOCOPY_USER_CFLAGS). nocopy's
# own sources see include/ and, with -iquote, the "..." headers of their own
# layer and the layers below it, nothing else: the folders of c_src/ are the
# build graph (core <- nif, core <- drv, core <- describe; wire, the request
# decoder, beside the core, under drv), and a core file that
# included a backend's header, or a backend another's, would not compile.
# One exception makes the binding: the core is compiled once per backend
# (core-nif, core-drv, core-describe), and there "nc_backend.h" is that
# backend's, which defines the primitives the core calls (core/nc_prims.h)
# as static inline functions: no table, no indirect call.
NOCOPY_WARN    = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wstrict-prototypes
NOCOPY_USER_CFLAGS = $(NOCOPY_WARN) -fPIC -fvisibility=hidden $(OPTFLAGS) $(NOCOPY_LTO) \
                     -I$(NOCOPY_DIR)/include -I$(ERTS_INC) $(CFLAGS) $(MOREFLAGS)
NOCOPY_SRC     = $(NOCOPY_DIR)/c_src
NOCOPY_BASE_CFLAGS = $(NOCOPY_WARN) -fPIC -fvisibility=hidden $(OPTFLAGS) $(NOCOPY_CODE_LAYOUT) \
                     -I$(NOCOPY_DIR)/include -I$(ERTS_INC) $(MOREFLAGS)
# Per layer: the folders whose headers it may include.
NOCOPY_CORE_CFLAGS     = $(NOCOPY_BASE_CFLAGS) -iquote $(NOCOPY_SRC)/core
NOCOPY_NIF_CFLAGS      = $(NOCOPY_CORE_CFLAGS) -iquote $(NOCOPY_SRC)/nif
NOCOPY_DRV_CFLAGS      = $(NOCOPY_CORE_CFLAGS) -iquote $(NOCOPY_SRC)/wire -iquote $(NOCOPY_SRC)/drv
NOCOPY_DESCRIBE_CFLAGS = $(NOCOPY_CORE_CFLAGS) -iquote $(NOCOPY_SRC)/describe
# The request decoder: pure C, below the backends beside the core; it uses
# include/ only (the status names).
NOCOPY_WIRE_CFLAGS     = $(NOCOPY_BASE_CFLAGS) -iquote $(NOCOPY_SRC)/wire
# What both sides of the isolated backend share (regions, their allocator,
# the channel, the child process): pure C beside the core, include/ only.
NOCOPY_ISO_SHARED_CFLAGS = $(NOCOPY_BASE_CFLAGS) -iquote $(NOCOPY_SRC)/iso_shared
# The isolated backend: its child (iso, a backend of the core, over wire and
# iso_shared) and the VM's side, a NIF library of nocopy itself (iso_host,
# over iso_shared only: it runs no wrapped function).
NOCOPY_ISO_CFLAGS      = $(NOCOPY_CORE_CFLAGS) -iquote $(NOCOPY_SRC)/wire \
                         -iquote $(NOCOPY_SRC)/iso_shared -iquote $(NOCOPY_SRC)/iso
NOCOPY_ISO_HOST_CFLAGS = $(NOCOPY_BASE_CFLAGS) -iquote $(NOCOPY_SRC)/iso_shared \
                         -iquote $(NOCOPY_SRC)/iso_host
# For nocopy's own tests, fuzz targets and profiling harnesses, which reach
# into the core and the wire decoder (and bring their own nc_backend.h when
# they compile the core).
NOCOPY_CFLAGS  = $(NOCOPY_CORE_CFLAGS) -iquote $(NOCOPY_SRC)/wire -iquote $(NOCOPY_SRC)/drv
NOCOPY_LDFLAGS = $(LDFLAGS) $(MOREFLAGS)

# What the objects were compiled with: nocopy's tree, the compiler, its flags
# and the runtime's headers. Make compares timestamps only, so an object
# built from another nocopy checkout (NOCOPY_DIR), with other flags or for
# another OTP would otherwise be linked as it is; every object depends on
# this file, rewritten only when the text changes.
NOCOPY_CONFIG := $(NOCOPY_BUILD)/config
NOCOPY_CONFIG_NOW := $(strip $(abspath $(NOCOPY_DIR)) | $(CC) | $(OPTFLAGS) | $(NOCOPY_LTO) | $(NOCOPY_CODE_LAYOUT) | \
                     $(MOREFLAGS) | $(CFLAGS) | $(ERTS_INC))
ifneq ($(NOCOPY_CONFIG_NOW),$(strip $(file < $(NOCOPY_CONFIG))))
$(shell mkdir -p $(NOCOPY_BUILD))
$(file > $(NOCOPY_CONFIG),$(NOCOPY_CONFIG_NOW))
endif

# One folder, one layer: every C file of a folder is part of its layer.
NOCOPY_LAYERS        = core wire iso_shared nif drv describe iso iso_host
NOCOPY_BACKENDS      = nif drv describe iso
NOCOPY_CORE_SRCS     = $(sort $(wildcard $(NOCOPY_SRC)/core/*.c))
NOCOPY_NIF_SRCS      = $(sort $(wildcard $(NOCOPY_SRC)/nif/*.c))
NOCOPY_DRV_SRCS      = $(sort $(wildcard $(NOCOPY_SRC)/drv/*.c))
NOCOPY_WIRE_SRCS     = $(sort $(wildcard $(NOCOPY_SRC)/wire/*.c))
NOCOPY_ISO_SHARED_SRCS = $(sort $(wildcard $(NOCOPY_SRC)/iso_shared/*.c))
NOCOPY_DESCRIBE_SRCS = $(sort $(wildcard $(NOCOPY_SRC)/describe/*.c))
NOCOPY_ISO_SRCS      = $(sort $(wildcard $(NOCOPY_SRC)/iso/*.c))
NOCOPY_ISO_HOST_SRCS = $(sort $(wildcard $(NOCOPY_SRC)/iso_host/*.c))

# $(NOCOPY_OBJ)/LAYER/FILE.o for $(NOCOPY_SRC)/LAYER/FILE.c, and the core's
# objects for backend B, $(NOCOPY_OBJ)/core-B/FILE.o.
nocopy_objs = $(patsubst $(NOCOPY_SRC)/%.c,$(NOCOPY_OBJ)/%.o,$(1))
nocopy_core_objs = $(patsubst $(NOCOPY_SRC)/core/%.c,$(NOCOPY_OBJ)/core-$(1)/%.o,$(NOCOPY_CORE_SRCS))
NOCOPY_CORE_NIF_OBJS      = $(call nocopy_core_objs,nif)
NOCOPY_CORE_DRV_OBJS      = $(call nocopy_core_objs,drv)
NOCOPY_CORE_DESCRIBE_OBJS = $(call nocopy_core_objs,describe)
NOCOPY_CORE_ISO_OBJS      = $(call nocopy_core_objs,iso)
NOCOPY_NIF_OBJS      = $(call nocopy_objs,$(NOCOPY_NIF_SRCS))
NOCOPY_DRV_OBJS      = $(call nocopy_objs,$(NOCOPY_DRV_SRCS))
NOCOPY_WIRE_OBJS     = $(call nocopy_objs,$(NOCOPY_WIRE_SRCS))
NOCOPY_ISO_SHARED_OBJS = $(call nocopy_objs,$(NOCOPY_ISO_SHARED_SRCS))
NOCOPY_DESCRIBE_OBJS = $(call nocopy_objs,$(NOCOPY_DESCRIBE_SRCS))
NOCOPY_ISO_OBJS      = $(call nocopy_objs,$(NOCOPY_ISO_SRCS))
NOCOPY_ISO_HOST_OBJS = $(call nocopy_objs,$(NOCOPY_ISO_HOST_SRCS))
# Everything a backend's library links besides the user's objects.
NOCOPY_NIF_LIB_OBJS      = $(NOCOPY_CORE_NIF_OBJS) $(NOCOPY_NIF_OBJS)
NOCOPY_DRV_LIB_OBJS      = $(NOCOPY_CORE_DRV_OBJS) $(NOCOPY_WIRE_OBJS) $(NOCOPY_DRV_OBJS)
NOCOPY_DESCRIBE_LIB_OBJS = $(NOCOPY_CORE_DESCRIBE_OBJS) $(NOCOPY_DESCRIBE_OBJS)
NOCOPY_ISO_LIB_OBJS      = $(NOCOPY_CORE_ISO_OBJS) $(NOCOPY_WIRE_OBJS) $(NOCOPY_ISO_SHARED_OBJS) \
                           $(NOCOPY_ISO_OBJS)
# The VM's side of the isolated backend: one NIF library for every module,
# in nocopy's own priv directory (beside its ebin; nocopy's tree puts it
# under $(BUILD), one per build, and tells nocopy_iso with
# NOCOPY_ISO_NIF_DIR).
NOCOPY_ISO_NIF ?= $(dir $(NOCOPY_EBIN))priv/nocopy_iso_nif.so
NOCOPY_PUBLIC_HEADERS = $(wildcard $(NOCOPY_DIR)/include/*.h)
NOCOPY_CORE_HEADERS  = $(NOCOPY_PUBLIC_HEADERS) $(wildcard $(NOCOPY_SRC)/core/*.h)
NOCOPY_HEADERS = $(NOCOPY_PUBLIC_HEADERS) \
                 $(foreach l,$(NOCOPY_LAYERS),$(wildcard $(NOCOPY_SRC)/$(l)/*.h))

# Each layer's objects depend on its own headers and those below it; the
# core's, for one backend, on that backend's headers too.
$(NOCOPY_OBJ)/core-nif/%.o: $(NOCOPY_SRC)/core/%.c $(NOCOPY_CONFIG) $(NOCOPY_CORE_HEADERS) $(wildcard $(NOCOPY_SRC)/nif/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(NOCOPY_NIF_CFLAGS) $(NOCOPY_LTO) -c -o $@ $<

$(NOCOPY_OBJ)/core-drv/%.o: $(NOCOPY_SRC)/core/%.c $(NOCOPY_CONFIG) $(NOCOPY_CORE_HEADERS) \
        $(wildcard $(NOCOPY_SRC)/wire/*.h) $(wildcard $(NOCOPY_SRC)/drv/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(NOCOPY_DRV_CFLAGS) $(NOCOPY_LTO) -c -o $@ $<

$(NOCOPY_OBJ)/core-describe/%.o: $(NOCOPY_SRC)/core/%.c $(NOCOPY_CONFIG) $(NOCOPY_CORE_HEADERS) \
        $(wildcard $(NOCOPY_SRC)/describe/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(NOCOPY_DESCRIBE_CFLAGS) -c -o $@ $<

$(NOCOPY_OBJ)/nif/%.o: $(NOCOPY_SRC)/nif/%.c $(NOCOPY_CONFIG) $(NOCOPY_CORE_HEADERS) $(wildcard $(NOCOPY_SRC)/nif/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(NOCOPY_NIF_CFLAGS) $(NOCOPY_LTO) -c -o $@ $<

$(NOCOPY_OBJ)/drv/%.o: $(NOCOPY_SRC)/drv/%.c $(NOCOPY_CONFIG) $(NOCOPY_CORE_HEADERS) \
        $(wildcard $(NOCOPY_SRC)/wire/*.h) $(wildcard $(NOCOPY_SRC)/drv/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(NOCOPY_DRV_CFLAGS) $(NOCOPY_LTO) -c -o $@ $<

$(NOCOPY_OBJ)/wire/%.o: $(NOCOPY_SRC)/wire/%.c $(NOCOPY_CONFIG) $(NOCOPY_PUBLIC_HEADERS) $(wildcard $(NOCOPY_SRC)/wire/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(NOCOPY_WIRE_CFLAGS) -c -o $@ $<

$(NOCOPY_OBJ)/iso_shared/%.o: $(NOCOPY_SRC)/iso_shared/%.c $(NOCOPY_CONFIG) $(NOCOPY_PUBLIC_HEADERS) \
        $(wildcard $(NOCOPY_SRC)/iso_shared/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(NOCOPY_ISO_SHARED_CFLAGS) -c -o $@ $<

$(NOCOPY_OBJ)/core-iso/%.o: $(NOCOPY_SRC)/core/%.c $(NOCOPY_CONFIG) $(NOCOPY_CORE_HEADERS) \
        $(wildcard $(NOCOPY_SRC)/wire/*.h) $(wildcard $(NOCOPY_SRC)/iso_shared/*.h) \
        $(wildcard $(NOCOPY_SRC)/iso/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(NOCOPY_ISO_CFLAGS) -c -o $@ $<

$(NOCOPY_OBJ)/iso/%.o: $(NOCOPY_SRC)/iso/%.c $(NOCOPY_CONFIG) $(NOCOPY_CORE_HEADERS) \
        $(wildcard $(NOCOPY_SRC)/wire/*.h) $(wildcard $(NOCOPY_SRC)/iso_shared/*.h) \
        $(wildcard $(NOCOPY_SRC)/iso/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(NOCOPY_ISO_CFLAGS) -c -o $@ $<

$(NOCOPY_OBJ)/iso_host/%.o: $(NOCOPY_SRC)/iso_host/%.c $(NOCOPY_CONFIG) $(NOCOPY_PUBLIC_HEADERS) \
        $(wildcard $(NOCOPY_SRC)/iso_shared/*.h) $(wildcard $(NOCOPY_SRC)/iso_host/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(NOCOPY_ISO_HOST_CFLAGS) -c -o $@ $<

$(NOCOPY_ISO_NIF): $(NOCOPY_ISO_HOST_OBJS) $(NOCOPY_ISO_SHARED_OBJS)
	@mkdir -p $(dir $@)
	$(CC) -shared -o $@ $^ $(NOCOPY_LDFLAGS) -lpthread

# The same library in an application's priv directory, beside its NAME_iso
# (the rebar3 layout, nocopy's Mix compiler: nocopy's own priv is not theirs
# to write), where nocopy_iso finds it on the code path.
%/nocopy_iso_nif.so: $(NOCOPY_ISO_HOST_OBJS) $(NOCOPY_ISO_SHARED_OBJS)
	@mkdir -p $(dir $@)
	$(CC) -shared -o $@ $^ $(NOCOPY_LDFLAGS) -lpthread
nocopy_app_iso_nif = $(if $(or $(filter rebar3,$(NOCOPY_LAYOUT)),$(NOCOPY_PRIV_DIR)),$(call nocopy_priv_dir,$(1))/nocopy_iso_nif.so)

# describe also prints the driver's port options (drv/nc_drv_options.h).
$(NOCOPY_OBJ)/describe/%.o: $(NOCOPY_SRC)/describe/%.c $(NOCOPY_CONFIG) $(NOCOPY_CORE_HEADERS) \
        $(NOCOPY_SRC)/drv/nc_drv_options.h $(wildcard $(NOCOPY_SRC)/describe/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(NOCOPY_DESCRIBE_CFLAGS) -c -o $@ $<

# nocopy's Erlang modules, when they are not built elsewhere (NOCOPY_EBIN).
NOCOPY_ERL_MODULES = nocopy nocopy_port nocopy_stubgen nocopy_wire nocopy_iso
ifeq ($(NOCOPY_EBIN),$(NOCOPY_BUILD)/ebin)
$(NOCOPY_EBIN)/%.beam: $(NOCOPY_DIR)/src/%.erl $(wildcard $(NOCOPY_DIR)/src/*.hrl) $(NOCOPY_CONFIG)
	@mkdir -p $(dir $@)
	$(ERLC) +debug_info -o $(NOCOPY_EBIN) $<

$(NOCOPY_EBIN)/nocopy.app: $(NOCOPY_DIR)/src/nocopy.app.src
	@mkdir -p $(dir $@)
	cp $< $@

nocopy-all: $(NOCOPY_EBIN)/nocopy.app
# The isolated backend's VM side, beside those modules (nocopy_iso loads it
# from ../priv). Built only here, where nocopy's modules are built: a
# NOCOPY_EBIN elsewhere (nocopy's own tree, or its application) comes with
# its own priv/nocopy_iso_nif.so, and nothing is written into it.
NOCOPY_ISO_NIF_TARGET = $(NOCOPY_ISO_NIF)
endif
NOCOPY_STUBGEN = $(addprefix $(NOCOPY_EBIN)/,$(addsuffix .beam,$(NOCOPY_ERL_MODULES)))

# Where each layout puts a module's outputs ($(1) is OUTDIR).
nocopy_priv_dir = $(or $(NOCOPY_PRIV_DIR),$(if $(filter rebar3,$(NOCOPY_LAYOUT)),priv,$(1)/priv))
nocopy_gen_dir  = $(or $(NOCOPY_GEN_DIR),$(if $(filter rebar3,$(NOCOPY_LAYOUT)),src,$(1)/gen))
nocopy_beam_dir = $(if $(filter command line environment file override,$(origin NOCOPY_BEAM_DIR)),$(NOCOPY_BEAM_DIR),$(if $(filter rebar3,$(NOCOPY_LAYOUT)),,$(1)/ebin))

# A module's objects, one per source; the sources of one module live in one
# directory.
nocopy_user_objs = $(addprefix $(2)/obj/,$(notdir $(1:.c=.o)))

# nocopy_module(NAME, SOURCES, LDLIBS, OUTDIR)
nocopy_module = $(call nocopy_module_at,$(1),$(2),$(3),$(or $(4),$(BUILD)/$(1)))

define nocopy_module_at
$(1)_OBJS := $(call nocopy_user_objs,$(2),$(4))
$(1)_PRIV := $(call nocopy_priv_dir,$(4))
$(1)_GEN  := $(call nocopy_gen_dir,$(4))
$(1)_BEAM := $(call nocopy_beam_dir,$(4))

$$($(1)_OBJS): $(4)/obj/%.o: $(dir $(firstword $(2)))%.c $$(NOCOPY_PUBLIC_HEADERS) $$(NOCOPY_CONFIG)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(NOCOPY_USER_CFLAGS) -c -o $$@ $$<

$$($(1)_PRIV)/$(1)_nif.so: $$($(1)_OBJS) $$(NOCOPY_NIF_LIB_OBJS)
	@mkdir -p $$(dir $$@)
	$$(CC) -shared $$(OPTFLAGS) $$(NOCOPY_LTO) -o $$@ $$^ $$(NOCOPY_LDFLAGS) $(3) -lpthread

$$($(1)_PRIV)/$(1)_drv.so: $$($(1)_OBJS) $$(NOCOPY_DRV_LIB_OBJS)
	@mkdir -p $$(dir $$@)
	$$(CC) -shared $$(OPTFLAGS) $$(NOCOPY_LTO) -o $$@ $$^ $$(NOCOPY_LDFLAGS) $(3) -lpthread

# The isolated backend's child: an executable, run by nocopy_iso in its own
# process.
$$($(1)_PRIV)/$(1)_iso: $$($(1)_OBJS) $$(NOCOPY_ISO_LIB_OBJS)
	@mkdir -p $$(dir $$@)
	$$(CC) -o $$@ $$^ $$(NOCOPY_LDFLAGS) $(3) -lpthread

# The "describe" build prints the table as Erlang terms; the stubs come from it.
$(4)/gen/$(1)_describe: $$($(1)_OBJS) $$(NOCOPY_DESCRIBE_LIB_OBJS)
	@mkdir -p $$(dir $$@)
	$$(CC) -o $$@ $$^ $$(NOCOPY_LDFLAGS) $(3) -lpthread

# It checks the table first: a bad one (a duplicate function, an atom too long,
# ...) stops the build here, with the reason, not the load.
$(4)/gen/$(1).nocopy: $(4)/gen/$(1)_describe
	$(4)/gen/$(1)_describe > $$@.tmp || { rm -f $$@.tmp; exit 1; }
	mv $$@.tmp $$@

$$($(1)_GEN)/$(1).erl $$($(1)_GEN)/$(1)_drv.erl $$($(1)_GEN)/$(1)_iso.erl &: $(4)/gen/$(1).nocopy $$(NOCOPY_STUBGEN)
	@mkdir -p $$($(1)_GEN)
	$$(ERL) -noshell -pa $$(NOCOPY_EBIN) -run nocopy_stubgen main $(4)/gen/$(1).nocopy $$($(1)_GEN)

$(1)_all: $$($(1)_PRIV)/$(1)_nif.so $$($(1)_PRIV)/$(1)_drv.so $$($(1)_PRIV)/$(1)_iso \
          $$(NOCOPY_ISO_NIF_TARGET) $(call nocopy_app_iso_nif,$(4)) \
          $$($(1)_GEN)/$(1).erl $$($(1)_GEN)/$(1)_drv.erl $$($(1)_GEN)/$(1)_iso.erl
.PHONY: $(1)_all
nocopy-all: $(1)_all

ifneq ($$($(1)_BEAM),)
$$($(1)_BEAM)/$(1).beam $$($(1)_BEAM)/$(1)_drv.beam $$($(1)_BEAM)/$(1)_iso.beam: $$($(1)_BEAM)/%.beam: $$($(1)_GEN)/%.erl \
        $$(NOCOPY_STUBGEN)
	@mkdir -p $$(dir $$@)
	$$(ERLC) -Wall +warnings_as_errors +debug_info -pa $$(NOCOPY_EBIN) -o $$($(1)_BEAM) $$<
	$$(ERL) -noshell -pa $$(NOCOPY_EBIN) -run nocopy_stubgen add_docs $$@ $(4)/gen/$(1).nocopy

$(1)_all: $$($(1)_BEAM)/$(1).beam $$($(1)_BEAM)/$(1)_drv.beam $$($(1)_BEAM)/$(1)_iso.beam
endif

# The rebar3 layout leaves the stubs to rebar3's compiler, so their beams
# carry no docs chunk until rebar3's post_hooks entry runs `make -f
# c_src/Makefile nocopy-docs` (docs/guide-rebar3.md): the stubs' beams are
# found under the profile's build directory, which rebar3 gives its hooks.
$(1)_docs:
	@beams="$$(wildcard $$(addprefix $$(REBAR_BUILD_DIR)/lib/*/ebin/$(1),.beam _drv.beam _iso.beam))"; \
	if [ -z "$$$$beams" ]; then \
	    echo "nocopy: no compiled stubs of $(1) in $$(REBAR_BUILD_DIR)/lib/*/ebin (run from rebar3's post_hooks, after it compiles them)" >&2; exit 1; fi; \
	for b in $$$$beams; do \
	    $$(ERL) -noshell -pa $$(NOCOPY_EBIN) -run nocopy_stubgen add_docs $$$$b $(4)/gen/$(1).nocopy || exit 1; done
.PHONY: $(1)_docs
nocopy-docs: $(1)_docs

.PHONY: $(1)_clean
$(1)_clean:
	rm -rf $(4) $$($(1)_PRIV)/$(1)_nif.so $$($(1)_PRIV)/$(1)_drv.so $$($(1)_PRIV)/$(1)_iso \
	    $$($(1)_GEN)/$(1).erl $$($(1)_GEN)/$(1)_drv.erl $$($(1)_GEN)/$(1)_iso.erl
endef
