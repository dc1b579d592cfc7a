package proxmox_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestClientDoesNotKnowTheInventory: the client is a Proxmox VE client any
// Go program may import; planning from the inventory lives in
// lib/preflight, which imports both.
func TestClientDoesNotKnowTheInventory(t *testing.T) {
	out, err := exec.CommandContext(t.Context(), "go", "list", "-deps", ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	var deps []string
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/wdiazux/infra/") {
			deps = append(deps, dep)
		}
	}
	require.Contains(t, deps, "github.com/wdiazux/infra/lib/proxmox/pve", "the dependencies were listed")
	require.NotContains(t, deps, "github.com/wdiazux/infra/lib/inventory")
}
