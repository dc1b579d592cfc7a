package proxmox

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"regexp"
	"strings"

	"github.com/wdiazux/infra/lib/netx"
)

// Environment variables Config reads.
const (
	EnvURL            = "PROXMOX_URL"
	EnvTokenID        = "PROXMOX_TOKEN_ID"
	EnvTokenSecret    = "PROXMOX_TOKEN_SECRET"
	EnvUser           = "PROXMOX_USER"  // the predecessor's token ID variable
	EnvToken          = "PROXMOX_TOKEN" // the predecessor's token secret variable
	EnvCAFile         = "PROXMOX_CA_FILE"
	EnvTLSFingerprint = "PROXMOX_TLS_FINGERPRINT"
	EnvTLSInsecure    = "PROXMOX_TLS_INSECURE"
)

// Config is how to reach a Proxmox VE API.
type Config struct {
	// URL is the API base, https://host:8006/api2/json (the /api2/json
	// suffix is added when missing).
	URL string
	// TokenID is user@realm!tokenname.
	TokenID string
	// TokenSecret is the token's secret. It is never logged.
	TokenSecret string
	// CAFile is a PEM file of CA certificates to trust instead of the system's.
	CAFile string
	// Fingerprint pins the server certificate by its SHA-256 fingerprint
	// (as PVE shows it, AA:BB:..., or plain hex), for self-signed hosts.
	Fingerprint string
	// InsecureSkipVerify turns TLS verification off. It is logged as a warning.
	InsecureSkipVerify bool
	// Timeouts are the time limits of each request (zero fields take
	// netx's defaults).
	Timeouts netx.Timeouts
}

var tokenIDRe = regexp.MustCompile(`^[^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+![A-Za-z][A-Za-z0-9.\-_]+$`)

// ConfigFromEnv reads the connection from the environment: PROXMOX_URL, and
// the token as PROXMOX_TOKEN_ID + PROXMOX_TOKEN_SECRET, or the predecessor's
// PROXMOX_USER (user@realm!name) + PROXMOX_TOKEN. TLS: PROXMOX_CA_FILE,
// PROXMOX_TLS_FINGERPRINT, PROXMOX_TLS_INSECURE=1. Time limits:
// INFRA_NET_TIMEOUTS (netx.EnvTimeouts).
func ConfigFromEnv() (Config, error) {
	return configFrom(os.Getenv)
}

func configFrom(getenv func(string) string) (Config, error) {
	cfg := Config{
		URL:         getenv(EnvURL),
		TokenID:     getenv(EnvTokenID),
		TokenSecret: getenv(EnvTokenSecret),
		CAFile:      getenv(EnvCAFile),
		Fingerprint: getenv(EnvTLSFingerprint),
	}
	if cfg.TokenID == "" && cfg.TokenSecret == "" {
		cfg.TokenID, cfg.TokenSecret = getenv(EnvUser), getenv(EnvToken)
		// PROXMOX_TOKEN may hold the whole "user@realm!name=secret".
		if id, secret, ok := strings.Cut(cfg.TokenSecret, "="); ok && tokenIDRe.MatchString(id) {
			if cfg.TokenID == "" || cfg.TokenID == id {
				cfg.TokenID, cfg.TokenSecret = id, secret
			}
		}
	}
	// Limits not named stay zero: New gives them their defaults.
	t, err := netx.ParseTimeouts(getenv(netx.EnvTimeouts), netx.Timeouts{})
	if err != nil {
		return cfg, err
	}
	cfg.Timeouts = t
	switch v := strings.ToLower(getenv(EnvTLSInsecure)); v {
	case "", "0", "false", "no":
	case "1", "true", "yes":
		cfg.InsecureSkipVerify = true
	default:
		return cfg, fmt.Errorf("%s=%q: use 1 to skip TLS verification or leave it unset", EnvTLSInsecure, v)
	}
	return cfg, cfg.Validate()
}

