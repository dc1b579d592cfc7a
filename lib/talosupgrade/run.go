package talosupgrade

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wdiazux/infra/lib/plan"
)

// Report is what a run did.
type Report struct {
	// Template are the template steps done, with what each did.
	Template []string
	// Configs says what regenerating the configs changed.
	Configs string
	// Snapshot is where the etcd snapshot is ("" when none was needed).
	Snapshot string
	// Upgraded are the nodes upgraded by this run, in order; Skipped the
	// ones that already ran the target.
	Upgraded, Skipped []string
}

// ErrNoSnapshotter means there are nodes to upgrade and no way to take
// the etcd snapshot that must come first.
var ErrNoSnapshotter = errors.New("no etcd snapshotter: the upgrade takes an etcd snapshot before the first node and has none to take it with")

// NodeNotBackError means a node did not come back from its upgrade on the
// target image, healthy, within the wait. The rollout stopped there: the
// nodes after it were not touched.
type NodeNotBackError struct {
	// Node and Role are the node's; Want is the image it should run.
	Node, Role string
	Want       Image
	// Waited is how long the run waited; Saw is what was still wrong at
	// the last check.
	Waited time.Duration
	Saw    []string
	// Upgraded are the nodes this run upgraded before; Untouched the ones
	// after it, left as they were.
	Upgraded, Untouched []string
}

// Error names the node, what it saw and what was left untouched.
func (e *NodeNotBackError) Error() string {
	msg := fmt.Sprintf("%s (%s) did not come back on Talos %s within %s: %s", e.Node, e.Role, e.Want, e.Waited, strings.Join(e.Saw, "; "))
	if len(e.Untouched) > 0 {
		msg += fmt.Sprintf("; the rollout stopped: %s not touched", strings.Join(e.Untouched, ", "))
	}
	return msg
}

// NodeUpgradeError means asking a node to upgrade failed (it refused, or
// did not answer); the rollout stopped there.
type NodeUpgradeError struct {
	// Node is the node; Untouched the nodes after it.
	Node      string
	Untouched []string
	// Err is the node's answer (a *talosnode.UpgradeRefusedError or
	// *talosnode.NodeError).
	Err error
}

// Error names the node and the nodes left untouched.
func (e *NodeUpgradeError) Error() string {
	msg := e.Err.Error()
	if len(e.Untouched) > 0 {
		msg += fmt.Sprintf("; the rollout stopped: %s not touched", strings.Join(e.Untouched, ", "))
	}
	return msg
}

// Unwrap returns the node's answer.
func (e *NodeUpgradeError) Unwrap() error { return e.Err }

// Step names of the events.
const (
	StepTemplate = "template"
	StepConfigs  = "configs"
	StepSnapshot = "etcd snapshot"
	StepNode     = "upgrade"
	StepVerify   = "verify"
)

func (p *Plan) emit(step, msg string, done bool) {
	if p.o.events != nil {
		p.o.events(plan.Event{Step: step, Message: msg, Percent: -1, Done: done})
	}
}

