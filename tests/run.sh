#!/bin/sh
# Builds heapsift with warnings as errors and runs every test, twice: a normal build, then an
# AddressSanitizer + UndefinedBehaviorSanitizer build (gcc) that runs the whole suite again
# with leak detection on and every sanitizer report fatal. Installs missing Debian packages
# first (tests/deps.sh) and fetches the newest Go toolchain of the matrix once.
#
# Go matrix: every test that builds or runs a Go program runs once per Go toolchain found here:
#   Debian's golang-go (/usr/lib/go/bin/go, Go 1.19 on Debian 12), the machine's /usr/local/go,
#   and Go $go_fetch (GOTOOLCHAIN=$go_fetch from the Go module proxy, kept in the module cache).
# They are passed to meson as -Dgo_toolchains=VERSION=PATH,...; the tests are named
# VERSION/TEST in suite VERSION (meson test -C DIR --suite go1.19.8 runs one toolchain). The
# other tests run once, with the oldest toolchain as -Dgo.
#
# The closing summary gives passed/failed/skipped per Go version (both builds added up), names
# each failure, the version-independent tests, and any toolchain that is missing; its last line
# is "N passed, N failed" over both builds. The exit status is non-zero when any test (or a
# build) failed. A missing toolchain is reported, not counted as a failure.
set -u
cd "$(dirname "$0")/.." || exit 2
build=${HEAPSIFT_TEST_BUILD:-build/test}
go_fetch=go1.27.3
mkdir -p "$build"
summary="$build/summary.txt"
: >"$summary"

fetched=$(sh tests/deps.sh --go-toolchain "$go_fetch") || { echo "0 passed, 1 failed"; exit 1; }

# The toolchains: "VERSION PATH" lines, one per version (the first path found for it wins).
toolchains=""
add_go() { # add_go PATH WHAT: adds PATH if it runs, else notes WHAT as missing
    v=""
    [ -x "$1" ] && v=$(cd / && GOTOOLCHAIN=local GOFLAGS= GOWORK=off "$1" env GOVERSION 2>/dev/null)
    v=${v%% *}
    case "$v" in
    go[0-9]*)
        case "$toolchains" in *"$v "*) return ;; esac
        toolchains="$toolchains$v $1
" ;;
    *) echo "not tested: $2 ($1 does not run)" >>"$summary" ;;
    esac
}
if [ -e /usr/lib/go/bin/go ]; then add_go /usr/lib/go/bin/go "Debian's golang-go"
else echo "not tested: Debian's golang-go (no /usr/lib/go/bin/go; tests/deps.sh installs it)" >>"$summary"; fi
if [ -e /usr/local/go/bin/go ]; then add_go /usr/local/go/bin/go "the machine's Go"
else echo "not tested: the machine's Go (no /usr/local/go on this machine)" >>"$summary"; fi
case "$fetched" in
"go "*) add_go "${fetched#go }" "$go_fetch" ;;
*) echo "not tested: $go_fetch (${fetched#missing })" >>"$summary" ;;
esac
toolchains=$(printf '%s' "$toolchains" | sort -V)
go_opt=$(printf '%s\n' "$toolchains" | awk 'NF == 2 { printf "%s%s=%s", sep, $1, $2; sep = "," }')
# The version-independent tests (test_schema's real-report check builds one Go program) use the
# oldest toolchain, Debian's on a Debian machine, so that they do not depend on the machine.
go_oldest=$(printf '%s\n' "$toolchains" | awk 'NF == 2 { print $2; exit }')
echo "== Go toolchains: ${go_opt:-none}; version-independent tests: ${go_oldest:-go on the PATH}" >&2
[ -s "$summary" ] && sed 's/^/== /' "$summary" >&2

