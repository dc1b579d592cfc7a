package talosgen_test

import (
	"fmt"
	"testing"

	"github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/compatibility"
	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/inventory"
)

// TestInventoryKnowsWhatMachineryKnows keeps the Talos releases the
// inventory accepts, and the Kubernetes releases it pairs them with, equal to
// what the compatibility package of the pinned Talos machinery knows (from the
// inventory's oldest supported release on). lib/inventory reads machinery's
// per-release constants but cannot link the compatibility package itself, so
// after a machinery update that knows a new release this test names it.
func TestInventoryKnowsWhatMachineryKnows(t *testing.T) {
	releases := inventory.TalosReleases()
	require.NotEmpty(t, releases)
	floor := releases[0].Talos
	ours := map[inventory.Release]inventory.TalosRelease{}
	for _, r := range releases {
		ours[r.Talos] = r
	}
	checked := 0
	for major := 1; major <= 2; major++ {
		for minor := range 31 {
			talos := inventory.Release{Major: major, Minor: minor}
			tv, err := compatibility.ParseTalosVersion(&machine.VersionInfo{Tag: talos.String() + ".0"})
			require.NoError(t, err)
			rel, weKnow := ours[talos]
			machineryKnows := false
			for k8sMinor := 20; k8sMinor <= 45; k8sMinor++ {
				k8s := inventory.Release{Major: 1, Minor: k8sMinor}
				weSupport := weKnow && rel.OldestKubernetes.Compare(k8s) <= 0 && k8s.Compare(rel.NewestKubernetes) <= 0
				for _, patch := range []int{0, 9} {
					kv, err := compatibility.ParseKubernetesVersion(fmt.Sprintf("%d.%d.%d", k8s.Major, k8s.Minor, patch))
					require.NoError(t, err)
					supported := kv.SupportedWith(tv) == nil
					machineryKnows = machineryKnows || supported
					if talos.Compare(floor) >= 0 {
						require.Equal(t, supported, weSupport, "Talos %s with Kubernetes %s.%d: machinery and inventory.TalosReleases disagree", talos, k8s, patch)
						checked++
					}
				}
			}
			require.Equal(t, machineryKnows && talos.Compare(floor) >= 0, weKnow,
				"Talos %s: machinery knows it: %v; inventory.TalosReleases lists it: %v (add machinery's compatibility/talos%d%d constants to lib/inventory)",
				talos, machineryKnows, weKnow, talos.Major, talos.Minor)
		}
	}
	require.Greater(t, checked, 1000)
}
