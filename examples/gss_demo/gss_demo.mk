# examples/gss_demo/gss_demo.mk: the demo's driver program, gss_demo_main.erl.
# Included by the top-level Makefile after GSS_OUT is set and the gss_demo
# module is defined (nocopy_module). gss_demo_main is plain Erlang, not
# generated, so it gets its own rule; an explicit rule wins over the
# generated-stub pattern rule for $(GSS_OUT)/ebin/%.beam.

GSS_DEMO_MAIN_BEAM := $(GSS_OUT)/ebin/gss_demo_main.beam

$(GSS_DEMO_MAIN_BEAM): examples/gss_demo/gss_demo_main.erl
	@mkdir -p $(dir $@)
	$(ERLC) -Wall +warnings_as_errors +debug_info -o $(GSS_OUT)/ebin $<

# `make all` and `make demo` both build it with the rest of the example.
gss_demo_all: $(GSS_DEMO_MAIN_BEAM)
