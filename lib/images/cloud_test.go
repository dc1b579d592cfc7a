package images_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/cloudimage"
	"github.com/wdiazux/infra/lib/images"
	"github.com/wdiazux/infra/lib/plan"
	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

// cloudRig is the Talos rig's simulated host and lock file, plus a
// stand-in download site.
type cloudRig struct {
	*rig
	site *site
}

func newCloudRig(t testing.TB, setup ...func(*pvesim.Setup)) *cloudRig {
	t.Helper()
	return &cloudRig{rig: newRig(t, setup...), site: newSite(t, 256<<10, 0)}
}

var baseVMIDs = map[string]int{"ubuntu": 9100, "debian": 9110, "nixos": 9200, "arch": 9300}

// importOS imports one OS as a new process would: the lock file read again.
func (r *cloudRig) importOS(osName string, opts images.CloudImportOptions) (*images.CloudImportReport, error) {
	r.t.Helper()
	return images.ImportCloud(context.Background(), r.inv, r.client, r.site, r.loadLock(), osName, images.WithVMAStage(opts, fakeVMAStage))
}

func (r *cloudRig) loadLock() *images.LockFile {
	r.t.Helper()
	lock, err := images.LoadLockFile(r.lock)
	require.NoError(r.t, err)
	return lock
}

// requireBaseVM asserts the finished base VM of osName from its config.
func (r *cloudRig) requireBaseVM(osName string) proxmox.VMConfig {
	r.t.Helper()
	id := baseVMIDs[osName]
	require.Contains(r.t, r.vmIDs(), id)
	cfg, err := r.client.VMConfig(context.Background(), "pve", id)
	require.NoError(r.t, err)
	require.Equal(r.t, "1", cfg.Get("template"))
	require.Empty(r.t, cfg.Get("lock"))
	require.Empty(r.t, cfg.PendingBaseDisks(id), "no half template")
	return cfg
}

func TestCloudImportEndToEnd(t *testing.T) {
	for _, osName := range images.CloudOSes() {
		t.Run(osName, func(t *testing.T) {
			r := newCloudRig(t)
			res, err := r.importOS(osName, images.CloudImportOptions{})
			require.NoError(t, err)
			require.Equal(t, plan.Create, res.Action)
			b := r.site.builds[osName][0].b
			require.Equal(t, b, res.Build)
			require.True(t, res.Locked)
			rel := siteReleases[osName]
			require.Equal(t, "local:import/"+osName+"-"+rel+"-20261101.qcow2", res.Volume, "a .qcow2 name PVE accepts for import")

			v := r.requireBaseVM(osName).Values
			require.Equal(t, res.Name, v["name"])
			require.Equal(t, "virtio-scsi-single", v["scsihw"])
			// NixOS's image boots from virtio0 (GRUB on /dev/vda); the others from scsi0.
			drive, disk := "scsi0", `^local-zfs:base-\d+-disk-\d+,discard=on,iothread=1,size=1G,ssd=1$`
			if osName == "nixos" {
				drive, disk = "virtio0", `^local-zfs:base-\d+-disk-\d+,discard=on,iothread=1,size=1G$`
			}
			require.Regexp(t, disk, v[drive])
			require.Regexp(t, `^local-zfs:(base|vm)-\d+-cloudinit,media=cdrom`, v["ide2"], "a cloud-init drive")
			require.Equal(t, "socket", v["serial0"])
			require.Equal(t, "serial0", v["vga"])
			require.Equal(t, "enabled=1", v["agent"])
			require.Equal(t, "order="+drive, v["boot"])
			tags := []string{"base", "infra-managed", osName}
			slices.Sort(tags)
			require.ElementsMatch(t, tags, proxmox.VMConfig{Values: v}.Tags())
			for _, want := range []string{"infra-image: " + osName, "release: " + rel, "build: 20261101", "source: " + b.URL,
				b.Algorithm + ": " + b.Checksum, "checksum file: " + b.ChecksumURL, "signed by: " + b.SignedBy} {
				require.Contains(t, v["description"], want)
			}

			lock, err := os.ReadFile(r.lock)
			require.NoError(t, err)
			require.Contains(t, string(lock), osName+" "+rel+" 20261101 "+b.File+" "+b.Algorithm+":"+b.Checksum+"\n")
			if osName != "nixos" {
				dl := r.requestsTo("/download-url")
				require.Len(t, dl, 1)
				require.Equal(t, b.Checksum, dl[0].Params["checksum"], "the publisher's checksum is passed to PVE")
				require.Equal(t, b.Algorithm, dl[0].Params["checksum-algorithm"])
				require.Equal(t, b.URL, dl[0].Params["url"])
			}

			t.Run("a re-run with the locked build is a no-op, without asking the publisher", func(t *testing.T) {
				before, calls := r.mutations(), len(r.site.resolverCalls())
				again, err := r.importOS(osName, images.CloudImportOptions{})
				require.NoError(t, err)
				require.Equal(t, plan.Unchanged, again.Action)
				require.Empty(t, again.Calls)
				require.False(t, again.Locked)
				require.Equal(t, before, r.mutations(), "zero mutating API calls")
				require.Len(t, r.site.resolverCalls(), calls, "the publisher is not asked")
			})
		})
	}
}

