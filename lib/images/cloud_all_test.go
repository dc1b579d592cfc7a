package images_test

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/cloudimage"
	"github.com/wdiazux/infra/lib/images"
	"github.com/wdiazux/infra/lib/plan"
)

func (r *cloudRig) importAll(opts images.CloudImportOptions) ([]images.CloudResult, error) {
	r.t.Helper()
	return images.ImportClouds(context.Background(), r.inv, r.client, r.site, r.loadLock(), images.CloudOSes(), images.WithVMAStage(opts, fakeVMAStage))
}

// TestCloudImportAll imports every OS in parallel: the dry run lists what
// the run sends (import content enabled once, by the first OS), every base
// VM is built, every build recorded in the one lock file, progress comes
// per OS, and a re-run is a no-op that asks no publisher.
func TestCloudImportAll(t *testing.T) {
	r := newCloudRig(t)
	dry, err := r.importAll(images.CloudImportOptions{DryRun: true})
	require.NoError(t, err)
	require.Zero(t, r.mutations())
	var planned []plan.Call
	for _, d := range dry {
		require.NoError(t, d.Err)
		require.Equal(t, plan.Create, d.Report.Action, d.OS)
		planned = append(planned, d.Report.Calls...)
	}
	enables := 0
	for _, c := range planned {
		if c.Path == "/storage/local" {
			enables++
		}
	}
	require.Equal(t, 1, enables, "import content is enabled once for all")
	require.Equal(t, "PUT /storage/local content=backup,import,iso,vztmpl", dry[0].Report.Calls[0].String(), "by the first OS")

	var mu sync.Mutex
	done := map[string]int{}
	n := len(r.sim.Requests())
	res, err := r.importAll(images.CloudImportOptions{Events: func(os string, ev plan.Event) {
		mu.Lock()
		defer mu.Unlock()
		if ev.Done {
			done[os]++
		}
	}})
	require.NoError(t, err)
	require.Len(t, res, 4)
	var sent []plan.Call
	for i, x := range res {
		require.Equal(t, images.CloudOSes()[i], x.OS)
		require.NoError(t, x.Err)
		require.Equal(t, plan.Create, x.Report.Action)
		require.Equal(t, dry[i].Report.Calls, x.Report.Calls, "%s: the run sent what the dry run listed", x.OS)
		sent = append(sent, x.Report.Calls...)
		r.requireBaseVM(x.OS)
		_, ok := r.loadLock().Build(x.OS, x.Report.Release)
		require.True(t, ok, "%s recorded", x.OS)
		require.Positive(t, done[x.OS], "progress for %s", x.OS)
	}
	require.Len(t, r.mutatingSince(n), len(sent), "nothing was sent that no report lists")

	before, calls := r.mutations(), len(r.site.resolverCalls())
	again, err := r.importAll(images.CloudImportOptions{})
	require.NoError(t, err)
	for _, x := range again {
		require.Equal(t, plan.Unchanged, x.Report.Action, x.OS)
	}
	require.Equal(t, before, r.mutations())
	require.Len(t, r.site.resolverCalls(), calls)
}

// TestCloudImportAllOneFails: one OS refused (a bad signature) does not
// stop the others; the error names it.
func TestCloudImportAllOneFails(t *testing.T) {
	r := newCloudRig(t)
	r.site.failWith("debian", cloudimage.ErrBadSignature)
	res, err := r.importAll(images.CloudImportOptions{})
	require.ErrorIs(t, err, cloudimage.ErrBadSignature)
	require.ErrorContains(t, err, "debian: cloud image source: resolve debian 13 (the newest build)")
	for _, x := range res {
		if x.OS == "debian" {
			require.Error(t, x.Err)
			continue
		}
		require.NoError(t, x.Err)
		r.requireBaseVM(x.OS)
	}
	require.NotContains(t, r.vmIDs(), 9110)
}

// TestCloudImportAllContentFails: when enabling import content (done once
// for all) fails, every import that needed it fails with that error and
// nothing else is sent.
func TestCloudImportAllContentFails(t *testing.T) {
	r := newCloudRig(t)
	r.sim.FailNextRequest("PUT", "/storage/local", http.StatusInternalServerError, "cfs-lock 'file-storage_cfg' error: got lock request timeout")
	res, err := r.importAll(images.CloudImportOptions{})
	require.ErrorContains(t, err, "got lock request timeout")
	for _, x := range res {
		require.ErrorContains(t, x.Err, "got lock request timeout", x.OS)
	}
	require.Equal(t, 1, r.mutations(), "only the failed PUT")
	require.Empty(t, r.vmIDs())
}

// TestCloudImportAllRefusesTheSameOSTwice: two imports of one base VM
// would race; the list is refused before anything is read.
func TestCloudImportAllRefusesTheSameOSTwice(t *testing.T) {
	r := newCloudRig(t)
	_, err := images.ImportClouds(context.Background(), r.inv, r.client, r.site, r.loadLock(), []string{"ubuntu", "debian", "ubuntu"}, images.CloudImportOptions{})
	require.ErrorContains(t, err, `"ubuntu" is listed twice`)
	require.Empty(t, r.sim.Requests())
	require.Empty(t, r.site.resolverCalls())
}