// Validate checks the connection settings and says which to fix.
func (c *Config) Validate() error {
	if c.URL == "" {
		return fmt.Errorf("%s is not set: export %s=https://<host>:8006/api2/json", EnvURL, EnvURL)
	}
	u, err := url.Parse(c.URL)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%s=%q is not a URL: use https://<host>:8006/api2/json", EnvURL, c.URL)
	}
	if u.Scheme != "https" {
		return fmt.Errorf("%s=%q must use https: Proxmox serves its API over TLS (port 8006)", EnvURL, c.URL)
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/api2/json") + "/api2/json"
	c.URL = u.String()
	if c.TokenID == "" || c.TokenSecret == "" {
		return fmt.Errorf("no API token: set %s (user@realm!tokenname) and %s, or the older %s and %s; create the token under Datacenter → Permissions → API Tokens",
			EnvTokenID, EnvTokenSecret, EnvUser, EnvToken)
	}
	if !tokenIDRe.MatchString(c.TokenID) {
		return fmt.Errorf("token ID %q is not user@realm!tokenname (%s or %s)", c.TokenID, EnvTokenID, EnvUser)
	}
	if c.Fingerprint != "" {
		if _, err := parseFingerprint(c.Fingerprint); err != nil {
			return fmt.Errorf("%s: %w", EnvTLSFingerprint, err)
		}
	}
	return nil
}

// LogValue shows the connection without the secret.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("url", c.URL), slog.String("token_id", c.TokenID), slog.String("token_secret", redacted(c.TokenSecret)))
}

// String shows the connection without the secret.
func (c Config) String() string {
	return fmt.Sprintf("%s as %s (secret %s)", c.URL, c.TokenID, redacted(c.TokenSecret))
}

func redacted(secret string) string {
	if secret == "" {
		return "unset"
	}
	return "redacted"
}

// parseFingerprint reads a SHA-256 fingerprint, AA:BB:... or hex.
func parseFingerprint(s string) ([]byte, error) {
	b, err := hex.DecodeString(strings.ReplaceAll(strings.TrimSpace(s), ":", ""))
	if err != nil || len(b) != sha256.Size {
		return nil, fmt.Errorf("%q is not a SHA-256 fingerprint (32 bytes, e.g. AB:CD:... as shown under the node's Certificates)", s)
	}
	return b, nil
}

// formatFingerprint writes a fingerprint as PVE shows it, AA:BB:...
func formatFingerprint(b []byte) string {
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = fmt.Sprintf("%02X", x)
	}
	return strings.Join(parts, ":")
}

// FingerprintError is a host whose certificate is not the one pinned with
// PROXMOX_TLS_FINGERPRINT.
type FingerprintError struct {
	// Pinned is the fingerprint asked for, Presented the host's; both
	// AA:BB:..., as PVE shows them.
	Pinned, Presented string
}

// Error shows both fingerprints.
func (e *FingerprintError) Error() string {
	return fmt.Sprintf("server certificate fingerprint %s does not match the pinned %s (%s)", e.Presented, e.Pinned, EnvTLSFingerprint)
}

// hostPort is the host and port the URL reaches (443 when it names none).
func (c Config) hostPort() (host, port string) {
	u, err := url.Parse(c.URL)
	if err != nil {
		return c.URL, ""
	}
	port = u.Port()
	if port == "" {
		port = "443"
	}
	return u.Hostname(), port
}

// tlsConfig builds the TLS settings: system roots, a CA file, a pinned
// fingerprint, or (explicitly) no verification.
func (c Config) tlsConfig() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read %s %s: %w", EnvCAFile, c.CAFile, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s %s holds no PEM certificate", EnvCAFile, c.CAFile)
		}
		tc.RootCAs = pool
	}
	switch {
	case c.Fingerprint != "":
		want, err := parseFingerprint(c.Fingerprint)
		if err != nil {
			return nil, err
		}
		// The pin replaces chain verification: a self-signed PVE
		// certificate has no chain, but its fingerprint is exact.
		tc.InsecureSkipVerify = true //nolint:gosec // verified by VerifyConnection below
		tc.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return fmt.Errorf("server presented no certificate")
			}
			got := sha256.Sum256(cs.PeerCertificates[0].Raw)
			if string(got[:]) != string(want) {
				return &FingerprintError{Pinned: formatFingerprint(want), Presented: formatFingerprint(got[:])}
			}
			return nil
		}
	case c.InsecureSkipVerify:
		tc.InsecureSkipVerify = true //nolint:gosec // explicitly asked for, and logged
	}
	return tc, nil
}
