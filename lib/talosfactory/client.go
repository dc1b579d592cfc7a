package talosfactory

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/wdiazux/infra/lib/netx"
)

// DefaultURL is the public Image Factory.
const DefaultURL = "https://factory.talos.dev"

// NoCloudImage is the disk image PVE imports: qcow2, uncompressed, because
// PVE's download-url cannot decompress xz.
const NoCloudImage = "nocloud-amd64.qcow2"

// Client talks to an Image Factory.
type Client struct {
	base     *url.URL
	http     *http.Client
	timeouts netx.Timeouts
	log      *slog.Logger
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client, whose time limits are then its own
// (default: lib/netx's client with the limits of WithTimeouts).
func WithHTTPClient(c *http.Client) Option { return func(cl *Client) { cl.http = c } }

// WithTimeouts sets the time limits of the client's requests (zero fields
// take netx's defaults).
func WithTimeouts(t netx.Timeouts) Option { return func(cl *Client) { cl.timeouts = t } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(cl *Client) { cl.log = l } }

// New returns a client of the factory at baseURL ("" for DefaultURL).
func New(baseURL string, opts ...Option) (*Client, error) {
	if baseURL == "" {
		baseURL = DefaultURL
	}
	u, err := url.Parse(strings.TrimSuffix(baseURL, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("image factory URL %q is not an http(s) URL (talos.factory_url in homelab.yaml)", baseURL)
	}
	c := &Client{base: u, log: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(c)
	}
	if c.http == nil {
		c.http = netx.NewClient(c.timeouts, netx.WithLogger(c.log))
	}
	return c, nil
}

// Error is an answer other than 2xx from the factory.
type Error struct {
	Method, URL string
	StatusCode  int
	Body        string
}

// Error names the call and the factory's answer.
func (e *Error) Error() string {
	body := strings.TrimSpace(e.Body)
	if len(body) > 300 {
		body = body[:300] + "…"
	}
	return fmt.Sprintf("image factory: %s %s: %d %s: %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode), body)
}

// URL returns the factory's address for a path.
func (c *Client) URL(path string) string { return c.base.String() + path }

// do sends a request and checks the status. The client's limits bound it,
// the answer's body included.
func (c *Client) do(ctx context.Context, method, path, ctype string, body []byte) (*http.Response, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.URL(path), r)
	if err != nil {
		return nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("image factory: %s %s: %w", method, c.URL(path), netx.WithoutURL(err))
	}
	c.log.Debug("image factory request", "method", method, "url", c.URL(path), "status", resp.StatusCode, "took", time.Since(start).Round(time.Millisecond))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, &Error{Method: method, URL: c.URL(path), StatusCode: resp.StatusCode, Body: string(b)}
	}
	return resp, nil
}

func (c *Client) getJSON(ctx context.Context, path string, v any) error {
	resp, err := c.do(ctx, http.MethodGet, path, "", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("image factory: GET %s: decode answer: %w", c.URL(path), err)
	}
	return nil
}

// Versions lists the Talos versions the factory offers.
func (c *Client) Versions(ctx context.Context) ([]string, error) {
	var v []string
	err := c.getJSON(ctx, "/versions", &v)
	return v, err
}

// Extension is an official system extension.
type Extension struct {
	Name        string `json:"name"`
	Ref         string `json:"ref"`
	Digest      string `json:"digest"`
	Author      string `json:"author"`
	Description string `json:"description"`
}

// OfficialExtensions lists the official extensions for a Talos version.
func (c *Client) OfficialExtensions(ctx context.Context, version string) ([]Extension, error) {
	var ext []Extension
	err := c.getJSON(ctx, "/version/"+url.PathEscape(version)+"/extensions/official", &ext)
	return ext, err
}

// ErrUnknownVersion and ErrUnknownExtension are returned (wrapped) by Check.
var (
	ErrUnknownVersion   = errors.New("unknown Talos version")
	ErrUnknownExtension = errors.New("unknown extension")
)

// Check makes sure the factory offers the Talos version and every extension
// of the schematic, so a typo is caught before anything is built.
func (c *Client) Check(ctx context.Context, version string, s Schematic) error {
	versions, err := c.Versions(ctx)
	if err != nil {
		return err
	}
	if !slices.Contains(versions, version) {
		return fmt.Errorf("%w: the image factory at %s does not offer Talos %s (newest it offers: %s); fix talos.version in homelab.yaml",
			ErrUnknownVersion, c.base, version, newest(versions, 3))
	}
	exts, err := c.OfficialExtensions(ctx, version)
	if err != nil {
		return err
	}
	names := make([]string, len(exts))
	for i, e := range exts {
		names[i] = e.Name
	}
	for _, want := range s.Customization.SystemExtensions.OfficialExtensions {
		if !slices.Contains(names, want) {
			return fmt.Errorf("%w: %s is not an official extension for Talos %s%s; fix talos.extensions or talos.gpu_extensions in homelab.yaml",
				ErrUnknownExtension, want, version, closest(want, names))
		}
	}
	return nil
}

func newest(versions []string, n int) string {
	if len(versions) <= n {
		return strings.Join(versions, ", ")
	}
	return strings.Join(versions[len(versions)-n:], ", ")
}

// closest suggests a known name sharing the last path element.
func closest(want string, names []string) string {
	_, short, _ := strings.Cut(want, "/")
	for _, n := range names {
		if _, s, _ := strings.Cut(n, "/"); s == short || strings.Contains(n, short) {
			return fmt.Sprintf(" (did you mean %s?)", n)
		}
	}
	return ""
}

// ErrSchematicMismatch means the factory computed another ID than this
// client for the same schematic: the two disagree on its canonical form.
var ErrSchematicMismatch = errors.New("schematic ID mismatch")

// CreateSchematic registers the schematic (POST /schematics; the factory
// stores it by content, so this is safe to repeat) and returns its ID after
// checking it equals the ID computed locally.
func (c *Client) CreateSchematic(ctx context.Context, s Schematic) (string, error) {
	want, err := s.ID()
	if err != nil {
		return "", err
	}
	body, err := s.Marshal()
	if err != nil {
		return "", err
	}
	resp, err := c.do(ctx, http.MethodPost, "/schematics", "application/yaml", body)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", fmt.Errorf("image factory: POST %s: decode answer: %w", c.URL("/schematics"), err)
	}
	if out.ID != want {
		return "", fmt.Errorf("%w: the factory answered %s for the schematic whose ID here is %s", ErrSchematicMismatch, out.ID, want)
	}
	return out.ID, nil
}

