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

	"github.com/wdiazux/infra/internal/progress"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/talosgen"
	"github.com/wdiazux/infra/lib/talosnode"
)

// talosCluster is the cluster of the inventory, its files in talos/generated next to it.
func talosCluster(file *string) (*talosnode.Cluster, error) {
	path, inv, err := loadInventory(file)
	if err != nil {
		return nil, err
	}
	return clusterOf(path, inv)
}

// clusterOf is the cluster of the inventory loaded from path, its files in
// talos/generated next to it, its nodes reached as talosOptions says.
func clusterOf(path string, inv *inventory.Inventory) (*talosnode.Cluster, error) {
	opts, err := talosOptions()
	if err != nil {
		return nil, err
	}
	return talosnode.New(inv, filepath.Join(filepath.Dir(path), talosgen.DefaultOutDir), append(opts, talosnode.WithLogger(logger()))...), nil
}

// talosOptions reach the nodes as the environment says: the endpoint
// overrides of $INFRA_TALOS_ENDPOINTS, the API server of
// $INFRA_KUBERNETES_ENDPOINT and the limits of $INFRA_NET_TIMEOUTS.
func talosOptions() ([]talosnode.Option, error) {
	endpoints, err := talosnode.ParseEndpoints(os.Getenv(talosnode.EnvEndpoints))
	if err != nil {
		return nil, err
	}
	limits, err := netTimeouts()
	if err != nil {
		return nil, err
	}
	return []talosnode.Option{talosnode.WithEndpointOverrides(endpoints), talosnode.WithTimeouts(limits),
		talosnode.WithKubernetesEndpoint(os.Getenv(talosnode.EnvKubernetesEndpoint))}, nil
}

// waitFlag is a -wait flag's duration, def when absent.
func waitFlag(wait *string, def time.Duration) (time.Duration, error) {
	if value(wait) == "" {
		return def, nil
	}
	d, err := time.ParseDuration(value(wait))
	if err != nil {
		return 0, fmt.Errorf("-wait=%s: %w (write it like 10m or 90s)", value(wait), err)
	}
	return d, nil
}

// talosAdvice adds to an error of lib/talosnode the target that fixes it:
// genconfig makes the node configs and the talosconfig, kubeconfig fetches
// the kubeconfig, and health says which node does not answer.
func talosAdvice(err error) error {
	var missing *talosnode.MissingFileError
	var foreign *talosnode.ForeignConfigError
	switch {
	case errors.As(err, &missing) && missing.File == talosnode.Kubeconfig:
		return fmt.Errorf("%w\nrun: go run mage.go talos:kubeconfig", err)
	case errors.As(err, &missing), errors.As(err, &foreign):
		return fmt.Errorf("%w\nrun: go run mage.go talos:genconfig", err)
	case errors.Is(err, talosnode.ErrNothingCollected):
		return fmt.Errorf("%w\nrun: go run mage.go talos:health    # says which node does not answer", err)
	}
	return err
}

// Apply sends each node its config from talos/generated: insecurely to a fresh node in maintenance mode, authenticated afterwards.
//
// Sends each node (or one) its config from `talos/generated/`. A fresh node in
// maintenance mode gets it over TLS without client authentication, as its API
// requires; a configured node is reached with the talosconfig. Modes: `auto`
// (default), `no-reboot`, `reboot`, `staged`, `try`. `-dryrun` asks each node
// for its own dry run and prints the diff. An unchanged config is applied
// without a reboot.
func (Talos) Apply(ctx context.Context,
	// apply to this node only (default: every node)
	node *string,
	// auto (default), no-reboot, reboot, staged or try
	mode *string,
	// ask each node what would change (its own dry run) and change nothing
	dryrun *bool,
	// inventory file (default: $INFRA_INVENTORY, else homelab.yaml)
	file *string,
) error {
	c, err := talosCluster(file)
	if err != nil {
		return err
	}
	res, err := c.Apply(ctx, talosnode.ApplyOptions{Node: value(node), Mode: value(mode), DryRun: isSet(dryrun)})
	for _, r := range res {
		how := "authenticated"
		if r.Maintenance {
			how = "maintenance mode, insecure"
		}
		fmt.Printf("%s (%s): %s\n%s\n", r.Node, how, r.Mode, indent(r.Details))
	}
	return talosAdvice(err)
}

// Bootstrap starts etcd on the first control plane (or -node), once; it refuses when etcd already runs.
//
// Starts etcd on the first control plane (or `-node`). Refuses, changing
// nothing, when any control plane already reports etcd members or the node
// says its etcd data is not empty.
func (Talos) Bootstrap(ctx context.Context,
	// the control plane to bootstrap (default: the first)
	node *string,
	// check that etcd is not bootstrapped yet and change nothing
	dryrun *bool,
	// inventory file (default: $INFRA_INVENTORY, else homelab.yaml)
	file *string,
) error {
	c, err := talosCluster(file)
	if err != nil {
		return err
	}
	res, err := c.Bootstrap(ctx, value(node), isSet(dryrun))
	if err != nil {
		return talosAdvice(err)
	}
	if res.DryRun {
		fmt.Printf("etcd is not bootstrapped yet; would bootstrap it on %s\n", res.Node)
		return nil
	}
	fmt.Printf("bootstrapped etcd on %s; next: go run mage.go talos:health -wait=10m, then talos:kubeconfig\n", res.Node)
	return nil
}

