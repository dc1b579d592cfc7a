package proxmox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
)

// ManagedTag marks VMs this project created: a planned VM ID held by a VM
// with this tag is "ours" and may be reused or repaired.
const ManagedTag = "infra-managed"

// Status is the outcome of one preflight check.
type Status int

// Check outcomes.
const (
	Pass Status = iota
	Warn
	Fail
)

// String renders the status for the report.
func (s Status) String() string {
	return [...]string{"ok", "WARN", "FAIL"}[s]
}

// Check is one preflight check.
type Check struct {
	// Name says what was checked.
	Name string
	// Status is the outcome.
	Status Status
	// Detail says what was found.
	Detail string
	// Fix says what to do when the check did not pass.
	Fix string
}

// PreflightReport is every check of a preflight run.
type PreflightReport struct {
	Checks []Check
}

// OK reports whether no check failed (warnings are allowed).
func (r PreflightReport) OK() bool {
	return !slices.ContainsFunc(r.Checks, func(c Check) bool { return c.Status == Fail })
}

// Failed returns the checks that failed.
func (r PreflightReport) Failed() []Check {
	var out []Check
	for _, c := range r.Checks {
		if c.Status == Fail {
			out = append(out, c)
		}
	}
	return out
}

// WriteTable writes the checks as one table, then the fix for each check
// that did not pass.
func (r PreflightReport) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tRESULT\tDETAIL")
	for _, c := range r.Checks {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Name, c.Status, c.Detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, c := range r.Checks {
		if c.Status != Pass && c.Fix != "" {
			fmt.Fprintf(w, "\n%s %s\n  fix: %s\n", c.Status, c.Name, c.Fix)
		}
	}
	return nil
}

// PlannedVM is a VM ID the plan will use.
type PlannedVM struct {
	ID int
	// Name says what the ID is for, e.g. "ubuntu template".
	Name string
	// Field is where the plan sets it, e.g. images.ubuntu.template_id.
	Field string
}

// PreflightPlan is what the planned operations need from the host.
type PreflightPlan struct {
	Node   string
	Bridge string
	// ImportStorage receives downloaded disk images ("import" content).
	ImportStorage string
	// ISOStorage receives ISOs ("iso" content).
	ISOStorage string
	// DiskStorage holds VM disks ("images" content).
	DiskStorage string
	// VMs are the planned VM IDs.
	VMs []PlannedVM
	// PCIMappings are the PCI resource mappings GPU passthrough uses.
	PCIMappings []string
	// PCIDevices are the host PCI functions the mappings should point at.
	PCIDevices []string
}

// requirement is a set of privileges the plan needs on an ACL path.
type requirement struct {
	path  string
	privs []string
	why   string
}

func (p PreflightPlan) requirements() []requirement {
	reqs := []requirement{
		{"/nodes/" + p.Node, []string{"Sys.Audit", "Sys.AccessNetwork"}, "read the node and let it download images"},
		{"/storage/" + p.ImportStorage, []string{"Datastore.Audit", "Datastore.Allocate", "Datastore.AllocateTemplate"}, "list, download into and enable import content"},
		{"/storage/" + p.DiskStorage, []string{"Datastore.Audit", "Datastore.AllocateSpace"}, "allocate VM disks"},
		{"/sdn/zones/localnetwork/" + p.Bridge, []string{"SDN.Use"}, "attach NICs to the bridge"},
	}
	if p.ISOStorage != "" && p.ISOStorage != p.ImportStorage {
		reqs = append(reqs, requirement{"/storage/" + p.ISOStorage, []string{"Datastore.Audit", "Datastore.AllocateTemplate"}, "download ISOs"})
	}
	vmPrivs := []string{"VM.Allocate", "VM.Audit", "VM.Clone", "VM.Config.CPU", "VM.Config.Cloudinit", "VM.Config.Disk",
		"VM.Config.HWType", "VM.Config.Memory", "VM.Config.Network", "VM.Config.Options"}
	for _, vm := range p.VMs {
		reqs = append(reqs, requirement{fmt.Sprintf("/vms/%d", vm.ID), vmPrivs, "create, configure and clone " + vm.Name})
	}
	for _, m := range p.PCIMappings {
		reqs = append(reqs, requirement{"/mapping/pci/" + m, []string{"Mapping.Use"}, "pass the GPU through"})
	}
	return reqs
}

