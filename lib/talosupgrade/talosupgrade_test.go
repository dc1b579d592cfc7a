package talosupgrade_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	tsecrets "github.com/siderolabs/talos/pkg/machinery/config/generate/secrets"
	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/talostest"
	"github.com/wdiazux/infra/lib/images"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/plan"
	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
	"github.com/wdiazux/infra/lib/secrets"
	"github.com/wdiazux/infra/lib/talosfactory"
	"github.com/wdiazux/infra/lib/talosfactory/factorysim"
	"github.com/wdiazux/infra/lib/talosgen"
	"github.com/wdiazux/infra/lib/talosnode"
	"github.com/wdiazux/infra/lib/talosnode/nodesim"
	"github.com/wdiazux/infra/lib/talosupgrade"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

const (
	threeNodes = "../talosgen/testdata/three-nodes.yaml"
	repo       = "../.."
	from, to   = "v1.12.6", "v1.12.7"
)

// rig is a cluster of three control planes and a worker on nodesim,
// running Talos `from` with its template on pvesim, and an inventory
// that asks for `to`.
type rig struct {
	t        *testing.T
	inv      *inventory.Inventory
	root     string
	id       *age.X25519Identity
	sim      *nodesim.Sim
	pve      *pvesim.Server
	client   *proxmox.Client
	factory  *factorysim.Server
	cluster  *talosnode.Cluster
	snap     *fakeSnapshotter
	lockFile string
}

// fakeSnapshotter records when it was called: how many Upgrade requests
// the nodes had received by then.
type fakeSnapshotter struct {
	mu       sync.Mutex
	sim      *nodesim.Sim
	upgrades []int
}

func (f *fakeSnapshotter) Snapshot(context.Context) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.upgrades = append(f.upgrades, len(upgrades(f.sim)))
	return fmt.Sprintf("secrets/etcd/snapshot-%d.db.age", len(f.upgrades)), nil
}

func (f *fakeSnapshotter) calls() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.upgrades)
}

// upgrades are the Upgrade requests the nodes received.
func upgrades(s *nodesim.Sim) []nodesim.Request {
	var out []nodesim.Request
	for _, r := range s.Requests() {
		if r.Method == "Upgrade" {
			out = append(out, r)
		}
	}
	return out
}

// newRig builds the rig; opts are added to the nodes' (e.g.
// nodesim.WithKubelets).
func newRig(t *testing.T, opts ...nodesim.Option) *rig {
	t.Helper()
	inv, err := inventory.Load(threeNodes)
	require.NoError(t, err)
	inv.Talos.Version = from
	r := &rig{t: t, inv: inv, root: t.TempDir()}
	r.factory = factorysim.New(factorysim.WithPayload(1 << 16))
	t.Cleanup(r.factory.Close)
	inv.Talos.FactoryURL = r.factory.URL()

	// The repository's patches and .sops.yaml (recipients replaced by a
	// fresh key), and a secrets bundle encrypted to it.
	var bundle *tsecrets.Bundle
	r.id, bundle = talostest.Repository(t, repo, r.root, inv)
	_, err = r.configs(t.Context())
	require.NoError(t, err)

	// The host, with the template of `from`.
	r.pve, err = pvesim.New(pvesim.WithSetup(pvesim.SetupFor(inv, true)))
	require.NoError(t, err)
	t.Cleanup(r.pve.Close)
	tokenID, secret := r.pve.Token()
	r.client, err = proxmox.New(proxmox.Config{URL: r.pve.URL(), TokenID: tokenID, TokenSecret: secret, Fingerprint: r.pve.Fingerprint()},
		proxmox.WithPollInterval(2*time.Millisecond))
	require.NoError(t, err)
	r.lockFile = filepath.Join(r.root, images.DefaultLockFile)
	_, err = images.ImportTalos(t.Context(), inv, r.client, r.factoryClient(), r.lock(), images.TalosImportOptions{})
	require.NoError(t, err)

	// The nodes, configured and bootstrapped, on `from` and the schematic.
	nodes := talostest.Start(t, inv, bundle, filepath.Join(r.root, talosgen.DefaultOutDir), talostest.Bootstrapped(),
		talostest.WithNodeOptions(append([]nodesim.Option{nodesim.WithVersion(from), nodesim.WithSchematic(r.schematic())}, opts...)...))
	r.sim, r.cluster = nodes.Sim, nodes.Cluster
	r.snap = &fakeSnapshotter{sim: r.sim}

	inv.Talos.Version = to // homelab.yaml moved on
	return r
}

func (r *rig) schematic() string {
	id, err := talosfactory.SchematicFor(r.inv).ID()
	require.NoError(r.t, err)
	return id
}

