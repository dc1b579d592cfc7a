package helmdeploy

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/kubetest"
)

// templateOptions are the options of a test's Template call: an empty
// chart cache and the offline repository when there is one.
func templateOptions(t *testing.T) []Option {
	t.Helper()
	opts := []Option{WithCacheDir(t.TempDir())}
	if m := kubetest.ChartMirror(t); m != "" {
		opts = append(opts, WithMirror(m))
	}
	return opts
}

// TestTemplateRendersEveryReleaseOffline renders a chart (csi-driver-nfs
// 4.12.1) and a Manifests release with no cluster: one file per template,
// named as Helm's "# Source:", in the set's order, namespaced.
func TestTemplateRendersEveryReleaseOffline(t *testing.T) {
	pool := "apiVersion: cilium.io/v2\nkind: CiliumLoadBalancerIPPool\nmetadata:\n  name: a\n---\napiVersion: cilium.io/v2\nkind: CiliumLoadBalancerIPPool\nmetadata:\n  name: b\n"
	set := []Release{
		{Name: "pools", Namespace: "kube-system", Manifests: []byte(pool), DependsOn: []string{"csi-driver-nfs"}},
		csiNFS("kube-system", map[string]any{"controller": map[string]any{"replicas": 2}}),
	}
	got, err := Template(context.Background(), set, Capabilities{KubeVersion: "v1.34.4"}, templateOptions(t)...)
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, "csi-driver-nfs", got[0].Release)
	require.Equal(t, "pools", got[1].Release)
	require.Equal(t, "kube-system", got[0].Namespace)

	files := map[string]string{}
	for _, f := range got[0].Files {
		files[f.Path] = string(f.Content)
		require.NotContains(t, string(f.Content), "# Source:", f.Path)
	}
	require.Contains(t, files, "csi-driver-nfs/templates/csi-nfs-controller.yaml")
	require.Contains(t, files["csi-driver-nfs/templates/csi-nfs-controller.yaml"], "replicas: 2")
	require.Contains(t, files["csi-driver-nfs/templates/csi-nfs-controller.yaml"], "namespace: kube-system")

	require.Len(t, got[1].Files, 1)
	require.Equal(t, "pools/templates/manifests.yaml", got[1].Files[0].Path)
	require.Equal(t, 2, strings.Count(string(got[1].Files[0].Content), "kind: CiliumLoadBalancerIPPool"))
	require.Contains(t, string(got[1].Files[0].Content), "\n---\n")
}

// TestTemplateRefuses: a Kubernetes version that is no version, a version
// the chart's kubeVersion excludes, and an invalid set are errors naming
// what is wrong.
func TestTemplateRefuses(t *testing.T) {
	tests := []struct {
		name    string
		set     []Release
		version string
		wantErr string
	}{
		{name: "no version", set: []Release{csiNFS("kube-system", nil)}, version: "latest", wantErr: `Capabilities.KubeVersion "latest"`},
		{name: "excluded by the chart", set: []Release{{Name: "cilium", Namespace: "kube-system",
			Chart: &ChartRef{Repository: "https://helm.cilium.io", Name: "cilium", Version: "1.19.5"}}}, version: "v1.20.0",
			wantErr: "release cilium (chart cilium 1.19.5): render: chart requires kubeVersion: >= 1.21.0-0 which is incompatible with Kubernetes v1.20.0"},
		{name: "a cycle", set: []Release{{Name: "a", Namespace: "x", Manifests: []byte("{}"), DependsOn: []string{"a"}}}, version: "v1.34.4",
			wantErr: "cycle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Template(context.Background(), tt.set, Capabilities{KubeVersion: tt.version}, templateOptions(t)...)
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestSplitSources(t *testing.T) {
	manifest := "---\n# Source: c/templates/a.yaml\nkind: A\n---\n# Source: c/templates/b.yaml\nkind: B\n---\n# Source: c/templates/a.yaml\nkind: A2\n---\n# Source: c/templates/empty.yaml\n\n" +
		"---\n# Source: c/crds/crds.yaml\n---\nkind: CRD1\n---\nkind: CRD2\n"
	require.Equal(t, []RenderedFile{
		{Path: "c/templates/a.yaml", Content: []byte("kind: A\n---\nkind: A2\n")},
		{Path: "c/templates/b.yaml", Content: []byte("kind: B\n")},
		{Path: "c/crds/crds.yaml", Content: []byte("kind: CRD1\n---\nkind: CRD2\n")},
	}, splitSources(manifest))
}

// TestTemplateLeavesOutTestHooks: a hook the release installs (here
// pre-install) is rendered and marked Hook; helm test's hooks are not, as
// nothing installs them.
func TestTemplateLeavesOutTestHooks(t *testing.T) {
	manifests := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n---\n" +
		"apiVersion: v1\nkind: Pod\nmetadata:\n  name: the-test\n  annotations:\n    helm.sh/hook: test\nspec:\n  containers: []\n---\n" +
		"apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: the-hook\n  annotations:\n    helm.sh/hook: pre-install\nspec: {}\n"
	got, err := Template(context.Background(), []Release{{Name: "r", Namespace: "ns", Manifests: []byte(manifests)}},
		Capabilities{KubeVersion: "v1.34.4"}, WithCacheDir(t.TempDir()))
	require.NoError(t, err)
	require.Len(t, got, 1)
	var all strings.Builder
	var hooks int
	for _, f := range got[0].Files {
		all.Write(f.Content)
		if f.Hook {
			hooks++
			require.Contains(t, string(f.Content), "name: the-hook")
		}
	}
	require.Equal(t, 1, hooks)
	require.Contains(t, all.String(), "name: plain")
	require.NotContains(t, all.String(), "name: the-test")
}
