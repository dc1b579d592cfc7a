package magerun

import (
	"errors"
	"fmt"
	"go/build"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/magefile/mage/parse"
)

// Command is how the README spells the runner in usage lines.
const Command = "go run mage.go"

// Targets are the Mage targets of one magefiles directory, read from the
// source without compiling anything.
type Targets struct {
	// Dir is the magefiles directory.
	Dir string
	// Description is the package comment, shown above the list.
	Description string
	funcs       []*parse.Function
	aliases     map[string]*parse.Function
	// shownAs is the name a target is listed and documented under: its
	// alias when it has one (talos:etcd-snapshot), since Go method names
	// cannot hold a dash.
	shownAs map[*parse.Function]string
	src     *sources
}

// LoadTargets parses the targets in dir (a magefiles directory) with Mage's
// own parser, which is what the built binary dispatches on.
func LoadTargets(goCmd, dir string) (*Targets, error) {
	names, err := targetFiles(dir)
	if err != nil {
		return nil, err
	}
	info, err := parse.PrimaryPackage(goCmd, dir, names, true)
	if err != nil {
		return nil, fmt.Errorf("read the targets in %s: %w", dir, err)
	}
	src, err := readSources(dir, names)
	if err != nil {
		return nil, err
	}
	t := &Targets{Dir: dir, Description: info.Description, funcs: info.Funcs, aliases: map[string]*parse.Function{}, shownAs: map[*parse.Function]string{}, src: src}
	for _, imp := range info.Imports {
		t.funcs = append(t.funcs, imp.Info.Funcs...)
	}
	for alias, fn := range info.Aliases {
		alias = strings.ToLower(alias)
		t.aliases[alias] = fn
		if prev, ok := t.shownAs[fn]; !ok || alias < prev {
			t.shownAs[fn] = alias
		}
	}
	slices.SortFunc(t.funcs, func(a, b *parse.Function) int { return strings.Compare(t.shown(a), t.shown(b)) })
	return t, nil
}

// generatedMain is the file Mage writes into the magefiles directory while
// it compiles, and removes afterwards.
const generatedMain = "mage_output_file.go"

// targetFiles lists the Go files of the targets' package, as Mage does
// (build tag "mage"), but never the main file a build in progress is
// writing: reading it half-written would fail, and it is not a target file.
func targetFiles(dir string) ([]string, error) {
	bctx := build.Default
	bctx.BuildTags = []string{"mage"}
	bctx.ReadDir = func(d string) ([]fs.FileInfo, error) {
		entries, err := os.ReadDir(d)
		if err != nil {
			return nil, err
		}
		var infos []fs.FileInfo
		for _, e := range entries {
			if e.Name() == generatedMain {
				continue
			}
			info, err := e.Info()
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					continue // removed since it was listed
				}
				return nil, err
			}
			infos = append(infos, info)
		}
		return infos, nil
	}
	pkg, err := bctx.ImportDir(dir, 0)
	var noGo *build.NoGoError
	if errors.As(err, &noGo) || (err == nil && len(pkg.GoFiles) == 0) {
		return nil, fmt.Errorf("no target files in %s (run from the repository's root)", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("list the target files in %s: %w", dir, err)
	}
	return pkg.GoFiles, nil
}

// name is a target's name as typed: lower-case, namespace first.
func name(fn *parse.Function) string { return strings.ToLower(fn.TargetName()) }

// Names lists every target's name, sorted.
func (t *Targets) Names() []string {
	names := make([]string, len(t.funcs))
	for i, fn := range t.funcs {
		names[i] = t.shown(fn)
	}
	return names
}

// shown is the name a target is listed under: its alias when it has one,
// else its own name.
func (t *Targets) shown(fn *parse.Function) string {
	if a, ok := t.shownAs[fn]; ok {
		return a
	}
	return name(fn)
}

