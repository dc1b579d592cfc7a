package tfcheck

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"

	"github.com/wdiazux/infra/internal/testsuite"
	"github.com/wdiazux/infra/internal/toolchain"
)

// ErrToolMissing says a tool the checks run is not installed or not built.
var ErrToolMissing = errors.New("a tool the Terraform checks run is missing")

// LookupTools returns the tools for checks (CheckFmt, CheckValidate,
// CheckTFLint, CheckTrivy; none means all of them) of the repository
// whose inventory file is inventoryFile: terraform from PATH (fmt,
// validate), and tflint, trivy and the bpg/proxmox provider (validate)
// from the tool cache, at the versions the inventory's tools: lists (the
// test suite's tools step builds them). A missing one is an error
// wrapping ErrToolMissing that names each.
func LookupTools(inventoryFile string, checks ...string) (Tools, error) {
	if len(checks) == 0 {
		checks = []string{CheckFmt, CheckValidate, CheckTFLint, CheckTrivy}
	}
	needs := func(cs ...string) bool {
		return slices.ContainsFunc(cs, func(c string) bool { return slices.Contains(checks, c) })
	}
	cache, err := toolchain.CacheDir()
	if err != nil {
		return Tools{}, err
	}
	var missing []string
	t := Tools{Cache: cache}
	if needs(CheckFmt, CheckValidate) {
		if t.Terraform, err = exec.LookPath("terraform"); err != nil {
			missing = append(missing, "terraform (not on PATH)")
		}
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
	if needs(CheckTFLint) {
		_, t.TFLint = built("tflint")
	}
	if needs(CheckTrivy) {
		_, t.Trivy = built("trivy")
	}
	if needs(CheckValidate) {
		provider, _ := built("terraform-provider-proxmox")
		t.Providers = []toolchain.GoTool{provider}
	}
	if len(missing) > 0 {
		return Tools{}, fmt.Errorf("%w: %s; the test suite's tools step installs and builds them", ErrToolMissing, strings.Join(missing, ", "))
	}
	return t, nil
}
