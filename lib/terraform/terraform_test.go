package terraform_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/tfaccept"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
	"github.com/wdiazux/infra/lib/terraform"
)

// homelab is the repository's inventory.
var homelab = filepath.Join("..", "..", inventory.DefaultFile)

const vmAddress = `module.node.proxmox_virtual_environment_vm.this`

// rig is a simulated host holding the Talos template and testdata/talos in
// a workspace whose providers come from the tool cache.
type rig struct {
	host  *tfaccept.Host
	ws    *tfaccept.Workspace
	tools tfaccept.Tools
	// log is what the runners logged and terraform printed.
	log bytes.Buffer
}

func newRig(t *testing.T) *rig {
	t.Helper()
	tools := tfaccept.RequireTools(t, homelab)
	host := tfaccept.NewTalosHost(t, homelab)
	ws := tools.Workspace(t, filepath.Join("testdata", "talos"), host.Sim.CACertPEM())
	require.NoError(t, ws.AddModule("proxmox-vm", filepath.Join("..", "..", "terraform", "modules", "proxmox-vm")))
	return &rig{host: host, ws: ws, tools: tools}
}

// runner runs the workspace as the talos stack with the inventory file inv.
func (r *rig) runner(t *testing.T, inv string) *terraform.Runner {
	t.Helper()
	id, secret := r.host.Sim.Token()
	run, err := terraform.New(context.Background(), t.TempDir(),
		terraform.WithBinary(r.tools.Terraform),
		terraform.WithLogger(slog.New(slog.NewTextHandler(&r.log, nil))),
		terraform.WithStdout(&r.log),
		terraform.WithStackDir(terraform.StackTalos, r.ws.Dir),
		terraform.WithEnv("TF_CLI_CONFIG_FILE="+filepath.Join(r.ws.Dir, ".terraformrc"), "SSL_CERT_DIR="+filepath.Join(r.ws.Dir, ".no-cert-dir")),
		terraform.WithProxmox(proxmox.Config{URL: r.host.Sim.URL(), TokenID: id, TokenSecret: secret, CAFile: filepath.Join(r.ws.Dir, ".ca.pem")}),
		terraform.WithInventoryFile(inv),
		terraform.WithHostCheck(r.host.Client, r.host.Inv))
	require.NoError(t, err)
	return run
}

// TestStackCycle plans, applies, re-plans, updates, refuses and then
// allows the destroy of the talos stand-in against pvesim with the real
// terraform and bpg provider.
func TestStackCycle(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	node := r.host.Inv.Talos.Nodes[0]
	run := r.runner(t, homelab)
	require.Equal(t, "terraform", run.Binary().Name)
	require.NotEmpty(t, run.Binary().Version)
	require.NoError(t, run.Init(ctx, terraform.StackTalos))

	// The dry run is the plan and writes nothing.
	before := len(r.host.TerraformLog())
	dry, err := run.Apply(ctx, terraform.StackTalos, terraform.ApplyOptions{DryRun: true})
	require.NoError(t, err)
	require.False(t, dry.Applied)
	require.Equal(t, []terraform.Change{{Address: vmAddress, Type: terraform.VMResourceType, Action: terraform.Create}}, dry.Summary.Changes)
	require.Equal(t, "1 to create, 0 to update, 0 to replace, 0 to destroy", dry.Summary.String())
	require.Empty(t, tfaccept.FormatRequests(pvesim.Mutating(r.host.TerraformLog()[before:])), "a dry run sends no mutating request")

	applied, err := run.Apply(ctx, terraform.StackTalos, terraform.ApplyOptions{})
	require.NoError(t, err)
	require.True(t, applied.Applied)
	require.Equal(t, dry.Summary, applied.Summary, "apply applies the plan the dry run showed")
	require.Equal(t, node.Name, r.host.VMConfig(t, node.VMID)["name"])

	outputs, err := run.Output(ctx, terraform.StackTalos)
	require.NoError(t, err)
	require.JSONEq(t, `110`, string(outputs["vm_id"].Value))
	require.JSONEq(t, `"`+node.Name+`"`, string(outputs["name"].Value))

	// No change: nothing to do, and nothing applied.
	before = len(r.host.TerraformLog())
	again, err := run.Apply(ctx, terraform.StackTalos, terraform.ApplyOptions{})
	require.NoError(t, err)
	require.True(t, again.Summary.NothingToDo())
	require.Equal(t, "nothing to do", again.Summary.String())
	require.False(t, again.Applied)
	require.Empty(t, tfaccept.FormatRequests(pvesim.Mutating(r.host.TerraformLog()[before:])))

	// Two more cores in a copy of the inventory: one in-place update.
	data, err := os.ReadFile(homelab)
	require.NoError(t, err)
	changed := filepath.Join(t.TempDir(), "homelab.yaml")
	require.NoError(t, os.WriteFile(changed, bytes.Replace(data, []byte("      cores: 8\n"), []byte("      cores: 10\n"), 1), 0o600))
	update, err := r.runner(t, changed).Apply(ctx, terraform.StackTalos, terraform.ApplyOptions{})
	require.NoError(t, err)
	require.True(t, update.Applied)
	require.Len(t, update.Summary.Changes, 1)
	require.Equal(t, terraform.Update, update.Summary.Changes[0].Action)
	require.Contains(t, update.Summary.Changes[0].Attributes, "cpu")
	require.Equal(t, "10", r.host.VMConfig(t, node.VMID)["cores"])

	// Destroy: refused without allowing it, nothing sent; then done.
	before = len(r.host.TerraformLog())
	_, err = run.Destroy(ctx, terraform.StackTalos, terraform.ApplyOptions{})
	var refused *terraform.DestroyRefusedError
	require.True(t, errors.As(err, &refused), "%v", err)
	require.Equal(t, []string{vmAddress}, refused.Resources)
	require.Empty(t, tfaccept.FormatRequests(pvesim.Mutating(r.host.TerraformLog()[before:])))
	gone, err := run.Destroy(ctx, terraform.StackTalos, terraform.ApplyOptions{AllowDestroy: true})
	require.NoError(t, err)
	require.True(t, gone.Applied)
	require.Equal(t, 1, gone.Summary.Count(terraform.Destroy))
	log := r.host.TerraformLog()
	_, err = r.host.Client.VMConfig(ctx, r.host.Inv.Proxmox.Node, node.VMID)
	require.ErrorContains(t, err, "does not exist")
	_, secret := r.host.Sim.Token()
	require.Contains(t, r.log.String(), "terraform plan summary")
	require.NotContains(t, r.log.String(), secret, "the secret is never logged")
	require.Empty(t, tfaccept.FormatRequests(tfaccept.Unexpected(log, []tfaccept.Expected{
		tfaccept.EFIDiskMoveToSameStorage(node.VMID), tfaccept.StatusAfterDestroy(node.VMID)})))
}

