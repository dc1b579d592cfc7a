package netx

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"
)

// WithoutURL drops net/http's *url.Error from err, keeping its cause (a
// *PhaseError from this package's transport): a caller whose message already
// names the method and URL does not repeat them.
func WithoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Phase is the part of a request under way.
type Phase string

// The phases of a request, in order.
const (
	// PhaseDial is resolving the name and opening TCP.
	PhaseDial Phase = "dial"
	// PhaseTLSHandshake is the TLS handshake on an open connection (for
	// gRPC, the whole connection setup: TLS and HTTP/2's preface).
	PhaseTLSHandshake Phase = "tls-handshake"
	// PhaseRequestWrite is sending the request and its body.
	PhaseRequestWrite Phase = "request-write"
	// PhaseResponseHeader is waiting for the answer once the request is sent.
	PhaseResponseHeader Phase = "response-header"
	// PhaseBody is reading the answer's body.
	PhaseBody Phase = "body"
)

// describe is the phase as a sentence's subject.
func (p Phase) describe() string {
	switch p {
	case PhaseDial:
		return "TCP connection"
	case PhaseTLSHandshake:
		return "TLS handshake"
	case PhaseRequestWrite:
		return "sending the request"
	case PhaseResponseHeader:
		return "the answer"
	case PhaseBody:
		return "reading the answer"
	}
	return string(p)
}

// Limit names the Timeouts field that ran out.
type Limit string

// The limits of Timeouts.
const (
	LimitDial           Limit = "dial"
	LimitTLSHandshake   Limit = "tls-handshake"
	LimitResponseHeader Limit = "response-header"
	LimitOverall        Limit = "overall"
	LimitIdle           Limit = "idle"
)

// PhaseError is a request that failed in one phase: a time limit ran out
// (Limit is set) or the phase failed another way (Err says how).
type PhaseError struct {
	// Host is the server, host:port.
	Host string
	// Phase is what was under way.
	Phase Phase
	// Limit is the limit that ran out, "" when none did.
	Limit Limit
	// After is that limit's value.
	After time.Duration
	// Silent says the server never sent a byte on the connection: it
	// accepted TCP but does not speak the protocol (or is hung).
	Silent bool
	// Err is the cause.
	Err error
}

// Error names the host, the phase and the limit, with a guess at the cause.
func (e *PhaseError) Error() string {
	if e.Limit == "" {
		if errors.Is(e.Err, context.Canceled) || errors.Is(e.Err, context.DeadlineExceeded) {
			return fmt.Sprintf("%s: stopped at %s: %v", e.Host, e.Phase.describe(), e.Err)
		}
		return fmt.Sprintf("%s: %s failed: %v", e.Host, e.Phase.describe(), innerError(e.Err))
	}
	var msg string
	switch e.Limit {
	case LimitDial:
		msg = fmt.Sprintf("TCP connection did not open within %s (no answer at all: is the host up and the address right, or does a firewall drop the packets?)", e.After)
	case LimitTLSHandshake:
		msg = fmt.Sprintf("TLS handshake did not finish within %s", e.After)
		if e.Silent {
			msg += " (the host accepted TCP but never answered TLS; is this port a TLS service?)"
		} else {
			msg += " (the host answered but did not finish setting up the connection)"
		}
	case LimitResponseHeader:
		msg = fmt.Sprintf("no answer within %s of sending the request (the connection works but the service does not answer: is it hung or overloaded?)", e.After)
	case LimitIdle:
		msg = fmt.Sprintf("%s stalled: no data moved for %s", e.Phase.describe(), e.After)
	case LimitOverall:
		msg = fmt.Sprintf("the request did not finish within %s (its overall limit); it was at: %s", e.After, e.Phase.describe())
	default:
		msg = fmt.Sprintf("%s: %s ran out after %s", e.Phase.describe(), e.Limit, e.After)
	}
	return e.Host + ": " + msg
}

// Unwrap returns the cause.
func (e *PhaseError) Unwrap() error { return e.Err }

// Is makes a limit that ran out match context.DeadlineExceeded, as
// http.Client's own timeout does.
func (e *PhaseError) Is(target error) bool {
	return e.Timeout() && target == context.DeadlineExceeded //nolint:errorlint // a sentinel compared as errors.Is does
}

// Timeout reports whether a time limit ran out (net.Error).
func (e *PhaseError) Timeout() bool { return e.Limit != "" }

// Temporary is false (net.Error; deprecated there).
func (e *PhaseError) Temporary() bool { return false }

// IsTimeout reports whether err is a *PhaseError whose limit ran out.
func IsTimeout(err error) bool {
	var pe *PhaseError
	return errors.As(err, &pe) && pe.Timeout()
}

// innerError drops the outer layer of a *net.OpError, which repeats the
// address the PhaseError already names.
func innerError(err error) error {
	if op, ok := err.(*net.OpError); ok && op.Err != nil { //nolint:errorlint // only the outermost layer repeats the address
		return op.Err
	}
	return err
}

// isTimeout reports a timeout of the standard library (a net.Error that
// says so, or a deadline).
func isTimeout(err error) bool {
	var ne net.Error
	return (errors.As(err, &ne) && ne.Timeout()) || errors.Is(err, context.DeadlineExceeded)
}
