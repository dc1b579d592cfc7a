package docgen

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/wdiazux/infra/internal/atomicfile"
)

// Regenerate is the command that rewrites every generated part; the
// markers and the drift findings name it.
const Regenerate = "go run mage.go docs"

// ErrNoMarkers says a file lacks the markers a generated part goes
// between.
var ErrNoMarkers = errors.New("no generated part")

// ErrUnknownSection says a file has markers for a part nothing generates
// (a renamed or removed section): refused rather than left stale.
var ErrUnknownSection = errors.New("markers of a part nothing generates")

// Begin is the line that opens the generated part name ("" for a file's
// only part) and says how to regenerate it.
func Begin(name string) string {
	if name == "" {
		return "<!-- BEGIN GENERATED: " + Regenerate + " -->"
	}
	return "<!-- BEGIN GENERATED " + name + ": " + Regenerate + " -->"
}

// End is the line that closes the generated part name.
func End(name string) string {
	if name == "" {
		return "<!-- END GENERATED -->"
	}
	return "<!-- END GENERATED " + name + " -->"
}

// Section is one generated part of a file: its name in the markers and
// its Markdown.
type Section struct {
	// Name tells the parts of one file apart; "" for a file's only part.
	Name string
	// Body is the Markdown between the markers.
	Body []byte
}

// Doc is one file with generated parts.
type Doc struct {
	// Path is the file, relative to the repository root, with slashes.
	Path string
	// Sections computes the file's generated parts from their sources.
	Sections func() ([]Section, error)
}

// beginLine matches any BEGIN marker, for finding parts nothing generates.
var beginLine = regexp.MustCompile(`(?m)^<!-- BEGIN GENERATED( [^:]+)?: .* -->$`)

// Splice returns text (the file path) with each section's part replaced
// by its Body. A section whose markers are missing is ErrNoMarkers, a BEGIN
// marker no section claims is ErrUnknownSection, each naming the file and
// line.
func Splice(path string, text []byte, sections []Section) ([]byte, error) {
	names := make([]string, len(sections))
	for i, s := range sections {
		names[i] = s.Name
	}
	for _, loc := range beginLine.FindAllSubmatchIndex(text, -1) {
		name := ""
		if loc[2] >= 0 {
			name = strings.TrimSpace(string(text[loc[2]:loc[3]]))
		}
		if !slices.Contains(names, name) {
			return nil, fmt.Errorf("%s:%d: %w: %q; remove the markers or generate the part", path, lineAt(text, loc[0]), ErrUnknownSection, name)
		}
	}
	out := text
	for _, s := range sections {
		begin, end := Begin(s.Name), End(s.Name)
		before, rest, ok1 := bytes.Cut(out, []byte(begin+"\n"))
		_, after, ok2 := bytes.Cut(rest, []byte(end))
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%s: %w %q: it needs the lines %s and %s, in that order, around it", path, ErrNoMarkers, s.Name, begin, end)
		}
		var b bytes.Buffer
		b.Write(before)
		b.WriteString(begin + "\n\n")
		b.Write(bytes.TrimSpace(s.Body))
		b.WriteString("\n\n" + end)
		b.Write(after)
		out = b.Bytes()
	}
	return out, nil
}

// lineAt is the 1-based line of offset off in text.
func lineAt(text []byte, off int) int { return bytes.Count(text[:off], []byte("\n")) + 1 }

// Render returns a doc's file as it is and as it should be.
func Render(root string, d Doc) (old, want []byte, err error) {
	old, err = os.ReadFile(filepath.Join(root, filepath.FromSlash(d.Path)))
	if err != nil {
		return nil, nil, fmt.Errorf("generated docs: %w", err)
	}
	sections, err := d.Sections()
	if err != nil {
		return nil, nil, fmt.Errorf("generate %s: %w", d.Path, err)
	}
	want, err = Splice(d.Path, old, sections)
	return old, want, err
}

// Drift is a file whose generated parts differ from their sources.
type Drift struct {
	// Path is the file, relative to the repository root.
	Path string
	// Line is the first line that differs.
	Line int
}

// String renders the drift as a finding would, with the command that
// fixes it.
func (d Drift) String() string {
	return fmt.Sprintf("%s:%d: generated section differs; run: %s", d.Path, d.Line, Regenerate)
}

// Check reports each doc that differs from what its sources generate,
// writing nothing.
func Check(root string, docs []Doc) ([]Drift, error) {
	var drifts []Drift
	for _, d := range docs {
		old, want, err := Render(root, d)
		if err != nil {
			return nil, err
		}
		if line := firstDifference(old, want); line > 0 {
			drifts = append(drifts, Drift{Path: d.Path, Line: line})
		}
	}
	return drifts, nil
}

// Write rewrites each doc whose generated parts drifted and returns their
// paths; a doc that is up to date is not touched.
func Write(root string, docs []Doc) ([]string, error) {
	var written []string
	for _, d := range docs {
		old, want, err := Render(root, d)
		if err != nil {
			return written, err
		}
		if bytes.Equal(old, want) {
			continue
		}
		if err := atomicfile.Write(filepath.Join(root, filepath.FromSlash(d.Path)), want, 0o644); err != nil {
			return written, fmt.Errorf("write %s: %w", d.Path, err)
		}
		written = append(written, d.Path)
	}
	return written, nil
}

// firstDifference is the 1-based line where a and b first differ, 0 when
// they are equal.
func firstDifference(a, b []byte) int {
	if bytes.Equal(a, b) {
		return 0
	}
	al, bl := bytes.SplitAfter(a, []byte("\n")), bytes.SplitAfter(b, []byte("\n"))
	for i := range min(len(al), len(bl)) {
		if !bytes.Equal(al[i], bl[i]) {
			return i + 1
		}
	}
	return min(len(al), len(bl)) + 1
}

// All is every generated doc of the repository at root: the Terraform
// module READMEs, the targets reference and the inventory reference.
func All(root string) ([]Doc, error) {
	docs, err := Modules(root)
	if err != nil {
		return nil, err
	}
	return append(docs, Targets(root), Inventory(root)), nil
}

// Affects reports whether file (relative to the root, with slashes) is a
// generated doc or a source one is made from, so that a check limited to
// some files (a commit's) knows whether it has anything to check.
func Affects(file string) bool {
	dir, base := path.Split(file)
	switch {
	case file == TargetsPage, file == InventoryPage:
		return true
	case dir == "magefiles/", dir == InventoryPackage+"/":
		return strings.HasSuffix(base, ".go") && !strings.HasSuffix(base, "_test.go")
	case strings.HasPrefix(dir, ModulesDir+"/"):
		return strings.HasSuffix(base, ".tf") || base == "README.md"
	}
	return false
}
