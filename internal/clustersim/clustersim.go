package clustersim

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	tsecrets "github.com/siderolabs/talos/pkg/machinery/config/generate/secrets"
	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/kubetest"
	"github.com/wdiazux/infra/internal/talostest"
	"github.com/wdiazux/infra/internal/tfaccept"
	"github.com/wdiazux/infra/internal/toolchain"
	"github.com/wdiazux/infra/lib/addons"
	"github.com/wdiazux/infra/lib/cluster"
	"github.com/wdiazux/infra/lib/helmdeploy"
	"github.com/wdiazux/infra/lib/images"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/proxmox/pve"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
	"github.com/wdiazux/infra/lib/secrets"
	"github.com/wdiazux/infra/lib/talosfactory"
	"github.com/wdiazux/infra/lib/talosfactory/factorysim"
	"github.com/wdiazux/infra/lib/talosgen"
	"github.com/wdiazux/infra/lib/talosnode"
	"github.com/wdiazux/infra/lib/talosnode/nodesim"
	"github.com/wdiazux/infra/lib/terraform"
)

// GuestBoot is how long a simulated guest takes to boot after a start.
const GuestBoot = 300 * time.Millisecond

// watchInterval is how often the harness looks at the VMs' guests.
const watchInterval = 10 * time.Millisecond

// Harness is a simulated host, factory and Talos nodes for one inventory,
// in a temporary copy of the repository's inventory files.
type Harness struct {
	// Inv is the inventory; File is its copy in Root (factory_url points
	// at the simulated factory), Root the directory that holds it,
	// .sops.yaml, talos/patches and the secrets bundle.
	Inv        *inventory.Inventory
	File, Root string
	// Sim is the Proxmox VE host, Client a Go client of it.
	Sim    *pvesim.Server
	Client *proxmox.Client
	// Factory is the Image Factory.
	Factory *factorysim.Server
	// Nodes are the Talos nodes, one per inventory node, by name.
	Nodes *nodesim.Sim
	// Identity is the age key the secrets bundle is encrypted to.
	Identity *age.X25519Identity
	// VMs makes the node VMs: lib/terraform's step of the talos stack,
	// the repository's terraform/ copied next to the inventory.
	VMs terraform.StackStep
	// TerraformEnv is what a terraform run against the harness needs
	// besides the host's connection: the CLI configuration that installs
	// the provider from the tool cache's mirror.
	TerraformEnv []string
	// CAFile is the simulator's CA certificate (PEM), trusted by Terraform.
	CAFile string
	// Kube is the cluster's Kubernetes API server (WithKube; nil
	// without): a real kube-apiserver whose CA is the secrets bundle's
	// Kubernetes CA, so the kubeconfig the nodes hand out reaches it as
	// admin.
	Kube *kubetest.Server
	// Controllers play the cluster's controllers and kubelets on Kube
	// (nil without WithKube), and the Cilium operator's start-up: when
	// Deployment kube-system/cilium-operator would become ready they apply
	// ChartMirror's crds/cilium-l2-lb.yaml.
	Controllers *kubetest.Controllers
	// ChartMirror is the offline chart repository (shared/charts in a
	// folder above the repository: ../shared/charts of the main checkout),
	// "" when there is none.
	ChartMirror string

	// tf makes a terraform runner for the current inventory (Edit).
	tf func(inv *inventory.Inventory) terraform.StackStep
	// mu guards known: every node the inventory ever listed, which the
	// harness keeps coupled to its VM (a node removed from the inventory
	// runs until its VM is destroyed).
	mu    sync.Mutex
	known []inventory.TalosNode
}

// Option configures New.
type Option func(*options)

type options struct {
	kube  bool
	nodes []nodesim.Option
}

// WithNodeOptions are more options of the simulated Talos nodes (e.g.
// nodesim.WithRequestHook).
func WithNodeOptions(opts ...nodesim.Option) Option {
	return func(o *options) { o.nodes = append(o.nodes, opts...) }
}

// WithKube gives the simulated cluster a real Kubernetes API server
// (Harness.Kube, about 6 to 10 s to start, so only for the tests that use
// it), with the controllers stand-in (Harness.Controllers): the nodes'
// kubeconfig names it (nodesim.WithKubernetesEndpoint), and Options and
// Env make the kubeconfig step accept it as the cluster's
// (talosnode.WithKubernetesEndpoint). When kube-apiserver or etcd is not
// built the test is skipped outside CI and fails in CI.
func WithKube() Option { return func(o *options) { o.kube = true } }

