package addons_test

import (
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	kubefake "helm.sh/helm/v4/pkg/kube/fake"
	rel "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage"
	"helm.sh/helm/v4/pkg/storage/driver"
	k8syaml "sigs.k8s.io/yaml"

	"github.com/wdiazux/infra/internal/kubetest"
	"github.com/wdiazux/infra/internal/testtool"
	"github.com/wdiazux/infra/lib/helmdeploy"
)

// requireCharts returns the offline chart repository (the real upstream
// charts at the versions homelab.yaml pins): shared/charts in a folder above
// the checkout (../shared/charts of the main checkout, ../../shared/charts of
// a worktree). Without it the test fails under CI=true and is skipped, saying
// so, elsewhere.
func requireCharts(t testing.TB) string {
	t.Helper()
	charts, ok := kubetest.ChartsDir(repoRoot)
	switch {
	case ok:
		return charts
	case testtool.InCI():
		t.Fatalf("no shared/charts above %s (nor $%s): CI must provide the offline chart repository", repoRoot, kubetest.EnvCharts)
	}
	t.Skipf("no shared/charts above %s (nor $%s): the real charts are not rendered here", repoRoot, kubetest.EnvCharts)
	return ""
}

// object is one rendered Kubernetes object.
type object = map[string]any

// rendered is a release's objects by "Kind/name".
type rendered map[string]object

// renderRelease renders a chart release client-side with the Helm SDK
// (install, client-only dry run), as the chart's values schema, its
// templates and the cluster's Kubernetes version allow.
func renderRelease(t testing.TB, r helmdeploy.Release) rendered {
	t.Helper()
	dir := requireCharts(t)
	ch, err := loader.Load(filepath.Join(dir, r.Chart.Name+"-"+strings.TrimPrefix(r.Chart.Version, "v")+".tgz"))
	require.NoError(t, err)
	manifest, err := render(ch, r)
	require.NoError(t, err, "release %s", r.Name)
	return parseObjects(t, manifest)
}

// render is a client-only dry-run install of r with chart ch.
func render(ch *chart.Chart, r helmdeploy.Release) (string, error) {
	cfg := &action.Configuration{
		Releases:     storage.Init(driver.NewMemory()),
		KubeClient:   &kubefake.PrintingKubeClient{Out: io.Discard},
		Capabilities: common.DefaultCapabilities,
	}
	in := action.NewInstall(cfg)
	in.DryRunStrategy = action.DryRunClient
	in.ReleaseName, in.Namespace = r.Name, r.Namespace
	kv, err := common.ParseKubeVersion("v1.35.4")
	if err != nil {
		return "", err
	}
	in.KubeVersion = kv
	in.IncludeCRDs = true
	out, err := in.Run(ch, r.Values)
	if err != nil {
		return "", err
	}
	res, ok := out.(*rel.Release)
	if !ok {
		return "", errors.New("install returned no *release.Release")
	}
	var b strings.Builder
	b.WriteString(res.Manifest)
	for _, h := range res.Hooks {
		b.WriteString("\n---\n" + h.Manifest)
	}
	return b.String(), nil
}

// parseObjects splits YAML documents into objects keyed by "Kind/name".
func parseObjects(t testing.TB, manifest string) rendered {
	t.Helper()
	out := rendered{}
	for _, doc := range strings.Split(manifest, "\n---") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var o object
		require.NoError(t, k8syaml.Unmarshal([]byte(doc), &o))
		if o == nil {
			continue
		}
		md, _ := o["metadata"].(map[string]any)
		out[o["kind"].(string)+"/"+md["name"].(string)] = o
	}
	return out
}

// get walks fields of o, e.g. get(o, "spec", "type").
func get(o any, path ...string) any {
	for _, p := range path {
		m, ok := o.(map[string]any)
		if !ok {
			return nil
		}
		o = m[p]
	}
	return o
}

