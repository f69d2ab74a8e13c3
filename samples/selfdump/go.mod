module heapsift.dev/samples/selfdump

go 1.19
