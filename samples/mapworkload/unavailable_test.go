//go:build !go1.24

package main

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// TestUnavailable: before Go 1.24 the weak and cleanup scenarios exit with status 3 and say
// why, without setting anything up.
func TestUnavailable(t *testing.T) {
	for _, sc := range []string{"weak", "cleanup"} {
		cmd := workload(t, "-scenario", sc, "-selfdump", t.TempDir()+"/d")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != exitUnavailable || !strings.Contains(stderr.String(), "needs Go 1.24") {
			t.Errorf("%s: %v %q", sc, err, stderr.String())
		}
	}
}
