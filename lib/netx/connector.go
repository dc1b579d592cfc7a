package netx

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"time"
)

// Connector opens connections for a client that runs its own TLS and
// protocol setup, such as gRPC: it dials with the Dial limit, and closes a
// connection whose setup is not over (Established) within the TLSHandshake
// limit. Err then says which limit ran out, for Host.
type Connector struct {
	host     string
	timeouts Timeouts
	dial     dialFunc
	log      *slog.Logger

	mu          sync.Mutex
	established bool
	err         *PhaseError
	timers      []*time.Timer
}

// NewConnector returns a Connector for the server at host (host:port, as
// errors name it) with the limits t (zero fields take their defaults).
func NewConnector(host string, t Timeouts, opts ...Option) *Connector {
	o := newOptions(opts)
	return &Connector{host: host, timeouts: t.WithDefaults(), dial: o.dial, log: o.log}
}

// DialContext opens TCP to addr; its signature is grpc.WithContextDialer's.
// A failure is a *PhaseError of the dial phase.
func (c *Connector) DialContext(ctx context.Context, addr string) (net.Conn, error) {
	c.log.Debug("connecting", "host", c.host, "addr", addr)
	dctx, cancel := context.WithTimeout(ctx, c.timeouts.Dial)
	defer cancel()
	conn, err := c.dial(dctx, "tcp", addr)
	if err != nil {
		pe := &PhaseError{Host: c.host, Phase: PhaseDial, Err: err}
		if isTimeout(err) && ctx.Err() == nil {
			pe.Limit, pe.After, pe.Err = LimitDial, c.timeouts.Dial, context.DeadlineExceeded
		}
		c.fail(pe)
		return nil, pe
	}
	tc := &trackedConn{Conn: conn}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.established {
		c.log.Debug("TLS handshake", "host", c.host)
		c.timers = append(c.timers, time.AfterFunc(c.timeouts.TLSHandshake, func() { c.setupExpired(tc) }))
	}
	return tc, nil
}

// setupExpired closes a connection whose setup took too long.
func (c *Connector) setupExpired(tc *trackedConn) {
	c.mu.Lock()
	if c.established {
		c.mu.Unlock()
		return
	}
	c.err = &PhaseError{Host: c.host, Phase: PhaseTLSHandshake, Limit: LimitTLSHandshake, After: c.timeouts.TLSHandshake,
		Silent: !tc.read.Load(), Err: context.DeadlineExceeded}
	c.mu.Unlock()
	_ = tc.Close()
}

func (c *Connector) fail(pe *PhaseError) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.err = pe
}

// Established says the connection is set up (for gRPC: the channel is
// Ready); the setup limit no longer applies.
func (c *Connector) Established() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.established = true
	for _, t := range c.timers {
		t.Stop()
	}
	c.timers = nil
}

// Err is the last failure of a dial or of a setup, a *PhaseError, or nil.
func (c *Connector) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		return nil
	}
	return c.err
}

// Timeouts returns the limits in force.
func (c *Connector) Timeouts() Timeouts { return c.timeouts }

// Host is the server as errors name it.
func (c *Connector) Host() string { return c.host }
