//go:build !go1.24

package main

// Before Go 1.24 there is no weak.Pointer and no runtime.AddCleanup: the scenarios exist (so
// the flag is not "unknown") but report that they are not available (exit status 3).
func init() {
	unavailable["weak"] = "needs Go 1.24 or later (package weak)"
	unavailable["cleanup"] = "needs Go 1.24 or later (runtime.AddCleanup)"
}
