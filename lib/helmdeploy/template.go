package helmdeploy

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	release "helm.sh/helm/v4/pkg/release/v1"
)

// Capabilities are what the charts' templates see of the cluster when
// Template renders them offline (.Capabilities).
type Capabilities struct {
	// KubeVersion is the cluster's Kubernetes version, e.g. "v1.34.4"
	// (required: charts refuse or adapt to versions).
	KubeVersion string
	// APIVersions are served group/versions (or group/version/Kind) in
	// addition to Helm's defaults, e.g. "monitoring.coreos.com/v1" for a
	// chart that renders ServiceMonitors only when the cluster serves them.
	APIVersions []string
}

// RenderedFile is one template's output.
type RenderedFile struct {
	// Path is the template's path as Helm names it in "# Source:",
	// e.g. "cilium/templates/cilium-agent/daemonset.yaml", a subchart's
	// "kube-prometheus-stack/charts/grafana/templates/…", a CRD file's
	// "longhorn/crds/…"; a Manifests release's is
	// "<release>/templates/manifests.yaml".
	Path string
	// Content is the template's YAML documents, separated by "---".
	Content []byte
	// Hook is true for a Helm hook (installed around the release, not
	// part of its manifest).
	Hook bool
}

// Rendered is one release rendered by Template.
type Rendered struct {
	// Release and Namespace name the release.
	Release, Namespace string
	// Files are its templates' outputs in Helm's install order: the
	// chart's CRDs, the manifest, then the hooks (helm test's hooks left
	// out: nothing installs them).
	Files []RenderedFile
}

// Template renders each release to Kubernetes objects offline, as
// `helm template --include-crds` does: client-only, with caps as the
// cluster's capabilities, no API server contacted, helm test's hooks left
// out (--skip-tests). Charts come from their
// repositories or the mirror (WithMirror) through the chart cache, exactly
// as Apply loads them, and each release's values are checked against its
// chart's schema first. The set is validated and ordered as by Order. A
// release that does not render is an error naming it and the chart.
func Template(ctx context.Context, releases []Release, caps Capabilities, opts ...Option) ([]Rendered, error) {
	o, err := newOptions("helmdeploy.Template", opts)
	if err != nil {
		return nil, err
	}
	kv, err := common.ParseKubeVersion(caps.KubeVersion)
	if err != nil {
		return nil, fmt.Errorf("helmdeploy.Template: Capabilities.KubeVersion %q: %w; give the cluster's version, e.g. v1.34.4", caps.KubeVersion, err)
	}
	d := &Deployer{opts: o}
	ps, err := d.load(ctx, releases, applyOptions{})
	if err != nil {
		return nil, err
	}
	out := make([]Rendered, 0, len(ps))
	for _, p := range ps {
		r, err := renderClient(ctx, p, kv, caps.APIVersions)
		if err != nil {
			return out, fmt.Errorf("release %s (chart %s %s): render: %w", p.Name, p.chart.Name(), p.chart.Metadata.Version, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// renderClient renders one loaded release client-side (Helm's client dry
// run: an in-memory release store, no cluster).
func renderClient(ctx context.Context, p prepared, kv *common.KubeVersion, apiVersions []string) (Rendered, error) {
	cfg := action.NewConfiguration()
	cfg.SetLogger(slog.DiscardHandler)
	in := action.NewInstall(cfg)
	in.ReleaseName, in.Namespace, in.DryRunStrategy = p.Name, p.Namespace, action.DryRunClient
	in.KubeVersion, in.APIVersions, in.IncludeCRDs = kv, slices.Clone(apiVersions), true
	rel, err := in.RunWithContext(ctx, p.chart, p.values)
	if err != nil {
		return Rendered{}, err
	}
	r, ok := rel.(*release.Release)
	if !ok || r == nil {
		return Rendered{}, fmt.Errorf("client dry run returned %T", rel)
	}
	out := Rendered{Release: p.Name, Namespace: p.Namespace, Files: splitSources(r.Manifest)}
	for _, h := range r.Hooks {
		if onlyTest(h) {
			continue // helm test's, never installed (helm template --skip-tests)
		}
		out.Files = append(out.Files, RenderedFile{Path: h.Path, Content: []byte(strings.TrimSpace(h.Manifest) + "\n"), Hook: true})
	}
	return out, nil
}

// splitSources splits a release manifest into its templates by the
// "# Source: path" line Helm writes before each document; a document
// without one (a template or CRD file holding several, "---" inside)
// belongs to the last source named; documents of the same template are
// joined again with "---".
func splitSources(manifest string) []RenderedFile {
	var files []RenderedFile
	index := map[string]int{}
	path := ""
	for _, doc := range strings.Split(manifest, "\n---\n") {
		doc = strings.TrimPrefix(strings.TrimSpace(doc), "---\n")
		body := doc
		if src, rest, _ := strings.Cut(doc, "\n"); strings.HasPrefix(src, "# Source: ") {
			path, body = strings.TrimPrefix(src, "# Source: "), rest
		}
		body = strings.TrimSpace(body)
		if body == "" {
			continue
		}
		i, seen := index[path]
		if !seen {
			index[path] = len(files)
			files = append(files, RenderedFile{Path: path, Content: []byte(body + "\n")})
			continue
		}
		files[i].Content = append(files[i].Content, []byte("---\n"+body+"\n")...)
	}
	return files
}

// onlyTest reports whether the hook runs only for helm test.
func onlyTest(h *release.Hook) bool {
	return len(h.Events) > 0 && !slices.ContainsFunc(h.Events, func(e release.HookEvent) bool { return e != release.HookTest })
}
