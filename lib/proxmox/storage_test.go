package proxmox_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/testtool"
	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/proxmox/pve"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestEnsureStorageContent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	changed, err := e.client.EnsureStorageContent(ctx, "local", "import", "iso")
	require.NoError(t, err)
	require.True(t, changed)
	st, err := e.client.FindStorage(ctx, "pve", "local")
	require.NoError(t, err)
	require.Equal(t, []string{"backup", "import", "iso", "vztmpl"}, st.ContentTypes())

	puts := e.requests("PUT", "/storage/local")
	changed, err = e.client.EnsureStorageContent(ctx, "local", "import")
	require.NoError(t, err)
	require.False(t, changed, "nothing to do the second time")
	require.Equal(t, puts, e.requests("PUT", "/storage/local"), "and nothing is sent")

	_, err = e.client.EnsureStorageContent(ctx, "local-zfs", "import")
	require.ErrorContains(t, err, "storage local-zfs is of type zfspool, which cannot hold \"import\" content")
	require.Equal(t, 0, e.requests("PUT", "/storage/local-zfs"))

	_, err = e.client.FindStorage(ctx, "pve", "nas")
	require.ErrorContains(t, err, `storage "nas" does not exist on node pve`)
	require.ErrorContains(t, err, "local, local-zfs")
}

func TestEnsureDownloaded(t *testing.T) {
	img := testtool.QCOW2(t, 1<<30, []byte("talos v1.12.7"))
	other := testtool.QCOW2(t, 2<<30, []byte("another build"))
	files := map[string][]byte{"nocloud-amd64.qcow2": img}
	srv := testtool.ServeFiles(t, files)
	e := newEnv(t)
	ctx := context.Background()
	_, err := e.client.EnsureStorageContent(ctx, "local", "import")
	require.NoError(t, err)

	req := proxmox.DownloadRequest{Node: "pve", Storage: "local", URL: srv.URL + "/nocloud-amd64.qcow2", Content: "import",
		Filename: "talos-v1.12.7-376567988ad3.qcow2", Checksum: sum(img), ChecksumAlgorithm: "sha256"}

	var events []proxmox.TaskEvent
	res, err := e.client.EnsureDownloaded(ctx, req, func(ev proxmox.TaskEvent) { events = append(events, ev) })
	require.NoError(t, err)
	require.True(t, res.Downloaded)
	require.Equal(t, pve.VolumeID{Storage: "local", Name: "import/talos-v1.12.7-376567988ad3.qcow2"}, res.Volume)
	require.NotEmpty(t, events)
	require.Equal(t, "download", events[0].UPID.Type)
	var last float64 = -1
	for _, ev := range events {
		if ev.Percent >= 0 {
			last = ev.Percent
		}
	}
	require.Equal(t, float64(100), last, "the progress of wget's last line")

	t.Run("same checksum: kept", func(t *testing.T) {
		res, err := e.client.EnsureDownloaded(ctx, req, nil)
		require.NoError(t, err)
		require.False(t, res.Downloaded)
	})
	t.Run("other checksum: clear error", func(t *testing.T) {
		files["nocloud-amd64.qcow2"] = other
		bad := req
		bad.Checksum = sum(other)
		_, err := e.client.EnsureDownloaded(ctx, bad, nil)
		require.ErrorIs(t, err, proxmox.ErrChecksumMismatch)
		require.ErrorContains(t, err, "replace the file")
	})
	t.Run("other checksum, replace asked", func(t *testing.T) {
		repl := req
		repl.Checksum, repl.Replace = sum(other), true
		res, err := e.client.EnsureDownloaded(ctx, repl, nil)
		require.NoError(t, err)
		require.True(t, res.Downloaded)
		require.True(t, res.Replaced)
		vol, ok, err := e.client.FindVolume(ctx, "pve", res.Volume, "import")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, int64(2<<30), vol.Size, "the new image is there")
	})
	t.Run("no checksum for an existing file", func(t *testing.T) {
		plain := req
		plain.Checksum, plain.ChecksumAlgorithm = "", ""
		_, err := e.client.EnsureDownloaded(ctx, plain, nil)
		require.ErrorContains(t, err, "no checksum to verify it against")
		plain.ReuseUnverified = true
		res, err := e.client.EnsureDownloaded(ctx, plain, nil)
		require.NoError(t, err)
		require.False(t, res.Downloaded)
	})
	t.Run("import not enabled says how to fix it", func(t *testing.T) {
		fresh := newEnv(t)
		_, err := fresh.client.EnsureDownloaded(ctx, req, nil)
		require.ErrorContains(t, err, "storage 'local' is not configured for content-type 'import'")
		require.ErrorContains(t, err, "Datacenter → Storage → Edit → Content")
		require.True(t, proxmox.IsContentNotConfigured(err))
		require.False(t, proxmox.IsContentNotConfigured(errors.New("storage 'local' is not configured for content-type 'import'")), "only PVE's answer says it")
	})
}

