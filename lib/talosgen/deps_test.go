package talosgen_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestConfigGenerationNeedsNoProxmoxClient: building configs needs the
// schematic's installer reference, which lib/talosfactory owns; it must not
// drag in the Proxmox client or the image importer.
func TestConfigGenerationNeedsNoProxmoxClient(t *testing.T) {
	out, err := exec.CommandContext(t.Context(), "go", "list", "-deps", ".").Output()
	require.NoError(t, err)
	var ours []string
	for _, dep := range strings.Fields(string(out)) {
		if rest, ok := strings.CutPrefix(dep, "github.com/wdiazux/infra/"); ok {
			ours = append(ours, rest)
		}
	}
	require.Contains(t, ours, "lib/talosfactory")
	for _, pkg := range []string{"lib/proxmox", "lib/images"} {
		require.NotContains(t, ours, pkg)
	}
}
