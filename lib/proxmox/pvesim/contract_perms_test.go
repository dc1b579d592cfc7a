package pvesim_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

// vmConfigPrivs are the eight VM.Config.* privileges.
var vmConfigPrivs = []string{"VM.Config.CDROM", "VM.Config.CPU", "VM.Config.Cloudinit", "VM.Config.Disk",
	"VM.Config.HWType", "VM.Config.Memory", "VM.Config.Network", "VM.Config.Options"}

// without returns list without drop.
func without(list []string, drop ...string) []string {
	return slices.DeleteFunc(slices.Clone(list), func(p string) bool { return slices.Contains(drop, p) })
}

// permsSim is a simulator with VM 100 (a disk on local-zfs, a CD-ROM, an
// unused disk) and a user infra@pve holding Administrator, whose
// privilege-separated token infra@pve!t holds the role "Test" (privs) on /.
func permsSim(t *testing.T, privs []string) *sim {
	t.Helper()
	setup := pvesim.DefaultSetup()
	setup.Roles = map[string][]string{"Test": privs}
	setup.Users = append(setup.Users, pvesim.User{ID: "infra@pve", Password: "pw", ACL: []pvesim.ACL{{Path: "/", Role: "Administrator", Propagate: true}}})
	setup.Tokens = append(setup.Tokens, pvesim.Token{ID: "infra@pve!t", Secret: "t", ACL: []pvesim.ACL{{Path: "/", Role: "Test", Propagate: true}}})
	s := importedSim(t, pvesim.WithSetup(setup))
	exit, log := s.waitTask(s.upid(s.call("POST", "/nodes/pve/qemu", map[string]string{
		"vmid": "100", "name": "a", "scsi0": "local-zfs:1", "scsi1": "local-zfs:1", "ide2": "local:iso/x.iso,media=cdrom"})))
	require.Equal(t, "OK", exit, log)
	require.Equal(t, http.StatusOK, s.call("PUT", "/nodes/pve/qemu/100/config", map[string]string{"delete": "scsi1"}).status)
	s.auth = "PVEAPIToken=infra@pve!t=t"
	return s
}

