package ansible_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/testtool"
	"github.com/wdiazux/infra/lib/ansible"
	"github.com/wdiazux/infra/lib/inventory"
)

var (
	homelabFile = filepath.Join("..", "..", "homelab.yaml")
	ansibleDir  = filepath.Join("..", "..", "ansible")
)

func loadInventory(t *testing.T) *inventory.Inventory {
	t.Helper()
	inv, err := inventory.Load(homelabFile)
	require.NoError(t, err)
	return inv
}

func TestInventory(t *testing.T) {
	inv := loadInventory(t)
	out, err := ansible.Inventory(inv, "")
	require.NoError(t, err)
	require.Equal(t, `# Generated from homelab.yaml.
# Do not edit: change homelab.yaml. NixOS VMs are configured declaratively and are not here.
all:
  children:
    linux:
      children:
        arch: {}
        debian:
          hosts:
            debian-vm:
              ansible_host: 10.10.2.52
              ansible_user: debian
        ubuntu:
          hosts:
            ubuntu-vm:
              ansible_host: 10.10.2.51
              ansible_user: ubuntu
    windows: {}
`, string(out), "only the enabled VMs, grouped by OS")

	// Enabling every VM puts Arch and Windows in, never NixOS.
	for i := range inv.VMs {
		inv.VMs[i].Enabled = true
	}
	out, err = ansible.Inventory(inv, "")
	require.NoError(t, err)
	require.Contains(t, string(out), "        arch:\n          hosts:\n            arch-vm:\n              ansible_host: 10.10.2.53\n              ansible_user: arch\n")
	require.Contains(t, string(out), "    windows:\n      hosts:\n        windows-vm:\n          ansible_host: 10.10.2.55\n          ansible_user: Administrator\n")
	require.NotContains(t, string(out), "nixos")
}

// TestInventoryNamesItsGenerator: the header names what generates the
// file, as its caller says.
func TestInventoryNamesItsGenerator(t *testing.T) {
	out, err := ansible.Inventory(loadInventory(t), "infra-tool ansible-inventory (every run makes it again)")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(out), "# Generated from homelab.yaml by infra-tool ansible-inventory (every run makes it again).\n# Do not edit: change homelab.yaml."), string(out))
}

func TestWriteInventory(t *testing.T) {
	dir := t.TempDir()
	r := ansible.New(dir, ansible.WithGeneratedBy("infra-tool ansible-inventory"))
	path, changed, err := r.WriteInventory(loadInventory(t))
	require.NoError(t, err)
	require.True(t, changed)
	require.Equal(t, filepath.Join(dir, ansible.InventoryFile), path)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(data), "# Generated from homelab.yaml by infra-tool ansible-inventory.\n"), string(data))
	_, changed, err = r.WriteInventory(loadInventory(t))
	require.NoError(t, err)
	require.False(t, changed, "an unchanged inventory is not rewritten")
}

func TestParseRecap(t *testing.T) {
	out := "TASK [x] ***\nok: [a]\n\nPLAY RECAP *********\n" +
		"debian-vm                  : ok=12   changed=3    unreachable=0    failed=1    skipped=2    rescued=0    ignored=1   \n" +
		"ubuntu-vm                  : ok=0    changed=0    unreachable=1    failed=0    skipped=0    rescued=0    ignored=0\n"
	require.Equal(t, []ansible.Recap{
		{Host: "debian-vm", OK: 12, Changed: 3, Failed: 1, Skipped: 2, Ignored: 1},
		{Host: "ubuntu-vm", Unreachable: 1},
	}, ansible.ParseRecap(out))
	require.Empty(t, ansible.ParseRecap("debian-vm : ok=1 changed=0\n"), "only lines under PLAY RECAP count")
}

func TestPlaybooks(t *testing.T) {
	pbs, err := ansible.New(ansibleDir).Playbooks()
	require.NoError(t, err)
	require.Equal(t, []string{"day1_all_vms", "day1_arch_baseline", "day1_debian_baseline", "day1_ubuntu_baseline",
		"day1_windows_baseline", "packer_provision"}, pbs)
}

