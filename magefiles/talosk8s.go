//go:build mage

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/wdiazux/infra/lib/k8supgrade"
	"github.com/wdiazux/infra/lib/secrets"
	"github.com/wdiazux/infra/lib/talosgen"
)

// UpgradeK8s upgrades Kubernetes to the inventory's kubernetes.version as Talos does, one component of one node at a time, then syncs the bootstrap manifests; -dryrun prints the plan.
//
// Run as `talos:upgrade-k8s`. Regenerates the node configs with the new
// images, reads every node's Talos version and component images, and checks
// the path before anything changes: the Talos version of every node supports
// the target (machinery's compatibility matrix), Talos's upgrade path
// (go-kubernetes upgrade.Path: one minor version at a time), no downgrade,
// and Talos's pre-upgrade checks pass (no removed flag, feature gate,
// admission plugin or API version in use). Then, as `talosctl upgrade-k8s` does: kube-apiserver on each control
// plane, then kube-controller-manager, then kube-scheduler, then the kubelet
// of every node (control planes first), each applied without a reboot and
// waited for until it runs the new version (its static pod Ready with the
// new image; its Node reporting the new kubeletVersion); then the bootstrap
// manifests of the first control plane (CoreDNS, RBAC, bootstrap token) are
// applied to the API server and their rollout waited for. Stops at the first
// component that does not come up; a re-run resumes there. Nothing to do
// when every component runs the inventory's version and the manifests are
// applied. -dryrun also prints each manifest object's diff. Needs the
// kubeconfig (talos:kubeconfig). See docs/operations/upgrades-kubernetes.md.
func (Talos) UpgradeK8s(ctx context.Context,
	// print the plan (component, node, from -> to) and change nothing
	dryrun *bool,
	// how long each component of each node has to run its new version (default 5m)
	wait *string,
	// inventory file (default: $INFRA_INVENTORY, else homelab.yaml)
	file *string,
) error {
	path, inv, err := loadInventory(file)
	if err != nil {
		return err
	}
	d, err := waitFlag(wait, 5*time.Minute)
	if err != nil {
		return err
	}
	c, err := clusterOf(path, inv)
	if err != nil {
		return err
	}
	kube, err := c.KubernetesConfig()
	if err != nil {
		return talosAdvice(err)
	}
	plan, err := k8supgrade.Upgrade(ctx, inv, c, kube, k8supgrade.Options{
		Sync: talosgen.SyncOptions{Root: filepath.Dir(path), Logger: logger(),
			Secrets: []secrets.Option{secrets.WithLogger(logger())}},
		DryRun: isSet(dryrun), Wait: d,
		Progress: func(s k8supgrade.Step, applied bool) {
			if applied {
				fmt.Printf("  %s on %s: config applied, waiting until it runs %s\n", s.Component, s.Node, s.To)
				return
			}
			fmt.Printf("%s on %s: %s -> %s\n", s.Component, s.Node, s.From, s.To)
		},
	})
	if plan != nil && (isSet(dryrun) || plan.Nothing()) {
		if werr := plan.WriteTable(os.Stdout); werr != nil {
			return werr
		}
		if isSet(dryrun) {
			for _, m := range plan.Manifests {
				fmt.Print(m.Diff)
			}
		}
	}
	var ce *k8supgrade.ComponentError
	switch {
	case errors.As(err, &ce):
		return fmt.Errorf("%w\nthen run: go run mage.go talos:upgrade-k8s", err)
	case errors.As(err, new(*k8supgrade.ManifestError)):
		return fmt.Errorf("%w\nthen check the objects with kubectl and run: go run mage.go talos:upgrade-k8s", err)
	case errors.Is(err, k8supgrade.ErrUnsupported):
		return fmt.Errorf("%w\nthen check the plan: go run mage.go talos:upgrade-k8s -dryrun", err)
	case err != nil:
		return secretsAdvice(talosAdvice(err), "", false)
	}
	if !isSet(dryrun) && !plan.Nothing() {
		fmt.Printf("Kubernetes %s on every node; bootstrap manifests of %s: %d of %d object(s) applied.\n",
			plan.To, plan.ManifestsFrom, len(plan.Manifests), plan.ManifestObjects)
	}
	return nil
}
