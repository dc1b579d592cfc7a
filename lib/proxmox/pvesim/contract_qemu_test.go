package pvesim_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/testtool"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

// importedSim is a simulator with a 3.5 GiB qcow2 on local:import and an ISO
// on local:iso.
func importedSim(t *testing.T, opts ...pvesim.Option) *sim {
	t.Helper()
	srv := testtool.ServeFiles(t, map[string][]byte{"talos.qcow2": testtool.QCOW2(t, 3584<<20, []byte("talos")), "x.iso": []byte("iso")})
	s := newSim(t, opts...)
	s.enableImport()
	for _, f := range []struct{ name, content string }{{"talos.qcow2", "import"}, {"x.iso", "iso"}} {
		exit, _ := s.waitTask(s.upid(s.call("POST", "/nodes/pve/storage/local/download-url",
			map[string]string{"url": srv.URL + "/" + f.name, "content": f.content, "filename": f.name})))
		require.Equal(t, "OK", exit)
	}
	return s
}

func (s *sim) config(vmid string) map[string]any {
	s.t.Helper()
	var cfg map[string]any
	s.call("GET", "/nodes/pve/qemu/"+vmid+"/config", nil).data(s.t, &cfg)
	return cfg
}

func TestContractCreateWithImport(t *testing.T) {
	s := importedSim(t)
	upid := s.upid(s.call("POST", "/nodes/pve/qemu", map[string]string{
		"vmid": "9000", "name": "talos-v1-12-7", "machine": "q35", "bios": "ovmf", "cpu": "host", "cores": "2", "memory": "2048",
		"scsihw":    "virtio-scsi-single",
		"scsi0":     "local-zfs:0,import-from=local:import/talos.qcow2,discard=on,iothread=1,ssd=1",
		"efidisk0":  "local-zfs:1,efitype=4m,pre-enrolled-keys=0",
		"tpmstate0": "local-zfs:1,version=v2.0",
		"ide2":      "local-zfs:cloudinit",
		"net0":      "virtio,bridge=vmbr0",
		"agent":     "enabled=1",
		"tags":      "Talos;kubernetes,v1.12.7",
	}))
	require.Contains(t, upid, ":qmcreate:9000:")
	exit, log := s.waitTask(upid)
	require.Equal(t, "OK", exit, log)

	cfg := s.config("9000")
	// qemu-server's create_disks allocates the drives sorted by name
	// (efidisk0, scsi0, tpmstate0), each with the lowest free disk number.
	require.Equal(t, "local-zfs:vm-9000-disk-1,discard=on,iothread=1,size=3584M,ssd=1", cfg["scsi0"], "import-from is not echoed back; the size is the image's")
	require.Equal(t, "local-zfs:vm-9000-disk-0,efitype=4m,pre-enrolled-keys=0,size=1M", cfg["efidisk0"])
	require.Equal(t, "local-zfs:vm-9000-disk-2,size=4M,version=v2.0", cfg["tpmstate0"])
	require.Equal(t, "local-zfs:vm-9000-cloudinit,media=cdrom", cfg["ide2"])
	require.Regexp(t, `^virtio=BC:24:11:[0-9A-F]{2}:[0-9A-F]{2}:[0-9A-F]{2},bridge=vmbr0$`, cfg["net0"])
	require.Equal(t, "kubernetes;talos;v1.12.7", cfg["tags"])
	require.Equal(t, "enabled=1", cfg["agent"], "agent is a string")
	require.Equal(t, "2048", cfg["memory"], "memory is a string")
	require.EqualValues(t, 2, cfg["cores"], "cores is a number")
	require.Equal(t, "order=scsi0;ide2;net0", cfg["boot"], "get_default_bootdevices counts the cloud-init drive as the first CD-ROM")
	require.Regexp(t, `^creation-qemu=[\d.]+,ctime=\d+$`, cfg["meta"])
	require.Regexp(t, `^uuid=[0-9a-f-]{36}$`, cfg["smbios1"])
	require.Regexp(t, `^[0-9a-f-]{36}$`, cfg["vmgenid"])
	require.Regexp(t, `^[0-9a-f]{40}$`, cfg["digest"])
	_, locked := cfg["lock"]
	require.False(t, locked)
}

