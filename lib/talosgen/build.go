package talosgen

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	coreconfig "github.com/siderolabs/talos/pkg/machinery/config"
	"github.com/siderolabs/talos/pkg/machinery/config/configloader"
	"github.com/siderolabs/talos/pkg/machinery/config/configpatcher"
	"github.com/siderolabs/talos/pkg/machinery/config/encoder"
	"github.com/siderolabs/talos/pkg/machinery/config/generate"
	"github.com/siderolabs/talos/pkg/machinery/config/generate/secrets"
	"github.com/siderolabs/talos/pkg/machinery/config/machine"
	"github.com/siderolabs/talos/pkg/machinery/config/validation"
	"gopkg.in/yaml.v3"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/talosfactory"
)

// LinkName is the alias the node's network interface gets: the one virtio
// NIC of a Proxmox VM, whatever the kernel names it.
const LinkName = "net0"

// linkSelector picks the node's NIC for LinkName.
const linkSelector = `link.driver == "virtio_net"`

// LonghornVolume is the user volume made on a node's data disk, mounted at
// /var/mnt/longhorn.
const LonghornVolume = "longhorn"

// Sources are what BuildConfigs builds the configs from.
type Sources struct {
	// Inventory is the homelab.
	Inventory *inventory.Inventory
	// Bundle is the cluster's secrets bundle.
	Bundle *secrets.Bundle
	// Patches are the patch files, from LoadPatches.
	Patches *Patches
	// InstallerRef overrides the installer image (default: the Image
	// Factory installer of the inventory's schematic, as talos:import
	// builds the template from).
	InstallerRef string
}

// NodeConfig is the machine config of one node.
type NodeConfig struct {
	// Node is the inventory's node.
	Node inventory.TalosNode
	// Applied lists what went into the config after Talos's defaults, in
	// order: "inventory", then each patch file.
	Applied []string
	// Config is the machine config: YAML, a header comment, no other
	// comments.
	Config []byte
}

// Configs are the cluster's machine configs, built in memory by
// BuildConfigs.
type Configs struct {
	// Endpoint is the Kubernetes API endpoint, https://<VIP or control plane>:6443.
	Endpoint string
	// InstallerRef is the installer image in every config.
	InstallerRef string
	// Nodes are the configs, in inventory order.
	Nodes []NodeConfig
}

// metal is the runtime mode configs are validated for: installed on disk,
// not in a container.
type metal struct{}

func (metal) String() string        { return "metal" }
func (metal) RequiresInstall() bool { return true }
func (metal) InContainer() bool     { return false }

// InstallerRef is the Image Factory installer image of the inventory's
// schematic and Talos version.
func InstallerRef(inv *inventory.Inventory) (string, error) {
	id, err := talosfactory.SchematicFor(inv).ID()
	if err != nil {
		return "", err
	}
	f, err := talosfactory.New(inv.Talos.FactoryURL)
	if err != nil {
		return "", fmt.Errorf("talos.factory_url: %w", err)
	}
	return f.InstallerRef(id, inv.Talos.Version), nil
}

// Endpoint is the cluster's Kubernetes API URL: the VIP when the inventory
// sets one, else the first control plane.
func Endpoint(inv *inventory.Inventory) string {
	return "https://" + net.JoinHostPort(inv.Talos.Endpoint().String(), "6443")
}

// VersionContract is the config contract of the inventory's Talos version.
func VersionContract(inv *inventory.Inventory) (*coreconfig.VersionContract, error) {
	vc, err := coreconfig.ParseContractFromVersion(inv.Talos.Version)
	if err != nil {
		return nil, fmt.Errorf("talos.version %s: %w", inv.Talos.Version, err)
	}
	return vc, nil
}

// generatorInput prepares machinery's generator for the inventory.
func generatorInput(inv *inventory.Inventory, bundle *secrets.Bundle, installer string) (*generate.Input, error) {
	vc, err := VersionContract(inv)
	if err != nil {
		return nil, err
	}
	var sans, endpoints []string
	if inv.Talos.VIP.IsValid() {
		sans = append(sans, inv.Talos.VIP.String())
	}
	for _, n := range inv.Talos.ControlPlanes() {
		sans = append(sans, n.IP.String(), n.Name, n.Name+"."+inv.Network.Domain)
		endpoints = append(endpoints, n.IP.String())
	}
	in, err := generate.NewInput(inv.Talos.ClusterName, Endpoint(inv), strings.TrimPrefix(inv.Kubernetes.Version, "v"),
		generate.WithVersionContract(vc),
		generate.WithSecretsBundle(bundle),
		generate.WithInstallDisk(inv.Talos.InstallDisk),
		generate.WithInstallImage(installer),
		generate.WithAdditionalSubjectAltNames(sans),
		generate.WithEndpointList(endpoints),
	)
	if err != nil {
		return nil, fmt.Errorf("prepare the Talos config generator: %w", err)
	}
	in.PodNet = []string{inv.Kubernetes.PodCIDR.String()}
	in.ServiceNet = []string{inv.Kubernetes.ServiceCIDR.String()}
	return in, nil
}

