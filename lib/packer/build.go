package packer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/proxmox/pve"
)

// API is what BuildTemplate asks the Proxmox host; *proxmox.Client has it.
type API interface {
	VMConfig(ctx context.Context, node string, vmid int) (proxmox.VMConfig, error)
	VMs(ctx context.Context) ([]proxmox.VMInfo, error)
	UpdateVMConfig(ctx context.Context, node string, vmid int, params proxmox.Params, digest string) error
	DeleteVM(ctx context.Context, node string, vmid int, purge bool) (bool, error)
	VMTasks(ctx context.Context, node string, vmid, limit int) ([]proxmox.TaskInfo, error)
}

// TemplateTag marks a VM as one of the golden templates images:build makes.
const TemplateTag = "template"

// TemplateName is the name of the golden template of an image, as every
// template file names it: <os>-<release with dots as dashes>-template.
func TemplateName(os, release string) string {
	return os + "-" + strings.ReplaceAll(release, ".", "-") + "-template"
}

// TemplateTags are the tags of an image's golden template.
func TemplateTags(os string) []string {
	return pve.SplitTags(strings.Join([]string{inventory.ManagedTag, os, TemplateTag}, ";"))
}

// Actions BuildTemplate reports.
const (
	ActionBuilt        = "built"
	ActionExists       = "exists"
	ActionWouldBuild   = "would build"
	ActionWouldReplace = "would replace"
)

// BuildRequest is one template to build.
type BuildRequest struct {
	// Template is the template; Inventory the inventory its file reads
	// (the Runner's WithInventoryFile), for images.<Template.Name>.
	Template  Template
	Inventory *inventory.Inventory
	// Replace rebuilds a template that already exists (it is deleted
	// first, and only when it is ours); without it an existing template
	// is left as it is.
	Replace bool
	// DryRun runs packer init, fmt -check and validate and reports what a
	// build would do, changing nothing.
	DryRun bool
	// ListWait is how long to wait for the base VM to be listed by name in
	// /cluster/resources, which pvestatd refreshes every 10 s and which the
	// plugin finds the VM to clone in (default 30 s).
	ListWait time.Duration
	// Vars are extra template variables for the build (PKR_VAR_<name>),
	// e.g. the ISO paths a proxmox-iso template takes.
	Vars map[string]string
	// AfterBuild, when set, runs after packer build succeeded and before
	// the template is tagged and checked: what a template needs that the
	// plugin cannot do (the Windows template's Secure Boot EFI disk and
	// TPM state). An error stops the build there.
	AfterBuild func(ctx context.Context, node string, vmid int) error
}

// BuildResult is what BuildTemplate did.
type BuildResult struct {
	// Template is the template built.
	Template Template
	// Action is one of the Action constants.
	Action string
	// VMID and Name are the template's; BaseVMID and BaseName the VM it
	// was cloned from (zero for a proxmox-iso template).
	VMID     int
	Name     string
	BaseVMID int
	BaseName string
	// Took is how long the packer build ran.
	Took time.Duration
}

// BaseVMError is a base VM a proxmox-clone template cannot clone.
type BaseVMError struct {
	// Template is the template, VMID the base VM (images.<os>.base_vm_id).
	Template Template
	VMID     int
	// Problem says what is wrong with it.
	Problem string
}

// Error names the template file, the VM and the inventory field.
func (e *BaseVMError) Error() string {
	return fmt.Sprintf("%s clones base VM %d (images.%s.base_vm_id), which %s; import the base VM first",
		e.Template.File, e.VMID, e.Template.Name, e.Problem)
}

// ExistsError is a VM at the template's ID that is not one of ours.
type ExistsError struct {
	// Template is the template, VMID images.<os>.template_id.
	Template Template
	VMID     int
	// Name and Tags are the VM's.
	Name string
	Tags []string
}

// Error says why it is left alone and what to do.
func (e *ExistsError) Error() string {
	return fmt.Sprintf("%s builds VM %d (images.%s.template_id), but VM %d %q there is not a template tagged %s (tags %v): "+
		"it is left alone; move it or change images.%s.template_id",
		e.Template.File, e.VMID, e.Template.Name, e.VMID, e.Name, inventory.ManagedTag, e.Tags, e.Template.Name)
}

// VerifyError is a build Packer reported as done whose VM is not what the
// template asks for.
type VerifyError struct {
	// Template is the template, VMID the VM checked.
	Template Template
	VMID     int
	// Problems lists each difference.
	Problems []string
}

