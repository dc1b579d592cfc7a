// Package testtool lets tests use real external tools honestly: a test that
// needs a tool skips when it is missing on a developer machine, and fails when
// it is missing in CI (CI=true), where `go run mage.go test` installs it.
package testtool
