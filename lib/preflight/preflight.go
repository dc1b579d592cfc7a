package preflight

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/proxmox"
)

// Option configures Run.
type Option func(*options)

type options struct {
	progress func(Event)
}

// WithProgress receives an event as each step starts and ends, so a
// caller can show what is being checked while it waits.
func WithProgress(f func(Event)) Option { return func(o *options) { o.progress = f } }

// checker runs the checks of one plan through one client.
type checker struct {
	c    *proxmox.Client
	plan Plan
}

// Run checks that the host c talks to, c's token and the plan fit
// together: PVE version, authentication, privileges, storages and their
// content types, the bridge, the planned VM IDs and the GPU's PCI mapping.
// It never changes anything. A check that cannot run (the host is
// unreachable) fails with the reason; the report is always returned.
func Run(ctx context.Context, c *proxmox.Client, plan Plan, opts ...Option) Report {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	ch := checker{c: c, plan: plan}
	var r Report
	step := func(name string, run func() []Check) {
		ev := Event{Step: name, Host: c.Addr()}
		if o.progress != nil {
			o.progress(ev)
		}
		checks := run()
		r.Checks = append(r.Checks, checks...)
		if o.progress != nil {
			ev.Done, ev.Checks = true, checks
			o.progress(ev)
		}
	}

	connected := false
	step("TLS, API token and PVE version", func() []Check {
		v, err := c.Version(ctx)
		if err != nil {
			return []Check{ch.connectionCheck(err)}
		}
		connected = true
		return []Check{{Name: "API token", Status: Pass, Detail: fmt.Sprintf("%s authenticated at %s", c.TokenID(), c.URL())}, versionCheck(v)}
	})
	if !connected {
		return r
	}

	nodeOK := false
	step("node "+plan.Node, func() []Check {
		var checks []Check
		checks, nodeOK = ch.nodeChecks(ctx)
		return checks
	})
	step("token privileges", func() []Check { return ch.privilegeChecks(ctx) })
	if nodeOK {
		step("storages", func() []Check { return ch.storageChecks(ctx) })
		step("bridge "+plan.Bridge, func() []Check { return []Check{ch.bridgeCheck(ctx)} })
	}
	step("planned VM IDs", func() []Check { return ch.vmidChecks(ctx) })
	if len(plan.PCIMappings) > 0 {
		step("PCI mappings", func() []Check { return ch.mappingChecks(ctx) })
	}
	if len(plan.Templates) > 0 {
		step("templates", func() []Check { return ch.templateChecks(ctx) })
	}
	return r
}

// templateChecks checks that every template the plan clones exists on
// the node and is a template, from its configuration (current on PVE,
// unlike the statistics /cluster/resources reports).
func (ch checker) templateChecks(ctx context.Context) []Check {
	var out []Check
	for _, t := range ch.plan.Templates {
		name := fmt.Sprintf("template %d (%s)", t.ID, t.Name)
		cfg, err := ch.c.VMConfig(ctx, ch.plan.Node, t.ID)
		switch {
		case errors.Is(err, proxmox.ErrVMNotFound):
			out = append(out, Check{Name: name, Status: Fail, Field: t.Field, Detail: fmt.Sprintf("no VM %d on node %s", t.ID, ch.plan.Node),
				Fix: fmt.Sprintf("build the template first, or set %s in homelab.yaml to the ID of an existing template", t.Field)})
		case err != nil:
			out = append(out, Check{Name: name, Status: Fail, Field: t.Field, Detail: err.Error(), Fix: ch.fixFor(err, "grant the token VM.Audit on /vms")})
		case cfg.Get("template") != "1":
			out = append(out, Check{Name: name, Status: Fail, Field: t.Field, Detail: fmt.Sprintf("VM %d (%s) is not a template", t.ID, cfg.Get("name")),
				Fix: fmt.Sprintf("set %s in homelab.yaml to the ID of a template", t.Field)})
		default:
			out = append(out, Check{Name: name, Status: Pass, Field: t.Field, Detail: fmt.Sprintf("%s on %s", cfg.Get("name"), ch.plan.Node)})
		}
	}
	return out
}

// connectionCheck is the first check when the first call failed: the
// token was refused, or the connection failed.
func (ch checker) connectionCheck(err error) Check {
	c := Check{Name: "API connection", Status: Fail, Detail: err.Error(), Fix: ch.c.ConnectionFix(err)}
	if proxmox.IsStatus(err, http.StatusUnauthorized) {
		c.Name = "API token"
	}
	return c
}

