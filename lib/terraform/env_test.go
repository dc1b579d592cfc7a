package terraform_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/terraform"
)

func TestProviderEnv(t *testing.T) {
	base := proxmox.Config{URL: "https://pve.example:8006/api2/json", TokenID: "infra@pve!tf", TokenSecret: "s3cret"}
	with := func(f func(*proxmox.Config)) proxmox.Config { c := base; f(&c); return c }
	tests := []struct {
		name   string
		cfg    proxmox.Config
		want   map[string]string
		errHas string
	}{
		{name: "system roots", cfg: base, want: map[string]string{
			"PROXMOX_VE_ENDPOINT": "https://pve.example:8006", "PROXMOX_VE_API_TOKEN": "infra@pve!tf=s3cret", "PROXMOX_VE_INSECURE": "false"}},
		{name: "CA file", cfg: with(func(c *proxmox.Config) { c.CAFile = "/etc/ca.pem" }), want: map[string]string{
			"PROXMOX_VE_ENDPOINT": "https://pve.example:8006", "PROXMOX_VE_API_TOKEN": "infra@pve!tf=s3cret", "PROXMOX_VE_INSECURE": "false",
			"SSL_CERT_FILE": "/etc/ca.pem"}},
		{name: "insecure only when asked", cfg: with(func(c *proxmox.Config) { c.InsecureSkipVerify = true }), want: map[string]string{
			"PROXMOX_VE_ENDPOINT": "https://pve.example:8006", "PROXMOX_VE_API_TOKEN": "infra@pve!tf=s3cret", "PROXMOX_VE_INSECURE": "true"}},
		{name: "no URL suffix", cfg: with(func(c *proxmox.Config) { c.URL = "https://pve.example:8006" }), want: map[string]string{
			"PROXMOX_VE_ENDPOINT": "https://pve.example:8006", "PROXMOX_VE_API_TOKEN": "infra@pve!tf=s3cret", "PROXMOX_VE_INSECURE": "false"}},
		{name: "fingerprint only", cfg: with(func(c *proxmox.Config) { c.Fingerprint = "AB" + ":CD" }), errHas: "PROXMOX_TLS_FINGERPRINT"},
		{name: "no token", cfg: with(func(c *proxmox.Config) { c.TokenSecret = "" }), errHas: "no API token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := terraform.ProviderEnv(tt.cfg)
			if tt.errHas != "" {
				require.ErrorContains(t, err, tt.errHas)
				require.NotContains(t, err.Error(), "s3cret")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, env)
		})
	}
}

func TestFingerprintError(t *testing.T) {
	fp := "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99"
	_, err := terraform.ProviderEnv(proxmox.Config{URL: "https://h:8006", TokenID: "a@pve!tf", TokenSecret: "x", Fingerprint: fp})
	var fe *terraform.FingerprintError
	require.True(t, errors.As(err, &fe))
	require.ErrorContains(t, err, "PROXMOX_CA_FILE")
}
