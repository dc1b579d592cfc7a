package netx_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/netx"
	"github.com/wdiazux/infra/lib/netx/netxtest"
)

// long is a limit no test reaches; each case shortens the one it tests.
const long = time.Hour

// hangGuard bounds a test that would otherwise hang if a limit did not
// work; reaching it fails the test (the error is then the guard's).
const hangGuard = 30 * time.Second

func limits(f func(*netx.Timeouts)) netx.Timeouts {
	t := netx.Timeouts{Dial: long, TLSHandshake: long, ResponseHeader: long, Overall: long, Idle: long}
	f(&t)
	return t
}

// dropPackets dials like a host whose firewall drops the SYN: it waits
// until the dial is given up.
func dropPackets(ctx context.Context, _, _ string) (net.Conn, error) {
	<-ctx.Done()
	return nil, &net.OpError{Op: "dial", Net: "tcp", Err: ctx.Err()}
}

// endless is an upload that never ends.
type endless struct{}

func (endless) Read(p []byte) (int, error) { return len(p), nil }

func TestTransportBlackHoles(t *testing.T) {
	tests := []struct {
		name      string
		behaviour netxtest.Behaviour
		scheme    string // "" for the server's own
		limits    netx.Timeouts
		opts      []netx.Option
		transfer  time.Duration // >= 0: a transfer with this header wait
		upload    bool
		phase     netx.Phase
		limit     netx.Limit
		after     time.Duration
		silent    bool
		message   string
	}{
		{name: "TCP accepted, TLS never answered", behaviour: netxtest.AcceptOnly,
			limits: limits(func(t *netx.Timeouts) { t.TLSHandshake = 50 * time.Millisecond }), transfer: -1,
			phase: netx.PhaseTLSHandshake, limit: netx.LimitTLSHandshake, after: 50 * time.Millisecond, silent: true,
			message: ": TLS handshake did not finish within 50ms (the host accepted TCP but never answered TLS; is this port a TLS service?)"},
		{name: "a transfer gets the TLS limit too", behaviour: netxtest.AcceptOnly,
			limits: limits(func(t *netx.Timeouts) { t.TLSHandshake = 50 * time.Millisecond }), transfer: 0,
			phase: netx.PhaseTLSHandshake, limit: netx.LimitTLSHandshake, after: 50 * time.Millisecond, silent: true},
		{name: "packets dropped", behaviour: netxtest.AcceptOnly,
			limits: limits(func(t *netx.Timeouts) { t.Dial = 50 * time.Millisecond }), transfer: -1,
			opts:  []netx.Option{netx.WithDialFunc(dropPackets)},
			phase: netx.PhaseDial, limit: netx.LimitDial, after: 50 * time.Millisecond,
			message: ": TCP connection did not open within 50ms (no answer at all: is the host up and the address right, or does a firewall drop the packets?)"},
		{name: "TLS done, no answer", behaviour: netxtest.SilentAfterTLS,
			limits: limits(func(t *netx.Timeouts) { t.ResponseHeader = 50 * time.Millisecond }), transfer: -1,
			phase: netx.PhaseResponseHeader, limit: netx.LimitResponseHeader, after: 50 * time.Millisecond, silent: false,
			message: ": no answer within 50ms of sending the request"},
		{name: "plain HTTP, no answer", behaviour: netxtest.SilentAfterRequest,
			limits: limits(func(t *netx.Timeouts) { t.ResponseHeader = 50 * time.Millisecond }), transfer: -1,
			phase: netx.PhaseResponseHeader, limit: netx.LimitResponseHeader, after: 50 * time.Millisecond, silent: true},
		{name: "a transfer's own header wait", behaviour: netxtest.SilentAfterRequest,
			limits: limits(func(t *netx.Timeouts) {}), transfer: 60 * time.Millisecond,
			phase: netx.PhaseResponseHeader, limit: netx.LimitResponseHeader, after: 60 * time.Millisecond, silent: true},
		{name: "overall limit while in the TLS handshake", behaviour: netxtest.AcceptOnly,
			limits: limits(func(t *netx.Timeouts) { t.Overall = 50 * time.Millisecond }), transfer: -1,
			phase: netx.PhaseTLSHandshake, limit: netx.LimitOverall, after: 50 * time.Millisecond, silent: true,
			message: ": the request did not finish within 50ms (its overall limit); it was at: TLS handshake"},
		{name: "overall limit while the body stalls", behaviour: netxtest.StallBody,
			limits: limits(func(t *netx.Timeouts) { t.Overall = 500 * time.Millisecond }), transfer: -1,
			phase: netx.PhaseBody, limit: netx.LimitOverall, after: 500 * time.Millisecond,
			message: ": the request did not finish within 500ms (its overall limit); it was at: reading the answer"},
		{name: "overall limit while the body stalls over TLS", behaviour: netxtest.StallBodyTLS,
			limits: limits(func(t *netx.Timeouts) { t.Overall = time.Second }), transfer: -1,
			phase: netx.PhaseBody, limit: netx.LimitOverall, after: time.Second},
		{name: "a download that stalls", behaviour: netxtest.StallBody,
			limits: limits(func(t *netx.Timeouts) { t.Idle = 300 * time.Millisecond; t.Overall = time.Nanosecond }), transfer: 0,
			phase: netx.PhaseBody, limit: netx.LimitIdle, after: 300 * time.Millisecond,
			message: ": reading the answer stalled: no data moved for 300ms"},
		{name: "an upload the server never reads", behaviour: netxtest.AcceptOnly, scheme: "http",
			limits: limits(func(t *netx.Timeouts) { t.Idle = 100 * time.Millisecond }), transfer: 0, upload: true,
			phase: netx.PhaseRequestWrite, limit: netx.LimitIdle, after: 100 * time.Millisecond, silent: true,
			message: ": sending the request stalled: no data moved for 100ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := netxtest.New(t, tt.behaviour)
			opts := append([]netx.Option{netx.WithTLSConfig(&tls.Config{RootCAs: s.CertPool(), MinVersion: tls.VersionTLS12})}, tt.opts...)
			client := netx.NewClient(tt.limits, opts...)
			ctx, cancel := context.WithTimeout(t.Context(), hangGuard)
			defer cancel()
			if tt.transfer >= 0 {
				ctx = netx.Transfer(ctx, tt.transfer)
			}
			url := s.URL()
			if tt.scheme != "" {
				url = tt.scheme + "://" + s.Addr()
			}
			method, body := http.MethodGet, io.Reader(nil)
			if tt.upload {
				method, body = http.MethodPost, endless{}
			}
			req, err := http.NewRequestWithContext(ctx, method, url+"/versions", body)
			require.NoError(t, err)
			resp, err := client.Do(req)
			if err == nil {
				_, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			require.NoError(t, ctx.Err(), "the hang guard ended the call, not the limit")
			pe := netxtest.RequireLimit(t, err, s.Addr(), tt.phase, tt.limit)
			require.Equal(t, tt.after, pe.After)
			require.Equal(t, tt.silent, pe.Silent)
			require.True(t, netx.IsTimeout(err))
			require.ErrorIs(t, err, context.DeadlineExceeded, "a limit that ran out is a deadline")
			require.ErrorContains(t, err, s.Addr()+tt.message)
		})
	}
}

