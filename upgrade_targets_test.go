package infra_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/wdiazux/infra/internal/kubetest"
	"github.com/wdiazux/infra/lib/images"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
	"github.com/wdiazux/infra/lib/secrets"
	"github.com/wdiazux/infra/lib/talosfactory"
	"github.com/wdiazux/infra/lib/talosgen"
	"github.com/wdiazux/infra/lib/talosnode"
	"github.com/wdiazux/infra/lib/talosnode/nodesim"
)

// TestTalosUpgradeTarget moves the homelab's simulated node from the
// previous Talos release to the inventory's through go run mage.go: the
// template, node and cluster are made with the targets at the old
// version, then the inventory is moved on; talos:upgrade -dryrun changes
// nothing, talos:upgrade takes the encrypted etcd snapshot before the
// node's upgrade, upgrades it and rolls the template over (the previous
// one removed once the node runs the new version), and a second run has
// nothing to do.
func TestTalosUpgradeTarget(t *testing.T) {
	const from = "v1.12.6"
	inv, err := inventory.Load(inventory.DefaultFile)
	require.NoError(t, err)
	to := inv.Talos.Version
	require.NotEqual(t, from, to)
	h := newImportHost(t, pvesim.SetupFor(inv, false))
	id, env := talosRepository(t, h.dir)
	env = append(env, h.env...)
	inventoryFlag := "-file=" + h.file
	setVersion := func(v string) {
		text, err := os.ReadFile(h.file)
		require.NoError(t, err)
		re := regexp.MustCompile(`(?m)^(  version: )v1\.12\.\d+$`)
		require.Len(t, re.FindAll(text, -1), 1, "homelab.yaml pins one Talos version")
		require.NoError(t, os.WriteFile(h.file, re.ReplaceAll(text, []byte("${1}"+v)), 0o644))
	}

	// The cluster as cluster:up leaves it, at the previous release.
	setVersion(from)
	out, code := mageEnv(t, env, "talos:import", inventoryFlag)
	require.Equal(t, 0, code, out)
	out, code = mageEnv(t, env, "talos:genconfig", inventoryFlag)
	require.Equal(t, 0, code, out)
	bundle, err := talosgen.LoadBundle(filepath.Join(h.dir, talosgen.DefaultBundleFile), secrets.WithIdentities(id))
	require.NoError(t, err)
	schematic, err := talosfactory.SchematicFor(inv).ID()
	require.NoError(t, err)
	node := inv.Talos.Nodes[0].Name
	sim, err := nodesim.New(bundle, []string{node}, nodesim.WithVersion(from), nodesim.WithSchematic(schematic), nodesim.WithEtcdDir(t.TempDir()))
	require.NoError(t, err)
	defer sim.Close()
	env = append(env, talosnode.EnvEndpoints+"="+node+"="+sim.Endpoint(node))
	for _, target := range []string{"talos:apply", "talos:bootstrap"} {
		out, code = mageEnv(t, env, target, inventoryFlag)
		require.Equal(t, 0, code, out)
	}
	require.NoError(t, sim.EtcdPut(t.Context(), "/registry/secrets/default/x", "upgrade-marker"))

	// homelab.yaml moves on.
	setVersion(to)
	mark := len(h.sim.Requests())
	out, code = mageEnv(t, env, "talos:upgrade", "-dryrun", inventoryFlag)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "Talos upgrade to "+to)
	require.Regexp(t, `1\.\s+`+node+`\s+controlplane\s+`+regexp.QuoteMeta(from)+` \(schematic [0-9a-f]{12}\) → `+regexp.QuoteMeta(to), out)
	require.Contains(t, out, "etcd: take an etcd snapshot before the first node")
	require.Contains(t, out, "dry run: nothing was changed")
	require.Empty(t, requests(sim, "Upgrade"), "the dry run upgraded nothing")
	for _, r := range h.sim.Requests()[mark:] {
		require.Equal(t, "GET", r.Method, "the dry run changed nothing on the host: %s %s", r.Method, r.Path)
	}

	out, code = mageEnv(t, env, "talos:upgrade", "-wait=1m", inventoryFlag)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "upgraded 1 node(s) to Talos "+to)
	snap := regexp.MustCompile(`etcd snapshot first: (\S+\.snapshot\.age)`).FindStringSubmatch(out)
	require.NotNil(t, snap, out)
	if !filepath.IsAbs(snap[1]) {
		snap[1] = filepath.Join(h.dir, snap[1])
	}
	data, err := os.ReadFile(snap[1])
	require.NoError(t, err)
	require.NotContains(t, string(data), "upgrade-marker", "the snapshot is encrypted")
	fi, err := os.Stat(snap[1])
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	var order []string
	for _, r := range sim.Requests() {
		if r.Method == "Upgrade" || r.Method == "EtcdSnapshot" {
			order = append(order, r.Method+" "+r.Node)
		}
	}
	require.Equal(t, []string{"EtcdSnapshot " + node, "Upgrade " + node}, order, "the snapshot comes before the upgrade")
	version, _ := sim.Running(node)
	require.Equal(t, to, version)

	// The template: the new one at template_id, the previous one gone.
	client := hostClient(t, h)
	cfg, err := client.VMConfig(t.Context(), "pve", inv.Talos.TemplateID)
	require.NoError(t, err)
	tmpl, ok := images.TalosTemplateOf(cfg, inv.Talos.TemplateID)
	require.True(t, ok)
	require.Equal(t, to, tmpl.Version)
	_, err = client.VMConfig(t.Context(), "pve", inv.Talos.TemplateID+1)
	require.ErrorIs(t, err, proxmox.ErrVMNotFound, "the previous template is removed once the node moved")

	out, code = mageEnv(t, env, "talos:upgrade", inventoryFlag)
	require.Equal(t, 0, code, out)
	require.Len(t, requests(sim, "Upgrade"), 1, "a second run upgrades nothing:\n%s", out)
	require.False(t, strings.Contains(out, "upgraded"), out)
}

