package lint

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/wdiazux/infra/internal/kubetest"
)

// schemaFormat is the version of the schema conversion below: changing
// the conversion changes it, so cached schemas of an older conversion are
// not used.
const schemaFormat = "2"

// SchemaLocation is kubeconform's -schema-location template for the
// folder Schemas writes: <dir>/<kind>_<group>_<version>.json, the group of
// the core API being "v1" (kubeconform's .Group is the part of apiVersion
// before the slash, the whole apiVersion when it has none).
const SchemaLocation = "{{ .ResourceKind }}_{{ .Group }}_{{ .ResourceAPIVersion }}.json"

// schemaFile is the file name SchemaLocation gives a kind.
func schemaFile(group, version, kind string) string {
	if group == "" {
		group = version
	} else {
		group = strings.Split(group, "/")[0]
	}
	return strings.ToLower(kind) + "_" + group + "_" + version + ".json"
}

// Schemas returns the folder of JSON schemas kubeconform validates with
// (SchemaLocation), made from the OpenAPI (v2) of the real kube-apiserver
// of the tool cache (kubetest.Start; inventoryFile's tools: name the
// kube-apiserver and etcd versions, serverVersion is the former) with crds
// (YAML documents, each a CustomResourceDefinition) applied. They are kept
// under cacheDir/kubeconform-schemas/<serverVersion>-<hash of the CRDs>: a
// second call with the same version and CRDs starts no API server
// (generated is false).
func Schemas(ctx context.Context, cacheDir, inventoryFile, serverVersion string, crds [][]byte) (dir string, generated bool, err error) {
	sorted := slices.Clone(crds)
	slices.SortFunc(sorted, bytes.Compare)
	h := sha256.New()
	io.WriteString(h, "format "+schemaFormat+"\n")
	for _, c := range sorted {
		h.Write(c)
		io.WriteString(h, "\n---\n")
	}
	dir = filepath.Join(cacheDir, "kubeconform-schemas", serverVersion+"-"+hex.EncodeToString(h.Sum(nil))[:16])
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err == nil {
		return dir, false, nil
	}
	if err := generateSchemas(ctx, dir, inventoryFile, sorted); err != nil {
		return "", false, err
	}
	return dir, true, nil
}

// generateSchemas starts the API server, applies the CRDs, reads its
// OpenAPI and writes the schemas to dir (through a temporary folder
// beside it, renamed when complete).
func generateSchemas(ctx context.Context, dir, inventoryFile string, crds [][]byte) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("kubeconform schemas: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".tmp-")
	if err != nil {
		return fmt.Errorf("kubeconform schemas: %w", err)
	}
	defer os.RemoveAll(tmp)
	srv, err := kubetest.Start(ctx, kubetest.WithInventory(inventoryFile))
	if err != nil {
		return fmt.Errorf("kubeconform schemas: start the test API server: %w", err)
	}
	defer srv.Stop()
	want := map[string]bool{} // group/version/kind of each CRD
	if len(crds) > 0 {
		file := filepath.Join(tmp, "crds.yaml")
		if err := os.WriteFile(file, bytes.Join(crds, []byte("\n---\n")), 0o644); err != nil {
			return fmt.Errorf("kubeconform schemas: %w", err)
		}
		cfg := srv.Config()
		cfg.WarningHandler = rest.NoWarnings{} // the CRDs' unknown formats (int64) are the charts'
		if err := kubetest.ApplyCRDFile(ctx, cfg, file); err != nil {
			return fmt.Errorf("kubeconform schemas: %w", err)
		}
		os.Remove(file)
		for _, c := range crds {
			for _, gvk := range crdKinds(c) {
				want[gvk] = true
			}
		}
	}
	cs, err := kubernetes.NewForConfig(srv.Config())
	if err != nil {
		return fmt.Errorf("kubeconform schemas: client: %w", err)
	}
	// The server publishes a CRD's schema a moment after establishing it.
	deadline := time.Now().Add(time.Minute)
	for {
		raw, err := cs.Discovery().RESTClient().Get().AbsPath("/openapi/v2").SetHeader("Accept", "application/json").DoRaw(ctx)
		if err != nil {
			return fmt.Errorf("kubeconform schemas: GET /openapi/v2 of %s: %w", srv.Config().Host, err)
		}
		written, err := writeSchemas(raw, tmp)
		if err != nil {
			return err
		}
		var missing []string
		for gvk := range want {
			if !written[gvk] {
				missing = append(missing, gvk)
			}
		}
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			slices.Sort(missing)
			return fmt.Errorf("kubeconform schemas: the API server published no schema of %s a minute after their CRDs were established", strings.Join(missing, ", "))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	if err := os.WriteFile(filepath.Join(tmp, ".complete"), nil, 0o644); err != nil {
		return fmt.Errorf("kubeconform schemas: %w", err)
	}
	os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("kubeconform schemas: %w", err)
	}
	return nil
}

