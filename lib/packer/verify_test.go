package packer_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/packer"
	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

// fakeAPI answers VMConfig from a map.
type fakeAPI struct {
	packer.API
	configs map[int]map[string]string
}

func (f fakeAPI) VMConfig(_ context.Context, node string, vmid int) (proxmox.VMConfig, error) {
	v, ok := f.configs[vmid]
	if !ok {
		return proxmox.VMConfig{}, fmt.Errorf("%w: VM %d on node %s", proxmox.ErrVMNotFound, vmid, node)
	}
	return proxmox.VMConfig{Values: v}, nil
}

func TestVerifyTemplate(t *testing.T) {
	tpl, err := packer.FindTemplate(repo, "ubuntu")
	require.NoError(t, err)
	img := inventory.Image{Release: "24.04", BaseVMID: 9100, TemplateID: 9102}
	good := func() map[string]string {
		return map[string]string{"template": "1", "name": "ubuntu-24-04-template", "tags": "infra-managed;template;ubuntu",
			"scsi0": "local-zfs:base-9102-disk-0,size=4G", "ide2": "local-zfs:vm-9102-cloudinit,media=cdrom",
			"agent": "enabled=1", "scsihw": "virtio-scsi-single", "cpu": "host"}
	}
	tests := []struct {
		name   string
		change func(map[string]string)
		absent bool
		want   []string
	}{
		{name: "as built", change: func(map[string]string) {}},
		{name: "agent as a bare 1, cpu with flags", change: func(c map[string]string) { c["agent"], c["cpu"] = "1", "cputype=host,flags=+aes" }},
		{name: "gone", absent: true, want: []string{"it does not exist"}},
		{name: "the plugin's defaults and a failed conversion", change: func(c map[string]string) {
			c["scsihw"], c["cpu"], c["template"] = "lsi", "kvm64", "0"
		}, want: []string{"it is not a template", `scsihw is "lsi", the template sets "virtio-scsi-single"`, `cpu is "kvm64", the template sets "host"`}},
		{name: "no disk, agent off, untagged, packer's name, the build key left", change: func(c map[string]string) {
			delete(c, "scsi0")
			c["agent"], c["tags"], c["name"], c["sshkeys"] = "0", "", "packer-6b08f3f8", "ssh-ed25519%20AAAA%20packer_6b08"
		}, want: []string{`name is "packer-6b08f3f8", not "ubuntu-24-04-template"`, `lack "infra-managed"`, "it has no disk",
			`the guest agent is off (agent "0")`, "its cloud-init still holds the build's SSH key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good()
			configs := map[int]map[string]string{}
			if !tt.absent {
				tt.change(cfg)
				configs[9102] = cfg
			}
			err := packer.VerifyTemplate(context.Background(), fakeAPI{configs: configs}, "pve", tpl, img)
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			var verr *packer.VerifyError
			require.ErrorAs(t, err, &verr)
			require.Equal(t, 9102, verr.VMID)
			for _, w := range tt.want {
				require.ErrorContains(t, err, w)
			}
			require.ErrorContains(t, err, tpl.File)
			require.ErrorContains(t, err, "rebuild with replace")
		})
	}
}

