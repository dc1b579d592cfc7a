package helmdeploy_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/wdiazux/infra/lib/helmdeploy"
)

// Order validates a release set and gives the order Apply installs it in:
// dependencies first, independent releases as declared.
func ExampleOrder() {
	cilium := &helmdeploy.ChartRef{Repository: "https://helm.cilium.io", Name: "cilium", Version: "1.19.5"}
	longhorn := &helmdeploy.ChartRef{Repository: "https://charts.longhorn.io", Name: "longhorn", Version: "1.10.1"}
	set := []helmdeploy.Release{
		{Name: "longhorn", Namespace: "longhorn-system", Chart: longhorn, DependsOn: []string{"cilium"}},
		{Name: "cilium-config", Namespace: "kube-system", Manifests: []byte("apiVersion: cilium.io/v2\nkind: CiliumLoadBalancerIPPool\nmetadata:\n  name: pool\n"), DependsOn: []string{"cilium"}},
		{Name: "cilium", Namespace: "kube-system", Chart: cilium},
	}
	ordered, err := helmdeploy.Order(set)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range ordered {
		fmt.Println(r.Name)
	}

	set[2].DependsOn = []string{"longhorn"}
	_, err = helmdeploy.Order(set)
	var cycle *helmdeploy.CycleError
	fmt.Println(errors.As(err, &cycle), err)
	// Output:
	// cilium
	// longhorn
	// cilium-config
	// true releases depend on each other in a cycle: longhorn -> cilium -> longhorn; remove one of these DependsOn entries
}

// Template renders releases offline, as `helm template` does: here a
// Manifests release (no chart to fetch); a chart release is rendered from
// its repository or the mirror (WithMirror).
func ExampleTemplate() {
	set := []helmdeploy.Release{{Name: "pools", Namespace: "kube-system",
		Manifests: []byte("apiVersion: cilium.io/v2\nkind: CiliumLoadBalancerIPPool\nmetadata:\n  name: pool\n")}}
	rendered, err := helmdeploy.Template(context.Background(), set, helmdeploy.Capabilities{KubeVersion: "v1.34.4"},
		helmdeploy.WithCacheDir(os.TempDir()))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range rendered {
		for _, f := range r.Files {
			fmt.Printf("%s/%s:\n%s", r.Release, f.Path, f.Content)
		}
	}
	// Output:
	// pools/pools/templates/manifests.yaml:
	// apiVersion: cilium.io/v2
	// kind: CiliumLoadBalancerIPPool
	// metadata:
	//   name: pool
}