// lookup finds a target by name or alias, ignoring case as Mage does.
func (t *Targets) lookup(word string) *parse.Function {
	word = strings.ToLower(word)
	if fn, ok := t.aliases[word]; ok {
		return fn
	}
	for _, fn := range t.funcs {
		if name(fn) == word {
			return fn
		}
	}
	return nil
}

// summary is the first line of a target's doc comment without the leading
// function name. Mage's own synopsis is Go's first sentence, which ends at
// an abbreviation such as "e.g."; the first line is what the author wrote as
// the summary.
func summary(fn *parse.Function) string {
	first, _, _ := strings.Cut(strings.TrimSpace(fn.Comment), "\n")
	if rest, ok := strings.CutPrefix(first, fn.Name+" "); ok {
		return rest
	}
	return first
}

// WriteList writes what -l prints: the description and one line per
// target with its summary.
func (t *Targets) WriteList(w io.Writer) error {
	var b strings.Builder
	if t.Description != "" {
		fmt.Fprintf(&b, "%s\n\n", strings.TrimSpace(t.Description))
	}
	b.WriteString("Targets:\n")
	tw := tabwriter.NewWriter(&b, 0, 4, 4, ' ', 0)
	for _, fn := range t.funcs {
		fmt.Fprintf(tw, "  %s\t%s\n", t.shown(fn), summary(fn))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// usage is a target's usage line: its positional arguments, then its flags.
func (t *Targets) usage(fn *parse.Function) string {
	var b strings.Builder
	b.WriteString(Command + " " + t.shown(fn))
	for _, a := range fn.RequiredArgs() {
		fmt.Fprintf(&b, " <%s>", a.Name)
	}
	if fn.MultipleOptionalArgs() {
		b.WriteString(" [<flags>]")
	} else {
		for _, a := range fn.OptionalArgs() {
			fmt.Fprintf(&b, " [-%s=<%s>]", a.Name, a.Type)
		}
	}
	return b.String()
}

// WriteHelp writes what -h TARGET prints: the doc comment, the usage line
// and every flag with its comment.
func (t *Targets) WriteHelp(w io.Writer, target string) error {
	fn := t.lookup(target)
	if fn == nil {
		return t.unknown(target)
	}
	var b strings.Builder
	if c := strings.TrimSpace(fn.Comment); c != "" {
		fmt.Fprintf(&b, "%s\n\n", c)
	}
	fmt.Fprintf(&b, "Usage:\n\n\t%s\n\n", t.usage(fn))
	if fn.ShowFlagDocs() {
		b.WriteString(fn.FlagDocsString())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Target is what -l and -h say about one target, for a reference page.
type Target struct {
	// Name is the target's name as typed (namespace:name).
	Name string
	// Usage is the usage line -h prints.
	Usage string
	// Summary is the line -l prints.
	Summary string
	// Doc is the whole doc comment, without the function's name at its
	// start: the summary line, then what -h adds.
	Doc string
	// Args are the required positional arguments, in order.
	Args []string
	// Flags are the optional arguments, in order.
	Flags []Flag
}

// Flag is one optional argument of a target.
type Flag struct {
	// Name is the flag's name, without the dash.
	Name string
	// Type is its Go type: bool, string, int or time.Duration.
	Type string
	// Help is its comment, as -h prints it.
	Help string
}

// List describes every target, sorted by name, as -l and -h do.
func (t *Targets) List() []Target {
	list := make([]Target, len(t.funcs))
	for i, fn := range t.funcs {
		doc := strings.TrimSpace(fn.Comment)
		if rest, ok := strings.CutPrefix(doc, fn.Name+" "); ok {
			doc = rest
		}
		tg := Target{Name: t.shown(fn), Usage: t.usage(fn), Summary: summary(fn), Doc: doc}
		for _, a := range fn.RequiredArgs() {
			tg.Args = append(tg.Args, a.Name)
		}
		for _, a := range fn.OptionalArgs() {
			tg.Flags = append(tg.Flags, Flag{Name: a.Name, Type: a.Type, Help: a.Comment})
		}
		list[i] = tg
	}
	return list
}
