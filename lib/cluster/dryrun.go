package cluster

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/wdiazux/infra/lib/images"
	"github.com/wdiazux/infra/lib/plan"
	"github.com/wdiazux/infra/lib/talosgen"
	"github.com/wdiazux/infra/lib/talosnode"
)

// ErrNoPlan is the dry run's check of a step whose Stage cannot plan.
var ErrNoPlan = errors.New("cannot be checked without changing it: its Stage is not a StagePlanner")

// checks are the dry run's steps: each reads, and says whether the real
// step would change something.
func (u *up) checks() map[Step]func(context.Context) (bool, string, error) {
	return map[Step]func(context.Context) (bool, string, error){
		StepPreflight:  u.preflight,
		StepTemplate:   u.checkTemplate,
		StepRemove:     u.checkRemove,
		StepNodeVMs:    planOf(u.deps.NodeVMs),
		StepConfigs:    u.checkConfigs,
		StepApply:      u.checkApply,
		StepBootstrap:  u.checkBootstrap,
		StepKubeconfig: u.checkKubeconfig,
		StepHealth: func(ctx context.Context) (bool, string, error) {
			return u.healthWithin(ctx, 0)
		},
		StepAddons: planOf(u.deps.Addons),
	}
}

// planOf is the dry run's check of a Stage: its plan, when it can plan.
func planOf(s Stage) func(context.Context) (bool, string, error) {
	return func(ctx context.Context) (bool, string, error) {
		p, ok := s.(StagePlanner)
		if !ok {
			return false, "", fmt.Errorf("%w (a %T)", ErrNoPlan, s)
		}
		return p.Plan(ctx)
	}
}

func (u *up) checkTemplate(ctx context.Context) (bool, string, error) {
	rep, err := images.ImportTalos(ctx, u.inv, u.deps.Proxmox, u.deps.Factory, u.deps.Lock, images.TalosImportOptions{DryRun: true, Logger: u.o.log})
	if err != nil {
		return false, "", err
	}
	if rep.Action == plan.Unchanged {
		return false, fmt.Sprintf("%d holds Talos %s, nothing to do", rep.TemplateID, rep.Version), nil
	}
	return true, fmt.Sprintf("would %s %d (Talos %s) with %d API call(s)", rep.Action, rep.TemplateID, rep.Version, len(rep.Calls)), nil
}

func (u *up) checkConfigs(ctx context.Context) (bool, string, error) {
	rep, err := talosgen.SyncConfigs(ctx, u.inv, talosgen.SyncOptions{Root: u.root, DryRun: true, Secrets: u.o.secrets, Logger: u.o.log})
	if err != nil {
		return false, "", err
	}
	if !rep.Changed() {
		return false, fmt.Sprintf("%d config(s) and the talosconfig up to date, nothing to do", len(rep.Configs.Nodes)), nil
	}
	n := 0
	for _, f := range rep.Files {
		if f.Action != talosgen.ActionUnchanged {
			n++
		}
	}
	return true, fmt.Sprintf("would write %d file(s) in %s", n, talosgen.DefaultOutDir), nil
}

func (u *up) checkApply(ctx context.Context) (bool, string, error) {
	for _, n := range u.inv.Talos.Nodes {
		state, err := u.nodes.Probe(ctx, n.Name)
		if err != nil {
			return false, "", err
		}
		if state == talosnode.Maintenance {
			return true, "would apply the config of " + n.Name + " (maintenance mode)", nil
		}
		res, err := u.nodes.Apply(ctx, talosnode.ApplyOptions{Node: n.Name, DryRun: true})
		if err != nil {
			return false, "", err
		}
		if !res[0].Unchanged() {
			return true, "would apply the changed config of " + n.Name, nil
		}
	}
	return false, fmt.Sprintf("%d node(s) configured, configs unchanged, nothing to do", len(u.inv.Talos.Nodes)), nil
}

func (u *up) checkBootstrap(ctx context.Context) (bool, string, error) {
	res, err := u.nodes.Bootstrap(ctx, "", true)
	if errors.Is(err, talosnode.ErrAlreadyBootstrapped) {
		return false, alreadyBootstrapped(err), nil
	}
	if err != nil {
		return false, "", err
	}
	return true, "would bootstrap etcd on " + res.Node, nil
}

func (u *up) checkKubeconfig(context.Context) (bool, string, error) {
	err := u.nodes.CheckKubeconfig()
	switch {
	case err == nil:
		return false, "the kubeconfig is the cluster's, nothing to do", nil
	case errors.Is(err, talosnode.ErrStaleKubeconfig), errors.Is(err, fs.ErrNotExist):
		return true, "would fetch the kubeconfig: " + err.Error(), nil
	}
	return false, "", err
}
