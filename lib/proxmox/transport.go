package proxmox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/wdiazux/infra/lib/netx"
	"github.com/wdiazux/infra/lib/proxmox/pve"
)

// RetryPolicy says how transient failures are retried.
type RetryPolicy struct {
	// Attempts is the number of tries in all (1: no retry).
	Attempts int
	// Base is the first backoff; it doubles per attempt, with jitter.
	Base time.Duration
	// Max caps one backoff.
	Max time.Duration
}

// DefaultRetryPolicy tries four times, backing off from 250 ms up to 5 s.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{Attempts: 4, Base: 250 * time.Millisecond, Max: 5 * time.Second}
}

// transport is the client's http.RoundTripper. It turns every non-2xx
// answer into an *APIError, retries what is safe to retry, and logs each
// request without its headers.
type transport struct {
	next  http.RoundTripper
	base  string // URL path prefix of the API, e.g. /api2/json
	retry RetryPolicy
	log   *slog.Logger
}

// transientStatus are answers a retry may cure: a proxy or the cluster
// filesystem being briefly unavailable.
func transientStatus(code int) bool {
	return code == http.StatusBadGateway || code == http.StatusServiceUnavailable || code == 596
}

// idempotent methods may be retried after the request reached the server.
func idempotent(method string) bool {
	return method == http.MethodGet || method == http.MethodHead
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	path := strings.TrimPrefix(req.URL.Path, t.base)
	// A request can be sent again only if its body can be produced again;
	// an upload's streamed body cannot, so an upload is never retried.
	resendable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	for attempt := 1; ; attempt++ {
		r := req
		if attempt > 1 {
			r = req.Clone(req.Context())
			if req.GetBody != nil {
				b, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				r.Body = b
			}
		}
		start := time.Now()
		resp, err := t.next.RoundTrip(r)
		retry := false
		switch {
		case err != nil && req.Context().Err() != nil:
			// The caller gave up; that is not the host's doing.
			return nil, fmt.Errorf("%s %s: %w", req.Method, path, req.Context().Err())
		case err != nil:
			// Before the request left (dial failure) any method may be
			// retried; after, only the idempotent ones.
			// A time limit that ran out is not retried: it already
			// spent the time a person waits for an answer.
			retry = resendable && !netx.IsTimeout(err) && (notSent(err) || (idempotent(req.Method) && transientNetError(err)))
			t.log.Debug("proxmox request failed", "method", req.Method, "path", path, "attempt", attempt, "err", err)
			if !retry || attempt >= t.retry.Attempts {
				return nil, &NetworkError{Method: req.Method, Path: path, Err: err, Attempts: attempt}
			}
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			t.log.Debug("proxmox request", "method", req.Method, "path", path, "status", resp.StatusCode, "took", time.Since(start).Round(time.Millisecond))
			return resp, nil
		default:
			apiErr := readAPIError(req.Method, path, resp)
			t.log.Debug("proxmox request", "method", req.Method, "path", path, "status", resp.StatusCode, "attempt", attempt, "err", apiErr.Message)
			retry = resendable && idempotent(req.Method) && transientStatus(resp.StatusCode)
			if !retry || attempt >= t.retry.Attempts {
				return nil, apiErr
			}
		}
		if err := sleep(req.Context(), t.backoff(attempt)); err != nil {
			return nil, err
		}
	}
}

func (t *transport) backoff(attempt int) time.Duration {
	d := t.retry.Base << (attempt - 1)
	if d > t.retry.Max || d <= 0 {
		d = t.retry.Max
	}
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// notSent reports whether the request never reached the server.
func notSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// transientNetError reports a connection that broke mid-exchange.
func transientNetError(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.EPIPE)
}

// readAPIError reads PVE's error answer: the envelope's message and errors,
// or the reason phrase when the body has none.
func readAPIError(method, path string, resp *http.Response) *APIError {
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	e := &APIError{Method: method, Path: path, StatusCode: resp.StatusCode}
	var env pve.Envelope
	if json.Unmarshal(raw, &env) == nil {
		e.Message = strings.TrimSpace(env.Message)
		if len(env.Errors) > 0 {
			e.Params = map[string]string{}
			for k, v := range env.Errors {
				e.Params[k] = strings.TrimSpace(v)
			}
		}
	}
	if e.Message == "" {
		e.Message = strings.TrimSpace(strings.TrimPrefix(resp.Status, fmt.Sprint(resp.StatusCode)))
	}
	return e
}

// NetworkError is a request that got no answer: the connection failed or
// broke. Attempts says how often it was tried.
type NetworkError struct {
	Method, Path string
	Attempts     int
	Err          error
}

// Error names the call and what happened to the connection.
func (e *NetworkError) Error() string {
	tries := ""
	if e.Attempts > 1 {
		tries = fmt.Sprintf(" (after %d attempts)", e.Attempts)
	}
	msg := fmt.Sprintf("%s %s: no answer from Proxmox%s: %v", e.Method, e.Path, tries, e.Err)
	if !idempotent(e.Method) && !notSent(e.Err) {
		msg += "; the request may have been applied: look at the current state before trying again"
	}
	return msg
}

// Unwrap returns the connection error.
func (e *NetworkError) Unwrap() error { return e.Err }
