package k8supgrade

import (
	"context"
	"fmt"
	"strings"

	"github.com/siderolabs/go-kubernetes/kubernetes/manifests"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
)

// ManifestChange is a bootstrap manifest object the sync creates or
// updates (one that is already as rendered is not listed).
type ManifestChange struct {
	// Path is the object, as go-kubernetes names it:
	// "apps/v1.Deployment/kube-system/coredns".
	Path string
	// Create says the object does not exist yet; else it is updated.
	Create bool
	// Diff is the unified diff of the object, from what the API server
	// holds to what the control plane renders.
	Diff string
}

// ManifestError is a bootstrap manifest sync that failed.
type ManifestError struct {
	// Node is the control plane the manifests were read from; Phase
	// "read", "sync" or "rollout".
	Node, Phase string
	// Err is the cause.
	Err error
}

// Error names the node and the phase.
func (e *ManifestError) Error() string {
	switch e.Phase {
	case "read":
		return fmt.Sprintf("bootstrap manifests: read them from %s's Manifest resources: %v", e.Node, e.Err)
	case "rollout":
		return fmt.Sprintf("bootstrap manifests from %s: applied, but their Deployments and DaemonSets did not roll out: %v", e.Node, e.Err)
	default:
		return fmt.Sprintf("bootstrap manifests from %s: apply them to the Kubernetes API: %v", e.Node, e.Err)
	}
}

// Unwrap returns the cause.
func (e *ManifestError) Unwrap() error { return e.Err }

// syncManifests reads the bootstrap manifests of node and syncs them to
// the API server with go-kubernetes (manifests.Sync, as talosctl
// upgrade-k8s does): with dryRun it only lists what would change;
// otherwise it applies the changes and waits for their rollout
// (manifests.WaitForRollout). It returns the changes and how many objects
// the manifests hold.
func syncManifests(ctx context.Context, nodes Nodes, cfg *rest.Config, node string, dryRun bool) ([]ManifestChange, int, error) {
	objs, err := nodes.BootstrapManifests(ctx, node)
	if err != nil {
		return nil, 0, &ManifestError{Node: node, Phase: "read", Err: err}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan manifests.SyncResult)
	done := make(chan error, 1)
	go func() { done <- manifests.Sync(ctx, objs, rest.CopyConfig(cfg), dryRun, results) }()
	var changes []ManifestChange
	var applied []*unstructured.Unstructured
	for err := error(nil); ; {
		select {
		case r := <-results:
			if !r.Skipped {
				changes = append(changes, ManifestChange{Path: r.Path, Create: isCreate(r.Diff), Diff: r.Diff})
				applied = append(applied, r.Object)
			}
			continue
		case err = <-done:
		}
		if err != nil {
			return changes, len(objs), &ManifestError{Node: node, Phase: "sync", Err: err}
		}
		break
	}
	if dryRun || len(applied) == 0 {
		return changes, len(objs), nil
	}
	progress := make(chan manifests.RolloutProgress)
	go func() { done <- manifests.WaitForRollout(ctx, rest.CopyConfig(cfg), applied, progress) }()
	for {
		select {
		case <-progress:
		case err := <-done:
			if err != nil {
				return changes, len(objs), &ManifestError{Node: node, Phase: "rollout", Err: err}
			}
			return changes, len(objs), nil
		}
	}
}

// isCreate says a go-kubernetes diff creates its object: it removes no
// line of an old one.
func isCreate(diff string) bool {
	for line := range strings.Lines(diff) {
		if strings.HasPrefix(line, "-") && !strings.HasPrefix(line, "--- a/") {
			return false
		}
	}
	return true
}
