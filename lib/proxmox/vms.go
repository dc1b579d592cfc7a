package proxmox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/wdiazux/infra/lib/proxmox/pve"
)

// VMInfo is a VM as /cluster/resources lists it. On PVE that list is a
// cache: which VMs exist, their lock and their tags are current, but every
// other field (Name, Status, Template, MaxCPU, MaxMem, MaxDisk) is from
// pvestatd's last statistics, up to about 10 s old, and a VM created since
// then has Status "unknown" and no name. Decide about one VM from its
// config (VMConfig), not from this.
type VMInfo struct {
	VMID     int
	Name     string
	Node     string
	Status   string
	Template bool
	Tags     []string
	Lock     string
	MaxCPU   int
	MaxMem   int64
	MaxDisk  int64
}

// HasTag reports whether the VM carries a tag.
func (v VMInfo) HasTag(tag string) bool { return slices.Contains(v.Tags, strings.ToLower(tag)) }

// VMs lists every QEMU VM and template of the cluster the token may see,
// sorted by ID, from /cluster/resources (see VMInfo for what lags).
func (c *Client) VMs(ctx context.Context) ([]VMInfo, error) {
	var raw []struct {
		Type     string `json:"type"`
		VMID     int    `json:"vmid"`
		Name     string `json:"name"`
		Node     string `json:"node"`
		Status   string `json:"status"`
		Template int    `json:"template"`
		Tags     string `json:"tags"`
		Lock     string `json:"lock"`
		MaxCPU   int    `json:"maxcpu"`
		MaxMem   int64  `json:"maxmem"`
		MaxDisk  int64  `json:"maxdisk"`
	}
	if err := c.get(ctx, "/cluster/resources", url.Values{"type": {"vm"}}, &raw); err != nil {
		return nil, err
	}
	var out []VMInfo
	for _, r := range raw {
		if r.Type != "qemu" {
			continue
		}
		out = append(out, VMInfo{VMID: r.VMID, Name: r.Name, Node: r.Node, Status: r.Status, Template: r.Template == 1,
			Tags: pve.SplitTags(r.Tags), Lock: r.Lock, MaxCPU: r.MaxCPU, MaxMem: r.MaxMem, MaxDisk: r.MaxDisk})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].VMID < out[j].VMID })
	return out, nil
}

// FindVM returns the VM with an ID, and whether it exists, from the VM
// list: whether it exists, its lock and tags are current, the rest lags
// (VMInfo).
func (c *Client) FindVM(ctx context.Context, vmid int) (VMInfo, bool, error) {
	vms, err := c.VMs(ctx)
	if err != nil {
		return VMInfo{}, false, err
	}
	for _, v := range vms {
		if v.VMID == vmid {
			return v, true, nil
		}
	}
	return VMInfo{}, false, nil
}

// FindVMsByName returns the VMs with a name (names need not be unique).
func (c *Client) FindVMsByName(ctx context.Context, name string) ([]VMInfo, error) {
	return c.filterVMs(ctx, func(v VMInfo) bool { return v.Name == name })
}

// FindVMsByTag returns the VMs carrying a tag.
func (c *Client) FindVMsByTag(ctx context.Context, tag string) ([]VMInfo, error) {
	return c.filterVMs(ctx, func(v VMInfo) bool { return v.HasTag(tag) })
}

func (c *Client) filterVMs(ctx context.Context, keep func(VMInfo) bool) ([]VMInfo, error) {
	vms, err := c.VMs(ctx)
	if err != nil {
		return nil, err
	}
	var out []VMInfo
	for _, v := range vms {
		if keep(v) {
			out = append(out, v)
		}
	}
	return out, nil
}

// VMConfig is a VM's configuration, every value as a string, and the digest
// that guards changes to it.
type VMConfig struct {
	Values map[string]string
	Digest string
}

// Get returns one value.
func (c VMConfig) Get(key string) string { return c.Values[key] }

// Disk returns a drive option parsed, e.g. Disk("scsi0").Value("size").
func (c VMConfig) Disk(key string) (*pve.PropertyString, bool) {
	v, ok := c.Values[key]
	if !ok {
		return nil, false
	}
	ps, err := pve.ParsePropertyString(v, "file")
	return ps, err == nil
}

// Template reports whether the config marks the VM a template
// (template: 1). A conversion that failed part-way leaves the mark with
// disks not yet renamed: see PendingBaseDisks.
func (c VMConfig) Template() bool { return c.Values["template"] == "1" }

// Lock is the config's lock (create, clone, backup, ...), or "".
func (c VMConfig) Lock() string { return c.Values["lock"] }

// Tags are the config's tags, lower-cased as PVE stores them.
func (c VMConfig) Tags() []string { return pve.SplitTags(c.Values["tags"]) }

// HasTag reports whether the config carries a tag.
func (c VMConfig) HasTag(tag string) bool { return slices.Contains(c.Tags(), strings.ToLower(tag)) }

