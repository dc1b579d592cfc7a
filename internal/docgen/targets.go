package docgen

import (
	"bytes"
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/wdiazux/infra/internal/magerun"
)

// TargetsPage is the targets reference, relative to the root.
const TargetsPage = "docs/reference/targets.md"

// Targets is the targets reference of the targets in root's magefiles: one
// generated part listing every target, then each with its usage line, its
// doc comment and its flags with their comments, read as `go run mage.go
// -l` and `-h` read them. A target added to magefiles/ appears on the
// next run without any other change.
func Targets(root string) Doc {
	return Doc{
		Path: TargetsPage,
		Sections: func() ([]Section, error) {
			t, err := magerun.LoadTargets("go", filepath.Join(root, "magefiles"))
			if err != nil {
				return nil, err
			}
			return []Section{{Body: TargetsMarkdown(t.List(), path.Dir(TargetsPage))}}, nil
		},
	}
}

// TargetsMarkdown renders targets as the reference does; dir is the
// page's directory, for the links made of the doc paths the comments name.
func TargetsMarkdown(targets []magerun.Target, dir string) []byte {
	var b bytes.Buffer
	b.WriteString("| Target | What it does |\n|---|---|\n")
	for _, t := range targets {
		fmt.Fprintf(&b, "| [`%s`](#%s) | %s |\n", t.Name, strings.ReplaceAll(t.Name, ":", ""), cell(capitalize(t.Summary)))
	}
	for _, t := range targets {
		fmt.Fprintf(&b, "\n### `%s`\n\n`%s`\n\n%s\n", t.Name, t.Usage, linkDocs(capitalize(t.Doc), dir))
		if len(t.Flags) == 0 {
			continue
		}
		b.WriteString("\n| Flag | Meaning |\n|---|---|\n")
		for _, f := range t.Flags {
			label := "-" + f.Name
			if f.Type != "bool" {
				label += "=<" + f.Type + ">"
			}
			fmt.Fprintf(&b, "| `%s` | %s |\n", label, cell(linkDocs(f.Help, dir)))
		}
	}
	return b.Bytes()
}

// capitalize upper-cases the first letter of s.
func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// spaces matches a run of white space, which a table cell holds as one.
var spaces = regexp.MustCompile(`\s+`)

// cell makes text fit a table cell: one line, pipes escaped.
func cell(s string) string {
	return strings.ReplaceAll(spaces.ReplaceAllString(strings.TrimSpace(s), " "), "|", `\|`)
}

// docPath matches a path of a page under docs/ in a comment, with an
// optional anchor.
var docPath = regexp.MustCompile(`\bdocs/[A-Za-z0-9_/-]+\.md(#[a-z0-9-]+)?`)

// linkDocs turns each docs/….md a comment names into a link relative to
// dir, the directory of the page it appears on.
func linkDocs(s, dir string) string {
	return docPath.ReplaceAllStringFunc(s, func(p string) string {
		rel, err := filepath.Rel(filepath.FromSlash(dir), filepath.FromSlash(p))
		if err != nil {
			return p
		}
		return "[" + p + "](" + filepath.ToSlash(rel) + ")"
	})
}
