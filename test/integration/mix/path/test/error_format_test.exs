defmodule ErrorFormatTest do
  # What Elixir 1.14 prints for nocopy's errors when it formats them with
  # their stack trace: uncaught in IEx, in a test failure, Exception.format/3.
  # These tests pin today's text, two flaws of nocopy:format_error/2 in
  # Elixir included (values shown in Erlang syntax; a `general` message as a
  # charlist, on which Elixir 1.14's formatter itself fails). Once
  # format_error/2 uses error_info's pretty_printer and returns binaries, they
  # fail: make them assert the fixed text then.
  use ExUnit.Case, async: true

  defp banner(fun) do
    fun.()
  catch
    kind, reason -> Exception.format_banner(kind, reason, __STACKTRACE__)
  else
    _ -> flunk("no exception")
  end

  test "a bad argument is named; its value is shown in Erlang syntax" do
    assert banner(fn -> :sums.checksum(7, :foo) end) ==
             "** (ArgumentError) errors were found at the given arguments:\n\n" <>
               "  * 2nd argument: expected a binary, got: foo\n"
  end

  test "erange with its message: Elixir 1.14's formatter raises" do
    error = assert_raise ArgumentError, fn -> banner(fn -> :sums.middle("abc", 2, 5) end) end
    assert Exception.message(error) =~ "not a bitstring"
  end
end
