defmodule Mix.Tasks.Compile.Nocopy do
  @moduledoc """
  Builds a project's nocopy C modules: for each, the NIF library, the driver
  library, the isolated backend's child program, and the Erlang stubs
  generated from the module's C function table.

  Add the compiler before mix's own, and name the C sources in `project/0`:

      def project do
        [
          app: :my_app,
          compilers: [:nocopy] ++ Mix.compilers(),
          nocopy: [
            sums: ["c_src/sums.c"],
            crc: [sources: ["c_src/crc.c"], ldlibs: "-lz", cflags: "-DCRC_CHUNK=65536"]
          ],
          deps: [{:nocopy, path: "../nocopy"}]
        ]
      end

  Each entry of `:nocopy` is `name: sources` or `name: options`. `name` is
  the module's name in its C table (`.name = "sums"`): the NIF stubs are the
  Erlang module `:sums`, the driver client `:sums_drv`, the isolated
  backend's client `:sums_iso`. `sources` is a path or a list of paths,
  relative to the project, all in one directory. Options:

    * `:sources` - as above (required)
    * `:ldlibs` - libraries and linker flags for this module, e.g. `"-lz"`
      or `["-lcrypto", "-Wl,-rpath,/opt/lib"]`
    * `:cflags` - extra compiler flags for this module's sources, e.g.
      `"-DLEVEL=6"`

  A module is rebuilt when its sources, the headers beside them (`*.h` in
  the sources' directory) or its entry in mix.exs change. The
  environment's `CC`, `OPTFLAGS`, `CFLAGS`, `LDFLAGS` and `MOREFLAGS` reach
  the build as with nocopy.mk (see its header comment); `mix compile --force`
  rebuilds everything after changing them.

  ## Where the outputs go

    * `_build/ENV/lib/APP/priv/NAME_nif.so`, `NAME_drv.so` and `NAME_iso`
      (the isolated backend's child program), and `nocopy_iso_nif.so` (its
      VM side, one for all the modules; nocopy's `nocopy_iso` finds it on the
      code path): the application's priv directory, where the stubs look
      (`code:priv_dir/1`) and where `mix release` copies it from. Nothing is written into the project's own
      `priv/`: if the project has one, mix links it there, and this compiler
      replaces the link with a copy (as `build_embedded: true` does) so that
      builds of each environment stay in `_build`.
    * `_build/ENV/lib/APP/ebin/NAME.beam`, `NAME_drv.beam` and
      `NAME_iso.beam`: the stubs, compiled beside the project's modules, so
      the `.app` file lists them.
      They carry EEP 48 docs: `h :sums.checksum` in IEx.
    * `_build/ENV/nocopy/APP/`: the generated Makefile, the stubs' sources
      (`gen/NAME.erl`, `gen/NAME_drv.erl`) and the objects;
      `_build/ENV/nocopy/nocopy/obj/`: nocopy's C core, shared by the
      applications of an umbrella.

  ## Command-line options

    * `--force` - rebuild everything
    * `--verbose` - show the build's commands
    * `--warnings-as-errors` - compile the project's C sources with `-Werror`

  `mix clean` removes the outputs.
  """
  use Mix.Task.Compiler

  @shortdoc "Builds nocopy C modules (NIF, driver, Erlang stubs) with nocopy.mk"
  @recursive true

  @switches [force: :boolean, verbose: :boolean, warnings_as_errors: :boolean]
  @module_opts [:sources, :ldlibs, :cflags]
  # What make can take in a target, a prerequisite or a call argument.
  @make_safe ~r{\A[A-Za-z0-9_./+@%=~-]+\z}

  @impl Mix.Task.Compiler
  def run(args) do
    {opts, _, _} = OptionParser.parse(args, switches: @switches)
    config = Mix.Project.config()
    modules = modules!(config)
    paths = paths(config)
    removed = remove_dropped(paths, modules)

    case modules do
      [] ->
        # The isolated backend's VM side, shared by the modules: none left.
        File.rm(Path.join(paths.priv, "nocopy_iso_nif.so"))
        write_manifest(paths, [])
        {if(removed == [], do: :noop, else: :ok), []}

      _ ->
        build(modules, paths, opts)
    end
  end

  @impl Mix.Task.Compiler
  def manifests do
    [manifest(paths(Mix.Project.config()))]
  end

  @impl Mix.Task.Compiler
  def clean do
    paths = paths(Mix.Project.config())
    Enum.each(read_manifest(paths), &remove_outputs(paths, &1))
    File.rm(Path.join(paths.priv, "nocopy_iso_nif.so"))
    File.rm_rf!(paths.dir)
    :ok
  end

  # ---- configuration ----------------------------------------------------------

  defp modules!(config) do
    entries = Keyword.get(config, :nocopy, [])

    unless is_list(entries) and Keyword.keyword?(entries) do
      Mix.raise(
        "nocopy: expected :nocopy in mix.exs to be a keyword list " <>
          "(name: sources or name: options), got: #{inspect(entries)}"
      )
    end

    case Keyword.keys(entries) -- Enum.uniq(Keyword.keys(entries)) do
      [] -> :ok
      dups -> Mix.raise("nocopy: module #{inspect(hd(dups))} is named twice in mix.exs")
    end

    Enum.map(entries, fn {name, spec} -> module!(name, spec) end)
  end

  defp module!(name, spec) do
    name = Atom.to_string(name)

    unless name =~ ~r/\A[a-z][a-z0-9_]*\z/ do
      Mix.raise(
        "nocopy: #{inspect(name)} is not a module name (lower case letters, " <>
          "digits and _, as in the C table's .name)"
      )
    end

    opts =
      cond do
        is_binary(spec) -> [sources: [spec]]
        is_list(spec) and spec != [] and Enum.all?(spec, &is_binary/1) -> [sources: spec]
        is_list(spec) and Keyword.keyword?(spec) -> spec
        true -> Mix.raise("nocopy: #{name}: expected sources or options, got: #{inspect(spec)}")
      end

    case Keyword.keys(opts) -- @module_opts do
      [] ->
        :ok

      bad ->
        Mix.raise(
          "nocopy: #{name}: unknown options #{inspect(bad)} " <>
            "(known: #{inspect(@module_opts)})"
        )
    end

    sources = List.wrap(opts[:sources])

    unless sources != [] and Enum.all?(sources, &(is_binary(&1) and Path.extname(&1) == ".c")) do
      Mix.raise(
        "nocopy: #{name}: :sources must name one or more .c files, got: " <>
          inspect(opts[:sources])
      )
    end

    # Relative to the project, where make runs: compilers' messages name
    # c_src/sums.c, as mix names lib/my_app.ex.
    sources = Enum.map(sources, &Path.relative_to_cwd(Path.expand(&1)))

    case sources |> Enum.map(&Path.dirname/1) |> Enum.uniq() do
      [_] -> :ok
      _ -> Mix.raise("nocopy: #{name}: the sources of one module must be in one directory")
    end

    %{
      name: name,
      sources: sources,
      ldlibs: flags!(name, :ldlibs, opts[:ldlibs]),
      cflags: flags!(name, :cflags, opts[:cflags])
    }
  end

  defp flags!(_name, _key, nil), do: ""
  defp flags!(name, key, flags) when is_binary(flags), do: flags!(name, key, [flags])

  defp flags!(name, key, flags) when is_list(flags) do
    if Enum.all?(flags, &(is_binary(&1) and not String.contains?(&1, "\n"))) do
      Enum.join(flags, " ")
    else
      Mix.raise(
        "nocopy: #{name}: #{inspect(key)} must be a string or a list of strings, " <>
          "got: #{inspect(flags)}"
      )
    end
  end

  defp flags!(name, key, flags), do: flags!(name, key, [flags])

  defp paths(config) do
    dir = Path.join([Mix.Project.build_path(config), "nocopy", Atom.to_string(config[:app])])

    %{
      build: Path.join(Mix.Project.build_path(config), "nocopy"),
      dir: dir,
      gen: Path.join(dir, "gen"),
      makefile: Path.join(dir, "Makefile"),
      priv: Path.join(Mix.Project.app_path(config), "priv"),
      ebin: Mix.Project.compile_path(config)
    }
  end

  # The source of nocopy: the dependency's checkout, or this file's own tree.
  defp nocopy_dir do
    candidates =
      [Mix.Project.deps_paths()[:nocopy], Path.expand("../../..", __DIR__)]
      |> Enum.reject(&is_nil/1)

    Enum.find(candidates, &File.regular?(Path.join(&1, "nocopy.mk"))) ||
      Mix.raise(
        "nocopy: nocopy.mk not found (looked in #{Enum.join(candidates, ", ")}); " <>
          "is nocopy a dependency of this project?"
      )
  end

  # ---- building ---------------------------------------------------------------

  defp build(modules, paths, opts) do
    make = prepare!(modules, paths)
    vars = if opts[:warnings_as_errors], do: ["NOCOPY_MIX_CFLAGS=-Werror"], else: []
    base = ["--no-print-directory", "-f", paths.makefile | vars]

    # make -q: which modules are out of date, without building anything.
    stale =
      if opts[:force],
        do: modules,
        else: Enum.reject(modules, &(make_status(make, base ++ ["-q", &1.name <> "_all"]) == 0))

    case stale do
      [] -> {:noop, []}
      _ -> make!(make, base, stale, modules, paths, opts)
    end
  end

  # Checks the paths, writes the Makefile and the module records; returns make.
  defp prepare!(modules, paths) do
    nocopy = nocopy_dir()

    for path <-
          [nocopy, paths.build, paths.priv, paths.ebin] ++
            Enum.flat_map(modules, & &1.sources),
        not (path =~ @make_safe) do
      Mix.raise(
        "nocopy: make cannot work with the path #{inspect(path)}: use paths " <>
          "without spaces or any of $#,:;()'\""
      )
    end

    unlink_priv(paths.priv)
    File.mkdir_p!(paths.dir)
    write_if_changed(paths.makefile, makefile(modules, paths, nocopy))

    # Each module's entry, so that a change to it rebuilds that module alone.
    for m <- modules do
      File.mkdir_p!(Path.join(paths.dir, m.name))
      write_if_changed(config_stamp(paths, m), inspect(Map.take(m, [:sources, :ldlibs, :cflags])))
    end

    write_manifest(paths, Enum.map(modules, & &1.name))

    System.find_executable("make") ||
      Mix.raise("nocopy: make not found: install it (Debian: apt-get install make)")
  end

  defp make!(make, base, stale, modules, paths, opts) do
    names = Enum.map_join(stale, ", ", & &1.name)
    count = length(stale)
    Mix.shell().info("Compiling #{count} nocopy module#{if count > 1, do: "s"} (#{names})")

    args =
      base ++
        jobs() ++
        if(opts[:verbose], do: [], else: ["-s"]) ++
        if(opts[:force], do: ["-B"], else: []) ++ Enum.map(stale, &(&1.name <> "_all"))

    {status, lines} = run_make(make, args)
    diagnostics = Enum.flat_map(lines, &diagnostic/1) ++ name_mismatches(modules, paths)

    if status == 0 do
      {:ok, diagnostics}
    else
      summary =
        "nocopy: building #{names} failed (make exited with status #{status}); " <>
          "its output is above"

      Mix.shell().error(summary)

      if Enum.any?(diagnostics, &(&1.severity == :error)),
        do: {:error, diagnostics},
        else: {:error, diagnostics ++ [diag(Mix.Project.project_file(), 0, :error, summary)]}
    end
  end

  # -jN, unless make runs under another make's job server.
  defp jobs do
    if String.contains?(System.get_env("MAKEFLAGS", ""), "jobserver"),
      do: [],
      else: ["-j#{System.schedulers_online()}"]
  end

  defp makefile(modules, paths, nocopy) do
    root = List.to_string(:code.root_dir())
    own_ebin = __MODULE__ |> :code.which() |> List.to_string() |> Path.dirname()

    """
    # Generated by mix compile.nocopy from the :nocopy entry of #{Mix.Project.project_file()}.
    # Do not edit: change mix.exs. `make -f` this file, from the project's
    # directory, builds what mix builds.
    BUILD := #{paths.build}
    NOCOPY_EBIN := #{own_ebin}
    NOCOPY_PRIV_DIR := #{paths.priv}
    NOCOPY_GEN_DIR := #{paths.gen}
    NOCOPY_BEAM_DIR := #{paths.ebin}
    ERL := #{System.get_env("ERL", Path.join(root, "bin/erl"))}
    ERLC := #{System.get_env("ERLC", Path.join(root, "bin/erlc"))}
    ERTS_INC := #{Path.join(root, "usr/include")}
    include #{Path.join(nocopy, "nocopy.mk")}
    """ <> Enum.map_join(modules, &module_rules(&1, paths))
  end

  # nocopy_module, with the module's flags in variables: make would split a
  # call argument at its commas (-Wl,-rpath,...).
  defp module_rules(%{name: name} = m, paths) do
    dir = m.sources |> hd() |> Path.dirname()

    """

    # #{name}
    #{name}_MIX_LDLIBS := #{make_escape(m.ldlibs)}
    $(eval $(call nocopy_module,#{name},#{Enum.join(m.sources, " ")},$$(#{name}_MIX_LDLIBS),#{Path.join(paths.dir, name)}))
    $(#{name}_OBJS): CFLAGS += #{make_escape(m.cflags)} $(NOCOPY_MIX_CFLAGS)
    $(#{name}_OBJS): $(wildcard #{dir}/*.h) #{config_stamp(paths, m)}
    """
  end

  defp config_stamp(paths, %{name: name}), do: Path.join([paths.dir, name, "mix-config"])

  defp make_escape(text), do: text |> String.replace("$", "$$") |> String.replace("#", "\\#")

  defp make_status(make, args) do
    {_, status} = System.cmd(make, args, stderr_to_stdout: true)
    status
  end

  # Runs make, showing its output as it comes; returns its status and lines.
  defp run_make(make, args) do
    port =
      Port.open({:spawn_executable, make}, [
        :binary,
        :exit_status,
        :stderr_to_stdout,
        :hide,
        {:line, 4096},
        args: args
      ])

    collect(port, [], "")
  end

  defp collect(port, lines, partial) do
    receive do
      {^port, {:data, {:noeol, data}}} ->
        collect(port, lines, partial <> data)

      {^port, {:data, {:eol, data}}} ->
        line = partial <> data
        Mix.shell().info(line)
        collect(port, [line | lines], "")

      {^port, {:exit_status, status}} ->
        {status, Enum.reverse(lines)}
    end
  end

  # gcc's "file:line:col: error: text", ld's and nocopy_stubgen's messages.
  defp diagnostic(line) do
    cond do
      m =
          Regex.run(
            ~r/\A([^:\s][^:]*):(\d+):(?:(\d+):)? (fatal error|error|warning): (.*)\z/,
            line
          ) ->
        [_, file, l, c, sev, text] = m

        pos =
          if c == "", do: String.to_integer(l), else: {String.to_integer(l), String.to_integer(c)}

        [diag(Path.expand(file), pos, if(sev == "warning", do: :warning, else: :error), text)]

      String.starts_with?(line, ["/usr/bin/ld: ", "ld: ", "collect2: "]) or
          line =~ ~r/undefined reference to/ ->
        [diag(Mix.Project.project_file(), 0, :error, line)]

      String.starts_with?(line, "nocopy_stubgen: ") ->
        [diag(Mix.Project.project_file(), 0, :error, line)]

      true ->
        []
    end
  end

  # The stubs are named after the C table's .name: a different name in
  # mix.exs leaves make without the stubs it expects.
  defp name_mismatches(modules, paths) do
    for %{name: name, sources: sources} <- modules,
        {:ok, terms} <- [:file.consult(Path.join([paths.dir, name, "gen", name <> ".nocopy"]))],
        table = terms |> List.keyfind(:module, 0) |> elem(1) |> List.to_string(),
        table != name do
      message =
        "nocopy: #{Enum.join(sources, " ")} defines the module #{inspect(table)} (.name in " <>
          "its nocopy_module), but mix.exs names it #{name}: use #{table}: in mix.exs"

      Mix.shell().error(message)
      diag(Path.expand(hd(sources)), 0, :error, message)
    end
  end

  # position: a line, {line, column}, or 0 for none (as mix's Erlang compiler).
  defp diag(file, position, severity, message) do
    %Mix.Task.Compiler.Diagnostic{
      compiler_name: "nocopy",
      file: file,
      position: position,
      severity: severity,
      message: message
    }
  end

  # ---- outputs ----------------------------------------------------------------

  # mix links _build/ENV/lib/APP/priv to the project's priv/ when there is
  # one; the libraries belong in _build, so the link becomes a copy, which mix
  # keeps up to date from then on (as with build_embedded: true).
  defp unlink_priv(priv) do
    case File.read_link(priv) do
      {:ok, target} ->
        source = Path.expand(target, Path.dirname(priv))
        File.rm!(priv)
        File.mkdir_p!(priv)
        if File.dir?(source), do: File.cp_r!(source, priv)

      {:error, _} ->
        File.mkdir_p!(priv)
    end
  end

  defp remove_dropped(paths, modules) do
    dropped = read_manifest(paths) -- Enum.map(modules, & &1.name)
    Enum.each(dropped, &remove_outputs(paths, &1))
    dropped
  end

  defp remove_outputs(paths, name) do
    for file <- [
          Path.join(paths.priv, name <> "_nif.so"),
          Path.join(paths.priv, name <> "_drv.so"),
          Path.join(paths.priv, name <> "_iso"),
          Path.join(paths.ebin, name <> ".beam"),
          Path.join(paths.ebin, name <> "_drv.beam"),
          Path.join(paths.ebin, name <> "_iso.beam"),
          Path.join(paths.gen, name <> ".erl"),
          Path.join(paths.gen, name <> "_drv.erl"),
          Path.join(paths.gen, name <> "_iso.erl")
        ] do
      File.rm(file)
    end

    File.rm_rf!(Path.join(paths.dir, name))
  end

  defp manifest(paths), do: Path.join(paths.dir, "modules")

  defp read_manifest(paths) do
    case File.read(manifest(paths)) do
      {:ok, text} -> String.split(text)
      {:error, _} -> []
    end
  end

  defp write_manifest(paths, names) do
    if names != [] or File.exists?(manifest(paths)) do
      File.mkdir_p!(paths.dir)
      write_if_changed(manifest(paths), Enum.map(names, &[&1, "\n"]) |> IO.iodata_to_binary())
    end
  end

  defp write_if_changed(path, content) do
    case File.read(path) do
      {:ok, ^content} -> :ok
      _ -> File.write!(path, content)
    end
  end
end
