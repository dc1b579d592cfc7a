package infra_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/testtool"
)

// TestLintTarget runs the lint target: -only picks steps (and refuses a
// name that is none), and the summary has a row per step run.
func TestLintTarget(t *testing.T) {
	out, code := mage(t, "lint", "-only=golint")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, `no such lint step: "golint"; the steps are gofmt, vet, staticcheck, shellcheck, terraform`)

	testtool.Require(t, "yamllint")
	testtool.Require(t, "shellcheck")
	out, code = mage(t, "lint", "-only=yamllint,shellcheck")
	require.Equal(t, 0, code, out)
	require.Regexp(t, `STEP\s+FILES\s+FINDINGS\s+RESULT\s+TIME\n`, out)
	require.Regexp(t, `\nshellcheck\s+[1-9]\d*\s+0\s+ok\s`, out)
	require.Regexp(t, `\nyamllint\s+[1-9]\d*\s+0\s+ok\s`, out)
	require.NotContains(t, out, "gofmt ")
}
