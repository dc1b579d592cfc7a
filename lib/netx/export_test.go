package netx

import (
	"context"
	"net"
)

// WithDialFunc replaces the dialer, to simulate a host that drops packets.
func WithDialFunc(f func(ctx context.Context, network, addr string) (net.Conn, error)) Option {
	return func(o *options) { o.dial = f }
}
