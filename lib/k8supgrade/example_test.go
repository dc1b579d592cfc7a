package k8supgrade_test

import (
	"os"

	"github.com/wdiazux/infra/lib/k8supgrade"
)

// A plan, as Upgrade returns it and the dry run prints it: one component
// of one node at a time, the static pods before the kubelets, then the
// bootstrap manifest objects to apply.
func ExamplePlan_WriteTable() {
	p := &k8supgrade.Plan{From: "v1.34.4", To: "v1.35.4", Steps: []k8supgrade.Step{
		{Component: "kube-apiserver", Node: "talos-cp-01", From: "v1.34.4", To: "v1.35.4", Apply: true},
		{Component: "kube-controller-manager", Node: "talos-cp-01", From: "v1.34.4", To: "v1.35.4", Apply: true},
		{Component: "kube-scheduler", Node: "talos-cp-01", From: "v1.34.4", To: "v1.35.4", Apply: true},
		{Component: "kubelet", Node: "talos-cp-01", From: "v1.34.4", To: "v1.35.4", Apply: true},
		{Component: "kubelet", Node: "talos-wk-01", From: "v1.34.4", To: "v1.35.4"},
	}, ManifestsFrom: "talos-cp-01", ManifestObjects: 13, Manifests: []k8supgrade.ManifestChange{
		{Path: "apps/v1.Deployment/kube-system/coredns"},
	}}
	_ = p.WriteTable(os.Stdout)
	// Output:
	// Kubernetes upgrade from v1.34.4 to v1.35.4, 5 step(s), one at a time:
	// #  COMPONENT                NODE         FROM     TO       ACTION
	// 1  kube-apiserver           talos-cp-01  v1.34.4  v1.35.4  apply the config, wait until it runs
	// 2  kube-controller-manager  talos-cp-01  v1.34.4  v1.35.4  apply the config, wait until it runs
	// 3  kube-scheduler           talos-cp-01  v1.34.4  v1.35.4  apply the config, wait until it runs
	// 4  kubelet                  talos-cp-01  v1.34.4  v1.35.4  apply the config, wait until it runs
	// 5  kubelet                  talos-wk-01  v1.34.4  v1.35.4  config applied, wait until it runs
	// Then the bootstrap manifests of talos-cp-01, 1 of 13 object(s) to apply:
	//   update  apps/v1.Deployment/kube-system/coredns
}
