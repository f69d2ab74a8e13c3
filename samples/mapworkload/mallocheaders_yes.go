//go:build goexperiment.allocheaders || go1.23

package main

// Go 1.22+ (1.22 unless built with GOEXPERIMENT=noallocheaders): objects with pointers in
// size classes above 512 bytes (up to 32 KiB) start with an 8-byte type header; the
// program's pointer (%p) is slot+8 and the dump's object record starts at the slot.
const mallocHeaders = true