// requests are the requests of one method the simulated nodes received.
func requests(sim *nodesim.Sim, method string) []nodesim.Request {
	var out []nodesim.Request
	for _, r := range sim.Requests() {
		if r.Method == method {
			out = append(out, r)
		}
	}
	return out
}

// hostClient is a Go client of the import host's simulated Proxmox VE.
func hostClient(t *testing.T, h importHost) *proxmox.Client {
	t.Helper()
	tokenID, secret := h.sim.Token()
	c, err := proxmox.New(proxmox.Config{URL: h.sim.URL(), TokenID: tokenID, TokenSecret: secret, Fingerprint: h.sim.Fingerprint()})
	require.NoError(t, err)
	return c
}

// TestTalosUpgradeK8sTarget upgrades the homelab's Kubernetes through go
// run mage.go on a simulated node whose kubelet plays against a real
// kube-apiserver (the cluster's Kubernetes CA): the node is made with the
// targets at the previous minor version, then the inventory moves on;
// talos:upgrade-k8s -dryrun applies nothing, the run moves every
// component and syncs the bootstrap manifests, and a second run has
// nothing to do.
func TestTalosUpgradeK8sTarget(t *testing.T) {
	const from = "v1.34.4"
	dir, id, inventoryFlag, env := talosHome(t)
	file := filepath.Join(dir, "homelab.yaml")
	inv, err := inventory.Load(file)
	require.NoError(t, err)
	to := inv.Kubernetes.Version
	require.NotEqual(t, from, to)
	setVersion := func(v string) {
		text, err := os.ReadFile(file)
		require.NoError(t, err)
		re := regexp.MustCompile(`(?m)^(  version: )v1\.3\d\.\d+$`)
		require.Len(t, re.FindAll(text, -1), 1, "homelab.yaml pins one Kubernetes version")
		require.NoError(t, os.WriteFile(file, re.ReplaceAll(text, []byte("${1}"+v)), 0o644))
	}
	setVersion(from)
	out, code := mageEnv(t, env, "talos:genconfig", inventoryFlag)
	require.Equal(t, 0, code, out)
	bundle, err := talosgen.LoadBundle(filepath.Join(dir, talosgen.DefaultBundleFile), secrets.WithIdentities(id))
	require.NoError(t, err)
	kube := &kubetest.Package{Options: []kubetest.Option{kubetest.WithInventory(file), kubetest.WithClusterCA(bundle.Certs.K8s.Crt, bundle.Certs.K8s.Key)}}
	srv := kube.Server(t)
	t.Cleanup(func() { require.NoError(t, srv.Stop()) })
	srv.Controllers(t, kubetest.InNamespaces("kube-system")) // CoreDNS rolls out
	cs, err := srv.Clientset()
	require.NoError(t, err)
	node := inv.Talos.Nodes[0].Name
	sim, err := nodesim.New(bundle, []string{node}, nodesim.WithKubelets(cs), nodesim.WithKubernetesEndpoint(srv.Config().Host))
	require.NoError(t, err)
	defer sim.Close()
	env = append(env, talosnode.EnvEndpoints+"="+node+"="+sim.Endpoint(node), talosnode.EnvKubernetesEndpoint+"="+srv.Config().Host)
	for _, target := range []string{"talos:apply", "talos:bootstrap", "talos:kubeconfig"} {
		out, code = mageEnv(t, env, target, inventoryFlag)
		require.Equal(t, 0, code, out)
	}
	require.NoError(t, sim.KubeletErr())

	setVersion(to)
	mark := len(sim.Requests())
	out, code = mageEnv(t, env, "talos:upgrade-k8s", "-dryrun", inventoryFlag)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "Kubernetes upgrade from "+from+" to "+to)
	require.Regexp(t, `kube-apiserver\s+`+node+`\s+`+regexp.QuoteMeta(from)+`\s+`+regexp.QuoteMeta(to), out)
	require.Regexp(t, `kubelet\s+`+node+`\s+`+regexp.QuoteMeta(from)+`\s+`+regexp.QuoteMeta(to), out)
	for _, r := range sim.Requests()[mark:] {
		require.NotEqual(t, "ApplyConfiguration", r.Method, "the dry run applies nothing")
	}

	out, code = mageEnv(t, env, "talos:upgrade-k8s", "-wait=1m", inventoryFlag)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "Kubernetes "+to+" on every node; bootstrap manifests of "+node)
	n, err := cs.CoreV1().Nodes().Get(t.Context(), node, metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, to, n.Status.NodeInfo.KubeletVersion)
	pod, err := cs.CoreV1().Pods("kube-system").Get(t.Context(), "kube-apiserver-"+node, metav1.GetOptions{})
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(pod.Spec.Containers[0].Image, ":"+to), pod.Spec.Containers[0].Image)
	_, err = cs.AppsV1().Deployments("kube-system").Get(t.Context(), "coredns", metav1.GetOptions{})
	require.NoError(t, err, "the bootstrap manifests are applied")

	mark = len(sim.Requests())
	out, code = mageEnv(t, env, "talos:upgrade-k8s", inventoryFlag)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "Kubernetes "+to+": every component of every node runs it")
	for _, r := range sim.Requests()[mark:] {
		require.NotEqual(t, "ApplyConfiguration", r.Method, "a second run applies nothing")
	}
}
