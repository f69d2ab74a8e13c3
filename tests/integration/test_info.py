"""heapsift info on real dumps written by tests/go/knownheap: the counts must match what the
program knows it changed between its two dumps, and a global must resolve by name."""
import json
import os

import hstest

c = hstest.Checker("test_info")
tmp = hstest.tempdir()
prog = hstest.go_build("tests/go/knownheap/main.go", "knownheap")
before, after = os.path.join(tmp, "before.dump"), os.path.join(tmp, "after.dump")
p = hstest.run([prog, before, after])
assert p.returncode == 0, p.stderr
truth = json.loads(p.stdout)

a = hstest.heapsift_json(["info", "--json", "--binary", prog, "--top", "100000", before])
b = hstest.heapsift_json(["info", "--json", "--binary", prog, "--top", "100000", after])

c.eq(b["go_version"], truth["go_version"], "Go version from the params record")
c.eq(b["ptr_size"], 8, "pointer size")
c.eq(b["finalizers"] - a["finalizers"], truth["finalizers_added"], "finalizers added")
c.eq(b["goroutines"] - b["system_goroutines"], truth["goroutines_after"],
     "user goroutines equal runtime.NumGoroutine() at the dump")
c.eq(a["goroutines"] - a["system_goroutines"], truth["goroutines_before"], "user goroutines before")
c.eq(b["goroutines"] - a["goroutines"], truth["goroutines_added"], "goroutines added")
c.check(b["stack_frames"] > b["goroutines"], "frames are read for every goroutine")


def size_count(info, size):
    return sum(s["count"] for s in info["object_sizes"] if s["size"] == size)


c.eq(size_count(a, truth["distinct_size"]), 0, "no distinctive objects before")
c.eq(size_count(b, truth["distinct_size"]), truth["distinct_count"], "distinctive objects after")
c.eq(b["records"]["object"]["count"], b["objects"], "object records == objects")
c.check(b["records"]["eof"]["count"] == 1, "one EOF record")
c.check(b["data_bytes"] > 0 and b["bss_bytes"] > 0, "data and bss records present")

table = [g for g in b["top_globals"] if g["name"] == truth["table_symbol"]]
if c.check(len(table) == 1, "global %s listed" % truth["table_symbol"]):
    g = table[0]
    c.eq(int(g["addr"], 16), int(truth["table_addr"], 16), "global address")
    c.eq(g["pointer_slots"], truth["table_slots"], "global pointer slots")
    c.eq(g["nonnil_slots"], truth["table_nonnil"], "global non-nil slots")
    c.check(not g["anonymous"], "named global is not anonymous")

# Text output names the same numbers a reader can check.
p = hstest.run([hstest.HEAPSIFT, "info", "--binary", prog, after])
c.eq(p.returncode, 0, "text info exit status")
c.check("finalizers" in p.stdout and truth["go_version"] in p.stdout, "text shows Go version and finalizers")
c.check(truth["table_symbol"] in hstest.run([hstest.HEAPSIFT, "info", "--binary", prog, "--top", "1000", after]).stdout,
        "text lists the global by name")

# Allocation samples (the program linked runtime/pprof with MemProfileRate = 1) name the site
# of every object: the 40 distinctive objects come from main.newDistinct.
p = hstest.run([hstest.HEAPSIFT, "top", after, "--binary", prog, "--by", "site", "-n", "50"])
c.eq(p.returncode, 0, "top --by site exit status")
rows = [l for l in p.stdout.splitlines() if truth["distinct_site"] + " " in l]
c.check(len(rows) == 1 and " %d " % truth["distinct_count"] in rows[0],
        "top --by site lists %s with %d objects: %r" % (truth["distinct_site"],
                                                         truth["distinct_count"], rows))
c.check(b["records"].get("alloc sample", {}).get("count", 0) >= truth["distinct_count"],
        "alloc sample records are counted")

# Without symbols the globals are not named, and the command says how to get them.
p = hstest.run([hstest.HEAPSIFT, "info", after])
c.eq(p.returncode, 0, "info without --binary")
c.check("--binary" in p.stdout, "hint about --binary without symbols")
c.done()
