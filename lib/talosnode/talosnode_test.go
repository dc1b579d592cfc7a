package talosnode_test

import (
	"archive/zip"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/siderolabs/talos/pkg/machinery/config/configloader"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/wdiazux/infra/lib/talosgen"
	"github.com/wdiazux/infra/lib/talosnode"
	"github.com/wdiazux/infra/lib/talosnode/nodesim"
)

func TestApplySendsEachNodeItsConfig(t *testing.T) {
	e := newEnv(t, threeNodesFile)

	// Fresh nodes are in maintenance mode: insecure, then authenticated.
	res, err := e.cluster.Apply(t.Context(), talosnode.ApplyOptions{})
	require.NoError(t, err)
	require.Len(t, res, 4)
	for _, r := range res {
		require.True(t, r.Maintenance, r.Node)
		require.Equal(t, "reboot", r.Mode)
	}
	applies := e.h.Requests("ApplyConfiguration")
	require.Len(t, applies, 4)
	for _, r := range applies {
		require.False(t, r.Authenticated, "maintenance mode has no client authentication")
		cfg, err := configloader.NewFromBytes(r.Config)
		require.NoError(t, err)
		require.Equal(t, r.Node, cfg.NetworkHostnameConfig().Hostname(), "the right config went to the right node")
		want, err := os.ReadFile(filepath.Join(e.dir, r.Node+".yaml"))
		require.NoError(t, err)
		require.Equal(t, want, r.Config)
	}

	// Configured nodes: authenticated with the talosconfig; an unchanged
	// config is applied without a reboot.
	res, err = e.cluster.Apply(t.Context(), talosnode.ApplyOptions{Node: "talos-cp-02"})
	require.NoError(t, err)
	require.Equal(t, []talosnode.ApplyResult{{Node: "talos-cp-02", Mode: "no-reboot", Details: "Applied configuration without a reboot: no changes"}}, res)
	last := e.h.Requests("ApplyConfiguration")[4]
	require.Equal(t, "talos-cp-02", last.Node)
	require.True(t, last.Authenticated)

	// A dry run is the node's own: it answers with the diff.
	res, err = e.cluster.Apply(t.Context(), talosnode.ApplyOptions{Node: "talos-gpu-01", DryRun: true, Mode: "no-reboot"})
	require.NoError(t, err)
	require.Contains(t, res[0].Details, "No changes.")
	require.True(t, e.h.Requests("ApplyConfiguration")[5].DryRun)
}

func TestApplyErrors(t *testing.T) {
	e := newEnv(t, homelabFile)
	_, err := e.cluster.Apply(t.Context(), talosnode.ApplyOptions{Node: "talos-cp-09"})
	require.ErrorIs(t, err, talosnode.ErrUnknownNode)
	require.ErrorContains(t, err, "the nodes are talos-cp-01")

	_, err = e.cluster.Apply(t.Context(), talosnode.ApplyOptions{Mode: "sometimes"})
	require.ErrorContains(t, err, `apply mode "sometimes": use one of auto, no-reboot, reboot, staged, try`)

	cfg := filepath.Join(e.dir, "talos-cp-01.yaml")
	data, err := os.ReadFile(cfg)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(cfg, []byte(strings.Replace(string(data), "# talos-cp-01 (", "# talos-cp-02 (", 1)), 0o600))
	_, err = e.cluster.Apply(t.Context(), talosnode.ApplyOptions{})
	var foreign *talosnode.ForeignConfigError
	require.ErrorAs(t, err, &foreign)
	require.Equal(t, talosnode.ForeignConfigError{Node: "talos-cp-01", Path: cfg, FirstLine: strings.TrimSpace(strings.SplitN(strings.Replace(string(data), "# talos-cp-01 (", "# talos-cp-02 (", 1), "\n", 2)[0])}, *foreign)
	require.EqualError(t, err, "talos-cp-01: "+cfg+" is not the config generated for this node (its first line is \""+foreign.FirstLine+"\"); generate the node configs again")

	require.NoError(t, os.Remove(cfg))
	_, err = e.cluster.Apply(t.Context(), talosnode.ApplyOptions{})
	var missing *talosnode.MissingFileError
	require.ErrorAs(t, err, &missing)
	require.Equal(t, talosnode.MissingFileError{Path: cfg, Node: "talos-cp-01", File: talosnode.NodeConfig}, *missing)
	require.ErrorIs(t, err, fs.ErrNotExist)
	require.EqualError(t, err, "talos-cp-01: "+cfg+" does not exist: generate the node configs first")
	require.Empty(t, e.sim.Requests(), "nothing was sent")

	require.NoError(t, os.WriteFile(cfg, data, 0o600))
	e.sim.SetDown("talos-cp-01", true)
	_, err = e.cluster.Apply(t.Context(), talosnode.ApplyOptions{})
	var ne *talosnode.NodeError
	require.ErrorAs(t, err, &ne)
	require.ErrorContains(t, err, "talos-cp-01 ("+e.sim.Endpoint("talos-cp-01")+"): apply the config: connection refused (Unavailable)")
}

