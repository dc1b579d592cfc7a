package infra_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// copyCheckout copies what a fresh clone of this working tree would hold
// (tracked files and new ones git does not ignore) into a temporary
// directory and returns it.
func copyCheckout(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files, err := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	require.NoError(t, err)
	for _, rel := range strings.Split(strings.TrimRight(string(files), "\x00"), "\x00") {
		data, err := os.ReadFile(rel)
		if os.IsNotExist(err) {
			continue
		}
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll(filepath.Join(dir, filepath.Dir(rel)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, rel), data, 0o644))
	}
	return dir
}

// TestConcurrentRunsInAFreshCheckout starts three targets at once in a
// checkout whose targets were never built: they take turns building and all
// succeed. Plain Mage failed here with "open ./mage_output_file.go: no such
// file or directory", because each run wrote and removed that file in
// magefiles/ while another compiled.
func TestConcurrentRunsInAFreshCheckout(t *testing.T) {
	dir := copyCheckout(t)
	cache := t.TempDir()
	const runs = 3
	outs := make([]string, runs)
	errs := make([]error, runs)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Go(func() {
			cmd := exec.CommandContext(t.Context(), "go", "run", "mage.go", "config:check")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "MAGEFILE_CACHE="+cache)
			out, err := cmd.CombinedOutput()
			outs[i], errs[i] = string(out), err
		})
	}
	wg.Wait()
	for i := range runs {
		require.NoError(t, errs[i], outs[i])
		require.Contains(t, outs[i], "homelab.yaml is valid:")
	}
	require.NoFileExists(t, filepath.Join(dir, "magefiles", "mage_output_file.go"))
}

// TestAStrayWordIsRefusedBeforeAnythingRuns: Mage ran the first target and
// only then failed on the next word as an unknown target.
func TestAStrayWordIsRefusedBeforeAnythingRuns(t *testing.T) {
	out, code := mage(t, "config:check", "-file=homelab.yaml", "talos-cp-01")
	require.Equal(t, 1, code, "go run turns the runner's exit status 2 into 1:\n%s", out)
	require.Contains(t, out, `Error: "talos-cp-01" after config:check is neither one of its arguments nor a target`)
	require.Contains(t, out, "exit status 2")
	require.NotContains(t, out, "is valid", "config:check must not have run")

	out, code = mage(t, "talos:genconfig", "-dryrun", "-node=talos-cp-01")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, `Error: talos:genconfig has no flag "-node=talos-cp-01"; its flags are -dryrun, -file`)
	require.NotContains(t, out, "would write", "talos:genconfig must not have run")
}
