package infra_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/images"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

// TestImagesImportRefusesAnUnknownOS: the argument is checked before the
// inventory or any host is read, and the message lists what is accepted.
func TestImagesImportRefusesAnUnknownOS(t *testing.T) {
	for _, arg := range []string{"windows", "fedora", "ALL"} {
		out, code := mage(t, "images:import", arg)
		require.Equal(t, 1, code, out)
		require.Contains(t, out, `images:import "`+arg+`": want one of arch, debian, nixos, ubuntu or all`)
		require.Contains(t, out, "run: go run mage.go images:import all")
	}
}

// baseVM puts a finished base VM on the host as images:import leaves it:
// a template tagged infra-managed whose description carries the marker of
// build serial; and records the build in the lock file next to the
// inventory.
func baseVM(t *testing.T, h importHost, osName, release string, vmid int, serial string) {
	t.Helper()
	id, _ := h.sim.Token()
	client, err := proxmox.New(proxmox.Config{URL: h.sim.URL(), TokenID: id, TokenSecret: h.secret, Fingerprint: h.sim.Fingerprint()},
		proxmox.WithPollInterval(2*time.Millisecond))
	require.NoError(t, err)
	ctx := context.Background()
	_, err = client.CreateVM(ctx, "pve", vmid, proxmox.Params{"name": osName + "-base", "scsi0": "local-zfs:1", "tags": "infra-managed;" + osName + ";base",
		"description": "base VM\ninfra-image: " + osName + "\nrelease: " + release + "\nbuild: " + serial + "\n"}, nil)
	require.NoError(t, err)
	require.NoError(t, client.ConvertToTemplate(ctx, "pve", vmid))
	lock, err := images.LoadLockFile(filepath.Join(h.dir, images.DefaultLockFile))
	require.NoError(t, err)
	require.NoError(t, lock.Record(images.LockedBuild{OS: osName, Release: release, Serial: serial, File: osName + ".qcow2", Algorithm: "sha256", Checksum: strings.Repeat("ab", 32)}))
}

// TestImagesImportTargetNoOp: a base VM that holds the build images.lock
// records is left alone, with or without -dryrun, and no publisher is
// asked (this build has none to ask: it would fail if it tried).
func TestImagesImportTargetNoOp(t *testing.T) {
	h := newImportHost(t, pvesim.SetupFor(mustInventory(t), false))
	baseVM(t, h, "ubuntu", "24.04", 9100, "20261120")
	for _, args := range [][]string{{"images:import", "ubuntu"}, {"images:import", "ubuntu", "-dryrun"}} {
		mark := len(h.sim.Requests())
		out, code := mageEnv(t, h.env, append(args, "-file="+h.file)...)
		require.Equal(t, 0, code, out)
		require.Regexp(t, `ubuntu +24\.04 +9100 ubuntu-24-04-base +20261120 +unchanged +0`, out)
		require.Contains(t, out, "ubuntu  ✓ unchanged")
		require.Empty(t, pvesim.Mutating(h.sim.Requests()[mark:]), "nothing sent that changes anything")
		require.NotContains(t, out, h.secret)
	}
}

// TestImagesImportTargetAll: with every base VM holding its locked build,
// all is a no-op, with one line per OS and one row each in the table.
func TestImagesImportTargetAll(t *testing.T) {
	h := newImportHost(t, pvesim.SetupFor(mustInventory(t), false))
	for _, b := range []struct {
		os, release, serial string
		vmid                int
	}{{"arch", "rolling", "20261101.412345", 9300}, {"debian", "13", "20261118-2301", 9110}, {"nixos", "25.11", "25.11.1234.abcdef0-312345678", 9200}, {"ubuntu", "24.04", "20261120", 9100}} {
		baseVM(t, h, b.os, b.release, b.vmid, b.serial)
	}
	mark := len(h.sim.Requests())
	out, code := mageEnv(t, h.env, "images:import", "all", "-file="+h.file)
	require.Equal(t, 0, code, out)
	for _, line := range []string{"arch    ✓ unchanged\n", "debian  ✓ unchanged\n", "nixos   ✓ unchanged\n", "ubuntu  ✓ unchanged\n"} {
		require.Contains(t, out, line)
	}
	require.Regexp(t, `nixos +25\.11 +9200 nixos-25-11-base +25\.11\.1234\.abcdef0-312345678 +unchanged +0`, out)
	require.Empty(t, pvesim.Mutating(h.sim.Requests()[mark:]))
}

// TestImagesImportTargetSaysWhatToRun: a base VM ID held by a VM this
// project did not create is refused, naming the field and -replace.
func TestImagesImportTargetSaysWhatToRun(t *testing.T) {
	setup := pvesim.SetupFor(mustInventory(t), false)
	setup.VMs = []pvesim.VMSetup{{VMID: 9110, Name: "someones-vm", Tags: "prod"}}
	h := newImportHost(t, setup)
	baseVM(t, h, "ubuntu", "24.04", 9100, "20261120")
	lock, err := images.LoadLockFile(filepath.Join(h.dir, images.DefaultLockFile))
	require.NoError(t, err)
	require.NoError(t, lock.Record(images.LockedBuild{OS: "debian", Release: "13", Serial: "20261118-2301", File: "d.qcow2", Algorithm: "sha512", Checksum: strings.Repeat("cd", 64)}))
	data, err := os.ReadFile(filepath.Join(h.dir, images.DefaultLockFile))
	require.NoError(t, err)

	mark := len(h.sim.Requests())
	out, code := mageEnv(t, h.env, "images:import", "debian", "-file="+h.file)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, `images.debian.base_vm_id 9110 is held by VM 9110 "someones-vm" (tags prod), which this project did not create`)
	require.Contains(t, out, "run: go run mage.go images:import debian -replace")
	require.Empty(t, pvesim.Mutating(h.sim.Requests()[mark:]))
	after, err := os.ReadFile(filepath.Join(h.dir, images.DefaultLockFile))
	require.NoError(t, err)
	require.Equal(t, string(data), string(after), "the lock file is untouched")
}

func mustInventory(t *testing.T) *inventory.Inventory {
	t.Helper()
	inv, err := inventory.Load(inventory.DefaultFile)
	require.NoError(t, err)
	return inv
}
