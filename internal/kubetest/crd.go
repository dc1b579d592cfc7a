package kubetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensions "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
)

// ApplyCRDFile creates (or updates) every CustomResourceDefinition in the
// YAML file, documents separated by ---, and waits until the server has
// established each, so its kinds can be created at once. A document that is
// not an apiextensions.k8s.io/v1 CustomResourceDefinition is refused before
// anything is applied. Without a deadline on ctx the wait is bounded to one
// minute.
func ApplyCRDFile(ctx context.Context, cfg *rest.Config, file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("apply CRDs: %w", err)
	}
	var crds []*apiextensionsv1.CustomResourceDefinition
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for doc := 1; ; doc++ {
		var crd apiextensionsv1.CustomResourceDefinition
		if err := dec.Decode(&crd); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return fmt.Errorf("apply CRDs: %s: document %d: %w", file, doc, err)
		}
		if crd.APIVersion == "" && crd.Kind == "" && crd.Name == "" {
			continue // an empty document
		}
		if crd.APIVersion != "apiextensions.k8s.io/v1" || crd.Kind != "CustomResourceDefinition" {
			return fmt.Errorf("apply CRDs: %s: document %d is a %s %s, not an apiextensions.k8s.io/v1 CustomResourceDefinition", file, doc, crd.APIVersion, crd.Kind)
		}
		crds = append(crds, &crd)
	}
	if len(crds) == 0 {
		return fmt.Errorf("apply CRDs: %s holds no CustomResourceDefinition", file)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Minute)
		defer cancel()
	}
	cs, err := apiextensions.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("apply CRDs from %s: client for %s: %w", file, cfg.Host, err)
	}
	api := cs.ApiextensionsV1().CustomResourceDefinitions()
	for _, crd := range crds {
		_, err := api.Create(ctx, crd, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			var cur *apiextensionsv1.CustomResourceDefinition
			if cur, err = api.Get(ctx, crd.Name, metav1.GetOptions{}); err == nil {
				crd.ResourceVersion = cur.ResourceVersion
				_, err = api.Update(ctx, crd, metav1.UpdateOptions{})
			}
		}
		if err != nil {
			return fmt.Errorf("apply CRD %s from %s: %w", crd.Name, file, err)
		}
	}
	for _, crd := range crds {
		var last string
		err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
			cur, err := api.Get(ctx, crd.Name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			for _, c := range cur.Status.Conditions {
				if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
					return true, nil
				}
				if c.Type == apiextensionsv1.NamesAccepted && c.Status == apiextensionsv1.ConditionFalse {
					return false, fmt.Errorf("names not accepted: %s", c.Message)
				}
				last = fmt.Sprintf("%s=%s (%s)", c.Type, c.Status, c.Message)
			}
			return false, nil
		})
		if err != nil {
			return fmt.Errorf("apply CRD %s from %s: wait until established (last condition: %s): %w", crd.Name, file, last, err)
		}
	}
	return nil
}
