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

// MaxProblems is the number of problems an *Error lists; a badly broken file
// can have millions, and the rest are only counted.
const MaxProblems = 50

// Error is returned by Load and Parse when the inventory is invalid. It holds
// the first MaxProblems problems in file order and counts the others.
type Error struct {
	// Problems are the first problems found, sorted by line.
	Problems []Problem
	// Omitted is the number of further problems, not listed.
	Omitted int
}

// Total is the number of problems found, listed or not.
func (e *Error) Total() int { return len(e.Problems) + e.Omitted }

// Error lists the problems one per line, then "... and N more problem(s)"
// when some were omitted.
func (e *Error) Error() string {
	lines := make([]string, len(e.Problems), len(e.Problems)+1)
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	if e.Omitted > 0 {
		lines = append(lines, fmt.Sprintf("... and %d more problem(s)", e.Omitted))
	}
	return strings.Join(lines, "\n")
}

// problems collects problems while a file is decoded and validated. It keeps
// the first MaxProblems in file order and only counts the others, without
// formatting their messages.
type problems struct {
	file string
	pos  positions
	list []Problem
	// omitted counts the problems left out of list.
	omitted int
	// full is set once list holds MaxProblems problems that sort before
	// any later one past last; those are only counted.
	full bool
	last Problem
	// failed holds the paths a problem was reported on, and the fields a
	// misspelled key stands for.
	failed map[string]bool
}

// at records a problem at an explicit line.
func (ps *problems) at(line int, path, format string, args ...any) {
	ps.failed[path] = true
	if ps.full && compareProblems(Problem{Line: line, Path: path}, ps.last) > 0 {
		ps.omitted++
		return
	}
	ps.list = append(ps.list, Problem{File: ps.file, Line: line, Path: path, Message: fmt.Sprintf(format, args...)})
	if len(ps.list) >= 2*MaxProblems {
		ps.trim()
	}
}

// trim sorts the kept problems and drops, counting them, all but the first
// MaxProblems.
func (ps *problems) trim() {
	slices.SortStableFunc(ps.list, compareProblems)
	ps.list = slices.Compact(ps.list)
	if len(ps.list) <= MaxProblems {
		return
	}
	ps.omitted += len(ps.list) - MaxProblems
	clear(ps.list[MaxProblems:])
	ps.list = ps.list[:MaxProblems]
	ps.full, ps.last = true, ps.list[MaxProblems-1]
}

// compareProblems orders problems by line, then by field path.
func compareProblems(a, b Problem) int {
	return cmp.Or(cmp.Compare(a.Line, b.Line), strings.Compare(a.Path, b.Path))
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
	ps.trim()
	return &Error{Problems: slices.Clone(ps.list), Omitted: ps.omitted}
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
