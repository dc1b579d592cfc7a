//go:build tools

// Package tools is the pinned tools module of tflint: its go.mod requires
// github.com/terraform-linters/tflint at the version homelab.yaml's
// tools.tflint lists, and its go.sum is committed, so internal/toolchain
// builds tflint with go build -mod=readonly, offline once the modules are
// downloaded. tflint bundles the terraform ruleset the repository's
// .tflint.hcl enables, so it needs no plugin download. Bump the version here
// (go get, then go mod tidy with tools.go's build tag) and in homelab.yaml
// together; the build refuses the two out of step.
package tools
