package images_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/distsim"
	"github.com/wdiazux/infra/lib/cloudimage"
	"github.com/wdiazux/infra/lib/images"
	"github.com/wdiazux/infra/lib/plan"
)

// distsimImport imports osName from a stand-in of its publisher through
// the real resolver (and, for NixOS, the real VMA stage).
func distsimImport(t *testing.T, r *rig, sim *distsim.Sim, osName string, opts images.CloudImportOptions) (*images.CloudImportReport, error) {
	t.Helper()
	res, err := cloudimage.NewResolver(sim.ResolverOptions()...)
	require.NoError(t, err)
	lock, err := images.LoadLockFile(r.lock)
	require.NoError(t, err)
	return images.ImportCloud(context.Background(), r.inv, r.client, res, lock, osName, opts)
}

// TestCloudImportFromThePublishers imports every OS from internal/distsim
// through lib/cloudimage: the base VM is built, and a re-run asks the
// publisher nothing and changes nothing.
func TestCloudImportFromThePublishers(t *testing.T) {
	for _, osName := range images.CloudOSes() {
		t.Run(osName, func(t *testing.T) {
			r := newRig(t)
			sim, err := distsim.New()
			require.NoError(t, err)
			t.Cleanup(sim.Close)
			rep, err := distsimImport(t, r, sim, osName, images.CloudImportOptions{})
			require.NoError(t, err)
			require.Equal(t, plan.Create, rep.Action)
			require.Equal(t, sim.Latest(osName), rep.Build.Serial)

			n, before := len(sim.Requests()), r.mutations()
			rep, err = distsimImport(t, r, sim, osName, images.CloudImportOptions{})
			require.NoError(t, err)
			require.Equal(t, plan.Unchanged, rep.Action)
			require.Len(t, sim.Requests(), n, "the publisher is not asked")
			require.Equal(t, before, r.mutations())
		})
	}
}

// TestCloudImportPublisherTampered: on the signed sites (Ubuntu, Arch) a
// checksum file changed after signing, a signature by another key and a
// missing entry are refused before any mutating call, as is a missing
// entry on the unsigned ones (Debian, NixOS). A changed sum on an unsigned
// site cannot be caught before the bytes are hashed: PVE (Debian) or the
// stream (NixOS) refuses them, and no VM is created.
func TestCloudImportPublisherTampered(t *testing.T) {
	tests := []struct {
		os       string
		tamper   distsim.Tamper
		onlyGETs bool
		errIs    error
	}{
		{"ubuntu", distsim.TamperSumsAfterSigning, true, cloudimage.ErrBadSignature},
		{"ubuntu", distsim.TamperOtherKey, true, cloudimage.ErrUnknownKey},
		{"ubuntu", distsim.TamperMissingEntry, true, cloudimage.ErrMissingEntry},
		{"arch", distsim.TamperSumsAfterSigning, true, cloudimage.ErrBadSignature},
		{"arch", distsim.TamperOtherKey, true, cloudimage.ErrUnknownKey},
		{"arch", distsim.TamperMissingEntry, true, cloudimage.ErrMissingEntry},
		{"debian", distsim.TamperMissingEntry, true, cloudimage.ErrMissingEntry},
		{"nixos", distsim.TamperMissingEntry, true, cloudimage.ErrMissingEntry},
		{"debian", distsim.TamperSumsAfterSigning, false, nil},
		{"nixos", distsim.TamperSumsAfterSigning, false, cloudimage.ErrChecksumMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.os+" "+tt.tamper.String(), func(t *testing.T) {
			r := newRig(t)
			sim, err := distsim.New()
			require.NoError(t, err)
			t.Cleanup(sim.Close)
			require.NoError(t, sim.SetTamper(tt.os, tt.tamper))
			_, err = distsimImport(t, r, sim, tt.os, images.CloudImportOptions{})
			require.Error(t, err)
			if tt.errIs != nil {
				require.ErrorIs(t, err, tt.errIs)
			}
			if tt.onlyGETs {
				require.ErrorIs(t, err, images.ErrSource)
				for _, req := range r.sim.Requests() {
					require.Equal(t, http.MethodGet, req.Method, "only reads before the refusal: %s %s", req.Method, req.Path)
				}
			}
			r.requireClean()
		})
	}
}
