package talosgen_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	clientconfig "github.com/siderolabs/talos/pkg/machinery/client/config"
	coreconfig "github.com/siderolabs/talos/pkg/machinery/config"
	"github.com/siderolabs/talos/pkg/machinery/config/config"
	"github.com/siderolabs/talos/pkg/machinery/config/configloader"
	"github.com/siderolabs/talos/pkg/machinery/config/encoder"
	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/talosgen"
)

func TestGolden(t *testing.T) {
	for name, file := range map[string]string{"homelab": homelabFile, "three-nodes": threeNodesFile} {
		t.Run(name, func(t *testing.T) {
			_, res := generate(t, file)
			dir := filepath.Join("testdata", "golden", name)
			if *update {
				require.NoError(t, os.RemoveAll(dir))
				require.NoError(t, os.MkdirAll(dir, 0o755))
			}
			var names []string
			for _, n := range res.Nodes {
				golden := filepath.Join(dir, n.Node.Name+".yaml")
				names = append(names, n.Node.Name+".yaml")
				if *update {
					require.NoError(t, os.WriteFile(golden, n.Config, 0o644))
					continue
				}
				want, err := os.ReadFile(golden)
				require.NoError(t, err, "regenerate with go test ./lib/talosgen -update")
				require.Equal(t, string(want), string(n.Config), "%s differs from its golden file (go test ./lib/talosgen -update after an intended change)", n.Node.Name)
			}
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			var have []string
			for _, e := range entries {
				have = append(have, e.Name())
			}
			slices.Sort(names)
			require.Equal(t, names, have, "one golden file per node, no stale ones")
		})
	}
}

// load reads a generated config back through machinery's loader.
func load(t *testing.T, data []byte) coreconfig.Provider {
	t.Helper()
	cfg, err := configloader.NewFromBytes(data)
	require.NoError(t, err)
	return cfg
}

func TestConfigFacts(t *testing.T) {
	for name, file := range map[string]string{"homelab": homelabFile, "three-nodes": threeNodesFile} {
		t.Run(name, func(t *testing.T) {
			inv, res := generate(t, file)
			installer, err := talosgen.InstallerRef(inv)
			require.NoError(t, err)
			require.Regexp(t, `^factory\.talos\.dev/installer/[0-9a-f]{64}:v1\.12\.7$`, installer)
			cps := len(inv.Talos.ControlPlanes())
			require.Len(t, res.Nodes, len(inv.Talos.Nodes))
			for _, n := range res.Nodes {
				cfg := load(t, n.Config)
				m, c := cfg.Machine(), cfg.Cluster()
				require.Equal(t, "none", c.Network().CNI().Name(), n.Node.Name)
				require.False(t, c.Proxy().Enabled(), "kube-proxy is disabled: %s", n.Node.Name)
				require.True(t, m.Features().KubePrism().Enabled())
				require.Equal(t, 7445, m.Features().KubePrism().Port())
				require.Equal(t, installer, m.Install().Image())
				require.Equal(t, inv.Talos.InstallDisk, mustDisk(t, m))
				require.Equal(t, n.Node.Name, cfg.NetworkHostnameConfig().Hostname())
				require.Equal(t, []string{inv.Network.NTPServers[0]}, cfg.NetworkTimeSyncConfig().Servers())

				var mounts []string
				for _, em := range m.Kubelet().ExtraMounts() {
					mounts = append(mounts, em.Destination+" "+strings.Join(em.Options, ","))
				}
				if n.Node.DataDiskGiB > 0 {
					require.Equal(t, []string{"/var/mnt/longhorn bind,rshared,rw"}, mounts, n.Node.Name)
					require.Len(t, cfg.UserVolumeConfigs(), 1)
					require.Equal(t, talosgen.LonghornVolume, cfg.UserVolumeConfigs()[0].Name())
				} else {
					require.Empty(t, mounts, n.Node.Name)
					require.Empty(t, cfg.UserVolumeConfigs())
				}

				var modules []string
				for _, km := range m.Kernel().Modules() {
					modules = append(modules, km.Name())
				}
				if n.Node.GPU.Enabled {
					require.Equal(t, []string{"nvidia", "nvidia_uvm", "nvidia_drm", "nvidia_modeset"}, modules, n.Node.Name)
					require.Equal(t, "1", m.Sysctls()["net.core.bpf_jit_harden"])
				} else {
					require.Empty(t, modules, "NVIDIA modules only with the GPU on: %s", n.Node.Name)
					require.NotContains(t, m.Sysctls(), "net.core.bpf_jit_harden")
				}

				vips := cfg.NetworkVirtualIPConfigs()
				if cps > 1 && n.Node.Role == inventory.RoleControlPlane {
					require.Len(t, vips, 1, n.Node.Name)
					require.Equal(t, inv.Talos.VIP.String(), vips[0].VIP().String())
					require.Equal(t, "https://"+inv.Talos.VIP.String()+":6443", c.Endpoint().String())
				} else {
					require.Empty(t, vips, "a VIP only with more than one control plane: %s", n.Node.Name)
				}
				if cps == 1 {
					require.Equal(t, "https://"+inv.Talos.ControlPlanes()[0].IP.String()+":6443", c.Endpoint().String())
				}
				if n.Node.Role == inventory.RoleControlPlane {
					require.True(t, c.ScheduleOnControlPlanes())
					require.Equal(t, "0.0.0.0", c.ControllerManager().ExtraArgs()["bind-address"])
				}

				for _, volume := range []string{"STATE", "EPHEMERAL"} {
					vol, ok := cfg.Volumes().ByName(volume)
					encrypted := ok && vol.Encryption() != nil && vol.Encryption().Provider().String() == "luks2" &&
						len(vol.Encryption().Keys()) == 1 && vol.Encryption().Keys()[0].TPM() != nil
					require.Equal(t, inv.Talos.DiskEncryption, encrypted, "%s: %s sealed by the TPM only with talos.disk_encryption", n.Node.Name, volume)
				}
			}
		})
	}
}

func mustDisk(t *testing.T, m config.MachineConfig) string {
	t.Helper()
	return m.Install().Disk()
}

func TestGeneratedConfigsRoundTrip(t *testing.T) {
	_, res := generate(t, threeNodesFile)
	for _, n := range res.Nodes {
		cfg := load(t, n.Config)
		again, err := cfg.EncodeBytes(encoder.WithComments(encoder.CommentsDisabled))
		require.NoError(t, err)
		_, body, _ := strings.Cut(string(n.Config), "never commit it.\n")
		require.Equal(t, body, string(again), n.Node.Name)
	}
	inv := loadInventory(t, threeNodesFile)
	tc, err := talosgen.Talosconfig(inv, fixtureBundle(t))
	require.NoError(t, err)
	cfg, err := clientconfig.FromBytes(tc)
	require.NoError(t, err)
	require.Equal(t, "homelab", cfg.Context)
	require.Equal(t, []string{"10.10.2.6", "10.10.2.7", "10.10.2.8"}, cfg.Contexts["homelab"].Endpoints, "talosconfig endpoints are the control planes, never the VIP")
	again, err := cfg.Bytes()
	require.NoError(t, err)
	back, err := clientconfig.FromBytes(again)
	require.NoError(t, err)
	require.Equal(t, cfg.Contexts, back.Contexts)
}

func TestIdenticalInputsGiveIdenticalConfigs(t *testing.T) {
	_, a := generate(t, homelabFile)
	_, b := generate(t, homelabFile)
	require.Equal(t, a, b)
}
