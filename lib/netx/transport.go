package netx

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// dialFunc opens a connection; tests replace net.Dialer's to simulate a
// host that drops packets.
type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

type options struct {
	tls  *tls.Config
	log  *slog.Logger
	dial dialFunc
}

// Option configures a Transport or a Connector.
type Option func(*options)

// WithTLSConfig sets the TLS settings of a Transport (default: Go's, with
// the system's roots).
func WithTLSConfig(c *tls.Config) Option { return func(o *options) { o.tls = c } }

// WithLogger sets the logger for phase changes, at debug level (default:
// discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

func newOptions(opts []Option) options {
	o := options{log: slog.New(slog.DiscardHandler), dial: (&net.Dialer{}).DialContext}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// Transport is an http.RoundTripper that enforces Timeouts on each request
// and turns each failure into a *PhaseError naming the host and the phase.
// It speaks HTTP/1.1, through the proxy the environment names.
type Transport struct {
	base     *http.Transport
	timeouts Timeouts
	log      *slog.Logger
	dial     dialFunc
}

// NewTransport returns a Transport with the limits t (zero fields take
// their defaults).
func NewTransport(t Timeouts, opts ...Option) *Transport {
	o := newOptions(opts)
	tr := &Transport{timeouts: t.WithDefaults(), log: o.log, dial: o.dial}
	tr.base = &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           tr.dialContext,
		TLSClientConfig:       o.tls,
		TLSHandshakeTimeout:   tr.timeouts.TLSHandshake,
		ExpectContinueTimeout: time.Second,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
	}
	return tr
}

// NewClient returns an HTTP client over NewTransport(t, opts...).
func NewClient(t Timeouts, opts ...Option) *http.Client {
	return &http.Client{Transport: NewTransport(t, opts...)}
}

// Timeouts returns the limits in force.
func (t *Transport) Timeouts() Timeouts { return t.timeouts }

// CloseIdleConnections closes the connections kept for reuse.
func (t *Transport) CloseIdleConnections() { t.base.CloseIdleConnections() }

type transferKey struct{}

// Transfer marks the requests made with ctx as transfers: downloads,
// uploads and streams, which report their own progress. They have no
// Overall deadline; instead they fail when no byte moves for Idle. A
// positive headerWait replaces ResponseHeader, for servers that prepare a
// file before they answer.
func Transfer(ctx context.Context, headerWait time.Duration) context.Context {
	return context.WithValue(ctx, transferKey{}, headerWait)
}

type trackerKey struct{}

// dialContext dials with the Dial limit and hands the connection to the
// request's tracker, which learns from it whether the server ever spoke.
func (t *Transport) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, t.timeouts.Dial)
	defer cancel()
	conn, err := t.dial(dctx, network, addr)
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: conn}
	if tr, ok := ctx.Value(trackerKey{}).(*tracker); ok {
		tr.useConn(tc)
	}
	return tc, nil
}

// RoundTrip sends one request under the limits.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	parent := req.Context()
	headerWait, transfer := parent.Value(transferKey{}).(time.Duration)
	if headerWait <= 0 {
		headerWait = t.timeouts.ResponseHeader
	}
	ctx, cancel := context.WithCancelCause(parent)
	tr := &tracker{host: hostPort(req.URL), phase: PhaseDial, cancel: cancel, idleLimit: t.timeouts.Idle}
	if transfer {
		tr.idle = time.AfterFunc(time.Hour, func() { tr.expire(LimitIdle, t.timeouts.Idle) })
		tr.idle.Stop()
	} else {
		tr.overall = time.AfterFunc(t.timeouts.Overall, func() { tr.expire(LimitOverall, t.timeouts.Overall) })
	}
	trace := &httptrace.ClientTrace{
		ConnectStart: func(_, addr string) { t.log.Debug("connecting", "host", tr.host, "addr", addr) },
		TLSHandshakeStart: func() {
			t.log.Debug("TLS handshake", "host", tr.host)
			tr.enter(PhaseTLSHandshake)
		},
		GotConn: func(info httptrace.GotConnInfo) {
			tr.gotConn(info.Conn)
			tr.enter(PhaseRequestWrite)
			tr.resetIdle()
		},
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				tr.sent(headerWait, func() { tr.expire(LimitResponseHeader, headerWait) })
			}
		},
		GotFirstResponseByte: tr.answered,
	}
	ctx = httptrace.WithClientTrace(context.WithValue(ctx, trackerKey{}, tr), trace)
	r := req.WithContext(ctx)
	if transfer && req.Body != nil && req.Body != http.NoBody {
		r.Body = &progressBody{ReadCloser: req.Body, tr: tr}
	}
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		tr.stop()
		pe := tr.failure(ctx, parent, err, t.timeouts)
		cancel(nil)
		return nil, pe
	}
	tr.enter(PhaseBody)
	tr.resetIdle()
	resp.Body = &trackedBody{rc: resp.Body, tr: tr, ctx: ctx, parent: parent}
	return resp, nil
}

