//go:build tools

// Package tools is the pinned tools module of actionlint: its go.mod requires
// github.com/rhysd/actionlint at the version homelab.yaml's tools.actionlint lists, and its go.sum
// is committed, so internal/toolchain builds actionlint with go build
// -mod=readonly, offline once the modules are downloaded. The lint target
// runs it. Bump the version here (go get, then go mod tidy with tools.go's
// build tag) and in homelab.yaml together; the build refuses the two out of
// step.
package tools