// requestsTo lists the requests whose path ends in suffix.
func (r *cloudRig) requestsTo(suffix string) []pvesim.Request {
	var out []pvesim.Request
	for _, req := range r.sim.Requests() {
		if len(req.Path) >= len(suffix) && req.Path[len(req.Path)-len(suffix):] == suffix {
			out = append(out, req)
		}
	}
	return out
}

func TestCloudImportUpdate(t *testing.T) {
	r := newCloudRig(t)
	_, err := r.importOS("debian", images.CloudImportOptions{})
	require.NoError(t, err)
	newer := r.site.publish(t, "debian", "20261120-0312", 128<<10)

	res, err := r.importOS("debian", images.CloudImportOptions{})
	require.NoError(t, err)
	require.Equal(t, plan.Unchanged, res.Action, "without -update the locked build stays")

	before := r.mutations()
	res, err = r.importOS("debian", images.CloudImportOptions{Update: true})
	require.NoError(t, err)
	require.Equal(t, plan.Replace, res.Action, "-update replaces the base VM this project made")
	require.Equal(t, "20261120-0312", res.Build.Serial)
	require.Greater(t, r.mutations(), before)
	require.Contains(t, r.requireBaseVM("debian").Get("description"), "build: 20261120-0312")
	b, ok := r.loadLock().Build("debian", "13")
	require.True(t, ok)
	require.Equal(t, images.LockedBuild{OS: "debian", Release: "13", Serial: newer.Serial, File: newer.File, Algorithm: "sha512", Checksum: newer.Checksum}, b)

	before = r.mutations()
	res, err = r.importOS("debian", images.CloudImportOptions{Update: true})
	require.NoError(t, err)
	require.Equal(t, plan.Unchanged, res.Action, "-update on the newest build is a no-op")
	require.Equal(t, before, r.mutations())
}

// TestCloudImportLockAndVMDisagree: a base VM of ours that holds another
// build than the lock's is not replaced without -replace (or -update).
func TestCloudImportLockAndVMDisagree(t *testing.T) {
	r := newCloudRig(t)
	_, err := r.importOS("arch", images.CloudImportOptions{})
	require.NoError(t, err)
	newer := r.site.publish(t, "arch", "20261125.999", 64<<10)
	lock := r.loadLock()
	require.NoError(t, lock.Record(images.LockedBuild{OS: "arch", Release: "rolling", Serial: newer.Serial, File: newer.File, Algorithm: "sha256", Checksum: newer.Checksum}))

	before := r.mutations()
	_, err = r.importOS("arch", images.CloudImportOptions{})
	require.ErrorIs(t, err, images.ErrVMIDTaken)
	require.ErrorContains(t, err, "images.arch.base_vm_id 9300 holds the arch rolling base VM, build 20261101; run with -replace to replace it with arch rolling build 20261125.999")
	require.Equal(t, before, r.mutations())

	res, err := r.importOS("arch", images.CloudImportOptions{Replace: true})
	require.NoError(t, err)
	require.Equal(t, plan.Replace, res.Action)
	require.Contains(t, r.requireBaseVM("arch").Get("description"), "build: 20261125.999")
}

func TestCloudImportVMIDHeldElsewhere(t *testing.T) {
	r := newCloudRig(t, func(s *pvesim.Setup) { s.VMs = []pvesim.VMSetup{{VMID: 9100, Name: "someones-vm", Tags: "prod"}} })
	_, err := r.importOS("ubuntu", images.CloudImportOptions{Update: true})
	require.ErrorIs(t, err, images.ErrVMIDTaken)
	require.ErrorContains(t, err, `images.ubuntu.base_vm_id 9100 is held by VM 9100 "someones-vm" (tags prod), which this project did not create`)
	require.Zero(t, r.mutations(), "-update does not replace what this project did not create")

	res, err := r.importOS("ubuntu", images.CloudImportOptions{Replace: true})
	require.NoError(t, err)
	require.Equal(t, plan.Replace, res.Action)
	r.requireBaseVM("ubuntu")
}

