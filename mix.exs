defmodule Nocopy.MixProject do
  # nocopy as a mix dependency (path or git; there is no hex package). mix
  # compiles nocopy's Erlang modules (src/, the runtime the generated stubs
  # call) and the Mix compiler Mix.Tasks.Compile.Nocopy (lib/), which builds a
  # depending project's C modules with nocopy.mk into that project's _build.
  # Nothing is built in this tree, and neither rebar3 nor hex is needed. See
  # docs/guide-mix.md.
  use Mix.Project

  # The application's metadata is written once, in src/nocopy.app.src, which
  # the Makefile and rebar3 read too.
  @app_src (case :file.consult(Path.join(__DIR__, "src/nocopy.app.src")) do
              {:ok, [{:application, :nocopy, props}]} -> props
              other -> Mix.raise("nocopy: cannot read src/nocopy.app.src: #{inspect(other)}")
            end)

  def project do
    [
      app: :nocopy,
      version: List.to_string(@app_src[:vsn]),
      description: List.to_string(@app_src[:description]),
      elixir: "~> 1.14",
      language: :erlang,
      compilers: [:erlang, :elixir, :app],
      erlc_paths: ["src"],
      erlc_include_path: "include",
      # As rebar.config's erl_opts.
      erlc_options: [:debug_info, :warnings_as_errors, :warn_unused_vars],
      elixirc_paths: ["lib"],
      deps: [],
      aliases: [test: &no_mix_test/1]
    ]
  end

  # nocopy's own tests are C, EUnit and integration tests, run with make.
  defp no_mix_test(_args) do
    Mix.raise(
      "nocopy's tests run with make: `make test`, and `make test-mix` for its use from mix"
    )
  end

  # The Erlang modules need what the .app.src says. The Mix compiler (lib/)
  # runs only inside mix: elixir and mix are optional, which tells mix's
  # cross-reference check where Enum and Mix come from, and leaves the .app
  # file as the .app.src (a release without mix starts nocopy all the same).
  def application do
    [
      applications: @app_src[:applications],
      extra_applications: [elixir: :optional, mix: :optional],
      registered: @app_src[:registered],
      env: @app_src[:env]
    ]
  end
end
