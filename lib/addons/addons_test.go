package addons_test

import (
	"errors"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/wdiazux/infra/lib/addons"
	"github.com/wdiazux/infra/lib/helmdeploy"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/talosgen"
)

// manifestObjects parses a manifest release's documents, keyed "Kind/name".
func manifestObjects(t *testing.T, r helmdeploy.Release) rendered {
	t.Helper()
	require.Nil(t, r.Chart, r.Name)
	require.NotEmpty(t, r.Manifests, r.Name)
	return parseObjects(t, string(r.Manifests))
}

func TestKeyFacts(t *testing.T) {
	rels := byName(releases(t, loadHomelab(t)))

	cilium := rels["cilium"].Values
	require.Equal(t, true, cilium["kubeProxyReplacement"])
	require.Equal(t, "localhost", cilium["k8sServiceHost"])
	require.EqualValues(t, 7445, cilium["k8sServicePort"])
	require.Equal(t, "LoadBalancer", get(cilium, "hubble", "ui", "service", "type"))
	require.Equal(t, "10.10.2.11", get(cilium, "hubble", "ui", "service", "annotations", addons.LBIPAnnotation))

	pools := manifestObjects(t, rels["cilium-config"])
	require.Equal(t, []any{map[string]any{"start": "10.10.2.240", "stop": "10.10.2.254"}},
		get(pools.must(t, "CiliumLoadBalancerIPPool/load-balancer"), "spec", "blocks"))
	svcPool := pools.must(t, "CiliumLoadBalancerIPPool/services")
	require.Equal(t, []any{map[string]any{"start": "10.10.2.11", "stop": "10.10.2.20"}}, get(svcPool, "spec", "blocks"))
	require.Equal(t, "cilium.io/v2", svcPool["apiVersion"])
	require.Equal(t, "cilium.io/v2alpha1", pools.must(t, "CiliumL2AnnouncementPolicy/lan")["apiVersion"])
	// Every fixed address of services: is in a pool, and only the Services
	// asking for one may take it.
	for _, s := range loadHomelab(t).Services {
		require.True(t, loadHomelab(t).Network.Ranges.Services.Contains(s.IP), s.Name)
	}
	selector := get(svcPool, "spec", "serviceSelector", "matchExpressions").([]any)[0]
	require.Equal(t, "io.kubernetes.service.name", get(selector, "key"))
	require.Equal(t, []any{"forgejo-http", "forgejo-ssh", "hubble-ui", "longhorn-frontend", "webhook-receiver-lb"}, get(selector, "values"))

	longhorn := rels["longhorn"]
	require.Equal(t, "10.10.2.12", get(longhorn.Values, "service", "ui", "annotations", addons.LBIPAnnotation))
	require.Equal(t, "nfs://10.10.2.5:/mnt/tank/longhorn-backups", get(longhorn.Values, "defaultBackupStore", "backupTarget"))
	require.Equal(t, addons.LonghornDataPath, get(longhorn.Values, "defaultSettings", "defaultDataPath"))
	require.Equal(t, "privileged", longhorn.NamespaceLabels["pod-security.kubernetes.io/enforce"])
	require.Equal(t, "privileged", rels["kube-prometheus-stack"].NamespaceLabels["pod-security.kubernetes.io/enforce"])

	sc := manifestObjects(t, rels["csi-driver-nfs-config"]).must(t, "StorageClass/nfs-csi")
	require.Equal(t, "10.10.2.5", get(sc, "parameters", "server"))
	require.Equal(t, "/mnt/tank/kubernetes", get(sc, "parameters", "share"))

	require.Equal(t, "nvidia", rels["nvidia-device-plugin"].Values["runtimeClassName"])
	rc := manifestObjects(t, rels["nvidia-config"]).must(t, "RuntimeClass/nvidia")
	require.Equal(t, "nvidia", rc["handler"])

	kps := rels["kube-prometheus-stack"].Values
	for _, k := range []string{"kubeEtcd", "kubeControllerManager", "kubeScheduler"} {
		require.Equal(t, []any{"10.10.2.10"}, get(kps, k, "endpoints"), k)
	}
	require.Equal(t, false, get(kps, "kubeProxy", "enabled"))

	loki := rels["loki"].Values
	require.Equal(t, "SingleBinary", loki["deploymentMode"])
	for _, k := range []string{"read", "write", "backend"} {
		require.EqualValues(t, 0, get(loki, k, "replicas"), k)
	}
	require.Equal(t, false, get(loki, "minio", "enabled"))

	flux := manifestObjects(t, rels["flux2-config"])
	ks := flux.must(t, "Kustomization/apps")
	require.Equal(t, map[string]any{"provider": "sops", "secretRef": map[string]any{"name": addons.SOPSSecretName}}, get(ks, "spec", "decryption"))
	require.Equal(t, "./kubernetes/apps", get(ks, "spec", "path"))
	require.Equal(t, "flux-system", get(ks, "metadata", "namespace"))
	repo := flux.must(t, "GitRepository/infra")
	require.Equal(t, "https://github.com/wdiazux/infra.git", get(repo, "spec", "url"))
	require.Equal(t, "main", get(repo, "spec", "ref", "branch"))
	flux.must(t, "Receiver/github")
	hook := flux.must(t, "Service/webhook-receiver-lb")
	require.Equal(t, "LoadBalancer", get(hook, "spec", "type"))
	require.Equal(t, "10.10.2.14", get(hook, "metadata", "annotations", addons.LBIPAnnotation))
}

