package packer_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/testtool"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/packer"
	"github.com/wdiazux/infra/lib/proxmox"
)

// offline is a connection that is never dialled: validate only checks the
// plugin's settings are there.
var offline = proxmox.Config{URL: "https://pve.invalid:8006/api2/json", TokenID: "infra@pve!packer", TokenSecret: "not-a-secret", InsecureSkipVerify: true}

// TestEveryTemplateIsFormattedAndValid runs the real packer fmt -check,
// init and validate on every packer/<name>/ template of the repository,
// Windows's included once it is there.
func TestEveryTemplateIsFormattedAndValid(t *testing.T) {
	tl := requireTools(t)
	all, err := packer.Templates(repo)
	require.NoError(t, err)
	names := make([]string, len(all))
	for i, tpl := range all {
		names[i] = tpl.Name
	}
	require.Subset(t, names, []string{"arch", "debian", "nixos", "ubuntu"})
	r, err := packer.New(packer.WithBinary(tl.packer), packer.WithPluginDir(tl.pluginDir), packer.WithProxmox(offline),
		packer.WithInventoryFile(filepath.Join(repo, inventory.DefaultFile)))
	require.NoError(t, err)
	// What a template needs besides the inventory and the connection: the
	// Windows template's ISOs and administrator password (placeholders).
	inputs := map[string]map[string]string{
		"windows": {"windows_iso_file": "local:iso/windows.iso", "virtio_iso_file": "local:iso/virtio-win.iso",
			"windows_admin_password": "Placeholder-Only-1234"},
	}
	ctx := context.Background()
	for _, tpl := range all {
		t.Run(tpl.Name, func(t *testing.T) {
			require.NoError(t, r.FmtCheck(ctx, tpl))
			require.NoError(t, r.Init(ctx, tpl))
			require.NoError(t, r.Validate(ctx, tpl, inputs[tpl.Name]))
		})
	}
}

// TestFmtCheckNamesTheFileAndTheFix: a template packer fmt would change is
// refused with the command that fixes it.
func TestFmtCheckNamesTheFileAndTheFix(t *testing.T) {
	tl := requireTools(t)
	dir := filepath.Join(t.TempDir(), "packer", "demo")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "demo.pkr.hcl"), []byte(`source "proxmox-clone" "demo" {
  scsi_controller = "virtio-scsi-single"
  cpu_type = "host"
}
`), 0o644))
	tpl, err := packer.LoadTemplate(dir)
	require.NoError(t, err)
	r, err := packer.New(packer.WithBinary(tl.packer))
	require.NoError(t, err)
	err = r.FmtCheck(context.Background(), tpl)
	var runErr *packer.RunError
	require.ErrorAs(t, err, &runErr)
	require.Equal(t, "fmt", runErr.Command)
	require.ErrorContains(t, err, "demo.pkr.hcl exited with status 3")
	require.ErrorContains(t, err, "run packer fmt on "+tpl.Dir)
}

// TestNixOSConfigurationParses renders the NixOS template's
// configuration.nix from the inventory (packer console evaluates the
// template's local) and parses it with the real nix-instantiate: the
// user, keys, time zone and locale of homelab.yaml in valid Nix, with a
// key holding characters Nix strings must escape.
func TestNixOSConfigurationParses(t *testing.T) {
	tl := requireTools(t)
	nix := testtool.Require(t, "nix-instantiate")
	inv, err := os.ReadFile(filepath.Join(repo, inventory.DefaultFile))
	require.NoError(t, err)
	tricky := strings.Replace(string(inv), "wdiaz@homelab\n", `wdiaz "quoted" ${not-interpolated} back\slash`+"\n", 1)
	require.NotEqual(t, string(inv), tricky)
	for name, content := range map[string]string{"homelab": string(inv), "escapes": tricky} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), inventory.DefaultFile)
			require.NoError(t, os.WriteFile(file, []byte(content), 0o644))
			tpl, err := packer.FindTemplate(repo, "nixos")
			require.NoError(t, err)
			cmd := exec.Command(tl.packer, "console", "-var", "inventory_file="+file, ".")
			cmd.Dir = tpl.Dir
			cmd.Env = append(os.Environ(), "PACKER_PLUGIN_PATH="+tl.pluginDir, "CHECKPOINT_DISABLE=1")
			cmd.Stdin = strings.NewReader("local.configuration_nix\n")
			out, err := cmd.Output()
			require.NoError(t, err)
			conf := string(out)
			for _, want := range []string{`users.users."wdiaz"`, `time.timeZone = "America/El_Salvador"`, `i18n.defaultLocale = "en_US.UTF-8"`,
				"services.qemuGuest.enable = true", "services.cloud-init.enable = true", "shell = pkgs.bash", `system.stateVersion = "25.11"`} {
				require.Contains(t, conf, want)
			}
			path := filepath.Join(t.TempDir(), "configuration.nix")
			require.NoError(t, os.WriteFile(path, out, 0o644))
			parse := exec.Command(nix, "--parse", path)
			parse.Env = append(os.Environ(), "NIX_STATE_DIR="+t.TempDir(), "NIX_LOG_DIR="+t.TempDir())
			parsed, err := parse.CombinedOutput()
			require.NoError(t, err, "nix-instantiate --parse:\n%s\n%s", parsed, conf)
			if name == "escapes" {
				require.Contains(t, conf, `\"quoted\" \${not-interpolated} back\\slash`)
			}
		})
	}
}
