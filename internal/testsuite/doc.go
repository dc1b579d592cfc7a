// Package testsuite owns what `go run mage.go test` runs: the ordered checks
// that gate every change (tool installs and builds, gofmt, go vet, the
// plaintext-secret guard, go test -race) and the fuzz runs. CI runs exactly
// this suite through .ci/run.
package testsuite