func TestBootstrapOnce(t *testing.T) {
	e := newEnv(t, threeNodesFile)
	_, err := e.cluster.Apply(t.Context(), talosnode.ApplyOptions{})
	require.NoError(t, err)

	_, err = e.cluster.Bootstrap(t.Context(), "talos-gpu-01", false)
	require.ErrorContains(t, err, "talos-gpu-01 is a worker; this needs a control-plane node")

	res, err := e.cluster.Bootstrap(t.Context(), "", true)
	require.NoError(t, err)
	require.Equal(t, talosnode.BootstrapResult{Node: "talos-cp-01", DryRun: true}, res)
	require.Empty(t, e.h.Requests("Bootstrap"), "a dry run does not bootstrap")

	res, err = e.cluster.Bootstrap(t.Context(), "", false)
	require.NoError(t, err)
	require.Equal(t, "talos-cp-01", res.Node)

	for _, node := range []string{"", "talos-cp-02"} {
		_, err = e.cluster.Bootstrap(t.Context(), node, false)
		require.ErrorIs(t, err, talosnode.ErrAlreadyBootstrapped)
		require.ErrorContains(t, err, "talos-cp-01 reports 3 member(s) (talos-cp-01, talos-cp-02, talos-cp-03); nothing was done")
	}
	boots := e.h.Requests("Bootstrap")
	require.Len(t, boots, 1, "etcd was bootstrapped exactly once")
	require.Equal(t, "talos-cp-01", boots[0].Node)
	require.True(t, boots[0].Authenticated)
}

func TestKubeconfig(t *testing.T) {
	e := newEnv(t, homelabFile)
	_, err := e.cluster.Apply(t.Context(), talosnode.ApplyOptions{})
	require.NoError(t, err)
	_, err = e.cluster.Kubeconfig(t.Context(), talosnode.KubeconfigOptions{})
	require.ErrorContains(t, err, "fetch the kubeconfig: kubeconfig is not available: the cluster is not bootstrapped (FailedPrecondition)")

	_, err = e.cluster.Bootstrap(t.Context(), "", false)
	require.NoError(t, err)

	// The user's kubeconfig already has another cluster.
	home := filepath.Join(t.TempDir(), ".kube", "config")
	require.NoError(t, os.MkdirAll(filepath.Dir(home), 0o700))
	require.NoError(t, os.WriteFile(home, []byte("apiVersion: v1\nkind: Config\nclusters:\n- name: work\n  cluster:\n    server: https://work:6443\ncontexts:\n- name: work\n  context:\n    cluster: work\n    user: me\nusers:\n- name: me\n  user:\n    token: abc\ncurrent-context: work\n"), 0o644))

	res, err := e.cluster.Kubeconfig(t.Context(), talosnode.KubeconfigOptions{Merge: true, MergeInto: home})
	require.NoError(t, err)
	require.True(t, res.Changed)
	require.Equal(t, "admin@homelab", res.Context)
	require.Equal(t, filepath.Join(e.dir, "kubeconfig"), res.Path)
	requireMode(t, res.Path, 0o600)
	requireMode(t, home, 0o600)
	merged, err := clientcmd.LoadFromFile(home)
	require.NoError(t, err)
	require.Equal(t, "admin@homelab", merged.CurrentContext)
	require.Contains(t, merged.Contexts, "work", "the other cluster is kept")
	require.Contains(t, merged.Clusters, "homelab")
	require.Equal(t, "https://10.10.2.10:6443", merged.Clusters["homelab"].Server, "the cluster's endpoint")

	res, err = e.cluster.Kubeconfig(t.Context(), talosnode.KubeconfigOptions{})
	require.NoError(t, err)
	require.True(t, res.Changed, "Talos signs a fresh admin certificate on every request")
}

