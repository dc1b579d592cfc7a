package clustersim_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensions "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/wdiazux/infra/internal/clustersim"
	"github.com/wdiazux/infra/lib/cluster"
	"github.com/wdiazux/infra/lib/images"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/secrets"
	"github.com/wdiazux/infra/lib/talosgen"
	"github.com/wdiazux/infra/lib/talosnode"
)

var homelab = filepath.Join("..", "..", inventory.DefaultFile)

// power posts a power action for a VM to the simulator, as the web UI does.
func power(t *testing.T, h *clustersim.Harness, vmid int, action string) {
	t.Helper()
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(h.Sim.CACertPEM()))
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, fmt.Sprintf("%s/nodes/%s/qemu/%d/status/%s", h.Sim.URL(), h.Inv.Proxmox.Node, vmid, action), nil)
	require.NoError(t, err)
	id, secret := h.Sim.Token()
	req.Header.Set("Authorization", "PVEAPIToken="+id+"="+secret)
	resp, err := client.Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusOK, resp.StatusCode)
	h.Sim.WaitTasks()
}

// await asks the node until its answer is want (a state, or an error when
// want is 0); a node boots in clustersim.GuestBoot, so a minute is plenty.
func await(t *testing.T, c *talosnode.Cluster, node string, want talosnode.NodeState) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		state, err := c.Probe(t.Context(), node)
		if (want == 0 && err != nil) || (want != 0 && err == nil && state == want) {
			return
		}
		require.True(t, time.Now().Before(deadline), "%s: got %v, %v; want %v", node, state, err, want)
		time.Sleep(20 * time.Millisecond)
	}
}

// clone makes the node's VM from the template with its address on the
// cloud-init drive, stopped.
func clone(t *testing.T, h *clustersim.Harness, n inventory.TalosNode, ip string) {
	t.Helper()
	ctx := t.Context()
	require.NoError(t, h.Client.CloneVM(ctx, h.Inv.Proxmox.Node, h.Inv.Talos.TemplateID, n.VMID, proxmox.CloneOptions{Name: n.Name, Full: true}, nil))
	require.NoError(t, h.Client.UpdateVMConfig(ctx, h.Inv.Proxmox.Node, n.VMID, proxmox.Params{
		"ide2": h.Inv.Proxmox.Storage.Disks + ":cloudinit", "ipconfig0": "ip=" + ip + "/24,gw=" + h.Inv.Network.Gateway.String(),
	}, ""))
}

// withTemplate is a harness whose host holds the Talos template.
func withTemplate(t *testing.T) *clustersim.Harness {
	t.Helper()
	h := clustersim.New(t, homelab)
	deps := h.Deps(t)
	_, err := images.ImportTalos(t.Context(), h.Inv, h.Client, deps.Factory, deps.Lock, images.TalosImportOptions{})
	require.NoError(t, err)
	return h
}

