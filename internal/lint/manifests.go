package lint

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/wdiazux/infra/lib/addons"
	"github.com/wdiazux/infra/lib/helmdeploy"
	"github.com/wdiazux/infra/lib/inventory"
)

// RenderedDir is the name under which findings in the rendered add-on
// manifests are reported and .trivyignore.yaml lists their paths:
// rendered/<release>/<template path as Helm's # Source>, e.g.
// rendered/longhorn/longhorn/templates/daemonset-sa.yaml — the add-on
// release longhorn, template templates/daemonset-sa.yaml of chart
// longhorn. No such directory exists in the repository.
const RenderedDir = "rendered"

// Rendered is the add-on manifests of a repository rendered to files.
type Rendered struct {
	// Dir holds the files: Dir/<release>/<template path>.
	Dir string
	// Files are the files, relative to Dir, in the releases' order.
	Files []string
	// KubeVersion is the inventory's Kubernetes version they were
	// rendered for.
	KubeVersion string
	// Unrendered are the releases whose chart the mirror (or repository)
	// does not hold: nothing of them is checked; the steps say so.
	Unrendered []Unrendered
}

// Unrendered is a release RenderAddons could not render.
type Unrendered struct {
	// Release is the release's name; Reason the chart lookup's error.
	Release, Reason string
}

// RenderAddons renders every add-on release of the repository at root
// (addons.Releases of its homelab.yaml, values computed from the
// inventory) offline, as the add-on deployment would install them
// (helmdeploy.Template with the inventory's Kubernetes version and, as
// served API versions, those of every CRD the add-ons and the mirror's
// crds/ define; the CRDs included), charts from mirror (a folder or URL; empty: the charts'
// repositories), and writes one file per template to dir/<release>/<path>.
func RenderAddons(ctx context.Context, root, mirror, dir string) (*Rendered, error) {
	invFile := filepath.Join(root, inventory.DefaultFile)
	inv, err := inventory.Load(invFile)
	if err != nil {
		return nil, fmt.Errorf("render the add-on manifests: %w", err)
	}
	releases, err := addons.Releases(inv, root)
	if err != nil {
		return nil, fmt.Errorf("render the add-on manifests of %s: %w", invFile, err)
	}
	var opts []helmdeploy.Option
	if mirror != "" {
		opts = append(opts, helmdeploy.WithMirror(mirror))
	}
	if _, err := helmdeploy.Order(releases); err != nil {
		return nil, fmt.Errorf("render the add-on manifests of %s: %w", invFile, err)
	}
	caps := helmdeploy.Capabilities{KubeVersion: inv.Kubernetes.Version}
	// First without, then with the API versions of every CRD the set
	// installs (and the mirror's crds/: the operators'), as a cluster
	// running the add-ons serves them to the charts that ask.
	first, _, err := renderEach(ctx, releases, caps, opts)
	if err != nil {
		return nil, fmt.Errorf("render the add-on manifests of %s (chart mirror %q): %w", invFile, mirror, err)
	}
	caps.APIVersions, err = crdAPIVersions(first, mirror)
	if err != nil {
		return nil, fmt.Errorf("render the add-on manifests: %w", err)
	}
	rendered, unrendered, err := renderEach(ctx, releases, caps, opts)
	if err != nil {
		return nil, fmt.Errorf("render the add-on manifests of %s (chart mirror %q): %w", invFile, mirror, err)
	}
	out := &Rendered{Dir: dir, KubeVersion: inv.Kubernetes.Version, Unrendered: unrendered}
	if err := out.write(rendered); err != nil {
		return nil, err
	}
	return out, nil
}

