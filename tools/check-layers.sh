#!/bin/sh
# tools/check-layers.sh: checks that nocopy's C files depend only downwards.
#
#   sh tools/check-layers.sh OBJDIR SRCDIR      (make check-layers does this)
#
# OBJDIR holds the objects of a build as nocopy.mk writes them: one folder per
# backend layer (OBJDIR/nif/*.o, drv/, describe/) and the core compiled once
# for each backend (OBJDIR/core-nif/*.o, core-drv/, core-describe/: the core's
# "nc_backend.h" is that backend's, whose primitives are inlined into it).
# SRCDIR is c_src/. The layers are core, wire (the request decoder, pure C)
# and iso_shared (what both sides of the isolated backend share, pure C) at
# the bottom, side by side, and nif, drv, describe and iso (the isolated
# backend's child) above them, side by side, with iso_host (the isolated
# backend's VM side, a NIF library over iso_shared, no core). Each backend
# is checked as it is linked: core-B's objects with B's and, for the
# backends that decode requests (drv, iso), wire's (OBJDIR/wire/*.o), and
# for iso and iso_host, iso_shared's.
# The check fails on:
#   (a) a file cycle: file A uses a symbol defined in file B, and B, directly
#       or through other files, uses one defined in A (found with nm: what a
#       file leaves undefined and another defines);
#   (b) a symbol edge across layers: one of nif, drv and describe using
#       another's (only its own, the core's, wire's and iso_shared's), wire
#       or iso_shared using anything but itself and the core, or the core
#       using anything of its backend but the backend's state file
#       (B/nc_*_state.c), which the inlined primitives read (nor anything of
#       wire or iso_shared);
#   (c) a state file that is not data only: one that defines a function or
#       uses a symbol of another nocopy file. This is what lets the core depend
#       on it: a file with no outgoing edge cannot be on a cycle, so the
#       core -> state edges add none, whatever else the backend does;
#   (d) an #include across layers (grep on the sources): core including a
#       header of another folder, a layer including the header of another
#       above the core, or the wrong runtime header (the core includes neither
#       erl_nif.h nor erl_driver.h; nif and iso_host not erl_driver.h; drv
#       not erl_nif.h; no other layer either).
#       Two exceptions, written here: the core's "nc_backend.h" is the
#       backend's by design (it binds the primitives, see core/nc_prims.h), and
#       describe includes the driver's port options, drv/nc_drv_options.h,
#       which it prints for the stubs. One narrowing: of wire, only
#       nc_wire_read.h (the reading primitives over decoded nodes, included by
#       the backends above the core) may include a core header; the decoder
#       (nc_wire.c, nc_wire.h) stays pure C over include/.
# Objects whose source is gone (a stale build) are left out.
# Prints one line per problem, a summary per backend, then the total; exits 1
# on any problem. CHECK_LAYERS_EDGES=1 also prints every edge, with one symbol
# it stands for.
set -eu

if [ $# -ne 2 ] || [ ! -d "$1" ] || [ ! -d "$2" ]; then
    echo "usage: sh tools/check-layers.sh OBJDIR SRCDIR" >&2
    exit 2
fi
OBJ=$1
SRC=$2
LAYERS="core wire iso_shared nif drv describe iso iso_host"
NM=${NM:-nm}

tab=$(printf '\t')
syms=$(mktemp)
incs=$(mktemp)
none=$(mktemp)
trap 'rm -f "$syms" "$incs" "$none"' EXIT

BACKENDS="nif drv describe iso iso_host"

# The layers below a backend besides the core, linked into it.
lower() { case $1 in drv) echo wire ;; iso) echo wire iso_shared ;; iso_host) echo iso_shared ;; *) echo ;; esac; }

# "layer/file.o<TAB>D|U<TAB>symbol<TAB>nm type" for every global symbol of
# every object of backend $1: its own, the core's built for it (named
# core/FILE.o) and those of the layers below it (lower).
collect() {
    for d in "core-$1" $(lower "$1") "$1"; do
        l=${d%%-*}
        for o in "$OBJ/$d"/*.o; do
            [ -f "$o" ] || continue
            base=${o##*/}
            [ -f "$SRC/$l/${base%.o}.c" ] || continue
            "$NM" -P -g "$o" | awk -v f="$l/$base" -v OFS="$tab" '
                $2 == "U" || $2 == "w" || $2 == "v" { print f, "U", $1, $2; next }
                NF >= 2 { print f, "D", $1, $2 }'
        done
    done
}

