package kubenode

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
)

// MirrorAnnotation marks a mirror pod: a kubelet's static pod.
const MirrorAnnotation = "kubernetes.io/config.mirror"

// Options are the settings of Drain.
type Options struct {
	// Wait is how long Drain keeps asking for evictions a disruption
	// budget refuses and waits for the pods to be gone (default 5m).
	Wait time.Duration
	// Interval is the time between two rounds (default 2s).
	Interval time.Duration
}

// Result is what Drain did.
type Result struct {
	// Missing says there is no such Node: nothing was done.
	Missing bool
	// Cordoned says Drain marked the node unschedulable (false: it was).
	Cordoned bool
	// Evicted are the pods evicted, namespace/name, in order.
	Evicted []string
}

// Changed says Drain changed something.
func (r Result) Changed() bool { return r.Cordoned || len(r.Evicted) > 0 }

// ErrDrainTimeout means pods were still on the node when Drain's wait ran
// out.
var ErrDrainTimeout = errors.New("the node is not drained")

// DrainError is a node whose pods did not all go within the wait. It
// wraps ErrDrainTimeout.
type DrainError struct {
	// Node is the node, Wait how long Drain tried.
	Node string
	Wait time.Duration
	// Pending are the pods left, each "namespace/name: why".
	Pending []string
}

// Error lists the pods left and what to do.
func (e *DrainError) Error() string {
	return fmt.Sprintf("%s: %v after %s: %d pod(s) left: %s; a PodDisruptionBudget that allows no disruption keeps its pod until "+
		"its workload has replicas elsewhere: scale it or relax the budget, then run again", e.Node, ErrDrainTimeout, e.Wait,
		len(e.Pending), strings.Join(e.Pending, "; "))
}

// Unwrap returns ErrDrainTimeout.
func (e *DrainError) Unwrap() error { return ErrDrainTimeout }

// Cordon marks the node unschedulable; it says whether it changed it
// (false when it was, or when there is no such node: missing).
func Cordon(ctx context.Context, cs kubernetes.Interface, node string) (changed, missing bool, err error) {
	n, err := cs.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, true, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("get node %s: %w", node, err)
	}
	if n.Spec.Unschedulable {
		return false, false, nil
	}
	n.Spec.Unschedulable = true
	if _, err := cs.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{}); err != nil {
		return false, false, fmt.Errorf("cordon node %s: %w", node, err)
	}
	return true, false, nil
}

// Pods are the pods Drain evicts from the node: all but DaemonSet pods
// and mirror pods (terminating ones too, which Drain waits for).
func Pods(ctx context.Context, cs kubernetes.Interface, node string) ([]corev1.Pod, error) {
	list, err := cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("spec.nodeName", node).String()})
	if err != nil {
		return nil, fmt.Errorf("list the pods of node %s: %w", node, err)
	}
	var out []corev1.Pod
	for _, p := range list.Items {
		if p.Spec.NodeName != node { // a server that ignores the field selector
			continue
		}
		if _, mirror := p.Annotations[MirrorAnnotation]; mirror {
			continue
		}
		if slices.ContainsFunc(p.OwnerReferences, func(o metav1.OwnerReference) bool { return o.Kind == "DaemonSet" }) {
			continue
		}
		out = append(out, p)
	}
	return out, nil
}

// Drain cordons the node and evicts its pods (see Pods), asking again for
// the evictions a PodDisruptionBudget refuses, until every pod is gone or
// the wait ran out (*DrainError, with the node left cordoned).
func Drain(ctx context.Context, cs kubernetes.Interface, node string, o Options) (Result, error) {
	if o.Wait <= 0 {
		o.Wait = 5 * time.Minute
	}
	if o.Interval <= 0 {
		o.Interval = 2 * time.Second
	}
	var res Result
	var err error
	if res.Cordoned, res.Missing, err = Cordon(ctx, cs, node); err != nil || res.Missing {
		return res, err
	}
	deadline := time.Now().Add(o.Wait)
	for {
		pods, err := Pods(ctx, cs, node)
		if err != nil {
			return res, err
		}
		if len(pods) == 0 {
			return res, nil
		}
		var pending []string
		for _, p := range pods {
			key := p.Namespace + "/" + p.Name
			if p.DeletionTimestamp != nil {
				pending = append(pending, key+": terminating")
				continue
			}
			err := cs.PolicyV1().Evictions(p.Namespace).Evict(ctx, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace}})
			switch {
			case err == nil:
				res.Evicted = append(res.Evicted, key)
			case apierrors.IsNotFound(err):
			case apierrors.IsTooManyRequests(err):
				pending = append(pending, key+": "+err.Error())
			default:
				return res, fmt.Errorf("evict pod %s from node %s: %w", key, node, err)
			}
		}
		if time.Now().Add(o.Interval).After(deadline) {
			if len(pending) == 0 {
				for _, p := range pods {
					pending = append(pending, p.Namespace+"/"+p.Name+": still there")
				}
			}
			return res, &DrainError{Node: node, Wait: o.Wait, Pending: pending}
		}
		select {
		case <-ctx.Done():
			return res, fmt.Errorf("drain node %s: %w", node, ctx.Err())
		case <-time.After(o.Interval):
		}
	}
}

// Delete deletes the Node object; deleted is false when there was none.
func Delete(ctx context.Context, cs kubernetes.Interface, node string) (deleted bool, err error) {
	err = cs.CoreV1().Nodes().Delete(ctx, node, metav1.DeleteOptions{})
	switch {
	case err == nil:
		return true, nil
	case apierrors.IsNotFound(err):
		return false, nil
	}
	return false, fmt.Errorf("delete node %s: %w", node, err)
}
