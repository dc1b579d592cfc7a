package images_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/images"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/plan"
	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
	"github.com/wdiazux/infra/lib/talosfactory"
	"github.com/wdiazux/infra/lib/talosfactory/factorysim"
)

// rig is a simulated PVE host shaped like homelab.yaml (fresh: import
// content off), a stand-in factory, a client, and a lock file.
type rig struct {
	t       testing.TB
	inv     *inventory.Inventory
	sim     *pvesim.Server
	factory *factorysim.Server
	client  *proxmox.Client
	lock    string
}

func newRig(t testing.TB, setup ...func(*pvesim.Setup)) *rig {
	t.Helper()
	inv, err := inventory.Load("../../homelab.yaml")
	require.NoError(t, err)
	s := pvesim.SetupFor(inv, false)
	for _, f := range setup {
		if f != nil { // a table's row without setup
			f(&s)
		}
	}
	// The VM list lags as on PVE (pvestatd's 10 s): every test here runs
	// with the cache on, so a decision taken from the list would show.
	sim, err := pvesim.New(pvesim.WithSetup(s), pvesim.WithStatsInterval(pvesim.DefaultStatsInterval))
	require.NoError(t, err)
	t.Cleanup(sim.Close)
	f := factorysim.New(factorysim.WithPayload(2 << 20))
	t.Cleanup(f.Close)
	id, secret := sim.Token()
	client, err := proxmox.New(proxmox.Config{URL: sim.URL(), TokenID: id, TokenSecret: secret, Fingerprint: sim.Fingerprint()},
		proxmox.WithPollInterval(2*time.Millisecond), proxmox.WithRetry(proxmox.RetryPolicy{Attempts: 2, Base: time.Millisecond, Max: time.Millisecond}))
	require.NoError(t, err)
	return &rig{t: t, inv: inv, sim: sim, factory: f, client: client, lock: filepath.Join(t.TempDir(), "images.lock")}
}

// run imports as a new process would: a new factory client, the lock file
// read again.
func (r *rig) run(opts images.TalosImportOptions) (*images.TalosImportReport, error) {
	r.t.Helper()
	return r.runCtx(context.Background(), opts)
}

func (r *rig) runCtx(ctx context.Context, opts images.TalosImportOptions) (*images.TalosImportReport, error) {
	r.t.Helper()
	factory, err := talosfactory.New(r.factory.URL())
	require.NoError(r.t, err)
	lock, err := images.LoadLockFile(r.lock)
	require.NoError(r.t, err)
	return images.ImportTalos(ctx, r.inv, r.client, factory, lock, opts)
}

// mutations counts the requests that could change the host.
func (r *rig) mutations() int {
	n := 0
	for _, req := range r.sim.Requests() {
		if req.Method != http.MethodGet {
			n++
		}
	}
	return n
}

// vmIDs lists the IDs of the host's VMs. Only membership is read from
// /cluster/resources: it is live there (the cluster filesystem's vmlist),
// the other fields lag by up to pvestatd's interval.
func (r *rig) vmIDs() []int {
	r.t.Helper()
	vms, err := r.client.VMs(context.Background())
	require.NoError(r.t, err)
	var ids []int
	for _, v := range vms {
		ids = append(ids, v.VMID)
	}
	return ids
}

// requireClean asserts what a failed run may leave: no VM at all.
func (r *rig) requireClean() {
	r.t.Helper()
	require.Empty(r.t, r.vmIDs(), "no orphan VM, no half template")
}

// requireTemplate asserts the finished state from the VM's own config:
// exactly one VM, a template whose every disk is a base volume, no lock.
func (r *rig) requireTemplate() proxmox.VMConfig {
	r.t.Helper()
	require.Equal(r.t, []int{9000}, r.vmIDs())
	cfg, err := r.client.VMConfig(context.Background(), "pve", 9000)
	require.NoError(r.t, err)
	require.Equal(r.t, "1", cfg.Get("template"))
	require.Empty(r.t, cfg.Get("lock"))
	for _, k := range []string{"scsi0", "efidisk0"} {
		require.Regexp(r.t, `^local-zfs:base-9000-disk-\d+,`, cfg.Get(k), "no half template: %s is a base volume", k)
	}
	return cfg
}

