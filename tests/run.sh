#!/bin/sh
# Builds heapsift with warnings as errors and runs every test, twice: a normal build, then an
# AddressSanitizer + UndefinedBehaviorSanitizer build (gcc) that runs the whole suite again
# with leak detection on and every sanitizer report fatal. Installs missing Debian packages
# first. The last line is "N passed, N failed" over both suites; the exit status is non-zero
# when any test (or a build) failed.
set -u
cd "$(dirname "$0")/.." || exit 2
sh tests/deps.sh || { echo "0 passed, 1 failed"; exit 1; }
build=${HEAPSIFT_TEST_BUILD:-build/test}
total_pass=0
total_fail=0

# run_suite NAME BUILD_DIR MESON_ARGS...: configure, build, test; add to the totals. The tests
# run with the environment assignments in $suite_env (e.g. sanitizer options).
suite_env=""
run_suite() {
    name=$1 dir=$2
    shift 2
    echo "== $name: meson setup $dir $*" >&2
    if [ -d "$dir/meson-private" ]; then
        meson setup --reconfigure "$dir" "$@" >"$dir.setup.log" 2>&1
    else
        mkdir -p "$(dirname "$dir")"
        meson setup "$dir" "$@" >"$dir.setup.log" 2>&1
    fi || { cat "$dir.setup.log" >&2; total_fail=$((total_fail + 1)); return; }
    if ! ninja -C "$dir" >&2; then
        echo "== $name: build failed" >&2
        total_fail=$((total_fail + 1))
        return
    fi
    # shellcheck disable=SC2086
    env $suite_env meson test -C "$dir" --print-errorlogs --num-processes 2 >&2
    log="$dir/meson-logs/testlog.json"
    set -- $(python3 -c '
import json, sys
ok = bad = 0
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    ok += r == "OK"
    bad += r not in ("OK", "SKIP", "EXPECTEDFAIL")
print(ok, bad)' "$log" 2>/dev/null || echo 0 1)
    echo "== $name: $1 passed, $2 failed" >&2
    total_pass=$((total_pass + $1))
    total_fail=$((total_fail + $2))
}

run_suite "release build" "$build/release" -Dwerror=true -Dbuildtype=debugoptimized

# Sanitizers: every test again (the fuzz corpora replay under ASan here). b_lundef=false because
# the sanitizer runtimes resolve symbols at load time. abort_on_error turns an ASan report into
# SIGABRT and halt_on_error makes UBSan stop at the first finding, so meson counts a failure.
suite_env="ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1"
run_suite "asan+ubsan build" "$build/asan" -Dwerror=true -Dbuildtype=debugoptimized \
    -Db_sanitize=address,undefined -Db_lundef=false
suite_env=""

echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ] && [ "$total_pass" -gt 0 ]