func TestContractCreateErrors(t *testing.T) {
	s := importedSim(t)
	tests := []struct {
		name   string
		params map[string]string
		status int
		param  string
		msg    string
	}{
		{"import-from needs <storage>:0", map[string]string{"vmid": "100", "scsi0": "local-zfs:8,import-from=local:import/talos.qcow2"},
			http.StatusBadRequest, "scsi0", "'import-from' requires special syntax - use <storage ID>:0,import-from=<source>"},
		{"import from an ISO", map[string]string{"vmid": "100", "scsi0": "local-zfs:0,import-from=local:iso/x.iso"},
			http.StatusBadRequest, "scsi0", "volume 'local:iso/x.iso' has wrong type 'iso' - needs to be 'images' or 'import'"},
		{"target without images", map[string]string{"vmid": "100", "scsi0": "local:0,import-from=local:import/talos.qcow2"},
			http.StatusBadRequest, "storage", "storage 'local' does not support vm images"},
		// qemu-server API2/Qemu.pm check_hostpci_perm: a plain die, so 500.
		{"raw PCI address through a token", map[string]string{"vmid": "100", "hostpci0": "0000:07:00,pcie=1"},
			http.StatusInternalServerError, "", "only root can set 'hostpci0' config for non-mapped devices"},
		{"unknown mapping", map[string]string{"vmid": "100", "hostpci0": "mapping=nope"},
			http.StatusInternalServerError, "", "PCI mapping 'nope' does not exist"},
		{"name is a DNS name", map[string]string{"vmid": "100", "name": "not a name"},
			http.StatusBadRequest, "name", "invalid format - value does not look like a valid DNS name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := s.call("POST", "/nodes/pve/qemu", tt.params)
			require.Equal(t, tt.status, a.status, a.body)
			if tt.param != "" {
				require.Equal(t, tt.msg+"\n", a.env.Errors[tt.param])
			} else {
				require.Equal(t, tt.msg, a.reason)
			}
		})
	}
	t.Run("existing VM ID", func(t *testing.T) {
		exit, _ := s.waitTask(s.upid(s.call("POST", "/nodes/pve/qemu", map[string]string{"vmid": "150"})))
		require.Equal(t, "OK", exit)
		a := s.call("POST", "/nodes/pve/qemu", map[string]string{"vmid": "150"})
		require.Equal(t, http.StatusInternalServerError, a.status)
		require.Equal(t, "unable to create VM 150 - VM 150 already exists on node 'pve'", a.reason)
	})
}

func TestContractLockedDuringCreate(t *testing.T) {
	s := newSim(t, pvesim.WithTaskDuration(time.Hour))
	upid := s.upid(s.call("POST", "/nodes/pve/qemu", map[string]string{"vmid": "100"}))
	s.requireLockedUntilStopped(upid, "100", "create")
}