func (r *rig) schematicID() string {
	id, err := talosfactory.SchematicFor(r.inv).ID()
	require.NoError(r.t, err)
	return id
}

func TestTalosImportEndToEnd(t *testing.T) {
	r := newRig(t)
	res, err := r.run(images.TalosImportOptions{Verify: true})
	require.NoError(t, err)
	require.Equal(t, plan.Create, res.Action)

	id := r.schematicID()
	require.Equal(t, id, res.SchematicID)
	img := r.factory.Image(id, "v1.12.7")
	sum := sha256.Sum256(img)
	wantSum := hex.EncodeToString(sum[:])
	require.Equal(t, wantSum, res.Checksum)

	cfg := r.requireTemplate()
	v := cfg.Values
	require.Equal(t, "talos-v1-12-7", v["name"])
	require.Equal(t, "q35", v["machine"])
	require.Equal(t, "ovmf", v["bios"])
	// PVE allocates the drives sorted by name: efidisk0 before scsi0.
	require.Equal(t, "local-zfs:base-9000-disk-0,efitype=4m,pre-enrolled-keys=0,size=1M", v["efidisk0"])
	require.Equal(t, "host", v["cpu"])
	require.Equal(t, "virtio-scsi-single", v["scsihw"])
	require.Equal(t, "local-zfs:base-9000-disk-1,discard=on,iothread=1,size=150G,ssd=1", v["scsi0"])
	require.Equal(t, "order=scsi0", v["boot"])
	require.Regexp(t, `^virtio=BC:24:11:[0-9A-F:]{8},bridge=vmbr0$`, v["net0"])
	require.Equal(t, "enabled=1", v["agent"])
	require.Equal(t, "infra-managed;kubernetes;talos;v1.12.7", v["tags"])
	require.Equal(t, "1", v["template"])
	require.Equal(t, "8", v["cores"])
	require.Equal(t, "32768", v["memory"])
	desc := v["description"]
	for _, want := range []string{"version: v1.12.7", "schematic: " + id, "sha256: " + wantSum,
		"source: " + r.factory.URL() + "/image/" + id + "/v1.12.7/nocloud-amd64.qcow2",
		"extensions: siderolabs/qemu-guest-agent, siderolabs/iscsi-tools, siderolabs/util-linux-tools, siderolabs/nonfree-kmod-nvidia-production, siderolabs/nvidia-container-toolkit-production"} {
		require.Contains(t, desc, want)
	}
	require.Equal(t, strings.TrimPrefix(r.factory.URL(), "http://")+"/installer/"+id+":v1.12.7", res.InstallerRef)
	require.Equal(t, "local:import/talos-v1.12.7-"+id[:12]+".qcow2", res.Volume)

	lock, err := os.ReadFile(r.lock)
	require.NoError(t, err)
	require.Contains(t, string(lock), "talos v1.12.7 "+id+" nocloud-amd64.qcow2 sha256:"+wantSum+"\n")

	t.Run("a re-run changes nothing", func(t *testing.T) {
		before, factoryBefore := r.mutations(), len(r.factory.Requests())
		again, err := r.run(images.TalosImportOptions{Verify: true})
		require.NoError(t, err)
		require.Equal(t, plan.Unchanged, again.Action)
		require.Empty(t, again.Calls)
		require.Equal(t, before, r.mutations(), "zero mutating API calls")
		require.Equal(t, factoryBefore, len(r.factory.Requests()), "not even the factory is asked")
	})
}

func TestTalosImportDryRun(t *testing.T) {
	r := newRig(t)
	res, err := r.run(images.TalosImportOptions{DryRun: true})
	require.NoError(t, err)
	require.True(t, res.DryRun)
	require.Equal(t, plan.Create, res.Action)
	require.Zero(t, r.mutations())
	require.Len(t, res.Calls, 6)
	require.Equal(t, "POST "+r.factory.URL()+"/schematics (schematic "+r.schematicID()[:12]+")", res.Calls[0].String())
	require.Equal(t, "PUT /storage/local content=backup,import,iso,vztmpl", res.Calls[1].String())
	require.Contains(t, res.Calls[2].String(), "/download-url url="+r.factory.URL())
	require.Contains(t, res.Calls[3].String(), "POST /nodes/pve/qemu vmid=9000 name=talos-v1-12-7 scsi0=local-zfs:0,")
	require.Contains(t, res.Calls[3].String(), "import-from=local:import/talos-v1.12.7-")
	r.requireClean()
}