// effective returns the privileges held on path given /access/permissions:
// those listed for the path itself, else those that propagate from the
// deepest listed ancestor, as PVE resolves ACLs.
func effective(perms map[string]map[string]bool, path string) map[string]bool {
	best, bestLen := map[string]bool{}, -1
	for p, privs := range perms {
		exact := p == path
		if !exact && p != "/" && !strings.HasPrefix(path, strings.TrimSuffix(p, "/")+"/") {
			continue
		}
		got := map[string]bool{}
		for priv, propagate := range privs {
			if exact || propagate {
				got[priv] = true
			}
		}
		if !exact && len(got) == 0 {
			continue // nothing here reaches below p
		}
		if l := len(strings.TrimSuffix(p, "/")); l > bestLen {
			best, bestLen = got, l
		}
	}
	return best
}

// Preflight checks that the host, the token and the plan fit together: PVE
// version, authentication, privileges, storages and their content types,
// the bridge, the planned VM IDs and the GPU's PCI mapping. It never changes
// anything. A check that cannot run (the host is unreachable) fails with the
// reason; the report is always returned.
func (c *Client) Preflight(ctx context.Context, plan PreflightPlan) PreflightReport {
	var r PreflightReport
	add := func(ch Check) { r.Checks = append(r.Checks, ch) }

	v, err := c.Version(ctx)
	if err != nil {
		add(connectionCheck(c.cfg, err))
		return r
	}
	add(Check{Name: "API token", Status: Pass, Detail: fmt.Sprintf("%s authenticated at %s", c.cfg.TokenID, c.cfg.URL)})
	add(versionCheck(v))

	nodes, err := c.Nodes(ctx)
	nodeOK := false
	switch {
	case err != nil:
		add(Check{Name: "node " + plan.Node, Status: Fail, Detail: err.Error(), Fix: "grant the token Sys.Audit on /nodes/" + plan.Node})
	default:
		var names []string
		for _, n := range nodes {
			names = append(names, n.Node)
			if n.Node == plan.Node {
				nodeOK = n.Status == "online"
				st := Pass
				if !nodeOK {
					st = Fail
				}
				add(Check{Name: "node " + plan.Node, Status: st, Detail: fmt.Sprintf("%s, %d CPUs, %d GiB", n.Status, n.MaxCPU, n.MaxMem>>30),
					Fix: "bring the node online"})
			}
		}
		if !slices.Contains(names, plan.Node) {
			add(Check{Name: "node " + plan.Node, Status: Fail, Detail: "not in the cluster; it has " + strings.Join(names, ", "),
				Fix: "set proxmox.node in homelab.yaml to the node name shown under Datacenter"})
		}
	}

	if perms, err := c.Permissions(ctx); err != nil {
		add(Check{Name: "privileges", Status: Fail, Detail: err.Error(), Fix: "the token could not read its own permissions; check it is not expired"})
	} else {
		var vmOK []string
		for _, req := range plan.requirements() {
			ch := privilegeCheck(c.cfg.TokenID, perms, req)
			if strings.HasPrefix(req.path, "/vms/") && ch.Status == Pass {
				vmOK = append(vmOK, strings.TrimPrefix(req.path, "/vms/"))
				continue
			}
			add(ch)
		}
		if len(vmOK) > 0 {
			add(Check{Name: fmt.Sprintf("privileges on %d planned VMs", len(vmOK)), Status: Pass,
				Detail: "can create, configure and clone /vms/{" + strings.Join(vmOK, ",") + "}"})
		}
	}

	if nodeOK {
		r.Checks = append(r.Checks, c.storageChecks(ctx, plan)...)
		add(c.bridgeCheck(ctx, plan))
	}
	r.Checks = append(r.Checks, c.vmidChecks(ctx, plan)...)
	if len(plan.PCIMappings) > 0 {
		r.Checks = append(r.Checks, c.mappingChecks(ctx, plan)...)
	}
	return r
}

func connectionCheck(cfg Config, err error) Check {
	ch := Check{Name: "API token", Status: Fail, Detail: err.Error()}
	var apiErr *APIError
	var netErr *NetworkError
	switch {
	case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusUnauthorized:
		ch.Fix = fmt.Sprintf("the token %s was refused: check %s and %s, and that the token exists and has not expired (Datacenter → Permissions → API Tokens)", cfg.TokenID, EnvTokenID, EnvTokenSecret)
	case errors.As(err, &netErr) && strings.Contains(netErr.Err.Error(), "certificate"):
		ch.Name = "API connection"
		ch.Fix = fmt.Sprintf("the host's certificate is not trusted: set %s to its CA, or pin it with %s (its SHA-256 fingerprint under Node → System → Certificates)", EnvCAFile, EnvTLSFingerprint)
	default:
		ch.Name = "API connection"
		ch.Fix = fmt.Sprintf("check %s=%s: the host must be reachable on port 8006", EnvURL, cfg.URL)
	}
	return ch
}