// renderEach renders the releases one at a time, so that a chart the
// mirror does not hold leaves the others checked: those are returned as
// Unrendered.
func renderEach(ctx context.Context, releases []helmdeploy.Release, caps helmdeploy.Capabilities, opts []helmdeploy.Option) ([]helmdeploy.Rendered, []Unrendered, error) {
	var out []helmdeploy.Rendered
	var unrendered []Unrendered
	for _, rel := range releases {
		rel.DependsOn = nil
		r, err := helmdeploy.Template(ctx, []helmdeploy.Release{rel}, caps, opts...)
		var notFound *helmdeploy.ChartNotFoundError
		if errors.As(err, &notFound) {
			unrendered = append(unrendered, Unrendered{Release: rel.Name, Reason: err.Error()})
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		out = append(out, r...)
	}
	return out, unrendered, nil
}

// crdAPIVersions returns "group/version" and "group/version/Kind" of the
// CRDs among the rendered files and in the mirror's crds/ (a folder).
func crdAPIVersions(rendered []helmdeploy.Rendered, mirror string) ([]string, error) {
	var crds [][]byte
	for _, r := range rendered {
		for _, f := range r.Files {
			docs, err := splitYAML(path.Join(r.Release, f.Path), f.Content)
			if err != nil {
				return nil, err
			}
			for _, d := range docs {
				if d.APIVersion == "apiextensions.k8s.io/v1" && d.Kind == "CustomResourceDefinition" {
					crds = append(crds, d.Raw)
				}
			}
		}
	}
	if mirror != "" {
		files, _ := filepath.Glob(filepath.Join(mirror, "crds", "*.yaml"))
		extra, err := crdDocuments(files)
		if err != nil {
			return nil, err
		}
		crds = append(crds, extra...)
	}
	var out []string
	for _, c := range crds {
		for _, gvk := range crdKinds(c) {
			gv := gvk[:strings.LastIndex(gvk, "/")]
			if !slices.Contains(out, gv) {
				out = append(out, gv)
			}
			out = append(out, gvk)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// write writes the rendered releases' files below r.Dir.
func (out *Rendered) write(rendered []helmdeploy.Rendered) error {
	dir := out.Dir
	for _, r := range rendered {
		for _, f := range r.Files {
			rel := path.Join(r.Release, f.Path)
			if !filepath.IsLocal(rel) || f.Path == "" {
				return fmt.Errorf("render the add-on manifests: release %s has a template named %q, which is no path inside its folder", r.Release, f.Path)
			}
			file := filepath.Join(dir, filepath.FromSlash(rel))
			if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
				return fmt.Errorf("render the add-on manifests: %w", err)
			}
			if err := os.WriteFile(file, f.Content, 0o644); err != nil {
				return fmt.Errorf("render the add-on manifests: %w", err)
			}
			out.Files = append(out.Files, rel)
		}
	}
	return nil
}

// renderForStep returns the add-on manifests rendered into a temporary
// folder for a step, and what to call when the step is done. Within Run
// they are rendered once, by the first step that asks, and reused by the
// next (env.renders); Run removes the folder when it ends. A step run on
// its own renders for itself and its done removes the folder.
func renderForStep(ctx context.Context, env *Env) (*Rendered, func(), error) {
	if c := env.renders; c != nil {
		if !c.done {
			c.rendered, c.cleanup, c.err = renderTemp(ctx, env)
			c.done = true
		}
		return c.rendered, func() {}, c.err
	}
	return renderTemp(ctx, env)
}

// renderTemp renders the add-on manifests into a new temporary folder;
// cleanup removes it (nil on error: nothing is left).
func renderTemp(ctx context.Context, env *Env) (*Rendered, func(), error) {
	dir, err := os.MkdirTemp("", "lint-rendered-")
	if err != nil {
		return nil, nil, fmt.Errorf("render the add-on manifests: %w", err)
	}
	cleanup := func() { os.RemoveAll(dir) }
	render := env.render
	if render == nil {
		render = RenderAddons
	}
	r, err := render(ctx, env.Root, env.ChartMirror, dir)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return r, cleanup, nil
}

// renderCache is the rendering the manifest steps of one Run share: the
// first step's result, its error included, and how to remove its folder.
type renderCache struct {
	done     bool
	rendered *Rendered
	err      error
	cleanup  func()
}

// close removes the rendered folder, if any.
func (c *renderCache) close() {
	if c.cleanup != nil {
		c.cleanup()
	}
}

// renderedName is how a finding names a rendered file (relative to the
// Rendered's Dir): rendered/<release>/<path>.
func renderedName(rel string) string {
	return path.Join(RenderedDir, filepath.ToSlash(rel))
}

// stagedUnder reports whether the step has anything to check under the
// repository folders dirs: always without Env.Files, else when a staged
// file is under one of them.
func stagedUnder(env *Env, dirs ...string) bool {
	if env.Files == nil {
		return true
	}
	for _, f := range env.Files {
		f = filepath.ToSlash(f)
		for _, d := range dirs {
			if strings.HasPrefix(f, d+"/") || f == d {
				return true
			}
		}
	}
	return false
}
