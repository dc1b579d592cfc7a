package netx

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Timeouts are the time limits of a network client. A zero field takes its
// default (DefaultTimeouts).
type Timeouts struct {
	// Dial bounds opening the TCP connection, name resolution included
	// (default 10s).
	Dial time.Duration
	// TLSHandshake bounds the TLS handshake once TCP is open (default 10s).
	TLSHandshake time.Duration
	// ResponseHeader bounds the wait for the answer's headers once the
	// request is sent (default 30s).
	ResponseHeader time.Duration
	// Overall bounds one request from dial to the last byte of the answer
	// (default 1m). Transfers (see Transfer) are exempt.
	Overall time.Duration
	// Idle bounds how long a transfer may go without a byte moving, in
	// either direction (default 1m). It applies only to transfers.
	Idle time.Duration
}

// DefaultTimeouts are the limits a client gets unless told otherwise:
// 10s to connect, 10s for TLS, 30s for the answer to start, 1m for a whole
// request, and 1m without progress for a transfer.
func DefaultTimeouts() Timeouts {
	return Timeouts{Dial: 10 * time.Second, TLSHandshake: 10 * time.Second, ResponseHeader: 30 * time.Second,
		Overall: time.Minute, Idle: time.Minute}
}

// WithDefaults returns t with each zero (or negative) field set to its
// default.
func (t Timeouts) WithDefaults() Timeouts {
	d := DefaultTimeouts()
	for _, f := range []struct{ v, def *time.Duration }{
		{&t.Dial, &d.Dial}, {&t.TLSHandshake, &d.TLSHandshake}, {&t.ResponseHeader, &d.ResponseHeader},
		{&t.Overall, &d.Overall}, {&t.Idle, &d.Idle},
	} {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	return t
}

// EnvTimeouts is the environment variable that changes the limits, for a
// slow link: "dial=20s,tls-handshake=20s,response-header=2m,overall=5m,idle=2m"
// (any subset; the others keep their defaults).
const EnvTimeouts = "INFRA_NET_TIMEOUTS"

// ParseTimeouts reads "name=duration,..." over base, as EnvTimeouts holds
// it. The names are dial, tls-handshake, response-header, overall and
// idle; a duration is Go's (500ms, 20s, 2m). Unknown names and durations
// that are not positive are refused.
func ParseTimeouts(s string, base Timeouts) (Timeouts, error) {
	t := base
	fields := map[string]*time.Duration{
		"dial": &t.Dial, "tls-handshake": &t.TLSHandshake, "response-header": &t.ResponseHeader,
		"overall": &t.Overall, "idle": &t.Idle,
	}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, value, ok := strings.Cut(item, "=")
		name = strings.TrimSpace(name)
		f, known := fields[name]
		if !ok || !known {
			return base, fmt.Errorf("%s: %q is not name=duration with a name among %s", EnvTimeouts, item,
				strings.Join(slices.Sorted(maps.Keys(fields)), ", "))
		}
		d, err := time.ParseDuration(strings.TrimSpace(value))
		if err != nil || d <= 0 {
			return base, fmt.Errorf("%s: %s=%q is not a positive duration such as 20s or 2m", EnvTimeouts, name, value)
		}
		*f = d
	}
	return t, nil
}

// TimeoutsFromEnv returns DefaultTimeouts changed by EnvTimeouts, read
// through getenv (os.Getenv).
func TimeoutsFromEnv(getenv func(string) string) (Timeouts, error) {
	return ParseTimeouts(getenv(EnvTimeouts), DefaultTimeouts())
}
