package talosupgrade

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/wdiazux/infra/lib/images"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/proxmox"
)

// PreviousTemplateID is where the upgrade keeps the template the nodes ran
// before: talos.template_id + 1.
func PreviousTemplateID(inv *inventory.Inventory) int { return inv.Talos.TemplateID + 1 }

// PreviousIDError means the previous template's VM ID is taken: by
// another VM ID of the inventory, or on the host by something this
// project did not make.
type PreviousIDError struct {
	// ID is the previous template's VM ID (talos.template_id + 1).
	ID int
	// Holder says what holds it; Path is the inventory field that sets it
	// ("" when the holder is on the host only).
	Holder, Path string
}

// Error names the ID, its holder and what to change.
func (e *PreviousIDError) Error() string {
	if e.Path != "" {
		return fmt.Sprintf("the previous Talos template's VM ID %d (talos.template_id + 1) is %s's (%s): choose a talos.template_id whose next ID is free", e.ID, e.Holder, e.Path)
	}
	return fmt.Sprintf("the previous Talos template's VM ID %d (talos.template_id + 1) holds %s, which this project did not make: free the ID or choose another talos.template_id", e.ID, e.Holder)
}

// checkPreviousID refuses a previous ID the inventory uses for something else.
func checkPreviousID(inv *inventory.Inventory) error {
	id := PreviousTemplateID(inv)
	for _, v := range inv.VMIDs() {
		if v.ID == id {
			return &PreviousIDError{ID: id, Holder: v.Name, Path: v.Path}
		}
	}
	return nil
}

// StaleTemplateError means the previous template's ID holds a template of
// an image some node still runs, while the template at talos.template_id
// holds yet another one: keeping that one would drop an image in use.
type StaleTemplateError struct {
	// ID is the previous template's VM ID, Holds its image.
	ID    int
	Holds Image
	// Nodes run it.
	Nodes []string
}

// Error names the template, its image and the nodes.
func (e *StaleTemplateError) Error() string {
	return fmt.Sprintf("VM %d keeps the Talos %s template, which %s still run(s): finish that upgrade first (set talos.version back to %s), or delete VM %d yourself",
		e.ID, e.Holds, strings.Join(e.Nodes, ", "), e.Holds.Version, e.ID)
}

// vm is what holds an ID on the host.
type vm struct {
	exists, ours bool
	// talos is set for a finished Talos template of ours.
	talos *Image
	cfg   proxmox.VMConfig
	name  string
}

func (p *Plan) readVM(ctx context.Context, id int) (vm, error) {
	cfg, err := p.deps.Proxmox.VMConfig(ctx, p.inv.Proxmox.Node, id)
	if errors.Is(err, proxmox.ErrVMNotFound) {
		return vm{}, nil
	}
	if err != nil {
		return vm{}, fmt.Errorf("read the config of VM %d: %w", id, err)
	}
	v := vm{exists: true, ours: cfg.HasTag(inventory.ManagedTag), cfg: cfg, name: fmt.Sprintf("VM %d %q", id, cfg.Get("name"))}
	if t, ok := images.TalosTemplateOf(cfg, id); ok {
		v.talos = &Image{t.Version, t.Schematic}
	}
	return v, nil
}

// runningOn lists the nodes that ran img when planned.
func (p *Plan) runningOn(img Image) []string {
	var out []string
	for _, n := range p.Nodes {
		if n.From == img {
			out = append(out, n.Node)
		}
	}
	return out
}