// hostPort is the URL's host with its port, the scheme's default when the
// URL has none.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// tracker follows one request through its phases and owns its timers.
type tracker struct {
	host      string
	cancel    context.CancelCauseFunc
	idleLimit time.Duration

	mu       sync.Mutex
	phase    Phase
	conn     *trackedConn
	overall  *time.Timer
	header   *time.Timer
	idle     *time.Timer
	finished bool
}

// enter moves to a phase; the body phase is final.
func (tr *tracker) enter(p Phase) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.phase != PhaseBody {
		tr.phase = p
	}
}

func (tr *tracker) useConn(c *trackedConn) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.conn = c
}

// gotConn remembers the connection the request got (a reused one too).
func (tr *tracker) gotConn(c net.Conn) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if tc, ok := c.(*trackedConn); ok {
		tr.useConn(tc)
	}
}

// sent starts the wait for the answer's headers.
func (tr *tracker) sent(wait time.Duration, expire func()) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.finished || tr.phase == PhaseBody {
		return
	}
	tr.phase = PhaseResponseHeader
	if tr.idle != nil {
		tr.idle.Stop()
	}
	tr.header = time.AfterFunc(wait, expire)
}

// answered stops the wait for headers at the first byte of the answer.
func (tr *tracker) answered() {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.header != nil {
		tr.header.Stop()
	}
}

// resetIdle restarts a transfer's idle timer: a byte moved.
func (tr *tracker) resetIdle() {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.idle != nil && !tr.finished {
		tr.idle.Reset(tr.idleLimit)
	}
}

// stop ends every timer: the request is over.
func (tr *tracker) stop() {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.finished = true
	for _, t := range []*time.Timer{tr.overall, tr.header, tr.idle} {
		if t != nil {
			t.Stop()
		}
	}
}

// silent reports whether the server never sent a byte on the connection.
func (tr *tracker) silent() bool {
	return tr.conn != nil && !tr.conn.read.Load()
}

// expire cancels the request because limit ran out, in the phase under way.
func (tr *tracker) expire(limit Limit, after time.Duration) {
	tr.mu.Lock()
	if tr.finished {
		tr.mu.Unlock()
		return
	}
	pe := &PhaseError{Host: tr.host, Phase: tr.phase, Limit: limit, After: after, Silent: tr.silent(), Err: context.DeadlineExceeded}
	tr.mu.Unlock()
	tr.cancel(pe)
}

// failure explains err, the error of the request with ctx: the caller
// gave up, a limit of this package ran out (ctx's cause), or the phase
// failed on its own, by one of the standard library's time limits or not.
func (tr *tracker) failure(ctx, parent context.Context, err error, t Timeouts) *PhaseError {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	pe := &PhaseError{Host: tr.host, Phase: tr.phase, Silent: tr.silent(), Err: err}
	switch cause, _ := context.Cause(ctx).(*PhaseError); {
	case parent.Err() != nil:
		pe.Err = parent.Err()
	case cause != nil:
		return cause
	case isTimeout(err) && tr.phase == PhaseDial:
		pe.Limit, pe.After = LimitDial, t.Dial
	case isTimeout(err) && tr.phase == PhaseTLSHandshake:
		pe.Limit, pe.After = LimitTLSHandshake, t.TLSHandshake
	}
	return pe
}

// trackedConn notes whether the server ever sent a byte.
type trackedConn struct {
	net.Conn
	read atomic.Bool
}

func (c *trackedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.read.Store(true)
	}
	return n, err
}

// progressBody is a transfer's request body: each read is progress.
type progressBody struct {
	io.ReadCloser
	tr *tracker
}

func (b *progressBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.tr.resetIdle()
	}
	return n, err
}

// trackedBody is the answer's body: reads are progress, the end stops the
// timers, and a failure is a *PhaseError of the body phase.
type trackedBody struct {
	rc          io.ReadCloser
	tr          *tracker
	ctx, parent context.Context
}

func (b *trackedBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.tr.resetIdle()
	}
	switch {
	case err == nil:
	case err == io.EOF: //nolint:errorlint // io.Reader returns io.EOF itself
		b.tr.stop()
	default:
		b.tr.stop()
		return n, b.tr.failure(b.ctx, b.parent, err, Timeouts{})
	}
	return n, err
}

func (b *trackedBody) Close() error {
	err := b.rc.Close()
	b.tr.stop()
	b.tr.cancel(nil)
	return err
}