// Kubeconfig writes the cluster's admin kubeconfig to talos/generated (0600); -merge also merges it into ~/.kube/config.
//
// Fetches the admin kubeconfig into `talos/generated/kubeconfig` (0600);
// `-merge` also merges it into `$KUBECONFIG`'s first file or `~/.kube/config`
// (0600) and makes its context current.
func (Talos) Kubeconfig(ctx context.Context,
	// the control plane to ask (default: the first)
	node *string,
	// merge into your kubeconfig ($KUBECONFIG's first file, else ~/.kube/config) and make it current
	merge *bool,
	// the kubeconfig to merge into instead
	into *string,
	// inventory file (default: $INFRA_INVENTORY, else homelab.yaml)
	file *string,
) error {
	c, err := talosCluster(file)
	if err != nil {
		return err
	}
	res, err := c.Kubeconfig(ctx, talosnode.KubeconfigOptions{Node: value(node), Merge: isSet(merge), MergeInto: value(into)})
	if err != nil {
		return talosAdvice(err)
	}
	state := "unchanged"
	if res.Changed {
		state = "written"
	}
	fmt.Printf("%s %s (0600), context %s\n", res.Path, state, res.Context)
	if res.MergedInto != "" {
		fmt.Printf("merged into %s (0600); current context is now %s\n", res.MergedInto, res.Context)
	}
	return nil
}

// Health checks every node through the Talos API (version, services, etcd members); -wait=10m keeps checking until healthy.
//
// Checks every node through the Talos API: reachable, running the inventory's
// Talos version, every service running and healthy, one etcd member per
// control plane. Prints a table and the problems; `-wait=10m` keeps checking
// until healthy. Exits 1 when unhealthy.
func (Talos) Health(ctx context.Context,
	// keep checking until healthy or this long (e.g. 10m; default: check once)
	wait *string,
	// inventory file (default: $INFRA_INVENTORY, else homelab.yaml)
	file *string,
) error {
	c, err := talosCluster(file)
	if err != nil {
		return err
	}
	d, err := waitFlag(wait, 0)
	if err != nil {
		return err
	}
	progress := func(r *talosnode.HealthReport) {
		if !r.Healthy() && d > 0 {
			fmt.Fprintf(os.Stderr, "%s not healthy yet:\n", r.Checked.Format(time.TimeOnly))
			_ = r.WriteTable(os.Stderr)
		}
	}
	rep, err := c.Health(ctx, talosnode.HealthOptions{Wait: d, Progress: progress})
	if rep != nil {
		if werr := rep.WriteTable(os.Stdout); werr != nil {
			return werr
		}
	}
	return talosAdvice(err)
}

// Support writes a support bundle (logs, service states, resources of every node) to talos/generated/support.zip, 0600.
//
// Collects a support bundle as `talosctl support` does (logs, service states,
// dmesg, processes, Talos resources of every node; `-kubernetes` adds nodes
// and system pods) into `talos/generated/support.zip` (0600), with progress.
func (Talos) Support(ctx context.Context,
	// the zip to write (default: talos/generated/support.zip)
	out *string,
	// collect from this node only (default: every node)
	node *string,
	// also collect Kubernetes nodes and system pods through talos/generated/kubeconfig
	kubernetes *bool,
	// inventory file (default: $INFRA_INVENTORY, else homelab.yaml)
	file *string,
) error {
	c, err := talosCluster(file)
	if err != nil {
		return err
	}
	bar := progress.New(os.Stderr)
	bar.Step("collect the support bundle")
	res, err := c.Support(ctx, talosnode.SupportOptions{Output: value(out), Node: value(node), Kubernetes: isSet(kubernetes),
		Progress: func(p talosnode.SupportProgress) {
			bar.Update(100*float64(p.Done)/float64(max(p.Total, 1)), fmt.Sprintf("%d of %d, %s: %s", p.Done, p.Total, p.Source, p.State))
		}})
	if err == nil {
		bar.Done("collected")
	}
	if res != nil {
		fmt.Printf("%s: %d collected, %d failed\n", res.Path, res.Collected, len(res.Failed))
		for _, f := range res.Failed {
			fmt.Println("  failed:", f)
		}
		if res.NoKubernetes != nil {
			fmt.Println(indent("no Kubernetes collectors: " + talosAdvice(res.NoKubernetes).Error()))
		}
	}
	return talosAdvice(err)
}

// indent indents every line of a node's message.
func indent(s string) string {
	if s == "" {
		return ""
	}
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
