//go:build tools

// Package tools is the pinned tools module of etcd: its go.mod requires
// go.etcd.io/etcd/server/v3 (whose root package is etcd's main package) at
// the version homelab.yaml's tools.etcd lists, and its go.sum is committed,
// so internal/toolchain builds etcd with go build -mod=readonly, offline once
// the modules are downloaded. internal/kubetest runs it as the storage of
// the tests' kube-apiserver. Bump the version here (go get, then go mod tidy
// with tools.go's build tag) and in homelab.yaml together; the build refuses
// the two out of step.
package tools