// BuildConfigs builds, patches and strictly validates the config of every
// node, in memory: nothing is read from or written to disk (SyncConfigs is
// the on-disk operation).
func BuildConfigs(src Sources) (*Configs, error) {
	inv := src.Inventory
	installer := src.InstallerRef
	if installer == "" {
		var err error
		if installer, err = InstallerRef(inv); err != nil {
			return nil, err
		}
	}
	gen, err := generatorInput(inv, src.Bundle, installer)
	if err != nil {
		return nil, err
	}
	res := &Configs{Endpoint: Endpoint(inv), InstallerRef: installer}
	var errs []error
	for _, n := range inv.Talos.Nodes {
		nc, err := nodeConfig(gen, inv, n, src.Patches)
		if err != nil {
			errs = append(errs, fmt.Errorf("talos node %s: %w", n.Name, err))
			continue
		}
		res.Nodes = append(res.Nodes, nc)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return res, nil
}

// nodeConfig builds one node's config.
func nodeConfig(gen *generate.Input, inv *inventory.Inventory, n inventory.TalosNode, patches *Patches) (NodeConfig, error) {
	role := machine.TypeWorker
	if n.Role == inventory.RoleControlPlane {
		role = machine.TypeControlPlane
	}
	cfg, err := gen.Config(role)
	if err != nil {
		return NodeConfig{}, fmt.Errorf("generate the %s config: %w", role, err)
	}
	facts, err := inventoryPatch(inv, n)
	if err != nil {
		return NodeConfig{}, err
	}
	list := []configpatcher.Patch{facts}
	applied := []string{"inventory"}
	for _, p := range patches.forNode(n) {
		list = append(list, p.patch)
		applied = append(applied, p.Path)
	}
	// One patch at a time, so a failure names its file.
	steps := make([]coreconfig.Provider, 0, len(list))
	for i, p := range list {
		out, err := configpatcher.Apply(configpatcher.WithConfig(cfg), []configpatcher.Patch{p})
		if err == nil {
			cfg, err = out.Config()
		}
		if err != nil {
			return NodeConfig{}, fmt.Errorf("apply %s: %w", applied[i], err)
		}
		steps = append(steps, cfg)
	}
	if err := validate(cfg); err != nil {
		// Blame the first patch after which the config stops validating.
		culprit := applied[len(applied)-1]
		for i, step := range steps {
			if validate(step) != nil {
				culprit = applied[i]
				break
			}
		}
		return NodeConfig{}, fmt.Errorf("%s: the config is not valid for Talos %s on metal once this is applied: %w", culprit, inv.Talos.Version, err)
	}
	body, err := cfg.EncodeBytes(encoder.WithComments(encoder.CommentsDisabled))
	if err != nil {
		return NodeConfig{}, fmt.Errorf("encode: %w", err)
	}
	header := fmt.Sprintf("# %s (%s) of cluster %s: generated by infra's talosgen from homelab.yaml and %s.\n# Do not edit: change those and generate again. It holds the cluster's secrets: never commit it.\n",
		n.Name, n.Role, inv.Talos.ClusterName, DefaultPatchDir)
	data := append([]byte(header), body...)
	if err := roundTrip(data, body); err != nil {
		return NodeConfig{}, err
	}
	return NodeConfig{Node: n, Applied: applied, Config: data}, nil
}

// validate checks a config strictly for metal; warnings are errors.
func validate(cfg coreconfig.Provider) error {
	warnings, err := cfg.Validate(metal{}, validation.WithStrict())
	if err != nil {
		return errors.New(tidyMultiError(err.Error()))
	}
	if len(warnings) > 0 {
		return errors.New(strings.Join(warnings, "; "))
	}
	return nil
}

// tidyMultiError folds a multierror's "N errors occurred: * a * b" into
// one line.
func tidyMultiError(msg string) string {
	var parts []string
	for _, l := range strings.Split(msg, "\n") {
		l = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "* "))
		if l != "" && !strings.HasSuffix(l, "occurred:") {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, "; ")
}

// roundTrip checks that machinery's loader reads the written config back
// to the same config.
func roundTrip(data, body []byte) error {
	back, err := configloader.NewFromBytes(data)
	if err != nil {
		return fmt.Errorf("the generated config does not load back: %w", err)
	}
	again, err := back.EncodeBytes(encoder.WithComments(encoder.CommentsDisabled))
	if err != nil {
		return err
	}
	if !bytes.Equal(again, body) {
		return errors.New("the generated config changes when loaded back; this is a bug in talosgen")
	}
	return nil
}

// Talosconfig builds the client config for the cluster: its control planes
// as endpoints, and a new admin certificate signed by the cluster's CA.
func Talosconfig(inv *inventory.Inventory, bundle *secrets.Bundle) ([]byte, error) {
	gen, err := generatorInput(inv, bundle, "")
	if err != nil {
		return nil, err
	}
	tc, err := gen.Talosconfig()
	if err != nil {
		return nil, fmt.Errorf("make the talosconfig: %w", err)
	}
	return tc.Bytes()
}

