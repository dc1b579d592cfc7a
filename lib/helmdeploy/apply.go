package helmdeploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	chartutil "helm.sh/helm/v4/pkg/chart/common/util"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	v2util "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/kube"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	release "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
)

// Action is what Apply did with a release.
type Action string

// Actions of a ReleaseReport.
const (
	ActionInstalled   Action = "installed"
	ActionUpgraded    Action = "upgraded"
	ActionUnchanged   Action = "unchanged"
	ActionRolledBack  Action = "rolled back"
	ActionUninstalled Action = "uninstalled"
)

// ReleaseReport is what Apply did with one release.
type ReleaseReport struct {
	// Name and Namespace name the release.
	Name, Namespace string
	// Chart and Version are the chart's (the in-memory chart's for a
	// Manifests release).
	Chart, Version string
	// Action says what was done.
	Action Action
	// Revision is the release's revision afterwards (0 when uninstalled).
	Revision int
	// Duration is the time the release took.
	Duration time.Duration
}

// Report lists the releases Apply handled, in the order it handled them;
// on failure the failed release is last.
type Report struct {
	Releases []ReleaseReport
}

// ApplyOption configures one Apply or Diff call.
type ApplyOption func(*applyOptions)

type applyOptions struct {
	only   []string
	before func(context.Context) error
}

// Only restricts the call to the named releases (dependencies are not
// added: each must already be deployed, else Apply returns a
// *DependencyNotDeployedError).
func Only(names ...string) ApplyOption {
	return func(o *applyOptions) { o.only = append(o.only, names...) }
}

// BeforeChanges runs f in Apply once every chart, value, the API server's
// reachability and (with Only) the dependencies are checked, before the
// first release is touched: a caller that must change something else on
// the cluster first (a Secret the releases use) does it there, so a wrong
// value or an unreachable cluster leaves the cluster untouched. An error
// of f stops Apply with nothing installed. Diff ignores it.
func BeforeChanges(f func(ctx context.Context) error) ApplyOption {
	return func(o *applyOptions) { o.before = f }
}

// applyOptionsOf applies opts to the defaults.
func applyOptionsOf(opts []ApplyOption) applyOptions {
	var ao applyOptions
	for _, o := range opts {
		o(&ao)
	}
	return ao
}

// prepared is a release ready to install: its chart loaded and its values
// checked.
type prepared struct {
	Release
	chart  *chart.Chart
	values map[string]any
}

