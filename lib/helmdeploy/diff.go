package helmdeploy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/pmezard/go-difflib/difflib"
	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/kube"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	release "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// Change is how an object differs from what the cluster holds.
type Change string

// Changes of an ObjectDiff.
const (
	ChangeAdded   Change = "added"   // the cluster does not hold the object
	ChangeChanged Change = "changed" // the cluster holds it with other values
	ChangeRemoved Change = "removed" // the deployed revision has it, the new render not: it would be deleted
)

// ObjectDiff is one object that applying a release would change.
type ObjectDiff struct {
	// Release is the release rendering the object.
	Release string
	// APIVersion, Kind, Namespace and Name identify the object.
	APIVersion, Kind, Namespace, Name string
	// Change says how it differs.
	Change Change
	// Diff is a unified diff of the object as YAML, the cluster's ("a/")
	// against the rendered ("b/"), server-set fields left out.
	Diff string
}

// String gives e.g. "changed apps/v1 Deployment monitoring/grafana".
func (o ObjectDiff) String() string {
	return fmt.Sprintf("%s %s %s %s", o.Change, o.APIVersion, o.Kind, qualified(o.Namespace, o.Name))
}

// Diff renders each release (Helm's server-side dry run: lookups see the
// cluster) and returns the objects applying the releases would change:
// each rendered object is server-side applied with dryRun=All, as the
// release's field manager, and compared with the object the cluster holds
// now; objects of the deployed revision the render no longer has are
// marked removed. Fields the server sets (managedFields, status,
// resourceVersion, uid, creationTimestamp, generation) are left out and
// Secret values are replaced by their sha256, so an unchanged cluster gives
// no ObjectDiff at all. Charts, values and reachability are checked first,
// as by Apply. Nothing is changed on the cluster.
func (d *Deployer) Diff(ctx context.Context, releases []Release, opts ...ApplyOption) ([]ObjectDiff, error) {
	ps, err := d.prepare(ctx, releases, applyOptionsOf(opts))
	if err != nil {
		return nil, err
	}
	var out []ObjectDiff
	for _, p := range ps {
		diffs, err := d.diffOne(ctx, p)
		if err != nil {
			return out, err
		}
		out = append(out, diffs...)
	}
	return out, nil
}

func (d *Deployer) diffOne(ctx context.Context, p prepared) ([]ObjectDiff, error) {
	cfg, err := d.actionConfig(p.Namespace, p.Name)
	if err != nil {
		return nil, err
	}
	last, err := lastRevision(cfg, p.Name)
	if err != nil && !errors.Is(err, driver.ErrReleaseNotFound) {
		return nil, fmt.Errorf("release %s: history: %w", p.Name, err)
	}
	deployed := last != nil && last.Info != nil && last.Info.Status == rcommon.StatusDeployed
	manifest, err := renderServer(ctx, cfg, p, deployed)
	if err != nil {
		return nil, fmt.Errorf("release %s: server-side dry run: %w", p.Name, err)
	}
	objs, err := decodeObjects([]byte(manifest))
	if err != nil {
		return nil, fmt.Errorf("release %s: rendered manifest: %w", p.Name, err)
	}
	var out []ObjectDiff
	seen := map[string]bool{}
	for _, o := range objs {
		if o.GetNamespace() == "" {
			o.SetNamespace(p.Namespace)
		}
		setHelmMetadata(o, p.Name, p.Namespace)
		seen[objectKey(o)] = true
		live, err := d.opts.cluster.live(ctx, o)
		if err != nil {
			live = nil // a kind not served yet: the object is new
		}
		want, err := d.opts.cluster.dryRunApply(ctx, o, applyManager(live))
		if err != nil {
			if live != nil {
				return nil, fmt.Errorf("release %s: %w", p.Name, err)
			}
			// The namespace or the kind does not exist yet (both come
			// with an earlier release): show the object as rendered.
			want = o
		}
		if diff := objectDiff(p.Name, live, want); diff != nil {
			out = append(out, *diff)
		}
	}
	if deployed {
		old, err := decodeObjects([]byte(last.Manifest))
		if err != nil {
			return nil, fmt.Errorf("release %s: manifest of revision %d: %w", p.Name, last.Version, err)
		}
		for _, o := range old {
			if o.GetNamespace() == "" {
				o.SetNamespace(p.Namespace)
			}
			if seen[objectKey(o)] {
				continue
			}
			live, err := d.opts.cluster.live(ctx, o)
			if err != nil || live == nil {
				continue
			}
			diff := objectDiff(p.Name, live, nil)
			diff.Change = ChangeRemoved
			out = append(out, *diff)
		}
	}
	return out, nil
}

