module heapsift.dev/tests/hooked

go 1.19

require heapsift.dev/go v0.0.0

replace heapsift.dev/go => ../../../dumper/go
