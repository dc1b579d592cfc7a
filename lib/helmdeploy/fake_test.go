package helmdeploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	v2util "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/kube"
	kubefake "helm.sh/helm/v4/pkg/kube/fake"
	ri "helm.sh/helm/v4/pkg/release"
	release "helm.sh/helm/v4/pkg/release/v1"
	repo "helm.sh/helm/v4/pkg/repo/v1"
	"helm.sh/helm/v4/pkg/storage"
	"helm.sh/helm/v4/pkg/storage/driver"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
)

// fakeCluster plays the API server for the deployer's own calls.
type fakeCluster struct {
	mu           sync.Mutex
	unreachable  error
	namespaces   map[string]map[string]string
	served       map[schema.GroupVersionKind]bool
	serveAfter   int // missingKinds calls before every kind is served
	kindsChecked int
}

func (f *fakeCluster) reachable(context.Context, time.Duration) error { return f.unreachable }

func (f *fakeCluster) ensureNamespace(_ context.Context, name string, labels map[string]string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.namespaces == nil {
		f.namespaces = map[string]map[string]string{}
	}
	f.namespaces[name] = labels
	return nil
}

func (f *fakeCluster) missingKinds(_ context.Context, gvks []schema.GroupVersionKind) ([]schema.GroupVersionKind, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.kindsChecked++
	if f.served == nil || f.kindsChecked > f.serveAfter {
		return nil, nil
	}
	var missing []schema.GroupVersionKind
	for _, g := range gvks {
		if !f.served[g] {
			missing = append(missing, g)
		}
	}
	return missing, nil
}

func (f *fakeCluster) live(context.Context, *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	return nil, nil
}

func (f *fakeCluster) dryRunApply(_ context.Context, o *unstructured.Unstructured, _ string) (*unstructured.Unstructured, error) {
	return o, nil
}

func (f *fakeCluster) loadBalancers(context.Context) ([]corev1.Service, error) { return nil, nil }

// fakeEnv is a Deployer on Helm's fakes: release records in memory per
// namespace, a FailingKubeClient whose WaitError a test sets.
type fakeEnv struct {
	d       *Deployer
	kube    *failFirstWaits
	cluster *fakeCluster
	stores  map[string]*storage.Storage
	events  []Event
	mu      sync.Mutex
}

func newFakeEnv(t *testing.T, opts ...Option) *fakeEnv {
	t.Helper()
	env := &fakeEnv{
		kube:    &failFirstWaits{FailingKubeClient: &kubefake.FailingKubeClient{PrintingKubeClient: kubefake.PrintingKubeClient{Out: io.Discard}}},
		cluster: &fakeCluster{},
		stores:  map[string]*storage.Storage{},
	}
	base := []Option{
		WithCacheDir(t.TempDir()),
		WithMirror(testMirror(t)),
		WithTimeout(time.Second),
		WithProgress(func(e Event) { env.mu.Lock(); env.events = append(env.events, e); env.mu.Unlock() }),
		func(o *options) {
			o.cluster = env.cluster
			o.actionConfig = func(ns string) (*action.Configuration, error) {
				st, ok := env.stores[ns]
				if !ok {
					mem := driver.NewMemory()
					mem.SetNamespace(ns)
					st = storage.Init(mem)
					env.stores[ns] = st
				}
				cfg := action.NewConfiguration(action.ConfigurationSetLogger(slog.DiscardHandler))
				cfg.Releases, cfg.KubeClient, cfg.Capabilities = st, env.kube, common.DefaultCapabilities
				return cfg, nil
			}
		},
	}
	d, err := New(&rest.Config{Host: "https://fake.invalid"}, append(base, opts...)...)
	require.NoError(t, err)
	env.d = d
	return env
}

// revisions returns the statuses of a release's revisions, by revision.
func (e *fakeEnv) revisions(t *testing.T, ns, name string) []string {
	t.Helper()
	st, ok := e.stores[ns]
	if !ok {
		return nil
	}
	cfg := &action.Configuration{Releases: st}
	hist, err := cfg.Releases.History(name)
	if err != nil {
		return nil
	}
	out := make([]string, len(hist)+1)
	for _, h := range hist {
		r, err := lastRevisionOf(h)
		require.NoError(t, err)
		out[r.Version] = string(r.Info.Status)
	}
	return out[1:]
}

