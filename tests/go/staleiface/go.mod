module heapsift.dev/tests/staleiface

go 1.19
