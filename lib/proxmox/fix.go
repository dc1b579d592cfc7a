package proxmox

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"

	"github.com/wdiazux/infra/lib/netx"
)

// ConnectionFix says what to do about err, returned by a call of c that
// failed for want of a working connection or token, from what failed: the
// token, the certificate, or the connection in one of its phases, at the
// host and port the URL names. It names what was tried (the port, the
// pinned and the presented fingerprints) and the environment variable to
// change (ConfigFromEnv's).
func (c *Client) ConnectionFix(err error) string {
	cfg := c.cfg
	host, port := cfg.hostPort()
	var (
		apiErr  *APIError
		fpErr   *FingerprintError
		certErr *tls.CertificateVerificationError
		dnsErr  *net.DNSError
		pe      *netx.PhaseError
	)
	errors.As(err, &pe)
	switch {
	case IsStatus(err, http.StatusUnauthorized):
		return fmt.Sprintf("the token %s was refused: check %s and %s, and that the token exists and has not expired (Datacenter → Permissions → API Tokens)", cfg.TokenID, EnvTokenID, EnvTokenSecret)
	case errors.As(err, &apiErr) && (apiErr.StatusCode == http.StatusNotFound || apiErr.StatusCode == http.StatusNotImplemented):
		return fmt.Sprintf("%s:%s answered %d to %s %s, which the Proxmox API does not: check %s=%s points at the API, https://<host>:8006/api2/json",
			host, port, apiErr.StatusCode, apiErr.Method, apiErr.Path, EnvURL, cfg.URL)
	case errors.As(err, &apiErr):
		return fmt.Sprintf("Proxmox answered %d; the host's log says why: journalctl -u pveproxy -u pvedaemon", apiErr.StatusCode)
	case errors.As(err, &fpErr):
		return fmt.Sprintf("the host presents %s but %s pins %s: if the host's certificate was renewed or replaced, read its new SHA-256 fingerprint under Node → System → Certificates (or run pvenode cert info on the host) and set %s to it; if it was not, %s=%s may reach another machine than the one you pinned: find out why before you trust it",
			truncated(fpErr.Presented), EnvTLSFingerprint, truncated(fpErr.Pinned), EnvTLSFingerprint, EnvURL, cfg.URL)
	case (errors.As(err, &certErr) || strings.Contains(err.Error(), "certificate")) && cfg.CAFile != "":
		return fmt.Sprintf("the host's certificate is not signed by the CA in %s (%s): set it to the CA that signed the certificate, or pin the certificate itself with %s (its SHA-256 fingerprint under Node → System → Certificates)",
			EnvCAFile, cfg.CAFile, EnvTLSFingerprint)
	case errors.As(err, &certErr) || strings.Contains(err.Error(), "certificate"):
		return fmt.Sprintf("the host's certificate is not trusted: set %s to its CA, or pin it with %s (its SHA-256 fingerprint under Node → System → Certificates)", EnvCAFile, EnvTLSFingerprint)
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("the name %s does not resolve: check the host in %s=%s", host, EnvURL, cfg.URL)
	case pe != nil && pe.Phase == netx.PhaseDial && pe.Timeout():
		return fmt.Sprintf("%s did not answer on port %s within %s: check the address in %s=%s, that the host is up, and that no firewall drops port %s",
			host, port, pe.After, EnvURL, cfg.URL, port)
	case pe != nil && pe.Phase == netx.PhaseDial && errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("nothing accepts connections on port %s of %s: check the port in %s=%s (Proxmox serves its API on 8006) and that pveproxy runs on the host",
			port, host, EnvURL, cfg.URL)
	case pe != nil && pe.Phase == netx.PhaseTLSHandshake && pe.Timeout() && pe.Silent:
		return fmt.Sprintf("port %s of %s accepts TCP connections but does not answer TLS: check the port in %s=%s (Proxmox serves its API over TLS on 8006)",
			port, host, EnvURL, cfg.URL)
	case pe != nil && pe.Phase == netx.PhaseTLSHandshake:
		return fmt.Sprintf("the TLS handshake with port %s of %s did not complete: check %s=%s points at the Proxmox API", port, host, EnvURL, cfg.URL)
	case pe != nil && pe.Timeout():
		return fmt.Sprintf("%s:%s took the request but the API did not answer in time: pveproxy may be hung or overloaded (on the host: systemctl status pveproxy); on a slow link, raise the limits with %s",
			host, port, netx.EnvTimeouts)
	}
	return fmt.Sprintf("check %s=%s: the host must be reachable on port %s", EnvURL, cfg.URL, port)
}

// truncated shortens a fingerprint to its first eight bytes, enough to
// tell two apart.
func truncated(fp string) string {
	const keep = len("AA:BB:CC:DD:EE:FF:00:11")
	if len(fp) <= keep {
		return fp
	}
	return fp[:keep] + "…"
}
