// Package netx gives every network client of the project the same time
// limits and the same errors when a limit runs out.
//
// Timeouts holds four limits for one request (Dial, TLSHandshake,
// ResponseHeader, Overall) and one for transfers (Idle). NewTransport builds
// an http.RoundTripper that enforces them and tracks the phase each request
// is in (dial, tls-handshake, request-write, response-header, body), so a
// failure is a *PhaseError naming the host, the phase and the limit:
//
//	pve.example:8006: TLS handshake did not finish within 10s (the host accepted TCP but never answered TLS; is this port a TLS service?)
//
// Downloads, uploads and streams that report their own progress are marked
// with Transfer: they have no Overall deadline, only Idle (no byte moved for
// that long). Connector does the same for clients that run their own TLS,
// such as gRPC: it dials with the Dial limit and bounds the connection's
// setup with the TLSHandshake limit.
//
// The package never prints; it logs phase changes at debug level to the
// logger it is given.
package netx