// ImageURL is the address of an image of a schematic and version, e.g.
// nocloud-amd64.qcow2.
func (c *Client) ImageURL(schematicID, version, file string) string {
	return c.URL("/image/" + schematicID + "/" + version + "/" + file)
}

// InstallerRef is the installer image for the Talos machine config:
// factory.talos.dev/installer/<schematic>:<version>.
func (c *Client) InstallerRef(schematicID, version string) string {
	return c.base.Host + "/installer/" + schematicID + ":" + version
}

// imageHeaderWait bounds the wait for an image's answer: the factory
// builds an image it has not built before while the request waits.
const imageHeaderWait = 5 * time.Minute

// Digest streams an image and returns its size and hex SHA-256, reporting
// progress (bytes read, total or -1) as it goes. Nothing is stored. The
// stream is a transfer: no overall limit, but it fails when no byte comes
// for the idle limit, and the factory has 5 minutes to start answering.
func (c *Client) Digest(ctx context.Context, imageURL string, progress func(done, total int64)) (int64, string, error) {
	req, err := http.NewRequestWithContext(netx.Transfer(ctx, imageHeaderWait), http.MethodGet, imageURL, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("image factory: GET %s: %w", imageURL, netx.WithoutURL(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return 0, "", &Error{Method: http.MethodGet, URL: imageURL, StatusCode: resp.StatusCode, Body: string(b)}
	}
	h := sha256.New()
	buf := make([]byte, 256<<10)
	var n int64
	for {
		k, err := resp.Body.Read(buf)
		if k > 0 {
			h.Write(buf[:k])
			n += int64(k)
			if progress != nil {
				progress(n, resp.ContentLength)
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, "", fmt.Errorf("image factory: GET %s: read after %d bytes: %w", imageURL, n, err)
		}
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return n, "", fmt.Errorf("image factory: GET %s: got %d of %d bytes", imageURL, n, resp.ContentLength)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}
