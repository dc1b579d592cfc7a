//go:build mage

package main

// Aliases are the targets' names with a dash, which Go method names cannot
// hold. `go run mage.go` resolves an alias itself and hands the built
// binary the target's own name, so no target's build needs this file.
var Aliases = map[string]any{
	"talos:etcd-snapshot": Talos.EtcdSnapshot,
	"talos:etcd-restore":  Talos.EtcdRestore,
	"talos:upgrade-k8s":   Talos.UpgradeK8s,
}
