//go:build go1.24

package main

import "runtime"

// With Go 1.24+ symprog gives a Payload a cleanup, so the binary holds an instantiation of
// runtime.AddCleanup (its "addcleanup" truth line says so).
func init() {
	addCleanup = func(p *Payload) {
		runtime.AddCleanup(p, func(id int64) { sink = id }, p.ID)
	}
}