// prepare validates and orders the set, loads every chart, checks every
// release's values against its chart's schema and checks the API server
// answers: nothing is installed when any of this fails.
func (d *Deployer) prepare(ctx context.Context, releases []Release, ao applyOptions) ([]prepared, error) {
	out, err := d.load(ctx, releases, ao)
	if err != nil {
		return nil, err
	}
	if err := d.opts.cluster.reachable(ctx, d.opts.reachTimeout); err != nil {
		return nil, err
	}
	if len(ao.only) > 0 {
		if err := d.checkDependencies(out, releases); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// load validates and orders the set, loads every chart and checks every
// release's values against its chart's schema, without the cluster.
func (d *Deployer) load(ctx context.Context, releases []Release, ao applyOptions) ([]prepared, error) {
	ordered, err := Order(releases)
	if err != nil {
		return nil, err
	}
	selected, err := selectOnly(ordered, ao.only)
	if err != nil {
		return nil, err
	}
	loader := d.newChartLoader()
	out := make([]prepared, 0, len(selected))
	for _, r := range selected {
		p := prepared{Release: r, values: r.Values}
		if r.Chart != nil {
			d.emit(Event{Release: r.Name, Phase: PhaseChart, Message: r.Chart.Name + " " + r.Chart.Version})
			if p.chart, err = loader.load(ctx, *r.Chart); err != nil {
				return nil, fmt.Errorf("release %s: %w", r.Name, err)
			}
		} else {
			p.chart = manifestChart(r.Name, r.Manifests)
		}
		if p.values == nil {
			p.values = map[string]any{}
		}
		if err := validateValues(p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// validateValues checks values as Helm's install does (dependencies'
// conditions, then the schemas of the chart and its subcharts).
func validateValues(p prepared) error {
	if err := v2util.ProcessDependencies(p.chart, p.values); err != nil {
		return &ValuesError{Release: p.Name, Chart: p.chart.Name(), Err: err}
	}
	opts := common.ReleaseOptions{Name: p.Name, Namespace: p.Namespace, Revision: 1, IsInstall: true}
	if _, err := chartutil.ToRenderValuesWithSchemaValidation(p.chart, p.values, opts, common.DefaultCapabilities, false); err != nil {
		return &ValuesError{Release: p.Name, Chart: p.chart.Name() + " " + p.chart.Metadata.Version, Err: err}
	}
	return nil
}

// checkDependencies refuses a selected release whose dependency (outside
// the selection) is not deployed.
func (d *Deployer) checkDependencies(selected []prepared, all []Release) error {
	names := make(map[string]bool, len(selected))
	for _, p := range selected {
		names[p.Name] = true
	}
	byName := make(map[string]Release, len(all))
	for _, r := range all {
		byName[r.Name] = r
	}
	for _, p := range selected {
		for _, dep := range p.DependsOn {
			if names[dep] {
				continue
			}
			r := byName[dep]
			cfg, err := d.actionConfig(r.Namespace, r.Name)
			if err != nil {
				return err
			}
			last, err := lastRevision(cfg, dep)
			switch {
			case errors.Is(err, driver.ErrReleaseNotFound):
				return &DependencyNotDeployedError{Release: p.Name, Dependency: dep, State: "not installed"}
			case err != nil:
				return fmt.Errorf("release %s: history of its dependency %s: %w", p.Name, dep, err)
			case last.Info.Status != rcommon.StatusDeployed:
				return &DependencyNotDeployedError{Release: p.Name, Dependency: dep, State: string(last.Info.Status)}
			}
		}
	}
	return nil
}

// Apply brings the releases to their declared state in dependency order
// (see Order): each release's namespace is created or labelled, then the
// release is installed, upgraded or — chart version, values (manifests)
// and deployed status unchanged — left alone. Charts and values are all
// checked and the API server's reachability too before anything is
// installed. A release whose objects are not ready within its timeout is
// rolled back (a failed first install uninstalled) and Apply stops with a
// *ReleaseFailedError; the Report lists what was done until then.
func (d *Deployer) Apply(ctx context.Context, releases []Release, opts ...ApplyOption) (*Report, error) {
	ao := applyOptionsOf(opts)
	ps, err := d.prepare(ctx, releases, ao)
	if err != nil {
		return &Report{}, err
	}
	if ao.before != nil {
		if err := ao.before(ctx); err != nil {
			return &Report{}, err
		}
	}
	rep := &Report{}
	for _, p := range ps {
		rr, err := d.applyOne(ctx, p)
		rep.Releases = append(rep.Releases, rr)
		d.emit(Event{Release: p.Name, Phase: PhaseDone, Action: rr.Action, Message: fmt.Sprintf("revision %d in %s", rr.Revision, rr.Duration.Round(time.Millisecond))})
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

func (d *Deployer) applyOne(ctx context.Context, p prepared) (rr ReleaseReport, err error) {
	start := time.Now()
	rr = ReleaseReport{Name: p.Name, Namespace: p.Namespace, Chart: p.chart.Name(), Version: p.chart.Metadata.Version}
	defer func() { rr.Duration = time.Since(start) }()
	cfg, err := d.actionConfig(p.Namespace, p.Name)
	if err != nil {
		return rr, err
	}
	d.emit(Event{Release: p.Name, Phase: PhaseNamespace, Message: p.Namespace})
	if err := d.opts.cluster.ensureNamespace(ctx, p.Namespace, p.NamespaceLabels); err != nil {
		return rr, fmt.Errorf("release %s: %w", p.Name, err)
	}
	if len(p.Manifests) > 0 {
		if err := d.waitForKinds(ctx, p); err != nil {
			return rr, err
		}
	}
	last, err := lastRevision(cfg, p.Name)
	switch {
	case errors.Is(err, driver.ErrReleaseNotFound):
		return d.install(ctx, cfg, p, rr)
	case err != nil:
		return rr, fmt.Errorf("release %s: history: %w", p.Name, err)
	case unchanged(last, p):
		rr.Action, rr.Revision = ActionUnchanged, last.Version
		return rr, nil
	}
	if _, err := cfg.Releases.Deployed(p.Name); err != nil {
		// No deployed revision to upgrade from (a first install that
		// failed and was kept): start again.
		d.emit(Event{Release: p.Name, Phase: PhaseUninstall, Message: "no deployed revision to upgrade from"})
		if err := uninstall(cfg, p.Name, d.timeoutOf(p.Release)); err != nil {
			return rr, fmt.Errorf("release %s: uninstall of revision %d (%s) before installing anew: %w", p.Name, last.Version, last.Info.Status, err)
		}
		return d.install(ctx, cfg, p, rr)
	}
	return d.upgrade(ctx, cfg, p, rr)
}

func (d *Deployer) install(ctx context.Context, cfg *action.Configuration, p prepared, rr ReleaseReport) (ReleaseReport, error) {
	d.emit(Event{Release: p.Name, Phase: PhaseInstall, Message: fmt.Sprintf("%s %s", rr.Chart, rr.Version)})
	in := action.NewInstall(cfg)
	in.ReleaseName, in.Namespace = p.Name, p.Namespace
	in.WaitStrategy = kube.StatusWatcherStrategy
	in.WaitOptions = []kube.WaitOption{kube.WithWaitContext(ctx)}
	in.Timeout = d.timeoutOf(p.Release)
	rel, err := in.RunWithContext(ctx, p.chart, p.values)
	if err == nil {
		rr.Action, rr.Revision = ActionInstalled, revisionOf(rel)
		return rr, nil
	}
	fail := &ReleaseFailedError{Release: p.Name, Namespace: p.Namespace, Revision: 1, Unready: parseUnready(err), Err: err}
	if _, herr := lastRevision(cfg, p.Name); herr != nil {
		return rr, fail // nothing was recorded: nothing to undo
	}
	d.emit(Event{Release: p.Name, Phase: PhaseUninstall, Message: "failed first install"})
	if uerr := uninstall(cfg, p.Name, d.timeoutOf(p.Release)); uerr != nil {
		fail.UndoErr = fmt.Errorf("uninstall: %w", uerr)
		return rr, fail
	}
	fail.Uninstalled = true
	rr.Action = ActionUninstalled
	return rr, fail
}

func (d *Deployer) upgrade(ctx context.Context, cfg *action.Configuration, p prepared, rr ReleaseReport) (ReleaseReport, error) {
	d.emit(Event{Release: p.Name, Phase: PhaseUpgrade, Message: fmt.Sprintf("%s %s", rr.Chart, rr.Version)})
	up := action.NewUpgrade(cfg)
	up.Namespace = p.Namespace
	up.WaitStrategy = kube.StatusWatcherStrategy
	up.WaitOptions = []kube.WaitOption{kube.WithWaitContext(ctx)}
	up.Timeout = d.timeoutOf(p.Release)
	up.MaxHistory = maxHistory
	rel, err := up.RunWithContext(ctx, p.Name, p.chart, p.values)
	if err == nil {
		rr.Action, rr.Revision = ActionUpgraded, revisionOf(rel)
		return rr, nil
	}
	fail := &ReleaseFailedError{Release: p.Name, Namespace: p.Namespace, Revision: revisionOf(rel), Unready: parseUnready(err), Err: err}
	if last, lerr := lastRevision(cfg, p.Name); fail.Revision == 0 && lerr == nil {
		fail.Revision = last.Version // Helm returns no release with some errors
	}
	prev, perr := previousDeployed(cfg, p.Name, fail.Revision)
	if perr != nil {
		fail.UndoErr = fmt.Errorf("no revision to roll back to: %w", perr)
		return rr, fail
	}
	d.emit(Event{Release: p.Name, Phase: PhaseRollback, Message: fmt.Sprintf("to revision %d", prev)})
	rb := action.NewRollback(cfg)
	rb.Version = prev
	// The previous revision was ready: its objects are restored without
	// waiting again (the unready objects would hold the rollback too).
	rb.WaitStrategy = kube.HookOnlyStrategy
	rb.Timeout = d.timeoutOf(p.Release)
	rb.MaxHistory = maxHistory
	if rerr := rb.Run(p.Name); rerr != nil {
		fail.UndoErr = fmt.Errorf("rollback to revision %d: %w", prev, rerr)
		return rr, fail
	}
	fail.RolledBackTo = prev
	rr.Action = ActionRolledBack
	if last, lerr := lastRevision(cfg, p.Name); lerr == nil {
		rr.Revision = last.Version
	}
	return rr, fail
}

// maxHistory is the number of revisions kept per release.
const maxHistory = 10

func uninstall(cfg *action.Configuration, name string, timeout time.Duration) error {
	un := action.NewUninstall(cfg)
	un.WaitStrategy = kube.HookOnlyStrategy
	un.IgnoreNotFound = true
	un.Timeout = timeout
	_, err := un.Run(name)
	return err
}

func revisionOf(r any) int {
	if rel, ok := r.(*release.Release); ok && rel != nil {
		return rel.Version
	}
	return 0
}

// lastRevision returns the release's latest revision (any status).
func lastRevision(cfg *action.Configuration, name string) (*release.Release, error) {
	hist, err := cfg.Releases.History(name)
	if err != nil {
		return nil, err
	}
	var last *release.Release
	for _, h := range hist {
		if r, ok := h.(*release.Release); ok && (last == nil || r.Version > last.Version) {
			last = r
		}
	}
	if last == nil {
		return nil, driver.ErrReleaseNotFound
	}
	return last, nil
}

// previousDeployed returns the latest deployed or superseded revision
// before failed.
func previousDeployed(cfg *action.Configuration, name string, failed int) (int, error) {
	hist, err := cfg.Releases.History(name)
	if err != nil {
		return 0, err
	}
	best := 0
	for _, h := range hist {
		r, ok := h.(*release.Release)
		if !ok || r.Version == failed || r.Version < best {
			continue
		}
		if s := r.Info.Status; s == rcommon.StatusDeployed || s == rcommon.StatusSuperseded {
			best = r.Version
		}
	}
	if best == 0 {
		return 0, fmt.Errorf("release %s has no deployed or superseded revision", name)
	}
	return best, nil
}

// unchanged says the deployed revision already is p: deployed status, same
// chart name and version, same values compared as JSON (stored numbers
// come back as float64) and, for Manifests releases, the same manifests.
func unchanged(last *release.Release, p prepared) bool {
	if last.Info == nil || last.Info.Status != rcommon.StatusDeployed || last.Chart == nil || last.Chart.Metadata == nil {
		return false
	}
	if last.Chart.Metadata.Name != p.chart.Metadata.Name || last.Chart.Metadata.Version != p.chart.Metadata.Version {
		return false
	}
	if !reflect.DeepEqual(normalize(last.Config), normalize(p.values)) {
		return false
	}
	if len(p.Manifests) > 0 {
		return string(manifestsOf(last.Chart)) == string(p.Manifests)
	}
	return true
}

// normalize returns v through a JSON round trip (nil and empty maps alike).
func normalize(v map[string]any) any {
	if len(v) == 0 {
		return map[string]any{}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return v
	}
	return out
}

// unreadyLine matches the lines of Helm's status watcher's error, e.g.
// "resource Deployment/monitoring/grafana not ready. status: InProgress,
// message: Replicas: 0/1".
var unreadyLine = regexp.MustCompile(`resource ([^/\s]+)/([^/\s]*)/(\S+) not ready\. status: (\w+), message: (.*)`)

func parseUnready(err error) []Unready {
	var out []Unready
	for _, line := range strings.Split(err.Error(), "\n") {
		m := unreadyLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		u := Unready{Kind: m[1], Namespace: m[2], Name: m[3], Status: m[4], Message: strings.TrimSpace(m[5])}
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}
