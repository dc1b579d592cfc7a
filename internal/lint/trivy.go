package lint

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/wdiazux/infra/internal/trivyscan"
)

// TrivyIgnore is the one file listing the trivy findings accepted on
// purpose, each with its reason, at the repository root.
const TrivyIgnore = ".trivyignore.yaml"

// trivyFolders are the repository folders the trivy step scans, besides
// the rendered add-on manifests (RenderedDir).
var trivyFolders = []string{"terraform", "kubernetes"}

// Trivy is the step trivy: trivy config (offline, built-in checks) over
// terraform/, kubernetes/ and the rendered add-on manifests (RenderAddons,
// reported as rendered/<release>/<template>), HIGH and CRITICAL only, the
// findings accepted in .trivyignore.yaml left out. Each remaining
// misconfiguration is a finding naming the file, the line and trivy's
// check ID. With Env.Files it runs when a staged file is under
// terraform/ or kubernetes/ or is homelab.yaml, and scans all three.
func Trivy() Step {
	return manifestStep("trivy", []string{"trivy"}, []string{"terraform", "kubernetes", "homelab.yaml"}, func(ctx context.Context, env *Env, bin string, rendered *Rendered) (Result, error) {
		res, _, err := scanTrivy(ctx, bin, env.Root, rendered)
		return res, err
	})
}

// scanTrivy runs trivy over root's terraform/ and kubernetes/ (those that
// exist) and the rendered manifests (nil: none) with root's ignore file,
// and returns the result and trivy's exit status per folder.
func scanTrivy(ctx context.Context, bin, root string, rendered *Rendered) (Result, map[string]int, error) {
	ignore := filepath.Join(root, TrivyIgnore)
	accepted, err := trivyscan.LoadIgnore(ignore)
	if err != nil {
		return Result{}, nil, err
	}
	if err := trivyscan.CheckPaths(ignore, accepted, append(trivyFolders, RenderedDir)...); err != nil {
		return Result{}, nil, err
	}
	var targets []trivyscan.Target
	var res Result
	for _, name := range trivyFolders {
		dir := filepath.Join(root, name)
		n, err := countFiles(dir, ".tf", ".yaml", ".yml", ".json")
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return Result{}, nil, fmt.Errorf("trivy: %w", err)
		}
		res.Files += n
		targets = append(targets, trivyscan.Target{Dir: dir, Name: name})
	}
	if rendered != nil {
		res.Files += len(rendered.Files)
		targets = append(targets, trivyscan.Target{Dir: rendered.Dir, Name: RenderedDir})
	}
	codes := map[string]int{}
	for _, t := range targets {
		found, code, err := trivyscan.Scan(ctx, bin, ignore, t)
		if err != nil {
			return Result{}, codes, err
		}
		codes[t.Name] = code
		for _, f := range found {
			res.Findings = append(res.Findings, Finding{Tool: "trivy", File: f.File, Line: f.Line, Rule: f.Rule,
				Message: "(" + f.Severity + ") " + f.Message})
		}
	}
	return res, codes, nil
}

// countFiles counts the regular files under dir with one of the
// extensions, hidden folders (.terraform) left out.
func countFiles(dir string, exts ...string) (int, error) {
	if _, err := os.Stat(dir); err != nil {
		return 0, err
	}
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != dir && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		for _, e := range exts {
			if d.Type().IsRegular() && strings.HasSuffix(d.Name(), e) {
				n++
				break
			}
		}
		return nil
	})
	return n, err
}

// manifestStep is a step named after the tool it runs (name) over the
// rendered add-on manifests: it checks nothing when Env.Files names no
// file under staged, needs the tool, and gives check the manifests
// rendered into a temporary folder (renderForStep: within Run, rendered
// once for every such step and removed when Run ends).
func manifestStep(name string, tools, staged []string, check func(ctx context.Context, env *Env, bin string, rendered *Rendered) (Result, error)) Step {
	return Step{Name: name, Tools: tools, Run: func(ctx context.Context, env *Env) (Result, error) {
		if !stagedUnder(env, staged...) {
			return Result{}, nil
		}
		bin, err := env.tool(name)
		if err != nil {
			return Result{}, err
		}
		rendered, cleanup, err := renderForStep(ctx, env)
		if err != nil {
			return Result{}, err
		}
		defer cleanup()
		noteUnrendered(env, name, rendered)
		return check(ctx, env, bin, rendered)
	}}
}

// noteUnrendered tells the person running the step which releases it
// could not render (their chart is not in the mirror), so nothing of
// them was checked.
func noteUnrendered(env *Env, step string, r *Rendered) {
	for _, u := range r.Unrendered {
		if env.Log != nil {
			env.Log.Warn("release not rendered: its manifests are not checked", "step", step, "release", u.Release, "reason", u.Reason)
		}
		if env.Out != nil {
			fmt.Fprintf(env.Out, "%s: release %s not rendered, not checked: %s\n", step, u.Release, u.Reason)
		}
	}
}
