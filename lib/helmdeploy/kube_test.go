package helmdeploy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/wdiazux/infra/internal/kubetest"
)

var apiServer kubetest.Package

func TestMain(m *testing.M) { os.Exit(apiServer.Run(m)) }

func realDeployer(t testing.TB, cfg *rest.Config, opts ...Option) *Deployer {
	t.Helper()
	base := []Option{WithCacheDir(t.TempDir()), WithTimeout(time.Minute)}
	if m := kubetest.ChartMirror(t); m != "" {
		base = append(base, WithMirror(m))
	}
	d, err := New(cfg, append(base, opts...)...)
	require.NoError(t, err)
	return d
}

func csiNFS(ns string, values map[string]any) Release {
	return Release{Name: "csi-driver-nfs", Namespace: ns, Values: values,
		Chart: &ChartRef{Repository: "https://raw.githubusercontent.com/kubernetes-csi/csi-driver-nfs/master/charts", Name: "csi-driver-nfs", Version: "4.12.1"}}
}

func revisionCount(t *testing.T, d *Deployer, ns, name string) int {
	t.Helper()
	cfg, err := d.actionConfig(ns, name)
	require.NoError(t, err)
	hist, err := cfg.Releases.History(name)
	require.NoError(t, err)
	return len(hist)
}

// TestRealServer walks one release of a real chart through install,
// re-run, dry run, upgrade and a failed upgrade against a real
// kube-apiserver.
func TestRealServer(t *testing.T) {
	srv := apiServer.Server(t)
	ctx := context.Background()
	ns := srv.Namespace(t)
	ctrl := srv.Controllers(t)
	var mu sync.Mutex
	var events []Event
	d := realDeployer(t, srv.Config(), WithProgress(func(e Event) { mu.Lock(); events = append(events, e); mu.Unlock() }))
	values := map[string]any{"controller": map[string]any{"replicas": 1}}

	rep, err := d.Apply(ctx, []Release{csiNFS(ns, values)})
	require.NoError(t, err)
	require.Equal(t, []string{"csi-driver-nfs:installed"}, names(rep.Releases))
	require.Equal(t, 1, rep.Releases[0].Revision)

	t.Run("a re-run makes no new revision", func(t *testing.T) {
		rep, err := d.Apply(ctx, []Release{csiNFS(ns, values)})
		require.NoError(t, err)
		require.Equal(t, []string{"csi-driver-nfs:unchanged"}, names(rep.Releases))
		require.Equal(t, 1, revisionCount(t, d, ns, "csi-driver-nfs"))
	})
	t.Run("a dry run of the installed release shows no diff", func(t *testing.T) {
		diffs, err := d.Diff(ctx, []Release{csiNFS(ns, values)})
		require.NoError(t, err)
		require.Empty(t, diffs)
	})
	changed := map[string]any{"controller": map[string]any{"replicas": 2}}
	t.Run("after a value change the dry run shows exactly the changed object", func(t *testing.T) {
		diffs, err := d.Diff(ctx, []Release{csiNFS(ns, changed)})
		require.NoError(t, err)
		require.Len(t, diffs, 1, "%v", diffs)
		require.Equal(t, "changed apps/v1 Deployment "+ns+"/csi-nfs-controller", diffs[0].String())
		require.Contains(t, diffs[0].Diff, "-  replicas: 1\n+  replicas: 2\n")
	})
	t.Run("a changed value makes exactly one new revision", func(t *testing.T) {
		rep, err := d.Apply(ctx, []Release{csiNFS(ns, changed)})
		require.NoError(t, err)
		require.Equal(t, []string{"csi-driver-nfs:upgraded"}, names(rep.Releases))
		require.Equal(t, 2, rep.Releases[0].Revision)
		require.Equal(t, 2, revisionCount(t, d, ns, "csi-driver-nfs"))
		diffs, err := d.Diff(ctx, []Release{csiNFS(ns, changed)})
		require.NoError(t, err)
		require.Empty(t, diffs)
	})
	t.Run("withheld readiness times out and rolls back", func(t *testing.T) {
		require.NoError(t, ctrl.Stop())
		srv.Controllers(t, kubetest.Withhold(kubetest.Match("Deployment", ns, "csi-nfs-controller")))
		short := csiNFS(ns, map[string]any{"controller": map[string]any{"replicas": 3}})
		short.Timeout = 3 * time.Second
		rep, err := d.Apply(ctx, []Release{short})
		var fail *ReleaseFailedError
		require.ErrorAs(t, err, &fail, "%v", err)
		require.Equal(t, 3, fail.Revision)
		require.Equal(t, 2, fail.RolledBackTo)
		require.Contains(t, err.Error(), "Deployment "+ns+"/csi-nfs-controller: ")
		require.Equal(t, []string{"csi-driver-nfs:rolled back"}, names(rep.Releases))
		require.Equal(t, 4, rep.Releases[0].Revision)
		cs, err := srv.Clientset()
		require.NoError(t, err)
		dep, err := cs.AppsV1().Deployments(ns).Get(ctx, "csi-nfs-controller", metav1.GetOptions{})
		require.NoError(t, err)
		require.Equal(t, int32(2), *dep.Spec.Replicas, "the rollback restored revision 2's replicas")
		mu.Lock()
		defer mu.Unlock()
		require.True(t, slices.ContainsFunc(events, func(e Event) bool {
			return e.Phase == PhaseWait && slices.ContainsFunc(e.Unready, func(u string) bool { return strings.HasPrefix(u, "Deployment "+ns+"/csi-nfs-controller: ") })
		}), "a progress event named the Deployment waited for")
		require.True(t, slices.ContainsFunc(events, func(e Event) bool { return e.Phase == PhaseRollback && e.Message == "to revision 2" }))
	})
	t.Run("status lists the release", func(t *testing.T) {
		st, err := d.Status(ctx)
		require.NoError(t, err)
		var found *ReleaseStatus
		for i := range st {
			if st[i].Namespace == ns && st[i].Name == "csi-driver-nfs" {
				found = &st[i]
			}
		}
		require.NotNil(t, found, "%v", st)
		require.Equal(t, ReleaseStatus{Name: "csi-driver-nfs", Namespace: ns, Chart: "csi-driver-nfs", Version: "4.12.1", AppVersion: found.AppVersion, Revision: 4, State: "deployed", Updated: found.Updated}, *found)
	})
}

const webDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: registry.invalid/web:1
`

func TestRealFirstInstallFailureIsUninstalled(t *testing.T) {
	srv := apiServer.Server(t)
	ctx := context.Background()
	ns := srv.Namespace(t)
	srv.Controllers(t, kubetest.Withhold(kubetest.Match("Deployment", ns, "web")))
	d := realDeployer(t, srv.Config())
	r := Release{Name: "web", Namespace: ns, Manifests: []byte(webDeployment), Timeout: 3 * time.Second}
	rep, err := d.Apply(ctx, []Release{r})
	var fail *ReleaseFailedError
	require.ErrorAs(t, err, &fail, "%v", err)
	require.True(t, fail.Uninstalled)
	require.Contains(t, err.Error(), "Deployment "+ns+"/web: ")
	require.Equal(t, []string{"web:uninstalled"}, names(rep.Releases))
	cs, err := srv.Clientset()
	require.NoError(t, err)
	deps, err := cs.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	require.Empty(t, deps.Items)
	cfg, err := d.actionConfig(ns, "web")
	require.NoError(t, err)
	_, err = lastRevision(cfg, "web")
	require.Error(t, err, "no release record left")
}

func TestRealRefusedBeforeInstalling(t *testing.T) {
	srv := apiServer.Server(t)
	ctx := context.Background()
	ns := "refused-" + strings.ToLower(fmt.Sprint(time.Now().UnixNano()%100000))
	cs, err := srv.Clientset()
	require.NoError(t, err)
	nothingIn := func(t *testing.T) {
		t.Helper()
		_, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		require.Error(t, err, "namespace %s was created", ns)
	}
	csi := csiNFS(ns, nil)
	csi.Name = "first"
	cilium := Release{Name: "cilium", Namespace: ns, DependsOn: []string{"first"}, Values: map[string]any{"ipam": map[string]any{"mode": 5}},
		Chart: &ChartRef{Repository: "https://helm.cilium.io", Name: "cilium", Version: "1.19.5"}}

	t.Run("a value the schema refuses", func(t *testing.T) {
		d := realDeployer(t, srv.Config())
		_, err := d.Apply(ctx, []Release{csi, cilium})
		var verr *ValuesError
		require.ErrorAs(t, err, &verr, "%v", err)
		require.Equal(t, "cilium", verr.Release)
		require.Contains(t, err.Error(), "at '/ipam/mode': got number, want string")
		nothingIn(t)
	})
	t.Run("an unreachable server", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		require.NoError(t, l.Close())
		cfg := srv.Config()
		cfg.Host = "https://" + addr
		d := realDeployer(t, cfg, WithReachTimeout(2*time.Second))
		_, err = d.Apply(ctx, []Release{csi})
		var uerr *UnreachableError
		require.ErrorAs(t, err, &uerr, "%v", err)
		require.Contains(t, err.Error(), addr)
		require.True(t, errors.Is(err, uerr.Err))
		nothingIn(t)
	})
}

const twoConfigMaps = `apiVersion: v1
kind: ConfigMap
metadata:
  name: kept