// TestForgejoValues checks Forgejo's computed values against the keys of
// the forgejo-helm chart (its chart is not in the offline repository).
func TestForgejoValues(t *testing.T) {
	v := byName(releases(t, loadHomelab(t)))["forgejo"].Values
	for port, key := range map[float64]string{3000: "http", 22: "ssh"} {
		require.Equal(t, "LoadBalancer", get(v, "service", key, "type"), key)
		require.Equal(t, port, get(v, "service", key, "port"), key)
		require.Equal(t, "10.10.2.13", get(v, "service", key, "annotations", addons.LBIPAnnotation), key)
		require.Equal(t, "forgejo", get(v, "service", key, "annotations", addons.LBSharingKeyAnnotation), key)
	}
	require.Equal(t, true, get(v, "persistence", "enabled"))
	require.Equal(t, "longhorn", get(v, "persistence", "storageClass"))
	for _, db := range []string{"postgresql", "postgresql-ha", "redis", "redis-cluster"} {
		require.Equal(t, false, get(v, db, "enabled"), db)
	}
}

// TestLonghornDataPathIsTalosgensVolume: Longhorn's data path is where
// lib/talosgen mounts its user volume.
func TestLonghornDataPathIsTalosgensVolume(t *testing.T) {
	require.Equal(t, "/var/mnt/"+talosgen.LonghornVolume, addons.LonghornDataPath)
}

func TestReplicasScaleWithNodes(t *testing.T) {
	for nodes, want := range map[int]float64{1: 1, 2: 2, 3: 3, 5: 3} {
		rels := byName(releases(t, withNodes(loadHomelab(t), nodes)))
		lh := rels["longhorn"].Values
		require.Equal(t, want, get(lh, "defaultSettings", "defaultReplicaCount"), "%d nodes", nodes)
		require.Equal(t, want, get(lh, "persistence", "defaultClassReplicaCount"), "%d nodes", nodes)
		require.Equal(t, min(want, 2), get(rels["cilium"].Values, "operator", "replicas"), "%d nodes", nodes)
	}
}

func TestNvidiaOnlyWithAGPU(t *testing.T) {
	names := func(rels []helmdeploy.Release) []string {
		var out []string
		for _, r := range rels {
			out = append(out, r.Name)
		}
		return out
	}
	with := names(releases(t, loadHomelab(t)))
	require.Contains(t, with, "nvidia-device-plugin")
	require.Contains(t, with, "nvidia-config")
	without := names(releases(t, noGPU(loadHomelab(t))))
	require.NotContains(t, without, "nvidia-device-plugin")
	require.NotContains(t, without, "nvidia-config")
	require.Len(t, without, len(with)-2)
}

// TestOrder: every release comes after the releases it depends on, which
// are all in the set; the dependencies are the ones the add-ons need.
func TestOrder(t *testing.T) {
	rels := releases(t, loadHomelab(t))
	pos := map[string]int{}
	for i, r := range rels {
		for _, d := range r.DependsOn {
			p, ok := pos[d]
			require.True(t, ok, "%s depends on %s, which comes later or not at all", r.Name, d)
			require.Less(t, p, i)
		}
		pos[r.Name] = i
	}
	deps := map[string][]string{}
	for _, r := range rels {
		deps[r.Name] = r.DependsOn
	}
	require.Equal(t, map[string][]string{
		"cilium": nil, "cilium-config": {"cilium"},
		"longhorn":       {"cilium"},
		"csi-driver-nfs": {"cilium"}, "csi-driver-nfs-config": {"csi-driver-nfs"},
		"nvidia-config": {"cilium"}, "nvidia-device-plugin": {"cilium", "nvidia-config"},
		"kube-prometheus-stack": {"cilium", "longhorn"},
		"loki":                  {"cilium", "longhorn"}, "alloy": {"loki"},
		"flux2": {"cilium"}, "flux2-config": {"flux2"},
		"forgejo": {"cilium", "longhorn"},
	}, deps)
	var known []string
	for _, a := range addons.Addons() {
		known = append(known, a.Name)
	}
	require.ElementsMatch(t, inventory.KnownCharts(), known, "the add-ons are the charts the inventory accepts")
}

