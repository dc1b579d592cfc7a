package cluster

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/wdiazux/infra/lib/images"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/netx"
	"github.com/wdiazux/infra/lib/plan"
	"github.com/wdiazux/infra/lib/preflight"
	"github.com/wdiazux/infra/lib/talosgen"
	"github.com/wdiazux/infra/lib/talosnode"
)

// preflight runs every preflight check; it changes nothing, and fails
// naming each check that failed and its fix.
func (u *up) preflight(ctx context.Context) (bool, string, error) {
	rep := preflight.Run(ctx, u.deps.Proxmox, preflight.PlanFor(u.inv), u.o.preflight...)
	if failed := rep.Failed(); len(failed) > 0 {
		lines := make([]string, 0, len(failed))
		for _, c := range failed {
			line := fmt.Sprintf("%s: %s", c.Name, c.Detail)
			if c.Fix != "" {
				line += " (fix: " + c.Fix + ")"
			}
			lines = append(lines, line)
		}
		return false, "", fmt.Errorf("%w: %d check(s) failed:\n  %s", ErrPreflight, len(failed), strings.Join(lines, "\n  "))
	}
	return false, fmt.Sprintf("ok, %d checks passed", len(rep.Checks)), nil
}

// template imports the Talos template unless the host already holds it.
func (u *up) template(ctx context.Context) (bool, string, error) {
	rep, err := images.ImportTalos(ctx, u.inv, u.deps.Proxmox, u.deps.Factory, u.deps.Lock, images.TalosImportOptions{Logger: u.o.log})
	if err != nil {
		return false, "", err
	}
	done := map[plan.Action]string{plan.Create: "created", plan.Repair: "rebuilt (an earlier run left it half-made)", plan.Replace: "replaced"}
	if rep.Action == plan.Unchanged {
		return false, fmt.Sprintf("%d holds Talos %s, nothing to do", rep.TemplateID, rep.Version), nil
	}
	return true, fmt.Sprintf("%d %s, Talos %s, %d API call(s)", rep.TemplateID, done[rep.Action], rep.Version, len(rep.Calls)), nil
}

// configs generates the node configs and the talosconfig.
func (u *up) configs(ctx context.Context) (bool, string, error) {
	rep, err := talosgen.SyncConfigs(ctx, u.inv, talosgen.SyncOptions{Root: u.root, Secrets: u.o.secrets, Logger: u.o.log})
	if err != nil {
		return false, "", err
	}
	if !rep.Changed() {
		return false, fmt.Sprintf("%d config(s) and the talosconfig up to date, nothing to do", len(rep.Configs.Nodes)), nil
	}
	var done []string
	if rep.BundleCreated {
		done = append(done, "created the secrets bundle "+u.rel(rep.BundleFile)+" (commit it)")
	}
	for _, f := range rep.Files {
		if f.Action != talosgen.ActionUnchanged {
			done = append(done, f.Action+" "+u.rel(f.Path))
		}
	}
	return true, strings.Join(done, ", "), nil
}

// apply gives each node its config: a node in maintenance mode gets it
// and is awaited until it answers as configured; a configured node is
// asked for its own dry run and gets the config only when it differs.
func (u *up) apply(ctx context.Context) (bool, string, error) {
	changed := false
	var details []string
	for _, n := range u.inv.Talos.Nodes {
		var state talosnode.NodeState
		err := u.until(ctx, u.o.nodeWait, func() (err error) {
			state, err = u.nodes.Probe(ctx, n.Name)
			return err
		})
		if err != nil {
			return changed, strings.Join(details, "; "), fmt.Errorf("%s did not answer within %s: %w", n.Name, u.o.nodeWait, err)
		}
		detail, did, err := u.applyNode(ctx, n, state)
		changed = changed || did
		details = append(details, detail)
		if err != nil {
			return changed, strings.Join(details, "; "), err
		}
	}
	return changed, strings.Join(details, "; "), nil
}

func (u *up) applyNode(ctx context.Context, n inventory.TalosNode, state talosnode.NodeState) (detail string, changed bool, err error) {
	if state == talosnode.Configured {
		res, err := u.nodes.Apply(ctx, talosnode.ApplyOptions{Node: n.Name, DryRun: true})
		if err != nil {
			return n.Name + ": configured", false, err
		}
		if res[0].Unchanged() {
			return n.Name + ": configured, config unchanged, nothing to do", false, nil
		}
	}
	res, err := u.nodes.Apply(ctx, talosnode.ApplyOptions{Node: n.Name})
	if err != nil {
		return n.Name + ": " + state.String(), false, err
	}
	detail = fmt.Sprintf("%s: %s, config applied (%s)", n.Name, state, res[0].Mode)
	if state == talosnode.Configured {
		return detail, true, nil
	}
	err = u.until(ctx, u.o.nodeWait, func() error {
		s, err := u.nodes.Probe(ctx, n.Name)
		if err == nil && s != talosnode.Configured {
			err = fmt.Errorf("%w: %s is still in %s", errNotYet, n.Name, s)
		}
		return err
	})
	if err != nil {
		return detail, true, fmt.Errorf("%s did not come back configured within %s: %w", n.Name, u.o.nodeWait, err)
	}
	return detail + ", now configured", true, nil
}

