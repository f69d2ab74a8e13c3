#!/usr/bin/env python3
"""Run `go vet ./...` and `go test ./...` in Go modules of heapsift: the ones named on the
command line (source-relative: dumper/go is the hook, samples the map workload), else both.
Offline: GOPROXY=off, GOFLAGS=-mod=mod; the build cache lives in the build dir when HOME is
unset. Env: HEAPSIFT_SRC, HEAPSIFT_BUILD, GO (from tests/meson.build, one toolchain of the
Go matrix)."""
import os
import subprocess
import sys

MODULES = ["dumper/go", "samples"]


def main():
    src = os.environ.get("HEAPSIFT_SRC") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    build = os.environ.get("HEAPSIFT_BUILD") or os.getcwd()
    go = os.environ.get("GO") or "go"
    env = dict(os.environ)
    env.update(GOPROXY="off", GOFLAGS="-mod=mod", GOTOOLCHAIN="local", GOWORK="off")
    if not env.get("HOME"):
        env.setdefault("GOCACHE", os.path.join(build, "go-cache"))
        env.setdefault("GOPATH", os.path.join(build, "go-path"))
    passed = failed = 0
    for mod in sys.argv[1:] or MODULES:
        cwd = os.path.join(src, mod)
        for cmd in ([go, "vet", "./..."], [go, "test", "-count=1", "./..."]):
            print("+ (cd %s && %s)" % (mod, " ".join(cmd)), flush=True)
            rc = subprocess.call(cmd, cwd=cwd, env=env)
            if rc == 0:
                passed += 1
            else:
                failed += 1
                print("FAILED (exit %d): %s in %s" % (rc, " ".join(cmd), mod), flush=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
