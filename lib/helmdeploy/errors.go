package helmdeploy

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrInvalidRelease is wrapped by every ReleaseSetError.
var ErrInvalidRelease = errors.New("invalid release set")

// ReleaseSetError says what is wrong with a release of the set given to
// Apply, Diff or Order: a duplicate or empty name, not exactly one of Chart
// and Manifests, a dependency that names no release, or a release of
// Only that names none.
type ReleaseSetError struct {
	// Release is the release's name ("" when the name itself is missing).
	Release string
	// Index is the release's position in the set given.
	Index int
	// Field is the field at fault, e.g. "DependsOn".
	Field string
	// Reason says what is wrong and what to do.
	Reason string
}

// Error names the release, the field at fault and why.
func (e *ReleaseSetError) Error() string {
	return fmt.Sprintf("release %q (#%d) field %s: %s", e.Release, e.Index, e.Field, e.Reason)
}

// Unwrap returns ErrInvalidRelease.
func (e *ReleaseSetError) Unwrap() error { return ErrInvalidRelease }

// CycleError reports releases whose DependsOn form a cycle.
type CycleError struct {
	// Cycle lists the release names of the cycle, the first repeated last.
	Cycle []string
}

// Error lists the releases of the cycle.
func (e *CycleError) Error() string {
	return fmt.Sprintf("releases depend on each other in a cycle: %s; remove one of these DependsOn entries", strings.Join(e.Cycle, " -> "))
}

// Unwrap returns ErrInvalidRelease.
func (e *CycleError) Unwrap() error { return ErrInvalidRelease }

// DependencyNotDeployedError reports a release selected with Only whose
// dependency is not deployed on the cluster.
type DependencyNotDeployedError struct {
	// Release is the selected release.
	Release string
	// Dependency is the release it depends on.
	Dependency string
	// State is the dependency's state on the cluster ("not installed",
	// "failed", …).
	State string
}

// Error names the release, its dependency and the dependency's state.
func (e *DependencyNotDeployedError) Error() string {
	return fmt.Sprintf("release %s depends on release %s, which is %s: apply %s first (or apply without Only)", e.Release, e.Dependency, e.State, e.Dependency)
}

// ChartNotFoundError reports a chart version a repository or mirror does
// not hold.
type ChartNotFoundError struct {
	// Chart and Version are the chart looked for.
	Chart, Version string
	// Source is the repository or mirror whose index was searched.
	Source string
	// Available lists the versions the index holds for Chart (may be
	// empty).
	Available []string
}

// Error names the chart, the version, where it was looked up and what that source holds.
func (e *ChartNotFoundError) Error() string {
	avail := "no version of it"
	if len(e.Available) > 0 {
		avail = "versions " + strings.Join(e.Available, ", ")
	}
	return fmt.Sprintf("chart %s version %s is not in %s (it holds %s): add that version there or pin one it holds", e.Chart, e.Version, e.Source, avail)
}

// RepositoryError reports a failure reaching a chart repository, a mirror
// or an OCI registry.
type RepositoryError struct {
	// Host is the host contacted (or the mirror folder).
	Host string
	// Phase is what was being done: "dial", "TLS handshake", "response
	// header", "index", "download", "digest", "read", "pull".
	Phase string
	// URL is the resource asked for.
	URL string
	// Err is the cause.
	Err error
}

// Error names the repository host, the phase that failed and the cause.
func (e *RepositoryError) Error() string {
	return fmt.Sprintf("chart repository %s: %s of %s: %v", e.Host, e.Phase, e.URL, e.Err)
}

// Unwrap returns the cause.
func (e *RepositoryError) Unwrap() error { return e.Err }

// ValuesError reports values a chart's values.schema.json (or its
// templates' preparation) refuses; nothing has been installed.
type ValuesError struct {
	// Release and Chart name what was checked.
	Release, Chart string
	// Err is the schema validation's error, naming the path, e.g.
	// "at '/ipam/mode': got number, want string".
	Err error
}

