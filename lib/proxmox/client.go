package proxmox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	goproxmox "github.com/luthermonson/go-proxmox"

	"github.com/wdiazux/infra/lib/netx"
)

// Client talks to one Proxmox VE API.
type Client struct {
	api  *goproxmox.Client
	http *http.Client
	cfg  Config
	log  *slog.Logger
	poll time.Duration
}

type clientOptions struct {
	log   *slog.Logger
	retry RetryPolicy
	poll  time.Duration
	ua    string
}

// Option configures a Client.
type Option func(*clientOptions)

// WithLogger sets the logger (default: discard). Requests log at debug.
func WithLogger(l *slog.Logger) Option { return func(o *clientOptions) { o.log = l } }

// WithRetry sets the retry policy for safe requests (default DefaultRetryPolicy).
func WithRetry(p RetryPolicy) Option { return func(o *clientOptions) { o.retry = p } }

// WithPollInterval sets how often task waits poll (default 500 ms).
func WithPollInterval(d time.Duration) Option { return func(o *clientOptions) { o.poll = d } }

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(o *clientOptions) { o.ua = ua } }

// New returns a client for cfg. Skipping TLS verification is logged as a
// warning.
func New(cfg Config, opts ...Option) (*Client, error) {
	o := clientOptions{log: slog.New(slog.DiscardHandler), retry: DefaultRetryPolicy(), poll: 500 * time.Millisecond, ua: "infra/lib-proxmox"}
	for _, opt := range opts {
		opt(&o)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tc, err := cfg.tlsConfig()
	if err != nil {
		return nil, err
	}
	if cfg.InsecureSkipVerify && cfg.Fingerprint == "" {
		o.log.Warn("TLS verification of the Proxmox API is OFF: anyone on the path can read the token; pin the certificate with "+EnvTLSFingerprint+" or trust its CA with "+EnvCAFile, "url", cfg.URL)
	}
	base, _ := url.Parse(cfg.URL)
	hc := &http.Client{Transport: &transport{
		next:  netx.NewTransport(cfg.Timeouts, netx.WithTLSConfig(tc), netx.WithLogger(o.log)),
		base:  base.Path,
		retry: o.retry,
		log:   o.log,
	}}
	api := goproxmox.NewClient(cfg.URL,
		goproxmox.WithHTTPClient(hc),
		goproxmox.WithAPIToken(cfg.TokenID, cfg.TokenSecret),
		goproxmox.WithUserAgent(o.ua),
		goproxmox.WithLogger(quietLogger{o.log}),
	)
	return &Client{api: api, http: hc, cfg: cfg, log: o.log, poll: o.poll}, nil
}

// URL is the API base the client talks to, https://host:8006/api2/json.
func (c *Client) URL() string { return c.cfg.URL }

// Addr is the API's host:port, as the URL names it (443 when it names no
// port).
func (c *Client) Addr() string {
	host, port := c.cfg.hostPort()
	return net.JoinHostPort(host, port)
}

// TokenID is the API token the client authenticates with,
// user@realm!tokenname (never its secret).
func (c *Client) TokenID() string { return c.cfg.TokenID }

// NewFromEnv returns a client configured by ConfigFromEnv.
func NewFromEnv(opts ...Option) (*Client, error) {
	cfg, err := ConfigFromEnv()
	if err != nil {
		return nil, err
	}
	return New(cfg, opts...)
}

// quietLogger forwards go-proxmox's warnings and errors to slog and drops its
// debug output, which prints request bodies.
type quietLogger struct{ log *slog.Logger }

func (q quietLogger) Debugf(string, ...any) {}
func (q quietLogger) Infof(string, ...any)  {}
func (q quietLogger) Warnf(f string, v ...any) {
	q.log.Warn("go-proxmox: " + fmt.Sprintf(f, v...))
}
func (q quietLogger) Errorf(f string, v ...any) {
	q.log.Error("go-proxmox: " + fmt.Sprintf(f, v...))
}

// Params are the parameters of an API call. Values are sent as JSON, so use
// int for integers, bool for booleans and string for everything else.
type Params map[string]any

// get calls GET path?query and decodes "data" into out.
func (c *Client) get(ctx context.Context, path string, query url.Values, out any) error {
	if len(query) > 0 {
		path += "?" + query.Encode()
	}
	return c.req(ctx, http.MethodGet, path, nil, out)
}

// req sends one API call through go-proxmox and unwraps the errors the
// transport produced.
func (c *Client) req(ctx context.Context, method, path string, params Params, out any) error {
	var data []byte
	if params != nil {
		var err error
		if data, err = json.Marshal(params); err != nil {
			return fmt.Errorf("%s %s: encode parameters: %w", method, path, err)
		}
	}
	err := c.api.Req(ctx, method, path, data, out)
	if err == nil {
		return nil
	}
	var apiErr *APIError
	var netErr *NetworkError
	var phaseErr *netx.PhaseError
	switch {
	case errors.As(err, &apiErr):
		return apiErr
	case errors.As(err, &netErr):
		return netErr
	case ctx.Err() != nil:
		return fmt.Errorf("%s %s: %w", method, stripQuery(path), ctx.Err())
	case errors.As(err, &phaseErr):
		// The answer broke off while go-proxmox read it.
		return &NetworkError{Method: method, Path: stripQuery(path), Attempts: 1, Err: phaseErr}
	}
	return fmt.Errorf("%s %s: %w", method, stripQuery(path), err)
}

func stripQuery(path string) string {
	p, _, _ := strings.Cut(path, "?")
	return p
}

// Version is the PVE version of the host.
type Version struct {
	// Version is the full version, e.g. "9.0.3".
	Version string `json:"version"`
	// Release is major.minor, e.g. "9.0".
	Release string `json:"release"`
	// RepoID is the pve-manager build.
	RepoID string `json:"repoid"`
}

// Major and Minor of the release; 0 when it cannot be read.
func (v Version) Major() int { return v.part(0) }

// Minor of the release.
func (v Version) Minor() int { return v.part(1) }

func (v Version) part(i int) int {
	parts := strings.Split(v.Version, ".")
	if i >= len(parts) {
		return 0
	}
	n, _ := strconv.Atoi(parts[i])
	return n
}

// Version returns the host's PVE version (and proves the token authenticates).
func (c *Client) Version(ctx context.Context) (Version, error) {
	var v Version
	err := c.get(ctx, "/version", nil, &v)
	return v, err
}

// Node is one cluster node.
type Node struct {
	Node           string  `json:"node"`
	Status         string  `json:"status"`
	MaxCPU         int     `json:"maxcpu"`
	MaxMem         int64   `json:"maxmem"`
	CPU            float64 `json:"cpu"`
	Mem            int64   `json:"mem"`
	SSLFingerprint string  `json:"ssl_fingerprint"`
}

// Nodes lists the cluster's nodes.
func (c *Client) Nodes(ctx context.Context) ([]Node, error) {
	var nodes []Node
	err := c.get(ctx, "/nodes", nil, &nodes)
	return nodes, err
}

// NextID returns the next free VM ID. PVE sends it as a string (go-proxmox
// expects a number); both are accepted.
func (c *Client) NextID(ctx context.Context) (int, error) {
	var raw json.RawMessage
	if err := c.get(ctx, "/cluster/nextid", nil, &raw); err != nil {
		return 0, err
	}
	return parseIntish(raw)
}

// VMIDFree reports whether a VM ID is unused, asking /cluster/nextid?vmid=.
func (c *Client) VMIDFree(ctx context.Context, vmid int) (bool, error) {
	var raw json.RawMessage
	err := c.get(ctx, "/cluster/nextid", url.Values{"vmid": {strconv.Itoa(vmid)}}, &raw)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusBadRequest && strings.Contains(apiErr.Param("vmid"), "already exists") {
		return false, nil
	}
	return err == nil, err
}

func parseIntish(raw json.RawMessage) (int, error) {
	s := strings.Trim(string(raw), `"`)
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("unexpected VM ID %s", raw)
	}
	return n, nil
}

// Bridges lists a node's Linux bridges.
func (c *Client) Bridges(ctx context.Context, node string) ([]string, error) {
	var ifaces []struct {
		Iface string `json:"iface"`
		Type  string `json:"type"`
	}
	if err := c.get(ctx, "/nodes/"+url.PathEscape(node)+"/network", url.Values{"type": {"any_bridge"}}, &ifaces); err != nil {
		return nil, err
	}
	var out []string
	for _, i := range ifaces {
		if i.Type == "bridge" || i.Type == "OVSBridge" {
			out = append(out, i.Iface)
		}
	}
	return out, nil
}

// PCIMapping is a cluster PCI resource mapping.
type PCIMapping struct {
	ID          string   `json:"id"`
	Description string   `json:"description"`
	Map         []string `json:"map"`
}

// PCIMappings lists the PCI resource mappings the token can see.
func (c *Client) PCIMappings(ctx context.Context) ([]PCIMapping, error) {
	var out []PCIMapping
	err := c.get(ctx, "/cluster/mapping/pci", nil, &out)
	return out, err
}

func decodeJSON(r io.Reader, v any) error {
	if err := json.NewDecoder(r).Decode(v); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}
