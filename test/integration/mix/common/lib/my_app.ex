defmodule MyApp do
  @moduledoc "Elixir functions over the C module sums (c_src/sums.c)."

  @doc "The checksum of `data` with key 0, or `nil` for an empty binary."
  @spec checksum(binary()) :: non_neg_integer() | nil
  def checksum(data) do
    case :sums.checksum(0, data) do
      {:ok, sum} -> sum
      {:error, :empty} -> nil
    end
  end
end
