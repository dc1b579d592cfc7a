//go:build mage

package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wdiazux/infra/lib/addons"
	"github.com/wdiazux/infra/lib/helmdeploy"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/talosgen"
	"github.com/wdiazux/infra/lib/talosnode"
)

// Addons installs or upgrades the add-ons (Cilium, Longhorn, NFS CSI, NVIDIA, Flux, monitoring, Loki, Forgejo) in order, waiting until each is ready; -dryrun shows the diff.
//
// Installs or upgrades the add-ons of `homelab.yaml` (Cilium, Longhorn, NFS
// CSI, NVIDIA, kube-prometheus-stack, Loki, Alloy, Flux, Forgejo and their
// config releases) in dependency order through the Helm v4 SDK, waiting until
// each release's objects are ready (progress on stderr); a release that does
// not become ready within `-wait` (default `10m`) is rolled back and named
// with its unready objects. Charts, values and the cluster's reachability are
// checked before anything changes. A release whose chart version and values
// are unchanged gets no new revision. `-only` takes add-on names (each with
// its config release; what they depend on must be installed). `-dryrun` prints
// each object that would change with its diff against the cluster. `-mirror`
// (or `INFRA_CHART_MIRROR`) fetches charts from a mirror instead of their
// repositories. The kubeconfig defaults to `talos/generated/kubeconfig`. See
// the add-ons (docs/reference/addons.md).
func (Cluster) Addons(ctx context.Context,
	// only these add-ons, comma-separated (e.g. longhorn,loki); those they depend on must be installed already
	only *string,
	// print the objects that would change, with their diff against the cluster; change nothing
	dryrun *bool,
	// how long each release may take to become ready (default 10m)
	wait *string,
	// chart mirror, a folder or URL with index.yaml (default: $INFRA_CHART_MIRROR, else the inventory's repositories)
	mirror *string,
	// the cluster's kubeconfig (default: talos/generated/kubeconfig beside the inventory)
	kubeconfig *string,
	// inventory file (default: $INFRA_INVENTORY, else homelab.yaml)
	file *string,
) error {
	d, err := waitFlag(wait, 10*time.Minute)
	if err != nil {
		return err
	}
	var names []string
	if v := strings.TrimSpace(value(only)); v != "" {
		for _, n := range strings.Split(v, ",") {
			names = append(names, strings.TrimSpace(n))
		}
	}
	dep, err := addonsDeploy(file, value(kubeconfig), value(mirror), addons.WithReleaseOptions(addons.WithTimeout(d)), addons.WithOnly(names...))
	if err != nil {
		return err
	}
	if isSet(dryrun) {
		res, err := dep.DryRun(ctx)
		if err != nil {
			return addonsAdvice(err)
		}
		for _, o := range res.Diffs {
			fmt.Printf("%s (release %s)\n", o, o.Release)
			if o.Diff != "" {
				fmt.Println(o.Diff)
			}
		}
		fmt.Printf("\ndry run: %s\n", res.Summary())
		return nil
	}
	res, err := dep.Run(ctx)
	if res != nil && res.Report != nil {
		printReleases(res.Report)
	}
	if err != nil {
		return addonsAdvice(err)
	}
	fmt.Printf("\n%s\n", res.Summary())
	if res.Changed() {
		fmt.Println("go run mage.go cluster:status    # each release and load-balancer address")
	}
	return nil
}