// PendingBaseDisks lists the drives a template conversion renames but that
// are not base volumes (base-<vmid>-disk-<n>), sorted: qemu-server's
// template_create visits every drive but CD-ROMs and unused volumes. A
// template (Template) with pending disks is a conversion that failed
// part-way.
func (c VMConfig) PendingBaseDisks(vmid int) []string {
	base := regexp.MustCompile(fmt.Sprintf(`^(?:%d/)?base-%d-disk-\d+(?:\.[a-z0-9]+)?$`, vmid, vmid))
	var out []string
	for k := range c.Values {
		if !isDrive(k) {
			continue
		}
		d, ok := c.Disk(k)
		if !ok || d.Value("media") == "cdrom" || d.Value("file") == "none" {
			continue
		}
		_, name, _ := strings.Cut(d.Value("file"), ":")
		if !base.MatchString(name) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// isDrive reports whether a config key is a drive template_create visits:
// ideN, scsiN, virtioN, sataN, efidisk0, tpmstate0 (not unusedN).
func isDrive(k string) bool {
	for _, p := range []string{"ide", "scsi", "virtio", "sata"} {
		if n, ok := strings.CutPrefix(k, p); ok && n != "" && strings.Trim(n, "0123456789") == "" {
			return true
		}
	}
	return k == "efidisk0" || k == "tpmstate0"
}

// ErrVMNotFound is returned (wrapped) by VMConfig for a VM that does not
// exist on the node.
var ErrVMNotFound = errors.New("VM does not exist")

// VMConfig reads a VM's configuration. It is read from the VM's config file,
// so it is current, unlike the VM list (VMs), which lags. A VM that does not
// exist on the node is ErrVMNotFound.
func (c *Client) VMConfig(ctx context.Context, node string, vmid int) (VMConfig, error) {
	var raw map[string]json.RawMessage
	if err := c.get(ctx, vmPath(node, vmid)+"/config", nil, &raw); err != nil {
		if IsNotFound(err) {
			return VMConfig{}, fmt.Errorf("%w: VM %d on node %s: %w", ErrVMNotFound, vmid, node, err)
		}
		return VMConfig{}, err
	}
	cfg := VMConfig{Values: map[string]string{}}
	for k, v := range raw {
		var s string
		if json.Unmarshal(v, &s) != nil {
			s = string(v)
		}
		if k == "digest" {
			cfg.Digest = s
			continue
		}
		cfg.Values[k] = s
	}
	return cfg, nil
}

func vmPath(node string, vmid int) string {
	return "/nodes/" + url.PathEscape(node) + "/qemu/" + strconv.Itoa(vmid)
}

// CreateVM creates a VM (POST /nodes/{node}/qemu) and waits for the
// qmcreate task, including disk imports.
func (c *Client) CreateVM(ctx context.Context, node string, vmid int, params Params, progress Progress) (*TaskResult, error) {
	p := Params{"vmid": vmid}
	for k, v := range params {
		p[k] = v
	}
	t, err := c.runTask(ctx, http.MethodPost, "/nodes/"+url.PathEscape(node)+"/qemu", p, progress)
	if err != nil {
		return nil, fmt.Errorf("create VM %d: %w", vmid, err)
	}
	return t, nil
}

// UpdateVMConfig changes a VM's configuration through the asynchronous
// POST .../config, guarded by digest when one is given.
func (c *Client) UpdateVMConfig(ctx context.Context, node string, vmid int, params Params, digest string) error {
	p := Params{}
	for k, v := range params {
		p[k] = v
	}
	if digest != "" {
		p["digest"] = digest
	}
	if _, err := c.runTask(ctx, http.MethodPost, vmPath(node, vmid)+"/config", p, nil); err != nil {
		return fmt.Errorf("update VM %d config: %w", vmid, err)
	}
	return nil
}

// ResizeDisk grows a disk to size ("20G") or by it ("+10G"). Growing to the
// current size changes nothing; shrinking is refused by PVE.
func (c *Client) ResizeDisk(ctx context.Context, node string, vmid int, disk, size string) error {
	if _, err := c.runTask(ctx, http.MethodPut, vmPath(node, vmid)+"/resize", Params{"disk": disk, "size": size}, nil); err != nil {
		return fmt.Errorf("resize disk %s of VM %d to %s: %w", disk, vmid, size, err)
	}
	return nil
}

// ConvertToTemplate turns a VM into a template.
func (c *Client) ConvertToTemplate(ctx context.Context, node string, vmid int) error {
	if _, err := c.runTask(ctx, http.MethodPost, vmPath(node, vmid)+"/template", nil, nil); err != nil {
		return fmt.Errorf("convert VM %d to a template: %w", vmid, err)
	}
	return nil
}

// CloneOptions are the optional settings of a clone.
type CloneOptions struct {
	// Name of the new VM.
	Name string
	// Full makes a full copy; otherwise a template is cloned linked.
	Full bool
	// Storage for a full clone's disks (default: the source's).
	Storage string
	// Description of the new VM.
	Description string
}

// CloneVM clones a VM or template into newid and waits for the task.
func (c *Client) CloneVM(ctx context.Context, node string, vmid, newid int, opts CloneOptions, progress Progress) error {
	p := Params{"newid": newid, "full": opts.Full}
	if opts.Name != "" {
		p["name"] = opts.Name
	}
	if opts.Storage != "" {
		p["storage"] = opts.Storage
	}
	if opts.Description != "" {
		p["description"] = opts.Description
	}
	if _, err := c.runTask(ctx, http.MethodPost, vmPath(node, vmid)+"/clone", p, progress); err != nil {
		return fmt.Errorf("clone VM %d to %d: %w", vmid, newid, err)
	}
	return nil
}

// DeleteVM destroys a VM with its disks (and, with purge, its mentions in
// backup jobs and HA). A VM that does not exist is not an error: deleted
// reports whether there was one.
func (c *Client) DeleteVM(ctx context.Context, node string, vmid int, purge bool) (deleted bool, err error) {
	q := url.Values{"destroy-unreferenced-disks": {"1"}}
	if purge {
		q.Set("purge", "1")
	}
	var upid string
	if err := c.req(ctx, http.MethodDelete, vmPath(node, vmid)+"?"+q.Encode(), nil, &upid); err != nil {
		if IsNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("delete VM %d: %w", vmid, err)
	}
	if _, err := c.WaitTask(ctx, upid, nil); err != nil {
		return false, fmt.Errorf("delete VM %d: %w", vmid, err)
	}
	return true, nil
}
