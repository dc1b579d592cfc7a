package trivyscan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/wdiazux/infra/internal/toolchain"
)

// Severities are the severities of trivy's findings Scan reports.
const Severities = "HIGH,CRITICAL"

// Finding is one misconfiguration trivy found.
type Finding struct {
	// File is the file as Target names it: Target.Name/<path in the
	// folder>. Line is its line, 0 when trivy names none.
	File string
	Line int
	// Rule is trivy's check ID, e.g. AWS-0107 or KSV-0017.
	Rule string
	// Severity is HIGH or CRITICAL.
	Severity string
	// Message is the check's title and message, the resource, the
	// resolution and the check's URL.
	Message string
}

// Target is one folder Scan runs trivy over.
type Target struct {
	// Dir is the folder on disk.
	Dir string
	// Name is how findings and the ignore file's paths name it:
	// "terraform", "kubernetes", "rendered" (slash-separated, relative to
	// the repository root, or a name of its own for a folder outside it).
	Name string
}

// Scan runs trivy (the binary) config over t.Dir with the checks built
// into trivy, nothing downloaded, for Severities, with the entries of the
// ignore file (which must be valid, see LoadIgnore) that concern t: those
// with no paths, and those with a path under t.Name, made relative to
// t.Dir. It returns the findings and trivy's exit status (1 when it found
// something, 0 when not). An error means trivy could not run or printed
// no report.
func Scan(ctx context.Context, trivy, ignoreFile string, t Target) ([]Finding, int, error) {
	accepted, err := LoadIgnore(ignoreFile)
	if err != nil {
		return nil, 0, err
	}
	tmp, err := os.MkdirTemp("", "trivyscan-")
	if err != nil {
		return nil, 0, fmt.Errorf("trivy config %s: %w", t.Dir, err)
	}
	defer os.RemoveAll(tmp)
	ignore := filepath.Join(tmp, "trivyignore.yaml")
	data, err := IgnoreFor(accepted, t.Name)
	if err != nil {
		return nil, 0, fmt.Errorf("trivy's ignore file %s: %w", ignoreFile, err)
	}
	if err := os.WriteFile(ignore, data, 0o644); err != nil {
		return nil, 0, fmt.Errorf("trivy config %s: %w", t.Dir, err)
	}
	run, err := toolchain.RunOutput(ctx, trivy, "config", "--skip-check-update", "--skip-version-check", "--disable-telemetry",
		"--severity", Severities, "--exit-code", "1", "--format", "json", "--quiet",
		"--ignorefile", ignore, "--cache-dir", filepath.Join(tmp, "cache"), t.Dir)
	if err != nil {
		return nil, 0, err
	}
	code, stdout, stderr := run.Code, run.Stdout, string(run.Stderr)
	var out struct {
		Results []struct {
			Target            string `json:"Target"`
			Misconfigurations []struct {
				ID            string `json:"ID"`
				Title         string `json:"Title"`
				Message       string `json:"Message"`
				Resolution    string `json:"Resolution"`
				Severity      string `json:"Severity"`
				PrimaryURL    string `json:"PrimaryURL"`
				CauseMetadata struct {
					Resource  string `json:"Resource"`
					StartLine int    `json:"StartLine"`
				} `json:"CauseMetadata"`
			} `json:"Misconfigurations"`
		} `json:"Results"`
	}
	if (code != 0 && code != 1) || json.Unmarshal(stdout, &out) != nil {
		return nil, code, fmt.Errorf("trivy config %s exited with status %d and printed no report: %s", t.Dir, code, strings.TrimSpace(stderr))
	}
	var findings []Finding
	for _, res := range out.Results {
		for _, m := range res.Misconfigurations {
			findings = append(findings, Finding{File: path.Join(t.Name, filepath.ToSlash(res.Target)), Line: m.CauseMetadata.StartLine,
				Rule: m.ID, Severity: m.Severity,
				Message: JoinNonEmpty(" — ", JoinNonEmpty(": ", m.Title, m.Message), m.CauseMetadata.Resource, m.Resolution, m.PrimaryURL)})
		}
	}
	if code == 1 && len(findings) == 0 {
		return nil, code, fmt.Errorf("trivy config %s exited with status 1 and reported nothing: %s", t.Dir, strings.TrimSpace(stderr))
	}
	return findings, code, nil
}

// IgnoreFor returns trivy's ignore file for a scan of the folder named
// name: the accepted entries without paths, and those with paths under
// name/, those paths made relative to it (an entry whose paths are all
// elsewhere is left out, not widened to every file).
func IgnoreFor(accepted []Accepted, name string) ([]byte, error) {
	type entry struct {
		ID        string   `yaml:"id"`
		Paths     []string `yaml:"paths,omitempty"`
		Statement string   `yaml:"statement"`
	}
	doc := map[string][]entry{}
	for _, a := range accepted {
		e := entry{ID: a.ID, Statement: a.Statement}
		for _, p := range a.Paths {
			if rel, ok := strings.CutPrefix(p, name+"/"); ok {
				e.Paths = append(e.Paths, rel)
			}
		}
		if len(a.Paths) > 0 && len(e.Paths) == 0 {
			continue
		}
		doc[a.Kind] = append(doc[a.Kind], e)
	}
	return yaml.Marshal(doc)
}

// CheckPaths refuses an accepted entry with a path under none of the
// scanned folders' names: it would accept nothing (a path relative to a
// folder instead of the root, a typo).
func CheckPaths(ignoreFile string, accepted []Accepted, names ...string) error {
	var problems []string
	for _, a := range accepted {
		for _, p := range a.Paths {
			ok := false
			for _, n := range names {
				ok = ok || strings.HasPrefix(p, n+"/")
			}
			if !ok {
				problems = append(problems, fmt.Sprintf("%s:%d: %s (%s) path %q is under none of %s/: paths are relative to the repository root", ignoreFile, a.Line, a.Kind, a.ID, p, strings.Join(names, "/, ")))
			}
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// JoinNonEmpty joins with sep the parts, trimmed, that are not empty: a
// finding's message from a tool's optional fields (internal/tfcheck uses
// it for terraform's and tflint's too).
func JoinNonEmpty(sep string, parts ...string) string {
	var kept []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, sep)
}
