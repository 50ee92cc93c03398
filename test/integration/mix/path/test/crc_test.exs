defmodule CrcTest do
  use ExUnit.Case, async: true

  test "crc/1 is erlang:crc32/1 of iodata, on both backends" do
    data = ["head", :binary.copy("x", 200_000), [?a, ?b | "tail"]]
    {:ok, port} = :crc_drv.open()
    assert :crc.crc(data) == :erlang.crc32(data)
    assert :crc_drv.crc(port, data) == :erlang.crc32(data)
  end
end
