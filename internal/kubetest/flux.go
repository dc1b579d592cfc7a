package kubetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// fluxKind is a kind of Flux's controllers the stand-in reconciles: the
// Ready condition the controller writes once it succeeded.
type fluxKind struct {
	gvr     schema.GroupVersionResource
	kind    string
	reason  string
	message func(u *unstructured.Unstructured) string
	extra   func(u *unstructured.Unstructured, status map[string]any)
}

// fluxKinds are the Flux objects the add-ons create: the source, the
// Kustomization reconciling kubernetes/apps and the webhook Receiver.
var fluxKinds = []fluxKind{
	{
		gvr: schema.GroupVersionResource{Group: "source.toolkit.fluxcd.io", Version: "v1", Resource: "gitrepositories"}, kind: "GitRepository",
		reason:  "Succeeded",
		message: func(u *unstructured.Unstructured) string { return "stored artifact for revision '" + revision(u) + "'" },
	},
	{
		gvr: schema.GroupVersionResource{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Resource: "kustomizations"}, kind: "Kustomization",
		reason:  "ReconciliationSucceeded",
		message: func(u *unstructured.Unstructured) string { return "Applied revision: " + revision(u) },
	},
	{
		gvr: schema.GroupVersionResource{Group: "notification.toolkit.fluxcd.io", Version: "v1", Resource: "receivers"}, kind: "Receiver",
		reason:  "Succeeded",
		message: func(u *unstructured.Unstructured) string { return "Receiver initialized for path: " + webhookPath(u) },
		extra:   func(u *unstructured.Unstructured, status map[string]any) { status["webhookPath"] = webhookPath(u) },
	},
}

// revision is a made-up revision of the object's source: the stand-in
// clones nothing.
func revision(u *unstructured.Unstructured) string {
	sum := sha256.Sum256([]byte(u.GetNamespace() + "/" + u.GetName()))
	return "main@sha1:" + hex.EncodeToString(sum[:20])
}

// webhookPath is the path notification-controller serves a Receiver on:
// /hook/ and the sha256 of the token, name and namespace; the stand-in
// reads no token and hashes the name and namespace only.
func webhookPath(u *unstructured.Unstructured) string {
	sum := sha256.Sum256([]byte(u.GetName() + u.GetNamespace()))
	return "/hook/" + hex.EncodeToString(sum[:])
}

// fluxLoop reconciles the Flux objects every interval until ctx ends: a
// kind whose CRD is not installed yet is skipped (Flux's CRDs come with
// its chart, after the controllers started).
func (c *Controllers) fluxLoop(ctx context.Context, dyn dynamic.Interface, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for _, k := range fluxKinds {
			if err := c.reconcileFlux(ctx, dyn, k); err != nil && ctx.Err() == nil {
				c.report(Object{Kind: k.kind}, err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// reconcileFlux writes Ready=True and the observed generation on each
// object of kind k that is not withheld and not yet reconciled at its
// generation.
func (c *Controllers) reconcileFlux(ctx context.Context, dyn dynamic.Interface, k fluxKind) error {
	list, err := dyn.Resource(k.gvr).List(ctx, metav1.ListOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list %s: %w", k.gvr.Resource, err)
	}
	for i := range list.Items {
		u := &list.Items[i]
		key := Object{Kind: k.kind, Namespace: u.GetNamespace(), Name: u.GetName()}
		if len(c.opts.namespaces) > 0 && !slices.Contains(c.opts.namespaces, key.Namespace) {
			continue
		}
		observed, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
		if observed == u.GetGeneration() || slices.ContainsFunc(c.opts.withhold, func(p func(Object) bool) bool { return p(key) }) {
			continue
		}
		status := map[string]any{
			"observedGeneration": u.GetGeneration(),
			"conditions": []any{map[string]any{
				"type": "Ready", "status": "True", "reason": k.reason, "message": k.message(u),
				"observedGeneration": u.GetGeneration(), "lastTransitionTime": time.Now().UTC().Format(time.RFC3339),
			}},
		}
		if k.extra != nil {
			k.extra(u, status)
		}
		u.Object["status"] = status
		if _, err := dyn.Resource(k.gvr).Namespace(u.GetNamespace()).UpdateStatus(ctx, u, metav1.UpdateOptions{}); err != nil && !apierrors.IsConflict(err) {
			return fmt.Errorf("%s: write status: %w", key, err)
		}
	}
	return nil
}
