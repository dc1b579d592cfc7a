package demo

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/wdiazux/infra/internal/progress"
	"github.com/wdiazux/infra/lib/images"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/plan"
	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
	"github.com/wdiazux/infra/lib/talosfactory"
	"github.com/wdiazux/infra/lib/talosfactory/factorysim"
)

// options configure Run.
type options struct {
	payload   int
	bandwidth int64
	log       *slog.Logger
}

// Option configures Run.
type Option func(*options)

// WithImagePayload sets how many bytes of data the demo image carries
// (default 48 MiB: big enough for the progress bar to move).
func WithImagePayload(n int) Option { return func(o *options) { o.payload = n } }

// WithDownloadBandwidth limits the simulated host's downloads (default
// 32 MiB/s, so the download takes a moment).
func WithDownloadBandwidth(bytesPerSecond int64) Option {
	return func(o *options) { o.bandwidth = bytesPerSecond }
}

// WithLogger sets the logger of the components (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// Run imports the inventory's Talos template into a simulated host shaped
// like it, shows the progress and the result, runs the import again to show
// that it changes nothing, and prints the template's configuration. It
// fails if the second run changes anything.
func Run(ctx context.Context, inv *inventory.Inventory, w io.Writer, opts ...Option) error {
	o := options{payload: 48 << 20, bandwidth: 32 << 20, log: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	sim, err := pvesim.New(pvesim.WithSetup(pvesim.SetupFor(inv, false)), pvesim.WithDownloadBandwidth(o.bandwidth), pvesim.WithLogger(o.log))
	if err != nil {
		return err
	}
	defer sim.Close()
	factory := factorysim.New(factorysim.WithPayload(o.payload))
	defer factory.Close()
	dir, err := os.MkdirTemp("", "infra-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	id, secret := sim.Token()
	client, err := proxmox.New(proxmox.Config{URL: sim.URL(), TokenID: id, TokenSecret: secret, Fingerprint: sim.Fingerprint()},
		proxmox.WithLogger(o.log), proxmox.WithPollInterval(100*time.Millisecond))
	if err != nil {
		return err
	}
	v, err := client.Version(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Demo: talos:import against a simulated Proxmox VE %s (node %s, %s) and a stand-in Image Factory (%s).\n",
		v.Version, inv.Proxmox.Node, sim.URL(), factory.URL())
	fmt.Fprintf(w, "The host is fresh: import content is off on %s, as on a real install. Nothing touches a real host.\n\n", inv.Proxmox.Storage.Import)

	lock, err := images.LoadLockFile(filepath.Join(dir, images.DefaultLockFile))
	if err != nil {
		return err
	}
	factoryClient, err := talosfactory.New(factory.URL(), talosfactory.WithLogger(o.log))
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "1. First run (go run mage.go talos:import -verify):")
	res, err := images.ImportTalos(ctx, inv, client, factoryClient, lock,
		images.TalosImportOptions{Verify: true, Logger: o.log, Events: progress.PrintEvents(progress.New(w))})
	if err != nil {
		return err
	}
	fmt.Fprintln(w)
	if err := res.WriteSummary(w); err != nil {
		return err
	}

	fmt.Fprintln(w, "\n2. Second run (go run mage.go talos:import):")
	before := len(pvesim.Mutating(sim.Requests()))
	again, err := images.ImportTalos(ctx, inv, client, factoryClient, lock, images.TalosImportOptions{Logger: o.log})
	if err != nil {
		return err
	}
	if err := again.WriteSummary(w); err != nil {
		return err
	}
	changed := len(pvesim.Mutating(sim.Requests())) - before
	fmt.Fprintf(w, "requests that could change the host: %d\n", changed)
	if again.Action != plan.Unchanged || changed != 0 {
		return fmt.Errorf("demo: the second run was not a no-op (action %s, %d mutating requests)", again.Action, changed)
	}

	fmt.Fprintf(w, "\n3. What PVE now holds as VM %d (GET /nodes/%s/qemu/%d/config):\n", inv.Talos.TemplateID, inv.Proxmox.Node, inv.Talos.TemplateID)
	cfg, err := client.VMConfig(ctx, inv.Proxmox.Node, inv.Talos.TemplateID)
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(cfg.Values))
	for k := range cfg.Values {
		if k != "description" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, k := range keys {
		fmt.Fprintf(tw, "  %s\t%s\n", k, cfg.Values[k])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nImage bytes the factory served: %d (one stream to this machine for -verify, one download by PVE itself).\n", factory.ImageBytesServed())
	return nil
}
