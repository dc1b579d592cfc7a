package images

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/talosfactory"
)

// ImportTalos is `talos:import`: the inventory's Talos template, imported
// through the Proxmox API configured in the environment, with checksums
// pinned in lockPath.
func ImportTalos(ctx context.Context, inv *inventory.Inventory, lockPath string, opts TalosOptions) (*TalosResult, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	pveClient, err := proxmox.NewFromEnv(proxmox.WithLogger(log))
	if err != nil {
		return nil, err
	}
	return ImportTalosWith(ctx, inv, pveClient, lockPath, opts)
}

// ImportTalosWith runs an import against a given Proxmox client (the demo,
// and Go programs that build their own client, use it).
func ImportTalosWith(ctx context.Context, inv *inventory.Inventory, pveClient PVE, lockPath string, opts TalosOptions) (*TalosResult, error) {
	url := inv.Talos.FactoryURL
	if opts.FactoryURL != "" {
		url = opts.FactoryURL
	}
	fopts := []talosfactory.Option{talosfactory.WithTimeouts(opts.FactoryTimeouts)}
	if opts.Logger != nil {
		fopts = append(fopts, talosfactory.WithLogger(opts.Logger))
	}
	factory, err := talosfactory.New(url, fopts...)
	if err != nil {
		return nil, err
	}
	lock, err := LoadLockFile(lockPath)
	if err != nil {
		return nil, err
	}
	return NewTalosImport(inv, pveClient, factory, lock, opts).Run(ctx)
}

// WriteSummary writes what the import did and what the Talos config needs.
func (r *TalosResult) WriteSummary(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	headline := map[string]string{
		"created": "Created the Talos template.", "unchanged": "Nothing to do: the template already holds this image.",
		"repaired": "Rebuilt the template an earlier run left half-made.", "replaced": "Replaced the template.",
		"planned": "Dry run: nothing was changed. A real run would make these calls:",
	}[r.Outcome]
	fmt.Fprintln(tw, headline)
	if r.Outcome == "planned" {
		for _, c := range r.Calls {
			fmt.Fprintf(tw, "  %s\n", c)
		}
	}
	fmt.Fprintf(tw, "\ntemplate\t%d %s\n", r.TemplateID, r.Name)
	fmt.Fprintf(tw, "talos\t%s\n", r.Version)
	fmt.Fprintf(tw, "schematic\t%s\n", r.SchematicID)
	fmt.Fprintf(tw, "extensions\t%s\n", strings.Join(r.Extensions, ", "))
	fmt.Fprintf(tw, "image\t%s\n", r.Volume)
	sum := r.Checksum
	if sum == "" {
		sum = "not pinned (run talos:import -verify to pin it)"
	}
	fmt.Fprintf(tw, "sha256\t%s\n", sum)
	fmt.Fprintf(tw, "installer\t%s\n", r.InstallerRef)
	if r.Outcome != "planned" {
		fmt.Fprintf(tw, "API calls that changed something\t%d\n", len(r.Calls))
	}
	return tw.Flush()
}