// crdKinds returns "group/version/Kind" of each served version of a CRD
// document.
func crdKinds(doc []byte) []string {
	var crd struct {
		Spec struct {
			Group string `json:"group"`
			Names struct {
				Kind string `json:"kind"`
			} `json:"names"`
			Versions []struct {
				Name   string `json:"name"`
				Served bool   `json:"served"`
			} `json:"versions"`
		} `json:"spec"`
	}
	if yaml.Unmarshal(doc, &crd) != nil {
		return nil
	}
	var out []string
	for _, v := range crd.Spec.Versions {
		if v.Served {
			out = append(out, crd.Spec.Group+"/"+v.Name+"/"+crd.Spec.Names.Kind)
		}
	}
	return out
}

// writeSchemas converts an OpenAPI v2 document to one JSON schema per
// kind in dir (schemaFile names) and returns the "group/version/Kind"
// written.
func writeSchemas(openapi []byte, dir string) (map[string]bool, error) {
	var doc struct {
		Definitions map[string]map[string]any `json:"definitions"`
	}
	if err := json.Unmarshal(openapi, &doc); err != nil {
		return nil, fmt.Errorf("kubeconform schemas: the API server's /openapi/v2 is no OpenAPI document: %w", err)
	}
	written := map[string]bool{}
	for name, def := range doc.Definitions {
		gvks, _ := def["x-kubernetes-group-version-kind"].([]any)
		for _, g := range gvks {
			gvk, _ := g.(map[string]any)
			group, _ := gvk["group"].(string)
			version, _ := gvk["version"].(string)
			kind, _ := gvk["kind"].(string)
			if version == "" || kind == "" {
				continue
			}
			schema := strictSchema(doc.Definitions, name)
			data, err := json.Marshal(schema)
			if err != nil {
				return nil, fmt.Errorf("kubeconform schemas: %s: %w", name, err)
			}
			if err := os.WriteFile(filepath.Join(dir, schemaFile(group, version, kind)), data, 0o644); err != nil {
				return nil, fmt.Errorf("kubeconform schemas: %w", err)
			}
			written[group+"/"+version+"/"+kind] = true
		}
	}
	return written, nil
}

// strictSchema is the standalone schema of definition name, converted
// by strict: every definition it refers to is inlined (kubeconform reports
// only the first level of a schema's errors, so a $ref would hide where an
// object is wrong: "/spec: validation failed"), except a definition that
// refers to itself (a CRD's JSONSchemaProps), kept once under
// "definitions".
func strictSchema(defs map[string]map[string]any, name string) map[string]any {
	kept := map[string]any{}
	var inline func(v any, stack []string) any
	inline = func(v any, stack []string) any {
		switch t := v.(type) {
		case map[string]any:
			if ref, ok := t["$ref"].(string); ok {
				if d, ok := strings.CutPrefix(ref, "#/definitions/"); ok {
					if slices.Contains(stack, d) {
						if _, done := kept[d]; !done {
							kept[d] = nil // placeholder: being built
							kept[d] = inline(strict(defs[d], d), []string{d})
						}
						return map[string]any{"$ref": ref}
					}
					target := inline(strict(defs[d], d), append(slices.Clone(stack), d)).(map[string]any)
					out := make(map[string]any, len(target)+len(t))
					for k, x := range target {
						out[k] = x
					}
					for k, x := range t {
						if k != "$ref" {
							out[k] = inline(x, stack)
						}
					}
					return out
				}
			}
			out := make(map[string]any, len(t))
			for k, x := range t {
				out[k] = inline(x, stack)
			}
			return out
		case []any:
			out := make([]any, len(t))
			for i, x := range t {
				out[i] = inline(x, stack)
			}
			return out
		default:
			return v
		}
	}
	out := inline(strict(defs[name], name), []string{name}).(map[string]any)
	if len(kept) > 0 {
		out["definitions"] = kept
	}
	out["$schema"] = "http://json-schema.org/draft-07/schema#"
	return out
}