// bootstrap starts etcd once: the control planes' etcd members say
// whether it runs.
func (u *up) bootstrap(ctx context.Context) (bool, string, error) {
	res, err := u.nodes.Bootstrap(ctx, "", true)
	if errors.Is(err, talosnode.ErrAlreadyBootstrapped) {
		return false, alreadyBootstrapped(err), nil
	}
	if err != nil {
		return false, "", err
	}
	if _, err = u.nodes.Bootstrap(ctx, res.Node, false); errors.Is(err, talosnode.ErrAlreadyBootstrapped) {
		return false, alreadyBootstrapped(err), nil
	}
	if err != nil {
		return false, "", err
	}
	return true, "bootstrapped etcd on " + res.Node, nil
}

// alreadyBootstrapped is the node's answer without the sentinel's words.
func alreadyBootstrapped(err error) string {
	msg := strings.TrimPrefix(err.Error(), talosnode.ErrAlreadyBootstrapped.Error()+": ")
	return "etcd already runs: " + strings.TrimSuffix(msg, "; nothing was done") + "; nothing to do"
}

// kubeconfig keeps a kubeconfig the cluster accepts, and fetches one
// otherwise (none yet, or a stale one).
func (u *up) kubeconfig(ctx context.Context) (bool, string, error) {
	why := "there was none"
	err := u.nodes.CheckKubeconfig()
	switch {
	case err == nil:
		return false, u.rel(filepath.Join(u.root, talosgen.DefaultOutDir, talosnode.KubeconfigFile)) + " is the cluster's, nothing to do", nil
	case errors.Is(err, talosnode.ErrStaleKubeconfig):
		why = "replaced a stale one: " + err.Error()
	case errors.Is(err, fs.ErrNotExist):
	default:
		return false, "", err
	}
	var res talosnode.KubeconfigResult
	err = u.until(ctx, u.o.nodeWait, func() (err error) {
		res, err = u.nodes.Kubeconfig(ctx, talosnode.KubeconfigOptions{})
		return err
	})
	if err != nil {
		return false, "", err
	}
	return true, fmt.Sprintf("wrote %s (0600), context %s; %s", u.rel(res.Path), res.Context, why), nil
}

// rel is path relative to the inventory's directory, as the files are
// named in the repository.
func (u *up) rel(path string) string {
	if r, err := filepath.Rel(u.root, path); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return path
}

// health waits until every node is healthy; it changes nothing.
func (u *up) health(ctx context.Context) (bool, string, error) {
	return u.healthWithin(ctx, u.o.healthWait)
}

// healthWithin checks the health until healthy or wait has passed (0:
// once).
func (u *up) healthWithin(ctx context.Context, wait time.Duration) (bool, string, error) {
	rep, err := u.nodes.Health(ctx, talosnode.HealthOptions{Wait: wait, Interval: u.o.interval})
	if err != nil {
		return false, "", err
	}
	var parts []string
	for _, n := range rep.Nodes {
		part := fmt.Sprintf("%s %s, %d/%d services", n.Node, n.Version, n.Healthy, n.Services)
		if n.Role == inventory.RoleControlPlane {
			part += fmt.Sprintf(", etcd %d member(s)", n.EtcdMembers)
		}
		parts = append(parts, part)
	}
	return false, "healthy: " + strings.Join(parts, "; "), nil
}

// until calls f until it succeeds, wait has passed, or f's error is not
// one a node gives while it boots, installs or starts etcd (Unavailable,
// FailedPrecondition, a failed connection, or a dry-run/maintenance state
// error); it returns f's last error.
func (u *up) until(ctx context.Context, wait time.Duration, f func() error) error {
	deadline := time.Now().Add(wait)
	for {
		err := f()
		if err == nil || !transient(err) || time.Now().Add(u.o.interval).After(deadline) {
			return err
		}
		u.o.log.Debug("not ready yet", "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (stopped waiting: %w)", err, ctx.Err())
		case <-time.After(u.o.interval):
		}
	}
}

// errNotYet is a node that answers, but not yet as the step needs.
var errNotYet = errors.New("not ready yet")

// transient says err is what a node answers while it boots, installs,
// reboots or starts etcd: worth asking again.
func transient(err error) bool {
	if errors.Is(err, errNotYet) || netx.IsTimeout(err) {
		return true
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.FailedPrecondition, codes.DeadlineExceeded:
		return true
	}
	return false
}
