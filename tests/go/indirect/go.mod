module heapsift.dev/tests/indirect

go 1.19
