package infra_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/testtool"
	"github.com/wdiazux/infra/internal/toolchain"
	"github.com/wdiazux/infra/lib/inventory"
)

// windowsTestPassword is a made-up password (never a real secret) with every
// character XML must escape, so the tests see the answer files escape it.
const windowsTestPassword = `Test-Only<Pw>&"quoted"'x`

// windowsPacker is the real Packer of the tool cache, with the proxmox
// plugin beside it, set up to run packer/windows offline.
type windowsPacker struct {
	bin string
	env []string
}

func newWindowsPacker(t *testing.T) windowsPacker {
	t.Helper()
	inv, err := inventory.Load("homelab.yaml")
	require.NoError(t, err)
	bin := testtool.RequireGoTool(t, toolchain.GoTool{Command: "packer", Version: "v" + inv.Tools["packer"]})
	cache, err := toolchain.CacheDir()
	require.NoError(t, err)
	plugins := filepath.Join(cache, "packer-plugins")
	matches, _ := filepath.Glob(filepath.Join(plugins, "github.com", "hashicorp", "proxmox", "packer-plugin-proxmox_v"+inv.Tools["packer-plugin-proxmox"]+"_*"))
	if len(matches) == 0 {
		if testtool.InCI() {
			t.Fatalf("the proxmox plugin %s is not installed in %s; in CI it is a failure", inv.Tools["packer-plugin-proxmox"], plugins)
		}
		t.Skipf("the proxmox plugin %s is not installed in %s (go run mage.go test installs it)", inv.Tools["packer-plugin-proxmox"], plugins)
	}
	tmp := t.TempDir()
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + tmp, "TMPDIR=" + tmp,
		"PACKER_PLUGIN_PATH=" + plugins, "PACKER_CACHE_DIR=" + filepath.Join(tmp, "cache"),
		"CHECKPOINT_DISABLE=1", "PACKER_NO_COLOR=1",
		"PROXMOX_URL=https://127.0.0.1:1/api2/json", "PROXMOX_TOKEN_ID=root@pam!packer",
		"PROXMOX_TOKEN_SECRET=00000000-test-token-secret",
		"PKR_VAR_windows_admin_password=" + windowsTestPassword,
	}
	return windowsPacker{bin: bin, env: env}
}

// run runs packer with args in packer/windows, with extra environment
// entries overriding the defaults, and returns its combined output.
func (p windowsPacker) run(ctx context.Context, stdin string, extra []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, p.bin, args...)
	cmd.Dir = filepath.Join("packer", "windows")
	cmd.Env = append(append([]string{}, p.env...), extra...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// isoVars name an installer and a virtio-win ISO already on the ISO storage.
var isoVars = []string{"-var", "windows_iso_file=local:iso/SERVER_EVAL_x64FRE_en-us.iso", "-var", "virtio_iso_file=local:iso/virtio-win.iso"}

func TestPackerWindowsFmtAndValidate(t *testing.T) {
	p := newWindowsPacker(t)
	ctx := context.Background()
	out, err := p.run(ctx, "", nil, "fmt", "-check", "-diff", ".")
	require.NoError(t, err, out)

	out, err = p.run(ctx, "", nil, append(append([]string{"validate"}, isoVars...), ".")...)
	require.NoError(t, err, out)
	require.Contains(t, out, "The configuration is valid.")

	refused := []struct {
		name  string
		extra []string
		args  []string
		want  string
	}{
		{"no password", []string{"PKR_VAR_windows_admin_password="}, isoVars, "windows_admin_password must hold at least 14 characters"},
		{"short password", []string{"PKR_VAR_windows_admin_password=Test-Only"}, isoVars, "windows_admin_password must hold at least 14 characters"},
		{"ISO URL without checksum", nil, []string{"-var", "windows_iso_url=https://downloads.invalid/server.iso", "-var", "virtio_iso_file=local:iso/virtio-win.iso"}, "A checksum must be specified"},
		{"no installer ISO", nil, []string{"-var", "virtio_iso_file=local:iso/virtio-win.iso"}, "either iso_file or iso_url, but not both, must be specified"},
		{"no virtio ISO", nil, []string{"-var", "windows_iso_file=local:iso/w.iso"}, "one of iso_file, iso_url, or a combination of cd_files and cd_content must be specified"},
		{"ssh communicator", nil, append([]string{"-var", "communicator=ssh"}, isoVars...), "The variable communicator must be winrm or none."},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			out, err := p.run(ctx, "", tt.extra, append(append([]string{"validate"}, tt.args...), ".")...)
			require.Error(t, err, out)
			require.Contains(t, strings.Join(strings.Fields(out), " "), tt.want)
		})
	}
}

