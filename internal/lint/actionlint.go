package lint

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	"github.com/wdiazux/infra/internal/forgeci"
)

// Actionlint is the actionlint step: actionlint (from the tool cache)
// over every workflow of .forgejo/workflows (*.yml, *.yaml), with
// forgeci.ActionlintConfig when the root has it (the Forgejo runners'
// labels, which actionlint does not know by itself), each error a
// finding with actionlint's rule (syntax-check, expression, shellcheck
// for a run: script, …). No workflow is no finding. actionlint has no
// switch to accept a finding: fix the workflow (a run: script's
// shellcheck finding can be silenced with "# shellcheck disable=SCnnnn"
// in it, saying why).
func Actionlint() Step {
	return Step{Name: "actionlint", Tools: []string{"actionlint"}, Run: func(ctx context.Context, env *Env) (Result, error) {
		files, res, done, err := env.start(ctx, func(path string) bool {
			return filepath.Dir(path) == filepath.FromSlash(forgeci.WorkflowDir) && hasExt(".yml", ".yaml")(path)
		}, "no workflow")
		if done {
			return res, err
		}
		shellcheck, err := env.tool("shellcheck")
		if err != nil {
			return res, err
		}
		// pyflakes is off: no workflow runs Python, and a missing one
		// would silently check nothing.
		args := []string{"-format", "{{json .}}", "-no-color", "-shellcheck=" + shellcheck, "-pyflakes="}
		if _, err := os.Stat(filepath.Join(env.Root, forgeci.ActionlintConfig)); err == nil {
			args = append(args, "-config-file", forgeci.ActionlintConfig)
		}
		o, err := env.run(ctx, ".", nil, "actionlint", append(args, files...)...)
		if err != nil {
			return res, err
		}
		var errs []struct {
			Message  string `json:"message"`
			Filepath string `json:"filepath"`
			Line     int    `json:"line"`
			Kind     string `json:"kind"`
		}
		if strings.TrimSpace(o.stdout) != "" {
			if err := json.Unmarshal([]byte(o.stdout), &errs); err != nil {
				return res, silentFailure("actionlint", o)
			}
		}
		for _, e := range errs {
			res.Findings = append(res.Findings, Finding{Tool: "actionlint", File: relTo(env.Root, e.Filepath), Line: e.Line, Rule: e.Kind, Message: e.Message})
		}
		res.Exit = o.code
		if o.code != 0 && len(res.Findings) == 0 {
			return res, silentFailure("actionlint", o)
		}
		return res, nil
	}}
}
