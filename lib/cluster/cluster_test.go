package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/clustersim"
	"github.com/wdiazux/infra/internal/tfaccept"
	"github.com/wdiazux/infra/lib/cluster"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
	"github.com/wdiazux/infra/lib/talosgen"
	"github.com/wdiazux/infra/lib/talosnode"
	"github.com/wdiazux/infra/lib/talosnode/nodesim"
)

var homelab = filepath.Join("..", "..", inventory.DefaultFile)

// up runs cluster.Up against the harness with extra options.
func up(ctx context.Context, t *testing.T, h *clustersim.Harness, opts ...cluster.Option) (*cluster.Report, error) {
	t.Helper()
	return cluster.Up(ctx, h.Inv, h.Root, h.Deps(t), append(h.Options(), opts...)...)
}

// stepsOf maps each step to its result.
func stepsOf(rep *cluster.Report) map[cluster.Step]cluster.StepResult {
	out := map[cluster.Step]cluster.StepResult{}
	for _, s := range rep.Steps {
		out[s.Step] = s
	}
	return out
}

// nodeCalls are the node calls that change a node: applied configs (not
// dry runs) and bootstraps.
func nodeCalls(reqs []nodesim.Request) []string {
	var out []string
	for _, r := range reqs {
		if (r.Method == "ApplyConfiguration" && !r.DryRun) || r.Method == "Bootstrap" {
			out = append(out, r.Node+" "+r.Method)
		}
	}
	return out
}

// templateBeforeImport is the error answer the template step's first look
// gets on a fresh host.
func templateBeforeImport(vmid int) tfaccept.Expected {
	return tfaccept.Expected{Method: http.MethodGet, Path: regexp.MustCompile(fmt.Sprintf(`/nodes/[^/]+/qemu/%d/config`, vmid)),
		Status: http.StatusInternalServerError,
		Why: "the import reads the template's config to decide; on a fresh host qemu-server's config load dies with " +
			"\"Configuration file 'nodes/<node>/qemu-server/<vmid>.conf' does not exist\" (500)"}
}