// Execute runs the plan: the template steps, the configs, the etcd
// snapshot, then node by node (each waited for until it runs the target,
// healthy), then, once every node says it runs the target, the removal
// of the previous template. It stops at the first failure; a new plan
// resumes from what the nodes and the host say then.
func (p *Plan) Execute(ctx context.Context) (*Report, error) {
	rep := &Report{}
	if p.NothingToDo() {
		return rep, nil
	}
	pending := p.Pending()
	if len(pending) > 0 && p.deps.Snapshot == nil {
		return rep, ErrNoSnapshotter
	}
	if err := p.runTemplateSteps(ctx, p.Before, rep); err != nil {
		return rep, err
	}
	if len(p.Before) > 0 || len(pending) > 0 {
		p.emit(StepConfigs, "regenerate the node configs with "+p.InstallerImage, false)
		out, err := p.deps.Configs(ctx)
		if err != nil {
			return rep, fmt.Errorf("regenerate the node configs: %w", err)
		}
		rep.Configs = out
		p.emit(StepConfigs, out, true)
	}
	for _, n := range p.Nodes {
		if n.Current {
			rep.Skipped = append(rep.Skipped, n.Node)
		}
	}
	if len(pending) > 0 {
		p.emit(StepSnapshot, "before the first node", false)
		path, err := p.deps.Snapshot.Snapshot(ctx)
		if err != nil {
			return rep, fmt.Errorf("etcd snapshot before the upgrade (no node was touched): %w", err)
		}
		rep.Snapshot = path
		p.emit(StepSnapshot, path, true)
	}
	for i, n := range pending {
		untouched := names(pending[i+1:])
		p.emit(StepNode+" "+n.Node, fmt.Sprintf("%s → %s", n.From, n.To), false)
		if err := p.deps.Nodes.Upgrade(ctx, n.Node, p.InstallerImage); err != nil {
			return rep, &NodeUpgradeError{Node: n.Node, Untouched: untouched, Err: err}
		}
		if err := p.waitNode(ctx, n); err != nil {
			var nb *NodeNotBackError
			if errors.As(err, &nb) {
				nb.Upgraded, nb.Untouched = rep.Upgraded, untouched
			}
			return rep, err
		}
		rep.Upgraded = append(rep.Upgraded, n.Node)
		p.emit(StepNode+" "+n.Node, "runs "+n.To.String()+", healthy", true)
	}
	if len(p.After) > 0 {
		if err := p.verifyAll(ctx); err != nil {
			return rep, err
		}
		if err := p.runTemplateSteps(ctx, p.After, rep); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// runTemplateSteps runs template steps in order, noting each in rep.
func (p *Plan) runTemplateSteps(ctx context.Context, steps []TemplateStep, rep *Report) error {
	for _, s := range steps {
		p.emit(StepTemplate, s.Action.String()+": "+s.Detail, false)
		done, err := p.runTemplateStep(ctx, s)
		if err != nil {
			return fmt.Errorf("template: %s: %w", s.Action, err)
		}
		p.emit(StepTemplate, done, true)
		rep.Template = append(rep.Template, done)
	}
	return nil
}

func names(steps []NodeStep) []string {
	var out []string
	for _, s := range steps {
		out = append(out, s.Node)
	}
	return out
}

// verifyAll asks every node again before the old template goes: each must
// say it runs the target.
func (p *Plan) verifyAll(ctx context.Context) error {
	p.emit(StepVerify, "every node runs "+p.Target.String(), false)
	for _, n := range p.Nodes {
		r, err := p.deps.Nodes.Running(ctx, n.Node)
		if err != nil {
			return fmt.Errorf("before removing the previous template: %w", err)
		}
		if got := (Image{r.Version, r.Schematic}); got != p.Target {
			return fmt.Errorf("before removing the previous template: %s runs Talos %s, not %s: the previous template is kept", n.Node, got, p.Target)
		}
	}
	p.emit(StepVerify, "every node runs "+p.Target.String(), true)
	return nil
}

// waitNode waits until the node runs the target, healthy, etcd has every
// member and (when checked) its Kubernetes node is Ready.
func (p *Plan) waitNode(ctx context.Context, n NodeStep) error {
	start := time.Now()
	deadline := start.Add(p.o.wait)
	for {
		saw := p.observe(ctx, n)
		if len(saw) == 0 {
			return nil
		}
		p.emit(StepNode+" "+n.Node, "waiting: "+strings.Join(saw, "; "), false)
		if time.Now().Add(p.o.interval).After(deadline) {
			return &NodeNotBackError{Node: n.Node, Role: n.Role, Want: n.To, Waited: p.o.wait, Saw: saw}
		}
		select {
		case <-ctx.Done():
			return &NodeNotBackError{Node: n.Node, Role: n.Role, Want: n.To, Waited: time.Since(start).Round(time.Second),
				Saw: append(saw, "stopped waiting: "+ctx.Err().Error())}
		case <-time.After(p.o.interval):
		}
	}
}

// observe lists what is not yet as it should be after a node's upgrade.
func (p *Plan) observe(ctx context.Context, n NodeStep) []string {
	r, err := p.deps.Nodes.Running(ctx, n.Node)
	if err != nil {
		return []string{"does not answer: " + err.Error()}
	}
	if got := (Image{r.Version, r.Schematic}); got != n.To {
		return []string{"runs Talos " + got.String()}
	}
	h, err := p.deps.Nodes.CheckNode(ctx, n.Node)
	if err != nil {
		return []string{err.Error()}
	}
	saw := h.Problems
	cps := p.inv.Talos.ControlPlanes()
	for _, cp := range cps {
		if cp.Name == n.Node {
			continue // its own check counted the members
		}
		ch, err := p.deps.Nodes.CheckNode(ctx, cp.Name)
		switch {
		case err != nil:
			saw = append(saw, err.Error())
		case ch.EtcdMembers != len(cps):
			saw = append(saw, fmt.Sprintf("etcd on %s has %d member(s), want %d", cp.Name, ch.EtcdMembers, len(cps)))
		}
	}
	if n.Kube && p.deps.Kube != nil {
		ready, why, err := p.deps.Kube.NodeReady(ctx, n.Node)
		switch {
		case err != nil:
			saw = append(saw, "Kubernetes API: "+err.Error())
		case !ready:
			saw = append(saw, "Kubernetes node not Ready: "+why)
		}
	}
	return saw
}

// joinAnd is "a, b and c".
func joinAnd(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}
