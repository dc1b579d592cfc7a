package addons

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"k8s.io/client-go/kubernetes"

	"github.com/wdiazux/infra/lib/helmdeploy"
	"github.com/wdiazux/infra/lib/inventory"
)

// Deploy keeps an inventory's add-ons on the cluster a kubeconfig file
// reaches: the releases of Releases, installed or upgraded in order by
// lib/helmdeploy, after the Secrets Flux needs (sops-age and the webhook
// token) are in place. The kubeconfig is read when a method runs, not
// before, so a Deploy can be made before the file exists (cluster.Up
// writes it in the step before the add-ons). Apply and Plan make it a
// stage of cluster.Up (cluster.Stage and cluster.StagePlanner).
type Deploy struct {
	inv        *inventory.Inventory
	root       string
	kubeconfig string
	o          deployOptions
}

type deployOptions struct {
	releases []Option
	deployer []helmdeploy.Option
	secrets  []SecretOption
	only     []string
}

// DeployOption configures a Deploy.
type DeployOption func(*deployOptions)

// WithReleaseOptions are the options Releases is called with (WithTimeout).
func WithReleaseOptions(opts ...Option) DeployOption {
	return func(o *deployOptions) { o.releases = append(o.releases, opts...) }
}

// WithDeployerOptions are the options of the helmdeploy.Deployer (a chart
// mirror, progress, the chart cache, time limits).
func WithDeployerOptions(opts ...helmdeploy.Option) DeployOption {
	return func(o *deployOptions) { o.deployer = append(o.deployer, opts...) }
}

// WithSecretOptions are the options of ApplySOPSAgeSecret (the age
// identities; by default the operator's, found as lib/secrets finds them).
func WithSecretOptions(opts ...SecretOption) DeployOption {
	return func(o *deployOptions) { o.secrets = append(o.secrets, opts...) }
}

// WithOnly restricts a Deploy to the named add-ons (names of Addons), each
// with its config release; the add-ons they depend on must be deployed
// already. An unknown name or one the inventory does not enable is
// refused with an *UnknownAddonError.
func WithOnly(names ...string) DeployOption {
	return func(o *deployOptions) { o.only = append(o.only, names...) }
}

// NewDeploy returns the Deploy of inv's add-ons: root is the folder holding
// kubernetes/ (the inventory's folder), kubeconfig the cluster's admin
// kubeconfig file.
func NewDeploy(inv *inventory.Inventory, root, kubeconfig string, opts ...DeployOption) *Deploy {
	d := &Deploy{inv: inv, root: root, kubeconfig: kubeconfig}
	for _, opt := range opts {
		opt(&d.o)
	}
	return d
}

// UnknownAddonError is a name given to WithOnly that is not an add-on of
// the inventory.
type UnknownAddonError struct {
	// Name is the name given.
	Name string
	// Known are the add-ons the inventory enables.
	Known []string
}

// Error names the add-on and lists the known ones.
func (e *UnknownAddonError) Error() string {
	return fmt.Sprintf("no add-on %q in the inventory (kubernetes.charts); the add-ons are: %s", e.Name, strings.Join(e.Known, ", "))
}

// Result is what a Deploy did or would do.
type Result struct {
	// Report is what Run did with each release (nil for DryRun).
	Report *helmdeploy.Report
	// Diffs are the objects DryRun found would change (nil for Run).
	Diffs []helmdeploy.ObjectDiff
	// Created are the Secrets Run created (e.g. the webhook token), as
	// namespace/name; the sops-age Secret is applied on every run and
	// listed only the first time.
	Created []string
}

// Changed says Run changed a release or created a Secret, or DryRun found
// objects that would change.
func (r *Result) Changed() bool {
	if len(r.Created) > 0 || len(r.Diffs) > 0 {
		return true
	}
	if r.Report == nil {
		return false
	}
	return slices.ContainsFunc(r.Report.Releases, func(rr helmdeploy.ReleaseReport) bool {
		return rr.Action != helmdeploy.ActionUnchanged
	})
}

// Summary says in one line what a Result holds, e.g. "2 installed,
// 1 upgraded, 8 unchanged" or "3 object(s) in cilium, longhorn would change".
func (r *Result) Summary() string {
	if r.Report == nil {
		if len(r.Diffs) == 0 {
			return "nothing to do: every release matches the inventory"
		}
		var rels []string
		for _, d := range r.Diffs {
			if !slices.Contains(rels, d.Release) {
				rels = append(rels, d.Release)
			}
		}
		return fmt.Sprintf("%d object(s) in %s would change", len(r.Diffs), strings.Join(rels, ", "))
	}
	counts := map[helmdeploy.Action]int{}
	var order []helmdeploy.Action
	for _, rr := range r.Report.Releases {
		if counts[rr.Action] == 0 {
			order = append(order, rr.Action)
		}
		counts[rr.Action]++
	}
	if len(order) == 1 && order[0] == helmdeploy.ActionUnchanged && len(r.Created) == 0 {
		return fmt.Sprintf("nothing to do: %d release(s) deployed and unchanged", counts[helmdeploy.ActionUnchanged])
	}
	var parts []string
	for _, a := range order {
		parts = append(parts, fmt.Sprintf("%d %s", counts[a], a))
	}
	if len(r.Created) > 0 {
		parts = append(parts, "created "+strings.Join(r.Created, ", "))
	}
	return strings.Join(parts, ", ")
}

