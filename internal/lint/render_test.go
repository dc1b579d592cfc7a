package lint

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// countingRender is a render hook that counts its calls and writes one
// file; err, when set, is its answer instead.
type countingRender struct {
	calls int
	err   error
}

func (c *countingRender) render(_ context.Context, _, _, dir string) (*Rendered, error) {
	c.calls++
	if c.err != nil {
		return nil, c.err
	}
	if err := os.MkdirAll(filepath.Join(dir, "app"), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "app", "deploy.yaml"), []byte("kind: Deployment\n"), 0o644); err != nil {
		return nil, err
	}
	return &Rendered{Dir: dir, Files: []string{"app/deploy.yaml"}}, nil
}

// manifestSteps are two steps over the rendered manifests, as trivy and
// kubeconform are (manifestStep), recording the rendering each was given
// and whether its folder existed then.
func manifestSteps(t *testing.T, seen *[]*Rendered) (*Env, []Step) {
	t.Helper()
	tool := filepath.Join(t.TempDir(), "tool")
	require.NoError(t, os.WriteFile(tool, []byte("#!/bin/sh\n"), 0o755))
	check := func(_ context.Context, _ *Env, _ string, r *Rendered) (Result, error) {
		require.DirExists(t, r.Dir, "the rendering is there while a step runs")
		*seen = append(*seen, r)
		return Result{Files: len(r.Files)}, nil
	}
	env := &Env{Root: t.TempDir(), Tools: map[string]string{"first": tool, "second": tool}}
	return env, []Step{manifestStep("first", nil, nil, check), manifestStep("second", nil, nil, check)}
}

// TestRunRendersTheManifestsOnce: in one Run the second manifest step
// reuses the first's rendering (one render, the same files); the folder is
// removed when Run returns. A render that fails fails both steps with its
// error, and is tried once.
func TestRunRendersTheManifestsOnce(t *testing.T) {
	var seen []*Rendered
	env, steps := manifestSteps(t, &seen)
	hook := &countingRender{}
	env.render = hook.render
	require.NoError(t, Run(context.Background(), env, steps))
	require.Equal(t, 1, hook.calls, "rendered once for both steps")
	require.Len(t, seen, 2)
	require.Same(t, seen[0], seen[1], "the second step got the first's rendering")
	require.NoDirExists(t, seen[0].Dir, "removed at the end of the run")

	broken := errors.New("chart cilium not in the mirror")
	seen = nil
	env, steps = manifestSteps(t, &seen)
	hook = &countingRender{err: broken}
	env.render = hook.render
	err := Run(context.Background(), env, steps)
	var failed *FailedError
	require.ErrorAs(t, err, &failed)
	require.Equal(t, []string{"first", "second"}, failed.Steps())
	require.ErrorIs(t, err, broken)
	require.Equal(t, 1, hook.calls)
	require.Empty(t, seen)
}

// TestAManifestStepAloneRendersForItself: a step run outside Run renders
// for itself and removes the folder when it ends.
func TestAManifestStepAloneRendersForItself(t *testing.T) {
	var seen []*Rendered
	env, steps := manifestSteps(t, &seen)
	hook := &countingRender{}
	env.render = hook.render
	for _, step := range steps {
		_, err := step.Run(context.Background(), env)
		require.NoError(t, err)
	}
	require.Equal(t, 2, hook.calls)
	require.Len(t, seen, 2)
	for _, r := range seen {
		require.NoDirExists(t, r.Dir)
	}
}
