package pvesim

import "slices"

// Setup is the world the simulator starts with: one node, its storages,
// bridges and PCI mappings, the users and API tokens with their ACLs, and
// any VMs that already exist.
type Setup struct {
	// Node is the node name (default "pve").
	Node string
	// Version is the pve-manager version /version reports (default "9.0.3").
	Version string
	// CPUs and MemoryBytes are the node's capacity.
	CPUs        int
	MemoryBytes int64
	// Storages are the configured storages.
	Storages []StorageSetup
	// Bridges are the node's Linux bridges.
	Bridges []string
	// DNSServers and SearchDomains are the node's /etc/resolv.conf, which
	// cloud-init uses for a VM without nameserver or searchdomain.
	DNSServers    []string
	SearchDomains []string
	// PCIMappings are the cluster's PCI resource mappings.
	PCIMappings []PCIMapping
	// Roles adds custom roles to PVE's built-in ones.
	Roles map[string][]string
	// Users can log in with a password (ticket auth).
	Users []User
	// Tokens are the API tokens.
	Tokens []Token
	// VMs exist before the first request.
	VMs []VMSetup
}

// StorageSetup is one storage.
type StorageSetup struct {
	// ID is the storage ID, e.g. "local".
	ID string
	// Type is the storage type: dir, nfs, cifs, cephfs, btrfs (file based),
	// zfspool, lvmthin or lvm (block based).
	Type string
	// Content is the enabled content types, e.g. iso, vztmpl, backup.
	Content []string
	// Path is where a file-based storage lives on the node, e.g. /var/lib/vz.
	Path string
	// TotalBytes is the storage's capacity (default 1 TiB).
	TotalBytes int64
	// Disabled storages are configured but not active.
	Disabled bool
}

// PCIMapping is a cluster-wide PCI resource mapping.
type PCIMapping struct {
	// ID is the mapping name used as hostpciN: mapping=<ID>.
	ID string
	// Path is the device's PCI address on the node, e.g. 0000:07:00.
	Path string
	// DeviceID is the vendor:device ID, e.g. 10de:27b0.
	DeviceID string
	// Description says what the device is.
	Description string
}

// User is a PVE user who can log in with a password.
type User struct {
	// ID is user@realm, e.g. root@pam.
	ID string
	// Password is the login password.
	Password string
	// ACL grants the user roles on paths.
	ACL []ACL
}

// Token is an API token of the user its ID names (user@realm!name). As on
// PVE, a token is privilege-separated by default (privsep=1): it holds the
// privileges both its own ACL and its user's grant on a path. With
// NoPrivsep (privsep=0) it holds exactly its user's privileges, and its own
// ACL does not count. A privilege-separated token whose user is not among
// Setup.Users belongs to an implicit user that may do everything, so it
// holds what its own ACL grants; a NoPrivsep token's user must be listed.
type Token struct {
	// ID is user@realm!name, e.g. root@pam!infra.
	ID string
	// Secret is the token's UUID secret.
	Secret string
	// ACL grants the token roles on paths.
	ACL []ACL
	// NoPrivsep makes the token a privsep=0 token: it holds its user's
	// privileges.
	NoPrivsep bool
}

// ACL grants a role on a path.
type ACL struct {
	// Path is an ACL path: "/", "/storage/local", "/vms/100", ...
	Path string
	// Role is a built-in role (Administrator, PVEAuditor, PVEVMAdmin,
	// PVEDatastoreAdmin, PVEDatastoreUser, PVESDNUser, PVEMappingUser,
	// NoAccess) or one from Setup.Roles.
	Role string
	// Propagate makes the grant apply below Path too.
	Propagate bool
}

// VMSetup is a VM that exists from the start.
type VMSetup struct {
	VMID     int
	Name     string
	Tags     string
	Template bool
}

// DefaultTokenID is the token of DefaultSetup; its secret is random per
// setup (Server.Token returns it).
const DefaultTokenID = "root@pam!infra"

