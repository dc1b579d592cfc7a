package infra_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/testtool"
)

// TestAnsibleTargets runs the ansible targets through go run mage.go on a
// copy of the repository's inventory and ansible/ directory.
func TestAnsibleTargets(t *testing.T) {
	for _, tool := range []string{"ansible-playbook", "ansible-lint", "yamllint"} {
		testtool.Require(t, tool)
	}
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "homelab.yaml"), []byte(readFile(t, "homelab.yaml")), 0o644))
	require.NoError(t, os.CopyFS(filepath.Join(dir, "ansible"), os.DirFS("ansible")))
	require.NoError(t, os.RemoveAll(filepath.Join(dir, "ansible", "inventory", "hosts.yml")))
	file := "-file=" + filepath.Join(dir, "homelab.yaml")

	out, code := mage(t, "ansible:inventory", file)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "wrote "+filepath.Join(dir, "ansible", "inventory", "hosts.yml"))
	out, code = mage(t, "ansible:inventory", file)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "is up to date")
	hosts := readFile(t, filepath.Join(dir, "ansible", "inventory", "hosts.yml"))
	require.Contains(t, hosts, "ansible_host: 10.10.2.52")
	require.True(t, strings.HasPrefix(hosts, "# Generated from homelab.yaml by go run mage.go ansible:inventory (every ansible:run makes it again).\n"), "the header says how to make it again:\n%s", hosts)

	out, code = mage(t, "ansible:run", "day2_everything", file)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, `no such playbook "day2_everything"`)

	out, code = mage(t, "ansible:lint", file)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "ansible/ is clean")
}
