package tfcheck

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/wdiazux/infra/internal/testsuite"
	"github.com/wdiazux/infra/internal/toolchain"
)

// ErrToolMissing says a tool the checks run is not installed or not built.
var ErrToolMissing = errors.New("a tool the Terraform checks run is missing")

// LookupTools returns the tools for the checks of the repository whose
// inventory file is inventoryFile: terraform from PATH, and tflint, trivy
// and the bpg/proxmox provider from the tool cache, at the versions the
// inventory's tools: lists (the test suite's tools step builds them). A
// missing one is an error wrapping ErrToolMissing that names each.
func LookupTools(inventoryFile string) (Tools, error) {
	cache, err := toolchain.CacheDir()
	if err != nil {
		return Tools{}, err
	}
	var missing []string
	t := Tools{Cache: cache}
	if t.Terraform, err = exec.LookPath("terraform"); err != nil {
		missing = append(missing, "terraform (not on PATH)")
	}
	built := func(command string) (toolchain.GoTool, string) {
		tool, err := testsuite.GoTool(inventoryFile, command)
		if err != nil {
			missing = append(missing, fmt.Sprintf("%s (%v)", command, err))
			return tool, ""
		}
		path := tool.Path(cache)
		if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
			missing = append(missing, fmt.Sprintf("%s (not built at %s)", tool, path))
		}
		return tool, path
	}
	_, t.TFLint = built("tflint")
	_, t.Trivy = built("trivy")
	provider, _ := built("terraform-provider-proxmox")
	t.Providers = []toolchain.GoTool{provider}
	if len(missing) > 0 {
		return Tools{}, fmt.Errorf("%w: %s; the test suite's tools step installs and builds them", ErrToolMissing, strings.Join(missing, ", "))
	}
	return t, nil
}
