package addons_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	k8syaml "sigs.k8s.io/yaml"
)

// crdSchemas maps "group/version/Kind" to the CRD's schema, from the
// offline repository's Cilium CRDs and the flux2 chart.
func crdSchemas(t *testing.T) map[string]*apiextv1.JSONSchemaProps {
	t.Helper()
	dir := requireCharts(t)
	var docs []string
	data, err := os.ReadFile(filepath.Join(dir, "crds", "cilium-l2-lb.yaml"))
	require.NoError(t, err)
	docs = append(docs, strings.Split(string(data), "\n---")...)
	flux := byName(releases(t, loadHomelab(t)))["flux2"]
	ch, err := loader.Load(filepath.Join(dir, "flux2-"+flux.Chart.Version+".tgz"))
	require.NoError(t, err)
	manifest, err := render(ch, flux)
	require.NoError(t, err)
	docs = append(docs, strings.Split(manifest, "\n---")...)
	out := map[string]*apiextv1.JSONSchemaProps{}
	for _, doc := range docs {
		var crd apiextv1.CustomResourceDefinition
		if err := k8syaml.Unmarshal([]byte(doc), &crd); err != nil || crd.Kind != "CustomResourceDefinition" {
			continue
		}
		for _, v := range crd.Spec.Versions {
			if v.Schema != nil && v.Served {
				out[crd.Spec.Group+"/"+v.Name+"/"+crd.Spec.Names.Kind] = v.Schema.OpenAPIV3Schema
			}
		}
	}
	require.NotEmpty(t, out)
	return out
}

// unknownFields lists the fields of o its schema does not declare (the API
// server would drop them silently).
func unknownFields(path string, o any, s *apiextv1.JSONSchemaProps) []string {
	if s == nil || (s.XPreserveUnknownFields != nil && *s.XPreserveUnknownFields) {
		return nil
	}
	var out []string
	switch v := o.(type) {
	case map[string]any:
		if len(s.Properties) == 0 {
			return nil
		}
		for k, x := range v {
			if path == "" && (k == "apiVersion" || k == "kind" || k == "metadata") {
				continue
			}
			p, ok := s.Properties[k]
			if !ok {
				out = append(out, path+"."+k)
				continue
			}
			out = append(out, unknownFields(path+"."+k, x, &p)...)
		}
	case []any:
		if s.Items != nil {
			for _, x := range v {
				out = append(out, unknownFields(path+"[]", x, s.Items.Schema)...)
			}
		}
	}
	return out
}

// TestConfigObjectsPassTheirCRDs validates every custom resource of the
// config releases against its CRD's schema, as the API server would, and
// refuses fields the schema does not declare.
func TestConfigObjectsPassTheirCRDs(t *testing.T) {
	schemas := crdSchemas(t)
	n := 0
	for _, r := range releases(t, loadHomelab(t)) {
		if r.Manifests == nil {
			continue
		}
		for key, o := range parseObjects(t, string(r.Manifests)) {
			apiVersion := o["apiVersion"].(string)
			if !strings.Contains(apiVersion, "/") || strings.HasSuffix(apiVersion, ".k8s.io/v1") {
				continue // built-in kinds
			}
			v1schema, ok := schemas[apiVersion+"/"+o["kind"].(string)]
			require.True(t, ok, "%s %s: no CRD for %s", r.Name, key, apiVersion)
			require.Empty(t, validateCR(t, o, v1schema), "%s %s", r.Name, key)
			n++
			if key == "Kustomization/apps" {
				// The validation has teeth: Flux decrypts with sops only.
				get(o, "spec", "decryption").(map[string]any)["provider"] = "gpg"
				require.NotEmpty(t, validateCR(t, o, v1schema))
			}
		}
	}
	require.Equal(t, 6, n, "the two pools, the L2 policy, the GitRepository, the Kustomization and the Receiver")
}

// validateCR is what the API server says of o against its CRD schema, plus
// the fields the schema does not declare.
func validateCR(t *testing.T, o map[string]any, v1schema *apiextv1.JSONSchemaProps) []string {
	t.Helper()
	var internal apiextensions.JSONSchemaProps
	require.NoError(t, apiextv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(v1schema, &internal, nil))
	validator, _, err := validation.NewSchemaValidator(&internal)
	require.NoError(t, err)
	var out []string
	for _, e := range validation.ValidateCustomResource(field.NewPath(""), o, validator) {
		out = append(out, e.Error())
	}
	return append(out, unknownFields("", o, v1schema)...)
}