// fixFor is grant when err says the token lacks a privilege (403), else
// what the client says about err: a hint about privileges would lie about
// a connection that failed.
func (ch checker) fixFor(err error, grant string) string {
	if proxmox.IsStatus(err, http.StatusForbidden) {
		return grant
	}
	return ch.c.ConnectionFix(err)
}

func versionCheck(v proxmox.Version) Check {
	c := Check{Name: "PVE version", Detail: "Proxmox VE " + v.Version}
	switch {
	case v.Major() >= 9:
		c.Status = Pass
	case v.Major() == 8 && v.Minor() >= 4:
		c.Status = Warn
		c.Fix = "PVE 8.4 works but is not what the project tests against: upgrade to Proxmox VE 9"
	default:
		c.Status = Fail
		c.Fix = "import content and the API calls used here need Proxmox VE 9 (8.4 at least): upgrade the host"
	}
	return c
}

// nodeChecks checks the plan's node is in the cluster and online, and
// reports whether it is.
func (ch checker) nodeChecks(ctx context.Context) ([]Check, bool) {
	node := ch.plan.Node
	name := "node " + node
	nodes, err := ch.c.Nodes(ctx)
	if err != nil {
		return []Check{{Name: name, Status: Fail, Detail: err.Error(), Fix: ch.fixFor(err, "grant the token Sys.Audit on /nodes/"+node)}}, false
	}
	var names []string
	for _, n := range nodes {
		names = append(names, n.Node)
		if n.Node == node {
			online := n.Status == "online"
			st := Pass
			if !online {
				st = Fail
			}
			return []Check{{Name: name, Status: st, Detail: fmt.Sprintf("%s, %d CPUs, %d GiB", n.Status, n.MaxCPU, n.MaxMem>>30),
				Fix: "bring the node online"}}, online
		}
	}
	return []Check{{Name: name, Status: Fail, Detail: "not in the cluster; it has " + strings.Join(names, ", "),
		Fix: "set proxmox.node in homelab.yaml to the node name shown under Datacenter"}}, false
}

// privilegeChecks checks the token holds every privilege of the table
// (Privileges) on the plan's paths, one check per path; the planned VMs
// that pass are summed up in one check.
func (ch checker) privilegeChecks(ctx context.Context) []Check {
	perms, err := ch.c.Permissions(ctx)
	if err != nil {
		return []Check{{Name: "privileges", Status: Fail, Detail: err.Error(), Fix: ch.fixFor(err, "the token could not read its own permissions; check it is not expired")}}
	}
	var paths []string
	byPath := map[string][]Privilege{}
	for _, n := range ch.plan.needs() {
		if byPath[n.path] == nil {
			paths = append(paths, n.path)
		}
		byPath[n.path] = append(byPath[n.path], n.priv)
	}
	var out []Check
	var vmOK []string
	for _, path := range paths {
		c := privilegeCheck(ch.c.TokenID(), perms, path, byPath[path])
		if strings.HasPrefix(path, "/vms/") && c.Status == Pass {
			vmOK = append(vmOK, strings.TrimPrefix(path, "/vms/"))
			continue
		}
		out = append(out, c)
	}
	if len(vmOK) > 0 {
		out = append(out, Check{Name: fmt.Sprintf("privileges on %d planned VMs", len(vmOK)), Status: Pass,
			Detail: "holds what the planned calls need on /vms/{" + strings.Join(vmOK, ",") + "}"})
	}
	return out
}

// holds reports whether perms satisfy priv on path: the privilege, one
// PVE accepts instead, or the alternative grant.
func holds(perms proxmox.Permissions, path string, priv Privilege) bool {
	for _, name := range append([]string{priv.Name}, priv.AnyOf...) {
		if len(perms.Missing(path, name)) == 0 {
			return true
		}
	}
	return priv.Or != nil && len(perms.Missing(priv.Or.Path, priv.Or.Privs...)) == 0
}