// TestCoupling: the Talos node answers only while a VM runs, booted, whose
// cloud-init image gives it the node's address; it keeps its config over a
// stop and start, and is fresh again once its VM was destroyed and
// recreated.
func TestCoupling(t *testing.T) {
	h := withTemplate(t)
	ctx := t.Context()
	_, err := talosgen.SyncConfigs(ctx, h.Inv, talosgen.SyncOptions{Root: h.Root, Secrets: []secrets.Option{secrets.WithIdentities(h.Identity)}})
	require.NoError(t, err)
	c := talosnode.New(h.Inv, filepath.Join(h.Root, talosgen.DefaultOutDir), talosnode.WithEndpointOverrides(h.Endpoints()))
	n := h.Inv.Talos.Nodes[0]

	clone(t, h, n, "10.10.2.99")
	power(t, h, n.VMID, "start")
	for {
		if g, _ := h.Sim.Guest(n.VMID); g.Booted {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(10 * clustersim.GuestBoot / 3) // several of the harness's looks
	_, err = c.Probe(ctx, n.Name)
	require.Error(t, err, "a VM at another address is not the node")
	power(t, h, n.VMID, "stop")
	require.NoError(t, h.Client.UpdateVMConfig(ctx, h.Inv.Proxmox.Node, n.VMID, proxmox.Params{"ipconfig0": "ip=" + n.IP.String() + "/24,gw=" + h.Inv.Network.Gateway.String()}, ""))

	power(t, h, n.VMID, "start")
	await(t, c, n.Name, talosnode.Maintenance)
	_, err = c.Apply(ctx, talosnode.ApplyOptions{})
	require.NoError(t, err)
	await(t, c, n.Name, talosnode.Configured)

	power(t, h, n.VMID, "stop")
	await(t, c, n.Name, 0)
	power(t, h, n.VMID, "start")
	await(t, c, n.Name, talosnode.Configured) // Talos is installed on the VM's disk

	power(t, h, n.VMID, "stop")
	deleted, err := h.Client.DeleteVM(ctx, h.Inv.Proxmox.Node, n.VMID, true)
	require.NoError(t, err)
	require.True(t, deleted)
	await(t, c, n.Name, 0)
	clone(t, h, n, n.IP.String())
	power(t, h, n.VMID, "start")
	await(t, c, n.Name, talosnode.Maintenance)
}

// TestTerraformVMs: lib/terraform's step of the repository's talos stack
// makes the node VM once (initialising the stack first), then plans no
// change.
func TestTerraformVMs(t *testing.T) {
	h := withTemplate(t)
	ctx := context.Background()
	changed, summary, err := h.VMs.Apply(ctx)
	require.NoError(t, err)
	require.True(t, changed)
	require.Equal(t, "1 VM(s) created, 0 updated, 0 replaced, 0 destroyed (terraform)", summary)
	cfg, err := h.Client.VMConfig(ctx, h.Inv.Proxmox.Node, h.Inv.Talos.Nodes[0].VMID)
	require.NoError(t, err)
	require.Contains(t, cfg.Values["ipconfig0"], "ip=10.10.2.10/24")
	changed, summary, err = h.VMs.Apply(ctx)
	require.NoError(t, err)
	require.False(t, changed, summary)
	require.Equal(t, "nothing to do", summary)
	_, err = os.Stat(filepath.Join(h.Root, talosgen.DefaultBundleFile))
	require.NoError(t, err, "the harness keeps the secrets bundle next to the inventory")
}

// TestKube: with WithKube, cluster.Up's kubeconfig step writes a
// kubeconfig that reaches the harness's real API server as admin (its
// client certificate, signed by the bundle's Kubernetes CA, is in
// system:masters): it lists and creates namespaces. The add-ons step runs
// after health against it and installs every add-on (the Cilium operator
// becoming ready brings the Cilium LB CRDs, as its start-up does), and a
// second run changes nothing.
func TestKube(t *testing.T) {
	h := clustersim.New(t, homelab, clustersim.WithKube())
	ctx := t.Context()
	rep, err := cluster.Up(ctx, h.Inv, h.Root, h.Deps(t), h.Options()...)
	require.NoError(t, err)
	last := rep.Steps[len(rep.Steps)-1]
	require.Equal(t, cluster.StepAddons, last.Step)
	require.True(t, last.Changed)
	require.Regexp(t, `^\d+ installed, created monitoring/grafana-admin, flux-system/flux-webhook-token$`, last.Detail, "every add-on installed through the kubeconfig the kubeconfig step wrote")

	file := filepath.Join(h.Root, talosgen.DefaultOutDir, talosnode.KubeconfigFile)
	cfg, err := clientcmd.BuildConfigFromFlags("", file)
	require.NoError(t, err)
	require.Equal(t, h.Kube.Config().Host, cfg.Host, "the kubeconfig names the harness's API server")
	require.Empty(t, cfg.BearerToken, "it authenticates with the client certificate Talos signs, not the test server's token")
	cs, err := kubernetes.NewForConfig(cfg)
	require.NoError(t, err)
	review, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	require.NoError(t, err)
	require.Equal(t, "admin", review.Status.UserInfo.Username)
	require.Contains(t, review.Status.UserInfo.Groups, "system:masters")
	nss, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	var names []string
	for _, ns := range nss.Items {
		names = append(names, ns.Name)
	}
	require.Contains(t, names, "kube-system")
	_, err = cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "made-with-the-kubeconfig"}}, metav1.CreateOptions{})
	require.NoError(t, err)

	rep, err = cluster.Up(ctx, h.Inv, h.Root, h.Deps(t), h.Options()...)
	require.NoError(t, err)
	for _, s := range rep.Steps {
		require.False(t, s.Changed, "%s changed on a healthy cluster: %s", s.Step, s.Detail)
	}
	require.Equal(t, "talos/generated/kubeconfig is the cluster's, nothing to do", stepsOf(rep)[cluster.StepKubeconfig].Detail)
	require.Regexp(t, `^nothing to do: \d+ release\(s\) deployed and unchanged$`, stepsOf(rep)[cluster.StepAddons].Detail)

	crds, err := apiextensions.NewForConfig(cfg)
	require.NoError(t, err)
	for _, name := range []string{"ciliumloadbalancerippools.cilium.io", "ciliuml2announcementpolicies.cilium.io"} {
		_, err := crds.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, name, metav1.GetOptions{})
		require.NoError(t, err, "the Cilium operator's start-up (the controllers' stand-in) created %s", name)
	}
	require.NoError(t, h.Controllers.Err())
}

// stepsOf maps each step to its result.
func stepsOf(rep *cluster.Report) map[cluster.Step]cluster.StepResult {
	out := map[cluster.Step]cluster.StepResult{}
	for _, s := range rep.Steps {
		out[s.Step] = s
	}
	return out
}
