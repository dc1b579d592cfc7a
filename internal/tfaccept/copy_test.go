package tfaccept_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/tfaccept"
)

// TestCopyTerraformCopiesOnlyTheCode: a checkout's own state, plan, lock
// file and .terraform directory stay behind; every stack's and module's
// *.tf files arrive at the same paths.
func TestCopyTerraformCopiesOnlyTheCode(t *testing.T) {
	repo, dir := t.TempDir(), t.TempDir()
	for _, f := range []string{
		"terraform/talos/main.tf", "terraform/talos/terraform.tfstate", "terraform/talos/.terraform.lock.hcl",
		"terraform/talos/.terraform/modules/modules.json", "terraform/talos/talos.tfplan",
		"terraform/traditional-vms/main.tf", "terraform/modules/proxmox-vm/main.tf", "terraform/modules/inventory/main.tf",
	} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(repo, f)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(repo, f), []byte("# "+f+"\n"), 0o644))
	}
	require.NoError(t, tfaccept.CopyTerraform(repo, dir))
	var got []string
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			got = append(got, rel)
		}
		return err
	}))
	require.ElementsMatch(t, []string{"terraform/talos/main.tf", "terraform/traditional-vms/main.tf",
		"terraform/modules/proxmox-vm/main.tf", "terraform/modules/inventory/main.tf"}, got)
}