func TestTransportPassesAnswersThrough(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_, _ = w.Write(append([]byte("got "), body...))
	}))
	defer srv.Close()
	pool := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	// The limits are the defaults: a passing answer must not depend on
	// how fast a loaded machine runs a TLS handshake.
	client := netx.NewClient(netx.Timeouts{}, netx.WithTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
	for _, ctx := range []context.Context{t.Context(), netx.Transfer(t.Context(), 0)} {
		for range 3 {
			resp, err := client.Post(srv.URL, "text/plain", strings.NewReader("hello"))
			if ctx != t.Context() {
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader("hello"))
				resp, err = client.Do(req)
			}
			require.NoError(t, err)
			b, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			require.Equal(t, "got hello", string(b))
		}
	}
}

func TestTransportFailures(t *testing.T) {
	t.Run("a refused connection names the host and the phase", func(t *testing.T) {
		client := netx.NewClient(netx.Timeouts{})
		_, err := client.Get("https://127.0.0.1:0/")
		var pe *netx.PhaseError
		require.ErrorAs(t, err, &pe)
		require.Equal(t, "127.0.0.1:0", pe.Host)
		require.Equal(t, netx.PhaseDial, pe.Phase)
		require.False(t, pe.Timeout())
		require.ErrorContains(t, err, "127.0.0.1:0: TCP connection failed: connect: connection refused")
		var op *net.OpError
		require.ErrorAs(t, err, &op, "the cause stays reachable")
	})
	t.Run("an untrusted certificate fails the handshake", func(t *testing.T) {
		s := netxtest.New(t, netxtest.SilentAfterTLS)
		_, err := netx.NewClient(netx.Timeouts{}).Get(s.URL())
		var pe *netx.PhaseError
		require.ErrorAs(t, err, &pe)
		require.Equal(t, netx.PhaseTLSHandshake, pe.Phase)
		require.ErrorContains(t, err, s.Addr()+": TLS handshake failed: tls: failed to verify certificate")
	})
	t.Run("the caller giving up is not a limit", func(t *testing.T) {
		s := netxtest.New(t, netxtest.AcceptOnly)
		ctx, cancel := context.WithCancel(t.Context())
		client := netx.NewClient(limits(func(*netx.Timeouts) {}))
		go func() { time.Sleep(20 * time.Millisecond); cancel() }()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL(), nil)
		_, err := client.Do(req)
		var pe *netx.PhaseError
		require.ErrorAs(t, err, &pe)
		require.False(t, pe.Timeout())
		require.ErrorIs(t, err, context.Canceled)
		require.ErrorContains(t, err, s.Addr()+": stopped at TLS handshake: context canceled")
	})
}

