defmodule @Name@Test do
  # The C module @name@ on the three backends: the NIF (:@name@), the linked-in
  # driver (:@name@_drv, whose functions take a port first) and the isolated
  # backend (:@name@_iso, the same C in a child process, an isolate first).
  use ExUnit.Case, async: true

  # What checksum/1 computes, in Elixir.
  defp fnv1a(data) do
    for <<byte <- data>>, reduce: 0xCBF29CE484222325 do
      hash -> Bitwise.band(Bitwise.bxor(hash, byte) * 0x100000001B3, 0xFFFFFFFFFFFFFFFF)
    end
  end

  # One driver port for the module's tests: any process may call through it,
  # and it closes when the module's tests are done.
  setup_all do
    {:ok, port} = :@name@_drv.open()
    {:ok, iso} = :@name@_iso.start()

    backends = [
      nif: {&:@name@.checksum/1, &:@name@.field/3},
      driver: {&:@name@_drv.checksum(port, &1), &:@name@_drv.field(port, &1, &2, &3)},
      isolated: {&:@name@_iso.checksum(iso, &1), &:@name@_iso.field(iso, &1, &2, &3)}
    ]

    %{backends: backends}
  end

  test "checksum/1 is FNV-1a", %{backends: backends} do
    # Above 1 MiB, a call runs on a dirty scheduler (NIF) or a worker thread
    # (driver).
    big = :binary.copy("nocopy", 200_000)
    expected = for data <- ["", "abc", big], do: {data, fnv1a(data)}

    for {backend, {checksum, _}} <- backends, {data, hash} <- expected do
      assert checksum.(data) == hash, "#{backend}, #{byte_size(data)} bytes"
    end
  end

  test "field/3 splits at a byte", %{backends: backends} do
    for {_backend, {_, field}} <- backends do
      assert field.("alpha,,gamma", ?,, 0) == {:ok, "alpha"}
      assert field.("alpha,,gamma", ?,, 1) == {:ok, ""}
      assert field.("alpha,,gamma", ?,, 2) == {:ok, "gamma"}
      assert field.("alpha,,gamma", ?,, 3) == {:error, :no_field}
    end
  end

  test "a field is a slice of its input, not a copy", %{backends: backends} do
    long = :binary.copy("x", 1000)
    row = "id," <> long <> ",end"

    for {backend, {_, field}} <- backends do
      assert {:ok, ^long = slice} = field.(row, ?,, 1)

      # The isolate's slice is a view of row's one copy in its shared memory,
      # a binary of its own to Erlang.
      if backend != :isolated do
        assert :binary.referenced_byte_size(slice) == byte_size(row)
      end
    end
  end

  test "a bad argument is an ArgumentError that names it" do
    error = assert_raise ArgumentError, fn -> :@name@.field("a,b", 256, 0) end
    assert Exception.message(error) =~ "2nd argument: "
    error = assert_raise ArgumentError, fn -> :@name@.checksum(:abc) end
    assert Exception.message(error) =~ "1st argument: expected a binary"
  end

  test "@Name@ calls the NIF" do
    assert @Name@.checksum("abc") == fnv1a("abc")
    assert @Name@.field("a,b", ?,, 1) == {:ok, "b"}
  end

  test "the stubs carry the C table's docs and specs" do
    {:docs_v1, _, :erlang, _, _, _, docs} = Code.fetch_docs(:@name@)

    assert {_, _, ["field(Data, Sep, N)"], %{"en" => doc}, %{signature: [_]}} =
             List.keyfind(docs, {:function, :field, 3}, 0)

    assert doc =~ "a slice of Data"
  end
end
