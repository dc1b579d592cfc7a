package k8supgrade

import (
	"context"

	"k8s.io/client-go/kubernetes"
)

// Runs says what keeps a step's component from running its new image.
func Runs(ctx context.Context, kube kubernetes.Interface, s Step) (string, error) {
	return runs(ctx, kube, s.Node, s.Component, s.ToImage)
}
