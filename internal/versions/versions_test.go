package versions_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/versions"
)

// TestScanFindsDrift scans a fixture tree whose files name versions
// other than its inventory's and asserts each one by file, line, rule,
// version found and the inventory's field, and that the mentions that
// are no pins (history, windows, modules, other charts' releases, tests,
// fixtures, docs/research) are left alone.
func TestScanFindsDrift(t *testing.T) {
	root := filepath.Join("testdata", "drift")
	facts, err := versions.LoadFacts(filepath.Join(root, "homelab.yaml"), "homelab.yaml")
	require.NoError(t, err)
	files, err := versions.WalkFiles(root)
	require.NoError(t, err)
	rep, err := versions.Scan(root, files, facts)
	require.NoError(t, err)

	type got struct{ where, rule, found, field string }
	var gots []got
	for _, f := range rep.Findings {
		field := f.Fact.Field
		if f.Missing != "" {
			field = "missing " + f.Missing
		}
		gots = append(gots, got{f.File + ":" + itoa(f.Line), f.Rule, f.Found, field})
	}
	require.Equal(t, []got{
		{"docs/guide/talos.md:4", "prose", "v1.11.2", "talos.version"},
		{"docs/guide/talos.md:5", "prose", "1.11", "tools.talosctl"},
		{"docs/guide/talos.md:6", "prose", "1.34", "kubernetes.version"},
		{"docs/guide/talos.md:11", "prose", "0.63.0", "tools.tflint"},
		{"docs/guide/talos.md:14", "prose", "1.31", "kubernetes.version"},
		{"docs/guide/talos.md:18", "prose", "1.11", "tools.packer"},
		{"docs/guide/talos.md:18", "prose", "0.79", "tools.terraform-provider-proxmox"},
		{"internal/toolchain/modules/tflint/go.mod:5", "gomod", "v0.63.0", "tools.tflint"},
		{"kubernetes/demo/release.yaml:10", "chart", "1.18.0", "kubernetes.charts.cilium.version"},
		{"lib/x/x.go:4", "image", "v1.12.6", "talos.version"},
		{"packer/debian/README.md:1", "prose", "12", "images.debian.release"},
		{"packer/debian/README.md:3", "prose", "12", "images.debian.release"},
		{"packer/plugins.pkr.hcl:5", "packer", "1.0.9", "tools.packer-plugin-proxmox"},
		{"terraform/stack/versions.tf:6", "terraform", "0.79", "tools.terraform-provider-proxmox"},
		{"terraform/stack/versions.tf:10", "terraform", "0.8.0", "missing tools.terraform-provider-talos"},
		{"values.yaml:1", "chart", "1.19.4", "kubernetes.charts.cilium.version"},
	}, gots)
	// homelab.yaml, docs/research, the test file and the fixture are not scanned.
	require.Equal(t, len(files)-4, rep.Files)

	msg := rep.Findings[0].Message("homelab.yaml")
	require.Equal(t, "Talos v1.11.2 names v1.11.2, but homelab.yaml:3 talos.version is v1.12.7: write v1.12.7 here, or read it from homelab.yaml", msg)
	missing := rep.Findings[len(rep.Findings)-2]
	require.Equal(t, "terraform-provider-talos: version \"0.8.0\" names 0.8.0, but homelab.yaml has no tools.terraform-provider-talos: add it there (every version lives in homelab.yaml)",
		missing.Message("homelab.yaml"))
}

// TestIncluded pins which files of a repository the scan reads.
func TestIncluded(t *testing.T) {
	for rel, want := range map[string]bool{
		"homelab.yaml":               false,
		"docs/research/talos.md":     false,
		"docs/operations/quality.md": true,
		"lib/images/lock_test.go":    false,
		"lib/images/lock.go":         true,
		"go.sum":                     false,
		"go.mod":                     false,
		"internal/toolchain/modules/trivy/go.mod":        true,
		"x/testdata/internal/toolchain/modules/a/go.mod": false,
		"lib/inventory/testdata/valid/full.yaml":         false,
		"lib/addons/testdata/golden/homelab/x/a.yaml":    true,
		"lib/talosgen/testdata/golden/homelab/cp.yaml":   true,
		"lib/secrets/testdata/leaks/talos/homelab.yaml":  false,
		"sub/homelab.yaml":                               true,
	} {
		require.Equal(t, want, versions.Included(rel, "homelab.yaml"), rel)
	}
}

// TestRepositoryAgreesWithInventory scans the repository's tracked files
// against its homelab.yaml: every version they name agrees.
func TestRepositoryAgreesWithInventory(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	facts, err := versions.LoadFacts(filepath.Join(root, "homelab.yaml"), "homelab.yaml")
	require.NoError(t, err)
	files, err := versions.TrackedFiles(context.Background(), root)
	require.NoError(t, err)
	rep, err := versions.Scan(root, files, facts)
	require.NoError(t, err)
	var lines []string
	for _, f := range rep.Findings {
		lines = append(lines, f.File+":"+itoa(f.Line)+": "+f.Message("homelab.yaml"))
	}
	require.Empty(t, lines, strings.Join(lines, "\n"))
	require.Greater(t, rep.Files, 300, "the scan reads the tracked tree")
	require.Greater(t, rep.Versions, 80, "the rules recognise the versions the tree names")
	t.Logf("%d files, %d versions checked against homelab.yaml", rep.Files, rep.Versions)
	_, err = os.Stat(filepath.Join(root, "homelab.yaml"))
	require.NoError(t, err)
}

func itoa(n int) string { return strconv.Itoa(n) }