func (r *rig) factoryClient() *talosfactory.Client {
	f, err := talosfactory.New(r.factory.URL())
	require.NoError(r.t, err)
	return f
}

func (r *rig) lock() *images.LockFile {
	l, err := images.LoadLockFile(r.lockFile)
	require.NoError(r.t, err)
	return l
}

// configs is talos:genconfig in the rig's root.
func (r *rig) configs(ctx context.Context) (string, error) {
	rep, err := talosgen.SyncConfigs(ctx, r.inv, talosgen.SyncOptions{Root: r.root, Secrets: []secrets.Option{secrets.WithIdentities(r.id)}})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d file change(s)", len(rep.Files)), nil
}

func (r *rig) deps() talosupgrade.Deps {
	return talosupgrade.Deps{Nodes: r.cluster, Proxmox: r.client, Factory: r.factoryClient(), Lock: r.lock(),
		Configs: r.configs, Snapshot: r.snap}
}

// plan plans as a new process would.
func (r *rig) plan(opts ...talosupgrade.Option) *talosupgrade.Plan {
	r.t.Helper()
	p, err := talosupgrade.New(r.t.Context(), r.inv, r.deps(), append([]talosupgrade.Option{
		talosupgrade.WithWait(30 * time.Second), talosupgrade.WithInterval(20 * time.Millisecond)}, opts...)...)
	require.NoError(r.t, err)
	return p
}

// template reads what a VM ID holds: "" when nothing.
func (r *rig) template(id int) string {
	cfg, err := r.client.VMConfig(context.Background(), "pve", id)
	if err != nil {
		require.ErrorIs(r.t, err, proxmox.ErrVMNotFound)
		return ""
	}
	t, ok := images.TalosTemplateOf(cfg, id)
	require.True(r.t, ok, "VM %d is a finished Talos template", id)
	return t.Version
}

func (r *rig) running(node string) string {
	v, _ := r.sim.Running(node)
	return v
}

func upgradedNodes(s *nodesim.Sim) []string {
	var out []string
	for _, u := range upgrades(s) {
		out = append(out, u.Node)
	}
	return out
}

func order(p *talosupgrade.Plan) []string {
	var out []string
	for _, n := range p.Pending() {
		out = append(out, n.Node)
	}
	return out
}

func requireGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -run %s -update to write it", t.Name())
	require.Equal(t, string(want), string(got))
}

func TestUpgradeRollsOutWorkersFirstAfterASnapshot(t *testing.T) {
	r := newRig(t)
	p := r.plan()
	wantOrder := []string{"talos-gpu-01", "talos-cp-01", "talos-cp-02", "talos-cp-03"}
	require.Equal(t, wantOrder, order(p), "workers first, then control planes, in inventory order")
	require.Equal(t, strings.TrimPrefix(r.factory.URL(), "http://")+"/installer/"+r.schematic()+":"+to, p.InstallerImage)

	// The dry run's text is this plan's; the factory's address varies.
	var dry bytes.Buffer
	require.NoError(t, p.WriteText(&dry))
	requireGolden(t, "plan.golden", bytes.ReplaceAll(dry.Bytes(), []byte(strings.TrimPrefix(r.factory.URL(), "http://")), []byte("factory.test")))
	require.Empty(t, upgrades(r.sim), "planning changes nothing")

	var events []plan.Event
	var mu sync.Mutex
	p = r.plan(talosupgrade.WithEvents(func(e plan.Event) { mu.Lock(); events = append(events, e); mu.Unlock() }))
	rep, err := p.Execute(t.Context())
	require.NoError(t, err)

	require.Equal(t, wantOrder, upgradedNodes(r.sim), "one Upgrade per node, in plan order")
	for _, u := range upgrades(r.sim) {
		require.Equal(t, p.InstallerImage, u.Image)
		require.True(t, u.Authenticated)
		require.False(t, u.Force, "control planes check etcd quorum")
	}
	require.Equal(t, []int{0}, r.snap.calls(), "one snapshot, before the first Upgrade")
	require.Equal(t, "secrets/etcd/snapshot-1.db.age", rep.Snapshot)
	require.Equal(t, wantOrder, rep.Upgraded)
	for _, n := range wantOrder {
		v, s := r.sim.Running(n)
		require.Equal(t, []string{to, r.schematic()}, []string{v, s}, n)
	}
	cfg, err := os.ReadFile(filepath.Join(r.root, talosgen.DefaultOutDir, "talos-cp-01.yaml"))
	require.NoError(t, err)
	require.Contains(t, string(cfg), "image: "+p.InstallerImage, "the configs name the new installer")
	require.Equal(t, to, r.template(9000))
	require.Empty(t, r.template(9001), "the previous template goes once every node moved")
	require.Len(t, rep.Template, 3, "keep, import, remove")

	var waited bool
	for _, e := range events {
		waited = waited || (e.Step == "upgrade talos-cp-02" && strings.HasPrefix(e.Message, "waiting: "))
	}
	require.True(t, waited, "progress while a node reboots")

	// Nothing to do now, from the nodes' own answers.
	again := r.plan()
	require.True(t, again.NothingToDo())
	var text bytes.Buffer
	require.NoError(t, again.WriteText(&text))
	require.Contains(t, text.String(), "Nothing to do: every node runs Talos "+to)
	rep, err = again.Execute(t.Context())
	require.NoError(t, err)
	require.Empty(t, rep.Upgraded)
	require.Len(t, upgrades(r.sim), 4, "no node asked again")
	require.Equal(t, []int{0}, r.snap.calls(), "no snapshot when there is nothing to do")
}