// TestHostCheck refuses an inventory the host cannot honour before any
// mutating request, naming the field.
func TestHostCheck(t *testing.T) {
	tools := tfaccept.RequireTools(t, homelab)
	inv, err := inventory.Load(homelab)
	require.NoError(t, err)
	tests := []struct {
		name  string
		setup func(*pvesim.Setup)
		stack terraform.Stack
		field string
	}{
		{name: "no talos template", setup: func(*pvesim.Setup) {}, stack: terraform.StackTalos, field: "talos.template_id"},
		{name: "no GPU mapping", setup: func(s *pvesim.Setup) { s.PCIMappings = nil }, stack: terraform.StackTalos, field: "talos.nodes[0].gpu.mapping"},
		{name: "disk storage without images", setup: func(s *pvesim.Setup) {
			for i := range s.Storages {
				if s.Storages[i].ID == inv.Proxmox.Storage.Disks {
					s.Storages[i].Content = []string{"rootdir"}
				}
			}
		}, stack: terraform.StackTalos, field: "proxmox.storage.disks"},
		{name: "no image template for a VM", setup: func(*pvesim.Setup) {}, stack: terraform.StackVMs, field: "images.ubuntu.template_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setup := pvesim.SetupFor(inv, true)
			tt.setup(&setup)
			sim, err := pvesim.New(pvesim.WithSetup(setup))
			require.NoError(t, err)
			t.Cleanup(sim.Close)
			id, secret := sim.Token()
			cfg := proxmox.Config{URL: sim.URL(), TokenID: id, TokenSecret: secret, Fingerprint: sim.Fingerprint()}
			client, err := proxmox.New(cfg)
			require.NoError(t, err)
			cfg.Fingerprint, cfg.InsecureSkipVerify = "", true
			dir := t.TempDir()
			run, err := terraform.New(context.Background(), dir, terraform.WithBinary(tools.Terraform), terraform.WithProxmox(cfg),
				terraform.WithStackDir(tt.stack, dir), terraform.WithHostCheck(client, inv))
			require.NoError(t, err)
			_, err = run.Apply(context.Background(), tt.stack, terraform.ApplyOptions{AllowDestroy: true})
			var hc *terraform.HostCheckError
			require.True(t, errors.As(err, &hc), "%v", err)
			require.Contains(t, fields(hc), tt.field, "%v", err)
			require.ErrorContains(t, err, tt.field+": ")
			require.Empty(t, tfaccept.FormatRequests(pvesim.Mutating(sim.Requests())), "nothing is changed")
		})
	}
}

func fields(e *terraform.HostCheckError) []string {
	var out []string
	for _, c := range e.Failed {
		out = append(out, c.Field)
	}
	return out
}
