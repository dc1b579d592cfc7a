//go:build tools

// Package tools is the pinned tools module of Packer's proxmox plugin: its
// go.mod requires github.com/hashicorp/packer-plugin-proxmox at the version
// homelab.yaml's tools.packer-plugin-proxmox lists, and its go.sum is
// committed (the module is missing from the checksum database, so the
// first go mod tidy needed GONOSUMDB=github.com/hashicorp/packer-plugin-proxmox;
// builds from the committed go.sum need nothing), so internal/toolchain
// builds the plugin with go build -mod=readonly and installs it for Packer
// with packer plugins install --path (toolchain.EnsurePackerPlugins). Bump
// the version here and in homelab.yaml together; the build refuses the
// two out of step.
package tools
