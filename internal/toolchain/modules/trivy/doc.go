//go:build tools

// Package tools is the pinned tools module of trivy: its go.mod requires
// github.com/aquasecurity/trivy at the version homelab.yaml's tools.trivy
// lists, and its go.sum is committed, so internal/toolchain builds trivy
// with go build -mod=readonly (and GOEXPERIMENT=jsonv2: trivy's code uses
// encoding/json/v2), offline once the modules are downloaded. trivy config
// --skip-check-update scans with the checks built into the binary. Bump the
// version here (go get, then go mod tidy with tools.go's build tag) and in
// homelab.yaml together; the build refuses the two out of step.
package tools
