package helmdeploy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/wdiazux/infra/lib/netx"
	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/kube"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Defaults of a Deployer.
const (
	// DefaultTimeout bounds the wait for a release's objects.
	DefaultTimeout = 5 * time.Minute
	// DefaultReachTimeout bounds the API server's reachability check.
	DefaultReachTimeout = 10 * time.Second
	// HelmDriver is the storage of release records: Secrets in the
	// release's namespace, as the helm command keeps them.
	HelmDriver = "secret"
)

// Phase is a step of a release's deployment, reported in an Event.
type Phase string

// Phases reported through WithProgress.
const (
	PhaseChart     Phase = "chart"     // loading the chart (cache, repository or mirror)
	PhaseNamespace Phase = "namespace" // creating or labelling the namespace
	PhaseKinds     Phase = "kinds"     // waiting for the API server to serve the kinds a Manifests release uses
	PhaseInstall   Phase = "install"   // installing (first revision)
	PhaseUpgrade   Phase = "upgrade"   // upgrading
	PhaseWait      Phase = "wait"      // waiting for objects to be ready; Event.Unready names them
	PhaseRollback  Phase = "rollback"  // rolling back a failed upgrade
	PhaseUninstall Phase = "uninstall" // uninstalling a failed first install
	PhaseDone      Phase = "done"      // finished; Event.Action says what was done
)

// Event is a progress report: the library never prints, a caller given one
// through WithProgress may.
type Event struct {
	// Release is the release concerned.
	Release string
	// Phase is the step under way.
	Phase Phase
	// Message adds details, e.g. the chart and version loaded.
	Message string
	// Unready names objects not ready yet (PhaseWait, PhaseKinds), e.g.
	// "Deployment kube-system/cilium-operator: InProgress".
	Unready []string
	// Action is set with PhaseDone.
	Action Action
}

// EnvChartMirror is the environment variable through which a program's
// user names a chart mirror for WithMirror (the targets read it; the
// library does not).
const EnvChartMirror = "INFRA_CHART_MIRROR"

// Option configures a Deployer.
type Option func(*options)

type options struct {
	timeout      time.Duration
	reachTimeout time.Duration
	progress     func(Event)
	cacheDir     string
	mirror       string
	httpClient   *http.Client
	plainHTTP    []string
	// actionConfig replaces Helm's configuration per namespace (tests:
	// Helm's fakes).
	actionConfig func(namespace string) (*action.Configuration, error)
	cluster      cluster
}

// WithTimeout sets the wait timeout of releases whose Timeout is zero
// (DefaultTimeout when not given).
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithReachTimeout bounds the check that the API server answers, made
// before anything is installed (DefaultReachTimeout when not given).
func WithReachTimeout(d time.Duration) Option { return func(o *options) { o.reachTimeout = d } }

// WithProgress has fn called with each step of each release. fn is called
// from the goroutine running Apply or Diff, and while waiting from Helm's
// status watcher: it must be quick and safe for concurrent use.
func WithProgress(fn func(Event)) Option { return func(o *options) { o.progress = fn } }

// WithCacheDir keeps downloaded chart archives in dir (default: the user's
// cache directory + "/helmdeploy/charts"). A chart archive is downloaded
// once per repository, name and version, its digest checked against the
// index.
func WithCacheDir(dir string) Option { return func(o *options) { o.cacheDir = dir } }

// WithMirror looks every chart up by name and version in the index.yaml of
// folderOrURL (a local folder or an http(s) URL) instead of its own
// repository, OCI included, e.g. for an air-gapped homelab or tests. A
// chart version the mirror does not hold is a *ChartNotFoundError.
func WithMirror(folderOrURL string) Option { return func(o *options) { o.mirror = folderOrURL } }

// WithHTTPClient sets the client of chart repositories, mirrors and OCI
// registries (default: netx.NewClient(netx.DefaultTimeouts()), whose
// errors name the host and the phase: dial, TLS handshake, response
// header, body).
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// WithPlainHTTPRegistries speaks plain HTTP (no TLS) to the OCI
// registries at these hosts ("host:port"), e.g. a registry on the local
// network; every other registry is reached over HTTPS.
func WithPlainHTTPRegistries(hosts ...string) Option {
	return func(o *options) { o.plainHTTP = append(o.plainHTTP, hosts...) }
}

// WithRepositoryTimeouts sets the time limits of chart repository access
// (dial, TLS handshake, response header, overall); it replaces the client
// of WithHTTPClient.
func WithRepositoryTimeouts(t netx.Timeouts) Option {
	return func(o *options) { o.httpClient = netx.NewClient(t) }
}

// Deployer keeps Helm releases at a declared state on one cluster.
type Deployer struct {
	opts   options
	getter *restGetter
	host   string
}

// New returns a Deployer for the cluster cfg reaches.
func New(cfg *rest.Config, opts ...Option) (*Deployer, error) {
	if cfg == nil {
		return nil, errors.New("helmdeploy.New: nil *rest.Config: give the cluster's client configuration")
	}
	o, err := newOptions("helmdeploy.New", opts)
	if err != nil {
		return nil, err
	}
	d := &Deployer{host: cfg.Host, opts: o}
	d.getter = newRESTGetter(cfg)
	if d.opts.cluster == nil {
		c, err := newKubeCluster(d.getter)
		if err != nil {
			return nil, err
		}
		d.opts.cluster = c
	}
	return d, nil
}

