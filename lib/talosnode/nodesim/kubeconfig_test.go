package nodesim_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/wdiazux/infra/internal/talostest"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/talosnode"
	"github.com/wdiazux/infra/lib/talosnode/nodesim"
)

// TestKubeconfigServer: the kubeconfig a bootstrapped control plane hands
// out names the cluster endpoint of its machine config, as Talos does;
// with WithKubernetesEndpoint it names where the simulated cluster's API
// server really is. Its CA is the cluster's Kubernetes CA either way.
func TestKubeconfigServer(t *testing.T) {
	const real = "https://127.0.0.1:36443"
	tests := []struct {
		name string
		opts []nodesim.Option
		want string
	}{
		{name: "the machine config's endpoint", want: "https://10.10.2.10:6443"},
		{name: "WithKubernetesEndpoint", opts: []nodesim.Option{nodesim.WithKubernetesEndpoint(real)}, want: real},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := talostest.New(t, filepath.Join("..", "..", "..", inventory.DefaultFile), talostest.Bootstrapped(), talostest.WithNodeOptions(tt.opts...))
			res, err := e.Cluster.Kubeconfig(t.Context(), talosnode.KubeconfigOptions{})
			require.NoError(t, err)
			kc, err := clientcmd.LoadFromFile(res.Path)
			require.NoError(t, err)
			cluster := kc.Clusters[kc.Contexts[kc.CurrentContext].Cluster]
			require.Equal(t, tt.want, cluster.Server)
			require.Equal(t, string(e.Bundle.Certs.K8s.Crt), string(cluster.CertificateAuthorityData))
		})
	}
}