// TestContractConfigKeyGroups pins which VM.Config.* privilege each config
// key needs: qemu-server src/PVE/API2/Qemu.pm, $check_vm_modify_config_perm
// ($cpuoptions, $memoryoptions, $hwtypeoptions, $generaloptions,
// $diskoptions, net\d+, $cloudinitoptions/ipconfig\d+ with "any", startup
// also Sys.Modify on /, anything else root only), called for the keys of
// update_vm_api and of `delete`; drives are checked in its $updatefn by
// $check_drive_perms (cloud-init drive: Cloudinit and CDROM, CD-ROM: CDROM,
// else Disk, for the old and the new value), tags by
// assert_tag_permissions (VM.Config.Options), unused disks on delete need
// VM.Config.Disk. PUT runs $updatefn in the request: every refusal is a 403.
func TestContractConfigKeyGroups(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]string
		lack   []string
		reason string
	}{
		{"cores", map[string]string{"cores": "2"}, []string{"VM.Config.CPU"}, "Permission check failed (/vms/100, VM.Config.CPU)"},
		{"numa0", map[string]string{"numa0": "cpus=0,memory=512"}, []string{"VM.Config.CPU"}, "Permission check failed (/vms/100, VM.Config.CPU)"},
		{"memory", map[string]string{"memory": "4096"}, []string{"VM.Config.Memory"}, "Permission check failed (/vms/100, VM.Config.Memory)"},
		{"machine", map[string]string{"machine": "q35"}, []string{"VM.Config.HWType"}, "Permission check failed (/vms/100, VM.Config.HWType)"},
		{"scsihw", map[string]string{"scsihw": "virtio-scsi-single"}, []string{"VM.Config.HWType"}, "Permission check failed (/vms/100, VM.Config.HWType)"},
		{"name", map[string]string{"name": "b"}, []string{"VM.Config.Options"}, "Permission check failed (/vms/100, VM.Config.Options)"},
		{"description", map[string]string{"description": "x"}, []string{"VM.Config.Options"}, "Permission check failed (/vms/100, VM.Config.Options)"},
		{"tags", map[string]string{"tags": "x"}, []string{"VM.Config.Options"}, "Permission check failed (/vms/100, VM.Config.Options)"},
		{"startup needs Sys.Modify on /", map[string]string{"startup": "order=1"}, []string{"Sys.Modify"}, "Permission check failed (/, Sys.Modify)"},
		{"boot", map[string]string{"boot": "order=scsi0"}, []string{"VM.Config.Disk"}, "Permission check failed (/vms/100, VM.Config.Disk)"},
		{"net0", map[string]string{"net0": "virtio,bridge=vmbr0"}, []string{"VM.Config.Network"}, "Permission check failed (/vms/100, VM.Config.Network)"},
		{"ipconfig0 needs Cloudinit or Network", map[string]string{"ipconfig0": "ip=dhcp"}, []string{"VM.Config.Cloudinit", "VM.Config.Network"},
			"Permission check failed (/vms/100, VM.Config.Cloudinit|VM.Config.Network)"},
		{"ciuser", map[string]string{"ciuser": "talos"}, []string{"VM.Config.Cloudinit", "VM.Config.Network"},
			"Permission check failed (/vms/100, VM.Config.Cloudinit|VM.Config.Network)"},
		{"delete=cores", map[string]string{"delete": "cores"}, []string{"VM.Config.CPU"}, "Permission check failed (/vms/100, VM.Config.CPU)"},
		{"new disk", map[string]string{"scsi2": "local-zfs:1"}, []string{"VM.Config.Disk"}, "Permission check failed (/vms/100, VM.Config.Disk)"},
		{"new disk on the storage", map[string]string{"scsi2": "local-zfs:1"}, []string{"Datastore.AllocateSpace"},
			"Permission check failed (/storage/local-zfs, Datastore.AllocateSpace)"},
		{"cd-rom media", map[string]string{"ide2": "none,media=cdrom"}, []string{"VM.Config.CDROM"}, "Permission check failed (/vms/100, VM.Config.CDROM)"},
		{"cdrom alias of a delete", map[string]string{"delete": "cdrom"}, []string{"VM.Config.CDROM"}, "Permission check failed (/vms/100, VM.Config.CDROM)"},
		{"delete a disk", map[string]string{"delete": "scsi0"}, []string{"VM.Config.Disk"}, "Permission check failed (/vms/100, VM.Config.Disk)"},
		{"delete an unused disk", map[string]string{"delete": "unused0"}, []string{"VM.Config.Disk"}, "Permission check failed (/vms/100, VM.Config.Disk)"},
		{"cloud-init drive", map[string]string{"ide0": "local-zfs:cloudinit"}, []string{"VM.Config.Cloudinit"}, "Permission check failed (/vms/100, VM.Config.Cloudinit)"},
		{"physical CD-ROM drive", map[string]string{"ide2": "cdrom,media=cdrom"}, []string{"Sys.Console"}, "Permission check failed (/, Sys.Console)"},
		{"physical CD-ROM through the cdrom alias", map[string]string{"cdrom": "cdrom"}, []string{"Sys.Console"}, "Permission check failed (/, Sys.Console)"},
		{"ISO through the cdrom alias", map[string]string{"cdrom": "none"}, []string{"VM.Config.CDROM"}, "Permission check failed (/vms/100, VM.Config.CDROM)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			all := append(slices.Clone(vmConfigPrivs), "VM.Audit", "Datastore.AllocateSpace", "Datastore.Audit", "Sys.Modify", "Sys.Console", "SDN.Use")
			s := permsSim(t, all)
			a := s.call("PUT", "/nodes/pve/qemu/100/config", tt.params)
			require.Equal(t, http.StatusOK, a.status, "with every privilege: %s", a.body)

			s = permsSim(t, without(all, tt.lack...))
			a = s.call("PUT", "/nodes/pve/qemu/100/config", tt.params)
			require.Equal(t, http.StatusForbidden, a.status, a.body)
			require.Equal(t, tt.reason, a.reason)
			if len(tt.lack) == 2 {
				for _, keep := range tt.lack {
					s = permsSim(t, without(all, without(tt.lack, keep)...))
					require.Equal(t, http.StatusOK, s.call("PUT", "/nodes/pve/qemu/100/config", tt.params).status, "any of the two is enough")
				}
			}
		})
	}
	t.Run("root only", func(t *testing.T) {
		s := permsSim(t, privilegesOfAdministrator())
		a := s.call("PUT", "/nodes/pve/qemu/100/config", map[string]string{"args": "-no-reboot"})
		require.Equal(t, http.StatusInternalServerError, a.status)
		require.Equal(t, "only root can set 'args' config", a.reason)
	})
}