func TestUpload(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, err := e.client.EnsureStorageContent(ctx, "local", "import")
	require.NoError(t, err)
	img := testtool.QCOW2(t, 1<<30, bytes.Repeat([]byte("nixos"), 100000))
	var sent atomic.Int64
	res, err := e.client.Upload(ctx, proxmox.UploadRequest{Node: "pve", Storage: "local", Content: "import", Filename: "nixos-25.11.qcow2",
		Body: bytes.NewReader(img), Size: int64(len(img)), Checksum: sum(img), ChecksumAlgorithm: "sha256",
		Sent: func(n, total int64) { sent.Store(n) }}, nil)
	require.NoError(t, err)
	require.Equal(t, "imgcopy", res.UPID.Type)
	require.Equal(t, int64(len(img)), sent.Load(), "progress reached the end")
	require.Contains(t, strings.Join(res.Log, "\n"), "target file: /var/lib/vz/import/nixos-25.11.qcow2")

	vol, ok, err := e.client.FindVolume(ctx, "pve", proxmox.VolumeFor("local", "import", "nixos-25.11.qcow2"), "import")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "qcow2", vol.Format)

	t.Run("a reset upload is not retried", func(t *testing.T) {
		e.sim.ResetNextRequest("POST", "/nodes/pve/storage/local/upload", 1024)
		before := e.requests("POST", "/nodes/pve/storage/local/upload")
		_, err := e.client.Upload(ctx, proxmox.UploadRequest{Node: "pve", Storage: "local", Content: "import", Filename: "again.qcow2",
			Body: bytes.NewReader(img), Size: int64(len(img))}, nil)
		var netErr *proxmox.NetworkError
		require.ErrorAs(t, err, &netErr)
		require.Equal(t, 1, e.requests("POST", "/nodes/pve/storage/local/upload")-before)
	})
	t.Run("delete", func(t *testing.T) {
		require.NoError(t, e.client.DeleteVolume(ctx, "pve", vol.ID()))
		_, ok, err := e.client.FindVolume(ctx, "pve", vol.ID(), "import")
		require.NoError(t, err)
		require.False(t, ok)
	})
}