// testMirror packages testdata/charts/* into a chart repository folder.
func testMirror(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	paths, err := filepath.Glob("testdata/charts/*")
	require.NoError(t, err)
	for _, p := range paths {
		ch, err := loader.LoadDir(p)
		require.NoError(t, err)
		_, err = v2util.Save(ch, dir)
		require.NoError(t, err)
	}
	idx, err := repo.IndexDirectory(dir, "")
	require.NoError(t, err)
	require.NoError(t, idx.WriteFile(filepath.Join(dir, "index.yaml"), 0o644))
	return dir
}

func demo(name string, values map[string]any, deps ...string) Release {
	return Release{Name: name, Namespace: "demo", Chart: &ChartRef{Repository: "https://charts.example.invalid", Name: "demo", Version: "0.1.0"}, Values: values, DependsOn: deps}
}

func manifests(name, ns, body string, deps ...string) Release {
	return Release{Name: name, Namespace: ns, Manifests: []byte(body), DependsOn: deps}
}

const cmManifest = `apiVersion: v1
kind: ConfigMap
metadata:
  name: literal
data:
  template: "{{ .Values.notATemplate }}"
`

func names(rs []ReleaseReport) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Name + ":" + string(r.Action)
	}
	return out
}

func TestApplyFakes(t *testing.T) {
	ctx := context.Background()
	t.Run("installs in dependency order, then a re-run changes nothing", func(t *testing.T) {
		env := newFakeEnv(t)
		set := []Release{
			demo("b", map[string]any{"replicas": 2}, "a"),
			demo("a", nil),
			manifests("c", "other", cmManifest),
		}
		rep, err := env.d.Apply(ctx, set)
		require.NoError(t, err)
		require.Equal(t, []string{"a:installed", "b:installed", "c:installed"}, names(rep.Releases))
		require.Equal(t, []string{"deployed"}, env.revisions(t, "demo", "b"))
		require.Contains(t, env.cluster.namespaces, "other")

		rep, err = env.d.Apply(ctx, set)
		require.NoError(t, err)
		require.Equal(t, []string{"a:unchanged", "b:unchanged", "c:unchanged"}, names(rep.Releases))
		require.Equal(t, []string{"deployed"}, env.revisions(t, "demo", "b"), "no new revision")
		require.Equal(t, 1, rep.Releases[1].Revision)
	})
	t.Run("a changed value makes exactly one new revision", func(t *testing.T) {
		env := newFakeEnv(t)
		_, err := env.d.Apply(ctx, []Release{demo("a", map[string]any{"replicas": 1}), manifests("c", "demo", cmManifest)})
		require.NoError(t, err)
		rep, err := env.d.Apply(ctx, []Release{demo("a", map[string]any{"replicas": 3}), manifests("c", "demo", cmManifest+"  more: x\n")})
		require.NoError(t, err)
		require.Equal(t, []string{"a:upgraded", "c:upgraded"}, names(rep.Releases))
		require.Equal(t, []string{"superseded", "deployed"}, env.revisions(t, "demo", "a"))
		require.Equal(t, 2, rep.Releases[0].Revision)
	})
	t.Run("a manifest's {{ is not a template", func(t *testing.T) {
		env := newFakeEnv(t)
		_, err := env.d.Apply(ctx, []Release{manifests("c", "demo", cmManifest)})
		require.NoError(t, err)
		rel, err := lastRevision(&action.Configuration{Releases: env.stores["demo"]}, "c")
		require.NoError(t, err)
		require.Contains(t, rel.Manifest, `template: "{{ .Values.notATemplate }}"`)
	})
	t.Run("a failed wait rolls back to the previous revision", func(t *testing.T) {
		env := newFakeEnv(t)
		_, err := env.d.Apply(ctx, []Release{demo("a", nil)})
		require.NoError(t, err)
		env.kube.failWaits, env.kube.waits = 1, 0
		env.kube.WaitError = errJoin("resource Deployment/demo/web not ready. status: InProgress, message: Replicas: 0/1", "context deadline exceeded")
		rep, err := env.d.Apply(ctx, []Release{demo("a", map[string]any{"message": "new"})})
		var fail *ReleaseFailedError
		require.ErrorAs(t, err, &fail)
		require.Equal(t, 1, fail.RolledBackTo, err.Error())
		require.Equal(t, 2, fail.Revision)
		require.Equal(t, []Unready{{Kind: "Deployment", Namespace: "demo", Name: "web", Status: "InProgress", Message: "Replicas: 0/1"}}, fail.Unready)
		require.Contains(t, err.Error(), "Deployment demo/web: Replicas: 0/1")
		require.Contains(t, err.Error(), "rolled back to revision 1")
		require.Equal(t, []string{"a:rolled back"}, names(rep.Releases))
		require.Equal(t, []string{"superseded", "failed", "deployed"}, env.revisions(t, "demo", "a"))
	})
	t.Run("a failed first install is uninstalled and later releases are not touched", func(t *testing.T) {
		env := newFakeEnv(t)
		env.kube.WaitError = errJoin("resource StatefulSet/demo/db not ready. status: InProgress, message: Ready: 0/1")
		rep, err := env.d.Apply(ctx, []Release{demo("a", nil), demo("b", nil, "a")})
		var fail *ReleaseFailedError
		require.ErrorAs(t, err, &fail)
		require.True(t, fail.Uninstalled)
		require.Contains(t, err.Error(), "StatefulSet demo/db: Ready: 0/1")
		require.Equal(t, []string{"a:uninstalled"}, names(rep.Releases))
		require.Empty(t, env.revisions(t, "demo", "a"))
		require.Empty(t, env.revisions(t, "demo", "b"))
	})
	t.Run("a bad value is refused before anything is installed", func(t *testing.T) {
		env := newFakeEnv(t)
		_, err := env.d.Apply(ctx, []Release{demo("a", nil), demo("b", map[string]any{"replicas": "two"}, "a")})
		var verr *ValuesError
		require.ErrorAs(t, err, &verr)
		require.Equal(t, "b", verr.Release)
		require.Contains(t, err.Error(), "/replicas")
		require.Empty(t, env.revisions(t, "demo", "a"))
		require.Empty(t, env.cluster.namespaces)
	})
	t.Run("an unreachable server fails before anything is installed", func(t *testing.T) {
		env := newFakeEnv(t)
		env.cluster.unreachable = &UnreachableError{Host: "https://10.0.0.1:6443", Timeout: time.Second, Err: context.DeadlineExceeded}
		_, err := env.d.Apply(ctx, []Release{demo("a", nil)})
		var uerr *UnreachableError
		require.ErrorAs(t, err, &uerr)
		require.Empty(t, env.revisions(t, "demo", "a"))
		require.Empty(t, env.cluster.namespaces)
	})
	t.Run("BeforeChanges runs after the checks and before the first release", func(t *testing.T) {
		env := newFakeEnv(t)
		var calls []int
		before := BeforeChanges(func(context.Context) error {
			calls = append(calls, len(env.revisions(t, "demo", "a")))
			return nil
		})
		_, err := env.d.Apply(ctx, []Release{demo("a", map[string]any{"replicas": "two"})}, before)
		require.Error(t, err)
		require.Empty(t, calls, "not run when a value is refused")
		_, err = env.d.Apply(ctx, []Release{demo("a", nil)}, before)
		require.NoError(t, err)
		require.Equal(t, []int{0}, calls, "run once, before the release was installed")

		stop := errors.New("the Secret was refused")
		_, err = env.d.Apply(ctx, []Release{demo("b", nil)}, BeforeChanges(func(context.Context) error { return stop }))
		require.ErrorIs(t, err, stop)
		require.Empty(t, env.revisions(t, "demo", "b"), "nothing installed after it failed")
	})
	t.Run("a chart version the mirror lacks is a typed error", func(t *testing.T) {
		env := newFakeEnv(t)
		r := demo("a", nil)
		r.Chart.Version = "9.9.9"
		_, err := env.d.Apply(ctx, []Release{r})
		var nf *ChartNotFoundError
		require.ErrorAs(t, err, &nf)
		require.Equal(t, []string{"0.1.0"}, nf.Available)
		require.Contains(t, err.Error(), "chart demo version 9.9.9")
	})
	t.Run("Only needs deployed dependencies", func(t *testing.T) {
		env := newFakeEnv(t)
		set := []Release{demo("a", nil), demo("b", nil, "a")}
		_, err := env.d.Apply(ctx, set, Only("b"))
		var dep *DependencyNotDeployedError
		require.ErrorAs(t, err, &dep)
		require.Equal(t, "a", dep.Dependency)
		require.Empty(t, env.revisions(t, "demo", "b"))

		_, err = env.d.Apply(ctx, set[:1])
		require.NoError(t, err)
		set[1].Values = map[string]any{"message": "x"}
		rep, err := env.d.Apply(ctx, set, Only("b"))
		require.NoError(t, err)
		require.Equal(t, []string{"b:installed"}, names(rep.Releases))
	})
	t.Run("a Manifests release waits until its kinds are served", func(t *testing.T) {
		env := newFakeEnv(t)
		env.cluster.served = map[schema.GroupVersionKind]bool{}
		env.cluster.serveAfter = 1
		pool := "apiVersion: cilium.io/v2\nkind: CiliumLoadBalancerIPPool\nmetadata:\n  name: pool\n"
		rep, err := env.d.Apply(ctx, []Release{manifests("pool", "kube-system", pool)})
		require.NoError(t, err)
		require.Equal(t, []string{"pool:installed"}, names(rep.Releases))
		require.True(t, slices.ContainsFunc(env.events, func(e Event) bool {
			return e.Phase == PhaseKinds && slices.Contains(e.Unready, "cilium.io/v2, Kind=CiliumLoadBalancerIPPool")
		}))
	})
	t.Run("kinds never served time out", func(t *testing.T) {
		env := newFakeEnv(t)
		env.cluster.served = map[schema.GroupVersionKind]bool{}
		env.cluster.serveAfter = 1 << 30
		r := manifests("pool", "kube-system", "apiVersion: cilium.io/v2\nkind: CiliumLoadBalancerIPPool\nmetadata:\n  name: pool\n")
		r.Timeout = time.Millisecond
		_, err := env.d.Apply(ctx, []Release{r})
		var kerr *KindsNotServedError
		require.ErrorAs(t, err, &kerr)
		require.Equal(t, []string{"cilium.io/v2, Kind=CiliumLoadBalancerIPPool"}, kerr.Kinds)
	})
}

