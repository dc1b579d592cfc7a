// Package testsuite owns what `go run mage.go test` runs: the ordered checks
// that gate every change (tool installs, gofmt, go vet, go test -race) and the
// fuzz runs. CI runs exactly this suite through .ci/run.
package testsuite
