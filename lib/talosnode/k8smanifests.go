package talosnode

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/cosi-project/runtime/pkg/state"
	"github.com/siderolabs/go-kubernetes/kubernetes/manifests"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// KubernetesRequestTimeout is how long one request to the cluster's
// Kubernetes API has to answer (KubernetesConfig).
const KubernetesRequestTimeout = 30 * time.Second

// KubernetesConfig is the client configuration of the cluster's Kubernetes
// API from the kubeconfig in the output directory (Kubeconfig writes it),
// once CheckKubeconfig accepts it; WithKubernetesEndpoint's URL replaces
// its server. Each request has KubernetesRequestTimeout to answer
// (client-go's transport bounds the dial, 30 s, and the TLS handshake,
// 10 s).
func (c *Cluster) KubernetesConfig() (*rest.Config, error) {
	if err := c.CheckKubeconfig(); err != nil {
		return nil, err
	}
	path := filepath.Join(c.dir, KubeconfigFile)
	cfg, err := clientcmd.BuildConfigFromFlags(c.kubeEndpoint, path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	cfg.Timeout = KubernetesRequestTimeout
	return cfg, nil
}

// BootstrapManifests reads the bootstrap manifests a control plane renders
// from its config (its Manifest resources in namespace controlplane: the
// objects Talos applies when it bootstraps the cluster, CoreDNS and the
// RBAC among them), in Talos's order, as talosctl upgrade-k8s reads them
// (go-kubernetes manifests.GetBootstrapManifests).
func (c *Cluster) BootstrapManifests(ctx context.Context, node string) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	err := c.ReadState(ctx, node, func(ctx context.Context, st state.State) error {
		var err error
		out, err = manifests.GetBootstrapManifests(ctx, st, nil)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ReadState runs f with a node's COSI state (Talos's resource API) over
// one connection; an error f returns is the node's.
func (c *Cluster) ReadState(ctx context.Context, node string, f func(ctx context.Context, st state.State) error) error {
	ns, err := c.nodes(node)
	if err != nil {
		return err
	}
	if node == "" {
		return fmt.Errorf("ReadState needs a node name")
	}
	n := ns[0]
	cl, err := c.connect(ctx, n)
	if err != nil {
		return err
	}
	defer cl.Close() //nolint:errcheck
	if err := f(ctx, cl.COSI); err != nil {
		return c.nodeErr(n, "read the COSI state", err)
	}
	return nil
}
