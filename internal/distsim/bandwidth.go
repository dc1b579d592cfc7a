package distsim

import (
	"net"
	"time"
)

// limitedListener paces every accepted connection's writes to rate bytes a
// second.
type limitedListener struct {
	net.Listener
	rate int64
}

func (l *limitedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &limitedConn{Conn: c, rate: l.rate}, nil
}

type limitedConn struct {
	net.Conn
	rate  int64
	start time.Time
	last  time.Time
	sent  int64
}

// Write sends p in chunks, sleeping so the connection's answer bytes since
// it last went quiet average at most rate a second.
func (c *limitedConn) Write(p []byte) (int, error) {
	const chunk = 16 << 10
	now := time.Now()
	if c.sent == 0 || now.Sub(c.last) > 200*time.Millisecond {
		c.start, c.sent = now, 0
	}
	n := 0
	for len(p) > 0 {
		k := min(len(p), chunk)
		m, err := c.Conn.Write(p[:k])
		n += m
		c.sent += int64(m)
		if err != nil {
			return n, err
		}
		p = p[k:]
		due := c.start.Add(time.Duration(float64(c.sent) / float64(c.rate) * float64(time.Second)))
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		c.last = time.Now()
	}
	return n, nil
}
