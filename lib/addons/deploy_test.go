package addons_test

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/wdiazux/infra/internal/kubetest"
	"github.com/wdiazux/infra/lib/addons"
	"github.com/wdiazux/infra/lib/helmdeploy"
	"github.com/wdiazux/infra/lib/inventory"
)

// kube is the package's API server (kube-apiserver + etcd from the tool
// cache); only the tests that install add-ons start it.
var kube kubetest.Package

func TestMain(m *testing.M) { os.Exit(kube.Run(m)) }

// withoutForgejo is the repository's inventory without Forgejo, whose
// chart is not obtainable offline (shared/charts/README.md); its values
// are checked by TestForgejoValues against the chart's documented keys.
func withoutForgejo(t testing.TB) *inventory.Inventory {
	t.Helper()
	inv := loadHomelab(t)
	delete(inv.Kubernetes.Charts, addons.Forgejo)
	return inv
}

// deployOn is the Deploy of inv on the test API server, with the offline
// chart repository served over loopback as the mirror.
func deployOn(t testing.TB, srv *kubetest.Server, inv *inventory.Inventory, id *age.X25519Identity, opts ...addons.DeployOption) *addons.Deploy {
	t.Helper()
	deployer := []helmdeploy.Option{helmdeploy.WithCacheDir(t.TempDir()), helmdeploy.WithTimeout(2 * time.Minute)}
	if m := kubetest.ChartMirror(t); m != "" {
		deployer = append(deployer, helmdeploy.WithMirror(m))
	}
	return addons.NewDeploy(inv, repoRoot, srv.KubeconfigFile(), append([]addons.DeployOption{
		addons.WithDeployerOptions(deployer...), addons.WithSecretOptions(addons.WithAgeIdentities(id)),
	}, opts...)...)
}

// actions maps each release of a report to what was done with it.
func actions(rep *helmdeploy.Report) map[string]helmdeploy.Action {
	out := map[string]helmdeploy.Action{}
	for _, r := range rep.Releases {
		out[r.Name] = r.Action
	}
	return out
}

