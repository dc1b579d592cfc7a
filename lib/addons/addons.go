package addons

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/wdiazux/infra/lib/helmdeploy"
	"github.com/wdiazux/infra/lib/inventory"
)

// The add-ons, each the name of its chart release and of its key in
// kubernetes.charts.
const (
	Cilium              = "cilium"
	Longhorn            = "longhorn"
	CSIDriverNFS        = "csi-driver-nfs"
	NvidiaDevicePlugin  = "nvidia-device-plugin"
	KubePrometheusStack = "kube-prometheus-stack"
	Loki                = "loki"
	Alloy               = "alloy"
	Flux2               = "flux2"
	Forgejo             = "forgejo"
)

// The manifest releases of the add-ons' non-chart objects.
const (
	CiliumConfig       = "cilium-config"
	CSIDriverNFSConfig = "csi-driver-nfs-config"
	NvidiaConfig       = "nvidia-config"
	Flux2Config        = "flux2-config"
)

// LBIPAnnotation is the annotation a Service asks Cilium LB-IPAM for its
// address with (Cilium 1.19; io.cilium/lb-ipam-ips is its deprecated form).
const LBIPAnnotation = "lbipam.cilium.io/ips"

// LBSharingKeyAnnotation lets Services with the same key share one
// LB-IPAM address (Forgejo's HTTP and SSH services).
const LBSharingKeyAnnotation = "lbipam.cilium.io/sharing-key"

// LonghornDataPath is where Longhorn keeps replicas: the Talos user volume
// lib/talosgen makes on each node's data disk (talosgen.LonghornVolume,
// mounted at /var/mnt/<name>).
const LonghornDataPath = "/var/mnt/longhorn"

// SOPSSecretName is the Secret, in the flux2 chart's namespace, holding the
// age key Flux decrypts SOPS files with.
const SOPSSecretName = "sops-age"

// Addon is one add-on: its chart release and, when it has objects outside
// its chart, the manifest release holding them.
type Addon struct {
	// Name is the release name and the key of its chart in
	// kubernetes.charts.
	Name string
	// Config is the name of the manifest release of its non-chart objects
	// (kubernetes/<Name>/config), empty when it has none.
	Config string
	// DependsOn are the add-ons installed and ready before this one (the
	// release of an add-on whose chart uses its config release, the NVIDIA
	// device plugin, also waits for that one).
	DependsOn []string
	// GPUOnly is set when the add-on exists only with a GPU node.
	GPUOnly bool
}

// addon is an Addon with how its values and configuration are computed.
type addon struct {
	Addon
	// privileged says its pods need host access (Longhorn's engine,
	// node-exporter, the device plugin): its namespace enforces the
	// privileged Pod Security level.
	privileged bool
	// configFirst installs the config release before the chart (the chart
	// uses its objects) instead of after it (the chart provides its CRDs).
	configFirst bool
	// configNamespaced says the config objects live in the chart's
	// namespace (false: cluster-scoped objects only).
	configNamespaced bool
	// lb are the Services the add-on publishes on services: addresses.
	lb []lbService
	// values computes the chart values that come from the inventory.
	values func(f *facts) (map[string]any, error)
	// patches computes the config objects' inventory fields, as strategic
	// merge patches over the kustomize base.
	patches func(f *facts) ([]map[string]any, error)
}

// lbService ties an entry of services: to the Kubernetes Services an
// add-on publishes on its address.
type lbService struct {
	// entry is the name in services:.
	entry string
	// ports are the ports the entry must list.
	ports []int
	// services are the Kubernetes Service names using the address.
	services []string
}

// catalogue lists the add-ons in install order.
func catalogue() []addon {
	return []addon{
		{Addon: Addon{Name: Cilium, Config: CiliumConfig}, lb: []lbService{{"hubble-ui", []int{80}, []string{"hubble-ui"}}},
			values: ciliumValues, patches: ciliumPatches},
		{Addon: Addon{Name: Longhorn, DependsOn: []string{Cilium}}, privileged: true, lb: []lbService{{"longhorn-ui", []int{80}, []string{"longhorn-frontend"}}},
			values: longhornValues},
		{Addon: Addon{Name: CSIDriverNFS, Config: CSIDriverNFSConfig, DependsOn: []string{Cilium}}, patches: nfsPatches},
		{Addon: Addon{Name: NvidiaDevicePlugin, Config: NvidiaConfig, DependsOn: []string{Cilium}, GPUOnly: true}, privileged: true, configFirst: true, values: nvidiaValues},
		{Addon: Addon{Name: KubePrometheusStack, DependsOn: []string{Cilium, Longhorn}}, privileged: true, values: prometheusValues},
		{Addon: Addon{Name: Loki, DependsOn: []string{Cilium, Longhorn}}},
		{Addon: Addon{Name: Alloy, DependsOn: []string{Loki}}, values: alloyValues},
		{Addon: Addon{Name: Flux2, Config: Flux2Config, DependsOn: []string{Cilium}}, configNamespaced: true,
			lb: []lbService{{"flux-webhook", []int{80}, []string{"webhook-receiver-lb"}}}, patches: fluxPatches},
		{Addon: Addon{Name: Forgejo, DependsOn: []string{Cilium, Longhorn}}, lb: []lbService{{"forgejo", []int{3000, 22}, []string{"forgejo-http", "forgejo-ssh"}}},
			values: forgejoValues},
	}
}

