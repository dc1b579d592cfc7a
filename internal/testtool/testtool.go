package testtool

import (
	"os"
	"os/exec"
	"strings"
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
	return requireCached(t, tool.String(), "built", tool.Path, func(fi os.FileInfo) bool { return fi.Mode().IsRegular() })
}

// RequireNPMTool returns the path of a tool npm installed into the tool
// cache, skipping the test when it is missing outside CI and failing it in CI.
func RequireNPMTool(t testing.TB, tool toolchain.NPMTool) string {
	t.Helper()
	return requireCached(t, tool.String(), "installed", tool.Path, func(os.FileInfo) bool { return true })
}

// requireCached returns path(cache) when it exists and ok says it is the
// tool, else skips the test (outside CI) or fails it (in CI); verb says
// what go run mage.go test does to the tool.
func requireCached(t testing.TB, name, verb string, path func(cache string) string, ok func(os.FileInfo) bool) string {
	t.Helper()
	cache, err := toolchain.CacheDir()
	if err != nil {
		t.Fatal(err)
	}
	p := path(cache)
	if fi, err := os.Stat(p); err == nil && ok(fi) {
		return p
	}
	if InCI() {
		t.Fatalf("%s is not %s at %s; in CI it is a failure, not a skip (go run mage.go test %s it)", name, verb, p, verbNow(verb))
	}
	t.Skipf("%s is not %s at %s (go run mage.go test %s it)", name, verb, p, verbNow(verb))
	return ""
}

// verbNow turns "built" into "builds", "installed" into "installs".
func verbNow(past string) string {
	if past == "built" {
		return "builds"
	}
	return strings.TrimSuffix(past, "ed") + "s"
}
