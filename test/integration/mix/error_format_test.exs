defmodule ErrorFormatTest do
  # What Elixir 1.14 prints for nocopy's errors when it formats them with
  # their stack trace: uncaught in IEx, in a test failure, Exception.format/3.
  # docs/guide-mix.md ("Errors, as Elixir 1.14 shows them") shows this text;
  # test/integration/mix.sh adds this file to the guide's project my_app.
  use ExUnit.Case, async: true

  defp banner(fun) do
    fun.()
  catch
    kind, reason -> Exception.format_banner(kind, reason, __STACKTRACE__)
  else
    _ -> flunk("no exception")
  end

  test "a bad argument is named; its value is shown in Elixir syntax" do
    assert banner(fn -> :sums.checksum(7, :foo) end) ==
             "** (ArgumentError) errors were found at the given arguments:\n\n" <>
               "  * 2nd argument: expected a binary, got: :foo\n"
  end

  test "another error: its reason, then nocopy's message" do
    assert banner(fn -> :sums.middle("abc", 2, 5) end) ==
             "** (ErlangError) Erlang error: :erange: " <>
               "slice of 5 bytes at offset 2 is outside a binary of 3 bytes"
  end
end