total_pass=0
total_fail=0
logs=""

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
    fi || {
        cat "$dir.setup.log" >&2
        echo "$name: meson setup failed" >>"$summary.fail"
        total_fail=$((total_fail + 1))
        return
    }
    if ! ninja -C "$dir" >&2; then
        echo "== $name: build failed" >&2
        echo "$name: build failed" >>"$summary.fail"
        total_fail=$((total_fail + 1))
        return
    fi
    log="$dir/meson-logs/testlog.json"
    rm -f "$log"
    # shellcheck disable=SC2086
    env $suite_env meson test -C "$dir" --print-errorlogs --num-processes 2 >&2
    if [ -s "$log" ]; then
        logs="$logs $name=$log"
    else
        echo "== $name: meson test wrote no $log" >&2
        echo "$name: meson test wrote no log" >>"$summary.fail"
        total_fail=$((total_fail + 1))
    fi
}

rm -f "$summary.fail"
run_suite "release" "$build/release" -Dwerror=true -Dbuildtype=debugoptimized \
    "-Dgo_toolchains=$go_opt" "-Dgo=${go_oldest:-go}"

# Sanitizers: every test again (the fuzz corpora replay under ASan here). b_lundef=false because
# the sanitizer runtimes resolve symbols at load time. abort_on_error turns an ASan report into
# SIGABRT and halt_on_error makes UBSan stop at the first finding, so meson counts a failure.
suite_env="ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1"
run_suite "asan+ubsan" "$build/asan" -Dwerror=true -Dbuildtype=debugoptimized \
    -Db_sanitize=address,undefined -Db_lundef=false "-Dgo_toolchains=$go_opt" "-Dgo=${go_oldest:-go}"
suite_env=""

# The summary: per Go version (the VERSION/ prefix of a test's name), then the others. OK and
# EXPECTEDFAIL pass, SKIP (exit 77) is skipped, everything else (FAIL, TIMEOUT, ERROR,
# UNEXPECTEDPASS) fails.
# shellcheck disable=SC2086
counts=$(python3 - "$summary" "$toolchains" $logs <<'EOF'
import json, re, sys
summary, toolchains, logs = sys.argv[1], sys.argv[2].split(), sys.argv[3:]
other = "version-independent"
# group -> [passed, failed, skipped, {test: [(verdict, build), ...]}]
groups = {v: [0, 0, 0, {}] for v in toolchains[0::2]}
groups[other] = [0, 0, 0, {}]
for arg in logs:
    build, path = arg.split("=", 1)
    for line in open(path):
        r = json.loads(line)
        name = r["name"].split(" / ", 1)[-1]
        m = re.match(r"(go[0-9][^/]*)/(.*)", name)
        g, short = (m.group(1), m.group(2)) if m else (other, name)
        c = groups.setdefault(g, [0, 0, 0, {}])
        res = r["result"]
        if res in ("OK", "EXPECTEDFAIL"):
            c[0] += 1
        elif res == "SKIP":
            c[2] += 1
            c[3].setdefault(short, []).append(("skipped", build))
        else:
            c[1] += 1
            c[3].setdefault(short, []).append(("FAILED", build + ("" if res == "FAIL" else " " + res)))
out = []
for g, (ok, bad, skip, notes) in groups.items():
    if g != other and not ok + bad + skip:
        out.append("%s: no results" % g)
        continue
    out.append("%s: %d passed, %d failed, %d skipped" % (g, ok, bad, skip))
    for test, verdicts in notes.items():
        for verdict in ("FAILED", "skipped"):
            builds = [b for v, b in verdicts if v == verdict]
            if builds:
                out.append("    %s %s (%s)" % (verdict, test, ", ".join(builds)))
with open(summary) as f:
    missing = f.read()
with open(summary, "w") as f:
    f.write("\n".join(out) + "\n" + missing)
print(sum(c[0] for c in groups.values()), sum(c[1] for c in groups.values()))
EOF
) || counts=""
# shellcheck disable=SC2086
set -- $counts
[ "$#" -eq 2 ] || { echo "heapsift: could not read the test logs:$logs" >&2; set -- 0 1; }
total_pass=$((total_pass + $1))
total_fail=$((total_fail + $2))

echo
echo "== summary (release and asan+ubsan builds added up; per Go version, then the rest)"
[ -s "$summary.fail" ] && sed 's/^/FAILED /' "$summary.fail"
cat "$summary"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ] && [ "$total_pass" -gt 0 ]