// Error lists the differences and what to do.
func (e *VerifyError) Error() string {
	return fmt.Sprintf("packer build of %s reported success, but VM %d is not the template it should be: %s; "+
		"the proxmox plugin ignores some failed calls (start, shutdown): read the build's output and the host's task log, then rebuild with replace",
		e.Template.File, e.VMID, strings.Join(e.Problems, "; "))
}

// defaultListWait is how long BuildTemplate waits for the base VM's name
// in the VM list: pvestatd refreshes it every 10 s.
const defaultListWait = 30 * time.Second

// BuildTemplate builds one template and checks the result through api:
// packer init, fmt -check and validate; then the base VM (for a
// proxmox-clone template) must be a template tagged as ours, listed by a
// name no other VM has; a template already at images.<os>.template_id is
// kept (Action "exists") unless Replace, which deletes it first when it is
// ours. After packer build, the VM is tagged and its cloud-init settings
// lose the build's throw-away SSH key and user, then it is checked
// (VerifyTemplate). DryRun stops before the first change.
func (r *Runner) BuildTemplate(ctx context.Context, api API, req BuildRequest) (BuildResult, error) {
	t := req.Template
	img, ok := req.Inventory.Images[t.Name]
	if !ok {
		return BuildResult{}, fmt.Errorf("%s: the inventory has no images.%s (release, base_vm_id, template_id, default_user)", t.File, t.Name)
	}
	node := req.Inventory.Proxmox.Node
	res := BuildResult{Template: t, VMID: img.TemplateID, Name: TemplateName(t.Name, img.Release)}
	if err := r.Init(ctx, t); err != nil {
		return res, err
	}
	if err := r.FmtCheck(ctx, t); err != nil {
		return res, err
	}
	if err := r.Validate(ctx, t, req.Vars); err != nil {
		return res, err
	}
	existing, exists, err := r.existing(ctx, api, node, t, img.TemplateID)
	if err != nil {
		return res, err
	}
	if exists && !req.Replace {
		res.Action = ActionExists
		r.log.Info("template exists; left as it is", "template", t.File, "vmid", img.TemplateID, "name", existing.Get("name"))
		return res, nil
	}
	vars := map[string]string{}
	for k, v := range req.Vars {
		vars[k] = v
	}
	if t.SourceType == SourceClone {
		res.BaseVMID = img.BaseVMID
		if res.BaseName, err = r.baseVM(ctx, api, node, t, img.BaseVMID, req.ListWait); err != nil {
			return res, err
		}
		vars[VarBaseVMName] = res.BaseName
	}
	if req.DryRun {
		res.Action = ActionWouldBuild
		if exists {
			res.Action = ActionWouldReplace
		}
		return res, nil
	}
	if exists {
		r.log.Info("replacing the template", "template", t.File, "vmid", img.TemplateID)
		if _, err := api.DeleteVM(ctx, node, img.TemplateID, true); err != nil {
			return res, fmt.Errorf("%s: delete template VM %d before rebuilding it: %w", t.File, img.TemplateID, err)
		}
	}
	start := time.Now()
	built, err := r.Build(ctx, t, vars)
	res.Took = time.Since(start)
	if err != nil {
		return res, err
	}
	if built.ArtifactID != strconv.Itoa(img.TemplateID) {
		return res, &VerifyError{Template: t, VMID: img.TemplateID,
			Problems: []string{fmt.Sprintf("packer reported artifact %q, not VM %d", built.ArtifactID, img.TemplateID)}}
	}
	if err := checkTasks(ctx, api, node, t, img.TemplateID, start); err != nil {
		return res, err
	}
	if req.AfterBuild != nil {
		if err := req.AfterBuild(ctx, node, img.TemplateID); err != nil {
			return res, fmt.Errorf("%s: after the build of VM %d: %w", t.File, img.TemplateID, err)
		}
	}
	if err := finalize(ctx, api, node, t, img.TemplateID); err != nil {
		return res, err
	}
	if err := VerifyTemplate(ctx, api, node, t, img); err != nil {
		return res, err
	}
	res.Action = ActionBuilt
	return res, nil
}