// DefaultSetup is a fresh Proxmox VE 9 install on the homelab's host: node
// "pve" with 12 CPUs and 96 GiB, the storages an installer on ZFS creates
// ("local" as a directory with iso, vztmpl and backup, "local-zfs" for disks;
// note that "import" is off, as on a real install), the bridge vmbr0, a
// resolv.conf with nameserver 192.168.1.1 and search pvesim.lan, no PCI
// mapping, and root@pam (random password) with an all-powerful token (random
// secret).
func DefaultSetup() Setup {
	return Setup{
		Node:        "pve",
		Version:     "9.0.3",
		CPUs:        12,
		MemoryBytes: 96 << 30,
		Storages: []StorageSetup{
			{ID: "local", Type: "dir", Path: "/var/lib/vz", Content: []string{"iso", "vztmpl", "backup"}},
			{ID: "local-zfs", Type: "zfspool", Content: []string{"images", "rootdir"}},
		},
		Bridges:       []string{"vmbr0"},
		DNSServers:    []string{"192.168.1.1"},
		SearchDomains: []string{"pvesim.lan"},
		Users:         []User{{ID: "root@pam", Password: uuid(), ACL: []ACL{{Path: "/", Role: "Administrator", Propagate: true}}}},
		Tokens:        []Token{{ID: DefaultTokenID, Secret: uuid(), ACL: []ACL{{Path: "/", Role: "Administrator", Propagate: true}}}},
	}
}

// privileges are every PVE 9 privilege.
func privileges() []string {
	return []string{
		"Datastore.Allocate", "Datastore.AllocateSpace", "Datastore.AllocateTemplate", "Datastore.Audit",
		"Group.Allocate", "Mapping.Audit", "Mapping.Modify", "Mapping.Use", "Permissions.Modify",
		"Pool.Allocate", "Pool.Audit", "Realm.Allocate", "Realm.AllocateUser",
		"SDN.Allocate", "SDN.Audit", "SDN.Use",
		"Sys.AccessNetwork", "Sys.Audit", "Sys.Console", "Sys.Incoming", "Sys.Modify", "Sys.PowerMgmt", "Sys.Syslog",
		"User.Modify",
		"VM.Allocate", "VM.Audit", "VM.Backup", "VM.Clone",
		"VM.Config.CDROM", "VM.Config.CPU", "VM.Config.Cloudinit", "VM.Config.Disk", "VM.Config.HWType",
		"VM.Config.Memory", "VM.Config.Network", "VM.Config.Options", "VM.Console",
		"VM.GuestAgent.Audit", "VM.GuestAgent.FileRead", "VM.GuestAgent.FileSystemMgmt", "VM.GuestAgent.FileWrite",
		"VM.GuestAgent.Unrestricted", "VM.Migrate", "VM.PowerMgmt", "VM.Replicate", "VM.Snapshot", "VM.Snapshot.Rollback",
	}
}

// builtinRoles are PVE's predefined roles the simulator knows.
func builtinRoles() map[string][]string {
	all := privileges()
	with := func(prefix ...string) []string {
		var out []string
		for _, p := range all {
			for _, pre := range prefix {
				if len(p) >= len(pre) && p[:len(pre)] == pre {
					out = append(out, p)
				}
			}
		}
		return out
	}
	return map[string][]string{
		"Administrator":     all,
		"NoAccess":          nil,
		"PVEAuditor":        {"Datastore.Audit", "Mapping.Audit", "Pool.Audit", "SDN.Audit", "Sys.Audit", "VM.Audit", "VM.GuestAgent.Audit"},
		"PVEVMAdmin":        with("VM."),
		"PVEDatastoreAdmin": with("Datastore."),
		"PVEDatastoreUser":  {"Datastore.AllocateSpace", "Datastore.Audit"},
		"PVESDNUser":        {"SDN.Audit", "SDN.Use"},
		"PVEMappingUser":    {"Mapping.Audit", "Mapping.Use"},
	}
}

// contentAllowed lists the content types each storage type can hold.
func contentAllowed(storageType string) []string {
	switch storageType {
	case "dir", "nfs", "cifs", "btrfs":
		return []string{"images", "rootdir", "vztmpl", "iso", "backup", "snippets", "import"}
	case "cephfs":
		return []string{"vztmpl", "iso", "backup", "snippets", "import"}
	case "zfspool", "lvmthin", "lvm", "rbd":
		return []string{"images", "rootdir"}
	}
	return nil
}

// fileBased reports whether a storage type keeps volumes as files.
func fileBased(storageType string) bool {
	return slices.Contains([]string{"dir", "nfs", "cifs", "cephfs", "btrfs"}, storageType)
}
