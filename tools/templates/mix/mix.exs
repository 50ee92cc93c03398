defmodule @Name@.MixProject do
  use Mix.Project

  def project do
    [
      app: :@name@,
      version: "0.1.0",
      elixir: "~> 1.14",
      # nocopy's compiler first: it builds c_src/@name@.c into the NIF stubs
      # :@name@ and the driver client :@name@_drv, which lib/ then calls.
      compilers: [:nocopy] ++ Mix.compilers(),
      nocopy: [@name@: ["c_src/@name@.c"]],
      deps: deps()
    ]
  end

  def application do
    [extra_applications: [:logger]]
  end

  # nocopy: the git repository tools/new ran from; write your nocopy
  # repository's URL here to share this project.
  defp deps do
    [{:nocopy, git: "@nocopy_git@", branch: "@nocopy_branch@"}]
  end
end
