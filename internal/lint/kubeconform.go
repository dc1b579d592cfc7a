package lint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/wdiazux/infra/internal/testsuite"
	"github.com/wdiazux/infra/internal/toolchain"
	"github.com/wdiazux/infra/lib/inventory"
)

// SkippedKinds are the kinds kubeconform does not check, as
// apiVersion/Kind, each with the reason (docs/operations/quality.md lists
// them too). Every other kind needs a schema: one missing is a finding.
var SkippedKinds = map[string]string{
	"kustomize.config.k8s.io/v1beta1/Kustomization": "kustomize's own input file (kubernetes/*/config/kustomization.yaml), read by kustomize in lib/addons, never sent to an API server: no API server serves a schema of it",
}

// Kubeconform is the step kubeconform: kubeconform -strict over the
// Kubernetes objects of kubernetes/ (the files whose documents have an
// apiVersion and a kind) and the rendered add-on manifests (RenderAddons),
// against schemas made from the test API server's OpenAPI with the CRDs
// the rendered manifests hold and those of the chart mirror's crds/
// folder (the operators' CRDs, e.g. Cilium's LB-IPAM and L2 announcement
// kinds) applied; the schemas are cached in the tool cache (Schemas).
// Each invalid object, and each object whose kind has no schema, is a
// finding naming the file and the object's first line. With Env.Files it
// runs when a staged file is under kubernetes/ or is homelab.yaml.
func Kubeconform() Step {
	return manifestStep("kubeconform", []string{"kubeconform", "kube-apiserver", "etcd"}, []string{"kubernetes", "homelab.yaml"}, func(ctx context.Context, env *Env, bin string, rendered *Rendered) (Result, error) {
		cache, err := toolchain.CacheDir()
		if err != nil {
			return Result{}, err
		}
		files, err := kubeconformFiles(env.Root, rendered)
		if err != nil {
			return Result{}, err
		}
		schemas, generated, err := schemasFor(ctx, cache, env.Root, env.ChartMirror, files)
		if err != nil {
			return Result{}, err
		}
		if env.Log != nil {
			env.Log.Info("kubeconform schemas", "dir", schemas, "generated", generated)
		}
		res, _, err := runKubeconform(ctx, bin, schemas, files)
		return res, err
	})
}

// kubeconformFile is a file kubeconform checks: its place on disk and
// its name in findings.
type kubeconformFile struct {
	Path, Name string
}

// kubeconformFiles returns the files the step checks: the YAML files of
// root's kubernetes/ whose documents are Kubernetes objects, and the
// rendered files.
func kubeconformFiles(root string, rendered *Rendered) ([]kubeconformFile, error) {
	var out []kubeconformFile
	top := filepath.Join(root, "kubernetes")
	err := filepath.WalkDir(top, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			return nil
		}
		docs, err := yamlDocuments(path)
		if err != nil {
			return err
		}
		if len(docs) == 0 || slices.ContainsFunc(docs, func(d yamlDoc) bool { return d.APIVersion == "" || d.Kind == "" }) {
			return nil // values files, not objects
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		out = append(out, kubeconformFile{Path: path, Name: filepath.ToSlash(rel)})
		return nil
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("kubeconform: the objects under %s: %w", top, err)
	}
	if rendered != nil {
		for _, f := range rendered.Files {
			out = append(out, kubeconformFile{Path: filepath.Join(rendered.Dir, filepath.FromSlash(f)), Name: renderedName(f)})
		}
	}
	return out, nil
}