// TestDeployAgainstTheAPIServer installs every add-on of the repository's
// inventory (Forgejo aside) with the real charts into a real API server,
// in order, and checks what matters in the objects the server holds; a
// re-run makes no revision, a changed service address upgrades exactly
// one release, and the dry run shows exactly the objects that change.
func TestDeployAgainstTheAPIServer(t *testing.T) {
	srv := kube.Server(t)
	charts, _ := kubetest.ChartsDir(repoRoot)
	ctrl := srv.Controllers(t, kubetest.CiliumOperatorCRDs(srv.Config(), charts))
	ctx := t.Context()
	id, err := age.GenerateX25519Identity()
	require.NoError(t, err)
	inv := withoutForgejo(t)
	want, err := addons.Releases(inv, repoRoot)
	require.NoError(t, err)

	res, err := deployOn(t, srv, inv, id).Run(ctx)
	require.NoError(t, err)
	require.NoError(t, ctrl.Err())
	var order []string
	for _, r := range res.Report.Releases {
		require.Equal(t, helmdeploy.ActionInstalled, r.Action, r.Name)
		require.Equal(t, 1, r.Revision, r.Name)
		order = append(order, r.Name)
	}
	var wantOrder []string
	for _, r := range want {
		wantOrder = append(wantOrder, r.Name)
	}
	require.Equal(t, wantOrder, order, "every add-on, in dependency order")
	require.Equal(t, []string{"monitoring/grafana-admin", "flux-system/flux-webhook-token"}, res.Created)

	cs, err := kubernetes.NewForConfig(srv.Config())
	require.NoError(t, err)
	dyn, err := dynamic.NewForConfig(srv.Config())
	require.NoError(t, err)

	// Cilium: kube-proxy replacement, the API server through KubePrism.
	cm, err := cs.CoreV1().ConfigMaps("kube-system").Get(ctx, "cilium-config", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, "true", cm.Data["kube-proxy-replacement"])
	require.Equal(t, "true", cm.Data["enable-l2-announcements"])
	agent, err := cs.AppsV1().DaemonSets("kube-system").Get(ctx, "cilium", metav1.GetOptions{})
	require.NoError(t, err)
	env := map[string]string{}
	for _, e := range agent.Spec.Template.Spec.Containers[0].Env {
		env[e.Name] = e.Value
	}
	require.Equal(t, "localhost", env["KUBERNETES_SERVICE_HOST"])
	require.Equal(t, "7445", env["KUBERNETES_SERVICE_PORT"])

	// The LB pool over network.ranges.load_balancer, validated by its CRD.
	pool, err := dyn.Resource(schema.GroupVersionResource{Group: "cilium.io", Version: "v2", Resource: "ciliumloadbalancerippools"}).
		Get(ctx, "load-balancer", metav1.GetOptions{})
	require.NoError(t, err)
	blocks, _, err := unstructured.NestedSlice(pool.Object, "spec", "blocks")
	require.NoError(t, err)
	require.Equal(t, []any{map[string]any{"start": "10.10.2.240", "stop": "10.10.2.254"}}, blocks)
	_, err = dyn.Resource(schema.GroupVersionResource{Group: "cilium.io", Version: "v2alpha1", Resource: "ciliuml2announcementpolicies"}).
		Get(ctx, "lan", metav1.GetOptions{})
	require.NoError(t, err)

	// Each published service asks for its inventory address and gets it.
	for _, s := range []struct{ ns, name, ip string }{
		{"kube-system", "hubble-ui", "10.10.2.11"},
		{"longhorn-system", "longhorn-frontend", "10.10.2.12"},
		{"flux-system", "webhook-receiver-lb", "10.10.2.14"},
	} {
		svc, err := cs.CoreV1().Services(s.ns).Get(ctx, s.name, metav1.GetOptions{})
		require.NoError(t, err, s.name)
		require.Equal(t, "LoadBalancer", string(svc.Spec.Type), s.name)
		require.Equal(t, s.ip, svc.Annotations[addons.LBIPAnnotation], s.name)
		require.NotEmpty(t, svc.Status.LoadBalancer.Ingress, s.name)
		require.Equal(t, s.ip, svc.Status.LoadBalancer.Ingress[0].IP, s.name)
	}

	// Longhorn: one replica on one node, data on the Talos user volume,
	// backups on the NAS, its namespace privileged.
	ls, err := cs.CoreV1().ConfigMaps("longhorn-system").Get(ctx, "longhorn-default-setting", metav1.GetOptions{})
	require.NoError(t, err)
	require.Contains(t, ls.Data["default-setting.yaml"], `default-replica-count: "1"`)
	require.Contains(t, ls.Data["default-setting.yaml"], `default-data-path: "`+addons.LonghornDataPath+`"`)
	sc, err := cs.CoreV1().ConfigMaps("longhorn-system").Get(ctx, "longhorn-storageclass", metav1.GetOptions{})
	require.NoError(t, err)
	require.Contains(t, sc.Data["storageclass.yaml"], `numberOfReplicas: "1"`)
	ns, err := cs.CoreV1().Namespaces().Get(ctx, "longhorn-system", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, "privileged", ns.Labels["pod-security.kubernetes.io/enforce"])

	// The NFS StorageClass names the NAS.
	nfs, err := cs.StorageV1().StorageClasses().Get(ctx, "nfs-csi", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, "10.10.2.5", nfs.Parameters["server"])

	// The GPU is enabled in homelab.yaml: the RuntimeClass and the device
	// plugin using it exist.
	rc, err := cs.NodeV1().RuntimeClasses().Get(ctx, "nvidia", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, "nvidia", rc.Handler)
	plugins, err := cs.AppsV1().DaemonSets(inv.Kubernetes.Charts[addons.NvidiaDevicePlugin].Namespace).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	require.NotEmpty(t, plugins.Items)
	for _, ds := range plugins.Items {
		require.Equal(t, "nvidia", *ds.Spec.Template.Spec.RuntimeClassName, ds.Name)
	}

	// Flux decrypts kubernetes/apps with sops-age, which holds the key.
	kus, err := dyn.Resource(schema.GroupVersionResource{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Resource: "kustomizations"}).
		Namespace("flux-system").Get(ctx, "apps", metav1.GetOptions{})
	require.NoError(t, err)
	provider, _, err := unstructured.NestedString(kus.Object, "spec", "decryption", "provider")
	require.NoError(t, err)
	require.Equal(t, "sops", provider)
	ref, _, err := unstructured.NestedString(kus.Object, "spec", "decryption", "secretRef", "name")
	require.NoError(t, err)
	require.Equal(t, addons.SOPSSecretName, ref)
	key, err := cs.CoreV1().Secrets("flux-system").Get(ctx, addons.SOPSSecretName, metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, id.String(), strings.TrimSpace(string(key.Data[addons.SOPSAgeKey])))

	// kube-prometheus-stack scrapes etcd on the control plane's metrics port.
	etcd, err := cs.CoreV1().Endpoints("kube-system").List(ctx, metav1.ListOptions{LabelSelector: "app=kube-prometheus-stack-kube-etcd"})
	require.NoError(t, err)
	require.NotEmpty(t, etcd.Items)
	require.Equal(t, "10.10.2.10", etcd.Items[0].Subsets[0].Addresses[0].IP)
	require.Equal(t, int32(2381), etcd.Items[0].Subsets[0].Ports[0].Port)

	// A re-run: nothing to do, no new revision.
	res, err = deployOn(t, srv, inv, id).Run(ctx)
	require.NoError(t, err)
	for name, a := range actions(res.Report) {
		require.Equal(t, helmdeploy.ActionUnchanged, a, name)
	}
	require.False(t, res.Changed())
	require.Regexp(t, `^nothing to do: \d+ release\(s\) deployed and unchanged$`, res.Summary())
	dry, err := deployOn(t, srv, inv, id).DryRun(ctx)
	require.NoError(t, err)
	for _, d := range dry.Diffs {
		t.Logf("%s:\n%s", d, d.Diff)
	}
	require.Empty(t, dry.Diffs, "the dry run on the installed cluster shows no diff")

	// One inventory value changes: the Hubble UI's address.
	i := -1
	for j, s := range inv.Services {
		if s.Name == "hubble-ui" {
			i = j
		}
	}
	require.GreaterOrEqual(t, i, 0)
	inv.Services[i].IP = netip.MustParseAddr("10.10.2.15")
	dry, err = deployOn(t, srv, inv, id).DryRun(ctx)
	require.NoError(t, err)
	var changed []string
	for _, d := range dry.Diffs {
		changed = append(changed, d.String())
	}
	require.Equal(t, []string{"changed v1 Service kube-system/hubble-ui"}, changed)
	require.Contains(t, dry.Diffs[0].Diff, "10.10.2.15")
	res, err = deployOn(t, srv, inv, id).Run(ctx)
	require.NoError(t, err)
	for name, a := range actions(res.Report) {
		if name == addons.Cilium {
			require.Equal(t, helmdeploy.ActionUpgraded, a)
			continue
		}
		require.Equal(t, helmdeploy.ActionUnchanged, a, name)
	}
	svc, err := cs.CoreV1().Services("kube-system").Get(ctx, "hubble-ui", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, "10.10.2.15", svc.Annotations[addons.LBIPAnnotation])

	// -only: one add-on (and its config release), its dependencies deployed.
	res, err = deployOn(t, srv, inv, id, addons.WithOnly(addons.CSIDriverNFS)).Run(ctx)
	require.NoError(t, err)
	require.Equal(t, map[string]helmdeploy.Action{addons.CSIDriverNFS: helmdeploy.ActionUnchanged, addons.CSIDriverNFSConfig: helmdeploy.ActionUnchanged}, actions(res.Report))

	rels, lbs, err := deployOn(t, srv, inv, id).Status(ctx)
	require.NoError(t, err)
	require.Len(t, rels, len(want))
	require.NotEmpty(t, lbs)
}