# "layer/file<TAB>included name" for every #include "..." and the runtime's
# two headers.
for l in $LAYERS; do
    for s in "$SRC/$l"/*.c "$SRC/$l"/*.h; do
        [ -f "$s" ] || continue
        sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*\(["<][^">]*[">]\).*/\1/p' "$s" |
            awk -v f="$l/${s##*/}" -v OFS="$tab" '{ print f, $0 }'
    done >>"$incs"
done

check() {   # backend, symbols file, includes file
awk -F "$tab" -v src="$SRC" -v layers="$LAYERS" -v show="${CHECK_LAYERS_EDGES:-}" -v be="$1" '
function layer(f) { sub(/\/.*/, "", f); return f }
# The state file of the backend: data only, the one file of it the core may use.
function is_state(f) { return f ~ ("^" be "/nc_[a-z_]*_state[.]o$") }
# May file a (of layer la) use file b (of layer lb)? The bottom layers (core,
# wire, iso_shared) use nothing above them and no other bottom layer but the
# core (the core only the state file of its backend).
function bottom(l) { return l == "core" || l == "wire" || l == "iso_shared" }
function allowed(la, lb, b) {
    return la == lb || lb == "core" || (bottom(lb) && !bottom(la)) ||
        (la == "core" && is_state(b))
}
function may(a) {
    return a == "core" ? "core and the state file of " be : bottom(a) ? a " and core" : a ", core, wire and iso_shared"
}
# The folder that holds header h, looked up as the compiler would for a file of
# layer l (its own folder first, then the core), then in any other: "" if none.
function home(l, h,    i, f, n, all) {
    n = split(l " core " layers, all, " ")
    for (i = 1; i <= n; i++) {
        f = src "/" all[i] "/" h
        if ((getline line < f) >= 0) { close(f); return all[i] }
        close(f)
    }
    return ""
}
FNR == 1 { part++ }
part == 1 && $2 == "D" {
    def[$3] = $1; files[$1] = 1
    if (is_state($1) && $4 ~ /^[Tt]$/) {
        printf "check-layers: state: %s defines function %s (a state file is data only)\n", $1, $3
        bad++
    }
    next
}
part == 1 && $2 == "U" { use[++nuse] = $1 SUBSEP $3; files[$1] = 1; next }
part == 2 { inc[++ninc] = $1 SUBSEP $2; next }
END {
    n = 0
    for (f in files) name[++n] = f
    # Symbol edges between nocopy files, with one symbol to show for each.
    for (i = 1; i <= nuse; i++) {
        split(use[i], u, SUBSEP)
        if (!(u[2] in def)) continue          # libc, the runtime, user code
        a = u[1]; b = def[u[2]]
        if (a == b) continue
        if (!((a, b) in edge)) {
            edge[a, b] = u[2]; nedges++
            if (show != "") printf "check-layers: edge: %s -> %s (%s)\n", a, b, u[2]
        }
        if (is_state(a) && !((a, b) in told)) {
            told[a, b] = 1
            printf "check-layers: state: %s uses %s of %s (a state file uses nothing)\n",
                a, u[2], b
            bad++
        }
        if (!allowed(layer(a), layer(b), b) && !((a, b) in told)) {
            told[a, b] = 1
            printf "check-layers: layer: %s uses %s of %s (%s may use only %s)\n",
                a, u[2], b, layer(a), may(layer(a))
            bad++
        }
    }
    # Reachability (Warshall), then the strongly connected groups of files.
    for (i = 1; i <= n; i++) for (j = 1; j <= n; j++)
        r[i, j] = ((name[i], name[j]) in edge)
    for (k = 1; k <= n; k++) for (i = 1; i <= n; i++) if (r[i, k])
        for (j = 1; j <= n; j++) if (r[k, j]) r[i, j] = 1
    for (i = 1; i <= n; i++) {
        if (done[i]) continue
        group = name[i]; size = 1
        for (j = i + 1; j <= n; j++)
            if (!done[j] && r[i, j] && r[j, i]) {
                done[j] = 1; member[j] = i; group = group " " name[j]; size++
            }
        if (size < 2) continue
        cycles++
        printf "check-layers: cycle: %s\n", group
        for (a2 = 1; a2 <= n; a2++) for (b2 = 1; b2 <= n; b2++)
            if ((a2 == i || member[a2] == i) && (b2 == i || member[b2] == i) &&
                ((name[a2], name[b2]) in edge))
                printf "    %s -> %s (%s)\n", name[a2], name[b2], edge[name[a2], name[b2]]
    }
    # Includes.
    for (i = 1; i <= ninc; i++) {
        split(inc[i], v, SUBSEP)
        f = v[1]; h = v[2]; l = layer(f)
        if (h ~ /^</) {
            rt = h == "<erl_nif.h>" ? "nif" : h == "<erl_driver.h>" ? "drv" : ""
            if (rt != "" && rt != l && !(rt == "nif" && l == "iso_host")) {
                printf "check-layers: include: %s includes %s (only %s may)\n", f, h, rt
                bad++
            }
            continue
        }
        gsub(/"/, "", h)
        if (h ~ /^\.\.\//) {                  # "../drv/x.h"
            hl = h; sub(/^\.\.\//, "", hl); hl = layer(hl)
        } else {
            hl = home(l, h)
            if (hl == "") continue            # include/ or a system header
        }
        if (l == "wire" && hl == "core" && f != "wire/nc_wire_read.h") {
            printf "check-layers: include: %s includes %s of core (of wire, only nc_wire_read.h may)\n",
                f, h
            bad++
            continue
        }
        if (allowed(l, hl, "") || (l == "core" && h == "nc_backend.h") ||
            (l == "describe" && h == "../drv/nc_drv_options.h"))
            continue
        printf "check-layers: include: %s includes %s of %s (%s may include only %s)\n",
            f, h, hl, l, may(l)
        bad++
    }
    printf "check-layers: %s: %d files, %d edges, %d cycles, %d layer violations\n",
        be, n, nedges, cycles, bad
    printf "%d %d %d %d\n", n, nedges, cycles, bad >> totals
}' totals="$totals" "$2" "$3"
}

totals=$(mktemp)
trap 'rm -f "$syms" "$incs" "$none" "$totals"' EXIT
first=1
for b in $BACKENDS; do
    collect "$b" >"$syms"
    if [ ! -s "$syms" ]; then
        echo "check-layers: no objects for $b under $OBJ (build first: make core)" >&2
        exit 2
    fi
    # The includes are checked once, with the first backend.
    if [ $first = 1 ]; then check "$b" "$syms" "$incs"; else check "$b" "$syms" "$none"; fi
    first=0
done
# Modules of nocopy written as a user's module is (c_src/ffi/, the FFI): above
# every backend, built by nocopy_module into each backend's library, so they
# may see include/ and their own folder only. Checked: (e) an #include "..."
# found neither in the folder nor in include/, or a runtime header; (f) with
# their objects (CHECK_LAYERS_MODULE_OBJS="folder:objdir ...", which make
# check-layers sets), a nocopy symbol they use that neither include/ declares
# nor the module defines (the core's internals are not theirs to call).
INC=${SRC%/}/../include
for m in ffi; do
    [ -d "$SRC/$m" ] || continue
    mbad=0; nfiles=0
    for s in "$SRC/$m"/*.c "$SRC/$m"/*.h; do
        [ -f "$s" ] || continue
        nfiles=$((nfiles + 1))
        for h in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$s"); do
            if [ ! -f "$SRC/$m/$h" ] && [ ! -f "$INC/$h" ]; then
                echo "check-layers: include: $m/${s##*/} includes \"$h\" (a module sees include/ and $m/ only)"
                mbad=$((mbad + 1))
            fi
        done
        if grep -Eq '^[[:space:]]*#[[:space:]]*include[[:space:]]*<erl_(nif|driver)[.]h>' "$s"; then
            echo "check-layers: include: $m/${s##*/} includes a runtime header (a module runs on every backend)"
            mbad=$((mbad + 1))
        fi
    done
    for spec in ${CHECK_LAYERS_MODULE_OBJS:-}; do
        [ "${spec%%:*}" = "$m" ] || continue
        od=${spec#*:}
        defs=$(for o in "$od"/*.o; do [ -f "$o" ] && "$NM" -P -g --defined-only "$o"; done | awk '{ print $1 }')
        for o in "$od"/*.o; do
            [ -f "$o" ] || continue
            for u in $("$NM" -P -u "$o" | awk '$1 ~ /^nocopy_/ { print $1 }'); do
                if echo "$defs" | grep -qx "$u"; then continue; fi
                if grep -qw "$u" "$INC"/*.h; then continue; fi
                echo "check-layers: symbol: $m/${o##*/} uses $u, which include/ does not declare"
                mbad=$((mbad + 1))
            done
        done
    done
    printf "check-layers: module %s: %d files, %d layer violations\n" "$m" "$nfiles" "$mbad"
    echo "$nfiles 0 0 $mbad" >>"$totals"
done

awk '{ n += $1; e += $2; c += $3; b += $4 }
    END { printf "check-layers: %d files, %d edges, %d cycles, %d layer violations\n", n, e, c, b
          exit (c + b > 0 ? 1 : 0) }' "$totals"