func TestVMLifecycle(t *testing.T) {
	setup := pvesim.DefaultSetup()
	setup.VMs = []pvesim.VMSetup{{VMID: 500, Name: "other", Tags: "prod"}}
	e := newEnv(t, pvesim.WithSetup(setup))
	ctx := context.Background()
	_, err := e.client.EnsureStorageContent(ctx, "local", "import")
	require.NoError(t, err)
	srv := testtool.ServeFiles(t, map[string][]byte{"talos.qcow2": testtool.QCOW2(t, 1<<30, nil)})
	dl, err := e.client.EnsureDownloaded(ctx, proxmox.DownloadRequest{Node: "pve", Storage: "local", URL: srv.URL + "/talos.qcow2",
		Content: "import", Filename: "talos.qcow2"}, nil)
	require.NoError(t, err)

	_, err = e.client.CreateVM(ctx, "pve", 9000, proxmox.Params{
		"name": "talos-template", "machine": "q35", "bios": "ovmf", "cpu": "host", "scsihw": "virtio-scsi-single",
		"scsi0":    proxmox.Disk{Storage: "local-zfs", ImportFrom: dl.Volume.String(), Discard: true, SSD: true, IOThread: true}.String(),
		"efidisk0": proxmox.EFIDisk{Storage: "local-zfs"}.String(),
		"net0":     proxmox.NIC{Bridge: "vmbr0"}.String(),
		"agent":    "enabled=1",
		"tags":     "talos;infra-managed",
	}, nil)
	require.NoError(t, err)

	cfg, err := e.client.VMConfig(ctx, "pve", 9000)
	require.NoError(t, err)
	require.Regexp(t, `^[0-9a-f]{40}$`, cfg.Digest)
	disk, ok := cfg.Disk("scsi0")
	require.True(t, ok)
	require.Equal(t, "1G", disk.Value("size"))
	require.Equal(t, "on", disk.Value("discard"))
	require.Equal(t, "host", cfg.Get("cpu"))

	require.NoError(t, e.client.ResizeDisk(ctx, "pve", 9000, "scsi0", "20G"))
	require.NoError(t, e.client.ResizeDisk(ctx, "pve", 9000, "scsi0", "20G"), "resizing to the current size changes nothing")
	err = e.client.UpdateVMConfig(ctx, "pve", 9000, proxmox.Params{"description": "talos v1.12.7"}, cfg.Digest)
	require.ErrorContains(t, err, "checksum mismatch (file change by other user?)", "the resize changed the config since it was read")
	cfg, err = e.client.VMConfig(ctx, "pve", 9000)
	require.NoError(t, err)
	require.NoError(t, e.client.UpdateVMConfig(ctx, "pve", 9000, proxmox.Params{"description": "talos v1.12.7"}, cfg.Digest))
	require.NoError(t, e.client.ConvertToTemplate(ctx, "pve", 9000))
	cfg, err = e.client.VMConfig(ctx, "pve", 9000)
	require.NoError(t, err)
	require.True(t, cfg.Template(), "the config is current at once")
	require.Empty(t, cfg.PendingBaseDisks(9000))

	// The list shows the conversion after pvestatd's next update.
	e.sim.Tick()
	vm, ok, err := e.client.FindVM(ctx, 9000)
	require.NoError(t, err)
	require.True(t, ok)
	require.True(t, vm.Template)
	require.True(t, vm.HasTag("infra-managed"))
	require.Equal(t, int64(20<<30), vm.MaxDisk)

	byTag, err := e.client.FindVMsByTag(ctx, "talos")
	require.NoError(t, err)
	require.Len(t, byTag, 1)
	byName, err := e.client.FindVMsByName(ctx, "other")
	require.NoError(t, err)
	require.Equal(t, 500, byName[0].VMID)

	require.NoError(t, e.client.CloneVM(ctx, "pve", 9000, 110, proxmox.CloneOptions{Name: "talos-cp-01"}, nil))
	require.NoError(t, e.client.CloneVM(ctx, "pve", 9000, 111, proxmox.CloneOptions{Name: "full", Full: true, Storage: "local-zfs"}, nil))
	clone, err := e.client.VMConfig(ctx, "pve", 110)
	require.NoError(t, err)
	require.Contains(t, clone.Get("scsi0"), "local-zfs:base-9000-disk-1/vm-110-disk-1,", "efidisk0 got disk-0: PVE allocates drives sorted by name, and a linked clone numbers its own disks")

	deleted, err := e.client.DeleteVM(ctx, "pve", 111, true)
	require.NoError(t, err)
	require.True(t, deleted)
	deleted, err = e.client.DeleteVM(ctx, "pve", 111, true)
	require.NoError(t, err)
	require.False(t, deleted, "deleting a VM that is gone is not an error")
}