// describe names a privilege with what PVE accepts instead.
func describe(priv Privilege) string {
	var alt []string
	alt = append(alt, priv.AnyOf...)
	if priv.Or != nil {
		alt = append(alt, strings.Join(priv.Or.Privs, " and ")+" on "+priv.Or.Path)
	}
	if len(alt) == 0 {
		return priv.Name
	}
	return priv.Name + " (or " + strings.Join(alt, ", or ") + ")"
}

// privilegeCheck checks the privileges the plan needs on one path.
func privilegeCheck(tokenID string, perms proxmox.Permissions, path string, privs []Privilege) Check {
	c := Check{Name: "privileges on " + path, Status: Pass}
	var held, missing, names, whys []string
	for _, p := range privs {
		if holds(perms, path, p) {
			held = append(held, p.Name)
			continue
		}
		missing = append(missing, describe(p))
		names = append(names, p.Name)
		whys = append(whys, p.Name+" for "+p.Calls+": "+p.Why)
	}
	if len(missing) == 0 {
		c.Detail = "holds " + strings.Join(held, ", ")
		return c
	}
	c.Status = Fail
	c.Detail = "missing " + strings.Join(missing, ", ")
	c.Fix = fmt.Sprintf("%s. Grant %s on %s to the token %s (and to its user too, if the token is privilege-separated): "+
		"pveum acl modify %s --tokens '%s' --roles %s, the minimal role docs/deployment/planning.md defines (or Datacenter → Permissions → Add, propagate on)",
		strings.Join(whys, "; "), strings.Join(names, ", "), path, tokenID, grantPath(path), tokenID, RoleName)
	return c
}

func (ch checker) storageChecks(ctx context.Context) []Check {
	plan := ch.plan
	storages, err := ch.c.Storages(ctx, plan.Node)
	if err != nil {
		return []Check{{Name: "storages", Status: Fail, Detail: err.Error(), Fix: ch.fixFor(err, "grant the token Datastore.Audit on /storage")}}
	}
	byID := map[string]proxmox.Storage{}
	var ids []string
	for _, s := range storages {
		byID[s.Storage] = s
		ids = append(ids, s.Storage)
	}
	sort.Strings(ids)
	want := []struct{ id, content, field string }{
		{plan.ImportStorage, "import", "proxmox.storage.import"},
		{plan.ISOStorage, "iso", "proxmox.storage.iso"},
		{plan.DiskStorage, "images", "proxmox.storage.disks"},
	}
	var out []Check
	for _, w := range want {
		if w.id == "" {
			continue
		}
		name := fmt.Sprintf("storage %s holds %s", w.id, w.content)
		s, ok := byID[w.id]
		switch {
		case !ok:
			out = append(out, Check{Name: name, Status: Fail, Detail: "no such storage; the node has " + strings.Join(ids, ", "),
				Fix: fmt.Sprintf("set %s in homelab.yaml to one of: %s", w.field, strings.Join(ids, ", "))})
		case w.content != "images" && !proxmox.FileBased(s.Type):
			out = append(out, Check{Name: name, Status: Fail, Detail: fmt.Sprintf("type %s cannot hold %s content (only directory-like storages can)", s.Type, w.content),
				Fix: fmt.Sprintf("set %s in homelab.yaml to a directory-like storage such as local", w.field)})
		case s.Enabled == 0 || s.Active == 0:
			out = append(out, Check{Name: name, Status: Fail, Detail: "storage is disabled or inactive", Fix: "enable the storage under Datacenter → Storage"})
		case !s.Holds(w.content):
			detail := fmt.Sprintf("content is %s; %s is missing", s.Content, w.content)
			if w.content == "import" {
				detail += " (it is off by default on PVE)"
			}
			out = append(out, Check{Name: name, Status: Fail, Detail: detail,
				Fix: fmt.Sprintf("Datacenter → Storage → %s → Edit → Content: add %s", w.id, contentLabel(w.content))})
		default:
			out = append(out, Check{Name: name, Status: Pass, Detail: fmt.Sprintf("%s storage, %d GiB free", s.Type, s.Avail>>30)})
		}
		out[len(out)-1].Field = w.field
	}
	return out
}

// contentLabel is how the PVE web UI names a content type.
func contentLabel(content string) string {
	switch content {
	case "import":
		return "Import"
	case "iso":
		return "ISO image"
	case "images":
		return "Disk image"
	}
	return content
}