// TestDeployRefusesBeforeChanging: an unknown -only name, and a cluster
// that does not answer, fail before anything is created (no Secret).
func TestDeployRefusesBeforeChanging(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	require.NoError(t, err)
	inv := withoutForgejo(t)

	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["c"] = &clientcmdapi.Cluster{Server: "https://127.0.0.1:1", InsecureSkipTLSVerify: true}
	cfg.AuthInfos["u"] = &clientcmdapi.AuthInfo{Token: "t"} // secrets:allow: a made-up token for a closed port
	cfg.Contexts["c"] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "u"}
	cfg.CurrentContext = "c"
	file := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, clientcmd.WriteToFile(*cfg, file))

	charts := requireCharts(t)
	deployer := addons.WithDeployerOptions(helmdeploy.WithCacheDir(t.TempDir()), helmdeploy.WithReachTimeout(2*time.Second), helmdeploy.WithMirror(charts))
	_, err = addons.NewDeploy(inv, repoRoot, file, deployer, addons.WithOnly("grafana")).Run(context.Background())
	var unknown *addons.UnknownAddonError
	require.ErrorAs(t, err, &unknown)
	require.Contains(t, unknown.Known, addons.Cilium)

	_, err = addons.NewDeploy(inv, repoRoot, file, deployer, addons.WithSecretOptions(addons.WithAgeIdentities(id))).Run(context.Background())
	var unreachable *helmdeploy.UnreachableError
	require.ErrorAs(t, err, &unreachable)
	require.ErrorContains(t, err, "127.0.0.1:1")
}
