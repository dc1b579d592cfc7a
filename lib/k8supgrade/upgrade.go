package k8supgrade

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/siderolabs/talos/pkg/machinery/config/configloader"
	"github.com/siderolabs/talos/pkg/machinery/config/encoder"
	v1alpha1config "github.com/siderolabs/talos/pkg/machinery/config/types/v1alpha1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/talosgen"
	"github.com/wdiazux/infra/lib/talosnode"
)

// Options are the settings of Upgrade.
type Options struct {
	// Sync are the settings the configs are regenerated with
	// (talosgen.SyncConfigs: Root, Secrets, Logger); DryRun is Options'.
	Sync talosgen.SyncOptions
	// DryRun regenerates the configs in memory, reads every node and
	// returns the plan; it writes no file and changes no node.
	DryRun bool
	// Wait is how long each component of each node has to run its new
	// version (default 5m, Talos's limit for a static pod).
	Wait time.Duration
	// Interval is the time between checks while waiting (default 2s).
	Interval time.Duration
	// Progress receives each step as it starts (Applied false) and once
	// its config is applied (Applied true).
	Progress func(s Step, applied bool)
}

// ErrNotUp means a component did not run its new version in time.
var ErrNotUp = errors.New("a Kubernetes component did not come up on its new version")

// ComponentError is the step the upgrade stopped at: the component was
// given its new image and did not run it within the wait. The steps after
// it were not done.
type ComponentError struct {
	// Step is the step.
	Step Step
	// Waited is how long it was given; State is what was last seen.
	Waited time.Duration
	State  string
}

// Error names the component, the node, the version and what was seen.
func (e *ComponentError) Error() string {
	return fmt.Sprintf("%s on %s did not come up on %s within %s: %s; the steps after it were not done: find out why (its logs, kubectl -n kube-system describe), fix it, then run the upgrade again to resume",
		e.Step.Component, e.Step.Node, e.Step.To, e.Waited, e.State)
}

// Unwrap returns ErrNotUp.
func (e *ComponentError) Unwrap() error { return ErrNotUp }

// Upgrade brings the cluster's Kubernetes to the inventory's
// kubernetes.version the way Talos's own upgrade does: it regenerates the
// node configs in memory (talosgen.SyncConfigs, which puts the new images
// in), reads each node's Talos version and component images, checks the
// path before anything changes (supported by each node's Talos per
// machinery's compatibility matrix, one minor version at a time, no
// downgrade), writes the regenerated configs, then
// upgrades one component of one node at a time: kube-apiserver,
// kube-controller-manager and kube-scheduler on each control plane, then
// the kubelet of every node (control planes first). Each step applies the
// node's regenerated config without a reboot, holding the components not
// yet upgraded at their current image, and waits until the component runs
// the new version (its static pod Ready with the new image; its Node
// reporting the new kubeletVersion and Ready). It stops at the first
// component that does not come up, with a *ComponentError; a re-run
// resumes there. After the kubelets, as Talos does, the bootstrap
// manifests the first control plane renders are read again and synced to
// the API server (go-kubernetes manifests.Sync), then their Deployments
// and DaemonSets waited for (manifests.WaitForRollout); a failure is a
// *ManifestError. With nothing to upgrade and no manifest to apply it
// changes nothing. cfg reaches the Kubernetes API. The plan is returned
// in every case (nil when the state could not be read).
func Upgrade(ctx context.Context, inv *inventory.Inventory, nodes Nodes, cfg *rest.Config, o Options) (*Plan, error) {
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("a client of the Kubernetes API at %s: %w", cfg.Host, err)
	}
	sync := o.Sync
	sync.DryRun = true
	rep, err := talosgen.SyncConfigs(ctx, inv, sync)
	if err != nil {
		return nil, err
	}
	p, err := makePlan(ctx, inv, nodes, cfg, kube, rep.Configs)
	if err != nil || o.DryRun || p.Nothing() {
		return p, err
	}
	// The path is fine: now write the configs the steps apply.
	sync.DryRun = false
	if rep, err = talosgen.SyncConfigs(ctx, inv, sync); err != nil {
		return p, err
	}
	for _, nc := range rep.Configs.Nodes {
		p.targets[nc.Node.Name] = nc.Config
	}
	wait, interval := o.Wait, o.Interval
	if wait <= 0 {
		wait = 5 * time.Minute
	}
	if interval <= 0 {
		interval = 2 * time.Second
	}
	for _, s := range p.Steps {
		if o.Progress != nil {
			o.Progress(s, false)
		}
		if s.Apply {
			data, err := p.configFor(s)
			if err != nil {
				return p, err
			}
			if _, err := nodes.ApplyNoReboot(ctx, s.Node, data); err != nil {
				return p, fmt.Errorf("%s on %s: %w", s.Component, s.Node, err)
			}
			p.current[s.Node][s.Component] = s.ToImage
			if o.Progress != nil {
				o.Progress(s, true)
			}
		}
		if err := awaitRunning(ctx, kube, s, wait, interval); err != nil {
			return p, err
		}
	}
	// As Talos does after the kubelets: the manifests the control plane
	// renders now (its config may have changed them) are synced.
	if p.Manifests, p.ManifestObjects, err = syncManifests(ctx, nodes, cfg, p.ManifestsFrom, false); err != nil {
		return p, err
	}
	return p, nil
}

