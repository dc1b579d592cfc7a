package testtool_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/testtool"
)

func TestRequireFindsAToolOnPath(t *testing.T) {
	require.NotEmpty(t, testtool.Require(t, "go"))
}

func TestInCI(t *testing.T) {
	t.Setenv("CI", "true")
	require.True(t, testtool.InCI())
	t.Setenv("CI", "")
	require.False(t, testtool.InCI())
}