// newOptions applies opts to the defaults; caller names the function
// for the error.
func newOptions(caller string, opts []Option) (options, error) {
	o := options{timeout: DefaultTimeout, reachTimeout: DefaultReachTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	if o.httpClient == nil {
		o.httpClient = netx.NewClient(netx.DefaultTimeouts())
	}
	if o.cacheDir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return o, fmt.Errorf("%s: no chart cache directory: %w; give one with WithCacheDir", caller, err)
		}
		o.cacheDir = filepath.Join(base, "helmdeploy", "charts")
	}
	return o, nil
}

// NewFromKubeconfig returns a Deployer for the cluster of a kubeconfig file
// and context ("" for its current context).
func NewFromKubeconfig(path, kubeContext string, opts ...Option) (*Deployer, error) {
	cfg, err := KubeconfigRESTConfig(path, kubeContext)
	if err != nil {
		return nil, err
	}
	return New(cfg, opts...)
}

// KubeconfigRESTConfig reads the client configuration of a kubeconfig file
// and context ("" for its current context), for a Deployer and for other
// clients of the same cluster.
func KubeconfigRESTConfig(path, kubeContext string) (*rest.Config, error) {
	rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: path}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: kubeContext}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s (context %q): %w", path, kubeContext, err)
	}
	return cfg, nil
}

func (d *Deployer) emit(e Event) {
	if d.opts.progress != nil {
		d.opts.progress(e)
	}
}

func (d *Deployer) timeoutOf(r Release) time.Duration {
	if r.Timeout > 0 {
		return r.Timeout
	}
	return d.opts.timeout
}

// actionConfig returns Helm's configuration for releases of namespace ns;
// progress of the wait reaches emit through Helm's logger.
func (d *Deployer) actionConfig(ns, release string) (*action.Configuration, error) {
	if d.opts.actionConfig != nil {
		return d.opts.actionConfig(ns)
	}
	cfg := action.NewConfiguration(action.ConfigurationSetLogger(&waitLogHandler{emit: d.emit, release: release}))
	if err := cfg.Init(d.getter.withNamespace(ns), ns, HelmDriver); err != nil {
		return nil, fmt.Errorf("helm configuration for namespace %s: %w", ns, err)
	}
	if kc, ok := cfg.KubeClient.(*kube.Client); ok {
		kc.Namespace = ns
	}
	return cfg, nil
}

// waitLogHandler turns the "waiting for resource" records of Helm's status
// watcher into PhaseWait events and drops every other record.
type waitLogHandler struct {
	emit    func(Event)
	release string
	attrs   []slog.Attr
}

func (h *waitLogHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *waitLogHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "waiting for resource" {
		return nil
	}
	f := map[string]string{}
	r.Attrs(func(a slog.Attr) bool { f[a.Key] = a.Value.String(); return true })
	id := f["name"]
	if f["namespace"] != "" {
		id = f["namespace"] + "/" + id
	}
	h.emit(Event{Release: h.release, Phase: PhaseWait, Unready: []string{fmt.Sprintf("%s %s: %s", f["kind"], id, f["actualStatus"])}})
	return nil
}

func (h *waitLogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &waitLogHandler{emit: h.emit, release: h.release, attrs: append(h.attrs[:len(h.attrs):len(h.attrs)], as...)}
}

func (h *waitLogHandler) WithGroup(string) slog.Handler { return h }

// restGetter is Helm's RESTClientGetter over a *rest.Config.
type restGetter struct {
	cfg       *rest.Config
	namespace string
	dc        discovery.CachedDiscoveryInterface
	mapper    meta.ResettableRESTMapper
}

var _ genericclioptions.RESTClientGetter = (*restGetter)(nil)

func newRESTGetter(cfg *rest.Config) *restGetter {
	c := rest.CopyConfig(cfg)
	if c.QPS == 0 {
		c.QPS, c.Burst = 50, 100
	}
	g := &restGetter{cfg: c}
	if dc, err := discovery.NewDiscoveryClientForConfig(c); err == nil {
		g.dc = memory.NewMemCacheClient(dc)
		g.mapper = restmapper.NewDeferredDiscoveryRESTMapper(g.dc)
	}
	return g
}

func (g *restGetter) withNamespace(ns string) *restGetter {
	c := *g
	c.namespace = ns
	return &c
}

func (g *restGetter) ToRESTConfig() (*rest.Config, error) { return rest.CopyConfig(g.cfg), nil }

func (g *restGetter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	if g.dc == nil {
		return nil, fmt.Errorf("discovery client for %s: invalid client configuration", g.cfg.Host)
	}
	return g.dc, nil
}

func (g *restGetter) ToRESTMapper() (meta.RESTMapper, error) {
	if g.mapper == nil {
		return nil, fmt.Errorf("REST mapper for %s: invalid client configuration", g.cfg.Host)
	}
	return g.mapper, nil
}

func (g *restGetter) ToRawKubeConfigLoader() clientcmd.ClientConfig {
	return clientcmd.NewDefaultClientConfig(*clientcmdapi.NewConfig(), &clientcmd.ConfigOverrides{Context: clientcmdapi.Context{Namespace: g.namespace}})
}
