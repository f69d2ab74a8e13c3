#!/bin/sh
# Installs the Debian packages heapsift needs to build, test and run its examples, but only
# those that are missing. Needs root (or sudo) only when something is missing.
# (clang + libclang-rt-14-dev: libFuzzer and the sanitizer runtimes for tests/fuzz/run.sh.)
set -eu
pkgs="gcc libc6-dev pkg-config meson ninja-build libelf-dev zlib1g-dev libcjson-dev
golang-go python3 python3-jsonschema clang libclang-rt-14-dev"
[ -n "${HEAPSIFT_EXTRA_PKGS:-}" ] && pkgs="$pkgs $HEAPSIFT_EXTRA_PKGS"
missing=""
for p in $pkgs; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in *"install ok installed"*) ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0
echo "heapsift: installing missing packages:$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
