//go:build !goexperiment.allocheaders && !go1.23

package main

// Before Go 1.22 (or with GOEXPERIMENT=noallocheaders on 1.22) no object has a malloc
// header: the program's pointer is the start of the slot.
const mallocHeaders = false