func (r rendered) must(t testing.TB, key string) object {
	t.Helper()
	o, ok := r[key]
	require.True(t, ok, "no %s among the rendered objects", key)
	return o
}

// TestChartsRenderTheComputedValues renders each real chart with its
// computed values and checks what matters in the objects.
func TestChartsRenderTheComputedValues(t *testing.T) {
	requireCharts(t)
	rels := byName(releases(t, loadHomelab(t)))
	lbIP := func(t *testing.T, o object, ip string) {
		t.Helper()
		require.Equal(t, "LoadBalancer", get(o, "spec", "type"))
		require.Equal(t, ip, get(o, "metadata", "annotations", "lbipam.cilium.io/ips"))
	}
	checks := map[string]func(t *testing.T, objs rendered){
		"cilium": func(t *testing.T, objs rendered) {
			cm := objs.must(t, "ConfigMap/cilium-config")
			require.Equal(t, "true", get(cm, "data", "kube-proxy-replacement"))
			// Cilium 1.19 passes the API server address as the agent's and
			// operator's environment, not in cilium-config.
			for _, key := range []string{"DaemonSet/cilium", "Deployment/cilium-operator"} {
				env := map[string]any{}
				for _, c := range get(objs.must(t, key), "spec", "template", "spec", "containers").([]any) {
					for _, e := range get(c, "env").([]any) {
						env[get(e, "name").(string)] = get(e, "value")
					}
				}
				require.Equal(t, "localhost", env["KUBERNETES_SERVICE_HOST"], key)
				require.Equal(t, "7445", env["KUBERNETES_SERVICE_PORT"], key)
			}
			require.Equal(t, "true", get(cm, "data", "enable-l2-announcements"))
			require.Equal(t, "kubernetes", get(cm, "data", "ipam"))
			require.Equal(t, "homelab", get(cm, "data", "cluster-name"))
			lbIP(t, objs.must(t, "Service/hubble-ui"), "10.10.2.11")
			require.EqualValues(t, 1, get(objs.must(t, "Deployment/cilium-operator"), "spec", "replicas"))
			objs.must(t, "Deployment/hubble-relay")
		},
		"longhorn": func(t *testing.T, objs rendered) {
			settings := get(objs.must(t, "ConfigMap/longhorn-default-setting"), "data", "default-setting.yaml").(string)
			require.Contains(t, settings, `default-replica-count: "1"`)
			require.Contains(t, settings, `default-data-path: "/var/mnt/longhorn"`)
			resource := get(objs.must(t, "ConfigMap/longhorn-default-resource"), "data", "default-resource.yaml").(string)
			require.Contains(t, resource, "backup-target: nfs://10.10.2.5:/mnt/tank/longhorn-backups")
			sc := get(objs.must(t, "ConfigMap/longhorn-storageclass"), "data", "storageclass.yaml").(string)
			require.Contains(t, sc, `numberOfReplicas: "1"`)
			lbIP(t, objs.must(t, "Service/longhorn-frontend"), "10.10.2.12")
		},
		"csi-driver-nfs": func(t *testing.T, objs rendered) {
			objs.must(t, "DaemonSet/csi-nfs-node")
			objs.must(t, "Deployment/csi-nfs-controller")
			for k := range objs {
				require.False(t, strings.HasPrefix(k, "StorageClass/"), "the chart must not make %s: the StorageClass is csi-driver-nfs-config's", k)
			}
		},
		"nvidia-device-plugin": func(t *testing.T, objs rendered) {
			ds := objs.must(t, "DaemonSet/nvidia-device-plugin")
			require.Equal(t, "nvidia", get(ds, "spec", "template", "spec", "runtimeClassName"))
			terms := get(ds, "spec", "template", "spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms").([]any)
			require.Equal(t, []any{"talos-cp-01"}, get(terms[0], "matchExpressions").([]any)[0].(map[string]any)["values"])
		},
		"kube-prometheus-stack": func(t *testing.T, objs rendered) {
			for _, ep := range []string{"kube-prometheus-stack-kube-etcd", "kube-prometheus-stack-kube-controller-manager", "kube-prometheus-stack-kube-scheduler"} {
				o := objs.must(t, "Endpoints/"+ep)
				require.Equal(t, "10.10.2.10", get(get(o, "subsets").([]any)[0], "addresses").([]any)[0].(map[string]any)["ip"], ep)
			}
			require.EqualValues(t, 2381, get(get(objs.must(t, "Endpoints/kube-prometheus-stack-kube-etcd"), "subsets").([]any)[0], "ports").([]any)[0].(map[string]any)["port"])
			for k := range objs {
				require.NotContains(t, k, "kube-proxy", "kubeProxy is disabled")
			}
			prom := objs.must(t, "Prometheus/kube-prometheus-stack-prometheus")
			require.Equal(t, "longhorn", get(prom, "spec", "storage", "volumeClaimTemplate", "spec", "storageClassName"))
			require.Equal(t, "longhorn", get(objs.must(t, "PersistentVolumeClaim/kube-prometheus-stack-grafana"), "spec", "storageClassName"))
		},
		"loki": func(t *testing.T, objs rendered) {
			sts := objs.must(t, "StatefulSet/loki")
			require.EqualValues(t, 1, get(sts, "spec", "replicas"))
			require.Equal(t, "longhorn", get(get(sts, "spec", "volumeClaimTemplates").([]any)[0], "spec", "storageClassName"))
			for k := range objs {
				require.False(t, strings.Contains(k, "minio") || strings.HasPrefix(k, "StatefulSet/loki-write") || strings.HasPrefix(k, "StatefulSet/loki-backend"), "single binary only: %s", k)
			}
		},
		"alloy": func(t *testing.T, objs rendered) {
			cfg := get(objs.must(t, "ConfigMap/alloy"), "data", "config.alloy").(string)
			require.Contains(t, cfg, "http://loki.monitoring.svc.cluster.local:3100/loki/api/v1/push")
			objs.must(t, "DaemonSet/alloy")
		},
		"flux2": func(t *testing.T, objs rendered) {
			for _, d := range []string{"source-controller", "kustomize-controller", "helm-controller", "notification-controller"} {
				objs.must(t, "Deployment/"+d)
			}
			objs.must(t, "CustomResourceDefinition/gitrepositories.source.toolkit.fluxcd.io")
			objs.must(t, "CustomResourceDefinition/kustomizations.kustomize.toolkit.fluxcd.io")
			objs.must(t, "CustomResourceDefinition/receivers.notification.toolkit.fluxcd.io")
		},
	}
	for name, check := range checks {
		t.Run(name, func(t *testing.T) {
			r, ok := rels[name]
			require.True(t, ok, "no release %s", name)
			check(t, renderRelease(t, r))
		})
	}
	// Every chart release but Forgejo's (its chart is not in the offline
	// repository; TestForgejoValues checks its values) is rendered above.
	for name, r := range rels {
		if r.Chart != nil && name != "forgejo" {
			require.Contains(t, checks, name)
		}
	}
}

// TestChartSchemaRejectsABadValue proves the render goes through the chart's
// values schema: a wrong type is refused before anything is rendered.
func TestChartSchemaRejectsABadValue(t *testing.T) {
	dir := requireCharts(t)
	r := byName(releases(t, loadHomelab(t)))["cilium"]
	r.Values["ipam"] = map[string]any{"mode": 5}
	ch, err := loader.Load(filepath.Join(dir, "cilium-1.19.5.tgz"))
	require.NoError(t, err)
	_, err = render(ch, r)
	require.ErrorContains(t, err, "/ipam/mode")
}

func byName(rels []helmdeploy.Release) map[string]helmdeploy.Release {
	out := map[string]helmdeploy.Release{}
	for _, r := range rels {
		out[r.Name] = r
	}
	return out
}
