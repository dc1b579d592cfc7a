package nodesim_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/talosgen"
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
	inv, err := inventory.Load(filepath.Join("..", "..", "..", inventory.DefaultFile))
	require.NoError(t, err)
	bundle, err := talosgen.NewBundle(inv)
	require.NoError(t, err)
	patches, err := talosgen.LoadPatches(filepath.Join("..", "..", "..", talosgen.DefaultPatchDir), inv)
	require.NoError(t, err)
	built, err := talosgen.BuildConfigs(talosgen.Sources{Inventory: inv, Bundle: bundle, Patches: patches})
	require.NoError(t, err)
	tc, err := talosgen.Talosconfig(inv, bundle)
	require.NoError(t, err)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var names []string
			for _, n := range built.Nodes {
				require.NoError(t, os.WriteFile(filepath.Join(dir, n.Node.Name+".yaml"), n.Config, 0o600))
				names = append(names, n.Node.Name)
			}
			require.NoError(t, os.WriteFile(filepath.Join(dir, talosgen.TalosconfigFile), tc, 0o600))
			sim, err := nodesim.New(bundle, names, tt.opts...)
			require.NoError(t, err)
			t.Cleanup(sim.Close)
			c := talosnode.New(inv, dir, talosnode.WithEndpoints(func(n inventory.TalosNode) string { return sim.Endpoint(n.Name) }))
			_, err = c.Apply(t.Context(), talosnode.ApplyOptions{})
			require.NoError(t, err)
			_, err = c.Bootstrap(t.Context(), "", false)
			require.NoError(t, err)

			res, err := c.Kubeconfig(t.Context(), talosnode.KubeconfigOptions{})
			require.NoError(t, err)
			kc, err := clientcmd.LoadFromFile(res.Path)
			require.NoError(t, err)
			cluster := kc.Clusters[kc.Contexts[kc.CurrentContext].Cluster]
			require.Equal(t, tt.want, cluster.Server)
			require.Equal(t, string(bundle.Certs.K8s.Crt), string(cluster.CertificateAuthorityData))
		})
	}
}