data:
  template: "{{ .Values.notATemplate }}"
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: dropped
data:
  a: "1"
`

func TestRealManifestsDiff(t *testing.T) {
	srv := apiServer.Server(t)
	ctx := context.Background()
	ns := srv.Namespace(t)
	d := realDeployer(t, srv.Config())
	r := Release{Name: "config", Namespace: ns, Manifests: []byte(twoConfigMaps)}
	_, err := d.Apply(ctx, []Release{r})
	require.NoError(t, err)
	cs, err := srv.Clientset()
	require.NoError(t, err)
	cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "kept", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, "{{ .Values.notATemplate }}", cm.Data["template"], "{{ in a manifest is text")

	diffs, err := d.Diff(ctx, []Release{r})
	require.NoError(t, err)
	require.Empty(t, diffs)

	r.Manifests = []byte(strings.Replace(strings.SplitN(twoConfigMaps, "---\n", 2)[0], "notATemplate", "other", 1) +
		"---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: added\nstringData:\n  key: s3cr3t\n")
	diffs, err = d.Diff(ctx, []Release{r})
	require.NoError(t, err)
	var got []string
	for _, o := range diffs {
		got = append(got, o.String())
	}
	require.Equal(t, []string{ // Helm's install order: Secrets before ConfigMaps
		"added v1 Secret " + ns + "/added",
		"changed v1 ConfigMap " + ns + "/kept",
		"removed v1 ConfigMap " + ns + "/dropped",
	}, got)
	require.Contains(t, diffs[1].Diff, `-  template: '{{ .Values.notATemplate }}'`)
	require.NotContains(t, diffs[0].Diff, "s3cr3t", "Secret values are hashed")
	require.Contains(t, diffs[0].Diff, "+  key: sha256:")
	require.Contains(t, diffs[2].Diff, "-  a: \"1\"")
}

const lbService = `apiVersion: v1
kind: Service
metadata:
  name: ui
  annotations:
    lbipam.cilium.io/ips: 10.10.2.241
spec:
  type: LoadBalancer
  selector: {app: ui}
  ports:
  - {port: 80, protocol: TCP}
`

func TestRealLoadBalancers(t *testing.T) {
	srv := apiServer.Server(t)
	ctx := context.Background()
	ns := srv.Namespace(t)
	srv.Controllers(t)
	d := realDeployer(t, srv.Config())
	_, err := d.Apply(ctx, []Release{{Name: "ui", Namespace: ns, Manifests: []byte(lbService)}})
	require.NoError(t, err)
	lbs, err := d.LoadBalancers(ctx)
	require.NoError(t, err)
	require.Contains(t, lbs, LoadBalancer{Namespace: ns, Name: "ui", Requested: "10.10.2.241", IPs: []string{"10.10.2.241"}, Ports: []string{"80/TCP"}})
}