// configFor is the node's regenerated config with the components after
// s's (in Components order) that are not upgraded yet held at the image
// they have, as Talos changes one image at a time. With none to hold it
// is the regenerated config as written.
func (p *Plan) configFor(s Step) ([]byte, error) {
	target := p.targets[s.Node]
	holds := map[string]string{}
	for _, comp := range Components[slices.Index(Components, s.Component)+1:] {
		if img, ok := p.current[s.Node][comp]; ok && img != "" && !p.done(s.Node, comp) {
			holds[comp] = img
		}
	}
	if len(holds) == 0 {
		return target, nil
	}
	cfg, err := configloader.NewFromBytes(target)
	if err != nil {
		return nil, fmt.Errorf("%s: the regenerated config does not load: %w", s.Node, err)
	}
	held, err := cfg.PatchV1Alpha1(func(c *v1alpha1config.Config) error { return hold(c, holds) })
	if err != nil {
		return nil, fmt.Errorf("%s: hold %v at their images: %w", s.Node, holds, err)
	}
	return held.EncodeBytes(encoder.WithComments(encoder.CommentsDisabled))
}

// done says the node's config already gives comp its new image.
func (p *Plan) done(node, comp string) bool {
	for _, s := range p.Steps {
		if s.Node == node && s.Component == comp {
			return p.current[node][comp] == s.ToImage
		}
	}
	return true
}

// hold sets the images of a v1alpha1 config.
func hold(c *v1alpha1config.Config, images map[string]string) error {
	if c.ClusterConfig == nil || c.MachineConfig == nil {
		return errors.New("the config has no cluster or machine section")
	}
	for comp, img := range images {
		switch comp {
		case talosnode.KubeAPIServer:
			if c.ClusterConfig.APIServerConfig == nil {
				c.ClusterConfig.APIServerConfig = &v1alpha1config.APIServerConfig{}
			}
			c.ClusterConfig.APIServerConfig.ContainerImage = img
		case talosnode.KubeControllerManager:
			if c.ClusterConfig.ControllerManagerConfig == nil {
				c.ClusterConfig.ControllerManagerConfig = &v1alpha1config.ControllerManagerConfig{}
			}
			c.ClusterConfig.ControllerManagerConfig.ContainerImage = img
		case talosnode.KubeScheduler:
			if c.ClusterConfig.SchedulerConfig == nil {
				c.ClusterConfig.SchedulerConfig = &v1alpha1config.SchedulerConfig{}
			}
			c.ClusterConfig.SchedulerConfig.ContainerImage = img
		case talosnode.Kubelet:
			if c.MachineConfig.MachineKubelet == nil {
				c.MachineConfig.MachineKubelet = &v1alpha1config.KubeletConfig{}
			}
			c.MachineConfig.MachineKubelet.KubeletImage = img
		default:
			return fmt.Errorf("unknown component %q", comp)
		}
	}
	return nil
}

// awaitRunning checks until the step's component runs its new image, or
// returns a *ComponentError when wait has passed.
func awaitRunning(ctx context.Context, kube kubernetes.Interface, s Step, wait, interval time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		state, err := runs(ctx, kube, s.Node, s.Component, s.ToImage)
		if err != nil {
			return err
		}
		if state == "" {
			return nil
		}
		if time.Now().Add(interval).After(deadline) {
			return &ComponentError{Step: s, Waited: wait, State: state}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s on %s: stopped waiting (%w): %s", s.Component, s.Node, ctx.Err(), state)
		case <-time.After(interval):
		}
	}
}