func TestUpgradeStopsAtANodeThatDoesNotComeBackAndResumes(t *testing.T) {
	r := newRig(t)
	r.sim.SetUpgradeFault("talos-cp-01", nodesim.UpgradeStaysDown)
	_, err := r.plan(talosupgrade.WithWait(time.Second)).Execute(t.Context())
	var nb *talosupgrade.NodeNotBackError
	require.ErrorAs(t, err, &nb)
	require.Equal(t, "talos-cp-01", nb.Node)
	require.Equal(t, []string{"talos-gpu-01"}, nb.Upgraded)
	require.Equal(t, []string{"talos-cp-02", "talos-cp-03"}, nb.Untouched)
	require.Contains(t, strings.Join(nb.Saw, "\n"), "does not answer")
	require.Contains(t, err.Error(), "the rollout stopped: talos-cp-02, talos-cp-03 not touched")

	// The rest of the cluster is untouched; the old template is kept.
	require.Equal(t, []string{"talos-gpu-01", "talos-cp-01"}, upgradedNodes(r.sim))
	require.Equal(t, to, r.running("talos-gpu-01"))
	require.Equal(t, from, r.running("talos-cp-02"))
	require.Equal(t, from, r.running("talos-cp-03"))
	require.Equal(t, to, r.template(9000))
	require.Equal(t, from, r.template(9001), "the previous template stays until the last node moved")

	// A re-run while the node is still down refuses to plan, naming it.
	_, err = talosupgrade.New(t.Context(), r.inv, r.deps())
	require.ErrorIs(t, err, talosupgrade.ErrNotReady)
	require.ErrorContains(t, err, "talos-cp-01")

	// Fixed (the VM reset: it boots its old image), a re-run resumes.
	require.NoError(t, r.sim.PowerCycle("talos-cp-01"))
	p := r.plan()
	require.Equal(t, []string{"talos-cp-01", "talos-cp-02", "talos-cp-03"}, order(p), "the upgraded worker is skipped, from its own answer")
	require.Empty(t, p.Before, "the template moved already")
	require.Len(t, p.After, 1)
	_, err = p.Execute(t.Context())
	require.NoError(t, err)
	require.Equal(t, []string{"talos-gpu-01", "talos-cp-01", "talos-cp-01", "talos-cp-02", "talos-cp-03"}, upgradedNodes(r.sim))
	require.Equal(t, []int{0, 2}, r.snap.calls(), "each run snapshots before its first node")
	require.Empty(t, r.template(9001), "removed once every node moved")
	require.Equal(t, to, r.template(9000))
}

func TestUpgradeWaitsForWhatANodeReports(t *testing.T) {
	for name, tc := range map[string]struct {
		fault nodesim.UpgradeFault
		saw   string
	}{
		"back on the old version": {nodesim.UpgradeKeepsOldVersion, "runs Talos " + from},
		"back unhealthy":          {nodesim.UpgradeUnhealthy, "service kubelet is unhealthy"},
	} {
		t.Run(name, func(t *testing.T) {
			r := newRig(t)
			r.sim.SetUpgradeFault("talos-gpu-01", tc.fault)
			_, err := r.plan(talosupgrade.WithWait(time.Second)).Execute(t.Context())
			var nb *talosupgrade.NodeNotBackError
			require.ErrorAs(t, err, &nb)
			require.Equal(t, "talos-gpu-01", nb.Node)
			require.Contains(t, strings.Join(nb.Saw, "\n"), tc.saw)
			require.Equal(t, []string{"talos-gpu-01"}, upgradedNodes(r.sim), "no control plane touched")
			require.Equal(t, from, r.template(9001))
		})
	}
}

