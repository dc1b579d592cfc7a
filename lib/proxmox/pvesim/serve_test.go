package pvesim_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

// syncBuffer is a strings.Builder safe for Serve's goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServePrintsACAFile: Serve's export lines include PROXMOX_CA_FILE, a
// PEM file of the simulator's CA that exists while it runs (Terraform's
// provider trusts a CA, it cannot pin a fingerprint) and is gone after.
func TestServePrintsACAFile(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- pvesim.Serve(ctx, &out, pvesim.WithListenAddr("127.0.0.1:0")) }()
	line := regexp.MustCompile(`(?m)^export PROXMOX_CA_FILE=(\S+)$`)
	require.Eventually(t, func() bool { return line.MatchString(out.String()) }, 30*time.Second, 10*time.Millisecond, "no CA file line in:\n%s", out.String())
	file := line.FindStringSubmatch(out.String())[1]
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	block, _ := pem.Decode(data)
	require.NotNil(t, block, "the CA file holds PEM")
	ca, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	require.True(t, ca.IsCA)
	cancel()
	require.NoError(t, <-done)
	_, err = os.Stat(file)
	require.ErrorIs(t, err, os.ErrNotExist, "the CA file is removed when the simulator stops")
}
