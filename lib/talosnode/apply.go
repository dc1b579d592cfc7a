package talosnode

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	machineapi "github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/client"

	"github.com/wdiazux/infra/lib/inventory"
)

// Apply modes, as talosctl names them.
var modes = map[string]machineapi.ApplyConfigurationRequest_Mode{
	"auto":      machineapi.ApplyConfigurationRequest_AUTO,
	"no-reboot": machineapi.ApplyConfigurationRequest_NO_REBOOT,
	"reboot":    machineapi.ApplyConfigurationRequest_REBOOT,
	"staged":    machineapi.ApplyConfigurationRequest_STAGED,
	"try":       machineapi.ApplyConfigurationRequest_TRY,
}

// ApplyOptions are the settings of Apply.
type ApplyOptions struct {
	// Node applies to one node only ("" applies to every node).
	Node string
	// Mode is auto (default), no-reboot, reboot, staged or try.
	Mode string
	// DryRun asks each node what would change (its own dry run) and
	// changes nothing.
	DryRun bool
}

// ApplyResult is what one node answered.
type ApplyResult struct {
	// Node is the node's name.
	Node string
	// Maintenance says the node was in maintenance mode (a fresh node):
	// the config went over TLS without client authentication, as the
	// maintenance API requires.
	Maintenance bool
	// Mode is the mode the node chose.
	Mode string
	// Details is the node's message; with a dry run, the diff.
	Details string
}

// Apply sends each node its generated config (talos/generated/<node>.yaml),
// authenticated with the talosconfig; a node that answers with a
// certificate the cluster's CA did not sign is a fresh node in maintenance
// mode and gets its config insecurely. Talos applies an unchanged config
// without a reboot, so re-running changes nothing. Every node is tried;
// the error joins each node's failure.
func (c *Cluster) Apply(ctx context.Context, o ApplyOptions) ([]ApplyResult, error) {
	mode, ok := modes[strings.ToLower(o.Mode)]
	if o.Mode == "" {
		mode, ok = machineapi.ApplyConfigurationRequest_AUTO, true
	}
	if !ok {
		names := slices.Sorted(maps.Keys(modes))
		return nil, fmt.Errorf("apply mode %q: use one of %s", o.Mode, strings.Join(names, ", "))
	}
	nodes, err := c.nodes(o.Node)
	if err != nil {
		return nil, err
	}
	var out []ApplyResult
	var errs []error
	for _, n := range nodes {
		r, err := c.applyOne(ctx, n, mode, o.DryRun)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, r)
	}
	return out, errors.Join(errs...)
}

// ConfigFile is where a node's generated config is.
func (c *Cluster) ConfigFile(n inventory.TalosNode) string {
	return filepath.Join(c.dir, n.Name+".yaml")
}

// readConfig reads a node's generated config and checks it is that node's.
func (c *Cluster) readConfig(n inventory.TalosNode) ([]byte, error) {
	path := c.ConfigFile(n)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, &MissingFileError{Path: path, Node: n.Name, File: NodeConfig}
	}
	if err != nil {
		return nil, err
	}
	head, _ := bufio.NewReader(bytes.NewReader(data)).ReadString('\n')
	if !strings.HasPrefix(head, "# "+n.Name+" (") {
		return nil, &ForeignConfigError{Node: n.Name, Path: path, FirstLine: strings.TrimSpace(head)}
	}
	return data, nil
}

func (c *Cluster) applyOne(ctx context.Context, n inventory.TalosNode, mode machineapi.ApplyConfigurationRequest_Mode, dryRun bool) (ApplyResult, error) {
	data, err := c.readConfig(n)
	if err != nil {
		return ApplyResult{}, err
	}
	req := &machineapi.ApplyConfigurationRequest{Data: data, Mode: mode, DryRun: dryRun}
	res := ApplyResult{Node: n.Name}
	resp, err := c.applyWith(ctx, n, req, c.connect)
	if err != nil && inMaintenance(err) {
		c.log.Info("the node is in maintenance mode: applying without client authentication", "node", n.Name)
		res.Maintenance = true
		resp, err = c.applyWith(ctx, n, req, c.connectInsecure)
	}
	if err != nil {
		return res, c.nodeErr(n, "apply the config", err)
	}
	for _, m := range resp.GetMessages() {
		res.Mode = strings.ToLower(strings.ReplaceAll(m.GetMode().String(), "_", "-"))
		res.Details = strings.TrimSpace(m.GetModeDetails())
		for _, w := range m.GetWarnings() {
			c.log.Warn("the node warns about its config", "node", n.Name, "warning", w)
		}
	}
	return res, nil
}

// applyWith sends an ApplyConfiguration over a client from connect.
func (c *Cluster) applyWith(ctx context.Context, n inventory.TalosNode, req *machineapi.ApplyConfigurationRequest,
	connect func(context.Context, inventory.TalosNode) (*client.Client, error),
) (*machineapi.ApplyConfigurationResponse, error) {
	cl, err := connect(ctx, n)
	if err != nil {
		return nil, err
	}
	defer cl.Close() //nolint:errcheck
	return cl.ApplyConfiguration(ctx, req)
}
