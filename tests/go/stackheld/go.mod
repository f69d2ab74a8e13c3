module heapsift.dev/tests/stackheld

go 1.19