func errJoin(lines ...string) error {
	errs := make([]error, len(lines))
	for i, l := range lines {
		errs[i] = errors.New(l)
	}
	return errors.Join(errs...)
}

func lastRevisionOf(h ri.Releaser) (*release.Release, error) {
	r, ok := h.(*release.Release)
	if !ok {
		return nil, fmt.Errorf("release record of type %T", h)
	}
	return r, nil
}

// failFirstWaits is Helm's FailingKubeClient whose waits fail only the
// first failWaits times (0: always) when WaitError is set, so a rollback
// after a failed wait can succeed.
type failFirstWaits struct {
	*kubefake.FailingKubeClient
	failWaits int
	waits     int
}

func (f *failFirstWaits) GetWaiter(ws kube.WaitStrategy) (kube.Waiter, error) {
	return f.GetWaiterWithOptions(ws)
}

func (f *failFirstWaits) GetWaiterWithOptions(ws kube.WaitStrategy, opts ...kube.WaitOption) (kube.Waiter, error) {
	if ws == kube.HookOnlyStrategy {
		return f.PrintingKubeClient.GetWaiterWithOptions(ws, opts...)
	}
	f.waits++
	if f.failWaits > 0 && f.waits > f.failWaits {
		return f.PrintingKubeClient.GetWaiterWithOptions(ws, opts...)
	}
	return f.FailingKubeClient.GetWaiterWithOptions(ws, opts...)
}
