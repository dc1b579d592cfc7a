package k8supgrade_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/siderolabs/talos/pkg/machinery/config/configloader"
	tsecrets "github.com/siderolabs/talos/pkg/machinery/config/generate/secrets"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	memory "k8s.io/client-go/discovery/cached"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/wdiazux/infra/internal/kubetest"
	"github.com/wdiazux/infra/internal/talostest"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/k8supgrade"
	"github.com/wdiazux/infra/lib/secrets"
	"github.com/wdiazux/infra/lib/talosgen"
	"github.com/wdiazux/infra/lib/talosnode"
	"github.com/wdiazux/infra/lib/talosnode/nodesim"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// kube is the package's real API server. The tests share it one after
// the other (none runs in parallel): the Node names come from the
// inventories, so each env leaves the cluster with no Node, no pod in
// kube-system and no bootstrap manifest object (cleanCluster).
var kube kubetest.Package

func TestMain(m *testing.M) { os.Exit(kube.Run(m)) }

var (
	threeNodes = filepath.Join("..", "talosgen", "testdata", "three-nodes.yaml")
	twoNodes   = filepath.Join("testdata", "two-nodes.yaml")
)

// env is a running cluster at one Kubernetes version: a repository with
// generated configs (a test age key), simulated nodes whose kubelets write
// to the package's real API server, and a Cluster pointed at them.
type env struct {
	root    string
	id      *age.X25519Identity
	inv     *inventory.Inventory
	sim     *nodesim.Sim
	cluster *talosnode.Cluster
	kube    kubernetes.Interface
	config  *rest.Config
	// setup is how many requests the nodes had before the test's run.
	setup int
}

// newEnv generates the configs of file at Kubernetes version from (with
// patches, each a global patch file's text, added to the repository's),
// applies them and bootstraps, as cluster:up leaves a cluster.
func newEnv(t *testing.T, file, from string, patches ...string) *env {
	t.Helper()
	e := &env{root: t.TempDir()}
	srv := kube.Server(t)
	// The Deployments of the bootstrap manifests roll out (CoreDNS).
	srv.Controllers(t, kubetest.InNamespaces("kube-system"))
	e.config = srv.Config()
	var err error
	e.kube, err = srv.Clientset()
	require.NoError(t, err)
	e.inv, err = inventory.Load(file)
	require.NoError(t, err)
	e.inv.Kubernetes.Version = from
	var bundle *tsecrets.Bundle
	e.id, bundle = talostest.Repository(t, filepath.Join("..", ".."), e.root, e.inv)
	for i, text := range patches {
		require.NoError(t, os.WriteFile(filepath.Join(e.root, talosgen.DefaultPatchDir, "global", fmt.Sprintf("99-test-%d.yaml", i)), []byte(text), 0o644))
	}
	_, err = talosgen.SyncConfigs(t.Context(), e.inv, e.sync())
	require.NoError(t, err)
	nodes := talostest.Start(t, e.inv, bundle, filepath.Join(e.root, talosgen.DefaultOutDir), talostest.Bootstrapped(),
		talostest.WithNodeOptions(nodesim.WithKubelets(e.kube)))
	e.sim, e.cluster = nodes.Sim, nodes.Cluster
	require.NoError(t, e.sim.KubeletErr())
	t.Cleanup(func() { cleanCluster(t, e) })
	e.setup = len(e.sim.Requests())
	return e
}

// cleanCluster removes what the test left in the API server, for the next
// one: every Node, every pod in kube-system (grace period 0, as nothing
// here confirms a graceful deletion) and every object of the bootstrap
// manifests.
func cleanCluster(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, e.kube.CoreV1().Pods("kube-system").DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: new(int64(0))}, metav1.ListOptions{}))
	require.NoError(t, e.kube.CoreV1().Nodes().DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}))
	objs, err := e.cluster.BootstrapManifests(ctx, e.inv.Talos.ControlPlanes()[0].Name)
	require.NoError(t, err)
	dyn, err := dynamic.NewForConfig(e.config)
	require.NoError(t, err)
	dc, err := discovery.NewDiscoveryClientForConfig(e.config)
	require.NoError(t, err)
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	for _, o := range objs {
		m, err := mapper.RESTMapping(o.GroupVersionKind().GroupKind(), o.GroupVersionKind().Version)
		require.NoError(t, err)
		err = dyn.Resource(m.Resource).Namespace(o.GetNamespace()).Delete(ctx, o.GetName(), metav1.DeleteOptions{})
		if !apierrors.IsNotFound(err) {
			require.NoError(t, err, "delete %s %s", o.GetKind(), o.GetName())
		}
	}
}

func (e *env) sync() talosgen.SyncOptions {
	return talosgen.SyncOptions{Root: e.root, Secrets: []secrets.Option{secrets.WithIdentities(e.id)}}
}

// upgrade runs the upgrade to version to.
func (e *env) upgrade(t *testing.T, to string, mods ...func(*k8supgrade.Options)) (*k8supgrade.Plan, error) {
	t.Helper()
	e.inv.Kubernetes.Version = to
	o := k8supgrade.Options{Sync: e.sync(), Wait: 2 * time.Second, Interval: 5 * time.Millisecond}
	for _, m := range mods {
		m(&o)
	}
	return k8supgrade.Upgrade(t.Context(), e.inv, e.cluster, e.config, o)
}

// applied lists the configs the nodes were sent since setup (or since the
// last call), as "node: component=tag ..." in Components order, and checks
// each went without a reboot.
func (e *env) applied(t *testing.T) []string {
	t.Helper()
	var out []string
	reqs := e.sim.Requests()
	for _, r := range reqs[e.setup:] {
		if r.Method != "ApplyConfiguration" {
			continue
		}
		require.Equal(t, "NO_REBOOT", r.Mode.String(), r.Node)
		require.False(t, r.DryRun, r.Node)
		out = append(out, r.Node+": "+images(t, r.Config))
	}
	e.setup = len(reqs)
	return out
}

// images summarises a config's component images by their tags.
func images(t *testing.T, data []byte) string {
	t.Helper()
	cfg, err := configloader.NewFromBytes(data)
	require.NoError(t, err)
	var parts []string
	if cfg.Machine().Type().IsControlPlane() {
		parts = append(parts,
			"kube-apiserver="+tag(cfg.Cluster().APIServer().Image()),
			"kube-controller-manager="+tag(cfg.Cluster().ControllerManager().Image()),
			"kube-scheduler="+tag(cfg.Cluster().Scheduler().Image()))
	}
	parts = append(parts, "kubelet="+tag(cfg.Machine().Kubelet().Image()))
	return strings.Join(parts, " ")
}

func tag(image string) string { return image[strings.LastIndex(image, ":")+1:] }

// golden compares text with testdata/name (rewritten with -update).
func golden(t *testing.T, name, text string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, string(want), text)
}
