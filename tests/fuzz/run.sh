#!/bin/sh
# Fuzzes with libFuzzer: builds the targets with clang (-fsanitize=fuzzer,address,undefined) in
# a separate build directory, runs each for SECONDS on a scratch corpus seeded from
# tests/fuzz/corpus/<target>, then merges the inputs that add coverage back into the checked-in
# corpus (at most 64 KiB each). Crashes, leaks and timeouts are saved under the build directory
# and copied into the corpus (crash-*, leak-*, timeout-*, oom-*), so the replay tests fail until they are fixed.
#
# Usage: sh tests/fuzz/run.sh TARGET|all SECONDS
#   TARGET: fuzz_gohd fuzz_hsd fuzz_symtab fuzz_elfimg fuzz_analyze (or all: SECONDS each)
#   HEAPSIFT_FUZZ_BUILD: build directory (default build/fuzz)
# One process per target at a time (the machines have 2 shared cores).
set -u
cd "$(dirname "$0")/../.." || exit 2
targets="fuzz_gohd fuzz_hsd fuzz_symtab fuzz_elfimg fuzz_analyze"
[ $# -eq 2 ] || { echo "usage: $0 TARGET|all SECONDS" >&2; exit 2; }
case "$1" in
all) ;;
*) case " $targets " in *" $1 "*) targets=$1 ;; *) echo "unknown target $1" >&2; exit 2 ;; esac ;;
esac
secs=$2
build=${HEAPSIFT_FUZZ_BUILD:-build/fuzz}

if [ ! -d "$build/meson-private" ]; then
    # UBSan findings must stop the run (-fno-sanitize-recover), or libFuzzer would not save them.
    CC=clang meson setup "$build" -Dfuzzers=true -Db_sanitize=address,undefined \
        -Db_lundef=false -Dbuildtype=debugoptimized \
        -Dc_args='-fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined' >/dev/null || exit 2
fi
ninja -C "$build" $(for t in $targets; do printf 'tests/fuzz/%s ' "$t"; done) >/dev/null || exit 2

status=0
for t in $targets; do
    corpus=tests/fuzz/corpus/$t
    work=$build/fuzz-work/$t
    art=$build/fuzz-artifacts/$t
    mkdir -p "$work" "$art" "$corpus"
    log=$build/fuzz-$t.log
    echo "== $t: ${secs}s" >&2
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
        "$build/tests/fuzz/$t" -max_total_time="$secs" -max_len=65536 -timeout=20 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$art/" \
        "$work" "$corpus" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -E '^#[0-9]+' "$log" | tail -1 | sed -n 's/.*cov: \([0-9]*\).*ft: \([0-9]*\).*/cov \1 ft \2/p')
    crashes=$(ls "$art" 2>/dev/null | wc -l)
    # Keep what adds coverage: merge the scratch corpus into the checked-in one.
    before=$(ls "$corpus" | wc -l)
    "$build/tests/fuzz/$t" -merge=1 -max_len=65536 -timeout=20 -rss_limit_mb=2048 \
        "$corpus" "$work" >"$log.merge" 2>&1 || echo "== $t: merge failed (see $log.merge)" >&2
    after=$(ls "$corpus" | wc -l)
    for f in "$art"/*; do
        [ -f "$f" ] || continue
        cp "$f" "$corpus/$(basename "$f")"
    done
    echo "$t: ${execs:-?} executions in ${secs}s, ${cov:-no coverage line}, $((after - before)) inputs added to the corpus, $crashes crash/leak/timeout artifacts (exit $rc, log $log)"
    [ "$rc" -eq 0 ] && [ "$crashes" -eq 0 ] || status=1
done
exit $status