// New builds the harness for the repository's inventory homelab (its
// directory is the repository: talos/patches, .sops.yaml and
// terraform/modules/proxmox-vm are taken from there). The host is fresh
// but prepared as preflight asks; the secrets bundle exists already (the
// simulated nodes need its CAs), so node configs are still to generate.
// Everything stops when the test ends.
func New(t testing.TB, homelab string, opts ...Option) *Harness {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	repo := filepath.Dir(homelab)
	tools := tfaccept.RequireTools(t, homelab)
	h := &Harness{Root: t.TempDir()}

	h.Factory = factorysim.New(factorysim.WithPayload(1 << 20))
	t.Cleanup(h.Factory.Close)
	text, err := os.ReadFile(homelab)
	require.NoError(t, err)
	text = []byte(regexp.MustCompile(`(?m)^(\s*factory_url:).*$`).ReplaceAllString(string(text), "${1} "+h.Factory.URL()))
	if o.kube {
		// Forgejo's chart is not obtainable offline (shared/charts/README.md):
		// the add-ons installed into the harness's cluster go without it.
		text = regexp.MustCompile(`(?m)^    forgejo:\n(?:      .*\n)+`).ReplaceAll(text, nil)
	}
	h.File = filepath.Join(h.Root, inventory.DefaultFile)
	require.NoError(t, os.WriteFile(h.File, text, 0o644))
	h.Inv, err = inventory.Load(h.File)
	require.NoError(t, err)

	var bundle *tsecrets.Bundle
	h.Identity, bundle = talostest.Repository(t, repo, h.Root, h.Inv)

	h.Sim, err = pvesim.New(pvesim.WithSetup(pvesim.SetupFor(h.Inv, true)), pvesim.WithGuestBootDelay(GuestBoot))
	require.NoError(t, err)
	t.Cleanup(h.Sim.Close)
	id, secret := h.Sim.Token()
	h.Client, err = proxmox.New(proxmox.Config{URL: h.Sim.URL(), TokenID: id, TokenSecret: secret, Fingerprint: h.Sim.Fingerprint()},
		proxmox.WithPollInterval(5*time.Millisecond))
	require.NoError(t, err)

	var names []string
	for _, n := range h.Inv.Talos.Nodes {
		names = append(names, n.Name)
	}
	h.ChartMirror, _ = kubetest.ChartsDir(repo)
	schematic, err := talosfactory.SchematicFor(h.Inv).ID()
	require.NoError(t, err)
	// The nodes boot the template's image: the inventory's version and schematic.
	simOpts := append([]nodesim.Option{nodesim.WithVersion(h.Inv.Talos.Version), nodesim.WithSchematic(schematic)}, o.nodes...)
	if o.kube {
		h.startKube(t, homelab, bundle.Certs.K8s.Crt, bundle.Certs.K8s.Key)
		simOpts = append(simOpts, nodesim.WithKubernetesEndpoint(h.Kube.Config().Host))
	}
	h.Nodes, err = nodesim.New(bundle, names, simOpts...)
	require.NoError(t, err)
	t.Cleanup(h.Nodes.Close)
	for _, n := range names {
		h.Nodes.SetDown(n, true)
	}
	h.known = slices.Clone(h.Inv.Talos.Nodes)
	stop := h.watch()
	t.Cleanup(stop)

	require.NoError(t, os.CopyFS(filepath.Join(h.Root, "kubernetes"), os.DirFS(filepath.Join(repo, "kubernetes"))))
	require.NoError(t, tfaccept.CopyTerraform(repo, h.Root)) // the code only: no state of a checkout's own runs
	rc, ca, err := tfaccept.WriteClientFiles(h.Root, tools.Cache, []toolchain.GoTool{tools.Provider}, h.Sim.CACertPEM())
	require.NoError(t, err)
	h.CAFile = ca
	h.TerraformEnv = []string{"TF_CLI_CONFIG_FILE=" + rc, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1"}
	h.tf = func(inv *inventory.Inventory) terraform.StackStep {
		run, err := terraform.New(t.Context(), h.Root, terraform.WithBinary(tools.Terraform), terraform.WithEnv(h.TerraformEnv...),
			terraform.WithProxmox(proxmox.Config{URL: h.Sim.URL(), TokenID: id, TokenSecret: secret, CAFile: h.CAFile}),
			terraform.WithInventoryFile(h.File), terraform.WithHostCheck(h.Client, inv))
		require.NoError(t, err)
		return run.Step(terraform.StackTalos)
	}
	h.VMs = h.tf(h.Inv)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the simulator's request log:\n%s", tfaccept.FormatRequests(h.Sim.Requests()))
		}
	})
	return h
}

