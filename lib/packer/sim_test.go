package packer_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/testsuite"
	"github.com/wdiazux/infra/internal/testtool"
	"github.com/wdiazux/infra/internal/toolchain"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/packer"
	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

// repo is the repository root: its packer/ templates and homelab.yaml.
var repo = filepath.Join("..", "..")

// tools are the real packer and the plugin directory of the tool cache.
type tools struct {
	packer, pluginDir string
}

// requireTools returns Packer and its plugins built into the tool cache,
// skipping outside CI when they are missing and failing in CI.
func requireTools(t *testing.T) tools {
	t.Helper()
	homelab := filepath.Join(repo, inventory.DefaultFile)
	cache, err := toolchain.CacheDir()
	require.NoError(t, err)
	var out tools
	for _, command := range []string{"packer", "packer-plugin-proxmox", "packer-plugin-ansible"} {
		tool, err := testsuite.GoTool(homelab, command)
		require.NoError(t, err)
		path := testtool.RequireGoTool(t, tool)
		if tool.PackerPlugin == "" {
			out.packer = path
			continue
		}
		out.pluginDir = toolchain.PackerPluginDir(cache)
		if _, ok := toolchain.InstalledPackerPlugin(out.pluginDir, tool); !ok {
			msg := fmt.Sprintf("%s is not installed in %s (the test suite's tools step installs it)", tool, out.pluginDir)
			if testtool.InCI() {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
	return out
}

// simHost is one simulated host for the package's builds.
type simHost struct {
	inv    *inventory.Inventory
	sim    *pvesim.Server
	client *proxmox.Client
	cfg    proxmox.Config
}

var (
	hostOnce sync.Once
	host     *simHost
	hostErr  error
)

// sharedHost starts the package's simulator once, shaped from homelab.yaml
// and prepared as proxmox:preflight leaves a host; builds run on it one
// after another.
func sharedHost(t *testing.T) *simHost {
	t.Helper()
	hostOnce.Do(func() {
		inv, err := inventory.Load(filepath.Join(repo, inventory.DefaultFile))
		if err != nil {
			hostErr = err
			return
		}
		sim, err := pvesim.New(pvesim.WithSetup(pvesim.SetupFor(inv, true)), pvesim.WithGuestBootDelay(200*time.Millisecond))
		if err != nil {
			hostErr = err
			return
		}
		ca := filepath.Join(os.TempDir(), fmt.Sprintf("pvesim-ca-%d.pem", os.Getpid()))
		if err := os.WriteFile(ca, sim.CACertPEM(), 0o644); err != nil {
			hostErr = err
			return
		}
		id, secret := sim.Token()
		cfg := proxmox.Config{URL: sim.URL(), TokenID: id, TokenSecret: secret, CAFile: ca}
		client, err := proxmox.New(cfg, proxmox.WithPollInterval(5*time.Millisecond))
		if err != nil {
			hostErr = err
			return
		}
		host = &simHost{inv: inv, sim: sim, client: client, cfg: cfg}
	})
	require.NoError(t, hostErr)
	return host
}

func TestMain(m *testing.M) {
	code := m.Run()
	if host != nil {
		host.sim.Close()
		_ = os.Remove(host.cfg.CAFile)
	}
	os.Exit(code)
}

// bootDrive is the drive images:import attaches an OS's image as: virtio0
// for NixOS (its image installs GRUB for /dev/vda), else scsi0.
func bootDrive(os string) string {
	if os == "nixos" {
		return "virtio0"
	}
	return "scsi0"
}

// baseVM creates the base VM of an image as images:import leaves it: a
// template tagged as ours, with its disk, cloud-init drive, serial console
// and the agent on, listed by name (pvestatd has run since). It and the
// template built from it are deleted when the test ends.
func (h *simHost) baseVM(t *testing.T, os string) {
	t.Helper()
	ctx := context.Background()
	img, px := h.inv.Images[os], h.inv.Proxmox
	drive := bootDrive(os)
	_, err := h.client.CreateVM(ctx, px.Node, img.BaseVMID, proxmox.Params{
		"name": os + "-" + strings.ReplaceAll(img.Release, ".", "-") + "-base", "machine": "q35", "cpu": "host", "cores": 2,
		"memory": "2048", "ostype": "l26", "scsihw": "virtio-scsi-single", drive: proxmox.Disk{Storage: px.Storage.Disks, SizeGiB: 4}.String(),
		"ide2": px.Storage.Disks + ":cloudinit", "boot": "order=" + drive, "serial0": "socket", "vga": "serial0",
		"net0": proxmox.NIC{Bridge: px.Bridge}.String(), "agent": "enabled=1", "tags": inventory.ManagedTag + ";" + os + ";base",
		"description": os + " base VM",
	}, nil)
	require.NoError(t, err)
	require.NoError(t, h.client.ConvertToTemplate(ctx, px.Node, img.BaseVMID))
	h.sim.Tick()
	t.Cleanup(func() { // the next test starts from an empty host
		for _, id := range []int{img.TemplateID, img.BaseVMID} {
			_, err := h.client.DeleteVM(ctx, px.Node, id, true)
			require.NoError(t, err)
		}
	})
}

// requireClean fails on an answer of 500 or more (501 included) among
// reqs, but for the one a real host gives too: before the clone, the
// runner reads the config of the template VM absent, which PVE answers
// with 500 "Configuration file ... does not exist".
func requireClean(t *testing.T, reqs []pvesim.Request, absent int) {
	t.Helper()
	cloned := false
	for _, r := range reqs {
		cloned = cloned || strings.HasSuffix(r.Path, "/clone")
		if !cloned && r.Method == "GET" && r.Path == fmt.Sprintf("/nodes/pve/qemu/%d/config", absent) && r.Status == 500 {
			continue
		}
		require.Less(t, r.Status, 500, "%s %s %v answered %d", r.Method, r.Path, r.Params, r.Status)
		require.NotZero(t, r.Status, "%s %s: connection reset", r.Method, r.Path)
	}
}

// runner is a Runner for the simulated host with the communicator off,
// its output, log and events captured.
func (h *simHost) runner(t *testing.T, tl tools, out, log *bytes.Buffer, events *[]packer.Event) *packer.Runner {
	t.Helper()
	r, err := packer.New(packer.WithBinary(tl.packer), packer.WithPluginDir(tl.pluginDir), packer.WithProxmox(h.cfg),
		packer.WithInventoryFile(filepath.Join(repo, inventory.DefaultFile)), packer.WithVar(packer.VarCommunicator, "none"),
		packer.WithOutput(out), packer.WithLogger(slog.New(slog.NewTextHandler(log, nil))),
		packer.WithEvents(func(e packer.Event) { *events = append(*events, e) }))
	require.NoError(t, err)
	return r
}

// TestBuildEveryLinuxTemplateAgainstTheSimulator is the acceptance
// for images:build: the real Packer and proxmox plugin build each Linux
// template against the simulator with the communicator off — clone,
// configure, template — with no answer of 500 or more, no provisioner
// run, the token never in packer's arguments, output or the log, and the
// template's config what the inventory and the template file say. A second
// run leaves the template alone; with Replace it is rebuilt.
func TestBuildEveryLinuxTemplateAgainstTheSimulator(t *testing.T) {
	tl := requireTools(t)
	h := sharedHost(t)
	ctx := context.Background()
	_, secret := h.sim.Token()
	for _, os := range []string{"ubuntu", "debian", "arch", "nixos"} {
		t.Run(os, func(t *testing.T) {
			h.baseVM(t, os)
			tpl, err := packer.FindTemplate(repo, os)
			require.NoError(t, err)
			var out, log bytes.Buffer
			var events []packer.Event
			r := h.runner(t, tl, &out, &log, &events)
			start := len(h.sim.Requests())

			res, err := r.BuildTemplate(ctx, h.client, packer.BuildRequest{Template: tpl, Inventory: h.inv})
			require.NoError(t, err, "output:\n%s", out.String())

			img := h.inv.Images[os]
			t.Logf("%s: packer build took %s against the simulator", os, res.Took.Round(10*time.Millisecond))
			require.Equal(t, packer.ActionBuilt, res.Action)
			require.Equal(t, img.TemplateID, res.VMID)
			reqs := h.sim.Requests()[start:]
			requireClean(t, reqs, img.TemplateID)
			cfg, err := h.client.VMConfig(ctx, h.inv.Proxmox.Node, img.TemplateID)
			require.NoError(t, err)
			px := h.inv.Proxmox
			require.Equal(t, "1", cfg.Get("template"))
			require.Equal(t, packer.TemplateName(os, img.Release), cfg.Get("name"))
			require.ElementsMatch(t, []string{"infra-managed", os, "template"}, strings.Split(cfg.Get("tags"), ";"), "no base tag")
			require.Equal(t, "virtio-scsi-single", cfg.Get("scsihw"), "not the plugin's lsi")
			require.Equal(t, "host", cfg.Get("cpu"), "not the plugin's kvm64")
			require.Equal(t, "2048", cfg.Get("memory"))
			require.Equal(t, "2", cfg.Get("cores"))
			require.Equal(t, "l26", cfg.Get("ostype"))
			require.Equal(t, "1", cfg.Get("agent"))
			require.Contains(t, cfg.Get("vga"), "serial0", "the serial console the cloud images log to")
			drive := bootDrive(os)
			require.Equal(t, "order="+drive, cfg.Get("boot"))
			require.Contains(t, cfg.Get("net0"), "bridge="+px.Bridge)
			require.True(t, strings.HasPrefix(cfg.Get(drive), px.Storage.Disks+":"), "%s %q on %s", drive, cfg.Get(drive), px.Storage.Disks)
			require.Contains(t, cfg.Get("ide2"), "cloudinit", "the base VM's cloud-init drive came with the clone")
			require.Empty(t, cfg.Get("sshkeys"), "the build's throw-away key is gone")
			require.Empty(t, cfg.Get("ciuser"))
			require.Contains(t, cfg.Get("description"), "built by Packer from packer/"+os+"/ (packer/clone.pkr.hcl)")
			require.Contains(t, cfg.Get("description"), fmt.Sprintf("base VM %d", img.BaseVMID))

			var steps []string
			for _, e := range events {
				require.Empty(t, e.Provisioner, "no provisioner runs with the communicator off: %q", e.Text())
				if len(steps) == 0 || steps[len(steps)-1] != e.Step {
					steps = append(steps, e.Step)
				}
			}
			require.Subset(t, steps, []string{"Creating VM", "Starting VM", "Stopping VM", "Converting VM to template"})
			for name, text := range map[string]string{"output": out.String(), "log": log.String()} {
				require.NotContains(t, text, secret, "the token secret is in packer's %s", name)
			}
			require.Contains(t, log.String(), "PKR_VAR_proxmox_token_secret", "the log names the variable, never its value")

			start = len(h.sim.Requests())
			again, err := r.BuildTemplate(ctx, h.client, packer.BuildRequest{Template: tpl, Inventory: h.inv})
			require.NoError(t, err)
			require.Equal(t, packer.ActionExists, again.Action)
			require.Empty(t, pvesim.Mutating(h.sim.Requests()[start:]), "a re-run changes nothing")

			start = len(h.sim.Requests())
			var after []int
			replaced, err := r.BuildTemplate(ctx, h.client, packer.BuildRequest{Template: tpl, Inventory: h.inv, Replace: true,
				AfterBuild: func(_ context.Context, node string, vmid int) error {
					cfg, err := h.client.VMConfig(ctx, node, vmid)
					require.NoError(t, err)
					require.Equal(t, "1", cfg.Get("template"), "after packer build")
					after = append(after, vmid)
					return nil
				}})
			require.NoError(t, err, "output:\n%s", out.String())
			require.Equal(t, []int{img.TemplateID}, after)
			require.Equal(t, packer.ActionBuilt, replaced.Action)
			requireClean(t, h.sim.Requests()[start:], 0)
		})
	}
}

// TestBuildCatchesWhatThePluginSwallows: the plugin's client tries a
// start or shutdown three times; when the host refuses every request (an
// HTTP error, no task), it goes on and reports success. The build's check
// reads the VM's tasks and refuses such a build, naming the step. A start
// task that fails once is retried (the build is good); one that fails
// every time, and a VM left running by refused shutdowns (the template
// conversion then fails), the plugin reports itself.
func TestBuildCatchesWhatThePluginSwallows(t *testing.T) {
	tl := requireTools(t)
	h := sharedHost(t)
	ctx := context.Background()
	failRequests := func(action string) func(vmid int) {
		return func(vmid int) {
			for range 3 {
				h.sim.FailNextRequest("POST", fmt.Sprintf("/nodes/pve/qemu/%d/status/%s", vmid, action), 500, action+" failed")
			}
		}
	}
	failTasks := func(n int) func(int) {
		return func(int) {
			for range n {
				h.sim.FailNextTask("qmstart", "start failed: QEMU exited with code 1")
			}
		}
	}
	tests := []struct {
		name   string
		inject func(vmid int)
		runErr bool // the plugin reports this one itself
		want   string
	}{
		{name: "start refused every try: swallowed, caught", inject: failRequests("start"),
			want: "no start (qmstart) of VM 9112 ended OK during the build"},
		{name: "a start task failed once: retried", inject: failTasks(1)},
		{name: "start tasks failed every try: reported", inject: failTasks(3), runErr: true,
			want: "debian.pkr.hcl exited with status 1: ==> golden.proxmox-clone.golden: Error starting VM: start failed: QEMU exited with code 1"},
		{name: "shutdown refused every try: the conversion fails", inject: failRequests("shutdown"), runErr: true,
			want: "Error converting VM to template: 500 you can't convert a VM to template if VM is running"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.baseVM(t, "debian")
			tpl, err := packer.FindTemplate(repo, "debian")
			require.NoError(t, err)
			var out, log bytes.Buffer
			var events []packer.Event
			r := h.runner(t, tl, &out, &log, &events)
			tt.inject(h.inv.Images["debian"].TemplateID)
			_, err = r.BuildTemplate(ctx, h.client, packer.BuildRequest{Template: tpl, Inventory: h.inv})
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.want, "packer's output:\n%s", out.String())
			if tt.runErr {
				var rerr *packer.RunError
				require.ErrorAs(t, err, &rerr)
				return
			}
			var verr *packer.VerifyError
			require.ErrorAs(t, err, &verr, "the plugin reported success")
		})
	}
}