// TestOneServiceIPChangesOneRelease: changing one address of services:
// changes exactly the release of the add-on publishing on it.
func TestOneServiceIPChangesOneRelease(t *testing.T) {
	before := byName(releases(t, loadHomelab(t)))
	for entry, owner := range map[string]string{"hubble-ui": "cilium", "longhorn-ui": "longhorn", "forgejo": "forgejo", "flux-webhook": "flux2-config"} {
		t.Run(entry, func(t *testing.T) {
			inv := loadHomelab(t)
			i := slices.IndexFunc(inv.Services, func(s inventory.Service) bool { return s.Name == entry })
			inv.Services[i].IP = netip.MustParseAddr("10.10.2.19")
			after := byName(releases(t, inv))
			var changed []string
			for name, r := range after {
				if !reflect.DeepEqual(r, before[name]) {
					changed = append(changed, name)
				}
			}
			require.Equal(t, []string{owner}, changed)
			require.Contains(t, string(must(yaml.Marshal(after[owner].Values)))+string(after[owner].Manifests), "10.10.2.19")
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestRefused(t *testing.T) {
	cases := map[string]struct {
		change func(inv *inventory.Inventory)
		field  string
		want   string
	}{
		"service entry missing": {func(inv *inventory.Inventory) { inv.Services = inv.Services[1:] }, "services", `no entry named "hubble-ui"`},
		"service in another namespace": {func(inv *inventory.Inventory) { inv.Services[1].Namespace = "default" }, "services[1].namespace",
			`longhorn-ui is "default" but the add-on longhorn runs in "longhorn-system"`},
		"service ports": {func(inv *inventory.Inventory) { inv.Services[2].Ports = []int{80} }, "services[2].ports", "forgejo lists [80] but the add-on forgejo serves [3000 22]"},
		"service outside the services range": {func(inv *inventory.Inventory) { inv.Services[0].IP = netip.MustParseAddr("10.10.2.241") }, "services[0].ip",
			"10.10.2.241 is outside network.ranges.services"},
		"dependency missing": {func(inv *inventory.Inventory) { delete(inv.Kubernetes.Charts, "loki") }, "kubernetes.charts.loki", "the add-on alloy needs loki"},
		"unknown chart":      {func(inv *inventory.Inventory) { inv.Kubernetes.Charts["traefik"] = inventory.Chart{} }, "kubernetes.charts.traefik", `unknown add-on "traefik"`},
		"no NAS":             {func(inv *inventory.Inventory) { inv.Kubernetes.NFS = inventory.NFS{} }, "kubernetes.nfs", "the add-on longhorn needs it"},
		"no git source":      {func(inv *inventory.Inventory) { inv.Kubernetes.GitOps = inventory.GitOps{} }, "kubernetes.gitops", "the add-on flux2 needs it"},
		"NAS not a host":     {func(inv *inventory.Inventory) { inv.Kubernetes.NFS.Server = "nas2" }, "kubernetes.nfs.server", `no entry in hosts is named "nas2"`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			inv := loadHomelab(t)
			c.change(inv)
			_, err := addons.Releases(inv, repoRoot)
			var ie *addons.InventoryError
			require.True(t, errors.As(err, &ie), "want *InventoryError, got %v", err)
			require.Equal(t, c.field, ie.Field)
			require.Contains(t, err.Error(), c.want)
		})
	}
}

func TestMissingTreeNamesTheFile(t *testing.T) {
	_, err := addons.Releases(loadHomelab(t), t.TempDir())
	var fe *addons.FileError
	require.True(t, errors.As(err, &fe), "got %v", err)
	require.True(t, strings.HasSuffix(fe.Path, "kubernetes/cilium/values.yaml"), fe.Path)
}

func TestWithTimeout(t *testing.T) {
	rels, err := addons.Releases(loadHomelab(t), repoRoot, addons.WithTimeout(7*time.Minute))
	require.NoError(t, err)
	for _, r := range rels {
		require.Equal(t, 7*time.Minute, r.Timeout, r.Name)
	}
	for _, r := range releases(t, loadHomelab(t)) {
		require.Zero(t, r.Timeout, "%s: zero takes the deployer's default", r.Name)
	}
}
