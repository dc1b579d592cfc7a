package helmdeploy

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// manifestsFile is the file of a Manifests release's in-memory chart that
// holds the manifests; its only template includes it verbatim, so "{{" in
// a manifest is never taken for a template action.
const (
	manifestsFile    = "manifests.yaml"
	manifestsVersion = "1.0.0"
)

// manifestChart builds the chart of a Manifests release.
func manifestChart(name string, manifests []byte) *chart.Chart {
	return &chart.Chart{
		Metadata: &chart.Metadata{APIVersion: chart.APIVersionV2, Name: name, Version: manifestsVersion, Type: "application",
			Description: "rendered manifests kept as a Helm release"},
		Templates: []*common.File{{Name: "templates/manifests.yaml", Data: []byte(`{{ .Files.Get "` + manifestsFile + `" }}`)}},
		Files:     []*common.File{{Name: manifestsFile, Data: slices.Clone(manifests)}},
		Values:    map[string]any{},
	}
}

// manifestsOf returns the manifests an in-memory chart holds.
func manifestsOf(ch *chart.Chart) []byte {
	for _, f := range ch.Files {
		if f.Name == manifestsFile {
			return f.Data
		}
	}
	return nil
}

// decodeObjects splits YAML documents into objects (empty documents
// skipped).
func decodeObjects(manifests []byte) ([]*unstructured.Unstructured, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(manifests)))
	var out []*unstructured.Unstructured
	for {
		doc, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := yaml.Unmarshal(doc, &m); err != nil {
			return nil, fmt.Errorf("document %d: %w", len(out)+1, err)
		}
		if len(m) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if u.GetKind() == "" || u.GetAPIVersion() == "" {
			return nil, fmt.Errorf("document %d: no apiVersion or kind", len(out)+1)
		}
		out = append(out, u)
	}
}

// waitForKinds waits (bounded by the release's timeout) until the API
// server serves every kind the release's manifests use, e.g. kinds whose
// CRD an operator of an earlier release creates when it starts.
func (d *Deployer) waitForKinds(ctx context.Context, p prepared) error {
	objs, err := decodeObjects(p.Manifests)
	if err != nil {
		return &ReleaseSetError{Release: p.Name, Field: "Manifests", Reason: err.Error()}
	}
	var gvks []schema.GroupVersionKind
	for _, o := range objs {
		if gvk := o.GroupVersionKind(); !slices.Contains(gvks, gvk) {
			gvks = append(gvks, gvk)
		}
	}
	timeout := d.timeoutOf(p.Release)
	deadline := time.Now().Add(timeout)
	for {
		missing, err := d.opts.cluster.missingKinds(ctx, gvks)
		if err != nil {
			return fmt.Errorf("release %s: %w", p.Name, err)
		}
		if len(missing) == 0 {
			return nil
		}
		names := make([]string, len(missing))
		for i, m := range missing {
			names[i] = m.String()
		}
		if time.Now().After(deadline) {
			return &KindsNotServedError{Release: p.Name, Kinds: names, Timeout: timeout}
		}
		d.emit(Event{Release: p.Name, Phase: PhaseKinds, Message: "waiting for the API server to serve these kinds", Unready: names})
		select {
		case <-ctx.Done():
			return fmt.Errorf("release %s: waiting for kinds %v: %w", p.Name, names, ctx.Err())
		case <-time.After(time.Second):
		}
	}
}