func (ch checker) bridgeCheck(ctx context.Context) Check {
	plan := ch.plan
	name := "bridge " + plan.Bridge
	bridges, err := ch.c.Bridges(ctx, plan.Node)
	if err != nil {
		return Check{Name: name, Status: Fail, Detail: err.Error(), Fix: ch.fixFor(err, "grant the token Sys.Audit on /nodes/"+plan.Node)}
	}
	if slices.Contains(bridges, plan.Bridge) {
		return Check{Name: name, Status: Pass, Detail: "exists on " + plan.Node}
	}
	return Check{Name: name, Status: Fail, Detail: "not on " + plan.Node + "; it has " + strings.Join(bridges, ", "),
		Fix: "set proxmox.bridge in homelab.yaml to one of those, or create the bridge under Node → System → Network"}
}

// vmidChecks decides from the VM list (/cluster/resources) only what it
// holds current on PVE: which IDs exist (the cluster filesystem's vmlist)
// and their tags. The names it prints come from pvestatd's last statistics
// and may lag (empty for a VM created a moment ago): display only.
func (ch checker) vmidChecks(ctx context.Context) []Check {
	vms, err := ch.c.VMs(ctx)
	if err != nil {
		return []Check{{Name: "VM IDs", Status: Fail, Detail: err.Error(), Fix: ch.fixFor(err, "grant the token VM.Audit on /vms")}}
	}
	byID := map[int]proxmox.VMInfo{}
	for _, v := range vms {
		byID[v.VMID] = v
	}
	var free []string
	var out []Check
	planned := slices.Clone(ch.plan.VMs)
	sort.Slice(planned, func(i, j int) bool { return planned[i].ID < planned[j].ID })
	for _, p := range planned {
		v, taken := byID[p.ID]
		switch {
		case !taken:
			free = append(free, fmt.Sprint(p.ID))
		case v.HasTag(inventory.ManagedTag):
			out = append(out, Check{Name: fmt.Sprintf("VM ID %d", p.ID), Status: Pass, Detail: fmt.Sprintf("already ours: %s (%s)", v.Name, p.Name)})
		default:
			out = append(out, Check{Name: fmt.Sprintf("VM ID %d", p.ID), Status: Fail,
				Detail: fmt.Sprintf("planned for %s but held by %q, which this project did not create", p.Name, v.Name),
				Fix:    fmt.Sprintf("free VM %d on the host, or change %s in homelab.yaml to a free ID", p.ID, p.Field)})
		}
	}
	if len(free) > 0 {
		out = append([]Check{{Name: "VM IDs", Status: Pass, Detail: fmt.Sprintf("%d planned IDs free: %s", len(free), strings.Join(free, " "))}}, out...)
	}
	return out
}

func (ch checker) mappingChecks(ctx context.Context) []Check {
	plan := ch.plan
	mappings, err := ch.c.PCIMappings(ctx)
	if err != nil {
		return []Check{{Name: "PCI mappings", Status: Fail, Detail: err.Error(), Fix: ch.fixFor(err, "grant the token Mapping.Audit on /mapping/pci")}}
	}
	var out []Check
	for k, id := range plan.PCIMappings {
		name := "PCI mapping " + id
		field := ""
		if k < len(plan.PCIMappingFields) {
			field = plan.PCIMappingFields[k]
		}
		i := slices.IndexFunc(mappings, func(m proxmox.PCIMapping) bool { return m.ID == id })
		if i < 0 {
			out = append(out, Check{Name: name, Status: Fail, Field: field, Detail: "does not exist (GPU passthrough is enabled)",
				Fix: fmt.Sprintf("Datacenter → Resource Mappings → PCI Devices → Add: name %s, node %s, device %s with all functions", id, plan.Node, strings.Join(plan.PCIDevices, ", "))})
			continue
		}
		detail := strings.Join(mappings[i].Map, "; ")
		st := Pass
		fix := ""
		for _, dev := range plan.PCIDevices {
			slot := strings.TrimPrefix(strings.ToLower(dev), "0000:")
			slot = strings.SplitN(slot, ".", 2)[0]
			if !strings.Contains(strings.ToLower(detail), slot) {
				st = Warn
				fix = fmt.Sprintf("the mapping does not point at %s as homelab.yaml says; check talos.nodes[].gpu.pci and the mapping", dev)
			}
		}
		out = append(out, Check{Name: name, Status: st, Field: field, Detail: detail, Fix: fix})
	}
	return out
}