// renderServer renders the release as Helm would install or upgrade it,
// with a server-side dry run.
func renderServer(ctx context.Context, cfg *action.Configuration, p prepared, upgrade bool) (string, error) {
	var rel any
	var err error
	if upgrade {
		up := action.NewUpgrade(cfg)
		up.Namespace, up.DryRunStrategy, up.WaitStrategy = p.Namespace, action.DryRunServer, kube.HookOnlyStrategy
		rel, err = up.RunWithContext(ctx, p.Name, p.chart, p.values)
	} else {
		in := action.NewInstall(cfg)
		in.ReleaseName, in.Namespace, in.DryRunStrategy, in.WaitStrategy = p.Name, p.Namespace, action.DryRunServer, kube.HookOnlyStrategy
		rel, err = in.RunWithContext(ctx, p.chart, p.values)
	}
	if err != nil {
		return "", err
	}
	r, ok := rel.(*release.Release)
	if !ok || r == nil {
		return "", fmt.Errorf("dry run returned %T", rel)
	}
	return r.Manifest, nil
}

// setHelmMetadata adds what Helm adds to every object it applies, so the
// dry run does not show them removed.
func setHelmMetadata(o *unstructured.Unstructured, name, ns string) {
	l := o.GetLabels()
	if l == nil {
		l = map[string]string{}
	}
	l["app.kubernetes.io/managed-by"] = "Helm"
	o.SetLabels(l)
	a := o.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	a["meta.helm.sh/release-name"], a["meta.helm.sh/release-namespace"] = name, ns
	o.SetAnnotations(a)
}

// applyManager is the field manager Helm applies with: the live object's
// only Apply manager, else Helm's default (kube.ManagedFieldsManager or the
// program's name).
func applyManager(live *unstructured.Unstructured) string {
	if live != nil {
		var managers []string
		for _, m := range live.GetManagedFields() {
			if m.Operation == "Apply" && m.Subresource == "" {
				managers = append(managers, m.Manager)
			}
		}
		if len(managers) == 1 {
			return managers[0]
		}
	}
	if kube.ManagedFieldsManager != "" {
		return kube.ManagedFieldsManager
	}
	if os.Args[0] == "" {
		return "unknown"
	}
	return filepath.Base(os.Args[0])
}

func objectKey(o *unstructured.Unstructured) string {
	gvk := o.GroupVersionKind()
	return gvk.Group + "/" + gvk.Kind + "/" + o.GetNamespace() + "/" + o.GetName()
}

// objectDiff compares the live and wanted objects (either nil) without
// server-set fields; nil when they are alike.
func objectDiff(rel string, live, want *unstructured.Unstructured) *ObjectDiff {
	a, b := comparable(live), comparable(want)
	if a == b {
		return nil
	}
	ref := want
	change := ChangeChanged
	if live == nil {
		change = ChangeAdded
	} else {
		ref = live
	}
	od := &ObjectDiff{Release: rel, APIVersion: ref.GetAPIVersion(), Kind: ref.GetKind(), Namespace: ref.GetNamespace(), Name: ref.GetName(), Change: change}
	name := od.Kind + " " + qualified(od.Namespace, od.Name)
	text, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: difflib.SplitLines(a), B: difflib.SplitLines(b),
		FromFile: "a/" + name, ToFile: "b/" + name, Context: 3,
	})
	od.Diff = text
	return od
}

// serverSet are metadata fields the server sets.
var serverSet = []string{"managedFields", "resourceVersion", "uid", "creationTimestamp", "generation", "selfLink"}

// comparable returns the object as YAML without server-set fields and
// with Secret values hashed ("" for nil).
func comparable(o *unstructured.Unstructured) string {
	if o == nil {
		return ""
	}
	c := o.DeepCopy()
	for _, f := range serverSet {
		unstructured.RemoveNestedField(c.Object, "metadata", f)
	}
	unstructured.RemoveNestedField(c.Object, "status")
	if ann := c.GetAnnotations(); ann != nil {
		delete(ann, "kubectl.kubernetes.io/last-applied-configuration")
		if len(ann) == 0 {
			ann = nil
		}
		c.SetAnnotations(ann)
	}
	if c.GetKind() == "Secret" && c.GroupVersionKind().Group == "" {
		for _, field := range []string{"data", "stringData"} {
			m, ok, _ := unstructured.NestedMap(c.Object, field)
			if !ok {
				continue
			}
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				sum := sha256.Sum256([]byte(fmt.Sprint(m[k])))
				m[k] = "sha256:" + hex.EncodeToString(sum[:8])
			}
			_ = unstructured.SetNestedMap(c.Object, m, field)
		}
	}
	b, err := yaml.Marshal(c.Object)
	if err != nil {
		return fmt.Sprintf("%v", c.Object)
	}
	return string(b)
}
