#!/bin/sh
# Regenerates the seed files (seed-*) of tests/fuzz/corpus/: copies of the broken-input files,
# small real dumps of tests/go/knownheap and of the map workload (shrunk with mkcorpus), .hsd
# and symtab files made from them, the hostile-graph dumps at seed size, and the little ELF
# files of gen_elf_seeds.py and the little cores of gen_core_seeds.py. Files the fuzzers added
# (other names) are left alone.
#
# Usage: sh tests/fuzz/make_seeds.sh BUILD_DIR   (a configured build with tests; needs go)
# Real dumps differ from run to run (addresses), so a rerun changes the seed-* files.
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:?usage: make_seeds.sh BUILD_DIR}" && pwd)
ninja -C "$build" tests/fuzz/mkcorpus tests/fuzz/gen_hostile tests/tools/typetab-dump >/dev/null
mk=$build/tests/fuzz/mkcorpus
corpus=$src/tests/fuzz/corpus
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export GOPROXY=off GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
[ -n "${HOME:-}" ] || export GOCACHE="$tmp/gocache"
for t in fuzz_gohd fuzz_hsd fuzz_symtab fuzz_elfimg fuzz_typetab fuzz_godwarf fuzz_analyze; do
    mkdir -p "$corpus/$t"
    rm -f "$corpus/$t"/seed-*
done

# Broken inputs are seeds for their parser (and raw dumps for the end-to-end target).
for f in "$src"/tests/broken/gohd/*.bin; do
    cp "$f" "$corpus/fuzz_gohd/seed-broken-$(basename "$f")"
done
for f in empty length-past-end fieldlist-unterminated memprof-nstk-past-end missing-eof; do
    cp "$src/tests/broken/gohd/$f.bin" "$corpus/fuzz_analyze/seed-broken-$f.bin"
done
for f in "$src"/tests/broken/hsd/*.hsd; do
    cp "$f" "$corpus/fuzz_hsd/seed-broken-$(basename "$f")"
done
for f in "$src"/tests/broken/elfimg/*.bin; do
    cp "$f" "$corpus/fuzz_elfimg/seed-broken-$(basename "$f")"
done
python3 "$src/tests/fuzz/gen_elf_seeds.py"
# Little cores and the broken ones (fuzz_coremem's seed-real-* stay: made from a real core by hand).
python3 "$src/tests/fuzz/gen_core_seeds.py"
# Go-like DWARF images (also read by tests/unit/test_godwarf.c), and their type tables encoded.
python3 "$src/tests/fuzz/gen_dwarf_seeds.py"
for s in go119 go126; do
    "$build/tests/tools/typetab-dump" --summary --encode "$corpus/fuzz_typetab/seed-$s.typetab" \
        "$corpus/fuzz_godwarf/seed-$s-plain.elf" >/dev/null
done

# Real dumps: knownheap (before/after) and the map workload's scenarios.
mkdir -p "$tmp/kh"
cp "$src/tests/go/knownheap/main.go" "$tmp/kh/"
printf 'module knownheap\ngo 1.19\n' >"$tmp/kh/go.mod"
(cd "$tmp/kh" && go build -o "$tmp/knownheap" .)
"$tmp/knownheap" "$tmp/kh-before.dump" "$tmp/kh-after.dump" >/dev/null
(cd "$src/samples" && go build -o "$tmp/mapworkload" ./mapworkload)
for s in ghost closure finalizer-pin fixed; do
    "$tmp/mapworkload" -scenario "$s" -selfdump "$tmp/mw-$s.dump" >/dev/null
done
for d in kh-before kh-after; do
    "$mk" shrink "$tmp/$d.dump" "$tmp/$d.small" 40000
    "$mk" symtab "$tmp/knownheap" "$tmp/$d.small" "$tmp/$d.sym" 20000
done
for s in ghost closure finalizer-pin fixed; do
    "$mk" shrink "$tmp/mw-$s.dump" "$tmp/mw-$s.small" 40000 "$tmp/mw-$s.dump.manifest.json"
    "$mk" symtab "$tmp/mapworkload" "$tmp/mw-$s.small" "$tmp/mw-$s.sym" 20000
done
for d in kh-before kh-after mw-ghost mw-closure mw-finalizer-pin mw-fixed; do
    cp "$tmp/$d.small" "$corpus/fuzz_gohd/seed-$d.dump"
    # raw dump + "HSSYMTAB..." trailer: fuzz_analyze's dump-with-symbols form
    cat "$tmp/$d.small" "$tmp/$d.sym" >"$corpus/fuzz_analyze/seed-$d-sym.dump"
    cp "$tmp/$d.sym" "$corpus/fuzz_symtab/seed-$d.symtab"
done
# fuzz_gohd's second pass reads data[1..] with options from data[0]
{ printf '\013'; cat "$tmp/kh-before.small"; } >"$corpus/fuzz_gohd/seed-opts-step3-max16.dump"
{ printf '\100'; cat "$tmp/mw-closure.small"; } >"$corpus/fuzz_gohd/seed-opts-max128.dump"
{ printf '\370'; cat "$tmp/mw-ghost.small"; } >"$corpus/fuzz_gohd/seed-opts-max496.dump"
for d in kh-after mw-ghost mw-finalizer-pin; do
    "$mk" hsd "$tmp/$d.small" "$tmp/$d.sym" "$corpus/fuzz_hsd/seed-$d.hsd"
    cp "$corpus/fuzz_hsd/seed-$d.hsd" "$corpus/fuzz_analyze/seed-$d.hsd"
done
"$mk" hsd "$tmp/kh-before.small" - "$corpus/fuzz_hsd/seed-kh-before-nosym.hsd"
"$mk" synthsym "$corpus/fuzz_symtab/seed-synthetic.symtab"

# Hostile graphs at seed size: raw dumps for fuzz_analyze (which pairs them with the same
# made-up symtab) and fuzz_gohd, two .hsd for fuzz_hsd.
mkdir -p "$tmp/hostile" "$tmp/hostile-hsd"
"$build/tests/fuzz/gen_hostile" "$tmp/hostile" --small --raw
"$build/tests/fuzz/gen_hostile" "$tmp/hostile-hsd" --small
for f in "$tmp"/hostile/*.dump; do
    cp "$f" "$corpus/fuzz_analyze/seed-$(basename "$f")"
    cp "$f" "$corpus/fuzz_gohd/seed-$(basename "$f")"
done
for c in finalizers stacks; do
    cp "$tmp/hostile-hsd/hostile-$c.hsd" "$corpus/fuzz_hsd/seed-hostile-$c.hsd"
done
du -sh "$corpus"/*