func TestHealth(t *testing.T) {
	e := newEnv(t, threeNodesFile)
	e.ready(t)
	rep, err := e.cluster.Health(t.Context(), talosnode.HealthOptions{})
	require.NoError(t, err)
	require.True(t, rep.Healthy())
	var b strings.Builder
	require.NoError(t, rep.WriteTable(&b))
	require.Contains(t, b.String(), "talos-cp-01   controlplane  v1.12.7  8/8 healthy  3 member(s)  healthy")
	require.Contains(t, b.String(), "talos-gpu-01  worker        v1.12.7  6/6 healthy  -            healthy")

	// An unhealthy service fails the check; waiting sees it heal.
	e.sim.SetUnhealthy("talos-gpu-01", "kubelet", "node not ready")
	_, err = e.cluster.Health(t.Context(), talosnode.HealthOptions{})
	require.ErrorIs(t, err, talosnode.ErrUnhealthy)
	require.ErrorContains(t, err, "talos-gpu-01: service kubelet is unhealthy: node not ready")

	rounds := 0
	rep, err = e.cluster.Health(t.Context(), talosnode.HealthOptions{Wait: time.Minute, Interval: time.Millisecond, Progress: func(*talosnode.HealthReport) {
		rounds++
		e.sim.SetUnhealthy("talos-gpu-01", "kubelet", "")
	}})
	require.NoError(t, err)
	require.True(t, rep.Healthy())
	require.Equal(t, 2, rounds)

	e.sim.SetDown("talos-cp-03", true)
	rep, err = e.cluster.Health(t.Context(), talosnode.HealthOptions{})
	require.ErrorIs(t, err, talosnode.ErrUnhealthy)
	require.ErrorContains(t, err, "talos-cp-03: unreachable")
	require.Len(t, rep.Nodes, 4)
}

func TestHealthBeforeBootstrapAndVersionDrift(t *testing.T) {
	e := newEnv(t, homelabFile, nodesim.WithVersion("v1.12.6"))
	_, err := e.cluster.Apply(t.Context(), talosnode.ApplyOptions{})
	require.NoError(t, err)
	_, err = e.cluster.Health(t.Context(), talosnode.HealthOptions{})
	require.ErrorContains(t, err, "talos-cp-01: runs Talos v1.12.6, the inventory says v1.12.7")
	require.ErrorContains(t, err, "service etcd is Preparing: waiting for etcd bootstrap")
	require.ErrorContains(t, err, "list etcd members: etcd is not running: the cluster is not bootstrapped (Unavailable)")
}

