package packer_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/packer"
	"github.com/wdiazux/infra/lib/proxmox"
)

// fakePacker writes a packer stand-in that records its arguments and
// environment in dir and prints script's lines (with $SECRET replaced by
// the token secret it was given), then exits with code.
func fakePacker(t *testing.T, dir, script string, code int) string {
	t.Helper()
	bin := filepath.Join(dir, "packer")
	body := "#!/bin/sh\n" +
		`printf '%s\n' "$@" > "` + dir + `/args"` + "\n" +
		`env > "` + dir + `/env"` + "\n" +
		"SECRET=\"$PKR_VAR_proxmox_token_secret\"\ncat <<EOF\n" + script + "\nEOF\n" +
		"exit " + string(rune('0'+code)) + "\n"
	require.NoError(t, os.WriteFile(bin, []byte(body), 0o755))
	return bin
}

// TestRunnerStreamsStepsAndKeepsTheTokenSecret: the runner follows the
// build's steps and provisioners from -machine-readable lines, hands the
// connection to Packer only in its environment, and never lets the token
// secret reach packer's arguments, the output or the log, even when a
// plugin prints it.
func TestRunnerStreamsStepsAndKeepsTheTokenSecret(t *testing.T) {
	dir := t.TempDir()
	tpl, err := packer.FindTemplate(repo, "ubuntu")
	require.NoError(t, err)
	lines := strings.Join([]string{
		"1795749030,,ui,say,==> golden.proxmox-clone.golden: Creating VM",
		"1795749031,,ui,say,==> golden.proxmox-clone.golden: Waiting for SSH to become available...",
		"1795749032,,ui,say,==> golden.proxmox-clone.golden: Provisioning with Ansible...",
		"1795749033,,ui,message,    golden.proxmox-clone.golden: TASK [baseline : Install packages]",
		"1795749034,,ui,say,==> golden.proxmox-clone.golden: Provisioning with shell script: /tmp/x",
		"a plugin's debug line with the token $SECRET",
		"1795749035,,ui,say,==> golden.proxmox-clone.golden: Converting VM to template",
		"1795749036,golden.proxmox-clone.golden,artifact,0,id,9102",
	}, "\n")
	secret := "0b1c2d3e-s3cret-token"
	cfg := proxmox.Config{URL: "https://pve:8006", TokenID: "infra@pve!packer", TokenSecret: secret, CAFile: "/etc/pve-ca.pem"}
	var out, log bytes.Buffer
	var events []packer.Event
	r, err := packer.New(packer.WithBinary(fakePacker(t, dir, lines, 0)), packer.WithPluginDir("/cache/packer-plugins"),
		packer.WithProxmox(cfg), packer.WithInventoryFile("homelab.yaml"), packer.WithOutput(&out),
		packer.WithLogger(slog.New(slog.NewTextHandler(&log, nil))), packer.WithEvents(func(e packer.Event) { events = append(events, e) }))
	require.NoError(t, err)

	built, err := r.Build(context.Background(), tpl, map[string]string{"base_vm_name": "ubuntu-24-04-base"})
	require.NoError(t, err)

	require.Equal(t, "9102", built.ArtifactID)
	var steps, provs []string
	for _, e := range events {
		steps = append(steps, e.Step)
		provs = append(provs, e.Provisioner)
	}
	require.Equal(t, []string{"Creating VM", "Waiting for SSH to become available...", "Provisioning with Ansible...", "Provisioning with Ansible...",
		"Provisioning with shell script: /tmp/x", "Converting VM to template", "Converting VM to template"}, steps)
	require.Equal(t, []string{"", "", "ansible", "ansible", "shell", "", ""}, provs)

	args, err := os.ReadFile(filepath.Join(dir, "args"))
	require.NoError(t, err)
	require.Equal(t, "build\n-machine-readable\n-color=false\n-timestamp-ui=false\n.\n", string(args))
	env, err := os.ReadFile(filepath.Join(dir, "env"))
	require.NoError(t, err)
	abs, _ := filepath.Abs("homelab.yaml")
	for _, kv := range []string{"PKR_VAR_proxmox_token_secret=" + secret, "PKR_VAR_proxmox_token_id=infra@pve!packer",
		"PKR_VAR_proxmox_url=https://pve:8006/api2/json", "PKR_VAR_insecure_skip_tls_verify=false", "SSL_CERT_FILE=/etc/pve-ca.pem",
		"PACKER_PLUGIN_PATH=/cache/packer-plugins", "PKR_VAR_inventory_file=" + abs, "PKR_VAR_base_vm_name=ubuntu-24-04-base", "CHECKPOINT_DISABLE=1"} {
		require.Contains(t, strings.Split(string(env), "\n"), kv)
	}
	require.Contains(t, out.String(), "a plugin's debug line with the token <sensitive>")
	require.Contains(t, out.String(), "==> golden.proxmox-clone.golden: Creating VM")
	for name, text := range map[string]string{"output": out.String(), "log": log.String(), "args": string(args)} {
		require.NotContains(t, text, secret, "the secret is in the %s", name)
	}
}

// TestRunErrorNamesTheTemplateAndPackersErrors: a failed command is a
// *RunError with the template file, packer's error lines and what to do.
func TestRunErrorNamesTheTemplateAndPackersErrors(t *testing.T) {
	dir := t.TempDir()
	tpl, err := packer.FindTemplate(repo, "debian")
	require.NoError(t, err)
	bin := fakePacker(t, dir, "1795749030,,ui,error,Build 'golden.proxmox-clone.golden' errored after 37 milliseconds: Error creating VM: vm 'debian-13-base' not found", 1)
	r, err := packer.New(packer.WithBinary(bin))
	require.NoError(t, err)
	_, err = r.Build(context.Background(), tpl, nil)
	var runErr *packer.RunError
	require.ErrorAs(t, err, &runErr)
	require.Equal(t, 1, runErr.ExitCode)
	require.ErrorContains(t, err, "packer build of "+tpl.File+" exited with status 1: Build 'golden.proxmox-clone.golden' errored after 37 milliseconds: Error creating VM: vm 'debian-13-base' not found; read packer's output above")

	_, err = packer.New(packer.WithBinary(bin), packer.WithProxmox(proxmox.Config{URL: "https://pve:8006", TokenID: "infra@pve!packer", TokenSecret: "x",
		Fingerprint: "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"}))
	var fp *packer.FingerprintError
	require.ErrorAs(t, err, &fp, "the plugin cannot pin a certificate: refused rather than run unverified")

	t.Setenv("PATH", t.TempDir())
	_, err = packer.New()
	var missing *packer.BinaryNotFoundError
	require.ErrorAs(t, err, &missing)
	require.ErrorContains(t, err, "install Packer >= 1.12")
}