// unattendComponent is the part of an answer file's component the tests
// look at.
type unattendComponent struct {
	Name          string   `xml:"name,attr"`
	UILanguage    string   `xml:"UILanguage"`
	SetupUI       string   `xml:"SetupUILanguage>UILanguage"`
	InputLocale   string   `xml:"InputLocale"`
	SystemLocale  string   `xml:"SystemLocale"`
	UserLocale    string   `xml:"UserLocale"`
	TimeZone      string   `xml:"TimeZone"`
	ComputerName  string   `xml:"ComputerName"`
	AdminPassword string   `xml:"UserAccounts>AdministratorPassword>Value"`
	AutoLogonPW   string   `xml:"AutoLogon>Password>Value"`
	AutoLogonUser string   `xml:"AutoLogon>Username"`
	DriverPaths   []string `xml:"DriverPaths>PathAndCredentials>Path"`
	ImageIndex    string   `xml:"ImageInstall>OSImage>InstallFrom>MetaData>Value"`
	PartitionType []string `xml:"DiskConfiguration>Disk>CreatePartitions>CreatePartition>Type"`
	Commands      []string `xml:"FirstLogonCommands>SynchronousCommand>CommandLine"`
}

// unattend is an answer file: its passes and their components.
type unattend struct {
	Settings []struct {
		Pass       string              `xml:"pass,attr"`
		Components []unattendComponent `xml:"component"`
	} `xml:"settings"`
}

// value returns get of component name in pass.
func (u unattend) value(t *testing.T, pass, name string, get func(c *unattendComponent) string) string {
	t.Helper()
	for _, s := range u.Settings {
		if s.Pass != pass {
			continue
		}
		for i := range s.Components {
			if s.Components[i].Name == name {
				return get(&s.Components[i])
			}
		}
	}
	t.Fatalf("no component %s in pass %s", name, pass)
	return ""
}

// renderAnswerFile renders an answer file of packer/windows with the real
// Packer (packer console evaluates the template's own templatefile call and
// locals) from the inventory file, and checks it is well-formed XML.
func renderAnswerFile(t *testing.T, p windowsPacker, inventoryFile, file string) (string, error) {
	t.Helper()
	expr := `templatefile("${path.root}/` + file + `", local.unattend_vars)`
	out, err := p.run(context.Background(), expr+"\n", nil, append(append([]string{"console", "-var", "inventory_file=" + inventoryFile}, isoVars...), ".")...)
	return out, err
}

func wellFormed(t *testing.T, doc string) unattend {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(doc))
	for {
		_, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "well-formed XML:\n%s", doc)
	}
	var u unattend
	require.NoError(t, xml.Unmarshal([]byte(doc), &u))
	return u
}

