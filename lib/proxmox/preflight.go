package proxmox

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/netx"
)

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

// CheckEvent tells that a preflight step starts or ends.
type CheckEvent struct {
	// Step says what is checked, e.g. "TLS, API token and PVE version".
	Step string
	// Host is the API's host:port.
	Host string
	// Done is false when the step starts, true when it ends.
	Done bool
	// Checks are the step's outcomes, when Done.
	Checks []Check
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
// reason; the report is always returned. Each step is told to the
// WithCheckProgress callback as it starts and ends.
func (c *Client) Preflight(ctx context.Context, plan PreflightPlan) PreflightReport {
	var r PreflightReport
	step := func(name string, run func() []Check) {
		host, port := c.cfg.hostPort()
		ev := CheckEvent{Step: name, Host: net.JoinHostPort(host, port)}
		if c.check != nil {
			c.check(ev)
		}
		checks := run()
		r.Checks = append(r.Checks, checks...)
		if c.check != nil {
			ev.Done, ev.Checks = true, checks
			c.check(ev)
		}
	}

	connected := false
	step("TLS, API token and PVE version", func() []Check {
		v, err := c.Version(ctx)
		if err != nil {
			return []Check{connectionCheck(c.cfg, err)}
		}
		connected = true
		return []Check{{Name: "API token", Status: Pass, Detail: fmt.Sprintf("%s authenticated at %s", c.cfg.TokenID, c.cfg.URL)}, versionCheck(v)}
	})
	if !connected {
		return r
	}

	nodeOK := false
	step("node "+plan.Node, func() []Check {
		nodes, err := c.Nodes(ctx)
		if err != nil {
			return []Check{{Name: "node " + plan.Node, Status: Fail, Detail: err.Error(), Fix: c.fixFor(err, "grant the token Sys.Audit on /nodes/"+plan.Node)}}
		}
		var names []string
		for _, n := range nodes {
			names = append(names, n.Node)
			if n.Node == plan.Node {
				nodeOK = n.Status == "online"
				st := Pass
				if !nodeOK {
					st = Fail
				}
				return []Check{{Name: "node " + plan.Node, Status: st, Detail: fmt.Sprintf("%s, %d CPUs, %d GiB", n.Status, n.MaxCPU, n.MaxMem>>30),
					Fix: "bring the node online"}}
			}
		}
		return []Check{{Name: "node " + plan.Node, Status: Fail, Detail: "not in the cluster; it has " + strings.Join(names, ", "),
			Fix: "set proxmox.node in homelab.yaml to the node name shown under Datacenter"}}
	})

	step("token privileges", func() []Check {
		perms, err := c.Permissions(ctx)
		if err != nil {
			return []Check{{Name: "privileges", Status: Fail, Detail: err.Error(), Fix: c.fixFor(err, "the token could not read its own permissions; check it is not expired")}}
		}
		var out []Check
		var vmOK []string
		for _, req := range plan.requirements() {
			ch := privilegeCheck(c.cfg.TokenID, perms, req)
			if strings.HasPrefix(req.path, "/vms/") && ch.Status == Pass {
				vmOK = append(vmOK, strings.TrimPrefix(req.path, "/vms/"))
				continue
			}
			out = append(out, ch)
		}
		if len(vmOK) > 0 {
			out = append(out, Check{Name: fmt.Sprintf("privileges on %d planned VMs", len(vmOK)), Status: Pass,
				Detail: "can create, configure and clone /vms/{" + strings.Join(vmOK, ",") + "}"})
		}
		return out
	})

	if nodeOK {
		step("storages", func() []Check { return c.storageChecks(ctx, plan) })
		step("bridge "+plan.Bridge, func() []Check { return []Check{c.bridgeCheck(ctx, plan)} })
	}
	step("planned VM IDs", func() []Check { return c.vmidChecks(ctx, plan) })
	if len(plan.PCIMappings) > 0 {
		step("PCI mappings", func() []Check { return c.mappingChecks(ctx, plan) })
	}
	return r
}

// connectionCheck is the first check when the first call failed: the
// token was refused, or the connection failed.
func connectionCheck(cfg Config, err error) Check {
	ch := Check{Name: "API connection", Status: Fail, Detail: err.Error(), Fix: connectionFix(cfg, err)}
	if IsStatus(err, http.StatusUnauthorized) {
		ch.Name = "API token"
	}
	return ch
}

// connectionFix says what to do about a call that failed for want of a
// working connection or token, from what failed: the token, the
// certificate, or the connection in one of its phases, at the host and port
// the URL names.
func connectionFix(cfg Config, err error) string {
	host, port := cfg.hostPort()
	var (
		apiErr  *APIError
		fpErr   *FingerprintError
		certErr *tls.CertificateVerificationError
		dnsErr  *net.DNSError
		pe      *netx.PhaseError
	)
	errors.As(err, &pe)
	switch {
	case IsStatus(err, http.StatusUnauthorized):
		return fmt.Sprintf("the token %s was refused: check %s and %s, and that the token exists and has not expired (Datacenter → Permissions → API Tokens)", cfg.TokenID, EnvTokenID, EnvTokenSecret)
	case errors.As(err, &apiErr) && (apiErr.StatusCode == http.StatusNotFound || apiErr.StatusCode == http.StatusNotImplemented):
		return fmt.Sprintf("%s:%s answered %d to %s %s, which the Proxmox API does not: check %s=%s points at the API, https://<host>:8006/api2/json",
			host, port, apiErr.StatusCode, apiErr.Method, apiErr.Path, EnvURL, cfg.URL)
	case errors.As(err, &apiErr):
		return fmt.Sprintf("Proxmox answered %d; the host's log says why: journalctl -u pveproxy -u pvedaemon", apiErr.StatusCode)
	case errors.As(err, &fpErr):
		return fmt.Sprintf("the host presents %s but %s pins %s: if the host's certificate was renewed or replaced, read its new SHA-256 fingerprint under Node → System → Certificates (or run pvenode cert info on the host) and set %s to it; if it was not, %s=%s may reach another machine than the one you pinned: find out why before you trust it",
			truncated(fpErr.Presented), EnvTLSFingerprint, truncated(fpErr.Pinned), EnvTLSFingerprint, EnvURL, cfg.URL)
	case (errors.As(err, &certErr) || strings.Contains(err.Error(), "certificate")) && cfg.CAFile != "":
		return fmt.Sprintf("the host's certificate is not signed by the CA in %s (%s): set it to the CA that signed the certificate, or pin the certificate itself with %s (its SHA-256 fingerprint under Node → System → Certificates)",
			EnvCAFile, cfg.CAFile, EnvTLSFingerprint)
	case errors.As(err, &certErr) || strings.Contains(err.Error(), "certificate"):
		return fmt.Sprintf("the host's certificate is not trusted: set %s to its CA, or pin it with %s (its SHA-256 fingerprint under Node → System → Certificates)", EnvCAFile, EnvTLSFingerprint)
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("the name %s does not resolve: check the host in %s=%s", host, EnvURL, cfg.URL)
	case pe != nil && pe.Phase == netx.PhaseDial && pe.Timeout():
		return fmt.Sprintf("%s did not answer on port %s within %s: check the address in %s=%s, that the host is up, and that no firewall drops port %s",
			host, port, pe.After, EnvURL, cfg.URL, port)
	case pe != nil && pe.Phase == netx.PhaseDial && errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("nothing accepts connections on port %s of %s: check the port in %s=%s (Proxmox serves its API on 8006) and that pveproxy runs on the host",
			port, host, EnvURL, cfg.URL)
	case pe != nil && pe.Phase == netx.PhaseTLSHandshake && pe.Timeout() && pe.Silent:
		return fmt.Sprintf("port %s of %s accepts TCP connections but does not answer TLS: check the port in %s=%s (Proxmox serves its API over TLS on 8006)",
			port, host, EnvURL, cfg.URL)
	case pe != nil && pe.Phase == netx.PhaseTLSHandshake:
		return fmt.Sprintf("the TLS handshake with port %s of %s did not complete: check %s=%s points at the Proxmox API", port, host, EnvURL, cfg.URL)
	case pe != nil && pe.Timeout():
		return fmt.Sprintf("%s:%s took the request but the API did not answer in time: pveproxy may be hung or overloaded (on the host: systemctl status pveproxy); on a slow link, raise the limits with %s",
			host, port, netx.EnvTimeouts)
	}
	return fmt.Sprintf("check %s=%s: the host must be reachable on port %s", EnvURL, cfg.URL, port)
}

// truncated shortens a fingerprint to its first eight bytes, enough to
// tell two apart.
func truncated(fp string) string {
	const keep = len("AA:BB:CC:DD:EE:FF:00:11")
	if len(fp) <= keep {
		return fp
	}
	return fp[:keep] + "…"
}

// fixFor is grant when err says the token lacks a privilege (403), else
// what connectionFix says about err: a hint about privileges would lie
// about a connection that failed.
func (c *Client) fixFor(err error, grant string) string {
	if IsStatus(err, http.StatusForbidden) {
		return grant
	}
	return connectionFix(c.cfg, err)
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
		return []Check{{Name: "storages", Status: Fail, Detail: err.Error(), Fix: c.fixFor(err, "grant the token Datastore.Audit on /storage")}}
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
		return Check{Name: name, Status: Fail, Detail: err.Error(), Fix: c.fixFor(err, "grant the token Sys.Audit on /nodes/"+plan.Node)}
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
		return []Check{{Name: "VM IDs", Status: Fail, Detail: err.Error(), Fix: c.fixFor(err, "grant the token VM.Audit on /vms")}}
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

func (c *Client) mappingChecks(ctx context.Context, plan PreflightPlan) []Check {
	mappings, err := c.PCIMappings(ctx)
	if err != nil {
		return []Check{{Name: "PCI mappings", Status: Fail, Detail: err.Error(), Fix: c.fixFor(err, "grant the token Mapping.Audit on /mapping/pci")}}
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
