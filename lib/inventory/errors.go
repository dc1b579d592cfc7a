package inventory

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Problem is one thing wrong with an inventory file.
type Problem struct {
	// File is the file name as given to Load or Parse.
	File string
	// Line is the 1-based line the problem concerns, or 0 when unknown.
	Line int
	// Path is the field path, e.g. "talos.nodes[0].ip"; empty for problems
	// that concern the file as a whole (malformed YAML).
	Path string
	// Message says what is wrong and, where it helps, what to do.
	Message string
}

// String renders the problem as "file:line: path: message".
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Error is returned by Load and Parse when the inventory is invalid. It holds
// every problem found, sorted by line.
type Error struct {
	Problems []Problem
}

// Error lists every problem, one per line.
func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// problems collects problems while a file is decoded and validated.
type problems struct {
	file string
	pos  positions
	list []Problem
	// failed holds the paths a problem was reported on, and the fields a
	// misspelled key stands for.
	failed map[string]bool
}

// at records a problem at an explicit line.
func (ps *problems) at(line int, path, format string, args ...any) {
	ps.list = append(ps.list, Problem{File: ps.file, Line: line, Path: path, Message: fmt.Sprintf(format, args...)})
	ps.failed[path] = true
}

// add records a problem at the line where path (or its nearest recorded
// parent) was written.
func (ps *problems) add(path, format string, args ...any) {
	ps.at(ps.pos.line(path), path, format, args...)
}

// err returns the collected problems as an *Error, or nil when there are none.
func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	list := slices.Clone(ps.list)
	slices.SortStableFunc(list, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), strings.Compare(a.Path, b.Path))
	})
	list = slices.Compact(list)
	return &Error{Problems: list}
}

// positions maps field paths to the line they were written on.
type positions map[string]int

// line returns the line of path, falling back to its nearest recorded parent.
func (p positions) line(path string) int {
	for path != "" {
		if l, ok := p[path]; ok {
			return l
		}
		path = parentPath(path)
	}
	return p[""]
}

// parentPath strips the last element from a field path:
// "a.b[2].c" → "a.b[2]" → "a.b" → "a" → "".
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}
