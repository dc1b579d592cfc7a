package tfcheck

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/wdiazux/infra/internal/trivyscan"
)

// parseValidate reads terraform validate -json's diagnostics for dir.
func parseValidate(dir string, r result) ([]Finding, error) {
	var out struct {
		Valid       bool `json:"valid"`
		Diagnostics []struct {
			Severity string `json:"severity"`
			Summary  string `json:"summary"`
			Detail   string `json:"detail"`
			Range    *struct {
				Filename string `json:"filename"`
				Start    struct {
					Line int `json:"line"`
				} `json:"start"`
			} `json:"range"`
		} `json:"diagnostics"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		return nil, fmt.Errorf("terraform validate -json in %s exited with status %d and printed no JSON (%w): %s", dir, r.code, err, strings.TrimSpace(r.stdout+r.stderr))
	}
	var findings []Finding
	for _, d := range out.Diagnostics {
		f := Finding{Check: CheckValidate, File: dir, Severity: d.Severity, Message: trivyscan.JoinNonEmpty(": ", d.Summary, d.Detail)}
		if d.Range != nil {
			f.File, f.Line = filepath.Join(dir, d.Range.Filename), d.Range.Start.Line
		}
		findings = append(findings, f)
	}
	if !out.Valid && len(findings) == 0 {
		findings = append(findings, Finding{Check: CheckValidate, File: dir, Severity: "error", Message: "terraform validate says the configuration is not valid but names no problem"})
	}
	return withExit(findings, r.code), nil
}

// TFLint runs tflint in dir (relative to the root) with the checker's
// configuration: each issue, and each error tflint reports about the code,
// is a finding.
func (c *Checker) TFLint(ctx context.Context, dir string) ([]Finding, error) {
	cfg, err := filepath.Abs(c.tflintCfg)
	if err != nil {
		return nil, fmt.Errorf("tflint: %w", err)
	}
	if _, err := os.Stat(cfg); err != nil {
		return nil, fmt.Errorf("tflint's configuration: %w; it enables the bundled terraform ruleset (see docs/operations/testing.md)", err)
	}
	// TFLINT_PLUGIN_DIR points at no plugin: only the bundled ruleset runs,
	// and nothing is downloaded.
	env := []string{"TFLINT_PLUGIN_DIR=" + filepath.Join(os.TempDir(), "tfcheck-no-tflint-plugins")}
	r, err := c.run(ctx, dir, env, c.tools.TFLint, "--config="+cfg, "--format=json", "--no-color")
	if err != nil {
		return nil, err
	}
	var out struct {
		Issues []struct {
			Rule struct {
				Name     string `json:"name"`
				Severity string `json:"severity"`
				Link     string `json:"link"`
			} `json:"rule"`
			Message string    `json:"message"`
			Range   lintRange `json:"range"`
		} `json:"issues"`
		Errors []struct {
			Summary  string     `json:"summary"`
			Message  string     `json:"message"`
			Severity string     `json:"severity"`
			Range    *lintRange `json:"range"`
		} `json:"errors"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		return nil, fmt.Errorf("tflint in %s exited with status %d and printed no JSON (%w): %s", dir, r.code, err, strings.TrimSpace(r.stdout+r.stderr))
	}
	var findings []Finding
	for _, i := range out.Issues {
		findings = append(findings, Finding{Check: CheckTFLint, File: filepath.Join(dir, i.Range.Filename), Line: i.Range.Start.Line,
			Rule: i.Rule.Name, Severity: i.Rule.Severity, Message: trivyscan.JoinNonEmpty(" — ", i.Message, i.Rule.Link)})
	}
	for _, e := range out.Errors {
		f := Finding{Check: CheckTFLint, File: dir, Severity: e.Severity, Message: trivyscan.JoinNonEmpty(": ", e.Summary, e.Message)}
		if e.Range != nil && e.Range.Filename != "" {
			f.File, f.Line = filepath.Join(dir, e.Range.Filename), e.Range.Start.Line
		}
		findings = append(findings, f)
	}
	if r.code != 0 && len(findings) == 0 {
		return nil, fmt.Errorf("tflint in %s exited with status %d and reported nothing: %s", dir, r.code, strings.TrimSpace(r.stderr))
	}
	return withExit(findings, r.code), nil
}

// lintRange is where tflint found something.
type lintRange struct {
	Filename string `json:"filename"`
	Start    struct {
		Line int `json:"line"`
	} `json:"start"`
}

// Trivy runs trivy config over dir (relative to the root) through
// trivyscan.Scan, with the checker's ignore file, whose paths are relative
// to the root: each misconfiguration is a finding.
func (c *Checker) Trivy(ctx context.Context, dir string) ([]Finding, error) {
	found, code, err := trivyscan.Scan(ctx, c.tools.Trivy, c.trivyIgnore, trivyscan.Target{Dir: filepath.Join(c.root, dir), Name: filepath.ToSlash(dir)})
	if err != nil {
		return nil, err
	}
	findings := make([]Finding, 0, len(found))
	for _, f := range found {
		findings = append(findings, Finding{Check: CheckTrivy, File: filepath.FromSlash(f.File), Line: f.Line, Rule: f.Rule, Severity: f.Severity, Message: f.Message})
	}
	return withExit(findings, code), nil
}