// Error names the release, its chart and what the values schema refused.
func (e *ValuesError) Error() string {
	return fmt.Sprintf("release %s: values refused by chart %s: %v", e.Release, e.Chart, e.Err)
}

// Unwrap returns the cause.
func (e *ValuesError) Unwrap() error { return e.Err }

// UnreachableError reports an API server that did not answer; nothing has
// been installed.
type UnreachableError struct {
	// Host is the API server's address.
	Host string
	// Timeout is how long it was given.
	Timeout time.Duration
	// Err is the cause.
	Err error
}

// Error names the API server and the time it was given.
func (e *UnreachableError) Error() string {
	return fmt.Sprintf("kubernetes API server %s did not answer GET /version within %s: %v; check the kubeconfig's server and that the cluster is up", e.Host, e.Timeout, e.Err)
}

// Unwrap returns the cause.
func (e *UnreachableError) Unwrap() error { return e.Err }

// KindsNotServedError reports kinds a Manifests release uses that the API
// server did not serve within the release's timeout (their CRD is missing
// or not Established).
type KindsNotServedError struct {
	// Release is the release waiting.
	Release string
	// Kinds are "group/version, Kind=…" strings of the missing kinds.
	Kinds []string
	// Timeout is how long was waited.
	Timeout time.Duration
}

// Error names the release and the kinds the API server did not serve in time.
func (e *KindsNotServedError) Error() string {
	return fmt.Sprintf("release %s: the API server did not serve %s within %s: the release installing their CRDs (or the operator creating them) is missing or not ready", e.Release, strings.Join(e.Kinds, ", "), e.Timeout)
}

// Unready is one object that did not become ready.
type Unready struct {
	// Kind, Namespace and Name identify the object.
	Kind, Namespace, Name string
	// Status is kstatus' status, e.g. "InProgress".
	Status string
	// Message says why, e.g. "Replicas: 0/1".
	Message string
}

// String gives "Deployment monitoring/grafana: Replicas: 0/1".
func (u Unready) String() string {
	msg := u.Message
	if msg == "" {
		msg = u.Status
	}
	return fmt.Sprintf("%s %s: %s", u.Kind, qualified(u.Namespace, u.Name), msg)
}

// qualified is "namespace/name", or "name" for a cluster-scoped object.
func qualified(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}

// ReleaseFailedError reports a release whose install or upgrade failed,
// with what was done about it: rolled back to the previous deployed
// revision, or (a failed first install) uninstalled.
type ReleaseFailedError struct {
	// Release and Namespace name the release.
	Release, Namespace string
	// Revision is the failed revision.
	Revision int
	// Unready lists the objects that were not ready when the wait ended
	// (empty when the failure was not a wait).
	Unready []Unready
	// RolledBackTo is the revision rolled back to (0: none).
	RolledBackTo int
	// Uninstalled is true when a failed first install was uninstalled.
	Uninstalled bool
	// UndoErr is why the rollback or uninstall failed (nil when it
	// succeeded or was not needed).
	UndoErr error
	// Err is Helm's error.
	Err error
}

// Error names the release, the revision, the objects not ready and what was undone.
func (e *ReleaseFailedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "release %s (namespace %s) revision %d failed", e.Release, e.Namespace, e.Revision)
	if len(e.Unready) > 0 {
		parts := make([]string, len(e.Unready))
		for i, u := range e.Unready {
			parts[i] = u.String()
		}
		fmt.Fprintf(&b, ": not ready: %s", strings.Join(parts, "; "))
	} else {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	switch {
	case e.RolledBackTo > 0:
		fmt.Fprintf(&b, "; rolled back to revision %d", e.RolledBackTo)
	case e.Uninstalled:
		b.WriteString("; the failed first install was uninstalled")
	case e.UndoErr != nil:
		fmt.Fprintf(&b, "; undoing it failed: %v", e.UndoErr)
	}
	return b.String()
}

// Unwrap returns Helm's error.
func (e *ReleaseFailedError) Unwrap() error { return e.Err }
