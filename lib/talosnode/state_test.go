package talosnode_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/talosnode"
	"github.com/wdiazux/infra/lib/talosnode/nodesim"
)

// TestProbe: a fresh node says it is in maintenance mode, a configured one
// answers the talosconfig, a node that is down is an error naming it.
func TestProbe(t *testing.T) {
	e := newEnv(t, homelabFile)
	state, err := e.cluster.Probe(t.Context(), "talos-cp-01")
	require.NoError(t, err)
	require.Equal(t, talosnode.Maintenance, state)

	_, err = e.cluster.Apply(t.Context(), talosnode.ApplyOptions{})
	require.NoError(t, err)
	state, err = e.cluster.Probe(t.Context(), "talos-cp-01")
	require.NoError(t, err)
	require.Equal(t, talosnode.Configured, state)
	require.Equal(t, "configured", state.String())

	e.sim.SetDown("talos-cp-01", true)
	_, err = e.cluster.Probe(t.Context(), "talos-cp-01")
	require.ErrorContains(t, err, "talos-cp-01 ("+e.sim.Endpoint("talos-cp-01")+"): ask the node's state: connection refused (Unavailable)")

	e.sim.Reset("talos-cp-01")
	e.sim.SetDown("talos-cp-01", false)
	state, err = e.cluster.Probe(t.Context(), "talos-cp-01")
	require.NoError(t, err)
	require.Equal(t, talosnode.Maintenance, state, "a reset node is fresh again")
}

// TestApplyDryRunUnchanged: a configured node's dry run of the same config
// says no change; of another config, a diff.
func TestApplyDryRunUnchanged(t *testing.T) {
	e := newEnv(t, homelabFile)
	_, err := e.cluster.Apply(t.Context(), talosnode.ApplyOptions{})
	require.NoError(t, err)
	res, err := e.cluster.Apply(t.Context(), talosnode.ApplyOptions{DryRun: true})
	require.NoError(t, err)
	require.True(t, res[0].Unchanged(), res[0].Details)

	path := filepath.Join(e.dir, "talos-cp-01.yaml")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, []byte(strings.Replace(string(data), "\nmachine:", "\n# changed\nmachine:", 1)), 0o600))
	res, err = e.cluster.Apply(t.Context(), talosnode.ApplyOptions{DryRun: true})
	require.NoError(t, err)
	require.False(t, res[0].Unchanged(), res[0].Details)
}

// TestCheckKubeconfig: no kubeconfig is a missing file; the one the
// cluster issued passes; one of another endpoint or with a foreign
// certificate is stale, saying what differs.
func TestCheckKubeconfig(t *testing.T) {
	e := newEnv(t, homelabFile)
	err := e.cluster.CheckKubeconfig()
	var missing *talosnode.MissingFileError
	require.ErrorAs(t, err, &missing)
	require.Equal(t, talosnode.Kubeconfig, missing.File)

	_, err = e.cluster.Apply(t.Context(), talosnode.ApplyOptions{})
	require.NoError(t, err)
	_, err = e.cluster.Bootstrap(t.Context(), "", false)
	require.NoError(t, err)
	res, err := e.cluster.Kubeconfig(t.Context(), talosnode.KubeconfigOptions{})
	require.NoError(t, err)
	require.NoError(t, e.cluster.CheckKubeconfig())

	data, err := os.ReadFile(res.Path)
	require.NoError(t, err)
	good := string(data)
	tests := []struct {
		name, old, new, want string
	}{
		{"other endpoint", "https://10.10.2.10:6443", "https://10.10.2.99:6443", "server https://10.10.2.99:6443, the cluster's endpoint is https://10.10.2.10:6443"},
		{"no client certificate", "client-certificate-data:", "client-certificate-data-gone:", `user "admin@homelab" has no client certificate`},
		{"no current context", "current-context: admin@homelab", "current-context: other", `no current context "other"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Contains(t, good, tt.old)
			require.NoError(t, os.WriteFile(res.Path, []byte(strings.Replace(good, tt.old, tt.new, 1)), 0o600))
			err := e.cluster.CheckKubeconfig()
			require.ErrorIs(t, err, talosnode.ErrStaleKubeconfig)
			require.ErrorContains(t, err, tt.want)
		})
	}

	// Another cluster's kubeconfig: a fresh environment's CA signed it.
	other := newEnv(t, homelabFile)
	_, err = other.cluster.Apply(t.Context(), talosnode.ApplyOptions{})
	require.NoError(t, err)
	_, err = other.cluster.Bootstrap(t.Context(), "", false)
	require.NoError(t, err)
	_, err = other.cluster.Kubeconfig(t.Context(), talosnode.KubeconfigOptions{})
	require.NoError(t, err)
	data, err = os.ReadFile(filepath.Join(other.dir, talosnode.KubeconfigFile))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(res.Path, data, 0o600))
	err = e.cluster.CheckKubeconfig()
	require.ErrorIs(t, err, talosnode.ErrStaleKubeconfig)
	require.ErrorContains(t, err, "its certificate authority is not the cluster's Kubernetes CA")
}

// TestCheckKubeconfigAtAnotherEndpoint: with WithKubernetesEndpoint the
// cluster's API server is reached elsewhere (a tunnel, a simulated
// cluster), so the kubeconfig the cluster hands out for that address is
// the cluster's (and the client configuration made from it reaches that
// address, each request time-limited), and one for the config's own
// endpoint is stale.
func TestCheckKubeconfigAtAnotherEndpoint(t *testing.T) {
	const elsewhere = "https://127.0.0.1:36443"
	e := newEnv(t, homelabFile, nodesim.WithKubernetesEndpoint(elsewhere))
	e.ready(t)
	c := talosnode.New(e.inv, e.dir, talosnode.WithEndpoints(func(n inventory.TalosNode) string { return e.sim.Endpoint(n.Name) }),
		talosnode.WithKubernetesEndpoint(elsewhere))
	res, err := c.Kubeconfig(t.Context(), talosnode.KubeconfigOptions{})
	require.NoError(t, err)
	require.NoError(t, c.CheckKubeconfig())
	cfg, err := c.KubernetesConfig()
	require.NoError(t, err)
	require.Equal(t, elsewhere, cfg.Host, "the client reaches the API server where the option says")
	require.Equal(t, talosnode.KubernetesRequestTimeout, cfg.Timeout, "every request has a time limit")
	err = e.cluster.CheckKubeconfig()
	require.ErrorIs(t, err, talosnode.ErrStaleKubeconfig, "without the option the config's endpoint is expected")
	require.ErrorContains(t, err, "server "+elsewhere+", the cluster's endpoint is https://10.10.2.10:6443")

	data, err := os.ReadFile(res.Path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(res.Path, []byte(strings.Replace(string(data), elsewhere, "https://10.10.2.10:6443", 1)), 0o600))
	err = c.CheckKubeconfig()
	require.ErrorIs(t, err, talosnode.ErrStaleKubeconfig)
	require.ErrorContains(t, err, "server https://10.10.2.10:6443, the cluster's API server is reached at "+elsewhere)
}
