defmodule MyApp.MixProject do
  use Mix.Project

  def project do
    [
      app: :my_app,
      version: "0.1.0",
      elixir: "~> 1.14",
      compilers: [:nocopy] ++ Mix.compilers(),
      nocopy: [
        sums: ["c_src/sums.c"],
        crc: [sources: ["c_src/crc.c"], ldlibs: "-lz", cflags: "-DCRC_CHUNK=65536"]
      ],
      deps: deps()
    ]
  end

  def application do
    [extra_applications: [:logger]]
  end

  defp deps do
    [{:nocopy, path: "/path/to/nocopy"}]
  end
end
