package helmdeploy

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// cluster is what the deployer asks of the API server besides Helm's own
// calls; tests give a fake.
type cluster interface {
	// reachable checks the API server answers within timeout.
	reachable(ctx context.Context, timeout time.Duration) error
	// ensureNamespace creates the namespace or sets its labels.
	ensureNamespace(ctx context.Context, name string, labels map[string]string) error
	// missingKinds returns the kinds of gvks the server does not serve
	// now (fresh discovery).
	missingKinds(ctx context.Context, gvks []schema.GroupVersionKind) ([]schema.GroupVersionKind, error)
	// live returns the object the server holds (nil when absent).
	live(ctx context.Context, obj *unstructured.Unstructured) (*unstructured.Unstructured, error)
	// dryRunApply server-side applies obj with dryRun=All as manager and
	// returns the object the server would hold.
	dryRunApply(ctx context.Context, obj *unstructured.Unstructured, manager string) (*unstructured.Unstructured, error)
	// services lists the Services of type LoadBalancer.
	loadBalancers(ctx context.Context) ([]corev1.Service, error)
}

type kubeCluster struct {
	host   string
	cs     kubernetes.Interface
	dyn    dynamic.Interface
	disc   discovery.DiscoveryInterface
	getter *restGetter
}

func newKubeCluster(g *restGetter) (*kubeCluster, error) {
	cs, err := kubernetes.NewForConfig(g.cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client for %s: %w", g.cfg.Host, err)
	}
	dyn, err := dynamic.NewForConfig(g.cfg)
	if err != nil {
		return nil, fmt.Errorf("dynamic client for %s: %w", g.cfg.Host, err)
	}
	return &kubeCluster{host: g.cfg.Host, cs: cs, dyn: dyn, disc: cs.Discovery(), getter: g}, nil
}

func (k *kubeCluster) reachable(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := k.cs.Discovery().RESTClient().Get().AbsPath("/version").Do(ctx).Error(); err != nil {
		return &UnreachableError{Host: k.host, Timeout: timeout, Err: err}
	}
	return nil
}

func (k *kubeCluster) ensureNamespace(ctx context.Context, name string, labels map[string]string) error {
	ns, err := k.cs.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = k.cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("create namespace %s on %s: %w", name, k.host, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("get namespace %s on %s: %w", name, k.host, err)
	}
	missing := false
	for key, v := range labels {
		if ns.Labels[key] != v {
			missing = true
		}
	}
	if !missing {
		return nil
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"labels": labels}})
	if err != nil {
		return err
	}
	if _, err := k.cs.CoreV1().Namespaces().Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("label namespace %s on %s: %w", name, k.host, err)
	}
	return nil
}

func (k *kubeCluster) missingKinds(_ context.Context, gvks []schema.GroupVersionKind) ([]schema.GroupVersionKind, error) {
	var missing []schema.GroupVersionKind
	served := map[string][]string{}
	for _, gvk := range gvks {
		gv := gvk.GroupVersion().String()
		kinds, ok := served[gv]
		if !ok {
			list, err := k.disc.ServerResourcesForGroupVersion(gv)
			switch {
			case apierrors.IsNotFound(err):
			case err != nil:
				return nil, fmt.Errorf("discovery of %s on %s: %w", gv, k.host, err)
			default:
				for _, r := range list.APIResources {
					kinds = append(kinds, r.Kind)
				}
			}
			served[gv] = kinds
		}
		if !slices.Contains(kinds, gvk.Kind) {
			missing = append(missing, gvk)
		}
	}
	if len(missing) == 0 && k.getter.mapper != nil {
		// The kinds are served now: let Helm's cached discovery see them.
		k.getter.dc.Invalidate()
		k.getter.mapper.Reset()
	}
	return missing, nil
}

func (k *kubeCluster) resource(obj *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	mapper, err := k.getter.ToRESTMapper()
	if err != nil {
		return nil, err
	}
	gvk := obj.GroupVersionKind()
	m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, fmt.Errorf("%s %s: kind not served by %s: %w", gvk.Kind, obj.GetName(), k.host, err)
	}
	if m.Scope.Name() == "namespace" {
		return k.dyn.Resource(m.Resource).Namespace(obj.GetNamespace()), nil
	}
	return k.dyn.Resource(m.Resource), nil
}

func (k *kubeCluster) live(ctx context.Context, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	ri, err := k.resource(obj)
	if err != nil {
		return nil, err
	}
	got, err := ri.Get(ctx, obj.GetName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get %s %s/%s on %s: %w", obj.GetKind(), obj.GetNamespace(), obj.GetName(), k.host, err)
	}
	return got, nil
}

func (k *kubeCluster) dryRunApply(ctx context.Context, obj *unstructured.Unstructured, manager string) (*unstructured.Unstructured, error) {
	ri, err := k.resource(obj)
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(obj.Object)
	if err != nil {
		return nil, err
	}
	force := true
	got, err := ri.Patch(ctx, obj.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{DryRun: []string{metav1.DryRunAll}, FieldManager: manager, Force: &force})
	if err != nil {
		return nil, fmt.Errorf("server-side dry-run apply of %s %s/%s on %s: %w", obj.GetKind(), obj.GetNamespace(), obj.GetName(), k.host, err)
	}
	return got, nil
}

func (k *kubeCluster) loadBalancers(ctx context.Context) ([]corev1.Service, error) {
	list, err := k.cs.CoreV1().Services("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list services on %s: %w", k.host, err)
	}
	var out []corev1.Service
	for _, s := range list.Items {
		if s.Spec.Type == corev1.ServiceTypeLoadBalancer {
			out = append(out, s)
		}
	}
	return out, nil
}