func TestContractConfigResizeTemplateCloneDelete(t *testing.T) {
	s := importedSim(t)
	exit, _ := s.waitTask(s.upid(s.call("POST", "/nodes/pve/qemu", map[string]string{
		"vmid": "9000", "name": "base", "scsi0": "local-zfs:0,import-from=local:import/talos.qcow2", "ide2": "local-zfs:cloudinit", "net0": "virtio,bridge=vmbr0",
	})))
	require.Equal(t, "OK", exit)

	t.Run("config update", func(t *testing.T) {
		digest := s.config("9000")["digest"].(string)
		a := s.call("PUT", "/nodes/pve/qemu/9000/config", map[string]string{"description": "x", "digest": strings.Repeat("0", 40)})
		require.Equal(t, http.StatusInternalServerError, a.status)
		// qemu-server update_vm_api's $load_and_check_config words it so
		// (storage.cfg's assert_if_modified has the other wording).
		require.Equal(t, "checksum mismatch (file change by other user?)", a.reason)

		a = s.call("PUT", "/nodes/pve/qemu/9000/config", map[string]string{"description": "set sync", "digest": digest})
		require.Equal(t, http.StatusOK, a.status)
		require.Equal(t, "null", string(a.env.Data), "PUT config answers null")

		upid := s.upid(s.call("POST", "/nodes/pve/qemu/9000/config", map[string]string{"cores": "4", "delete": "description"}))
		require.Contains(t, upid, ":qmconfig:9000:")
		exit, _ := s.waitTask(upid)
		require.Equal(t, "OK", exit)
		cfg := s.config("9000")
		require.EqualValues(t, 4, cfg["cores"])
		require.NotContains(t, cfg, "description")
	})
	t.Run("resize", func(t *testing.T) {
		upid := s.upid(s.call("PUT", "/nodes/pve/qemu/9000/resize", map[string]string{"disk": "scsi0", "size": "+512M"}))
		require.Contains(t, upid, ":resize:9000:")
		exit, _ := s.waitTask(upid)
		require.Equal(t, "OK", exit)
		require.Contains(t, s.config("9000")["scsi0"], "size=4G")

		exit, _ = s.waitTask(s.upid(s.call("PUT", "/nodes/pve/qemu/9000/resize", map[string]string{"disk": "scsi0", "size": "10G"})))
		require.Equal(t, "OK", exit)
		require.Contains(t, s.config("9000")["scsi0"], "size=10G")

		exit, _ = s.waitTask(s.upid(s.call("PUT", "/nodes/pve/qemu/9000/resize", map[string]string{"disk": "scsi0", "size": "2G"})))
		require.Equal(t, "shrinking disks is not supported", exit, "the shrink check runs in the task (TestContractResizeFailsInTheTask)")

		a := s.call("PUT", "/nodes/pve/qemu/9000/resize", map[string]string{"disk": "scsi0", "size": "10GB"})
		require.Equal(t, http.StatusBadRequest, a.status)
	})
	t.Run("template", func(t *testing.T) {
		upid := s.upid(s.call("POST", "/nodes/pve/qemu/9000/template", nil))
		require.Contains(t, upid, ":qmtemplate:9000:")
		exit, _ := s.waitTask(upid)
		require.Equal(t, "OK", exit)
		cfg := s.config("9000")
		require.EqualValues(t, 1, cfg["template"])
		require.Contains(t, cfg["scsi0"], "local-zfs:base-9000-disk-0,")

		a := s.call("POST", "/nodes/pve/qemu/9000/template", nil)
		require.Equal(t, http.StatusInternalServerError, a.status)
		require.Equal(t, "you can't convert a template to a template", a.reason)
	})
	t.Run("linked clone", func(t *testing.T) {
		a := s.call("POST", "/nodes/pve/qemu/9000/clone", map[string]string{"newid": "101", "storage": "local-zfs"})
		require.Equal(t, http.StatusInternalServerError, a.status)
		require.Equal(t, "parameter 'storage' not allowed for linked clones", a.reason)

		upid := s.upid(s.call("POST", "/nodes/pve/qemu/9000/clone", map[string]string{"newid": "101", "name": "linked"}))
		require.Contains(t, upid, ":qmclone:9000:", "the clone task is named after the source")
		exit, _ := s.waitTask(upid)
		require.Equal(t, "OK", exit)
		cfg := s.config("101")
		require.Equal(t, "linked", cfg["name"])
		require.Regexp(t, `^local-zfs:base-9000-disk-0/vm-101-disk-\d+,`, cfg["scsi0"])
		require.Equal(t, "local-zfs:vm-101-cloudinit,media=cdrom", cfg["ide2"])
		require.NotEqual(t, s.config("9000")["net0"], cfg["net0"], "a clone gets a new MAC")
		require.NotContains(t, cfg, "template")
	})
	t.Run("full clone", func(t *testing.T) {
		exit, _ := s.waitTask(s.upid(s.call("POST", "/nodes/pve/qemu/9000/clone", map[string]string{"newid": "102", "full": "1", "storage": "local-zfs"})))
		require.Equal(t, "OK", exit)
		require.Regexp(t, `^local-zfs:vm-102-disk-0,.*size=10G`, s.config("102")["scsi0"])

		a := s.call("POST", "/nodes/pve/qemu/9000/clone", map[string]string{"newid": "102"})
		require.Equal(t, http.StatusInternalServerError, a.status)
		require.Equal(t, "unable to create VM 102: config file already exists", a.reason, "clone_vm's own wording")
	})
	t.Run("delete", func(t *testing.T) {
		a := s.call("DELETE", "/nodes/pve/qemu/9000", nil)
		require.Equal(t, http.StatusInternalServerError, a.status, "a template with linked clones stays")
		require.Contains(t, a.reason, "is still in use by linked cloned VM 101")

		upid := s.upid(s.call("DELETE", "/nodes/pve/qemu/101", map[string]string{"purge": "1", "destroy-unreferenced-disks": "1"}))
		require.Contains(t, upid, ":qmdestroy:101:")
		exit, _ := s.waitTask(upid)
		require.Equal(t, "OK", exit)

		a = s.call("GET", "/nodes/pve/qemu/101/config", nil)
		require.Equal(t, http.StatusInternalServerError, a.status)
		require.Equal(t, "Configuration file 'nodes/pve/qemu-server/101.conf' does not exist", a.reason)

		a = s.call("DELETE", "/nodes/pve/qemu/999", nil)
		require.Equal(t, "Configuration file 'nodes/pve/qemu-server/999.conf' does not exist", a.reason)

		var vols []map[string]any
		s.call("GET", "/nodes/pve/storage/local-zfs/content", map[string]string{"vmid": "101"}).data(t, &vols)
		require.Empty(t, vols, "the clone's disks went with it")
	})
}

