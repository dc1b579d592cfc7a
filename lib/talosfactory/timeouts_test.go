package talosfactory_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/netx"
	"github.com/wdiazux/infra/lib/netx/netxtest"
	"github.com/wdiazux/infra/lib/talosfactory"
)

// TestBlackHoles: a factory that accepts and never answers ends each call
// within its limit, with an error naming the host and the phase; an image
// stream that stalls ends after the idle limit.
func TestBlackHoles(t *testing.T) {
	tests := []struct {
		name      string
		behaviour netxtest.Behaviour
		limits    netx.Timeouts
		digest    bool
		phase     netx.Phase
		limit     netx.Limit
		message   string
	}{
		{"TCP accepted, TLS never answered", netxtest.AcceptOnly, netx.Timeouts{TLSHandshake: 50 * time.Millisecond}, false,
			netx.PhaseTLSHandshake, netx.LimitTLSHandshake, "TLS handshake did not finish within 50ms (the host accepted TCP but never answered TLS; is this port a TLS service?)"},
		{"the request is read, never answered", netxtest.SilentAfterRequest, netx.Timeouts{ResponseHeader: 50 * time.Millisecond}, false,
			netx.PhaseResponseHeader, netx.LimitResponseHeader, "no answer within 50ms of sending the request"},
		{"the answer's body stalls", netxtest.StallBody, netx.Timeouts{Overall: 500 * time.Millisecond}, false,
			netx.PhaseBody, netx.LimitOverall, "the request did not finish within 500ms (its overall limit); it was at: reading the answer"},
		{"an image stream stalls", netxtest.StallBody, netx.Timeouts{Idle: 300 * time.Millisecond, Overall: time.Millisecond}, true,
			netx.PhaseBody, netx.LimitIdle, "reading the answer stalled: no data moved for 300ms"},
		{"an image stream that never starts", netxtest.AcceptOnly, netx.Timeouts{TLSHandshake: 50 * time.Millisecond}, true,
			netx.PhaseTLSHandshake, netx.LimitTLSHandshake, "TLS handshake did not finish within 50ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := netxtest.New(t, tt.behaviour)
			c, err := talosfactory.New(s.URL(), talosfactory.WithTimeouts(tt.limits))
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			if tt.digest {
				_, _, err = c.Digest(ctx, c.ImageURL("abc", "v1.12.7", talosfactory.NoCloudImage), nil)
			} else {
				_, err = c.Versions(ctx)
			}
			require.NoError(t, ctx.Err(), "the hang guard ended the call, not the limit")
			netxtest.RequireLimit(t, err, s.Addr(), tt.phase, tt.limit)
			require.ErrorContains(t, err, s.Addr()+": "+tt.message)
			require.Contains(t, err.Error(), "image factory: GET "+s.URL()+"/")
		})
	}
}