// startKube starts the cluster's API server with its Kubernetes CA, and
// the controllers on it; both stop when the test ends.
func (h *Harness) startKube(t testing.TB, homelab string, caPEM, keyPEM []byte) {
	t.Helper()
	// A Package of one: its Server skips outside CI and fails in CI when
	// a program is missing; the server is the harness's, stopped with it.
	p := &kubetest.Package{Options: []kubetest.Option{kubetest.WithInventory(homelab), kubetest.WithClusterCA(caPEM, keyPEM)}}
	h.Kube = p.Server(t)
	t.Cleanup(func() {
		if err := h.Kube.Stop(); err != nil {
			t.Errorf("stop the cluster's API server: %v", err)
		}
	})
	h.Controllers = h.Kube.Controllers(t, kubetest.WithNodes(len(h.Inv.Talos.Nodes)), kubetest.CiliumOperatorCRDs(h.Kube.Config(), h.ChartMirror))
}

// watch couples the Talos nodes to the VMs until the returned function is
// called: a node is up while a VM of the inventory's node IDs runs with
// its guest booted and the cloud-init image it booted with gives it the
// node's address; a node whose VM was destroyed is reset.
func (h *Harness) watch() (stop func()) {
	done, finished := make(chan struct{}), make(chan struct{})
	up := map[string]bool{}
	existed := map[string]bool{}
	go func() {
		defer close(finished)
		tick := time.NewTicker(watchInterval)
		defer tick.Stop()
		for {
			h.couple(up, existed)
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); <-finished }) }
}

// Edit rewrites the inventory file with edit, as a person edits
// homelab.yaml, and loads it (Inv, VMs). A node it adds gets a simulated
// Talos node, down until a VM of its boots; a node it removes keeps its
// own, coupled to its VM until the VM is destroyed. An inventory that does
// not load is refused with the loader's error and the file left as it was.
func (h *Harness) Edit(t testing.TB, edit func(string) string) error {
	t.Helper()
	old, err := os.ReadFile(h.File)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(h.File, []byte(edit(string(old))), 0o644))
	inv, err := inventory.Load(h.File)
	if err != nil {
		require.NoError(t, os.WriteFile(h.File, old, 0o644))
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, n := range inv.Talos.Nodes {
		if slices.ContainsFunc(h.known, func(k inventory.TalosNode) bool { return k.Name == n.Name }) {
			continue
		}
		require.NoError(t, h.Nodes.Add(n.Name))
		h.Nodes.SetDown(n.Name, true)
		h.known = append(h.known, n)
	}
	h.Inv, h.VMs = inv, h.tf(inv)
	return nil
}

// Known are the nodes the inventory listed at any time.
func (h *Harness) Known() []inventory.TalosNode {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.known)
}

// couple looks at every VM once and brings the nodes up or down.
func (h *Harness) couple(up, existed map[string]bool) {
	booted := map[string]bool{} // addresses a booted guest has
	known := h.Known()
	for _, n := range known {
		g, ok := h.Sim.Guest(n.VMID)
		if !ok {
			if existed[n.Name] {
				h.Nodes.Reset(n.Name) // the VM is gone: a new one boots fresh
				existed[n.Name] = false
			}
			continue
		}
		existed[n.Name] = true
		if g.Booted {
			if ip := address(g.IPConfig[0]); ip != "" {
				booted[ip] = true
			}
		}
	}
	for _, n := range known {
		want := booted[n.IP.String()]
		if want != up[n.Name] {
			h.Nodes.SetDown(n.Name, !want)
			up[n.Name] = want
		}
	}
}

// address is the IPv4 address of an ipconfigN value, "" without one.
func address(ipconfig string) string {
	ps, err := pve.ParsePropertyString(ipconfig, "")
	if err != nil {
		return ""
	}
	ip, _ := ps.Get("ip")
	addr, _, _ := strings.Cut(ip, "/")
	return addr
}

// Endpoints maps each node (every node the inventory listed at any time)
// to its simulated Talos API.
func (h *Harness) Endpoints() map[string]string {
	out := map[string]string{}
	for _, n := range h.Known() {
		out[n.Name] = h.Nodes.Endpoint(n.Name)
	}
	return out
}