// TestBuildRefusesBeforeChangingAnything: a missing or foreign base VM, or
// a VM at the template's ID that is not our template, stops the build
// before any call that changes the host, naming the template file and the
// inventory field.
func TestBuildRefusesBeforeChangingAnything(t *testing.T) {
	tl := requireTools(t)
	h := sharedHost(t)
	ctx := context.Background()
	node := h.inv.Proxmox.Node
	tests := []struct {
		name    string
		os      string
		prepare func(t *testing.T)
		want    any
		msg     string
	}{
		{name: "no base VM", os: "arch", want: new(*packer.BaseVMError),
			msg: "packer/arch/arch.pkr.hcl clones base VM 9300 (images.arch.base_vm_id), which does not exist on node pve; import the base VM first"},
		{name: "a base VM that is no template", os: "debian", prepare: func(t *testing.T) {
			_, err := h.client.CreateVM(ctx, node, 9110, proxmox.Params{"name": "debian-13-base", "tags": inventory.ManagedTag}, nil)
			require.NoError(t, err)
			t.Cleanup(func() { _, _ = h.client.DeleteVM(ctx, node, 9110, true) })
		}, want: new(*packer.BaseVMError), msg: "which is not a template"},
		{name: "someone else's VM at the template ID", os: "ubuntu", prepare: func(t *testing.T) {
			_, err := h.client.CreateVM(ctx, node, 9102, proxmox.Params{"name": "keep-me"}, nil)
			require.NoError(t, err)
			t.Cleanup(func() { _, _ = h.client.DeleteVM(ctx, node, 9102, true) })
		}, want: new(*packer.ExistsError), msg: `VM 9102 "keep-me" there is not a template tagged infra-managed`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := h.client.VMConfig(ctx, node, h.inv.Images[tt.os].TemplateID); err == nil {
				t.Fatalf("another test left template %d", h.inv.Images[tt.os].TemplateID)
			}
			if tt.prepare != nil {
				tt.prepare(t)
			}
			tpl, err := packer.FindTemplate(repo, tt.os)
			require.NoError(t, err)
			r, err := packer.New(packer.WithBinary(tl.packer), packer.WithPluginDir(tl.pluginDir), packer.WithProxmox(h.cfg),
				packer.WithInventoryFile(filepath.Join(repo, inventory.DefaultFile)), packer.WithVar(packer.VarCommunicator, "none"))
			require.NoError(t, err)
			start := len(h.sim.Requests())
			_, err = r.BuildTemplate(ctx, h.client, packer.BuildRequest{Template: tpl, Inventory: h.inv})
			require.ErrorAs(t, err, tt.want)
			require.ErrorContains(t, err, tt.msg)
			require.Empty(t, pvesim.Mutating(h.sim.Requests()[start:]))
		})
	}
}

// listAPI is fakeAPI with a VM list that changes between calls.
type listAPI struct {
	fakeAPI
	lists [][]proxmox.VMInfo
	calls int
}

func (l *listAPI) VMs(context.Context) ([]proxmox.VMInfo, error) {
	i := min(l.calls, len(l.lists)-1)
	l.calls++
	return l.lists[i], nil
}

// TestBuildWaitsForTheBaseVMsName: the plugin finds the VM to clone by
// name in /cluster/resources, which pvestatd fills within 10 s of a new
// VM: the build waits for the name, refuses a name two VMs share, and
// gives up after ListWait, naming why.
func TestBuildWaitsForTheBaseVMsName(t *testing.T) {
	inv, err := inventory.Load(filepath.Join(repo, inventory.DefaultFile))
	require.NoError(t, err)
	tpl, err := packer.FindTemplate(repo, "debian")
	require.NoError(t, err)
	base := map[string]string{"name": "debian-13-base", "template": "1", "tags": "base;debian;infra-managed"}
	unnamed := []proxmox.VMInfo{{VMID: 9110, Status: "unknown"}}
	named := []proxmox.VMInfo{{VMID: 9110, Name: "debian-13-base"}}
	twice := []proxmox.VMInfo{{VMID: 9110, Name: "debian-13-base"}, {VMID: 120, Name: "debian-13-base"}}
	tests := []struct {
		name      string
		lists     [][]proxmox.VMInfo
		wait      time.Duration
		wantCalls int // 0: any number
		wantErr   string
	}{
		{name: "listed at once", lists: [][]proxmox.VMInfo{named}, wantCalls: 1},
		{name: "listed after a refresh", lists: [][]proxmox.VMInfo{unnamed, named}, wantCalls: 2},
		{name: "a name two VMs share", lists: [][]proxmox.VMInfo{twice}, wantCalls: 1, wantErr: `shares its name "debian-13-base" with VMs [120]; the plugin clones by name: rename those`},
		{name: "never listed", lists: [][]proxmox.VMInfo{unnamed}, wait: time.Millisecond, wantErr: `is not listed as "debian-13-base" in /cluster/resources after 1ms`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &listAPI{fakeAPI: fakeAPI{configs: map[int]map[string]string{9110: base}}, lists: tt.lists}
			r, err := packer.New(packer.WithBinary(fakePacker(t, t.TempDir(), "", 0)))
			require.NoError(t, err)
			wait := tt.wait
			if wait == 0 {
				wait = time.Minute
			}
			res, err := r.BuildTemplate(context.Background(), api, packer.BuildRequest{Template: tpl, Inventory: inv, DryRun: true, ListWait: wait})
			if tt.wantCalls > 0 {
				require.Equal(t, tt.wantCalls, api.calls)
			}
			if tt.wantErr != "" {
				var berr *packer.BaseVMError
				require.ErrorAs(t, err, &berr)
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, packer.ActionWouldBuild, res.Action)
			require.Equal(t, "debian-13-base", res.BaseName)
		})
	}
}