// TestCloudImportSourceRefusals: a bad signature, an unknown key or a
// missing entry stops the import before any mutating call, whether the
// build is the newest (no lock) or the locked one (base VM missing).
func TestCloudImportSourceRefusals(t *testing.T) {
	for _, refusal := range []error{cloudimage.ErrBadSignature, cloudimage.ErrUnknownKey, cloudimage.ErrMissingEntry} {
		for _, locked := range []bool{false, true} {
			for _, osName := range images.CloudOSes() {
				name := refusal.Error() + ", " + osName
				if locked {
					name += ", locked build"
				}
				t.Run(name, func(t *testing.T) {
					r := newCloudRig(t)
					if locked {
						b := r.site.builds[osName][0].b
						require.NoError(t, r.loadLock().Record(images.LockedBuild{OS: osName, Release: b.Release, Serial: b.Serial, File: b.File, Algorithm: b.Algorithm, Checksum: b.Checksum}))
					}
					r.site.failWith(osName, refusal)
					_, err := r.importOS(osName, images.CloudImportOptions{})
					require.ErrorIs(t, err, refusal)
					require.ErrorIs(t, err, images.ErrSource)
					for _, req := range r.sim.Requests() {
						require.Equal(t, http.MethodGet, req.Method, "only reads before the refusal: %s %s", req.Method, req.Path)
					}
					require.NotContains(t, r.vmIDs(), baseVMIDs[osName])
				})
			}
		}
	}
}

// TestCloudImportLockedSumChanged: the publisher signing another sum for
// the locked build than the lock records is refused before any change.
func TestCloudImportLockedSumChanged(t *testing.T) {
	r := newCloudRig(t)
	b := r.site.builds["ubuntu"][0].b
	require.NoError(t, r.loadLock().Record(images.LockedBuild{OS: "ubuntu", Release: "24.04", Serial: b.Serial, File: b.File, Algorithm: "sha256", Checksum: "00" + b.Checksum[2:]}))
	_, err := r.importOS("ubuntu", images.CloudImportOptions{})
	require.ErrorIs(t, err, proxmox.ErrChecksumMismatch)
	require.ErrorContains(t, err, "but "+r.lock+" records")
	require.Zero(t, r.mutations())
}

func TestCloudImportUnknownOS(t *testing.T) {
	r := newCloudRig(t)
	for _, osName := range []string{"windows", "fedora", "talos"} {
		_, err := r.importOS(osName, images.CloudImportOptions{})
		require.ErrorIs(t, err, images.ErrUnknownOS, osName)
		require.ErrorContains(t, err, "want one of arch, debian, nixos, ubuntu")
	}
	require.Zero(t, r.mutations())
}

// TestCloudImportFaults: each fault leaves a clear error and no orphan VM
// or half template; the next run succeeds and a re-run changes nothing.
func TestCloudImportFaults(t *testing.T) {
	tests := []struct {
		name, os string
		inject   func(r *cloudRig)
		wantErr  string
	}{
		{name: "download task fails", os: "ubuntu", inject: func(r *cloudRig) {
			r.sim.FailNextTask("download", "download failed: command '/usr/bin/wget' failed: exit code 4")
		}, wantErr: "exit code 4"},
		{name: "enabling import content answers 500", os: "debian", inject: func(r *cloudRig) {
			r.sim.FailNextRequest("PUT", "/storage/local", http.StatusInternalServerError, "cfs-lock 'file-storage_cfg' error: got lock request timeout")
		}, wantErr: "got lock request timeout"},
		{name: "create answers 500", os: "arch", inject: func(r *cloudRig) {
			r.sim.FailNextRequest("POST", "/nodes/pve/qemu", http.StatusInternalServerError, "unable to create VM 9300 - cfs-lock timeout")
		}, wantErr: "cfs-lock timeout"},
		{name: "create task fails", os: "debian", inject: func(r *cloudRig) {
			r.sim.FailNextTask("qmcreate", "unable to create VM 9110 - zfs error: out of space")
		}, wantErr: "zfs error: out of space"},
		{name: "template conversion fails", os: "ubuntu", inject: func(r *cloudRig) {
			r.sim.FailNextTask("qmtemplate", "rename failed")
		}, wantErr: "the half-made VM 9100 was removed"},
		{name: "template conversion fails after the first disk", os: "arch", inject: func(r *cloudRig) {
			r.sim.FailNextTaskAfter("qmtemplate", 1, "zfs error: dataset is busy")
		}, wantErr: "the half-made VM 9300 was removed"},
		{name: "connection reset while creating", os: "ubuntu", inject: func(r *cloudRig) {
			r.sim.ResetNextRequest("POST", "/nodes/pve/qemu", 0)
		}, wantErr: "POST /nodes/pve/qemu: no answer from Proxmox"},
		{name: "connection reset during the template conversion", os: "debian", inject: func(r *cloudRig) {
			r.sim.ResetNextRequest("POST", "/nodes/pve/qemu/9110/template", 0)
		}, wantErr: "no answer from Proxmox"},
		{name: "upload task fails", os: "nixos", inject: func(r *cloudRig) {
			r.sim.FailNextTask("imgcopy", "import failed: disk quota exceeded")
		}, wantErr: "disk quota exceeded"},
		{name: "create task fails after the upload", os: "nixos", inject: func(r *cloudRig) {
			r.sim.FailNextTask("qmcreate", "unable to create VM 9200 - zfs error: out of space")
		}, wantErr: "zfs error: out of space"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newCloudRig(t)
			tt.inject(r)
			_, err := r.importOS(tt.os, images.CloudImportOptions{})
			require.Error(t, err)
			require.ErrorContains(t, err, tt.wantErr)
			require.Empty(t, r.vmIDs(), "no orphan VM, no half template")
			_, locked := r.loadLock().Build(tt.os, siteReleases[tt.os])
			require.False(t, locked, "a failed run records no build")

			res, err := r.importOS(tt.os, images.CloudImportOptions{})
			require.NoError(t, err, "the next run succeeds")
			require.Equal(t, plan.Create, res.Action)
			r.requireBaseVM(tt.os)
			r.requireNoOpCloudRerun(tt.os)
		})
	}
}

