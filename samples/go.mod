module heapsift.dev/samples

go 1.19

require (
	heapsift.dev/go v0.0.0
	heapsift.dev/samples/selfdump v0.0.0
)

replace heapsift.dev/go => ../dumper/go

replace heapsift.dev/samples/selfdump => ./selfdump