// planTemplates decides the rollover from the VMs at talos.template_id and
// the previous ID: keep the old template while a node runs it, import the
// new one, remove the old one once every node moved.
func (p *Plan) planTemplates(ctx context.Context) error {
	cur, err := p.readVM(ctx, p.TemplateID)
	if err != nil {
		return err
	}
	prev, err := p.readVM(ctx, p.PreviousID)
	if err != nil {
		return err
	}
	if prev.exists && !prev.ours {
		return &PreviousIDError{ID: p.PreviousID, Holder: fmt.Sprintf("%s (tags %s)", prev.name, strings.Join(prev.cfg.Tags(), ";"))}
	}
	if cur.exists && !cur.ours {
		return fmt.Errorf("%w: talos.template_id %d is held by %s (tags %s), which this project did not create: free the ID or choose another talos.template_id",
			images.ErrVMIDTaken, p.TemplateID, cur.name, strings.Join(cur.cfg.Tags(), ";"))
	}
	kept := prev.talos != nil && cur.talos != nil && *prev.talos == *cur.talos
	if cur.talos == nil || *cur.talos != p.Target {
		// The template is missing, half-made or holds another image.
		if cur.talos != nil && !kept && len(p.runningOn(*cur.talos)) > 0 {
			if prev.exists {
				if prev.talos != nil {
					if nodes := p.runningOn(*prev.talos); len(nodes) > 0 {
						return &StaleTemplateError{ID: p.PreviousID, Holds: *prev.talos, Nodes: nodes}
					}
				}
				p.Before = append(p.Before, TemplateStep{RemoveStale, fmt.Sprintf("delete %s%s, left by an earlier upgrade", prev.name, holds(prev))})
			}
			p.Before = append(p.Before, TemplateStep{KeepPrevious, fmt.Sprintf("clone VM %d (%s) to VM %d and make it a template", p.TemplateID, cur.talos.label(), p.PreviousID)})
			prev = vm{exists: true, ours: true, talos: cur.talos, name: fmt.Sprintf("VM %d", p.PreviousID)}
		}
		detail := fmt.Sprintf("Talos %s at VM %d (talos.template_id)", p.Target, p.TemplateID)
		if cur.exists {
			detail += ", replacing " + cur.name + holds(cur)
		}
		p.Before = append(p.Before, TemplateStep{ImportNew, detail})
	}
	if prev.exists {
		p.After = append(p.After, TemplateStep{RemovePrevious, fmt.Sprintf("delete the previous template %s%s once every node runs %s", prev.name, holds(prev), p.Target)})
	}
	return nil
}

// holds is " (Talos X)" for a finished Talos template, " (half-made)" for another VM of ours.
func holds(v vm) string {
	if v.talos != nil {
		return " (" + v.talos.label() + ")"
	}
	return " (half-made)"
}

// runTemplateStep executes one template step.
func (p *Plan) runTemplateStep(ctx context.Context, s TemplateStep) (string, error) {
	node := p.inv.Proxmox.Node
	switch s.Action {
	case RemoveStale, RemovePrevious:
		if _, err := p.deps.Proxmox.DeleteVM(ctx, node, p.PreviousID, true); err != nil {
			return "", err
		}
		return fmt.Sprintf("deleted VM %d", p.PreviousID), nil
	case KeepPrevious:
		cfg, err := p.deps.Proxmox.VMConfig(ctx, node, p.TemplateID)
		if err != nil {
			return "", fmt.Errorf("read the config of VM %d: %w", p.TemplateID, err)
		}
		t, ok := images.TalosTemplateOf(cfg, p.TemplateID)
		if !ok {
			return "", fmt.Errorf("VM %d is no longer a finished Talos template: plan again", p.TemplateID)
		}
		desc := "The previous Talos template, kept by the upgrade until every node runs the next one.\n" + cfg.Get("description")
		name := "talos-" + strings.ReplaceAll(t.Version, ".", "-") + "-previous"
		if err := p.deps.Proxmox.CloneVM(ctx, node, p.TemplateID, p.PreviousID,
			proxmox.CloneOptions{Name: name, Full: true, Storage: p.inv.Proxmox.Storage.Disks, Description: desc}, nil); err != nil {
			return "", err
		}
		if err := p.deps.Proxmox.ConvertToTemplate(ctx, node, p.PreviousID); err != nil {
			return "", err
		}
		return fmt.Sprintf("VM %d keeps Talos %s", p.PreviousID, Image{t.Version, t.Schematic}), nil
	case ImportNew:
		rep, err := images.ImportTalos(ctx, p.inv, p.deps.Proxmox, p.deps.Factory, p.deps.Lock,
			images.TalosImportOptions{Replace: true, Events: p.o.events, Logger: p.o.log})
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("VM %d holds Talos %s (%s, %d API call(s))", rep.TemplateID, p.Target, rep.Action, len(rep.Calls)), nil
	}
	return "", fmt.Errorf("unknown template step %d", s.Action)
}

// String names the action.
func (a TemplateAction) String() string {
	switch a {
	case RemoveStale:
		return "remove a stale previous template"
	case KeepPrevious:
		return "keep the previous template"
	case ImportNew:
		return "import the new template"
	case RemovePrevious:
		return "remove the previous template"
	}
	return "unknown"
}
