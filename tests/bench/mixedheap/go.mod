module heapsift.dev/bench/mixedheap

go 1.19
