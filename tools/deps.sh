#!/bin/sh
# Installs the Debian packages nocopy needs, only those that are missing.
# Usage: sh tools/deps.sh [build|test|bench|fuzz]...   (default: build test)
# Exits non-zero with a clear message when it cannot install.
set -eu

want_build="make gcc libc6-dev erlang-nox erlang-dev erlang-eunit erlang-crypto libssl-dev zlib1g-dev libffi-dev"
want_test="erlang-proper erlang-tools erlang-dialyzer valgrind git rebar3 elixir"
want_bench="gnuplot-nox"
want_fuzz="clang libclang-rt-14-dev"

[ $# -gt 0 ] || set -- build test
pkgs=""
for group in "$@"; do
    case "$group" in
        build) pkgs="$pkgs $want_build" ;;
        test)  pkgs="$pkgs $want_build $want_test" ;;
        bench) pkgs="$pkgs $want_build $want_bench" ;;
        fuzz)  pkgs="$pkgs $want_build $want_fuzz" ;;
        *) echo "deps.sh: unknown group '$group' (build, test, bench, fuzz)" >&2; exit 2 ;;
    esac
done

missing=""
for p in $pkgs; do
    case " $missing " in *" $p "*) continue ;; esac
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done
[ -n "$missing" ] || exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "deps.sh: missing Debian packages:$missing, and apt-get is not available." >&2
    echo "         nocopy targets Debian 12; install them by other means." >&2
    exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
    sudo=""
elif command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
else
    echo "deps.sh: missing Debian packages:$missing; run as root or install sudo." >&2
    exit 1
fi

echo "deps.sh: installing missing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
if ! $sudo apt-get install -y -q --no-install-recommends $missing; then
    echo "deps.sh: apt-get install failed; refreshing package lists and retrying" >&2
    $sudo apt-get update -q || { echo "deps.sh: apt-get update failed" >&2; exit 1; }
    $sudo apt-get install -y -q --no-install-recommends $missing || {
        echo "deps.sh: could not install:$missing" >&2; exit 1; }
fi
