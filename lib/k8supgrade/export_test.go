package k8supgrade

import (
	"context"

	"github.com/Masterminds/semver/v3"

	"k8s.io/client-go/kubernetes"
)

// Runs says what keeps a step's component from running its new image.
func Runs(ctx context.Context, kube kubernetes.Interface, s Step) (string, error) {
	return runs(ctx, kube, s.Node, s.Component, s.ToImage)
}

// CheckPath checks the path of one component from image cur to tgt.
func CheckPath(node, comp, cur, tgt string) error {
	var lowest *semver.Version
	return checkPath(node, comp, cur, tgt, semver.MustParse(tagOf(tgt)), &lowest)
}