func TestPackerWindowsAnswerFilesFromTheInventory(t *testing.T) {
	p := newWindowsPacker(t)
	home, err := os.ReadFile("homelab.yaml")
	require.NoError(t, err)
	inv := string(home)
	for _, r := range [][2]string{{"timezone: America/El_Salvador", "timezone: Europe/Madrid"}, {"locale: en_US.UTF-8", "locale: es_ES.UTF-8"}} {
		require.Contains(t, inv, r[0], "homelab.yaml still has %q", r[0])
		inv = strings.Replace(inv, r[0], r[1], 1)
	}
	madrid := filepath.Join(t.TempDir(), "homelab.yaml")
	require.NoError(t, os.WriteFile(madrid, []byte(inv), 0o600))
	abs, err := filepath.Abs("homelab.yaml")
	require.NoError(t, err)

	tests := []struct {
		inventory, locale, zone string
	}{
		{abs, "en-US", "Central America Standard Time"},
		{madrid, "es-ES", "Romance Standard Time"},
	}
	for _, tt := range tests {
		t.Run(tt.zone, func(t *testing.T) {
			out, err := renderAnswerFile(t, p, tt.inventory, "autounattend.xml.pkrtpl")
			require.NoError(t, err, out)
			require.NotContains(t, out, windowsTestPassword, "the password only appears XML-escaped")
			u := wellFormed(t, out)
			const shell, intl, pe = "Microsoft-Windows-Shell-Setup", "Microsoft-Windows-International-Core", "Microsoft-Windows-International-Core-WinPE"
			require.Equal(t, "en-US", u.value(t, "windowsPE", pe, (func(c *unattendComponent) string { return c.SetupUI })), "setup speaks the media's language")
			for _, pass := range [][2]string{{"windowsPE", pe}, {"oobeSystem", intl}} {
				require.Equal(t, tt.locale, u.value(t, pass[0], pass[1], (func(c *unattendComponent) string { return c.SystemLocale })))
				require.Equal(t, tt.locale, u.value(t, pass[0], pass[1], (func(c *unattendComponent) string { return c.UserLocale })))
				require.Equal(t, tt.locale, u.value(t, pass[0], pass[1], (func(c *unattendComponent) string { return c.InputLocale })))
			}
			require.Equal(t, tt.zone, u.value(t, "specialize", shell, (func(c *unattendComponent) string { return c.TimeZone })))
			require.Equal(t, tt.zone, u.value(t, "oobeSystem", shell, (func(c *unattendComponent) string { return c.TimeZone })))
			require.Equal(t, windowsTestPassword, u.value(t, "oobeSystem", shell, (func(c *unattendComponent) string { return c.AdminPassword })))
			require.Equal(t, windowsTestPassword, u.value(t, "oobeSystem", shell, (func(c *unattendComponent) string { return c.AutoLogonPW })))
			require.Equal(t, "Administrator", u.value(t, "oobeSystem", shell, (func(c *unattendComponent) string { return c.AutoLogonUser })))
			require.Equal(t, "4", u.value(t, "windowsPE", "Microsoft-Windows-Setup", (func(c *unattendComponent) string { return c.ImageIndex })))
			require.Equal(t, "EFI MSR Primary", u.value(t, "windowsPE", "Microsoft-Windows-Setup", (func(c *unattendComponent) string { return strings.Join(c.PartitionType, " ") })), "a UEFI layout")
			paths := u.value(t, "windowsPE", "Microsoft-Windows-PnpCustomizationsWinPE", (func(c *unattendComponent) string { return strings.Join(c.DriverPaths, " ") }))
			require.Contains(t, paths, `E:\vioscsi\2k25\amd64`, "the virtio-scsi driver loads during setup")
			require.Contains(t, paths, `E:\NetKVM\2k25\amd64`)
			cmds := u.value(t, "oobeSystem", shell, (func(c *unattendComponent) string { return strings.Join(c.Commands, "\n") }))
			require.Contains(t, cmds, `setup\guest-agent.ps1`)
			require.Contains(t, cmds, `setup\winrm-https.ps1`)

			out, err = renderAnswerFile(t, p, tt.inventory, "sysprep-unattend.xml.pkrtpl")
			require.NoError(t, err, out)
			s := wellFormed(t, out)
			require.Equal(t, "*", s.value(t, "specialize", shell, (func(c *unattendComponent) string { return c.ComputerName })), "each clone gets its own name")
			require.Equal(t, tt.zone, s.value(t, "specialize", shell, (func(c *unattendComponent) string { return c.TimeZone })))
			require.Equal(t, tt.locale, s.value(t, "oobeSystem", intl, (func(c *unattendComponent) string { return c.UserLocale })))
			require.Equal(t, windowsTestPassword, s.value(t, "oobeSystem", shell, (func(c *unattendComponent) string { return c.AdminPassword })))
		})
	}

	t.Run("unknown time zone", func(t *testing.T) {
		unknown := filepath.Join(t.TempDir(), "homelab.yaml")
		require.NoError(t, os.WriteFile(unknown, bytes.Replace(home, []byte("timezone: America/El_Salvador"), []byte("timezone: Antarctica/Troll"), 1), 0o600))
		out, err := p.run(context.Background(), "", nil, append(append([]string{"validate", "-var", "inventory_file=" + unknown}, isoVars...), ".")...)
		require.Error(t, err, out)
		require.Contains(t, strings.Join(strings.Fields(out), " "), "homelab.yaml user.timezone Antarctica/Troll has no Windows name here: set windows_time_zone")
	})
}