// TestUp: from a fresh simulated host to a healthy one-node cluster and a
// kubeconfig the cluster accepts; a second run reports every step
// unchanged, sends no mutating request to the host and changes no node.
func TestUp(t *testing.T) {
	h := clustersim.New(t, homelab)
	ctx := t.Context()

	dry, err := up(ctx, t, h, cluster.WithDryRun())
	require.NoError(t, err)
	require.True(t, dry.DryRun)
	require.Len(t, dry.Steps, 2, "the dry run stops at the first step that would change something")
	require.Regexp(t, `^would create 9000 \(Talos v1\.12\.7\) with \d+ API call\(s\)$`, dry.Steps[1].Detail)
	require.Equal(t, cluster.Steps()[2:], dry.Unchecked)
	require.Empty(t, tfaccept.FormatRequests(pvesim.Mutating(h.Sim.Requests())), "the dry run changes nothing on the host")

	var events []cluster.Event
	rep, err := up(ctx, t, h, cluster.WithEvents(func(ev cluster.Event) { events = append(events, ev) }))
	require.NoError(t, err)
	require.Len(t, rep.Steps, len(cluster.Steps()))
	require.Len(t, events, 2*len(cluster.Steps()), "each step starts and ends")
	steps := stepsOf(rep)
	for _, s := range []cluster.Step{cluster.StepTemplate, cluster.StepNodeVMs, cluster.StepConfigs, cluster.StepApply, cluster.StepBootstrap, cluster.StepKubeconfig} {
		require.True(t, steps[s].Changed, "%s: %s", s, steps[s].Detail)
	}
	require.False(t, steps[cluster.StepPreflight].Changed)
	require.False(t, steps[cluster.StepHealth].Changed)
	require.Equal(t, "1 VM(s) created, 0 updated, 0 replaced, 0 destroyed (terraform)", steps[cluster.StepNodeVMs].Detail)
	require.Contains(t, steps[cluster.StepApply].Detail, "talos-cp-01: maintenance mode, config applied (reboot), now configured")
	require.Equal(t, "bootstrapped etcd on talos-cp-01", steps[cluster.StepBootstrap].Detail)
	require.Equal(t, "create talos/generated/talos-cp-01.yaml, create talos/generated/talosconfig", steps[cluster.StepConfigs].Detail)
	require.Equal(t, "wrote talos/generated/kubeconfig (0600), context admin@homelab; there was none", steps[cluster.StepKubeconfig].Detail)
	require.Equal(t, "healthy: talos-cp-01 v1.12.7, 8/8 services, etcd 1 member(s)", steps[cluster.StepHealth].Detail)
	require.Equal(t, []cluster.Step{cluster.StepHealth, cluster.StepAddons}, []cluster.Step{rep.Steps[len(rep.Steps)-2].Step, rep.Steps[len(rep.Steps)-1].Step},
		"the add-ons step runs last, after health")
	require.Equal(t, cluster.Event{Step: cluster.StepAddons, Done: true, Result: rep.Steps[len(rep.Steps)-1]}, events[len(events)-1])
	require.Equal(t, "no add-ons: this harness has no API server (clustersim.WithKube)", steps[cluster.StepAddons].Detail)

	node := h.Inv.Talos.Nodes[0]
	cfg, err := h.Client.VMConfig(ctx, h.Inv.Proxmox.Node, node.VMID)
	require.NoError(t, err)
	require.Contains(t, cfg.Values["ipconfig0"], "ip="+node.IP.String()+"/24")
	c := talosnode.New(h.Inv, filepath.Join(h.Root, talosgen.DefaultOutDir), talosnode.WithEndpointOverrides(h.Endpoints()))
	require.NoError(t, c.CheckKubeconfig(), "the kubeconfig is the cluster's")
	require.Equal(t, []string{"talos-cp-01 ApplyConfiguration", "talos-cp-01 Bootstrap"}, nodeCalls(h.Nodes.Requests()))
	require.Empty(t, tfaccept.FormatRequests(tfaccept.Unexpected(h.Sim.Requests(),
		[]tfaccept.Expected{templateBeforeImport(h.Inv.Talos.TemplateID), tfaccept.EFIDiskMoveToSameStorage(node.VMID), tfaccept.AgentWhileBooting(node.VMID)})))

	before, nodesBefore := len(h.Sim.Requests()), len(h.Nodes.Requests())
	rep, err = up(ctx, t, h)
	require.NoError(t, err)
	require.Len(t, rep.Steps, len(cluster.Steps()))
	for _, s := range rep.Steps {
		require.False(t, s.Changed, "%s changed on a healthy cluster: %s", s.Step, s.Detail)
	}
	require.False(t, rep.Changed())
	steps = stepsOf(rep)
	require.Equal(t, "9000 holds Talos v1.12.7, nothing to do", steps[cluster.StepTemplate].Detail)
	require.Equal(t, "nothing to do", steps[cluster.StepNodeVMs].Detail)
	require.Equal(t, "talos-cp-01: configured, config unchanged, nothing to do", steps[cluster.StepApply].Detail)
	require.Equal(t, "etcd already runs: talos-cp-01 reports 1 member(s) (talos-cp-01); nothing to do", steps[cluster.StepBootstrap].Detail)
	require.Equal(t, "talos/generated/kubeconfig is the cluster's, nothing to do", steps[cluster.StepKubeconfig].Detail)
	require.Empty(t, tfaccept.FormatRequests(pvesim.Mutating(h.Sim.Requests()[before:])), "the second run changes nothing on the host")
	require.Empty(t, nodeCalls(h.Nodes.Requests()[nodesBefore:]), "the second run changes no node")

	dry, err = up(ctx, t, h, cluster.WithDryRun())
	require.NoError(t, err)
	require.Len(t, dry.Steps, len(cluster.Steps()), "on a healthy cluster the dry run checks every step")
	require.Empty(t, dry.Unchecked)
	require.False(t, dry.Changed())
	require.Equal(t, "nothing to do", stepsOf(dry)[cluster.StepNodeVMs].Detail)
	require.Equal(t, "no add-ons: this harness has no API server (clustersim.WithKube)", stepsOf(dry)[cluster.StepAddons].Detail, "the dry run checks the add-ons through their plan")
	require.Empty(t, tfaccept.FormatRequests(pvesim.Mutating(h.Sim.Requests()[before:])))
	require.Empty(t, nodeCalls(h.Nodes.Requests()[nodesBefore:]))

	deps := h.Deps(t)
	deps.Addons = cluster.StageFunc(func(context.Context) (bool, string, error) { return true, "installed", nil })
	_, err = cluster.Up(ctx, h.Inv, h.Root, deps, append(h.Options(), cluster.WithDryRun())...)
	var stepErr *cluster.StepError
	require.ErrorAs(t, err, &stepErr)
	require.Equal(t, cluster.StepAddons, stepErr.Step)
	require.ErrorIs(t, err, cluster.ErrNoPlan, "a Stage that cannot plan is not applied by a dry run")
}

// TestUpResumes: a node that does not answer fails the run at the step
// that needs it, named; then runs stopped right after each step in turn
// (the context cancelled when the step ends) each leave the rest to the
// next run, and the last run completes with a healthy cluster.
func TestUpResumes(t *testing.T) {
	h := clustersim.New(t, homelab)
	ctx := t.Context()

	closed := map[string]string{}
	for _, n := range h.Inv.Talos.Nodes {
		closed[n.Name] = "127.0.0.1:1"
	}
	_, err := up(ctx, t, h, cluster.WithTalosOptions(talosnode.WithEndpointOverrides(closed)), cluster.WithNodeWait(0))
	var stepErr *cluster.StepError
	require.ErrorAs(t, err, &stepErr)
	require.Equal(t, cluster.StepApply, stepErr.Step)
	require.ErrorContains(t, err, "apply configs: talos-cp-01 did not answer within 0s: talos-cp-01 (127.0.0.1:1)")

	for i, step := range cluster.Steps()[:len(cluster.Steps())-1] {
		runCtx, cancel := context.WithCancel(ctx)
		rep, err := up(runCtx, t, h, cluster.WithEvents(func(ev cluster.Event) {
			if ev.Done && ev.Step == step {
				cancel()
			}
		}))
		cancel()
		require.ErrorIs(t, err, context.Canceled, "stopped after %s", step)
		require.True(t, errors.As(err, &stepErr))
		require.Equal(t, cluster.Steps()[i+1], stepErr.Step, "the run stops before the step after %s", step)
		require.Len(t, rep.Steps, i+1)
	}
	rep, err := up(ctx, t, h)
	require.NoError(t, err)
	require.Len(t, rep.Steps, len(cluster.Steps()))
	require.Equal(t, []string{"talos-cp-01 ApplyConfiguration", "talos-cp-01 Bootstrap"}, nodeCalls(h.Nodes.Requests()),
		"the config was applied and etcd bootstrapped once over all the runs")
}
