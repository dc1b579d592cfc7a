package images

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/wdiazux/infra/lib/plan"
)

// WriteSummary writes what the import did (or, for a dry run, the calls a
// real run would send) and what the Talos config needs.
func (r *TalosImportReport) WriteSummary(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	switch {
	case r.DryRun && len(r.Calls) > 0:
		fmt.Fprintln(tw, "Dry run: nothing was changed. A real run would make these calls:")
		for _, c := range r.Calls {
			fmt.Fprintf(tw, "  %s\n", c)
		}
	case r.Action == plan.Unchanged:
		fmt.Fprintln(tw, "Nothing to do: the template already holds this image.")
	case r.Action == plan.Create:
		fmt.Fprintln(tw, "Created the Talos template.")
	case r.Action == plan.Repair:
		fmt.Fprintln(tw, "Rebuilt the template an earlier run left half-made.")
	case r.Action == plan.Replace:
		fmt.Fprintln(tw, "Replaced the template.")
	}
	fmt.Fprintf(tw, "\ntemplate\t%d %s\n", r.TemplateID, r.Name)
	fmt.Fprintf(tw, "talos\t%s\n", r.Version)
	fmt.Fprintf(tw, "schematic\t%s\n", r.SchematicID)
	fmt.Fprintf(tw, "extensions\t%s\n", strings.Join(r.Extensions, ", "))
	fmt.Fprintf(tw, "image\t%s\n", r.Volume)
	sum := r.Checksum
	if sum == "" {
		sum = "not pinned"
	}
	fmt.Fprintf(tw, "sha256\t%s\n", sum)
	fmt.Fprintf(tw, "installer\t%s\n", r.InstallerRef)
	if !r.DryRun {
		fmt.Fprintf(tw, "API calls that changed something\t%d\n", len(r.Calls))
	}
	return tw.Flush()
}

// WriteCloudSummary writes what cloud imports did (or, for a dry run, the
// calls real runs would send): one row per OS, then a dry run's calls.
func WriteCloudSummary(w io.Writer, reports ...*CloudImportReport) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "OS\tRELEASE\tBASE VM\tBUILD\tACTION\tCALLS")
	for _, r := range reports {
		action := r.Action.String()
		if r.DryRun && r.Action != plan.Unchanged {
			action = "would " + action
		}
		if r.Locked {
			action += ", recorded in the lock"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d %s\t%s\t%s\t%d\n", r.OS, r.Release, r.BaseVMID, r.Name, r.Build.Serial, action, len(r.Calls))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range reports {
		if !r.DryRun || len(r.Calls) == 0 {
			continue
		}
		if _, err := fmt.Fprintf(w, "\nDry run: nothing was changed. A real run would make these calls for %s:\n", r.OS); err != nil {
			return err
		}
		for _, c := range r.Calls {
			if _, err := fmt.Fprintf(w, "  %s\n", c); err != nil {
				return err
			}
		}
	}
	return nil
}