// TestMissingFiles: a file of the output directory that is not there yet
// is a *MissingFileError naming it and what makes it.
func TestMissingFiles(t *testing.T) {
	e := newEnv(t, homelabFile)
	e.ready(t)
	talosconfig := filepath.Join(e.dir, talosgen.TalosconfigFile)
	require.NoError(t, os.Rename(talosconfig, talosconfig+".away"))
	asked := len(e.sim.Requests())
	_, err := e.cluster.Health(t.Context(), talosnode.HealthOptions{Wait: time.Hour})
	var missing *talosnode.MissingFileError
	require.ErrorAs(t, err, &missing, "Health does not wait for a file that will not appear")
	require.Equal(t, talosnode.MissingFileError{Path: talosconfig, File: talosnode.Talosconfig}, *missing)
	require.EqualError(t, err, talosconfig+" does not exist: generate the node configs and the talosconfig first")
	_, err = e.cluster.Support(t.Context(), talosnode.SupportOptions{Output: filepath.Join(t.TempDir(), "support.zip")})
	require.ErrorAs(t, err, &missing)
	require.Equal(t, talosnode.Talosconfig, missing.File)
	require.Len(t, e.sim.Requests(), asked, "no node was asked")
	require.NoError(t, os.Rename(talosconfig+".away", talosconfig))

	// The Kubernetes collectors need the kubeconfig: without it the bundle
	// is made without them, and the result says why.
	res, err := e.cluster.Support(t.Context(), talosnode.SupportOptions{Output: filepath.Join(t.TempDir(), "support.zip"), Kubernetes: true})
	require.NoError(t, err)
	require.ErrorAs(t, res.NoKubernetes, &missing)
	require.Equal(t, talosnode.MissingFileError{Path: filepath.Join(e.dir, talosnode.KubeconfigFile), File: talosnode.Kubeconfig}, *missing)
	require.EqualError(t, res.NoKubernetes, filepath.Join(e.dir, talosnode.KubeconfigFile)+" does not exist: fetch the kubeconfig from the cluster first")
	require.Positive(t, res.Collected)
}

func TestSupport(t *testing.T) {
	e := newEnv(t, homelabFile)
	e.ready(t)
	var seen int
	out := filepath.Join(t.TempDir(), "bundle", "support.zip")
	var last talosnode.SupportProgress
	res, err := e.cluster.Support(t.Context(), talosnode.SupportOptions{Output: out, Progress: func(p talosnode.SupportProgress) { seen++; last = p }})
	require.NoError(t, err)
	require.Equal(t, out, res.Path)
	requireMode(t, out, 0o600)
	require.Equal(t, res.Collected+len(res.Failed), seen)
	require.Equal(t, seen, last.Done)
	require.Equal(t, last.Total, last.Done, "progress ends at the total")
	require.Positive(t, res.Collected)

	z, err := zip.OpenReader(out)
	require.NoError(t, err)
	defer z.Close()
	var names []string
	for _, f := range z.File {
		names = append(names, f.Name)
	}
	require.Contains(t, names, "talos-cp-01/dmesg.log")
	require.Contains(t, names, "talos-cp-01/service-logs/etcd.log")
	require.Contains(t, names, "talos-cp-01/kubernetes-logs/kube-system/kube-apiserver-talos-cp-01.log")
	entries, err := os.ReadDir(filepath.Dir(out))
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file is left")
}

func TestEndpointOverrides(t *testing.T) {
	m, err := talosnode.ParseEndpoints(" talos-cp-01=127.0.0.1:4000, talos-cp-02=[::1]:4001 ,")
	require.NoError(t, err)
	require.Equal(t, map[string]string{"talos-cp-01": "127.0.0.1:4000", "talos-cp-02": "[::1]:4001"}, m)
	_, err = talosnode.ParseEndpoints("talos-cp-01")
	require.ErrorContains(t, err, `INFRA_TALOS_ENDPOINTS: "talos-cp-01" is not node=host:port`)
	_, err = talosnode.ParseEndpoints("talos-cp-01=10.10.2.10")
	require.ErrorContains(t, err, `talos-cp-01: "10.10.2.10" is not host:port`)

	// An override wins; the other nodes keep their inventory address.
	e := newEnv(t, homelabFile)
	c := talosnode.New(e.inv, e.dir, talosnode.WithEndpointOverrides(map[string]string{"talos-cp-01": e.sim.Endpoint("talos-cp-01")}))
	res, err := c.Apply(t.Context(), talosnode.ApplyOptions{})
	require.NoError(t, err)
	require.Len(t, res, 1)
}
