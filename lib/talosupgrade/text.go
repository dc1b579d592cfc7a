package talosupgrade

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText prints the plan: the target, the template steps, the configs,
// the snapshot, each node in order with from → to, and the step after the
// last node. A dry run prints it and stops; a real run prints the same
// plan and executes it.
func (p *Plan) WriteText(w io.Writer) error {
	var b strings.Builder
	if p.NothingToDo() {
		fmt.Fprintf(&b, "Nothing to do: every node runs Talos %s and VM %d (talos.template_id) holds it.\n", p.Target, p.TemplateID)
		_, err := io.WriteString(w, b.String())
		return err
	}
	fmt.Fprintf(&b, "Talos upgrade to %s\ninstaller image: %s\n", p.Target, p.InstallerImage)
	fmt.Fprintf(&b, "\nTemplate (VM %d, the previous one kept at VM %d):\n", p.TemplateID, p.PreviousID)
	if len(p.Before) == 0 {
		fmt.Fprintf(&b, "  VM %d holds Talos %s already\n", p.TemplateID, p.Target)
	}
	for i, s := range p.Before {
		fmt.Fprintf(&b, "  %d. %s: %s\n", i+1, s.Action, s.Detail)
	}
	pending := p.Pending()
	if len(p.Before) > 0 || len(pending) > 0 {
		b.WriteString("\nConfigs: regenerate the node configs (machine.install.image = the installer image)\n")
	}
	if len(pending) > 0 {
		snap := "take an etcd snapshot before the first node"
		if p.deps.Snapshot == nil {
			snap = "NO snapshotter: the run refuses to upgrade any node"
		}
		fmt.Fprintf(&b, "etcd: %s\n", snap)
	}
	fmt.Fprintf(&b, "\nNodes (workers first, then control planes, one at a time; each waited for up to %s):\n", p.o.wait)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	i := 0
	for _, n := range p.Nodes {
		if n.Current {
			fmt.Fprintf(tw, "  -\t%s\t%s\t%s\tskip: runs it already\n", n.Node, n.Role, n.From)
			continue
		}
		i++
		fmt.Fprintf(tw, "  %d.\t%s\t%s\t%s → %s\n", i, n.Node, n.Role, n.From, n.To)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(&b, "Kubernetes: %s\n", p.Kube)
	if len(p.After) > 0 {
		b.WriteString("\nAfter the last node, once every node says it runs the target:\n")
		for i, s := range p.After {
			fmt.Fprintf(&b, "  %d. %s: %s\n", i+1, s.Action, s.Detail)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
