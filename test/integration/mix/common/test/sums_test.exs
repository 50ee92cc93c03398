defmodule SumsTest do
  use ExUnit.Case, async: true

  # What checksum/2 computes, in Elixir: the oracle.
  defp checksum(key, data) do
    for <<byte <- data>>, reduce: key do
      sum -> rem(sum * 31 + byte, 0x1_0000_0000_0000_0000)
    end
  end

  # One driver port for the module's tests: any process may call through it,
  # and it closes when the module's tests are done.
  setup_all do
    {:ok, port} = :sums_drv.open()
    %{port: port}
  end

  test "the NIF and the driver compute the same checksum", %{port: port} do
    data = String.duplicate("nocopy", 1000)
    assert :sums.checksum(7, data) == {:ok, checksum(7, data)}
    assert :sums_drv.checksum(port, 7, data) == {:ok, checksum(7, data)}
    assert :sums.checksum(7, "") == {:error, :empty}
    assert :sums_drv.checksum(port, 7, "") == {:error, :empty}
  end

  test "MyApp.checksum/1 calls the NIF" do
    assert MyApp.checksum("abc") == checksum(0, "abc")
    assert MyApp.checksum("") == nil
  end

  test "a slice of a large binary is not a copy, on both backends", %{port: port} do
    big = :binary.copy("0123456789", 100_000)

    for slice <- [:sums.middle(big, 100, 1000), :sums_drv.middle(port, big, 100, 1000)] do
      assert slice == binary_part(big, 100, 1000)
      # The slice refers to big itself; a copy would refer to its own 1000 bytes.
      assert :binary.referenced_byte_size(slice) == byte_size(big)
    end
  end

  test "a bad argument is an ArgumentError that names it", %{port: port} do
    error = assert_raise ArgumentError, fn -> :sums.checksum(7, :foo) end
    assert Exception.message(error) =~ "2nd argument: expected a binary, got: "

    # The driver client's arguments start with the port.
    error = assert_raise ArgumentError, fn -> :sums_drv.checksum(port, 7, :foo) end
    assert Exception.message(error) =~ "3rd argument: expected a binary, got: "
  end

  test "other errors are ErlangErrors with the reason" do
    assert_raise ErlangError, "Erlang error: :erange", fn -> :sums.middle("abc", 2, 5) end
    {:ok, port} = :sums_drv.open()
    :ok = :sums_drv.close(port)
    assert_raise ErlangError, "Erlang error: :eclosed", fn -> :sums_drv.checksum(port, 7, "x") end
  end

  test "the stubs carry docs and specs for h/1 in IEx" do
    {:docs_v1, _, :erlang, "text/markdown", _, _, docs} = Code.fetch_docs(:sums)

    assert {_, _, ["checksum(Key, Data)"], %{"en" => doc}, %{signature: [_spec]}} =
             List.keyfind(docs, {:function, :checksum, 2}, 0)

    assert doc =~ "A checksum of Data"

    {:docs_v1, _, :erlang, _, _, _, drv_docs} = Code.fetch_docs(:sums_drv)

    assert {_, _, ["middle(Port, Data, Offset, Length)"], _, %{signature: [_]}} =
             List.keyfind(drv_docs, {:function, :middle, 4}, 0)
  end
end