func TestTalosImportVMIDHeldElsewhere(t *testing.T) {
	r := newRig(t, func(s *pvesim.Setup) { s.VMs = []pvesim.VMSetup{{VMID: 9000, Name: "someones-vm", Tags: "prod"}} })
	_, err := r.run(images.TalosImportOptions{})
	require.ErrorIs(t, err, images.ErrVMIDTaken)
	require.ErrorContains(t, err, `talos.template_id 9000 is held by VM 9000 "someones-vm" (tags prod)`)
	require.Zero(t, r.mutations())

	res, err := r.run(images.TalosImportOptions{Replace: true})
	require.NoError(t, err)
	require.Equal(t, plan.Replace, res.Action)
	r.requireTemplate()
}

func TestTalosImportNewVersionNeedsReplace(t *testing.T) {
	r := newRig(t)
	_, err := r.run(images.TalosImportOptions{})
	require.NoError(t, err)
	r.inv.Talos.Version = "v1.12.6"
	_, err = r.run(images.TalosImportOptions{})
	require.ErrorIs(t, err, images.ErrVMIDTaken)
	require.ErrorContains(t, err, "holds the Talos v1.12.7 template")
	res, err := r.run(images.TalosImportOptions{Replace: true})
	require.NoError(t, err)
	require.Equal(t, plan.Replace, res.Action)
	require.Contains(t, r.requireTemplate().Get("description"), "version: v1.12.6")
}

// requireNoOpRerun runs the import again at once, within the VM list's lag:
// it must find the template good and change nothing.
func (r *rig) requireNoOpRerun() {
	r.t.Helper()
	before := r.mutations()
	res, err := r.run(images.TalosImportOptions{})
	require.NoError(r.t, err)
	require.Equal(r.t, plan.Unchanged, res.Action, "a re-run within the cache lag is a no-op")
	require.Equal(r.t, before, r.mutations())
}

// TestTalosImportFaults: each fault leaves a clear error and no orphan VM or
// half template, the next run succeeds, and a re-run right after it (within
// the VM list's lag) changes nothing.
func TestTalosImportFaults(t *testing.T) {
	tests := []struct {
		name    string
		inject  func(r *rig)
		wantErr string
		errIs   error
	}{
		{name: "factory answers 500", inject: func(r *rig) {
			r.factory.FailNext("GET", "/versions", http.StatusInternalServerError, "storage backend unavailable")
		}, wantErr: "image factory: GET " /* url */},
		{name: "factory fails to register the schematic", inject: func(r *rig) {
			r.factory.FailNext("POST", "/schematics", http.StatusInternalServerError, "try later")
		}, wantErr: "500 Internal Server Error: try later"},
		{name: "download task fails", inject: func(r *rig) {
			r.sim.FailNextTask("download", "download failed: command '/usr/bin/wget' failed: exit code 4")
		}, wantErr: "task download:talos-v1.12.7-"},
		{name: "checksum mismatch", inject: func(r *rig) {
			lock, err := images.LoadLockFile(r.lock)
			require.NoError(r.t, err)
			require.NoError(r.t, lock.Pin("talos", "v1.12.7", r.schematicID(), "nocloud-amd64.qcow2", strings.Repeat("ab", 32)))
		}, errIs: proxmox.ErrChecksumMismatch, wantErr: "the pin is in"},
		{name: "create task fails", inject: func(r *rig) {
			r.sim.FailNextTask("qmcreate", "unable to create VM 9000 - zfs error: out of space")
		}, wantErr: "zfs error: out of space"},
		{name: "resize fails", inject: func(r *rig) {
			r.sim.FailNextTask("resize", "zfs error: cannot set property")
		}, wantErr: "the half-made VM 9000 was removed"},
		{name: "template conversion fails", inject: func(r *rig) {
			r.sim.FailNextTask("qmtemplate", "rename failed")
		}, wantErr: "the half-made VM 9000 was removed"},
		{name: "template conversion fails after the first disk", inject: func(r *rig) {
			r.sim.FailNextTaskAfter("qmtemplate", 1, "zfs error: dataset is busy")
		}, wantErr: "the half-made VM 9000 was removed"},
		{name: "connection reset during the resize", inject: func(r *rig) {
			r.sim.ResetNextRequest("PUT", "/nodes/pve/qemu/9000/resize", 0)
		}, wantErr: "may have been applied"},
		{name: "connection reset while creating", inject: func(r *rig) {
			r.sim.ResetNextRequest("POST", "/nodes/pve/qemu", 0)
		}, wantErr: "POST /nodes/pve/qemu: no answer from Proxmox"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			tt.inject(r)
			_, err := r.run(images.TalosImportOptions{})
			require.Error(t, err)
			require.ErrorContains(t, err, tt.wantErr)
			if tt.errIs != nil {
				require.ErrorIs(t, err, tt.errIs)
			}
			r.requireClean()

			if errors.Is(err, proxmox.ErrChecksumMismatch) {
				// Fixing the pin is the operator's call: drop it, then pin again.
				require.NoError(t, os.Remove(r.lock))
			}
			res, err := r.run(images.TalosImportOptions{Verify: true})
			require.NoError(t, err, "the next run succeeds")
			require.Equal(t, plan.Create, res.Action)
			r.requireTemplate()
			r.requireNoOpRerun()
		})
	}
}

