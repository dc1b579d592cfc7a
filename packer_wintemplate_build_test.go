package infra_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/testtool"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/packer"
	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

// simAPI is a raw client of the simulator for the build test's setup and
// checks.
type simAPI struct {
	t    *testing.T
	s    *pvesim.Server
	http *http.Client
	auth string
}

func newSimAPI(t *testing.T, s *pvesim.Server) simAPI {
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(s.CACertPEM()))
	id, secret := s.Token()
	return simAPI{t: t, s: s, http: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}, auth: "PVEAPIToken=" + id + "=" + secret}
}

func (a simAPI) do(req *http.Request) json.RawMessage {
	a.t.Helper()
	req.Header.Set("Authorization", a.auth)
	resp, err := a.http.Do(req)
	require.NoError(a.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(a.t, err)
	require.Equal(a.t, http.StatusOK, resp.StatusCode, "%s %s: %s", req.Method, req.URL.Path, body)
	var env struct{ Data json.RawMessage }
	require.NoError(a.t, json.Unmarshal(body, &env))
	return env.Data
}

func (a simAPI) get(path string, v any) {
	a.t.Helper()
	req, err := http.NewRequest("GET", a.s.URL()+path, nil)
	require.NoError(a.t, err)
	require.NoError(a.t, json.Unmarshal(a.do(req), v))
}

// uploadISO puts an ISO on storage local as the operator would beforehand.
func (a simAPI) uploadISO(node, name string, data []byte) {
	a.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	require.NoError(a.t, w.WriteField("content", "iso"))
	fw, err := w.CreateFormFile("filename", name)
	require.NoError(a.t, err)
	_, err = fw.Write(data)
	require.NoError(a.t, err)
	require.NoError(a.t, w.Close())
	req, err := http.NewRequest("POST", a.s.URL()+"/nodes/"+node+"/storage/local/upload", &buf)
	require.NoError(a.t, err)
	req.Header.Set("Content-Type", w.FormDataContentType())
	a.do(req)
	a.s.WaitTasks()
}

// TestPackerWindowsBuildOnSimulator runs packer build of packer/windows
// against the simulator with the communicator off: the ISO path as far as
// the simulator serves it (answer-file CD built, uploaded, VM created with
// the ISOs, started, boot command typed, shut down, template, ISOs
// unmounted, the CD deleted). It judges the build by the simulator's request
// log and the template's config, not by Packer's exit code, which the
// plugin makes meaningless (it swallows start and shutdown errors).
func TestPackerWindowsBuildOnSimulator(t *testing.T) {
	p := newWindowsPacker(t)
	testtool.Require(t, "xorriso") // Packer builds the answer-file CD with it
	inv, err := inventory.Load("homelab.yaml")
	require.NoError(t, err)
	t.Run("ISOs on the storage", func(t *testing.T) { buildOnSimulator(t, p, inv, false) })
	t.Run("ISOs uploaded by Packer", func(t *testing.T) { buildOnSimulator(t, p, inv, true) })
}

// buildOnSimulator runs the build against a fresh simulator; with byURL,
// Packer uploads both ISOs from local files (the installer named *.ISO, as
// Microsoft's media are, which PVE accepts), else they are on the storage.
func buildOnSimulator(t *testing.T, p windowsPacker, inv *inventory.Inventory, byURL bool) {
	s, err := pvesim.New(pvesim.WithSetup(pvesim.SetupFor(inv, false)), pvesim.WithDataDir(t.TempDir()))
	require.NoError(t, err)
	t.Cleanup(s.Close)
	api := newSimAPI(t, s)
	node := inv.Proxmox.Node
	installer, virtio := []byte("CD001 installer stand-in"), []byte("CD001 virtio-win stand-in")
	isoArgs := []string{"-var", "windows_iso_file=local:iso/SERVER_EVAL_x64FRE_en-us.iso", "-var", "virtio_iso_file=local:iso/virtio-win.iso"}
	wantISOs := []string{"local:iso/SERVER_EVAL_x64FRE_en-us.iso", "local:iso/virtio-win.iso"}
	if byURL {
		dir := t.TempDir()
		w, v := filepath.Join(dir, "SERVER_EVAL_x64FRE_en-us.ISO"), filepath.Join(dir, "virtio-win.iso")
		require.NoError(t, os.WriteFile(w, installer, 0o600))
		require.NoError(t, os.WriteFile(v, virtio, 0o600))
		isoArgs = []string{"-var", "windows_iso_url=" + w, "-var", "windows_iso_checksum=sha256:" + sha256Hex(installer),
			"-var", "virtio_iso_url=" + v, "-var", "virtio_iso_checksum=sha256:" + sha256Hex(virtio)}
		wantISOs = []string{"local:iso/SERVER_EVAL_x64FRE_en-us.ISO"}
	} else {
		api.uploadISO(node, "SERVER_EVAL_x64FRE_en-us.iso", installer)
		api.uploadISO(node, "virtio-win.iso", virtio)
	}
	before := len(s.Requests())

	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, s.CACertPEM(), 0o600))
	id, secret := s.Token()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	start := time.Now()
	out, err := p.run(ctx, "", []string{"SSL_CERT_FILE=" + ca, "PROXMOX_URL=" + s.URL(), "PROXMOX_TOKEN_ID=" + id, "PROXMOX_TOKEN_SECRET=" + secret},
		append(append([]string{"build", "-var", "communicator=none", "-var", "boot_wait=1s"}, isoArgs...), ".")...)
	t.Logf("packer build against the simulator took %s (exit: %v)", time.Since(start).Round(time.Second), err)
	s.WaitTasks()
	require.NotContains(t, out, windowsTestPassword, "Packer's output never shows the password")

	reqs := s.Requests()[before:]
	var log []string
	var keys []string
	var cdUpload, cdDelete string
	for _, r := range reqs {
		log = append(log, fmt.Sprintf("%d %s %s", r.Status, r.Method, r.Path))
		require.Less(t, r.Status, 400, "%s %s answered %d (no 4xx, no 5xx or 501)\npacker output:\n%s", r.Method, r.Path, r.Status, out)
		switch {
		case r.Method == "PUT" && strings.HasSuffix(r.Path, "/sendkey"):
			require.Equal(t, http.StatusOK, r.Status)
			keys = append(keys, r.Params["key"])
		case r.Method == "POST" && strings.HasSuffix(r.Path, "/storage/local/upload") && strings.HasPrefix(r.Params["filename"], "packer"):
			cdUpload = r.Params["filename"]
		case r.Method == "DELETE" && strings.Contains(r.Path, "/storage/local/content/"):
			cdDelete = r.Path
		}
	}
	t.Logf("requests:\n%s", strings.Join(log, "\n"))
	require.Equal(t, slices.Repeat([]string{"spc"}, 8), keys, "the boot command was typed: eight presses of the space bar")
	require.Regexp(t, `^packer.*\.iso$`, cdUpload, "the answer-file CD was uploaded as an ISO")
	require.Contains(t, cdDelete, cdUpload, "the answer-file CD was deleted after the build")

	id9402 := fmt.Sprint(inv.Images["windows"].TemplateID)
	var cfg map[string]any
	api.get("/nodes/"+node+"/qemu/"+id9402+"/config", &cfg)
	t.Logf("template config: %v", cfg)
	require.Equal(t, "1", fmt.Sprint(cfg["template"]))
	require.Equal(t, "windows-2025-template", cfg["name"])
	require.Equal(t, "ovmf", cfg["bios"])
	require.Equal(t, "q35", cfg["machine"])
	require.Equal(t, "win11", cfg["ostype"])
	require.Equal(t, "virtio-scsi-single", cfg["scsihw"])
	require.Equal(t, "host", cfg["cpu"])
	require.Equal(t, "1", fmt.Sprint(cfg["agent"]))
	require.Contains(t, cfg["efidisk0"], inv.Proxmox.Storage.Disks+":")
	require.Contains(t, cfg["scsi0"], inv.Proxmox.Storage.Disks+":")
	require.Regexp(t, `iothread=(1|true)`, cfg["scsi0"])
	require.Contains(t, cfg["net0"], "virtio=")
	require.Contains(t, cfg["net0"], "bridge="+inv.Proxmox.Bridge)
	for _, cd := range []string{"ide2", "sata0", "sata1"} {
		require.Equal(t, "none,media=cdrom", cfg[cd], "%s is empty in the template", cd)
	}

	// What plugin 1.1.0 cannot create: Secure Boot keys and a TPM.
	require.NotContains(t, cfg, "tpmstate0")
	client, err := proxmox.New(proxmox.Config{URL: s.URL(), TokenID: id, TokenSecret: secret, Fingerprint: s.Fingerprint()})
	require.NoError(t, err)
	changed, err := packer.EnsureSecureBootTPM(ctx, client, node, inv.Images["windows"].TemplateID, inv.Proxmox.Storage.Disks)
	require.NoError(t, err)
	require.True(t, changed)
	api.get("/nodes/"+node+"/qemu/"+id9402+"/config", &cfg)
	require.Contains(t, cfg["efidisk0"], "efitype=4m")
	require.Contains(t, cfg["efidisk0"], "pre-enrolled-keys=1")
	require.Contains(t, cfg["tpmstate0"], "version=v2.0")

	var isos []map[string]any
	api.get("/nodes/"+node+"/storage/local/content?content=iso", &isos)
	var names []string
	for _, v := range isos {
		names = append(names, v["volid"].(string))
	}
	for _, want := range wantISOs {
		require.Contains(t, names, want)
	}
	for _, n := range names {
		require.NotContains(t, n, "packer", "no answer-file CD is left on the ISO storage")
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
