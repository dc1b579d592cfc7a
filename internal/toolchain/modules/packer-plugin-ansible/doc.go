//go:build tools

// Package tools is the pinned tools module of Packer's ansible plugin (the
// ansible provisioner, which Packer no longer bundles): its go.mod
// requires github.com/hashicorp/packer-plugin-ansible at the version
// homelab.yaml's tools.packer-plugin-ansible lists (1.1.2: the newest the
// Go module proxy serves here), with the replace line the plugin's own
// go.mod carries (github.com/zclconf/go-cty => github.com/nywilken/go-cty,
// packer-plugin-sdk issue 187), and its go.sum is committed, so
// internal/toolchain builds it with go build -mod=readonly and installs it
// for Packer (toolchain.EnsurePackerPlugins). Bump the version here and in
// homelab.yaml together; the build refuses the two out of step.
package tools
