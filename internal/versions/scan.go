package versions

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Finding is a version a file names that disagrees with the inventory.
type Finding struct {
	// File is the file relative to the scanned root, slash-separated;
	// Line is the line (1-based).
	File string
	Line int
	// Rule is the rule that recognised the version: prose, chart, image,
	// terraform, packer or gomod.
	Rule string
	// Text is what the version was found in, e.g. "Talos vX.Y.Z" or
	// `version = "~> X.Y"`; Found is the version itself.
	Text, Found string
	// Fact is the inventory's version the found one must agree with; its
	// Field is empty when the inventory lists no version for what the
	// file names (Missing then says which field to add).
	Fact    Fact
	Missing string
}

// Message says what disagrees and what to do, for a person.
func (f Finding) Message(inventory string) string {
	if f.Missing != "" {
		return fmt.Sprintf("%s names %s, but %s has no %s: add it there (every version lives in %s)",
			f.Text, f.Found, inventory, f.Missing, inventory)
	}
	return fmt.Sprintf("%s names %s, but %s:%d %s is %s: write %s here, or read it from %s",
		f.Text, f.Found, inventory, f.Fact.Line, f.Fact.Field, f.Fact.Version, f.Fact.Version, inventory)
}

// Report is what Scan found.
type Report struct {
	// Files is how many files were scanned.
	Files int
	// Versions is how many versions they name, agreeing or not.
	Versions int
	// Findings are the versions that disagree, ordered by file and line.
	Findings []Finding
}

// Included says whether Scan looks at the file rel (slash-separated,
// relative to the root holding the inventory named inventory).
func Included(rel, inventory string) bool {
	switch {
	case rel == inventory,
		strings.HasPrefix(rel, "docs/research/"),
		strings.HasSuffix(rel, "go.sum"),
		strings.HasSuffix(rel, "_test.go"):
		return false
	}
	segs := strings.Split(rel, "/")
	for i, s := range segs {
		if s == "testdata" {
			// A fixture is its test's own, except the golden files
			// rendered from the real inventory (…/testdata/…/homelab/…).
			for _, t := range segs[i+1 : len(segs)-1] {
				if t == "homelab" {
					return true
				}
			}
			return false
		}
	}
	if path.Base(rel) == "go.mod" {
		return toolsModule(rel) != ""
	}
	return true
}

// TrackedFiles lists the files git tracks under root, slash-separated
// and relative to root.
func TrackedFiles(ctx context.Context, root string) ([]string, error) {
	cmd := exec.CommandContext(ctx, "git", "-C", root, "ls-files", "-z")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("list the files git tracks in %s (git ls-files): %w: %s", root, err, strings.TrimSpace(stderr.String()))
	}
	var files []string
	for _, f := range strings.Split(string(out), "\x00") {
		if f != "" {
			files = append(files, f)
		}
	}
	return files, nil
}

// WalkFiles lists every regular file under root, slash-separated and
// relative to root (for a folder git does not track, e.g. a fixture).
func WalkFiles(root string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list the files under %s: %w", root, err)
	}
	return files, nil
}

// Scan checks files (relative to root; those Included does not take are
// left out) against the inventory's facts.
func Scan(root string, files []string, facts *Facts) (Report, error) {
	rules := newRules(facts)
	var rep Report
	for _, rel := range files {
		if !Included(rel, facts.File) {
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if os.IsNotExist(err) {
			continue // deleted but not yet staged
		}
		if err != nil {
			return Report{}, fmt.Errorf("scan %s for versions: %w", rel, err)
		}
		if bytes.IndexByte(data[:min(len(data), 8000)], 0) >= 0 {
			continue // binary
		}
		rep.Files++
		found, err := rules.file(root, rel, data)
		if err != nil {
			return Report{}, err
		}
		rep.Findings = append(rep.Findings, found...)
	}
	rep.Versions = rules.checked
	sort.SliceStable(rep.Findings, func(i, j int) bool {
		a, b := rep.Findings[i], rep.Findings[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	return rep, nil
}

// agrees says whether found (as written, maybe with fewer numbers, "x"
// for any) names the version want.
func agrees(found, want string) bool {
	f, w := strings.TrimPrefix(found, "v"), strings.TrimPrefix(want, "v")
	if f == w {
		return true
	}
	if strings.ContainsAny(f, "-+") {
		return false // a pre-release or build names exactly one version
	}
	fp, wp := strings.Split(f, "."), strings.Split(strings.SplitN(strings.SplitN(w, "+", 2)[0], "-", 2)[0], ".")
	if len(fp) > len(wp) {
		return false
	}
	for i, p := range fp {
		if p != "x" && p != "*" && p != wp[i] {
			return false
		}
	}
	return true
}
