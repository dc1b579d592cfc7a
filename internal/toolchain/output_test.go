package toolchain_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/toolchain"
)

// TestRunOutput: a non-zero exit status is a result, not an error; a
// command that does not start is an error naming it.
func TestRunOutput(t *testing.T) {
	out, err := toolchain.RunOutput(context.Background(), "sh", "-c", "echo report; echo oops >&2; exit 3")
	require.NoError(t, err)
	require.Equal(t, toolchain.Output{Stdout: []byte("report\n"), Stderr: []byte("oops\n"), Code: 3}, out)

	out, err = toolchain.RunOutput(context.Background(), "sh", "-c", "true")
	require.NoError(t, err)
	require.Zero(t, out.Code)

	_, err = toolchain.RunOutput(context.Background(), "/nonexistent/tool", "config")
	require.ErrorContains(t, err, "run /nonexistent/tool config:")
}
