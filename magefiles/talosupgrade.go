//go:build mage

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/wdiazux/infra/internal/progress"
	"github.com/wdiazux/infra/lib/etcdbackup"
	"github.com/wdiazux/infra/lib/images"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/secrets"
	"github.com/wdiazux/infra/lib/talosgen"
	"github.com/wdiazux/infra/lib/talosnode"
	"github.com/wdiazux/infra/lib/talosupgrade"
)

// Upgrade upgrades every Talos node to the inventory's version and schematic, workers first, one at a time, health-gated.
//
// Plans from each node's own answer (its version and Image Factory
// schematic) and the host's VM configs; nothing to do when every node runs
// `talos.version` with the inventory's schematic. Otherwise: keeps the
// template at `talos.template_id` as `talos.template_id + 1`, imports the
// new one, regenerates `talos/generated/` with the new installer image,
// takes an etcd snapshot, then upgrades node by node (workers, then control
// planes), waiting after each until it runs the new version, its services
// are healthy, etcd has every member and its Kubernetes node is Ready again
// (when the API answered and it was Ready before). Stops at the first node
// that does not come back; a re-run resumes. The previous template is
// deleted once every node moved. `-dryrun` prints the plan and changes
// nothing. See docs/operations/upgrades.md.
func (Talos) Upgrade(ctx context.Context,
	// print the plan (order, node, from → to, template steps) and change nothing
	dryrun *bool,
	// how long each node has to come back healthy (default 10m)
	wait *string,
	// inventory file (default: $INFRA_INVENTORY, else homelab.yaml)
	file *string,
) error {
	path, inv, err := loadInventory(file)
	if err != nil {
		return err
	}
	d, err := waitFlag(wait, talosupgrade.DefaultWait)
	if err != nil {
		return err
	}
	deps, err := upgradeDeps(path, inv)
	if err != nil {
		return err
	}
	p, err := talosupgrade.New(ctx, inv, deps, talosupgrade.WithWait(d), talosupgrade.WithLogger(logger()),
		talosupgrade.WithEvents(progress.PrintEvents(progress.New(os.Stderr))))
	if err != nil {
		return upgradeAdvice(err)
	}
	if err := p.WriteText(os.Stdout); err != nil {
		return err
	}
	if isSet(dryrun) || p.NothingToDo() {
		if isSet(dryrun) && !p.NothingToDo() {
			fmt.Println("\ndry run: nothing was changed")
		}
		return nil
	}
	fmt.Println()
	rep, err := p.Execute(ctx)
	if err != nil {
		return upgradeAdvice(err)
	}
	fmt.Printf("\nupgraded %d node(s) to Talos %s", len(rep.Upgraded), p.Target)
	if len(rep.Skipped) > 0 {
		fmt.Printf(" (%s ran it already)", strings.Join(rep.Skipped, ", "))
	}
	if rep.Snapshot != "" {
		fmt.Printf("; etcd snapshot first: %s", rep.Snapshot)
	}
	fmt.Println()
	for _, t := range rep.Template {
		fmt.Println("template: " + t)
	}
	return nil
}

// upgradeDeps are talos:upgrade's connections: the nodes, the host, the
// factory, the lock file, the configs of talos/generated, the kubeconfig
// when there is one, and the etcd snapshot.
func upgradeDeps(path string, inv *inventory.Inventory) (talosupgrade.Deps, error) {
	root := filepath.Dir(path)
	cluster, err := clusterOf(path, inv)
	if err != nil {
		return talosupgrade.Deps{}, err
	}
	outDir := filepath.Join(root, talosgen.DefaultOutDir)
	pveClient, factory, err := talosImportClients(inv)
	if err != nil {
		return talosupgrade.Deps{}, err
	}
	lock, err := images.LoadLockFile(filepath.Join(root, images.DefaultLockFile))
	if err != nil {
		return talosupgrade.Deps{}, err
	}
	deps := talosupgrade.Deps{Nodes: cluster, Proxmox: pveClient, Factory: factory, Lock: lock,
		Snapshot: upgradeSnapshotter(path, inv, cluster),
		Configs: func(ctx context.Context) (string, error) {
			rep, err := talosgen.SyncConfigs(ctx, inv, talosgen.SyncOptions{Root: root, Secrets: []secrets.Option{secrets.WithLogger(logger())}, Logger: logger()})
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("%d file(s) changed in %s", len(rep.Files), outDir), nil
		}}
	kubeconfig := filepath.Join(outDir, talosnode.KubeconfigFile)
	if _, err := os.Stat(kubeconfig); err == nil {
		kube, err := talosupgrade.NewKubeNodes(kubeconfig, os.Getenv(talosnode.EnvKubernetesEndpoint))
		if err != nil {
			return talosupgrade.Deps{}, err
		}
		deps.Kube = kube
	}
	return deps, nil
}

// upgradeSnapshotter takes the etcd snapshot before the first node, as
// talos:etcd-snapshot does: age-encrypted into backups/etcd beside the
// inventory, the newest talos.etcd_snapshots_keep kept.
func upgradeSnapshotter(path string, inv *inventory.Inventory, cluster *talosnode.Cluster) talosupgrade.Snapshotter {
	return etcdbackup.New(inv, cluster, filepath.Dir(path))
}

// upgradeAdvice adds to an upgrade's error what to run next.
func upgradeAdvice(err error) error {
	var notBack *talosupgrade.NodeNotBackError
	var refused *talosupgrade.NodeUpgradeError
	switch {
	case errors.As(err, &notBack):
		return fmt.Errorf("%w\nrun: go run mage.go talos:health    # what the cluster says now\n"+
			"then fix %s (docs/operations/upgrades.md#when-a-node-does-not-come-back) and run: go run mage.go talos:upgrade    # resumes with %s",
			err, notBack.Node, notBack.Node)
	case errors.As(err, &refused):
		return fmt.Errorf("%w\nrun: go run mage.go talos:health    # then go run mage.go talos:upgrade again: it resumes with %s", err, refused.Node)
	case errors.Is(err, talosupgrade.ErrNotReady):
		return fmt.Errorf("%w\nrun: go run mage.go talos:health    # a node rebooting from an upgrade answers again within minutes; then run talos:upgrade again", err)
	}
	return proxmoxAdvice(etcdAdvice(err))
}