func TestContractMappedGPU(t *testing.T) {
	setup := pvesim.DefaultSetup()
	setup.PCIMappings = []pvesim.PCIMapping{{ID: "rtx4000", Path: "0000:07:00", DeviceID: "10de:27b0"}}
	setup.Tokens = append(setup.Tokens, pvesim.Token{ID: "infra@pve!vm", Secret: "vm", ACL: []pvesim.ACL{
		{Path: "/", Role: "PVEVMAdmin", Propagate: true}, {Path: "/sdn", Role: "PVESDNUser", Propagate: true}}})
	s := newSim(t, pvesim.WithSetup(setup))
	exit, _ := s.waitTask(s.upid(s.call("POST", "/nodes/pve/qemu", map[string]string{"vmid": "110", "hostpci0": "mapping=rtx4000,pcie=1"})))
	require.Equal(t, "OK", exit)
	require.Equal(t, "mapping=rtx4000,pcie=1", s.config("110")["hostpci0"])

	s.auth = "PVEAPIToken=infra@pve!vm=vm"
	a := s.call("POST", "/nodes/pve/qemu", map[string]string{"vmid": "111", "hostpci0": "mapping=rtx4000"})
	require.Equal(t, http.StatusForbidden, a.status)
	require.Equal(t, "Permission check failed (/mapping/pci/rtx4000, Mapping.Use)", a.reason)
	a = s.call("POST", "/nodes/pve/qemu", map[string]string{"vmid": "111", "scsi0": "local-zfs:8"})
	require.Equal(t, http.StatusForbidden, a.status)
	require.Equal(t, "Permission check failed (/storage/local-zfs, Datastore.AllocateSpace)", a.reason)
	exit, _ = s.waitTask(s.upid(s.call("POST", "/nodes/pve/qemu", map[string]string{"vmid": "111", "net0": "virtio,bridge=vmbr0"})))
	require.Equal(t, "OK", exit, "SDN.Use on the bridge allows the NIC")
}