// privilegesOfAdministrator is every privilege (the Administrator role).
func privilegesOfAdministrator() []string {
	return append(slices.Clone(vmConfigPrivs), "VM.Allocate", "VM.Audit", "VM.Clone", "VM.PowerMgmt", "VM.Backup",
		"Datastore.Allocate", "Datastore.AllocateSpace", "Datastore.AllocateTemplate", "Datastore.Audit",
		"Sys.Audit", "Sys.Modify", "Sys.Console", "Sys.AccessNetwork", "SDN.Use", "Mapping.Use")
}

// TestContractAsyncConfigDrivePermsFailTheTask pins that POST .../config
// runs $updatefn in a qmconfig worker (qemu-server update_vm_api,
// fork_worker): a drive the token may not change is a failed task, not a
// 403, and nothing is changed; the key checks before the fork stay 403.
func TestContractAsyncConfigDrivePermsFailTheTask(t *testing.T) {
	s := permsSim(t, without(privilegesOfAdministrator(), "VM.Config.Disk"))
	upid := s.upid(s.call("POST", "/nodes/pve/qemu/100/config", map[string]string{"scsi2": "local-zfs:1", "name": "b"}))
	exit, _ := s.waitTask(upid)
	require.Equal(t, "Permission check failed (/vms/100, VM.Config.Disk)", exit)
	cfg := s.config("100")
	require.Equal(t, "a", cfg["name"], "a failed update changes nothing")
	require.NotContains(t, cfg, "scsi2")

	a := s.call("POST", "/nodes/pve/qemu/100/config", map[string]string{"boot": "order=scsi0"})
	require.Equal(t, http.StatusForbidden, a.status)
	require.Equal(t, "Permission check failed (/vms/100, VM.Config.Disk)", a.reason)
}

// TestContractCreatePerms pins create_vm (qemu-server API2/Qemu.pm): VM.Allocate on
// /vms/{vmid}, then $check_storage_access (Datastore.AllocateSpace on the
// storage of each new disk; an import-from source through
// PVE::Storage::check_volume_access: Datastore.Allocate, or for an import
// volume Datastore.AllocateSpace or Datastore.Audit; a cloud-init drive
// needs nothing), then $check_vm_modify_config_perm for every key but the
// drives, then SDN.Use on the bridge. Drives themselves need no
// VM.Config.Disk at create; boot does.
func TestContractCreatePerms(t *testing.T) {
	talos := map[string]string{
		"vmid": "9000", "name": "talos", "machine": "q35", "bios": "ovmf", "cpu": "host", "cores": "2", "memory": "2048",
		"ostype": "l26", "scsihw": "virtio-scsi-single", "agent": "enabled=1", "tags": "talos", "description": "d",
		"efidisk0": "local-zfs:1,efitype=4m,pre-enrolled-keys=0", "boot": "order=scsi0",
		"scsi0": "local-zfs:0,import-from=local:import/talos.qcow2", "net0": "virtio,bridge=vmbr0",
	}
	// Datastore.AllocateSpace on /storage/local is enough for the source
	// too: check_volume_access asks any of AllocateSpace and Audit.
	need := []string{"VM.Allocate", "VM.Config.CPU", "VM.Config.Memory", "VM.Config.HWType", "VM.Config.Options", "VM.Config.Disk",
		"VM.Config.Network", "Datastore.AllocateSpace", "SDN.Use"}
	s := permsSim(t, need)
	exit, log := s.waitTask(s.upid(s.call("POST", "/nodes/pve/qemu", talos)))
	require.Equal(t, "OK", exit, log)

	paths := map[string]string{"VM.Allocate": "/vms/9000", "Datastore.AllocateSpace": "/storage/local-zfs", "SDN.Use": "/sdn/zones/localnetwork/vmbr0"}
	for _, priv := range need {
		t.Run("without "+priv, func(t *testing.T) {
			s := permsSim(t, without(need, priv))
			a := s.call("POST", "/nodes/pve/qemu", talos)
			require.Equal(t, http.StatusForbidden, a.status, a.body)
			path := paths[priv]
			if path == "" {
				path = "/vms/9000"
			}
			require.Equal(t, "Permission check failed ("+path+", "+priv+")", a.reason)
		})
	}
	t.Run("drives need no VM.Config.Disk", func(t *testing.T) {
		s := permsSim(t, []string{"VM.Allocate", "VM.Config.Options", "Datastore.AllocateSpace"})
		exit, log := s.waitTask(s.upid(s.call("POST", "/nodes/pve/qemu", map[string]string{"vmid": "101", "name": "b", "scsi0": "local-zfs:1", "ide0": "local-zfs:cloudinit"})))
		require.Equal(t, "OK", exit, log)
	})
}

