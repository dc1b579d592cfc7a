package testtool

import (
	"os"
	"os/exec"
	"testing"

	"github.com/wdiazux/infra/internal/toolchain"
)

// InCI reports whether the tests run in CI (CI=true).
func InCI() bool { return os.Getenv("CI") == "true" }

// Require returns the path of command, skipping the test when it is missing
// outside CI and failing it when it is missing in CI.
func Require(t testing.TB, command string) string {
	t.Helper()
	path, err := exec.LookPath(command)
	if err == nil {
		return path
	}
	if InCI() {
		t.Fatalf("%s is not installed; in CI it is a failure, not a skip (go run mage.go test installs it): %v", command, err)
	}
	t.Skipf("%s is not installed (go run mage.go test installs it): %v", command, err)
	return ""
}

// RequireGoTool returns the path of a tool built into the tool cache,
// skipping the test when it is missing outside CI and failing it in CI.
func RequireGoTool(t testing.TB, tool toolchain.GoTool) string {
	t.Helper()
	cache, err := toolchain.CacheDir()
	if err != nil {
		t.Fatal(err)
	}
	path := tool.Path(cache)
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
		return path
	}
	if InCI() {
		t.Fatalf("%s is not built at %s; in CI it is a failure, not a skip (go run mage.go test builds it)", tool, path)
	}
	t.Skipf("%s is not built at %s (go run mage.go test builds it)", tool, path)
	return ""
}

// RequireNPMTool returns the path of a tool npm installed into the tool
// cache, skipping the test when it is missing outside CI and failing it in CI.
func RequireNPMTool(t testing.TB, tool toolchain.NPMTool) string {
	t.Helper()
	cache, err := toolchain.CacheDir()
	if err != nil {
		t.Fatal(err)
	}
	path := tool.Path(cache)
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if InCI() {
		t.Fatalf("%s is not installed at %s; in CI it is a failure, not a skip (go run mage.go test installs it)", tool, path)
	}
	t.Skipf("%s is not installed at %s (go run mage.go test installs it)", tool, path)
	return ""
}
