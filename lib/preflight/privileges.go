package preflight

import (
	"fmt"
	"slices"
	"strings"
)

// RoleName is the name the documentation gives the minimal role, the one
// holding MinimalRole.
const RoleName = "InfraProvisioner"

// Privilege is one privilege a planned API call needs, on the ACL path PVE
// checks it on. Privileges is the table preflight checks and the
// documentation's minimal role is generated from.
type Privilege struct {
	// Name is the privilege, e.g. VM.Config.Disk; the minimal role holds it.
	Name string
	// Path is the ACL path PVE checks, with placeholders for the plan's
	// values: {node}, {import}, {iso} and {disks} (the storages),
	// {bridge}, {template} (the Talos template's VM ID), {vmid} (every
	// planned VM ID), {mapping} (every PCI mapping).
	Path string
	// AnyOf are privileges PVE accepts instead of Name on Path.
	AnyOf []string
	// Or is a grant elsewhere PVE accepts instead.
	Or *Grant
	// Calls are the API calls that need it.
	Calls string
	// Why says what for.
	Why string
}

// Grant is a set of privileges on an ACL path.
type Grant struct {
	// Path is the ACL path, e.g. "/".
	Path string
	// Privs are the privileges, all of them needed.
	Privs []string
}

// Privileges is every privilege the planned operations need, where PVE
// checks it: proxmox:preflight's own reads and every call talos:import
// makes (qemu-server checks VM.Config.* per config key group, and
// Datastore.AllocateSpace for new disks and resizes; pve-storage checks
// changing a storage on /storage).
func Privileges() []Privilege {
	const create = "POST /nodes/{node}/qemu"
	return []Privilege{
		{Name: "Sys.Audit", Path: "/nodes/{node}", Calls: "GET /nodes",
			Why: "see the node's CPUs and memory (PVE leaves them out without it)"},
		{Name: "Sys.AccessNetwork", Path: "/nodes/{node}", Or: &Grant{Path: "/", Privs: []string{"Sys.Audit", "Sys.Modify"}},
			Calls: "POST /nodes/{node}/storage/{import}/download-url",
			Why:   "have the node download the Talos image"},
		{Name: "Datastore.Allocate", Path: "/storage", Calls: "PUT /storage/{import}",
			Why: "enable import content on the import storage (PVE checks /storage, not the storage)"},
		{Name: "Datastore.Allocate", Path: "/storage/{import}", Calls: "GET /storage/{import}, DELETE /nodes/{node}/storage/{import}/content/{volume}",
			Why: "read the storage's content list and digest before changing it; delete an image no checksum can verify (-replace)"},
		{Name: "Datastore.AllocateTemplate", Path: "/storage/{import}", Calls: "POST /nodes/{node}/storage/{import}/download-url",
			Why: "download the Talos image into the import storage"},
		{Name: "Datastore.AllocateSpace", AnyOf: []string{"Datastore.Audit"}, Path: "/storage/{import}",
			Calls: "GET /nodes/{node}/storage, GET /nodes/{node}/storage/{import}/content",
			Why:   "see the import storage and the image on it"},
		{Name: "Datastore.AllocateSpace", AnyOf: []string{"Datastore.Audit"}, Path: "/storage/{iso}", Calls: "GET /nodes/{node}/storage",
			Why: "see the ISO storage"},
		{Name: "Datastore.AllocateSpace", Path: "/storage/{disks}", Calls: create + " (efidisk0, scsi0), PUT /nodes/{node}/qemu/{template}/resize",
			Why: "allocate the template's disks and grow its system disk"},
		{Name: "SDN.Use", Path: "/sdn/zones/localnetwork/{bridge}", Calls: create + " (net0)",
			Why: "attach the template's NIC to the bridge"},
		{Name: "VM.Audit", Path: "/vms/{vmid}", Calls: "GET /cluster/resources, GET /nodes/{node}/qemu/{vmid}/config, GET /nodes/{node}/qemu/{vmid}/status/current",
			Why: "see what holds each planned VM ID, and read the template's config and state"},
		{Name: "VM.Allocate", Path: "/vms/{template}", Calls: create + ", POST /nodes/{node}/qemu/{template}/template, DELETE /nodes/{node}/qemu/{template}",
			Why: "create the Talos template, convert it, remove a half-made one"},
		{Name: "VM.Config.CPU", Path: "/vms/{template}", Calls: create + " (cpu, cores)", Why: "set the template's CPU"},
		{Name: "VM.Config.Memory", Path: "/vms/{template}", Calls: create + " (memory)", Why: "set the template's memory"},
		{Name: "VM.Config.HWType", Path: "/vms/{template}", Calls: create + " (machine, scsihw)", Why: "set the template's machine and SCSI controller"},
		{Name: "VM.Config.Options", Path: "/vms/{template}", Calls: create + " (name, bios, ostype, agent, tags, description)",
			Why: "name, tag and describe the template"},
		{Name: "VM.Config.Disk", Path: "/vms/{template}", Calls: create + " (boot), PUT /nodes/{node}/qemu/{template}/resize",
			Why: "set the boot order and grow the system disk"},
		{Name: "VM.Config.Network", Path: "/vms/{template}", Calls: create + " (net0)", Why: "give the template its NIC"},
		{Name: "Mapping.Use", AnyOf: []string{"Mapping.Audit", "Mapping.Modify"}, Path: "/mapping/pci/{mapping}", Calls: "GET /cluster/mapping/pci",
			Why: "see the GPU's PCI mapping when a node passes a GPU through it"},
	}
}

