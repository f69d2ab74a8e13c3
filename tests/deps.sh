#!/bin/sh
# Installs the Debian packages heapsift needs to build, test and run its examples, but only
# those that are missing. Needs root (or sudo) only when something is missing.
# (clang + libclang-rt-14-dev: libFuzzer and the sanitizer runtimes for tests/fuzz/run.sh;
# chromium: the headless browser test_html_browser opens the HTML report in, over the DevTools
# protocol from Python's standard library, so no npm package is needed; gdb: its gcore writes
# the core files test_core imports.)
#
# sh tests/deps.sh --go-toolchain goX.Y.Z   (tests/run.sh) then also makes that Go toolchain
# available: the machine's Go (/usr/local/go, else go on the PATH; it needs Go >= 1.21) fetches
# it once from the Go module proxy (GOTOOLCHAIN=goX.Y.Z, the default GOPROXY) into the module
# cache, and this prints one line on stdout: "go PATH" (its bin/go, to run with
# GOTOOLCHAIN=local) or "missing REASON". A failed fetch is not an error of this script.
set -eu
fetch_go=""
if [ "${1:-}" = "--go-toolchain" ]; then
    fetch_go=${2:?--go-toolchain needs a version like go1.27.3}
fi

pkgs="gcc libc6-dev pkg-config meson ninja-build libelf-dev libdw-dev zlib1g-dev libcjson-dev
golang-go python3 python3-jsonschema clang libclang-rt-14-dev chromium gdb"
[ -n "${HEAPSIFT_EXTRA_PKGS:-}" ] && pkgs="$pkgs $HEAPSIFT_EXTRA_PKGS"
missing=""
for p in $pkgs; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in *"install ok installed"*) ;; *) missing="$missing $p" ;; esac
done
if [ -n "$missing" ]; then
    echo "heapsift: installing missing packages:$missing" >&2
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq >&2
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

[ -n "$fetch_go" ] || exit 0
fetcher=""
if [ -x /usr/local/go/bin/go ]; then
    fetcher=/usr/local/go/bin/go
elif command -v go >/dev/null 2>&1; then
    fetcher=$(command -v go)
fi
if [ -z "$fetcher" ]; then
    echo "missing no Go on this machine to fetch $fetch_go with"
    exit 0
fi
# From / so that no go.mod or go.work has a say; GOFLAGS and GOWORK cleared for the same reason.
# The toolchain is a module (golang.org/toolchain, ~76 MB), checked against the checksum
# database through the proxy, and kept in the module cache: later runs find it there.
log=$(mktemp)
root=$(cd / && GOTOOLCHAIN=$fetch_go GOPROXY=https://proxy.golang.org,direct GOFLAGS= GOWORK=off \
    timeout 900 "$fetcher" env GOROOT 2>"$log") || root=""
version=""
[ -n "$root" ] && [ -x "$root/bin/go" ] &&
    version=$(GOTOOLCHAIN=local GOFLAGS= "$root/bin/go" env GOVERSION 2>/dev/null) || true
if [ "${version%% *}" = "$fetch_go" ]; then
    cat "$log" >&2
    echo "go $root/bin/go"
else
    why=$(tr '\n' ' ' <"$log" | sed 's/  */ /g; s/ $//')
    [ -n "$why" ] || why="$fetcher ($("$fetcher" env GOVERSION 2>/dev/null || echo '?')) did not switch to $fetch_go (needs Go >= 1.21)"
    echo "heapsift: could not fetch Go $fetch_go: $why" >&2
    echo "missing could not fetch it with $fetcher from the Go module proxy: $why"
fi
rm -f "$log"