// Deps are cluster.Up's dependencies on the harness: the host, the
// factory, a lock file next to the inventory, and Terraform for the VMs.
func (h *Harness) Deps(t testing.TB) cluster.Deps {
	t.Helper()
	factory, err := talosfactory.New(h.Inv.Talos.FactoryURL)
	require.NoError(t, err)
	lock, err := images.LoadLockFile(filepath.Join(h.Root, images.DefaultLockFile))
	require.NoError(t, err)
	deps := cluster.Deps{Proxmox: h.Client, Factory: factory, Lock: lock, NodeVMs: h.VMs, Addons: noCluster{}}
	if h.Kube != nil {
		deps.Addons = h.Addons()
	}
	return deps
}

// Addons is the add-ons stage on the harness's API server (WithKube):
// lib/addons with the kubeconfig the kubeconfig step writes, the offline
// chart repository as the mirror, the harness's age key for Flux and a
// chart cache in the harness's directory.
func (h *Harness) Addons(opts ...addons.DeployOption) *addons.Deploy {
	deployer := []helmdeploy.Option{helmdeploy.WithCacheDir(filepath.Join(h.Root, ".charts"))}
	if h.ChartMirror != "" {
		deployer = append(deployer, helmdeploy.WithMirror(h.ChartMirror))
	}
	return addons.NewDeploy(h.Inv, h.Root, filepath.Join(h.Root, talosgen.DefaultOutDir, talosnode.KubeconfigFile),
		append([]addons.DeployOption{addons.WithDeployerOptions(deployer...),
			addons.WithSecretOptions(addons.WithAgeIdentities(h.Identity)),
			addons.WithReleaseOptions(addons.WithTimeout(2 * time.Minute))}, opts...)...)
}

// noCluster is the add-ons stage of a harness without an API server: there
// is no cluster to install into, and it says so (its Plan too, so a dry
// run checks the step).
type noCluster struct{}

// Apply installs nothing.
func (noCluster) Apply(ctx context.Context) (bool, string, error) { return noCluster{}.Plan(ctx) }

// Plan finds nothing to install.
func (noCluster) Plan(context.Context) (bool, string, error) {
	return false, "no add-ons: this harness has no API server (clustersim.WithKube)", nil
}

// Options are cluster.Up's options for the harness: the age key, the
// nodes' loopback endpoints and short waits.
func (h *Harness) Options() []cluster.Option {
	return []cluster.Option{
		cluster.WithSecrets(secrets.WithIdentities(h.Identity)),
		cluster.WithTalosOptions(talosnode.WithEndpointOverrides(h.Endpoints()), talosnode.WithKubernetesEndpoint(h.kubeURL())),
		cluster.WithNodeWait(time.Minute), cluster.WithHealthWait(time.Minute), cluster.WithPollInterval(50 * time.Millisecond),
	}
}

// kubeURL is the API server's URL, "" without one.
func (h *Harness) kubeURL() string {
	if h.Kube == nil {
		return ""
	}
	return h.Kube.Config().Host
}

// Env is the environment a target run against the harness needs: the
// host's URL and token, the age key, the nodes' endpoints, the cluster's
// API server (talosnode.EnvKubernetesEndpoint, empty without WithKube)
// and the chart mirror (helmdeploy.EnvChartMirror, empty without one).
func (h *Harness) Env() []string {
	id, secret := h.Sim.Token()
	var eps []string
	for name, ep := range h.Endpoints() {
		eps = append(eps, name+"="+ep)
	}
	return append([]string{proxmox.EnvURL + "=" + h.Sim.URL(), proxmox.EnvTokenID + "=" + id, proxmox.EnvTokenSecret + "=" + secret,
		proxmox.EnvTLSFingerprint + "=" + h.Sim.Fingerprint(), proxmox.EnvUser + "=", proxmox.EnvToken + "=",
		"SOPS_AGE_KEY=" + h.Identity.String(), "SOPS_AGE_KEY_FILE=", talosnode.EnvEndpoints + "=" + strings.Join(eps, ","),
		proxmox.EnvCAFile + "=" + h.CAFile, talosnode.EnvKubernetesEndpoint + "=" + h.kubeURL(),
		helmdeploy.EnvChartMirror + "=" + h.ChartMirror}, h.TerraformEnv...)
}