// The inventory's documents, as YAML.
type (
	hostnameDoc struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Auto       string `yaml:"auto"`
		Hostname   string `yaml:"hostname"`
	}
	linkAliasDoc struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Name       string `yaml:"name"`
		Selector   struct {
			Match string `yaml:"match"`
		} `yaml:"selector"`
	}
	linkDoc struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Name       string `yaml:"name"`
		Addresses  []struct {
			Address string `yaml:"address"`
		} `yaml:"addresses"`
		Routes []struct {
			Gateway string `yaml:"gateway"`
		} `yaml:"routes"`
	}
	resolverDoc struct {
		APIVersion  string `yaml:"apiVersion"`
		Kind        string `yaml:"kind"`
		Nameservers []struct {
			Address string `yaml:"address"`
		} `yaml:"nameservers"`
		SearchDomains struct {
			Domains []string `yaml:"domains,omitempty"`
		} `yaml:"searchDomains,omitempty"`
	}
	timeSyncDoc struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		NTP        struct {
			Servers []string `yaml:"servers"`
		} `yaml:"ntp"`
	}
	vipDoc struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Name       string `yaml:"name"`
		Link       string `yaml:"link"`
	}
	userVolumeDoc struct {
		APIVersion   string `yaml:"apiVersion"`
		Kind         string `yaml:"kind"`
		Name         string `yaml:"name"`
		Provisioning struct {
			DiskSelector struct {
				Match string `yaml:"match"`
			} `yaml:"diskSelector"`
			MinSize string `yaml:"minSize"`
			Grow    bool   `yaml:"grow"`
		} `yaml:"provisioning"`
		Filesystem struct {
			Type string `yaml:"type"`
		} `yaml:"filesystem"`
	}
	volumeDoc struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Name       string `yaml:"name"`
		Encryption struct {
			Provider string `yaml:"provider"`
			Keys     []struct {
				Slot int      `yaml:"slot"`
				TPM  struct{} `yaml:"tpm"`
			} `yaml:"keys"`
		} `yaml:"encryption"`
	}
)

// inventoryPatch is the patch of a node's facts from the inventory.
func inventoryPatch(inv *inventory.Inventory, n inventory.TalosNode) (configpatcher.Patch, error) {
	net := inv.Network
	const v1 = "v1alpha1"
	docs := []any{hostnameDoc{v1, "HostnameConfig", "off", n.Name}}

	alias := linkAliasDoc{APIVersion: v1, Kind: "LinkAliasConfig", Name: LinkName}
	alias.Selector.Match = linkSelector
	docs = append(docs, alias)

	link := linkDoc{APIVersion: v1, Kind: "LinkConfig", Name: LinkName}
	link.Addresses = append(link.Addresses, struct {
		Address string `yaml:"address"`
	}{netip.PrefixFrom(n.IP, net.CIDR.Bits()).String()})
	link.Routes = append(link.Routes, struct {
		Gateway string `yaml:"gateway"`
	}{net.Gateway.String()})
	docs = append(docs, link)

	resolver := resolverDoc{APIVersion: v1, Kind: "ResolverConfig"}
	for _, d := range net.DNSServers {
		resolver.Nameservers = append(resolver.Nameservers, struct {
			Address string `yaml:"address"`
		}{d.String()})
	}
	resolver.SearchDomains.Domains = net.SearchDomains
	docs = append(docs, resolver)

	if len(net.NTPServers) > 0 {
		ts := timeSyncDoc{APIVersion: v1, Kind: "TimeSyncConfig"}
		ts.NTP.Servers = net.NTPServers
		docs = append(docs, ts)
	}
	if n.Role == inventory.RoleControlPlane && inv.Talos.VIP.IsValid() {
		docs = append(docs, vipDoc{v1, "Layer2VIPConfig", inv.Talos.VIP.String(), LinkName})
	}
	if n.DataDiskGiB > 0 {
		uv := userVolumeDoc{APIVersion: v1, Kind: "UserVolumeConfig", Name: LonghornVolume}
		uv.Provisioning.DiskSelector.Match = "!system_disk"
		uv.Provisioning.MinSize = strconv.Itoa(max(1, n.DataDiskGiB*9/10)) + "GiB"
		uv.Provisioning.Grow = true
		uv.Filesystem.Type = "xfs"
		docs = append(docs, uv)
	}
	if inv.Talos.DiskEncryption {
		for _, name := range []string{"STATE", "EPHEMERAL"} {
			vd := volumeDoc{APIVersion: v1, Kind: "VolumeConfig", Name: name}
			vd.Encryption.Provider = "luks2"
			vd.Encryption.Keys = append(vd.Encryption.Keys, struct {
				Slot int      `yaml:"slot"`
				TPM  struct{} `yaml:"tpm"`
			}{Slot: 0})
			docs = append(docs, vd)
		}
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	for _, d := range docs {
		if err := enc.Encode(d); err != nil {
			return nil, err
		}
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	p, err := configpatcher.LoadPatch(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("the inventory's facts do not make a valid Talos patch (a bug in talosgen): %w", err)
	}
	return p, nil
}