// Status lists each Helm release on the cluster (chart, version, revision, state) and each LoadBalancer service with its address.
//
// For each Helm release: chart, version, revision, state and last update;
// for each Service of type LoadBalancer: the address it asked for and the
// one it got.
func (Cluster) Status(ctx context.Context,
	// the cluster's kubeconfig (default: talos/generated/kubeconfig beside the inventory)
	kubeconfig *string,
	// inventory file (default: $INFRA_INVENTORY, else homelab.yaml)
	file *string,
) error {
	dep, err := addonsDeploy(file, value(kubeconfig), "")
	if err != nil {
		return err
	}
	rels, lbs, err := dep.Status(ctx)
	if err != nil {
		return addonsAdvice(err)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RELEASE\tNAMESPACE\tCHART\tVERSION\tREVISION\tSTATE\tUPDATED")
	for _, r := range rels {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", r.Name, r.Namespace, r.Chart, r.Version, r.Revision, r.State, r.Updated.Local().Format(time.DateTime))
	}
	fmt.Fprintln(tw, "\nSERVICE\tNAMESPACE\tREQUESTED\tADDRESS\tPORTS")
	for _, lb := range lbs {
		addr := strings.Join(lb.IPs, ",")
		if addr == "" {
			addr = "(pending)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", lb.Name, lb.Namespace, orDash(lb.Requested), addr, strings.Join(lb.Ports, ","))
	}
	return tw.Flush()
}

// addonsDeploy is the Deploy of the inventory's add-ons: the kubeconfig
// and the chart mirror default as the targets' flags say, progress goes
// to stderr.
func addonsDeploy(file *string, kubeconfig, mirror string, opts ...addons.DeployOption) (*addons.Deploy, error) {
	path, inv, err := loadInventory(file)
	if err != nil {
		return nil, err
	}
	return newAddonsDeploy(path, inv, kubeconfig, mirror, opts...), nil
}

// newAddonsDeploy is addonsDeploy for an inventory already loaded (cluster:up's).
func newAddonsDeploy(path string, inv *inventory.Inventory, kubeconfig, mirror string, opts ...addons.DeployOption) *addons.Deploy {
	root := filepath.Dir(path)
	if kubeconfig == "" {
		kubeconfig = filepath.Join(root, talosgen.DefaultOutDir, talosnode.KubeconfigFile)
	}
	if mirror == "" {
		mirror = os.Getenv(helmdeploy.EnvChartMirror)
	}
	deployer := []helmdeploy.Option{helmdeploy.WithProgress(addonProgress())}
	if mirror != "" {
		deployer = append(deployer, helmdeploy.WithMirror(mirror))
	}
	return addons.NewDeploy(inv, root, kubeconfig, append(opts, addons.WithDeployerOptions(deployer...))...)
}

// addonProgress returns the printer of a run's progress on stderr: each
// phase of a release as it starts, and while a release waits the objects
// not ready yet, at most every 5 seconds.
func addonProgress() func(helmdeploy.Event) {
	lastWait := map[string]time.Time{}
	return func(ev helmdeploy.Event) {
		switch ev.Phase {
		case helmdeploy.PhaseDone:
			return
		case helmdeploy.PhaseWait, helmdeploy.PhaseKinds:
			if len(ev.Unready) > 0 {
				if time.Since(lastWait[ev.Release]) < 5*time.Second {
					return
				}
				lastWait[ev.Release] = time.Now()
				fmt.Fprintf(os.Stderr, "%s: waiting for %s\n", ev.Release, strings.Join(ev.Unready, "; "))
				return
			}
		}
		fmt.Fprintf(os.Stderr, "%s …\n", strings.TrimSpace(fmt.Sprintf("%s: %s %s", ev.Release, ev.Phase, ev.Message)))
	}
}

// printReleases prints what a run did with each release.
func printReleases(rep *helmdeploy.Report) {
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	for _, r := range rep.Releases {
		fmt.Fprintf(tw, "%s\t%s %s\t%s\trevision %d\t%s\n", r.Name, r.Chart, r.Version, r.Action, r.Revision, r.Duration.Round(100*time.Millisecond))
	}
	_ = tw.Flush()
}

// orDash is s, or "-" when empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// addonsAdvice adds to an error of the add-ons what to run.
func addonsAdvice(err error) error {
	var (
		unreachable *helmdeploy.UnreachableError
		failed      *helmdeploy.ReleaseFailedError
		notFound    *helmdeploy.ChartNotFoundError
		dep         *helmdeploy.DependencyNotDeployedError
		values      *helmdeploy.ValuesError
		inv         *addons.InventoryError
	)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w\nrun: go run mage.go talos:kubeconfig    # or give the cluster's kubeconfig with -kubeconfig", err)
	case errors.As(err, &unreachable):
		return fmt.Errorf("%w\nrun: go run mage.go talos:health    # is the cluster up? then go run mage.go talos:kubeconfig", err)
	case errors.As(err, &failed):
		return fmt.Errorf("%w\nrun: go run mage.go cluster:status    # then fix what keeps those objects unready and run cluster:addons again", err)
	case errors.As(err, &notFound):
		return fmt.Errorf("%w\nfix the version in homelab.yaml (kubernetes.charts), or the mirror given with -mirror or $%s", err, helmdeploy.EnvChartMirror)
	case errors.As(err, &dep):
		return fmt.Errorf("%w\nrun: go run mage.go cluster:addons -only %s    # or cluster:addons for all", err, dep.Dependency)
	case errors.As(err, &values), errors.As(err, &inv):
		return fmt.Errorf("%w\nfix homelab.yaml or kubernetes/<add-on>/values.yaml, then: go run mage.go cluster:addons -dryrun", err)
	}
	return err
}
