module heapsift.dev/samples/service

go 1.19

require (
	github.com/gorilla/mux v1.8.1
	github.com/hashicorp/golang-lru/v2 v2.0.7
	github.com/patrickmn/go-cache v2.1.0+incompatible
	heapsift.dev/go v0.0.0
	heapsift.dev/samples/selfdump v0.0.0
)

replace heapsift.dev/go => ../../dumper/go

replace heapsift.dev/samples/selfdump => ../selfdump
