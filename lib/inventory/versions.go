package inventory

import (
	"cmp"
	"fmt"

	// The per-release packages of machinery's compatibility package hold
	// only version constants; the compatibility package itself would link
	// the Talos API (gRPC) into every program that reads the inventory.
	"github.com/siderolabs/talos/pkg/machinery/compatibility/talos110"
	"github.com/siderolabs/talos/pkg/machinery/compatibility/talos111"
	"github.com/siderolabs/talos/pkg/machinery/compatibility/talos112"
)

// Release is a MAJOR.MINOR release number.
type Release struct {
	// Major and Minor are the release's first two version numbers.
	Major, Minor int
}

// String renders the release as "vMAJOR.MINOR".
func (r Release) String() string { return fmt.Sprintf("v%d.%d", r.Major, r.Minor) }

// Compare orders releases: -1 when r is older than o, 0 when equal, +1 when newer.
func (r Release) Compare(o Release) int {
	return cmp.Or(cmp.Compare(r.Major, o.Major), cmp.Compare(r.Minor, o.Minor))
}

// TalosRelease is a Talos minor release the inventory accepts and the
// Kubernetes minor releases it supports.
type TalosRelease struct {
	// Talos is the Talos release, e.g. v1.12.
	Talos Release
	// OldestKubernetes is the oldest Kubernetes release it supports.
	OldestKubernetes Release
	// NewestKubernetes is the newest Kubernetes release it supports.
	NewestKubernetes Release
}

// TalosReleases returns the Talos releases the inventory accepts, oldest
// first: those the Talos machinery module the tools are built with knows
// (github.com/siderolabs/talos/pkg/machinery/compatibility), from v1.10 on,
// with the Kubernetes releases machinery says each supports. A test in
// lib/talosgen fails when machinery knows a release this list lacks.
func TalosReleases() []TalosRelease {
	release := func(mm [2]uint64, oldestMajor, oldestMinor, newestMajor, newestMinor uint64) TalosRelease {
		return TalosRelease{
			Talos:            Release{int(mm[0]), int(mm[1])},
			OldestKubernetes: Release{int(oldestMajor), int(oldestMinor)},
			NewestKubernetes: Release{int(newestMajor), int(newestMinor)},
		}
	}
	return []TalosRelease{
		release(talos110.MajorMinor,
			talos110.MinimumKubernetesVersion.Major, talos110.MinimumKubernetesVersion.Minor,
			talos110.MaximumKubernetesVersion.Major, talos110.MaximumKubernetesVersion.Minor),
		release(talos111.MajorMinor,
			talos111.MinimumKubernetesVersion.Major, talos111.MinimumKubernetesVersion.Minor,
			talos111.MaximumKubernetesVersion.Major, talos111.MaximumKubernetesVersion.Minor),
		release(talos112.MajorMinor,
			talos112.MinimumKubernetesVersion.Major, talos112.MinimumKubernetesVersion.Minor,
			talos112.MaximumKubernetesVersion.Major, talos112.MaximumKubernetesVersion.Minor),
	}
}

// checkVersions checks that the Talos release is one the tools know and that
// it supports the Kubernetes release; talos and k8s are nil when the fields
// are malformed or missing.
func (c *checker) checkVersions(talos, k8s *Release) {
	known := TalosReleases()
	first, last := known[0], known[len(known)-1]
	var rel *TalosRelease
	for i := range known {
		if talos != nil && known[i].Talos == *talos {
			rel = &known[i]
		}
	}
	if talos != nil && rel == nil {
		why := fmt.Sprintf("releases before %s are not supported", first.Talos)
		if talos.Compare(last.Talos) > 0 {
			why = "a later release needs a later github.com/siderolabs/talos/pkg/machinery in go.mod"
		}
		c.report("talos.version", "unknown Talos release %s; known releases: %s.0 to %s.x (%s)",
			c.inv.Talos.Version, first.Talos, last.Talos, why)
	}
	if k8s == nil {
		return
	}
	if rel != nil {
		if k8s.Compare(rel.OldestKubernetes) < 0 || k8s.Compare(rel.NewestKubernetes) > 0 {
			c.report("kubernetes.version", "Talos %s supports Kubernetes %d.%d to %d.%d, not %s", rel.Talos,
				rel.OldestKubernetes.Major, rel.OldestKubernetes.Minor, rel.NewestKubernetes.Major, rel.NewestKubernetes.Minor,
				c.inv.Kubernetes.Version)
		}
		return
	}
	oldest, newest := first.OldestKubernetes, first.NewestKubernetes
	for _, r := range known {
		if r.OldestKubernetes.Compare(oldest) < 0 {
			oldest = r.OldestKubernetes
		}
		if r.NewestKubernetes.Compare(newest) > 0 {
			newest = r.NewestKubernetes
		}
	}
	if k8s.Compare(oldest) < 0 || k8s.Compare(newest) > 0 {
		c.report("kubernetes.version", "unknown Kubernetes release %s; the known Talos releases support %s to %s",
			c.inv.Kubernetes.Version, oldest, newest)
	}
}
