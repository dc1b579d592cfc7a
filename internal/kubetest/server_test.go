package kubetest_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/wdiazux/infra/internal/kubetest"
)

// kube is the API server the tests of this package share.
var kube kubetest.Package

func TestMain(m *testing.M) { os.Exit(kube.Run(m)) }

func TestServerAnswers(t *testing.T) {
	srv := kube.Server(t)
	cs, err := kubernetes.NewForConfig(srv.Config())
	require.NoError(t, err)
	v, err := cs.Discovery().ServerVersion()
	require.NoError(t, err)
	require.Equal(t, "v1.34.4", v.GitVersion, "the version linked from homelab.yaml's tools.kube-apiserver")
	require.Equal(t, "1", v.Major)
	require.Equal(t, "34", v.Minor)

	fi, err := os.Stat(srv.KubeconfigFile())
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "the kubeconfig holds the admin token")
	cfg, err := clientcmd.BuildConfigFromFlags("", srv.KubeconfigFile())
	require.NoError(t, err)
	fromFile, err := kubernetes.NewForConfig(cfg)
	require.NoError(t, err)
	ns := srv.Namespace(t)
	ctx := t.Context()
	_, err = fromFile.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "probe"}, Data: map[string]string{"k": "v"},
	}, metav1.CreateOptions{})
	require.NoError(t, err, "a client from the kubeconfig file writes")
	got, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "probe", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, "v", got.Data["k"])
}

func TestNamespacesAreTheTestsOwn(t *testing.T) {
	srv := kube.Server(t)
	a, b := srv.Namespace(t), srv.Namespace(t)
	require.NotEqual(t, a, b)
	require.Regexp(t, `^t\d+-testnamespacesarethetestsown$`, a)
}

// TestStopEndsEverything starts a server of its own: after Stop neither
// program runs and its directory is gone.
func TestStopEndsEverything(t *testing.T) {
	kube.Server(t) // skips or fails as the shared server does when a program is missing
	srv, err := kubetest.Start(t.Context())
	require.NoError(t, err)
	pids := srv.PIDs()
	require.Len(t, pids, 2)
	require.DirExists(t, srv.Dir())
	require.NoError(t, srv.Stop())
	for _, pid := range pids {
		require.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH, "pid %d still runs after Stop", pid)
	}
	require.NoDirExists(t, srv.Dir())
	require.NoError(t, srv.Stop(), "a second Stop is harmless")
}

func TestStartSaysWhatFailed(t *testing.T) {
	dir := t.TempDir()
	script := func(name, body string) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755))
		return path
	}
	tests := []struct {
		name    string
		bins    kubetest.Binaries
		program string
		phase   string
		want    string
		tail    string
	}{
		{
			name:    "etcd exits",
			bins:    kubetest.Binaries{Etcd: script("etcd", "echo 'etcdmain: listen tcp 127.0.0.1:2379: bind: permission denied' >&2\nexit 1\n"), KubeAPIServer: "/nonexistent"},
			program: "etcd", phase: "health check",
			want: "exited (exit status 1) before answering GET http://127.0.0.1:",
			tail: "bind: permission denied",
		},
		{
			name:    "etcd is not there",
			bins:    kubetest.Binaries{Etcd: filepath.Join(dir, "nonexistent"), KubeAPIServer: "/nonexistent"},
			program: "etcd", phase: "start " + filepath.Join(dir, "nonexistent"),
			want: "no such file or directory",
		},
		{
			name:    "etcd never answers",
			bins:    kubetest.Binaries{Etcd: script("etcd-hangs", "echo waiting\nexec sleep 60\n"), KubeAPIServer: "/nonexistent"},
			program: "etcd", phase: "health check",
			want: "no healthy answer from GET http://127.0.0.1:",
			tail: "waiting",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := kubetest.Start(t.Context(), kubetest.WithBinaries(tt.bins), kubetest.WithStartTimeout(time.Second))
			var se *kubetest.StartError
			require.ErrorAs(t, err, &se)
			require.Equal(t, tt.program, se.Program)
			require.Equal(t, tt.phase, se.Phase)
			require.ErrorContains(t, err, tt.want)
			require.Contains(t, se.LogTail, tt.tail)
		})
	}
}

func TestMissingProgramsAreNamed(t *testing.T) {
	t.Setenv("INFRA_TOOLS_CACHE", t.TempDir())
	inv, err := kubetest.RepositoryInventory(".")
	require.NoError(t, err)
	_, err = kubetest.Start(context.Background(), kubetest.WithInventory(inv))
	require.ErrorIs(t, err, kubetest.ErrToolMissing)
	require.ErrorContains(t, err, "kube-apiserver@v1.34.4 (not built at ")
	require.ErrorContains(t, err, "etcd@v3.6.16 (not built at ")
}