func TestTalosImportUnknownVersionChangesNothing(t *testing.T) {
	r := newRig(t)
	r.inv.Talos.Version = "v1.12.99"
	_, err := r.run(images.TalosImportOptions{})
	require.ErrorIs(t, err, talosfactory.ErrUnknownVersion)
	require.ErrorContains(t, err, "does not offer Talos v1.12.99")
	require.Zero(t, r.mutations(), "rejected before anything was created")

	r.inv.Talos.Version = "v1.12.7"
	r.inv.Talos.Extensions = append(r.inv.Talos.Extensions, "siderolabs/iscsi-tool")
	_, err = r.run(images.TalosImportOptions{})
	require.ErrorIs(t, err, talosfactory.ErrUnknownExtension)
	require.Zero(t, r.mutations())
}

// TestTalosImportKilledBetweenSteps stops a run after each step that changed
// something, without cleanup (as kill -9 would), and proves the next run
// recognises what was left and finishes the job.
func TestTalosImportKilledBetweenSteps(t *testing.T) {
	for _, step := range []string{images.StepEnableImport, images.StepDownload, images.StepCreateVM, images.StepResize, images.StepTemplate} {
		t.Run(step, func(t *testing.T) {
			r := newRig(t)
			killed := errors.New("killed")
			_, err := r.run(images.TalosImportOptions{AfterStep: func(s string) error {
				if s == step {
					return killed
				}
				return nil
			}})
			require.ErrorIs(t, err, killed)

			res, err := r.run(images.TalosImportOptions{})
			require.NoError(t, err)
			want := map[string]plan.Action{images.StepCreateVM: plan.Repair, images.StepResize: plan.Repair, images.StepTemplate: plan.Unchanged}[step]
			if step == images.StepEnableImport || step == images.StepDownload {
				want = plan.Create
			}
			require.Equal(t, want, res.Action)
			r.requireTemplate()
			r.requireNoOpRerun()
			vols, err := r.client.Volumes(context.Background(), "pve", "local-zfs", "")
			require.NoError(t, err)
			for _, v := range vols {
				require.Equal(t, 9000, v.VMID, "no disk left from the interrupted run: %s", v.VolID)
			}
		})
	}
}

func TestTalosImportCancelledCleansUp(t *testing.T) {
	r := newRig(t)
	ctx, cancel := context.WithCancel(context.Background())
	_, err := r.runCtx(ctx, images.TalosImportOptions{
		AfterStep: func(step string) error {
			if step == images.StepCreateVM {
				cancel()
			}
			return nil
		}})
	require.ErrorIs(t, err, context.Canceled)
	r.requireClean()
}

