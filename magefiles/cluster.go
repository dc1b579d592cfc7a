//go:build mage

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/magefile/mage/mg"

	"github.com/wdiazux/infra/lib/addons"
	"github.com/wdiazux/infra/lib/cluster"
	"github.com/wdiazux/infra/lib/images"
	"github.com/wdiazux/infra/lib/secrets"
	"github.com/wdiazux/infra/lib/terraform"
)

// Cluster brings the whole Talos cluster up.
type Cluster mg.Namespace

// Up runs the primary path: preflight, Talos template, removed nodes, node VMs (terraform/talos), configs, apply, bootstrap, kubeconfig, health, add-ons; re-running changes nothing.
//
// It is the whole primary path, resumable and idempotent: `proxmox:preflight` →
// `talos:import` → nodes removed from homelab.yaml taken out (drained, etcd
// member removed, Kubernetes Node deleted, then exactly their VMs
// destroyed) → the node VMs (`terraform/talos`) → `talos:genconfig` →
// `talos:apply` (maintenance mode) → `talos:bootstrap` → `talos:kubeconfig` →
// `talos:health` → `cluster:addons`. Prints one line per step, what it did or
// that it had nothing to do; each step decides from the host, the files and
// the nodes' own answers, so a re-run on a healthy cluster changes nothing and
// a run stopped after any step completes when run again. `-wait` (default
// `10m`) bounds the waits for the nodes, for health and for each add-on to be
// ready, and the drain of a removed node. `-dryrun` only checks, step by step, reading, up to the first step
// that would change something, and lists the steps it could not check because
// they depend on it. A failed step is named, with the command that shows more.
// See the Talos cluster
// (docs/deployment/talos-cluster.md#one-command-clusterup) and scaling
// (docs/operations/scaling.md).
func (Cluster) Up(ctx context.Context,
	// how long to wait for the nodes to answer, for the cluster to be healthy and for each add-on to be ready (default 10m)
	wait *string,
	// check each step, reading only, up to the first that would change something; change nothing
	dryrun *bool,
	// inventory file (default: $INFRA_INVENTORY, else homelab.yaml)
	file *string,
) error {
	path, inv, err := loadInventory(file)
	if err != nil {
		return err
	}
	d, err := waitFlag(wait, 10*time.Minute)
	if err != nil {
		return err
	}
	talosOpts, err := talosOptions()
	if err != nil {
		return err
	}
	pveClient, factory, err := talosImportClients(inv)
	if err != nil {
		return err
	}
	root := filepath.Dir(path)
	lock, err := images.LoadLockFile(filepath.Join(root, images.DefaultLockFile))
	if err != nil {
		return err
	}
	tf, err := tfRunner(ctx, file, true)
	if err != nil {
		return err
	}
	deps := cluster.Deps{Proxmox: pveClient, Factory: factory, Lock: lock, NodeVMs: tf.Step(terraform.StackTalos), Addons: newAddonsDeploy(path, inv, "", "", addons.WithReleaseOptions(addons.WithTimeout(d)))}
	opts := []cluster.Option{cluster.WithLogger(logger()), cluster.WithNodeWait(d), cluster.WithHealthWait(d), cluster.WithDrainWait(d)}
	if isSet(dryrun) {
		opts = append(opts, cluster.WithDryRun())
	}
	rep, err := cluster.Up(ctx, inv, root, deps, append(opts,
		cluster.WithSecrets(secrets.WithLogger(logger())),
		cluster.WithTalosOptions(talosOpts...),
		cluster.WithEvents(printStep))...)
	if err != nil {
		return clusterAdvice(err)
	}
	switch {
	case rep.DryRun && len(rep.Unchecked) > 0:
		var rest []string
		for _, s := range rep.Unchecked {
			rest = append(rest, string(s))
		}
		fmt.Printf("\ndry run: nothing was changed; not checked, as they depend on %s: %s\n", rep.Steps[len(rep.Steps)-1].Step, strings.Join(rest, ", "))
	case rep.DryRun:
		fmt.Println("\ndry run: nothing was changed, and nothing would be")
	case rep.Changed():
		fmt.Println("\nthe cluster is up; go run mage.go talos:kubeconfig -merge makes it your current context, go run mage.go cluster:status lists the add-ons and their addresses")
	default:
		fmt.Println("\nnothing to do: the cluster is up and healthy")
	}
	return nil
}

// printStep prints each step as it ends: what it did, or that it had
// nothing to do; -v adds the time it took.
func printStep(ev cluster.Event) {
	if !ev.Done || ev.Err != nil {
		if !ev.Done {
			fmt.Fprintf(os.Stderr, "%s …\n", ev.Step)
		}
		return
	}
	fmt.Printf("%s: %s\n", ev.Step, ev.Result.Detail)
	if mg.Verbose() {
		fmt.Printf("  took %s\n", ev.Result.Took.Round(time.Millisecond))
	}
}

// clusterAdvice adds to a failed step the command that shows more, and
// that cluster:up resumes where it stopped.
func clusterAdvice(err error) error {
	var se *cluster.StepError
	if !errors.As(err, &se) {
		return err
	}
	next := map[cluster.Step]string{
		cluster.StepPreflight:  "go run mage.go proxmox:preflight    # the table of every check and its fix",
		cluster.StepTemplate:   "go run mage.go talos:import -dryrun    # what the import would send",
		cluster.StepRemove:     "go run mage.go talos:health    # which control planes answer; kubectl get pods -A -o wide for what a drain waits on",
		cluster.StepNodeVMs:    "go run mage.go tf:plan talos    # what Terraform would change",
		cluster.StepConfigs:    "go run mage.go talos:genconfig -dryrun",
		cluster.StepApply:      "go run mage.go talos:health    # says which node does not answer",
		cluster.StepBootstrap:  "go run mage.go talos:health",
		cluster.StepKubeconfig: "go run mage.go talos:kubeconfig",
		cluster.StepHealth:     "go run mage.go talos:health -wait=10m    # or talos:support for a bundle of the nodes' logs",
		cluster.StepAddons:     "go run mage.go cluster:addons -dryrun    # what the add-ons would change; cluster:status for each release",
	}[se.Step]
	switch se.Step {
	case cluster.StepTemplate:
		err = proxmoxAdvice(err)
	case cluster.StepConfigs:
		err = secretsAdvice(err, "", false)
	case cluster.StepNodeVMs:
		err = tfAdvice(terraform.StackTalos, err)
	case cluster.StepRemove:
		err = talosAdvice(err)
	case cluster.StepApply, cluster.StepBootstrap, cluster.StepKubeconfig, cluster.StepHealth:
		err = talosAdvice(err)
	case cluster.StepAddons:
		err = addonsAdvice(err)
	}
	return fmt.Errorf("%w\nrun: %s\nthen: go run mage.go cluster:up    # it resumes where it stopped", err, next)
}
