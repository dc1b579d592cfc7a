package terraform

import (
	"slices"
	"strings"

	"github.com/wdiazux/infra/lib/proxmox"
)

// The bpg/proxmox provider's environment variables ProviderEnv sets.
const (
	EnvProviderEndpoint = "PROXMOX_VE_ENDPOINT"
	EnvProviderToken    = "PROXMOX_VE_API_TOKEN"
	EnvProviderInsecure = "PROXMOX_VE_INSECURE"
	EnvSSLCertFile      = "SSL_CERT_FILE"
)

// FingerprintError is a connection pinned by fingerprint only: the
// provider cannot pin a certificate, so it needs a CA file.
type FingerprintError = proxmox.PinUnsupportedError

// ProviderEnv translates the Go client's connection into the provider's
// environment: PROXMOX_VE_ENDPOINT (the URL without /api2/json),
// PROXMOX_VE_API_TOKEN (id=secret), SSL_CERT_FILE for a CA file, and
// PROXMOX_VE_INSECURE=true only when cfg skips verification. The values
// hold the secret: pass them only to the child process.
func ProviderEnv(cfg proxmox.Config) (map[string]string, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	env := map[string]string{
		EnvProviderEndpoint: strings.TrimSuffix(strings.TrimSuffix(cfg.URL, "/"), "/api2/json"),
		EnvProviderToken:    cfg.TokenID + "=" + cfg.TokenSecret,
		EnvProviderInsecure: "false",
	}
	switch {
	case cfg.InsecureSkipVerify:
		env[EnvProviderInsecure] = "true"
	case cfg.CAFile != "":
		env[EnvSSLCertFile] = cfg.CAFile
	case cfg.Fingerprint != "":
		return nil, &FingerprintError{Tool: "the Terraform provider", Fingerprint: cfg.Fingerprint}
	}
	return env, nil
}

// mergeEnv is base (KEY=VALUE entries) with extra set over it, minus the
// variables terraform-exec sets itself.
func mergeEnv(base []string, extra map[string]string, prohibited func(map[string]string) []string) map[string]string {
	out := map[string]string{}
	for _, kv := range base {
		if k, v, ok := strings.Cut(kv, "="); ok {
			out[k] = v
		}
	}
	for k, v := range extra {
		out[k] = v
	}
	for _, k := range prohibited(out) {
		delete(out, k)
	}
	return out
}

// envNames lists the names of the variables of env a log line may show
// (never their values), sorted.
func envNames(env map[string]string) []string {
	names := make([]string, 0, len(env))
	for k := range env {
		if strings.HasPrefix(k, "PROXMOX") || strings.HasPrefix(k, "SSL_") || strings.HasPrefix(k, "TF_") {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	return names
}
