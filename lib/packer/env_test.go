package packer_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/packer"
	"github.com/wdiazux/infra/lib/proxmox"
)

func TestConnectionEnv(t *testing.T) {
	base := proxmox.Config{URL: "https://pve:8006", TokenID: "infra@pve!packer", TokenSecret: "s3cret"}
	withCA, insecure, pinned := base, base, base
	withCA.CAFile = "/etc/pve-ca.pem"
	insecure.InsecureSkipVerify = true
	pinned.Fingerprint = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"
	common := map[string]string{
		"PKR_VAR_proxmox_url":          "https://pve:8006/api2/json",
		"PKR_VAR_proxmox_token_id":     "infra@pve!packer",
		"PKR_VAR_proxmox_token_secret": "s3cret",
	}
	with := func(extra map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range common {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	tests := []struct {
		name    string
		cfg     proxmox.Config
		want    map[string]string
		wantErr string
	}{
		{name: "system CAs: verified", cfg: base, want: with(map[string]string{"PKR_VAR_insecure_skip_tls_verify": "false"})},
		{name: "a CA file: verified against it", cfg: withCA,
			want: with(map[string]string{"PKR_VAR_insecure_skip_tls_verify": "false", "SSL_CERT_FILE": "/etc/pve-ca.pem"})},
		{name: "insecure only when asked", cfg: insecure, want: with(map[string]string{"PKR_VAR_insecure_skip_tls_verify": "true"})},
		{name: "a pinned fingerprint the plugin cannot check", cfg: pinned, wantErr: "pins the host certificate, which Packer's proxmox plugin cannot do: set PROXMOX_CA_FILE"},
		{name: "no token", cfg: proxmox.Config{URL: "https://pve:8006"}, wantErr: "no API token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := packer.ConnectionEnv(tt.cfg)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, env)
		})
	}
}
