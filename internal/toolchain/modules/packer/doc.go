//go:build tools

// Package tools is the pinned tools module of Packer: its go.mod requires
// github.com/hashicorp/packer at the version homelab.yaml's tools.packer
// lists, with the replace line Packer's own go.mod carries
// (github.com/zclconf/go-cty => github.com/nywilken/go-cty), which go
// build does not take from a dependency, and its go.sum is committed, so
// internal/toolchain builds packer with go build -mod=readonly, offline
// once the modules are downloaded. Bump the version here (go get, then go
// mod tidy with tools.go's build tag) and in homelab.yaml together; the
// build refuses the two out of step.
package tools
