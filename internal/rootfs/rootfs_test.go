package rootfs_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/rootfs"
)

func TestMirror(t *testing.T) {
	if _, err := os.Stat("/etc/apt"); err != nil {
		t.Skip("not a Debian system: no apt sources to read the mirror from")
	}
	m, err := rootfs.Mirror()
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(m, "http"), m)
	require.True(t, strings.HasSuffix(strings.TrimSuffix(m, "/"), "/debian"), m)
}
