// Package toolchain owns the external tools the project's checks run: which
// command each one is, where it comes from, and installing the ones that are
// missing. Commands from Debian packages are installed with apt-get; tools
// built from the Go module proxy at a pinned version (the sops CLI) are
// built once into a cache outside the repository (~/.cache/infra-tools).
package toolchain