// schemasFor returns the schema folder for the files' CRDs and the
// mirror's crds/ (when the mirror is a folder), from the test API server
// at the version root's inventory pins for it (tools: kube-apiserver).
func schemasFor(ctx context.Context, cache, root, mirror string, files []kubeconformFile) (string, bool, error) {
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = f.Path
	}
	if mirror != "" {
		extra, _ := filepath.Glob(filepath.Join(mirror, "crds", "*.yaml"))
		paths = append(paths, extra...)
	}
	crds, err := crdDocuments(paths)
	if err != nil {
		return "", false, fmt.Errorf("kubeconform: %w", err)
	}
	invFile := filepath.Join(root, inventory.DefaultFile)
	server, err := testsuite.GoTool(invFile, "kube-apiserver")
	if err != nil {
		return "", false, fmt.Errorf("kubeconform: the test API server's version: %w", err)
	}
	return Schemas(ctx, cache, invFile, "v"+strings.TrimPrefix(server.Version, "v"), crds)
}

// runKubeconform runs kubeconform -strict on the files against the
// schemas and returns the result and kubeconform's exit status.
func runKubeconform(ctx context.Context, bin, schemas string, files []kubeconformFile) (Result, int, error) {
	if len(files) == 0 {
		return Result{}, 0, nil
	}
	skip := make([]string, 0, len(SkippedKinds))
	for k := range SkippedKinds {
		skip = append(skip, k)
	}
	slices.Sort(skip)
	args := []string{"-strict", "-summary", "-output", "json", "-schema-location", filepath.Join(schemas, SchemaLocation), "-skip", strings.Join(skip, ",")}
	byPath := map[string]kubeconformFile{}
	for _, f := range files {
		args = append(args, f.Path)
		byPath[f.Path] = f
	}
	run, err := toolchain.RunOutput(ctx, bin, args...)
	if err != nil {
		return Result{}, 0, err
	}
	code, stderr := run.Code, string(run.Stderr)
	var out struct {
		Resources []struct {
			Filename         string `json:"filename"`
			Kind             string `json:"kind"`
			Name             string `json:"name"`
			Version          string `json:"version"`
			Status           string `json:"status"`
			Msg              string `json:"msg"`
			ValidationErrors []struct {
				Path string `json:"path"`
				Msg  string `json:"msg"`
			} `json:"validationErrors"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(run.Stdout, &out); err != nil {
		return Result{}, code, fmt.Errorf("kubeconform exited with status %d and printed no JSON report (%w): %s", code, err, strings.TrimSpace(stderr+string(run.Stdout)))
	}
	res := Result{Files: len(files)}
	for _, r := range out.Resources {
		if r.Status == "statusValid" || r.Status == "statusSkipped" || r.Status == "statusEmpty" {
			continue
		}
		f := Finding{Tool: "kubeconform", File: r.Filename, Rule: strings.ToLower(strings.TrimPrefix(r.Status, "status"))}
		if kf, ok := byPath[r.Filename]; ok {
			f.File = kf.Name
			f.Line = objectLine(kf.Path, r.Version, r.Kind, r.Name)
		}
		object := strings.TrimSpace(r.Version + " " + r.Kind + " " + r.Name)
		if len(r.ValidationErrors) == 0 {
			f.Message = object + ": " + r.Msg
			if strings.Contains(r.Msg, "could not find schema") {
				f.Rule = "no-schema"
				f.Message = object + ": no schema for " + r.Version + " " + r.Kind + ": its CRD is neither among the rendered manifests nor in the chart mirror's crds/ folder"
			}
			res.Findings = append(res.Findings, f)
			continue
		}
		for _, e := range r.ValidationErrors {
			g := f
			g.Message = object + ": " + e.Path + ": " + e.Msg
			res.Findings = append(res.Findings, g)
		}
	}
	if code != 0 && len(res.Findings) == 0 {
		return Result{}, code, fmt.Errorf("kubeconform exited with status %d and reported nothing: %s", code, strings.TrimSpace(stderr))
	}
	return res, code, nil
}

// objectLine is the first line of the document of file holding the
// object (0 when not found).
func objectLine(file, apiVersion, kind, name string) int {
	docs, err := yamlDocuments(file)
	if err != nil {
		return 0
	}
	for _, d := range docs {
		if d.APIVersion == apiVersion && d.Kind == kind && d.Name == name {
			return d.Line
		}
	}
	return 0
}