func versionCheck(v Version) Check {
	ch := Check{Name: "PVE version", Detail: "Proxmox VE " + v.Version}
	switch {
	case v.Major() >= 9:
		ch.Status = Pass
	case v.Major() == 8 && v.Minor() >= 4:
		ch.Status = Warn
		ch.Fix = "PVE 8.4 works but is not what the project tests against: upgrade to Proxmox VE 9"
	default:
		ch.Status = Fail
		ch.Fix = "import content and the API calls used here need Proxmox VE 9 (8.4 at least): upgrade the host"
	}
	return ch
}

func privilegeCheck(tokenID string, perms map[string]map[string]bool, req requirement) Check {
	have := effective(perms, req.path)
	var missing []string
	for _, p := range req.privs {
		if !have[p] {
			missing = append(missing, p)
		}
	}
	ch := Check{Name: "privileges on " + req.path, Status: Pass, Detail: "can " + req.why}
	if len(missing) > 0 {
		ch.Status = Fail
		ch.Detail = "missing " + strings.Join(missing, ", ") + " (needed to " + req.why + ")"
		ch.Fix = fmt.Sprintf("Datacenter → Permissions → Add → API Token Permission: path %s, token %s, a role holding %s (e.g. %s), propagate on",
			req.path, tokenID, strings.Join(missing, ", "), suggestRole(missing))
	}
	return ch
}

func suggestRole(privs []string) string {
	switch {
	case allPrefixed(privs, "VM."):
		return "PVEVMAdmin"
	case allPrefixed(privs, "Datastore."):
		return "PVEDatastoreAdmin"
	case allPrefixed(privs, "SDN."):
		return "PVESDNUser"
	case allPrefixed(privs, "Mapping."):
		return "PVEMappingUser"
	}
	return "Administrator, or a custom role"
}

func allPrefixed(list []string, prefix string) bool {
	for _, s := range list {
		if !strings.HasPrefix(s, prefix) {
			return false
		}
	}
	return true
}

func (c *Client) storageChecks(ctx context.Context, plan PreflightPlan) []Check {
	storages, err := c.Storages(ctx, plan.Node)
	if err != nil {
		return []Check{{Name: "storages", Status: Fail, Detail: err.Error(), Fix: "grant the token Datastore.Audit on /storage"}}
	}
	byID := map[string]Storage{}
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
		case w.content != "images" && !FileBased(s.Type):
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
	}
	return out
}

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

func (c *Client) bridgeCheck(ctx context.Context, plan PreflightPlan) Check {
	name := "bridge " + plan.Bridge
	bridges, err := c.Bridges(ctx, plan.Node)
	if err != nil {
		return Check{Name: name, Status: Fail, Detail: err.Error(), Fix: "grant the token Sys.Audit on /nodes/" + plan.Node}
	}
	if slices.Contains(bridges, plan.Bridge) {
		return Check{Name: name, Status: Pass, Detail: "exists on " + plan.Node}
	}
	return Check{Name: name, Status: Fail, Detail: "not on " + plan.Node + "; it has " + strings.Join(bridges, ", "),
		Fix: "set proxmox.bridge in homelab.yaml to one of those, or create the bridge under Node → System → Network"}
}

func (c *Client) vmidChecks(ctx context.Context, plan PreflightPlan) []Check {
	vms, err := c.VMs(ctx)
	if err != nil {
		return []Check{{Name: "VM IDs", Status: Fail, Detail: err.Error(), Fix: "grant the token VM.Audit on /vms"}}
	}
	byID := map[int]VMInfo{}
	for _, v := range vms {
		byID[v.VMID] = v
	}
	var free []string
	var out []Check
	planned := slices.Clone(plan.VMs)
	sort.Slice(planned, func(i, j int) bool { return planned[i].ID < planned[j].ID })
	for _, p := range planned {
		v, taken := byID[p.ID]
		switch {
		case !taken:
			free = append(free, fmt.Sprint(p.ID))
		case v.HasTag(ManagedTag):
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

func (c *Client) mappingChecks(ctx context.Context, plan PreflightPlan) []Check {
	mappings, err := c.PCIMappings(ctx)
	if err != nil {
		return []Check{{Name: "PCI mappings", Status: Fail, Detail: err.Error(), Fix: "grant the token Mapping.Audit on /mapping/pci"}}
	}
	var out []Check
	for _, id := range plan.PCIMappings {
		name := "PCI mapping " + id
		i := slices.IndexFunc(mappings, func(m PCIMapping) bool { return m.ID == id })
		if i < 0 {
			out = append(out, Check{Name: name, Status: Fail, Detail: "does not exist (GPU passthrough is enabled)",
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
		out = append(out, Check{Name: name, Status: st, Detail: detail, Fix: fix})
	}
	return out
}
