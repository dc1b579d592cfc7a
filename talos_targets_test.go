package infra_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"filippo.io/age"
	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/secrets"
	"github.com/wdiazux/infra/lib/talosgen"
	"github.com/wdiazux/infra/lib/talosnode"
	"github.com/wdiazux/infra/lib/talosnode/nodesim"
)

// talosHome copies the repository's homelab.yaml, talos/patches and
// .sops.yaml (its recipients replaced by a new age key's) into a temporary
// directory; it returns the directory, the key, the -file flag naming the
// copy and the environment that gives the targets the key.
func talosHome(t *testing.T) (dir string, id *age.X25519Identity, inventoryFlag string, env []string) {
	t.Helper()
	dir = t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "homelab.yaml"), []byte(readFile(t, "homelab.yaml")), 0o644))
	id, env = talosRepository(t, dir)
	return dir, id, "-file=" + filepath.Join(dir, "homelab.yaml"), env
}

// talosRepository writes into dir what the talos targets read beside the
// inventory: the repository's .sops.yaml with a fresh age key as every
// recipient, and its talos/patches. env gives the targets that key.
func talosRepository(t *testing.T, dir string) (*age.X25519Identity, []string) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	require.NoError(t, err)
	conf := regexp.MustCompile(`age1[0-9a-z]{58}`).ReplaceAllString(readFile(t, ".sops.yaml"), id.Recipient().String())
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".sops.yaml"), []byte(conf), 0o644))
	require.NoError(t, os.CopyFS(filepath.Join(dir, "talos", "patches"), os.DirFS(filepath.Join("talos", "patches"))))
	return id, []string{"SOPS_AGE_KEY=" + id.String(), "SOPS_AGE_KEY_FILE="}
}

// TestTalosNodeTargets brings the homelab's node up through go run mage.go
// against a simulated Talos node: genconfig, apply in maintenance mode and
// again authenticated, health before and after bootstrap, bootstrap once,
// kubeconfig merged, and a support bundle.
func TestTalosNodeTargets(t *testing.T) {
	dir, id, inventoryFlag, env := talosHome(t)

	out, code := mageEnv(t, env, "talos:genconfig", inventoryFlag)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "create  "+filepath.Join(dir, "secrets", "talos-secrets.enc.yaml"))
	out, code = mageEnv(t, env, "talos:genconfig", inventoryFlag)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "Nothing to do: the 1 config(s) and the talosconfig are up to date.")

	bundle, err := talosgen.LoadBundle(filepath.Join(dir, talosgen.DefaultBundleFile), secrets.WithIdentities(id))
	require.NoError(t, err)
	sim, err := nodesim.New(bundle, []string{"talos-cp-01"})
	require.NoError(t, err)
	defer sim.Close()
	env = append(env, talosnode.EnvEndpoints+"=talos-cp-01="+sim.Endpoint("talos-cp-01"))

	out, code = mageEnv(t, env, "talos:apply", inventoryFlag)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "talos-cp-01 (maintenance mode, insecure): reboot")
	out, code = mageEnv(t, env, "talos:apply", "-node=talos-cp-01", "--dry-run", inventoryFlag)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "talos-cp-01 (authenticated): no-reboot")
	require.Contains(t, out, "No changes.")

	out, code = mageEnv(t, env, "talos:health", inventoryFlag)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "service etcd is Preparing")

	out, code = mageEnv(t, env, "talos:bootstrap", inventoryFlag)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "bootstrapped etcd on talos-cp-01")
	out, code = mageEnv(t, env, "talos:bootstrap", inventoryFlag)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "etcd is already bootstrapped: talos-cp-01 reports 1 member(s)")

	out, code = mageEnv(t, env, "talos:health", "-wait=1m", inventoryFlag)
	require.Equal(t, 0, code, out)
	require.Regexp(t, `talos-cp-01 +controlplane +v1\.12\.7 +8/8 healthy +1 member\(s\) +healthy`, out)

	kube := filepath.Join(dir, "home", ".kube", "config")
	out, code = mageEnv(t, env, "talos:kubeconfig", "-merge", "-into="+kube, inventoryFlag)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "merged into "+kube+" (0600); current context is now admin@homelab")
	for _, f := range []string{kube, filepath.Join(dir, talosgen.DefaultOutDir, talosnode.KubeconfigFile)} {
		fi, err := os.Stat(f)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), f)
	}

	zip := filepath.Join(dir, "support.zip")
	out, code = mageEnv(t, env, "talos:support", "-out="+zip, inventoryFlag)
	require.Equal(t, 0, code, out)
	require.Regexp(t, regexp.QuoteMeta(zip)+`: \d+ collected, \d+ failed`, out)
	require.NotContains(t, out, id.String())

	var authenticated, insecure int
	for _, r := range sim.Requests() {
		if r.Method != "ApplyConfiguration" {
			continue
		}
		if r.Authenticated {
			authenticated++
		} else {
			insecure++
		}
	}
	require.Equal(t, 1, insecure, "only the fresh node got its config without authentication")
	require.Equal(t, 1, authenticated)
}

// The targets that talk to the Image Factory and to Talos nodes take their
// time limits from INFRA_NET_TIMEOUTS, as the Proxmox client does: a bad
// value is refused before any connection.
func TestTalosTargetsReadTheNetworkLimits(t *testing.T) {
	for _, target := range []string{"talos:import", "talos:health"} {
		out, code := mageEnv(t, []string{"INFRA_NET_TIMEOUTS=dial=soon"}, target)
		require.Equal(t, 1, code, out)
		require.Contains(t, out, `INFRA_NET_TIMEOUTS: dial="soon" is not a positive duration`, target)
	}
}

// TestTalosNodeTargetsSayWhatToRunFirst: before talos:genconfig, the node
// targets name the file that is missing and the target that makes it.
func TestTalosNodeTargetsSayWhatToRunFirst(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "homelab.yaml"), []byte(readFile(t, "homelab.yaml")), 0o644))
	inventoryFlag := "-file=" + filepath.Join(dir, "homelab.yaml")
	generated := filepath.Join(dir, talosgen.DefaultOutDir)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"talos:apply"}, "talos-cp-01: " + filepath.Join(generated, "talos-cp-01.yaml") + " does not exist: generate the node configs first\nrun: go run mage.go talos:genconfig\n"},
		{[]string{"talos:health", "-wait=10m"}, filepath.Join(generated, talosgen.TalosconfigFile) + " does not exist: generate the node configs and the talosconfig first\nrun: go run mage.go talos:genconfig\n"},
		{[]string{"talos:support"}, filepath.Join(generated, talosgen.TalosconfigFile) + " does not exist: generate the node configs and the talosconfig first\nrun: go run mage.go talos:genconfig\n"},
	}
	for _, tt := range tests {
		t.Run(tt.args[0], func(t *testing.T) {
			out, code := mage(t, append(tt.args, inventoryFlag)...)
			require.Equal(t, 1, code, out)
			require.Contains(t, out, tt.want)
		})
	}
}