// releases computes the releases and the helmdeploy.Only option of the
// WithOnly selection.
func (d *Deploy) releases() ([]helmdeploy.Release, []helmdeploy.ApplyOption, error) {
	rels, err := Releases(d.inv, d.root, d.o.releases...)
	if err != nil {
		return nil, nil, err
	}
	if len(d.o.only) == 0 {
		return rels, nil, nil
	}
	enabled := map[string]Addon{}
	var known []string
	for _, a := range Addons() {
		if slices.ContainsFunc(rels, func(r helmdeploy.Release) bool { return r.Name == a.Name }) {
			enabled[a.Name] = a
			known = append(known, a.Name)
		}
	}
	var names []string
	for _, n := range d.o.only {
		a, ok := enabled[n]
		if !ok {
			return nil, nil, &UnknownAddonError{Name: n, Known: known}
		}
		names = append(names, a.Name)
		if a.Config != "" {
			names = append(names, a.Config)
		}
	}
	return rels, []helmdeploy.ApplyOption{helmdeploy.Only(names...)}, nil
}

// clients reads the kubeconfig and returns the deployer and a client.
func (d *Deploy) clients() (*helmdeploy.Deployer, kubernetes.Interface, error) {
	cfg, err := helmdeploy.KubeconfigRESTConfig(d.kubeconfig, "")
	if err != nil {
		return nil, nil, err
	}
	dep, err := helmdeploy.New(cfg, d.o.deployer...)
	if err != nil {
		return nil, nil, err
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("kubeconfig %s: %w", d.kubeconfig, err)
	}
	return dep, client, nil
}

// Run installs or upgrades the add-ons: the releases are computed and
// their charts and values checked against the cluster first (nothing is
// changed when one is wrong or the cluster does not answer); then, when
// Flux is among them, the Secrets it needs; then each release in order,
// waiting until its objects are ready. A release that does not become
// ready is rolled back and stops the run (a *helmdeploy.ReleaseFailedError
// naming the objects); the returned Result says what was done until then.
func (d *Deploy) Run(ctx context.Context) (*Result, error) {
	rels, only, err := d.releases()
	if err != nil {
		return nil, err
	}
	dep, client, err := d.clients()
	if err != nil {
		return nil, err
	}
	res := &Result{}
	// The Secrets go in once every chart, value and the cluster are checked.
	secrets := helmdeploy.BeforeChanges(func(ctx context.Context) error { return d.ensureSecrets(ctx, client, rels, res) })
	res.Report, err = dep.Apply(ctx, rels, append(only, secrets)...)
	return res, err
}

// DryRun returns the objects Run would change, each with its diff against
// the cluster; it changes nothing.
func (d *Deploy) DryRun(ctx context.Context) (*Result, error) {
	rels, only, err := d.releases()
	if err != nil {
		return nil, err
	}
	dep, _, err := d.clients()
	if err != nil {
		return nil, err
	}
	diffs, err := dep.Diff(ctx, rels, only...)
	if err != nil {
		return nil, err
	}
	return &Result{Diffs: diffs}, nil
}

// ensureSecrets puts in place the Secrets the releases of the run use and
// no chart may render (their values would be in the Helm release, or
// change on every render): Flux's sops-age key (applied on every run) and
// webhook token, Grafana's admin login (each made once). Those it created
// are added to res.Created.
func (d *Deploy) ensureSecrets(ctx context.Context, client kubernetes.Interface, rels []helmdeploy.Release, res *Result) error {
	for _, r := range rels {
		if len(d.o.only) > 0 && !slices.Contains(d.o.only, r.Name) {
			continue
		}
		var (
			made bool
			name string
			err  error
		)
		switch r.Name {
		case Flux2:
			if err := ApplySOPSAgeSecret(ctx, client, r.Namespace, d.o.secrets...); err != nil {
				return err
			}
			name = WebhookTokenSecret
			made, err = EnsureWebhookToken(ctx, client, r.Namespace)
		case KubePrometheusStack:
			name = GrafanaAdminSecret
			made, err = EnsureGrafanaAdmin(ctx, client, r.Namespace)
		default:
			continue
		}
		if err != nil {
			return err
		}
		if made {
			res.Created = append(res.Created, r.Namespace+"/"+name)
		}
	}
	return nil
}

// Apply is Run as a stage of cluster.Up: whether it changed something, and
// its Summary.
func (d *Deploy) Apply(ctx context.Context) (bool, string, error) {
	res, err := d.Run(ctx)
	if err != nil {
		return false, "", err
	}
	return res.Changed(), res.Summary(), nil
}

// Plan is DryRun as the check of cluster.Up's dry run.
func (d *Deploy) Plan(ctx context.Context) (bool, string, error) {
	res, err := d.DryRun(ctx)
	if err != nil {
		return false, "", err
	}
	return res.Changed(), res.Summary(), nil
}

// Status is every Helm release on the cluster and every Service of type
// LoadBalancer with its addresses.
func (d *Deploy) Status(ctx context.Context) ([]helmdeploy.ReleaseStatus, []helmdeploy.LoadBalancer, error) {
	dep, _, err := d.clients()
	if err != nil {
		return nil, nil, err
	}
	rels, err := dep.Status(ctx)
	if err != nil {
		return nil, nil, err
	}
	lbs, err := dep.LoadBalancers(ctx)
	if err != nil {
		return nil, nil, err
	}
	return rels, lbs, nil
}
