defmodule @Name@ do
  @moduledoc """
  The C module `c_src/@name@.c`, called from Elixir. nocopy builds it into
  the NIF stubs `:@name@`, called here, and the driver client `:@name@_drv`
  (`{:ok, port} = :@name@_drv.open()`, then the same functions with the port
  first). `h :@name@.field` in IEx shows the C table's documentation.
  """

  @doc "The 64-bit FNV-1a hash of `data`."
  @spec checksum(binary()) :: non_neg_integer()
  defdelegate checksum(data), to: :@name@

  @doc """
  Field `n` (from 0) of `data` split at the byte `sep`: a slice of `data`,
  not a copy.
  """
  @spec field(binary(), byte(), non_neg_integer()) :: {:ok, binary()} | {:error, :no_field}
  defdelegate field(data, sep, n), to: :@name@
end