func TestUpgradeRefusals(t *testing.T) {
	t.Run("no snapshotter: nothing is touched", func(t *testing.T) {
		r := newRig(t)
		d := r.deps()
		d.Snapshot = nil
		p, err := talosupgrade.New(t.Context(), r.inv, d)
		require.NoError(t, err)
		var text bytes.Buffer
		require.NoError(t, p.WriteText(&text))
		require.Contains(t, text.String(), "NO snapshotter")
		_, err = p.Execute(t.Context())
		require.ErrorIs(t, err, talosupgrade.ErrNoSnapshotter)
		require.Empty(t, upgrades(r.sim))
		require.Equal(t, from, r.template(9000))
		require.Empty(t, r.template(9001))
	})
	t.Run("the previous ID is the inventory's", func(t *testing.T) {
		r := newRig(t)
		r.inv.Talos.Nodes[3].VMID = 9001
		_, err := talosupgrade.New(t.Context(), r.inv, r.deps())
		var pe *talosupgrade.PreviousIDError
		require.ErrorAs(t, err, &pe)
		require.Equal(t, talosupgrade.PreviousIDError{ID: 9001, Holder: "talos-gpu-01", Path: "talos.nodes[3].vm_id"}, *pe)
	})
	t.Run("a node refuses: the rollout stops", func(t *testing.T) {
		r := newRig(t)
		r.sim.SetUnhealthy("talos-cp-03", "etcd", "no leader")
		_, err := r.plan().Execute(t.Context())
		var ue *talosupgrade.NodeUpgradeError
		require.ErrorAs(t, err, &ue)
		var refused *talosnode.UpgradeRefusedError
		require.ErrorAs(t, err, &refused)
		require.Equal(t, "talos-cp-01", refused.Node)
		require.Equal(t, []string{"talos-cp-02", "talos-cp-03"}, ue.Untouched)
		require.Equal(t, from, r.running("talos-cp-01"))
	})
}

func TestUpgradeResumesAHalfKeptTemplate(t *testing.T) {
	r := newRig(t)
	// An earlier run was killed between the clone and its conversion.
	require.NoError(t, r.client.CloneVM(t.Context(), "pve", 9000, 9001, proxmox.CloneOptions{Name: "talos-previous", Full: true, Storage: "local-zfs"}, nil))
	p := r.plan()
	require.Equal(t, []talosupgrade.TemplateAction{talosupgrade.RemoveStale, talosupgrade.KeepPrevious, talosupgrade.ImportNew}, actions(p.Before))
	r.sim.SetUpgradeFault("talos-gpu-01", nodesim.UpgradeStaysDown)
	_, err := r.plan(talosupgrade.WithWait(time.Second)).Execute(t.Context())
	require.Error(t, err)
	require.Equal(t, from, r.template(9001), "rebuilt as a finished template")
}

func actions(steps []talosupgrade.TemplateStep) []talosupgrade.TemplateAction {
	var out []talosupgrade.TemplateAction
	for _, s := range steps {
		out = append(out, s.Action)
	}
	return out
}

// TestKubernetesNodesAreCheckedWhenReadyBefore: against a real API
// server whose Nodes the simulated kubelets registered, a node that is
// not Ready before the upgrade (its kubelet stopped) is not waited for;
// the others are.
func TestKubernetesNodesAreCheckedWhenReadyBefore(t *testing.T) {
	cs, err := kube.Server(t).Clientset()
	require.NoError(t, err)
	r := newRig(t, nodesim.WithKubelets(cs))
	require.NoError(t, r.sim.SetStalled("talos-gpu-01", "kubelet", true))
	require.NoError(t, r.sim.KubeletErr())
	d := r.deps()
	d.Kube = talosupgrade.NodesFromClient(cs)
	p, err := talosupgrade.New(t.Context(), r.inv, d)
	require.NoError(t, err)
	kube := map[string]bool{}
	for _, n := range p.Nodes {
		kube[n.Node] = n.Kube
	}
	require.Equal(t, map[string]bool{"talos-gpu-01": false, "talos-cp-01": true, "talos-cp-02": true, "talos-cp-03": true}, kube)
	require.Contains(t, p.Kube, "not checked for talos-gpu-01 (Ready is Unknown (NodeStatusUnknown: Kubelet stopped posting node status.))")

	ready, why, err := d.Kube.NodeReady(t.Context(), "talos-cp-09")
	require.NoError(t, err)
	require.False(t, ready)
	require.Equal(t, "the API has no Node talos-cp-09", why)
}