// buildTasks are the tasks a proxmox build runs on its VM that the plugin
// does not check: it reports success when one of them failed.
var buildTasks = []struct {
	types []string
	what  string
}{
	{[]string{"qmstart"}, "start (qmstart)"},
	{[]string{"qmshutdown", "qmstop"}, "shutdown (qmshutdown or qmstop)"},
	{[]string{"qmtemplate"}, "template conversion (qmtemplate)"},
}

// checkTasks reads the VM's task list: since the build started, a start,
// a shutdown and the template conversion must each have ended OK, which
// the plugin's exit status does not tell.
func checkTasks(ctx context.Context, api API, node string, t Template, vmid int, since time.Time) error {
	tasks, err := api.VMTasks(ctx, node, vmid, 200)
	if err != nil {
		return fmt.Errorf("%s: read the tasks of VM %d after the build: %w", t.File, vmid, err)
	}
	from := since.Truncate(time.Second) // PVE's task times are whole seconds
	var problems []string
	for _, want := range buildTasks {
		var seen []string
		ok := false
		for _, task := range tasks {
			if task.Start.Before(from) || !slices.Contains(want.types, task.Type) {
				continue
			}
			seen = append(seen, task.Status)
			ok = ok || task.OK()
		}
		if !ok {
			p := fmt.Sprintf("no %s of VM %d ended OK during the build", want.what, vmid)
			if len(seen) > 0 {
				p += fmt.Sprintf(" (ended: %s)", strings.Join(seen, "; "))
			}
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		return &VerifyError{Template: t, VMID: vmid, Problems: problems}
	}
	return nil
}

// existing reads the VM at the template's ID: whether there is one, and
// refuses one that is not our template.
func (r *Runner) existing(ctx context.Context, api API, node string, t Template, vmid int) (proxmox.VMConfig, bool, error) {
	cfg, err := api.VMConfig(ctx, node, vmid)
	if errors.Is(err, proxmox.ErrVMNotFound) {
		return cfg, false, nil
	}
	if err != nil {
		return cfg, false, fmt.Errorf("%s: read VM %d (images.%s.template_id): %w", t.File, vmid, t.Name, err)
	}
	tags := pve.SplitTags(cfg.Get("tags"))
	if cfg.Get("template") != "1" || !slices.Contains(tags, inventory.ManagedTag) {
		return cfg, true, &ExistsError{Template: t, VMID: vmid, Name: cfg.Get("name"), Tags: tags}
	}
	return cfg, true, nil
}

// baseVM checks the base VM from its config and returns its name, once
// the VM list shows it under that name and no other VM has it.
func (r *Runner) baseVM(ctx context.Context, api API, node string, t Template, vmid int, wait time.Duration) (string, error) {
	cfg, err := api.VMConfig(ctx, node, vmid)
	if errors.Is(err, proxmox.ErrVMNotFound) {
		return "", &BaseVMError{Template: t, VMID: vmid, Problem: "does not exist on node " + node}
	}
	if err != nil {
		return "", fmt.Errorf("%s: read base VM %d: %w", t.File, vmid, err)
	}
	name := cfg.Get("name")
	switch {
	case cfg.Get("template") != "1":
		return "", &BaseVMError{Template: t, VMID: vmid, Problem: "is not a template"}
	case !slices.Contains(pve.SplitTags(cfg.Get("tags")), inventory.ManagedTag):
		return "", &BaseVMError{Template: t, VMID: vmid, Problem: "is not tagged " + inventory.ManagedTag + " (not made by the import)"}
	case name == "":
		return "", &BaseVMError{Template: t, VMID: vmid, Problem: "has no name (the plugin clones by name)"}
	}
	if wait <= 0 {
		wait = defaultListWait
	}
	deadline := time.Now().Add(wait)
	for {
		vms, err := api.VMs(ctx)
		if err != nil {
			return "", fmt.Errorf("%s: list VMs: %w", t.File, err)
		}
		var listed bool
		var others []int
		for _, v := range vms {
			switch {
			case v.VMID == vmid && v.Name == name:
				listed = true
			case v.VMID != vmid && v.Name == name:
				others = append(others, v.VMID)
			}
		}
		if len(others) > 0 {
			return "", &BaseVMError{Template: t, VMID: vmid,
				Problem: fmt.Sprintf("shares its name %q with VMs %v; the plugin clones by name: rename those", name, others)}
		}
		if listed {
			return name, nil
		}
		if time.Now().After(deadline) {
			return "", &BaseVMError{Template: t, VMID: vmid,
				Problem: fmt.Sprintf("is not listed as %q in /cluster/resources after %s (pvestatd lists new VMs within 10 s; the plugin finds the VM to clone there)", name, wait)}
		}
		r.log.Info("waiting for the base VM to be listed by name", "vmid", vmid, "name", name)
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// finalize does what plugin 1.1.0 cannot: tags the template as ours, and
// removes the throw-away SSH key and user the build put in its cloud-init
// settings, so clones get only what Terraform gives them.
func finalize(ctx context.Context, api API, node string, t Template, vmid int) error {
	cfg, err := api.VMConfig(ctx, node, vmid)
	if err != nil {
		return fmt.Errorf("%s: read the built template %d: %w", t.File, vmid, err)
	}
	params := proxmox.Params{"tags": strings.Join(TemplateTags(t.Name), ";")}
	var drop []string
	for _, k := range []string{"sshkeys", "ciuser"} {
		if cfg.Get(k) != "" {
			drop = append(drop, k)
		}
	}
	if len(drop) > 0 {
		params["delete"] = strings.Join(drop, ",")
	}
	if err := api.UpdateVMConfig(ctx, node, vmid, params, cfg.Digest); err != nil {
		return fmt.Errorf("%s: tag the built template %d and clear its build key: %w", t.File, vmid, err)
	}
	return nil
}

// VerifyTemplate checks the VM at img.TemplateID through api: a template,
// named TemplateName and tagged TemplateTags, with a disk, the guest agent
// on, and the SCSI controller and CPU type the template file sets. A
// difference is a *VerifyError listing every one.
func VerifyTemplate(ctx context.Context, api API, node string, t Template, img inventory.Image) error {
	cfg, err := api.VMConfig(ctx, node, img.TemplateID)
	if errors.Is(err, proxmox.ErrVMNotFound) {
		return &VerifyError{Template: t, VMID: img.TemplateID, Problems: []string{"it does not exist"}}
	}
	if err != nil {
		return fmt.Errorf("%s: read the built template %d: %w", t.File, img.TemplateID, err)
	}
	var problems []string
	if cfg.Get("template") != "1" {
		problems = append(problems, "it is not a template")
	}
	if name := TemplateName(t.Name, img.Release); cfg.Get("name") != name {
		problems = append(problems, fmt.Sprintf("name is %q, not %q", cfg.Get("name"), name))
	}
	tags := pve.SplitTags(cfg.Get("tags"))
	for _, tag := range TemplateTags(t.Name) {
		if !slices.Contains(tags, tag) {
			problems = append(problems, fmt.Sprintf("tags %v lack %q", tags, tag))
		}
	}
	if !hasDisk(cfg) {
		problems = append(problems, "it has no disk")
	}
	if agent := firstValue(cfg.Get("agent"), "enabled"); agent != "1" {
		problems = append(problems, fmt.Sprintf("the guest agent is off (agent %q)", cfg.Get("agent")))
	}
	if got := cfg.Get("scsihw"); got != t.SCSIController {
		problems = append(problems, fmt.Sprintf("scsihw is %q, the template sets %q", got, t.SCSIController))
	}
	if got := firstValue(cfg.Get("cpu"), "cputype"); got != t.CPUType {
		problems = append(problems, fmt.Sprintf("cpu is %q, the template sets %q", got, t.CPUType))
	}
	if strings.Contains(cfg.Get("sshkeys"), "packer_") {
		problems = append(problems, "its cloud-init still holds the build's SSH key")
	}
	if len(problems) > 0 {
		return &VerifyError{Template: t, VMID: img.TemplateID, Problems: problems}
	}
	return nil
}

// firstValue is a property string's default key value ("1" of
// "enabled=1,fstrim_cloned_disks=1" or of "1").
func firstValue(s, key string) string {
	ps, err := pve.ParsePropertyString(s, key)
	if err != nil {
		return ""
	}
	return ps.Value(key)
}

// hasDisk reports a disk (not a CD-ROM or cloud-init drive) with a size.
func hasDisk(cfg proxmox.VMConfig) bool {
	for k, v := range cfg.Values {
		bus := strings.TrimRight(k, "0123456789")
		if bus == k || !slices.Contains([]string{"scsi", "virtio", "sata", "ide"}, bus) {
			continue
		}
		if strings.Contains(v, "media=cdrom") || strings.Contains(v, "cloudinit") {
			continue
		}
		if strings.Contains(v, "size=") {
			return true
		}
	}
	return false
}
