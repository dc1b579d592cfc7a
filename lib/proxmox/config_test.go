package proxmox

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/netx"
)

func TestConfigFromEnv(t *testing.T) {
	const secret = "config-test-secret"
	tests := []struct {
		name    string
		env     map[string]string
		want    Config
		wantErr string
	}{
		{
			name: "token variables",
			env:  map[string]string{EnvURL: "https://10.10.2.2:8006", EnvTokenID: "infra@pve!ci", EnvTokenSecret: secret},
			want: Config{URL: "https://10.10.2.2:8006/api2/json", TokenID: "infra@pve!ci", TokenSecret: secret},
		},
		{
			name: "URL with the API path already",
			env:  map[string]string{EnvURL: "https://pve:8006/api2/json/", EnvTokenID: "infra@pve!ci", EnvTokenSecret: secret},
			want: Config{URL: "https://pve:8006/api2/json", TokenID: "infra@pve!ci", TokenSecret: secret},
		},
		{
			name: "predecessor variables",
			env:  map[string]string{EnvURL: "https://pve:8006/api2/json", EnvUser: "root@pam!terraform", EnvToken: secret},
			want: Config{URL: "https://pve:8006/api2/json", TokenID: "root@pam!terraform", TokenSecret: secret},
		},
		{
			name: "predecessor token holding the whole token",
			env:  map[string]string{EnvURL: "https://pve:8006", EnvToken: "root@pam!terraform=" + secret},
			want: Config{URL: "https://pve:8006/api2/json", TokenID: "root@pam!terraform", TokenSecret: secret},
		},
		{
			name: "TLS settings",
			env: map[string]string{EnvURL: "https://pve:8006", EnvTokenID: "ci@pve!tf", EnvTokenSecret: secret,
				EnvTLSFingerprint: strings.Repeat("AB:", 31) + "AB", EnvTLSInsecure: "1"},
			want: Config{URL: "https://pve:8006/api2/json", TokenID: "ci@pve!tf", TokenSecret: secret, Fingerprint: strings.Repeat("AB:", 31) + "AB", InsecureSkipVerify: true},
		},
		{
			name: "time limits for a slow link",
			env: map[string]string{EnvURL: "https://pve:8006", EnvTokenID: "ci@pve!tf", EnvTokenSecret: secret,
				netx.EnvTimeouts: "tls-handshake=30s,overall=5m"},
			want: Config{URL: "https://pve:8006/api2/json", TokenID: "ci@pve!tf", TokenSecret: secret,
				Timeouts: netx.Timeouts{TLSHandshake: 30 * time.Second, Overall: 5 * time.Minute}},
		},
		{name: "bad time limit", env: map[string]string{EnvURL: "https://pve:8006", EnvTokenID: "ci@pve!tf", EnvTokenSecret: secret, netx.EnvTimeouts: "tls=30s"},
			wantErr: `INFRA_NET_TIMEOUTS: "tls=30s" is not name=duration`},
		{name: "no URL", env: map[string]string{EnvTokenID: "ci@pve!tf", EnvTokenSecret: secret}, wantErr: "PROXMOX_URL is not set"},
		{name: "plain http", env: map[string]string{EnvURL: "http://pve:8006", EnvTokenID: "ci@pve!tf", EnvTokenSecret: secret}, wantErr: "must use https"},
		{name: "no token", env: map[string]string{EnvURL: "https://pve:8006"}, wantErr: "no API token: set PROXMOX_TOKEN_ID"},
		{name: "user instead of token", env: map[string]string{EnvURL: "https://pve:8006", EnvUser: "root@pam", EnvToken: secret}, wantErr: `token ID "root@pam" is not user@realm!tokenname`},
		{name: "bad fingerprint", env: map[string]string{EnvURL: "https://pve:8006", EnvTokenID: "ci@pve!tf", EnvTokenSecret: secret, EnvTLSFingerprint: "AB:CD"}, wantErr: "is not a SHA-256 fingerprint"},
		{name: "bad insecure value", env: map[string]string{EnvURL: "https://pve:8006", EnvTokenID: "ci@pve!tf", EnvTokenSecret: secret, EnvTLSInsecure: "maybe"}, wantErr: "PROXMOX_TLS_INSECURE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := configFrom(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				require.NotContains(t, err.Error(), secret, "errors never show the secret")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, cfg)
		})
	}
}

func TestConfigNeverShowsTheSecret(t *testing.T) {
	cfg := Config{URL: "https://pve:8006/api2/json", TokenID: "ci@pve!tf", TokenSecret: "super-secret-value"}
	require.NotContains(t, cfg.String(), "super-secret-value")
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("connecting", "proxmox", cfg)
	require.NotContains(t, buf.String(), "super-secret-value")
	require.Contains(t, buf.String(), "token_secret=redacted")
}

func TestLinePercent(t *testing.T) {
	tests := map[string]float64{
		"  32768K ........ ........ ........ ........ 64%  110M 0s":   64,
		" 98304K ....                                100% 90.2M=1.0s": 100,
		"transferred 1.0 GiB of 2.0 GiB (50.00%)":                     50,
		"downloading https://x/y.qcow2 to /var/lib/vz/import/y":       -1,
		"calculating checksum...OK, checksum verified":                -1,
		"load is 250%": -1,
	}
	for line, want := range tests {
		require.Equal(t, want, linePercent(line), line)
	}
}
