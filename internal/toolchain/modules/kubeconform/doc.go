//go:build tools

// Package tools is the pinned tools module of kubeconform: its go.mod requires
// github.com/yannh/kubeconform at the version homelab.yaml's tools.kubeconform lists, and its go.sum
// is committed, so internal/toolchain builds kubeconform with go build
// -mod=readonly, offline once the modules are downloaded. The lint target
// runs it. Bump the version here (go get, then go mod tidy with tools.go's
// build tag) and in homelab.yaml together; the build refuses the two out of
// step.
package tools
