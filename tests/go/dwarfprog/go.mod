module heapsift.dev/tests/dwarfprog

go 1.19