// fakePlaybook puts an ansible-playbook on PATH that records its arguments
// and prints a recap, to check what Run passes and how it reads results.
func fakePlaybook(t *testing.T, exit int, recap string) string {
	t.Helper()
	testtool.Require(t, "sh")
	bin := t.TempDir()
	args := filepath.Join(bin, "args")
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" > " + args + "\necho \"config=$ANSIBLE_CONFIG\" >> " + args +
		"\nprintf 'PLAY RECAP ***\\n" + recap + "\\n'\nexit " + string(rune('0'+exit)) + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(bin, "ansible-playbook"), []byte(script), 0o755))
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return args
}

// copyAnsible copies the ansible directory, without a generated inventory.
func copyAnsible(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS(ansibleDir)))
	require.NoError(t, os.RemoveAll(filepath.Join(dir, ansible.InventoryFile)))
	return dir
}

func TestRun(t *testing.T) {
	dir := copyAnsible(t)
	var out bytes.Buffer
	r := ansible.New(dir, ansible.WithOutput(&out))

	_, err := r.Run(t.Context(), "day1_all_vms", ansible.RunOptions{})
	require.ErrorIs(t, err, ansible.ErrNoInventory)
	require.ErrorIs(t, err, fs.ErrNotExist)
	require.ErrorContains(t, err, "no generated inventory: "+filepath.Join(dir, ansible.InventoryFile)+": ")
	require.ErrorContains(t, err, "; write it from the inventory first (WriteInventory)")

	_, _, err = r.WriteInventory(loadInventory(t))
	require.NoError(t, err)
	_, err = r.Run(t.Context(), "day2", ansible.RunOptions{})
	require.ErrorIs(t, err, ansible.ErrUnknownPlaybook)
	require.ErrorContains(t, err, "the playbooks are day1_all_vms, day1_arch_baseline")

	args := fakePlaybook(t, 0, "debian-vm : ok=3 changed=0 unreachable=0 failed=0 skipped=0 rescued=0 ignored=0")
	recaps, err := r.Run(t.Context(), "day1_all_vms.yml", ansible.RunOptions{Limit: "debian", Check: true, Diff: true,
		ExtraVars: map[string]string{"b": "2", "a": "1"}})
	require.NoError(t, err)
	require.Equal(t, []ansible.Recap{{Host: "debian-vm", OK: 3}}, recaps)
	got, err := os.ReadFile(args)
	require.NoError(t, err)
	cfg, err := filepath.Abs(filepath.Join(dir, "ansible.cfg"))
	require.NoError(t, err)
	require.Equal(t, strings.Join([]string{"playbooks/day1_all_vms.yml", "--limit", "debian", "--check", "--diff", "-e", "a=1", "-e", "b=2", "config=" + cfg}, "\n")+"\n", string(got))

	fakePlaybook(t, 2, "debian-vm : ok=3 changed=1 unreachable=0 failed=1 skipped=0 rescued=0 ignored=0")
	_, err = r.Run(t.Context(), "day1_debian_baseline", ansible.RunOptions{})
	var re *ansible.RunError
	require.ErrorAs(t, err, &re)
	require.ErrorContains(t, err, "debian-vm (failed=1 unreachable=0)")
}

func TestLint(t *testing.T) {
	for _, tool := range []string{"ansible-playbook", "ansible-lint", "yamllint"} {
		testtool.Require(t, tool)
	}
	var out bytes.Buffer
	dir := copyAnsible(t)
	r := ansible.New(dir, ansible.WithOutput(&out))
	require.NoError(t, r.Lint(t.Context(), loadInventory(t)), out.String())
	require.Contains(t, out.String(), "Passed with production profile")

	// A task without a name or a fully qualified module fails the linters,
	// which name the file.
	bad := filepath.Join(dir, "roles", "baseline", "tasks", "updates.yml")
	require.NoError(t, os.WriteFile(bad, []byte("---\n- shell: echo hi\n"), 0o644))
	out.Reset()
	err := r.Lint(t.Context(), loadInventory(t))
	require.Error(t, err)
	require.Contains(t, out.String(), "roles/baseline/tasks/updates.yml")
	require.Contains(t, out.String(), "fqcn")
}