func TestConnector(t *testing.T) {
	// handshake runs a TLS client over a connector's connection, as gRPC
	// does, without a deadline of its own.
	handshake := func(t *testing.T, c *netx.Connector, addr string, established bool) error {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), hangGuard)
		defer cancel()
		conn, err := c.DialContext(ctx, addr)
		if err != nil {
			return err
		}
		defer conn.Close()
		if established {
			c.Established()
		}
		done := make(chan error, 1)
		go func() {
			done <- tls.Client(conn, &tls.Config{InsecureSkipVerify: true}).Handshake() //nolint:gosec // a test server
		}()
		select {
		case err := <-done:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	t.Run("TCP accepted, TLS never answered", func(t *testing.T) {
		s := netxtest.New(t, netxtest.AcceptOnly)
		c := netx.NewConnector("node-1:50000", limits(func(t *netx.Timeouts) { t.TLSHandshake = 50 * time.Millisecond }))
		require.Error(t, handshake(t, c, s.Addr(), false))
		var pe *netx.PhaseError
		require.ErrorAs(t, c.Err(), &pe)
		require.Equal(t, netx.PhaseTLSHandshake, pe.Phase)
		require.Equal(t, netx.LimitTLSHandshake, pe.Limit)
		require.True(t, pe.Silent)
		require.EqualError(t, pe, "node-1:50000: TLS handshake did not finish within 50ms (the host accepted TCP but never answered TLS; is this port a TLS service?)")
	})
	t.Run("packets dropped", func(t *testing.T) {
		c := netx.NewConnector("node-1:50000", limits(func(t *netx.Timeouts) { t.Dial = 50 * time.Millisecond }), netx.WithDialFunc(dropPackets))
		err := handshake(t, c, "192.0.2.1:50000", false)
		var pe *netx.PhaseError
		require.ErrorAs(t, err, &pe)
		require.Equal(t, netx.LimitDial, pe.Limit)
		require.Equal(t, pe, c.Err())
	})
	t.Run("an established connection is left alone", func(t *testing.T) {
		s := netxtest.New(t, netxtest.SilentAfterTLS)
		c := netx.NewConnector(s.Addr(), limits(func(t *netx.Timeouts) { t.TLSHandshake = time.Millisecond }))
		require.NoError(t, handshake(t, c, s.Addr(), true))
		require.NoError(t, c.Err())
	})
}

func TestParseTimeouts(t *testing.T) {
	def := netx.DefaultTimeouts()
	tests := []struct {
		in   string
		want netx.Timeouts
		err  string
	}{
		{in: "", want: def},
		{in: "dial=20s, tls-handshake=15s,response-header=2m,overall=5m,idle=90s", want: netx.Timeouts{Dial: 20 * time.Second,
			TLSHandshake: 15 * time.Second, ResponseHeader: 2 * time.Minute, Overall: 5 * time.Minute, Idle: 90 * time.Second}},
		{in: "overall=10m", want: func() netx.Timeouts { d := def; d.Overall = 10 * time.Minute; return d }()},
		{in: "tls=20s", err: `INFRA_NET_TIMEOUTS: "tls=20s" is not name=duration with a name among dial, idle, overall, response-header, tls-handshake`},
		{in: "dial", err: `"dial" is not name=duration`},
		{in: "dial=soon", err: `INFRA_NET_TIMEOUTS: dial="soon" is not a positive duration such as 20s or 2m`},
		{in: "dial=0s", err: `dial="0s" is not a positive duration`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := netx.TimeoutsFromEnv(func(string) string { return tt.in })
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
	require.Equal(t, def, netx.Timeouts{}.WithDefaults())
	require.Equal(t, 10*time.Second, def.Dial)
	require.Equal(t, 10*time.Second, def.TLSHandshake)
	require.Equal(t, 30*time.Second, def.ResponseHeader)
	require.Equal(t, time.Minute, def.Overall)
	require.False(t, errors.Is(nil, context.DeadlineExceeded))
}

// TestWithoutURL drops net/http's *url.Error and keeps what it wraps.
func TestWithoutURL(t *testing.T) {
	cause := &netx.PhaseError{Host: "h:1", Phase: netx.PhaseDial, Err: errors.New("refused")}
	wrapped := &url.Error{Op: "Get", URL: "https://h:1/x", Err: cause}
	require.Same(t, cause, netx.WithoutURL(wrapped))
	require.Same(t, cause, netx.WithoutURL(fmt.Errorf("context: %w", wrapped)))
	plain := errors.New("plain")
	require.Same(t, plain, netx.WithoutURL(plain))
	require.NoError(t, netx.WithoutURL(nil))
}
