package infra_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/wdiazux/infra/internal/clustersim"
	"github.com/wdiazux/infra/lib/inventory"
)

// TestClusterUpTarget runs cluster:up against a fresh simulated host: a dry
// run reads only and stops at the template it would create; then each
// step prints what it did, the real Terraform makes the node VM from the
// repository's talos stack, the node answers at the address its VM was
// given, and the cluster comes up with a kubeconfig that reaches its API
// server as admin and every add-on installed; a second run changes
// nothing; cluster:status, cluster:addons -dryrun and -only work on that
// cluster.
func TestClusterUpTarget(t *testing.T) {
	h := clustersim.New(t, inventory.DefaultFile, clustersim.WithKube())
	out, code := mageEnv(t, h.Env(), "cluster:up", "-dryrun", "-file="+h.File)
	require.Equal(t, 0, code, out)
	require.Regexp(t, `(?m)^talos template: would create 9000 \(Talos v1\.12\.7\) with \d+ API call\(s\)$`, out)
	require.Contains(t, out, "\ndry run: nothing was changed; not checked, as they depend on talos template: remove nodes, node VMs, node configs, apply configs, bootstrap, kubeconfig, health, add-ons\n")
	for _, r := range h.Sim.Requests() {
		require.Equal(t, "GET", r.Method, "the dry run changes nothing: %s %s", r.Method, r.Path)
	}

	out, code = mageEnv(t, h.Env(), "cluster:up", "-wait=2m", "-file="+h.File)
	require.Equal(t, 0, code, out)
	require.Regexp(t, `(?m)^preflight: ok, \d+ checks passed$`, out)
	require.Regexp(t, `(?m)^talos template: 9000 created, Talos v1\.12\.7, \d+ API call\(s\)$`, out)
	require.Contains(t, out, "\nnode VMs: 1 VM(s) created, 0 updated, 0 replaced, 0 destroyed (terraform)\n")
	require.Regexp(t, `(?m)^add-ons: \d+ installed, created monitoring/grafana-admin, flux-system/flux-webhook-token$`, out)
	require.Contains(t, out, "\nthe cluster is up;")
	require.NotContains(t, out, `"format_version"`, "the JSON Terraform gives the library is not printed")
	t.Logf("cluster:up on a fresh host:\n%s", out)
	cfg, err := h.Client.VMConfig(t.Context(), h.Inv.Proxmox.Node, h.Inv.Talos.Nodes[0].VMID)
	require.NoError(t, err)
	require.Contains(t, cfg.Values["ipconfig0"], "ip=10.10.2.10/24", "the node came up at the address Terraform gave its VM")
	kc, err := clientcmd.BuildConfigFromFlags("", filepath.Join(h.Root, "talos", "generated", "kubeconfig"))
	require.NoError(t, err, "cluster:up leaves the admin kubeconfig")
	cs, err := kubernetes.NewForConfig(kc)
	require.NoError(t, err)
	_, err = cs.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "made-with-the-kubeconfig"}}, metav1.CreateOptions{})
	require.NoError(t, err, "the kubeconfig reaches the cluster's API server as admin")
	_, err = os.Stat(filepath.Join(h.Root, "terraform", "talos", "terraform.tfstate"))
	require.NoError(t, err, "the stack's state is beside the inventory's copy of terraform/, not in the checkout")

	before := len(h.Sim.Requests())
	out, code = mageEnv(t, h.Env(), "cluster:up", "-file="+h.File)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "talos template: 9000 holds Talos v1.12.7, nothing to do\n")
	require.Contains(t, out, "\nnode VMs: nothing to do\n")
	require.Regexp(t, `(?m)^add-ons: nothing to do: \d+ release\(s\) deployed and unchanged$`, out)
	require.Contains(t, out, "\nnothing to do: the cluster is up and healthy\n")
	t.Logf("cluster:up again:\n%s", out)
	for _, r := range h.Sim.Requests()[before:] {
		require.Equal(t, "GET", r.Method, "a second run changes nothing on the host: %s %s", r.Method, r.Path)
	}

	// The add-on targets on the cluster cluster:up made (its kubeconfig
	// beside the inventory, the chart mirror from the environment).
	out, code = mageEnv(t, h.Env(), "cluster:status", "-file="+h.File)
	require.Equal(t, 0, code, out)
	require.Regexp(t, `(?m)^cilium\s+kube-system\s+cilium\s+1\.19\.5\s+1\s+deployed\s`, out)
	require.Regexp(t, `(?m)^hubble-ui\s+kube-system\s+10\.10\.2\.11\s+10\.10\.2\.11\s+80/TCP$`, out)
	out, code = mageEnv(t, h.Env(), "cluster:addons", "-dryrun", "-file="+h.File)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "dry run: nothing to do: every release matches the inventory\n")
	out, code = mageEnv(t, h.Env(), "cluster:addons", "-only=csi-driver-nfs", "-file="+h.File)
	require.Equal(t, 0, code, out)
	require.Regexp(t, `(?m)^csi-driver-nfs\s+csi-driver-nfs 4\.12\.1\s+unchanged\s+revision 1\s`, out)
	require.Regexp(t, `(?m)^csi-driver-nfs-config\s.*unchanged\s+revision 1\s`, out)
	out, code = mageEnv(t, h.Env(), "cluster:addons", "-only=grafana", "-file="+h.File)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, `no add-on "grafana" in the inventory (kubernetes.charts); the add-ons are: cilium, `)

	out, code = mageEnv(t, h.Env(), "cluster:up", "-wait=soon", "-file="+h.File)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, `-wait=soon: time: invalid duration "soon" (write it like 10m or 90s)`)
}