// MinimalRole is every privilege of Privileges, once, sorted: the role a
// token needs and no more.
func MinimalRole() []string {
	var out []string
	for _, p := range Privileges() {
		if !slices.Contains(out, p.Name) {
			out = append(out, p.Name)
		}
	}
	slices.Sort(out)
	return out
}

// need is a privilege of the table on one path of the plan.
type need struct {
	path string
	priv Privilege
}

// placeholders are the plan's values for each placeholder of a path.
func (p Plan) placeholders() map[string][]string {
	one := func(v string) []string {
		if v == "" {
			return nil
		}
		return []string{v}
	}
	m := map[string][]string{"node": one(p.Node), "import": one(p.ImportStorage), "iso": one(p.ISOStorage), "disks": one(p.DiskStorage),
		"bridge": one(p.Bridge), "mapping": p.PCIMappings}
	if p.TalosTemplate != 0 {
		m["template"] = []string{fmt.Sprint(p.TalosTemplate)}
	}
	for _, vm := range p.VMs {
		m["vmid"] = append(m["vmid"], fmt.Sprint(vm.ID))
	}
	return m
}

// expand renders a path for every value of its placeholder (a path holds
// at most one), with the calls rendered for the same values; none when the
// plan has no value for it.
func expand(priv Privilege, values map[string][]string) []need {
	start := strings.Index(priv.Path, "{")
	if start < 0 {
		return []need{{path: priv.Path, priv: render(priv, values, "", "")}}
	}
	end := strings.Index(priv.Path, "}")
	key := priv.Path[start+1 : end]
	var out []need
	for _, v := range values[key] {
		out = append(out, need{path: priv.Path[:start] + v + priv.Path[end+1:], priv: render(priv, values, key, v)})
	}
	return out
}

// render fills the placeholders of priv's calls: key with value, the
// others with the plan's single values.
func render(priv Privilege, values map[string][]string, key, value string) Privilege {
	for k, vs := range values {
		v := strings.Join(vs, ",")
		if k == key {
			v = value
		}
		if v != "" {
			priv.Calls = strings.ReplaceAll(priv.Calls, "{"+k+"}", v)
		}
	}
	return priv
}

// needs are the table's privileges on the plan's paths, each (path,
// privilege) once, in table order.
func (p Plan) needs() []need {
	values := p.placeholders()
	var out []need
	for _, priv := range Privileges() {
		for _, n := range expand(priv, values) {
			if !slices.ContainsFunc(out, func(o need) bool { return o.path == n.path && o.priv.Name == n.priv.Name }) {
				out = append(out, n)
			}
		}
	}
	return out
}

// grantPath is where the documentation grants the role for a table path:
// a VM path on /vms (there is one per planned VM), the rest where PVE
// checks it.
func grantPath(path string) string {
	if strings.HasPrefix(path, "/vms/") {
		return "/vms"
	}
	return path
}

// grantPaths turns the table's paths into the fewest ACL paths that cover
// them with the role propagated: a path below another is left out.
func grantPaths(paths []string) []string {
	var all []string
	for _, p := range paths {
		if g := grantPath(p); !slices.Contains(all, g) {
			all = append(all, g)
		}
	}
	var out []string
	for _, p := range all {
		covered := slices.ContainsFunc(all, func(q string) bool { return q != p && strings.HasPrefix(p, q+"/") })
		if !covered {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// GrantPaths are the ACL paths the minimal role must be granted on, with
// propagation, to the token and (for a privilege-separated token) to its
// user, for the plan to pass preflight and run.
func (p Plan) GrantPaths() []string {
	var paths []string
	for _, n := range p.needs() {
		paths = append(paths, n.path)
	}
	return grantPaths(paths)
}
