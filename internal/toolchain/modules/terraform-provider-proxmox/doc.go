//go:build tools

// Package tools is the pinned tools module of Terraform's bpg/proxmox
// provider: its go.mod requires github.com/bpg/terraform-provider-proxmox at
// the version homelab.yaml's tools.terraform-provider-proxmox lists, and its
// go.sum is committed, so internal/toolchain builds the provider with
// go build -mod=readonly, offline once the modules are downloaded. Bump the
// version here (go get, then go mod tidy with tools.go's build tag) and in
// homelab.yaml together; the build refuses the two out of step.
package tools
