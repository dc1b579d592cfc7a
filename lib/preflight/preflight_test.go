package preflight_test

import (
	"bytes"
	"context"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/netx"
	"github.com/wdiazux/infra/lib/netx/netxtest"
	"github.com/wdiazux/infra/lib/preflight"
	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

func homelab(t *testing.T) *inventory.Inventory {
	t.Helper()
	inv, err := inventory.Load("../../homelab.yaml")
	require.NoError(t, err)
	return inv
}

// find returns the check whose name starts with prefix.
func find(t *testing.T, r preflight.Report, prefix string) preflight.Check {
	t.Helper()
	for _, c := range r.Checks {
		if strings.HasPrefix(c.Name, prefix) {
			return c
		}
	}
	t.Fatalf("no check %q in %+v", prefix, r.Checks)
	return preflight.Check{}
}

func TestPreflight(t *testing.T) {
	inv := homelab(t)
	plan := preflight.PlanFor(inv)
	ctx := context.Background()

	t.Run("a prepared host is all green", func(t *testing.T) {
		e := newEnv(t, pvesim.WithSetup(pvesim.SetupFor(inv, true)))
		r := preflight.Run(ctx, e.client, plan)
		require.True(t, r.OK(), "%+v", r.Failed())
		for _, c := range r.Checks {
			require.Equal(t, preflight.Pass, c.Status, "%s: %s", c.Name, c.Detail)
		}
		require.Equal(t, "17 planned IDs free: 110 151 152 153 154 155 9000 9100 9102 9110 9112 9200 9202 9300 9302 9400 9402", find(t, r, "VM IDs").Detail)
		var out bytes.Buffer
		require.NoError(t, r.WriteTable(&out))
		require.Contains(t, out.String(), "storage local holds import")
		require.NotContains(t, out.String(), "fix:")
	})

	t.Run("a fresh host lacks import content and the GPU mapping", func(t *testing.T) {
		e := newEnv(t, pvesim.WithSetup(pvesim.SetupFor(inv, false)))
		r := preflight.Run(ctx, e.client, plan)
		require.False(t, r.OK())
		imp := find(t, r, "storage local holds import")
		require.Equal(t, preflight.Fail, imp.Status)
		require.Equal(t, "content is backup,iso,vztmpl; import is missing (it is off by default on PVE)", imp.Detail)
		require.Equal(t, "Datacenter → Storage → local → Edit → Content: add Import", imp.Fix)
		gpu := find(t, r, "PCI mapping rtx4000")
		require.Equal(t, preflight.Fail, gpu.Status)
		require.Contains(t, gpu.Fix, "Datacenter → Resource Mappings → PCI Devices → Add: name rtx4000")
		require.Len(t, r.Failed(), 2)

		var out bytes.Buffer
		require.NoError(t, r.WriteTable(&out))
		require.Contains(t, out.String(), "FAIL storage local holds import\n  fix: Datacenter → Storage → local → Edit → Content: add Import")
	})

	t.Run("a token without the VM privileges", func(t *testing.T) {
		setup := pvesim.SetupFor(inv, true)
		setup.Tokens = []pvesim.Token{{ID: "infra@pve!limited", Secret: "limited-secret", ACL: []pvesim.ACL{
			{Path: "/", Role: "PVEAuditor", Propagate: true},
			{Path: "/storage", Role: "PVEDatastoreAdmin", Propagate: true},
		}}}
		e := newEnv(t, pvesim.WithSetup(setup))
		r := preflight.Run(ctx, e.client, plan)
		require.False(t, r.OK())
		vm := find(t, r, "privileges on /vms/9000")
		require.Equal(t, preflight.Fail, vm.Status)
		require.Equal(t, "missing VM.Allocate, VM.Config.CPU, VM.Config.Memory, VM.Config.HWType, VM.Config.Options, VM.Config.Disk, VM.Config.Network", vm.Detail)
		require.Contains(t, vm.Fix, "VM.Config.Disk for POST /nodes/pve/qemu (boot), PUT /nodes/pve/qemu/9000/resize: set the boot order and grow the system disk")
		require.Contains(t, vm.Fix, "pveum acl modify /vms --tokens 'infra@pve!limited' --roles "+preflight.RoleName)
		sdn := find(t, r, "privileges on /sdn/zones/localnetwork/vmbr0")
		require.Equal(t, preflight.Fail, sdn.Status)
		require.Equal(t, "missing SDN.Use", sdn.Detail)
		require.Equal(t, preflight.Pass, find(t, r, "privileges on /storage/local").Status)
	})

	t.Run("a planned VM ID taken by a VM that is not ours", func(t *testing.T) {
		setup := pvesim.SetupFor(inv, true)
		setup.VMs = []pvesim.VMSetup{{VMID: 9000, Name: "someones-vm"}, {VMID: 9102, Name: "ubuntu-2404-template", Tags: inventory.ManagedTag}}
		e := newEnv(t, pvesim.WithSetup(setup))
		r := preflight.Run(ctx, e.client, plan)
		require.False(t, r.OK())
		taken := find(t, r, "VM ID 9000")
		require.Equal(t, preflight.Fail, taken.Status)
		require.Equal(t, `planned for talos template but held by "someones-vm", which this project did not create`, taken.Detail)
		require.Equal(t, "free VM 9000 on the host, or change talos.template_id in homelab.yaml to a free ID", taken.Fix)
		ours := find(t, r, "VM ID 9102")
		require.Equal(t, preflight.Pass, ours.Status)
		require.Contains(t, ours.Detail, "already ours")
	})

	t.Run("PVE versions", func(t *testing.T) {
		for version, want := range map[string]preflight.Status{"9.1.2": preflight.Pass, "8.4.1": preflight.Warn, "8.3.0": preflight.Fail} {
			setup := pvesim.SetupFor(inv, true)
			setup.Version = version
			e := newEnv(t, pvesim.WithSetup(setup))
			r := preflight.Run(ctx, e.client, plan)
			require.Equal(t, want, find(t, r, "PVE version").Status, version)
			require.Equal(t, want != preflight.Fail, r.OK(), version)
		}
	})

	t.Run("a wrong token stops early with a fix", func(t *testing.T) {
		e := newEnv(t)
		cfg := e.cfg
		cfg.TokenSecret = "preflight-test-secret"
		r := preflight.Run(ctx, e.newClient(t, cfg), plan)
		require.Len(t, r.Checks, 1)
		require.Equal(t, preflight.Fail, r.Checks[0].Status)
		require.Contains(t, r.Checks[0].Fix, "PROXMOX_TOKEN_ID and PROXMOX_TOKEN_SECRET")
	})

	t.Run("a storage that cannot hold imports", func(t *testing.T) {
		zfsPlan := plan
		zfsPlan.ImportStorage = "local-zfs"
		e := newEnv(t, pvesim.WithSetup(pvesim.SetupFor(inv, true)))
		r := preflight.Run(ctx, e.client, zfsPlan)
		c := find(t, r, "storage local-zfs holds import")
		require.Equal(t, preflight.Fail, c.Status)
		require.Equal(t, "type zfspool cannot hold import content (only directory-like storages can)", c.Detail)
	})
}

// TestPreflightOnABlackHole: a host that accepts TCP and never answers
// TLS is one failed check, told before it waits, with the client's fix.
func TestPreflightOnABlackHole(t *testing.T) {
	s := netxtest.New(t, netxtest.AcceptOnly)
	cfg := proxmox.Config{URL: s.URL(), TokenID: "infra@pve!test", TokenSecret: "black-hole-secret", Fingerprint: s.Fingerprint(),
		Timeouts: netx.Timeouts{TLSHandshake: 50 * time.Millisecond}}
	c, err := proxmox.New(cfg)
	require.NoError(t, err)
	var events []preflight.Event
	ctx, cancel := context.WithTimeout(t.Context(), hangGuard)
	defer cancel()
	r := preflight.Run(ctx, c, preflight.PlanFor(homelab(t)), preflight.WithProgress(func(e preflight.Event) { events = append(events, e) }))
	require.NoError(t, ctx.Err(), "the hang guard ended the preflight, not the limit")
	require.NotEmpty(t, events)
	require.Equal(t, preflight.Event{Step: "TLS, API token and PVE version", Host: s.Addr()}, events[0], "the step is told before it runs")
	require.Len(t, r.Checks, 1)
	ch := r.Checks[0]
	require.Equal(t, "API connection", ch.Name)
	require.Equal(t, preflight.Fail, ch.Status)
	require.Contains(t, ch.Detail, s.Addr()+": TLS handshake did not finish within 50ms")
	_, port, _ := net.SplitHostPort(s.Addr())
	require.Contains(t, ch.Fix, "port "+port+" of 127.0.0.1 accepts TCP connections but does not answer TLS")
}

func TestPreflightTellsEachStepAsItStarts(t *testing.T) {
	inv := homelab(t)
	e := newEnv(t)
	var started []string
	preflight.Run(t.Context(), e.client, preflight.PlanFor(inv), preflight.WithProgress(func(ev preflight.Event) {
		if !ev.Done {
			require.Empty(t, ev.Checks)
			started = append(started, ev.Step+" on "+ev.Host)
		}
	}))
	host := e.sim.URL()[len("https://"):]
	host = host[:len(host)-len("/api2/json")]
	require.Equal(t, []string{
		"TLS, API token and PVE version on " + host, "node pve on " + host, "token privileges on " + host,
		"storages on " + host, "bridge vmbr0 on " + host, "planned VM IDs on " + host, "PCI mappings on " + host,
	}, started)
}

// TestPreflightAcceptsWhatPVEAcceptsInstead: download-url's rule takes
// Sys.Audit and Sys.Modify on / instead of Sys.AccessNetwork on the node
// (pve-storage API2/Storage/Status.pm download_url), listing a storage
// takes Datastore.Audit instead of Datastore.AllocateSpace.
func TestPreflightAcceptsWhatPVEAcceptsInstead(t *testing.T) {
	inv := homelab(t)
	plan := preflight.PlanFor(inv)
	setup := pvesim.SetupFor(inv, true)
	role := slices.DeleteFunc(preflight.MinimalRole(), func(p string) bool { return p == "Sys.AccessNetwork" })
	setup.Roles = map[string][]string{"Role": role, "Root": {"Sys.Audit", "Sys.Modify"}, "Audit": {"Datastore.Audit"}}
	setup.Tokens = []pvesim.Token{{ID: "infra@pve!alt", Secret: "alt", ACL: []pvesim.ACL{
		{Path: "/", Role: "Root", Propagate: false},
		{Path: "/nodes/pve", Role: "Role", Propagate: true},
		{Path: "/storage", Role: "Role", Propagate: true},
		{Path: "/vms", Role: "Role", Propagate: true},
		{Path: "/sdn/zones/localnetwork/vmbr0", Role: "Role", Propagate: true},
		{Path: "/mapping/pci/rtx4000", Role: "Role", Propagate: true},
	}}}
	e := newEnv(t, pvesim.WithSetup(setup))
	r := preflight.Run(context.Background(), e.client, plan)
	require.True(t, r.OK(), "%+v", r.Failed())

	setup.Tokens[0].ACL[2] = pvesim.ACL{Path: "/storage", Role: "Audit", Propagate: true}
	e = newEnv(t, pvesim.WithSetup(setup))
	r = preflight.Run(context.Background(), e.client, plan)
	disks := find(t, r, "privileges on /storage/local-zfs")
	require.Equal(t, "missing Datastore.AllocateSpace", disks.Detail, "new disks take nothing instead")
	imp := find(t, r, "privileges on /storage/local")
	require.NotContains(t, imp.Detail, "AllocateSpace", "Datastore.Audit is enough to see the import storage")
}