// Addons returns every add-on this package knows, in install order; their
// names are inventory.KnownCharts.
func Addons() []Addon {
	var out []Addon
	for _, a := range catalogue() {
		out = append(out, a.Addon)
	}
	return out
}

// Option changes how Releases builds the releases.
type Option func(*options)

type options struct {
	timeout time.Duration
}

// WithTimeout sets every release's Timeout (zero keeps the deployer's
// default).
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// Releases computes the add-ons' releases from the inventory: each add-on
// whose chart kubernetes.charts pins (the NVIDIA ones only when a node has
// gpu.enabled), with its static values from root/kubernetes/<name>/values.yaml
// merged with the values computed from inv, and its non-chart objects
// rendered with kustomize from root/kubernetes/<name>/config as the release
// <name>-config. The releases come in install order; DependsOn names only
// releases in the result. root is the folder holding kubernetes/.
func Releases(inv *inventory.Inventory, root string, opts ...Option) ([]helmdeploy.Release, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	f, err := newFacts(inv)
	if err != nil {
		return nil, err
	}
	var out []helmdeploy.Release
	for _, a := range f.enabled {
		ch := inv.Kubernetes.Charts[a.Name]
		static, err := staticValues(root, a.Name)
		if err != nil {
			return nil, err
		}
		computed, err := a.computed(f)
		if err != nil {
			return nil, err
		}
		values, err := normalise(mergeValues(static, computed))
		if err != nil {
			return nil, fmt.Errorf("add-on %s: values: %w", a.Name, err)
		}
		rel := helmdeploy.Release{
			Name:            a.Name,
			Namespace:       ch.Namespace,
			NamespaceLabels: f.namespaceLabels(ch.Namespace),
			Chart:           &helmdeploy.ChartRef{Repository: ch.Repository, Name: ch.Chart, Version: ch.Version},
			Values:          values,
			DependsOn:       slices.Clone(a.DependsOn),
			Timeout:         o.timeout,
		}
		if a.Config == "" {
			out = append(out, rel)
			continue
		}
		manifests, err := a.renderConfig(f, root, ch.Namespace)
		if err != nil {
			return nil, err
		}
		cfg := helmdeploy.Release{Name: a.Config, Namespace: ch.Namespace, NamespaceLabels: f.namespaceLabels(ch.Namespace), Manifests: manifests, Timeout: o.timeout}
		if a.configFirst {
			cfg.DependsOn = slices.Clone(a.DependsOn)
			rel.DependsOn = append(rel.DependsOn, a.Config)
			out = append(out, cfg, rel)
		} else {
			cfg.DependsOn = []string{a.Name}
			out = append(out, rel, cfg)
		}
	}
	return out, nil
}

// namespaceLabels are the labels of namespace ns: the privileged Pod
// Security level when an enabled privileged add-on runs there, else none.
func (f *facts) namespaceLabels(ns string) map[string]string {
	for _, a := range f.enabled {
		if a.privileged && f.inv.Kubernetes.Charts[a.Name].Namespace == ns {
			return map[string]string{
				"pod-security.kubernetes.io/enforce": "privileged",
				"pod-security.kubernetes.io/audit":   "privileged",
				"pod-security.kubernetes.io/warn":    "privileged",
			}
		}
	}
	return nil
}

// computed is the add-on's values from the inventory (empty when none).
func (a addon) computed(f *facts) (map[string]any, error) {
	if a.values == nil {
		return map[string]any{}, nil
	}
	return a.values(f)
}

// staticValues reads root/kubernetes/<name>/values.yaml.
func staticValues(root, name string) (map[string]any, error) {
	path := filepath.Join(root, "kubernetes", name, "values.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &FileError{Path: path, Err: err}
	}
	var v map[string]any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, &FileError{Path: path, Err: err}
	}
	if v == nil {
		v = map[string]any{}
	}
	return v, nil
}

