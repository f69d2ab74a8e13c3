#!/bin/sh
# Fuzzes with libFuzzer: builds the targets with clang (-fsanitize=fuzzer,address,undefined) in
# a separate build directory, runs each for SECONDS on a scratch corpus seeded from
# tests/fuzz/corpus/<target>, then merges the inputs that add coverage back into the checked-in
# corpus (at most 64 KiB each; the merge also drops older inputs that no longer add anything;
# beyond the seeds at most HEAPSIFT_FUZZ_CORPUS_CAP bytes, default 512 KiB, smallest kept).
# Crashes, leaks and timeouts are saved under the build directory and copied into the corpus
# (crash-*, leak-*, timeout-*, oom-*), so the replay tests fail until they are fixed.
#
# Usage: sh tests/fuzz/run.sh TARGET|all SECONDS
#   TARGET: fuzz_gohd fuzz_hsd fuzz_symtab fuzz_elfimg fuzz_typetab fuzz_godwarf fuzz_coremem
#   fuzz_analyze
#   (or all: SECONDS each)
#   HEAPSIFT_FUZZ_BUILD: build directory (default build/fuzz)
# One process per target at a time (the machines have 2 shared cores).
set -u
cd "$(dirname "$0")/../.." || exit 2
targets="fuzz_gohd fuzz_hsd fuzz_symtab fuzz_elfimg fuzz_typetab fuzz_godwarf fuzz_coremem fuzz_analyze"
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

# Bytes of generated (non-seed) inputs kept per target.
cap=${HEAPSIFT_FUZZ_CORPUS_CAP:-524288}
status=0
for t in $targets; do
    corpus=tests/fuzz/corpus/$t
    work=$build/fuzz-work/$t
    art=$build/fuzz-artifacts/$t
    mkdir -p "$work" "$art" "$corpus"
    rm -f "$art"/* # earlier runs' artifacts are in the corpus already
    log=$build/fuzz-$t.log
    echo "== $t: ${secs}s" >&2
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
        "$build/tests/fuzz/$t" -max_total_time="$secs" -max_len=65536 -timeout=20 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$art/" \
        "$work" "$corpus" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -E '^#[0-9]+' "$log" | tail -1 | sed -n 's/.*cov: \([0-9]*\).*ft: \([0-9]*\).*/cov \1 ft \2/p')
    # Keep what adds coverage, and only that: rebuild the checked-in corpus from its seed-* and
    # crash files plus a merge (smallest inputs first) of the old corpus and the scratch one.
    before=$(ls "$corpus" | wc -l)
    seed_bytes=$(cat "$corpus"/seed-* 2>/dev/null | wc -c)
    fresh=$build/fuzz-fresh/$t
    rm -rf "$fresh"
    mkdir -p "$fresh"
    for f in "$corpus"/seed-* "$corpus"/crash-* "$corpus"/leak-* "$corpus"/timeout-* "$corpus"/oom-*; do
        [ -f "$f" ] && cp "$f" "$fresh/"
    done
    if "$build/tests/fuzz/$t" -merge=1 -max_len=65536 -timeout=20 -rss_limit_mb=2048 \
        -artifact_prefix="$art/" "$fresh" "$corpus" "$work" >"$log.merge" 2>&1; then
        rm -rf "$corpus"
        mv "$fresh" "$corpus"
    else
        echo "== $t: merge failed (see $log.merge); corpus unchanged" >&2
    fi
    # Cap what fuzzing adds (the repository stays small): largest generated inputs go first.
    total=$(cat "$corpus"/* | wc -c)
    ls -S "$corpus" | grep -Ev '^(seed|crash|leak|timeout|oom)-' | while read -r f; do
        [ "$total" -le $((seed_bytes + cap)) ] && break
        total=$((total - $(wc -c <"$corpus/$f")))
        rm -f "$corpus/$f"
    done
    after=$(ls "$corpus" | wc -l)
    crashes=$(ls "$art" | wc -l) # from the run and from the merge
    for f in "$art"/*; do
        [ -f "$f" ] || continue
        cp "$f" "$corpus/$(basename "$f")"
    done
    echo "$t: ${execs:-?} executions in ${secs}s, ${cov:-no coverage line}, corpus $before -> $after files, $crashes crash/leak/timeout artifacts (exit $rc, log $log)"
    [ "$rc" -eq 0 ] && [ "$crashes" -eq 0 ] || status=1
done
exit $status
