package kubetest_test

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/kubetest"
)

// recordingTB records how a test ended: Skipf and Fatalf end it as
// testing.T's do (runtime.Goexit), but only the recording goroutine.
type recordingTB struct {
	testing.TB
	skipped, failed string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Skipf(format string, args ...any) {
	r.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recordingTB) Fatal(args ...any) {
	r.failed = fmt.Sprint(args...)
	runtime.Goexit()
}

func TestAMissingProgramSkipsOutsideCIAndFailsInCI(t *testing.T) {
	inv, err := kubetest.RepositoryInventory(".")
	require.NoError(t, err)
	t.Setenv("INFRA_TOOLS_CACHE", t.TempDir())
	for _, ci := range []string{"", "true"} {
		t.Run("CI="+ci, func(t *testing.T) {
			t.Setenv("CI", ci)
			p := &kubetest.Package{Options: []kubetest.Option{kubetest.WithInventory(inv)}}
			rec := &recordingTB{TB: t}
			done := make(chan *kubetest.Server)
			go func() {
				defer close(done)
				done <- p.Server(rec)
			}()
			require.Nil(t, <-done, "no server is returned")
			if ci == "true" {
				require.Empty(t, rec.skipped)
				require.Contains(t, rec.failed, "kube-apiserver@v1.34.4 (not built at ")
				require.Contains(t, rec.failed, "in CI it is a failure, not a skip")
				return
			}
			require.Empty(t, rec.failed)
			require.Contains(t, rec.skipped, "etcd@v3.6.16 (not built at ")
			require.Contains(t, rec.skipped, "go run mage.go test")
		})
	}
}