// TestContractResizePerms pins resize_vm (qemu-server API2/Qemu.pm):
// VM.Config.Disk on /vms/{vmid} before the task (the method's check), and
// Datastore.AllocateSpace on the disk's storage inside the resize worker
// ($rpcenv->check in $updatefn): a failed task.
func TestContractResizePerms(t *testing.T) {
	s := permsSim(t, without(privilegesOfAdministrator(), "VM.Config.Disk"))
	a := s.call("PUT", "/nodes/pve/qemu/100/resize", map[string]string{"disk": "scsi0", "size": "2G"})
	require.Equal(t, http.StatusForbidden, a.status)
	require.Equal(t, "Permission check failed (/vms/100, VM.Config.Disk)", a.reason)

	s = permsSim(t, without(privilegesOfAdministrator(), "Datastore.AllocateSpace"))
	exit, _ := s.waitTask(s.upid(s.call("PUT", "/nodes/pve/qemu/100/resize", map[string]string{"disk": "scsi0", "size": "2G"})))
	require.Equal(t, "Permission check failed (/storage/local-zfs, Datastore.AllocateSpace)", exit)
	require.Equal(t, "local-zfs:vm-100-disk-0,size=1G", s.config("100")["scsi0"], "the disk did not grow")
}

// TestContractStorageUpdateChecksSlashStorage pins PUT /storage/{storage}
// (pve-storage src/PVE/API2/Storage/Config.pm, update: check ['perm',
// '/storage', ['Datastore.Allocate']]): a grant on the storage itself is
// not enough.
func TestContractStorageUpdateChecksSlashStorage(t *testing.T) {
	setup := pvesim.DefaultSetup()
	setup.Tokens = append(setup.Tokens,
		pvesim.Token{ID: "infra@pve!one", Secret: "one", ACL: []pvesim.ACL{{Path: "/storage/local", Role: "PVEDatastoreAdmin", Propagate: true}}},
		pvesim.Token{ID: "infra@pve!all", Secret: "all", ACL: []pvesim.ACL{{Path: "/storage", Role: "PVEDatastoreAdmin", Propagate: false}}})
	s := newSim(t, pvesim.WithSetup(setup))
	s.auth = "PVEAPIToken=infra@pve!one=one"
	a := s.call("PUT", "/storage/local", map[string]string{"content": "iso,import"})
	require.Equal(t, http.StatusForbidden, a.status)
	require.Equal(t, "Permission check failed (/storage, Datastore.Allocate)", a.reason)
	s.auth = "PVEAPIToken=infra@pve!all=all"
	require.Equal(t, http.StatusOK, s.call("PUT", "/storage/local", map[string]string{"content": "iso,import"}).status)
}