// strict converts an OpenAPI v2 schema (name: its definition's name, ""
// inside) to the JSON schema kubeconform -strict checks against, as the
// API server reads objects:
//   - an object with properties refuses others (additionalProperties:
//     false) unless it preserves unknown fields;
//   - every typed value may be null (the server takes null as unset);
//   - int-or-string is a string or an integer, a Quantity a string or a
//     number (OpenAPI v2 calls both strings).
func strict(v any, name string) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t)+1)
		for k, x := range t {
			out[k] = strict(x, "")
		}
		if name == "io.k8s.apimachinery.pkg.api.resource.Quantity" {
			delete(out, "type")
			out["oneOf"] = []any{map[string]any{"type": []any{"string", "null"}}, map[string]any{"type": "number"}}
			return out
		}
		if out["format"] == "int-or-string" {
			delete(out, "type")
			delete(out, "format")
			out["oneOf"] = []any{map[string]any{"type": []any{"string", "null"}}, map[string]any{"type": "integer"}}
			return out
		}
		if props, ok := out["properties"].(map[string]any); ok && len(props) > 0 {
			if _, set := out["additionalProperties"]; !set && out["x-kubernetes-preserve-unknown-fields"] != true {
				out["additionalProperties"] = false
			}
		}
		if typ, ok := out["type"].(string); ok {
			out["type"] = []any{typ, "null"}
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = strict(x, "")
		}
		return out
	default:
		return v
	}
}

// crdDocuments returns the CustomResourceDefinition documents of the
// YAML files (each document as written), skipping other documents.
func crdDocuments(files []string) ([][]byte, error) {
	var out [][]byte
	for _, f := range files {
		docs, err := yamlDocuments(f)
		if err != nil {
			return nil, err
		}
		for _, d := range docs {
			if d.APIVersion == "apiextensions.k8s.io/v1" && d.Kind == "CustomResourceDefinition" {
				out = append(out, d.Raw)
			}
		}
	}
	return out, nil
}

// yamlDoc is one document of a YAML file.
type yamlDoc struct {
	// Line is the document's first line in the file.
	Line int
	// APIVersion, Kind and Name are the object's (empty when not one).
	APIVersion, Kind, Name string
	// Raw is the document.
	Raw []byte
}

// yamlDocuments splits a YAML file into its documents (separated by
// lines "---"), empty ones left out.
func yamlDocuments(file string) ([]yamlDoc, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return splitYAML(file, data)
}

// splitYAML splits YAML data (named file in errors) into its documents.
func splitYAML(file string, data []byte) ([]yamlDoc, error) {
	var docs []yamlDoc
	lines := strings.SplitAfter(string(data), "\n")
	start := 0
	flush := func(end int) error {
		raw := strings.Join(lines[start:end], "")
		first := start + 1
		for i := start; i < end && (strings.TrimSpace(lines[i]) == "" || strings.HasPrefix(strings.TrimSpace(lines[i]), "#")); i++ {
			first = i + 2
		}
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(raw), &head); err != nil {
			return fmt.Errorf("%s:%d: %w", file, start+1, err)
		}
		if strings.TrimSpace(raw) != "" && (head.APIVersion != "" || head.Kind != "" || hasContent(raw)) {
			docs = append(docs, yamlDoc{Line: first, APIVersion: head.APIVersion, Kind: head.Kind, Name: head.Metadata.Name, Raw: []byte(raw)})
		}
		return nil
	}
	for i, l := range lines {
		if strings.TrimRight(l, "\r\n") == "---" || strings.HasPrefix(l, "--- ") {
			if err := flush(i); err != nil {
				return nil, err
			}
			start = i + 1
		}
	}
	if err := flush(len(lines)); err != nil {
		return nil, err
	}
	return docs, nil
}

// hasContent reports whether a document holds more than comments.
func hasContent(raw string) bool {
	for l := range strings.SplitSeq(raw, "\n") {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
			return true
		}
	}
	return false
}
