//go:build tools

// Package tools is the pinned tools module of kube-apiserver: its go.mod
// requires k8s.io/kubernetes at the version homelab.yaml's
// tools.kube-apiserver lists, with one replace line per Kubernetes staging
// module (k8s.io/api, k8s.io/apiserver, … at the matching v0.x version:
// k8s.io/kubernetes requires them at v0.0.0 and cannot resolve without),
// and its go.sum is committed, so internal/toolchain builds kube-apiserver
// with go build -mod=readonly, offline once the modules are downloaded. The
// build links the version variables of k8s.io/component-base (gitVersion,
// gitMajor, gitMinor) from that same version, as Kubernetes' release builds
// do. internal/kubetest runs it, with etcd, as the API server of the tests.
// Bump the version here (go get, the replace lines, then go mod tidy with
// tools.go's build tag) and in homelab.yaml together; the build refuses the
// two out of step.
package tools
