// Package toolchain owns the external tools the project's checks run: which
// command each one is, where it comes from, and installing the ones that are
// missing. Today every such tool comes from a Debian package; tools built from
// the Go module proxy join here as the checks that need them arrive.
package toolchain