// requireNoOpCloudRerun runs the import again at once, within the VM
// list's lag: it must find the base VM good and change nothing.
func (r *cloudRig) requireNoOpCloudRerun(osName string) {
	r.t.Helper()
	before := r.mutations()
	res, err := r.importOS(osName, images.CloudImportOptions{})
	require.NoError(r.t, err)
	require.Equal(r.t, plan.Unchanged, res.Action, "a re-run is a no-op")
	require.Equal(r.t, before, r.mutations())
}

// TestCloudImportKilledBetweenSteps stops a run after each step that
// changed something, without cleanup (as kill -9 would): the next run
// recognises what was left and finishes the job.
func TestCloudImportKilledBetweenSteps(t *testing.T) {
	steps := map[string][]string{}
	for _, osName := range images.CloudOSes() {
		fetch := images.StepDownload
		if osName == "nixos" {
			fetch = images.StepUpload
		}
		steps[osName] = []string{images.StepEnableImport, fetch, images.StepCreateVM, images.StepTemplate}
	}
	for osName, list := range steps {
		for _, step := range list {
			t.Run(osName+", "+step, func(t *testing.T) {
				r := newCloudRig(t)
				killed := errors.New("killed")
				_, err := r.importOS(osName, images.CloudImportOptions{AfterStep: func(_, s string) error {
					if s == step {
						return killed
					}
					return nil
				}})
				require.ErrorIs(t, err, killed)

				res, err := r.importOS(osName, images.CloudImportOptions{})
				require.NoError(t, err)
				want := map[string]plan.Action{images.StepCreateVM: plan.Repair, images.StepTemplate: plan.Unchanged}[step]
				if step == images.StepEnableImport || step == images.StepDownload || step == images.StepUpload {
					want = plan.Create
				}
				require.Equal(t, want, res.Action)
				r.requireBaseVM(osName)
				_, locked := r.loadLock().Build(osName, siteReleases[osName])
				require.True(t, locked, "the finishing run records the build")
				r.requireNoOpCloudRerun(osName)
				vols, err := r.client.Volumes(context.Background(), "pve", "local-zfs", "")
				require.NoError(t, err)
				for _, v := range vols {
					require.Equal(t, baseVMIDs[osName], v.VMID, "no disk left from the interrupted run: %s", v.VolID)
				}
			})
		}
	}
}

func TestCloudImportCancelledCleansUp(t *testing.T) {
	r := newCloudRig(t)
	ctx, cancel := context.WithCancel(context.Background())
	_, err := images.ImportCloud(ctx, r.inv, r.client, r.site, r.loadLock(), "ubuntu", images.CloudImportOptions{
		AfterStep: func(_, step string) error {
			if step == images.StepCreateVM {
				cancel()
			}
			return nil
		}})
	require.ErrorIs(t, err, context.Canceled)
	require.Empty(t, r.vmIDs())
}