// TestContractTokenPrivsep pins PVE::RPCEnvironment::permissions: a
// privilege-separated token holds the intersection of its own ACL and its
// user's (propagation flags and-ed); a token without privsep holds its
// user's privileges, whatever its own ACL says.
func TestContractTokenPrivsep(t *testing.T) {
	setup := pvesim.DefaultSetup()
	setup.Users = append(setup.Users, pvesim.User{ID: "ops@pve", Password: "pw", ACL: []pvesim.ACL{
		{Path: "/", Role: "PVEAuditor", Propagate: true}, {Path: "/vms", Role: "PVEVMAdmin", Propagate: true}}})
	setup.Tokens = append(setup.Tokens,
		pvesim.Token{ID: "ops@pve!sep", Secret: "sep", ACL: []pvesim.ACL{{Path: "/", Role: "Administrator", Propagate: true}}},
		pvesim.Token{ID: "ops@pve!full", Secret: "full", NoPrivsep: true},
		pvesim.Token{ID: "ops@pve!narrow", Secret: "narrow", ACL: []pvesim.ACL{{Path: "/vms/100", Role: "PVEVMAdmin", Propagate: false}}})
	s := newSim(t, pvesim.WithSetup(setup))

	perms := func(token string, params map[string]string) map[string]map[string]int {
		s.auth = "PVEAPIToken=" + token
		var p map[string]map[string]int
		s.call("GET", "/access/permissions", params).data(t, &p)
		return p
	}
	sep := perms("ops@pve!sep=sep", nil)
	require.Equal(t, 1, sep["/"]["Sys.Audit"], "the user's and the token's")
	require.NotContains(t, sep["/"], "Sys.Modify", "the token's Administrator is cut to the user's rights")
	require.NotContains(t, sep["/storage"], "Datastore.Allocate")
	require.Equal(t, 1, sep["/vms"]["VM.Allocate"])
	a := s.call("PUT", "/storage/local", map[string]string{"content": "iso,import"})
	require.Equal(t, http.StatusForbidden, a.status)

	full := perms("ops@pve!full=full", nil)
	require.Equal(t, 1, full["/vms"]["VM.Allocate"], "privsep=0: the user's privileges without an ACL of its own")
	require.Equal(t, 1, full["/"]["Sys.Audit"])

	narrow := perms("ops@pve!narrow=narrow", map[string]string{"path": "/vms/100"})
	require.Equal(t, 0, narrow["/vms/100"]["VM.Allocate"], "propagates only when both grants do")
	require.NotContains(t, narrow["/vms/100"], "Sys.Audit")
	require.Equal(t, map[string]map[string]int{"/vms/101": {}}, perms("ops@pve!narrow=narrow", map[string]string{"path": "/vms/101"}))
}

// TestContractPermissionsListsTopLevelPaths pins GET /access/permissions
// without a path (pve-access-control API2/AccessControl.pm permissions →
// RPCEnvironment get_effective_permissions): the top-level paths /,
// /access, /access/groups, /nodes, /pool, /sdn, /storage, /vms and every
// path of the ACL tree, each with what the caller holds there, and none
// where it holds nothing.
func TestContractPermissionsListsTopLevelPaths(t *testing.T) {
	setup := pvesim.DefaultSetup()
	setup.Tokens = append(setup.Tokens,
		pvesim.Token{ID: "infra@pve!ds", Secret: "ds", ACL: []pvesim.ACL{{Path: "/storage/local", Role: "PVEDatastoreUser", Propagate: true}}})
	s := newSim(t, pvesim.WithSetup(setup))
	var admin map[string]map[string]int
	s.call("GET", "/access/permissions", nil).data(t, &admin)
	for _, p := range []string{"/", "/access", "/access/groups", "/nodes", "/pool", "/sdn", "/storage", "/vms", "/storage/local"} {
		require.Contains(t, admin, p)
		require.Equal(t, 1, admin[p]["Datastore.Allocate"], p)
	}

	s.auth = "PVEAPIToken=infra@pve!ds=ds"
	var ds map[string]map[string]int
	s.call("GET", "/access/permissions", nil).data(t, &ds)
	require.Equal(t, map[string]map[string]int{"/storage/local": {"Datastore.AllocateSpace": 1, "Datastore.Audit": 1}}, ds)
}