// TestTalosImportWithinTheCacheLag runs the import again before pvestatd's
// next update, while /cluster/resources still shows the VM as it was (or
// as "unknown"): the import decides from the VM's config, so a good
// template stays untouched and another version still needs -replace.
func TestTalosImportWithinTheCacheLag(t *testing.T) {
	tests := []struct {
		name  string
		first images.TalosImportOptions
		tick  bool // the statistics caught up before the re-run
	}{
		{name: "right after the import"},
		{name: "after the statistics caught up", tick: true},
		{name: "right after a -replace", first: images.TalosImportOptions{Replace: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			_, err := r.run(tt.first)
			require.NoError(t, err)
			if tt.tick {
				r.sim.Tick()
			}
			before := r.mutations()
			res, err := r.run(images.TalosImportOptions{})
			require.NoError(t, err)
			require.Equal(t, plan.Unchanged, res.Action, "a re-run is a no-op")
			require.Equal(t, before, r.mutations())

			r.inv.Talos.Version = "v1.12.6"
			_, err = r.run(images.TalosImportOptions{})
			require.ErrorIs(t, err, images.ErrVMIDTaken, "another version needs -replace")
			require.Equal(t, before, r.mutations())
			r.requireTemplate()
		})
	}
}

// TestTalosImportRepairsAHalfTemplate: qemu-server writes template=1 before
// it renames the disks (API2/Qemu.pm, template), so a conversion that fails
// and whose cleanup fails too leaves a VM that calls itself a template with
// disks that are not base volumes. The next run, within the cache lag or
// after it, must rebuild it, not call it good.
func TestTalosImportRepairsAHalfTemplate(t *testing.T) {
	tests := []struct {
		name   string
		inject func(s *pvesim.Server)
	}{
		{name: "conversion fails before any disk is renamed", inject: func(s *pvesim.Server) {
			s.FailNextTask("qmtemplate", "zfs error: cannot rename")
		}},
		{name: "conversion fails after the first disk", inject: func(s *pvesim.Server) {
			s.FailNextTaskAfter("qmtemplate", 1, "zfs error: dataset is busy")
		}},
	}
	for _, tt := range tests {
		for _, tick := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, statistics updated: %v", tt.name, tick), func(t *testing.T) {
				r := newRig(t)
				tt.inject(r.sim)
				r.sim.FailNextRequest("DELETE", "/nodes/pve/qemu/9000", http.StatusInternalServerError, "cfs-lock 'storage-local-zfs' error: got lock request timeout")
				_, err := r.run(images.TalosImportOptions{})
				require.ErrorContains(t, err, "zfs error")
				require.ErrorContains(t, err, "removing the half-made VM 9000 failed too")
				cfg, err := r.client.VMConfig(context.Background(), "pve", 9000)
				require.NoError(t, err)
				require.Equal(t, "1", cfg.Get("template"), "the half template the host keeps")
				require.Regexp(t, `^local-zfs:vm-9000-disk-\d+,`, cfg.Get("efidisk0"))
				if tick {
					r.sim.Tick()
				}

				res, err := r.run(images.TalosImportOptions{})
				require.NoError(t, err)
				require.Equal(t, plan.Repair, res.Action, "a half template is repaired")
				r.requireTemplate()
				r.sim.Tick()
				again, err := r.run(images.TalosImportOptions{})
				require.NoError(t, err)
				require.Equal(t, plan.Unchanged, again.Action)
			})
		}
	}
}

// TestTalosImportRepairsALockedVM: a VM of ours whose config carries a lock
// (a create that never finished) is not a finished template.
func TestTalosImportRepairsALockedVM(t *testing.T) {
	r := newRig(t)
	_, err := r.run(images.TalosImportOptions{})
	require.NoError(t, err)
	r.sim.Tick()
	require.True(t, r.sim.HoldLock(9000, "create"))
	res, err := r.run(images.TalosImportOptions{DryRun: true})
	require.NoError(t, err)
	require.Equal(t, plan.Repair, res.Action)
}
