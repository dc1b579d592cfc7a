package talosgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"text/tabwriter"
	"time"

	tsecrets "github.com/siderolabs/talos/pkg/machinery/config/generate/secrets"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/secrets"
)

// SyncOptions are the settings of SyncConfigs.
type SyncOptions struct {
	// Root is the repository the default paths are relative to (default ".").
	Root string
	// PatchDir, OutDir and BundleFile override DefaultPatchDir,
	// DefaultOutDir and DefaultBundleFile.
	PatchDir, OutDir, BundleFile string
	// DryRun shows what would change and writes nothing (a missing bundle
	// is made in memory only).
	DryRun bool
	// Secrets are the lib/secrets options the bundle is decrypted and
	// encrypted with (the age identities).
	Secrets []secrets.Option
	// Logger receives progress (default: discard).
	Logger *slog.Logger
	// Now is the clock for the talosconfig's certificate check (default: time.Now).
	Now func() time.Time
}

func (o *SyncOptions) path(p, def string) string {
	if p == "" {
		p = def
	}
	if filepath.IsAbs(p) {
		return p
	}
	root := o.Root
	if root == "" {
		root = "."
	}
	return filepath.Join(root, p)
}

// SyncReport says what SyncConfigs did, or would do.
type SyncReport struct {
	// Configs are the configs built.
	Configs *Configs
	// BundleFile is the encrypted bundle, and BundleCreated says whether
	// this run made it.
	BundleFile    string
	BundleCreated bool
	// Files are the changes to the output directory.
	Files []FileChange
	// DryRun says nothing was written.
	DryRun bool
}

// SyncConfigs brings the output directory in line with the inventory: the
// machine config of every node and the talosconfig. It decrypts the secrets
// bundle (making and encrypting it the first time), builds and validates
// every config (BuildConfigs), and writes the ones that changed (0600, in a
// 0700 directory), removing the config of a node that left the inventory.
// The talosconfig is kept while it still fits the cluster, so a re-run with
// nothing new changes nothing. With DryRun it reports and writes nothing.
func SyncConfigs(ctx context.Context, inv *inventory.Inventory, o SyncOptions) (*SyncReport, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	res := &SyncReport{BundleFile: o.path(o.BundleFile, DefaultBundleFile), DryRun: o.DryRun}
	patches, err := LoadPatches(o.path(o.PatchDir, DefaultPatchDir), inv)
	if err != nil {
		return nil, err
	}
	bundle, err := LoadBundle(res.BundleFile, o.Secrets...)
	if errors.Is(err, ErrNoBundle) {
		log.Info("no secrets bundle yet: making one", "file", res.BundleFile)
		if bundle, err = NewBundle(inv); err != nil {
			return nil, err
		}
		res.BundleCreated = true
		// Refuse now, dry run or not, what saving it would refuse at the end.
		if err := SaveBundle(res.BundleFile, bundle, slices.Concat(o.Secrets, []secrets.Option{secrets.WithDryRun()})...); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	start := time.Now()
	if res.Configs, err = BuildConfigs(Sources{Inventory: inv, Bundle: bundle, Patches: patches}); err != nil {
		return nil, err
	}
	log.Debug("built configs", "nodes", len(res.Configs.Nodes), "took", time.Since(start))

	outDir := o.path(o.OutDir, DefaultOutDir)
	want := map[string][]byte{}
	for _, n := range res.Configs.Nodes {
		want[n.Node.Name+".yaml"] = n.Config
	}
	tc, why, err := talosconfigFor(filepath.Join(outDir, TalosconfigFile), inv, bundle, now())
	if err != nil {
		return nil, err
	}
	want[TalosconfigFile] = tc
	if res.Files, err = planFiles(outDir, want, map[string]string{TalosconfigFile: why}); err != nil {
		return nil, err
	}
	if o.DryRun {
		return res, nil
	}
	if res.BundleCreated {
		if err := SaveBundle(res.BundleFile, bundle, o.Secrets...); err != nil {
			return nil, err
		}
	}
	if err := applyFiles(outDir, res.Files); err != nil {
		return nil, err
	}
	return res, nil
}

// talosconfigFor returns the talosconfig to keep: the existing one while it
// fits the cluster, else a new one, with the reason.
func talosconfigFor(path string, inv *inventory.Inventory, bundle *tsecrets.Bundle, now time.Time) ([]byte, string, error) {
	old, err := os.ReadFile(path)
	why := "there is none yet"
	if err == nil {
		if why = talosconfigCurrent(old, inv, bundle, now); why == "" {
			return old, "", nil
		}
	}
	tc, err := Talosconfig(inv, bundle)
	return tc, why, err
}

// Changed says whether the run changed (or would change) anything.
func (r *SyncReport) Changed() bool {
	if r.BundleCreated {
		return true
	}
	for _, f := range r.Files {
		if f.Action != ActionUnchanged {
			return true
		}
	}
	return false
}

// WriteSummary prints what changed: one line per file, then the redacted
// diffs of the updated configs.
func (r *SyncReport) WriteSummary(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	verb := ""
	if r.DryRun {
		verb = "would "
	}
	if r.BundleCreated {
		fmt.Fprintf(tw, "%screate\t%s\tnew secrets bundle, SOPS-encrypted: commit it\n", verb, r.BundleFile)
	}
	for _, f := range r.Files {
		action := f.Action
		if action != ActionUnchanged {
			action = verb + action
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", action, f.Path, f.Why)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, f := range r.Files {
		if f.Diff != "" {
			fmt.Fprintf(w, "\n%s", f.Diff)
		}
	}
	switch {
	case !r.Changed():
		fmt.Fprintf(w, "Nothing to do: the %d config(s) and the talosconfig are up to date.\n", len(r.Configs.Nodes))
	case r.DryRun:
		fmt.Fprintln(w, "Dry run: nothing was written.")
	}
	_, err := fmt.Fprintf(w, "endpoint %s, installer %s\n", r.Configs.Endpoint, r.Configs.InstallerRef)
	return err
}
