module heapsift.dev/go

go 1.19