// mergeValues deep-merges over into base (over wins) and returns base.
func mergeValues(base, over map[string]any) map[string]any {
	out := maps.Clone(base)
	for k, v := range over {
		if bm, ok := out[k].(map[string]any); ok {
			if om, ok := v.(map[string]any); ok {
				out[k] = mergeValues(bm, om)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// normalise returns values as Helm stores them: JSON types only (numbers
// float64), so values compare equal to a release's stored ones.
func normalise(v map[string]any) (map[string]any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// facts are the inventory facts the add-ons use, checked once.
type facts struct {
	inv     *inventory.Inventory
	enabled []addon
	// nodes is the number of Talos nodes.
	nodes int
	// lbIP maps an entry of services: to its address.
	lbIP map[string]netip.Addr
	// nas is the address of kubernetes.nfs.server.
	nas netip.Addr
	// lbServices are the Kubernetes Services asking for a services:
	// address, for the Cilium services pool's selector.
	lbServices []string
}

// newFacts checks the inventory for what the enabled add-ons need.
func newFacts(inv *inventory.Inventory) (*facts, error) {
	f := &facts{inv: inv, nodes: len(inv.Talos.Nodes), lbIP: map[string]netip.Addr{}}
	gpu := inv.GPUExtensionsNeeded()
	for name := range inv.Kubernetes.Charts {
		if !slices.ContainsFunc(catalogue(), func(a addon) bool { return a.Name == name }) {
			return nil, &InventoryError{Field: "kubernetes.charts." + name, Problem: fmt.Sprintf("unknown add-on %q", name)}
		}
	}
	for _, a := range catalogue() {
		if _, ok := inv.Kubernetes.Charts[a.Name]; ok && (!a.GPUOnly || gpu) {
			f.enabled = append(f.enabled, a)
		}
	}
	for _, a := range f.enabled {
		for _, dep := range a.DependsOn {
			if _, ok := inv.Kubernetes.Charts[dep]; !ok {
				return nil, &InventoryError{Field: "kubernetes.charts." + dep, Problem: fmt.Sprintf("missing: the add-on %s needs %s; pin its chart, or remove %s", a.Name, dep, a.Name)}
			}
		}
		for _, lb := range a.lb {
			if err := f.addLB(a, lb); err != nil {
				return nil, err
			}
		}
	}
	if _, ok := inv.Kubernetes.Charts[Cilium]; ok {
		// Services of other namespaces (applications) ask for their address
		// by the name services: gives them.
		for _, s := range inv.Services {
			if _, used := f.lbIP[s.Name]; !used {
				f.lbIP[s.Name] = s.IP
				f.lbServices = append(f.lbServices, s.Name)
			}
		}
	}
	for _, need := range []struct {
		addon, field string
		missing      bool
	}{
		{Longhorn, "kubernetes.nfs", inv.Kubernetes.NFS.Server == ""},
		{CSIDriverNFS, "kubernetes.nfs", inv.Kubernetes.NFS.Server == ""},
		{Flux2, "kubernetes.gitops", inv.Kubernetes.GitOps.URL == ""},
	} {
		if _, ok := inv.Kubernetes.Charts[need.addon]; ok && need.missing {
			return nil, &InventoryError{Field: need.field, Problem: fmt.Sprintf("missing: the add-on %s needs it", need.addon)}
		}
	}
	if n := inv.Kubernetes.NFS; n.Server != "" {
		i := slices.IndexFunc(inv.Hosts, func(h inventory.Host) bool { return h.Name == n.Server })
		if i < 0 {
			return nil, &InventoryError{Field: "kubernetes.nfs.server", Problem: fmt.Sprintf("no entry in hosts is named %q", n.Server)}
		}
		f.nas = inv.Hosts[i].IP
	}
	return f, nil
}

// addLB checks the services: entry an add-on publishes on and records it.
func (f *facts) addLB(a addon, lb lbService) error {
	i := slices.IndexFunc(f.inv.Services, func(s inventory.Service) bool { return s.Name == lb.entry })
	ns := f.inv.Kubernetes.Charts[a.Name].Namespace
	if i < 0 {
		return &InventoryError{Field: "services", Problem: fmt.Sprintf("no entry named %q: the add-on %s publishes its service on it; add one with an IP of network.ranges.services, namespace %s and ports %v", lb.entry, a.Name, ns, lb.ports)}
	}
	s, path := f.inv.Services[i], fmt.Sprintf("services[%d]", i)
	if s.Namespace != ns {
		return &InventoryError{Field: path + ".namespace", Problem: fmt.Sprintf("%s is %q but the add-on %s runs in %q (kubernetes.charts.%s.namespace); make them equal", lb.entry, s.Namespace, a.Name, ns, a.Name)}
	}
	if !slices.Equal(s.Ports, lb.ports) {
		return &InventoryError{Field: path + ".ports", Problem: fmt.Sprintf("%s lists %v but the add-on %s serves %v; list those ports", lb.entry, s.Ports, a.Name, lb.ports)}
	}
	if r := f.inv.Network.Ranges.Services; !r.Contains(s.IP) {
		return &InventoryError{Field: path + ".ip", Problem: fmt.Sprintf("%s is outside network.ranges.services %s", s.IP, r)}
	}
	f.lbIP[lb.entry] = s.IP
	f.lbServices = append(f.lbServices, lb.services...)
	return nil
}

// controlPlaneIPs are the control-plane nodes' addresses in file order.
func (f *facts) controlPlaneIPs() []any {
	var out []any
	for _, n := range f.inv.Talos.ControlPlanes() {
		out = append(out, n.IP.String())
	}
	return out
}

// replicas is min(limit, nodes), at least 1.
func (f *facts) replicas(limit int) int {
	return max(1, min(limit, f.nodes))
}

// lbAnnotations are the annotations asking Cilium for a services: address.
func (f *facts) lbAnnotations(entry string) map[string]any {
	return map[string]any{LBIPAnnotation: f.lbIP[entry].String()}
}
