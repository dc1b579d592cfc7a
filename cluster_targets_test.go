package infra_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/clustersim"
	"github.com/wdiazux/infra/lib/inventory"
)

// TestClusterUpTarget runs cluster:up against a fresh simulated host: a dry
// run reads only and stops at the template it would create; then each
// step prints what it did, the node VMs step says it is not wired to
// Terraform yet with the command to run next, and a second run finds the
// template it imported and has nothing to do there.
func TestClusterUpTarget(t *testing.T) {
	h := clustersim.New(t, inventory.DefaultFile)
	out, code := mageEnv(t, h.Env(), "cluster:up", "-dryrun", "-file="+h.File)
	require.Equal(t, 0, code, out)
	require.Regexp(t, `(?m)^talos template: would create 9000 \(Talos v1\.12\.7\) with \d+ API call\(s\)$`, out)
	require.Contains(t, out, "\ndry run: nothing was changed; not checked, as they depend on talos template: node VMs, node configs, apply configs, bootstrap, kubeconfig, health\n")
	for _, r := range h.Sim.Requests() {
		require.Equal(t, "GET", r.Method, "the dry run changes nothing: %s %s", r.Method, r.Path)
	}

	out, code = mageEnv(t, h.Env(), "cluster:up", "-wait=1m", "-file="+h.File)
	require.Equal(t, 1, code, out)
	require.Regexp(t, `(?m)^preflight: ok, \d+ checks passed$`, out)
	require.Regexp(t, `(?m)^talos template: 9000 created, Talos v1\.12\.7, \d+ API call\(s\)$`, out)
	require.Contains(t, out, "node VMs: the terraform step is not wired yet")
	require.Contains(t, out, "\nrun: go run mage.go tf:plan talos    # what Terraform would change\nthen: go run mage.go cluster:up    # it resumes where it stopped\n")

	out, code = mageEnv(t, h.Env(), "cluster:up", "-file="+h.File)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "talos template: 9000 holds Talos v1.12.7, nothing to do\n")

	out, code = mageEnv(t, h.Env(), "cluster:up", "-wait=soon", "-file="+h.File)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, `-wait=soon: time: invalid duration "soon" (write it like 10m or 90s)`)
}
