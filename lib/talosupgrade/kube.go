package talosupgrade

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// ClientNodes reads Kubernetes nodes with client-go.
type ClientNodes struct {
	cs      kubernetes.Interface
	timeout time.Duration
}

// NewKubeNodes reads Kubernetes nodes with the kubeconfig at path; server,
// when set, replaces the kubeconfig's server (a tunnel, or a simulated
// cluster).
func NewKubeNodes(path, server string) (*ClientNodes, error) {
	cfg, err := clientcmd.BuildConfigFromFlags(server, path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	cfg.Timeout = 10 * time.Second
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return NodesFromClient(cs), nil
}

// NodesFromClient reads Kubernetes nodes through a client.
func NodesFromClient(cs kubernetes.Interface) *ClientNodes {
	return &ClientNodes{cs: cs, timeout: 10 * time.Second}
}

// NodeReady says whether the node's Ready condition is True, and why not.
// A node the API does not know is not Ready; an API that does not answer
// is an error.
func (c *ClientNodes) NodeReady(ctx context.Context, name string) (bool, string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	n, err := c.cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, "the API has no Node " + name, nil
	}
	if err != nil {
		return false, "", fmt.Errorf("get Node %s: %w", name, err)
	}
	for _, cond := range n.Status.Conditions {
		if cond.Type == corev1.NodeReady {
			if cond.Status == corev1.ConditionTrue {
				return true, "", nil
			}
			return false, fmt.Sprintf("Ready is %s (%s: %s)", cond.Status, cond.Reason, cond.Message), nil
		}
	}
	return false, "no Ready condition yet", nil
}
