#!/bin/sh
# The main job, end to end on a real example: build heapsift, run the map workload (a sync.Map
# service with finalizers and closures, all leak patterns mixed), capture it live twice with
# heapsift-dump, analyze the captures and write the reports to out/:
#
#   out/*.hsd              the two captures (compressed, checksummed, with symbols)
#   out/report.txt         the full report of the second capture, for people
#   out/report.json        the same as JSON (formats/report.schema.json)
#   out/report.dot         the findings' paths as Graphviz DOT
#   out/diff.txt           what changed between the captures, with exact ghosts
#   out/manifest.json      what the workload planted (the truth to compare with)
#
# Installs the Debian packages it needs when they are missing. Run as root on a fresh machine.
# Builds the workload with the newest Go on the machine (Debian's golang-go when there is no other).
set -eu
cd "$(dirname "$0")/.."
sh tests/deps.sh

build=build/demo
if [ -d "$build/meson-private" ]; then
    meson setup --reconfigure "$build" -Dbuildtype=release -Dtests=false >/dev/null
else
    meson setup "$build" -Dbuildtype=release -Dtests=false >/dev/null
fi
ninja -C "$build" >/dev/null
# The newest Go on the machine: /usr/local/go, the go on the PATH or Debian's golang-go (which
# tests/deps.sh installed when missing).
go=$(for g in /usr/local/go/bin/go "$(command -v go || true)" /usr/lib/go/bin/go; do
        [ -x "$g" ] || continue
        v=$(cd / && GOTOOLCHAIN=local GOFLAGS= "$g" env GOVERSION 2>/dev/null) || continue
        echo "${v%% *} $g"
    done | sort -V | tail -n 1 | cut -d' ' -f2-)
[ -n "$go" ] || { echo "no Go toolchain found" >&2; exit 1; }
echo "== building the map workload with $("$go" version)"
export GOPROXY=off GOFLAGS=-mod=mod CGO_ENABLED=0 GOTOOLCHAIN=local
unset GOROOT   # the chosen go finds its own
(cd samples && "$go" build -o "../$build/mapworkload" ./mapworkload)

out=out
rm -rf "$out"
mkdir -p "$out"
hs="$build/analyzer/heapsift"
hd="$build/dumper/heapsift-dump"

echo "== capturing the map workload (soak scenario) twice, 3 s apart"
"$hd" run --at 2s,5s --stop-after -o "$out" -- \
    "$build/mapworkload" -scenario soak -objects 200000 -churn 2000 -leak 20 || {
    status=$?
    # run exits with the program's status: 143 is the SIGTERM that --stop-after sends.
    [ "$status" -eq 143 ] || exit "$status"
}
set -- "$out"/*.hsd
[ "$#" -eq 2 ] || { echo "expected 2 captures in $out, found $#" >&2; exit 1; }
first=$1 second=$2
[ -f "$second.manifest.json" ] && cp "$second.manifest.json" "$out/manifest.json"

echo "== heapsift info $second"
"$hs" info "$second" | head -12

echo "== heapsift analyze $second"
"$hs" analyze "$second" --json "$out/report.json" --dot "$out/report.dot" >"$out/report.txt"
sed -n '1,40p' "$out/report.txt"

echo "== heapsift diff $first $second"
"$hs" diff "$first" "$second" >"$out/diff.txt"
grep -A12 '^Changes since' "$out/diff.txt" || true

echo
echo "reports written to $out/: $(cd "$out" && ls | tr '\n' ' ')"
