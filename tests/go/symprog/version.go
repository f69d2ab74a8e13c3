package main

import "runtime"

func runtime_version() string { return runtime.Version() }
