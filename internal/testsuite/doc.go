// Package testsuite owns what `go run mage.go test` runs: the ordered checks
// that gate every change (tool installs and builds, lint — every linter,
// gofmt and go vet among them, given by internal/lint through WithLint —, the
// plaintext-secret guard, go test -race) and the fuzz runs. CI runs exactly
// this suite through .ci/run.
package testsuite
