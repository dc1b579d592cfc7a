// Package toolchain owns the external tools the project's checks run: which
// command each one is, where it comes from, and installing the ones that are
// missing. Commands from Debian packages are installed with apt-get; tools
// built from the Go module proxy at a pinned version (the sops CLI) are
// built once into a cache outside the repository (~/.cache/infra-tools).
// A tool that cannot be go installed is built from a pinned tools module
// kept under modules/ (a go.mod and go.sum requiring it); a Terraform
// provider is laid out as a filesystem mirror, and WriteTerraformCLIConfig
// writes the CLI configuration that installs providers from it offline; a
// Packer plugin is installed with the cached packer into PackerPluginDir
// (EnsurePackerPlugins), where packer init finds it offline.
package toolchain
