package progress

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/wdiazux/infra/lib/plan"
)

// Lines shows jobs that run in parallel (one import per OS) with one status
// line per job. On a terminal the lines are redrawn in place; elsewhere
// (CI logs) each finished step is one line, prefixed with its job.
type Lines struct {
	mu     sync.Mutex
	w      io.Writer
	tty    bool
	names  []string
	status map[string]string
	width  int
	drawn  bool
}

// NewLines returns the lines of the named jobs, in that order.
func NewLines(w io.Writer, names []string) *Lines { return newLines(w, names, isTerminal(w)) }

func newLines(w io.Writer, names []string, tty bool) *Lines {
	width := 0
	for _, n := range names {
		width = max(width, len(n))
	}
	return &Lines{w: w, tty: tty, names: slices.Clone(names), status: map[string]string{}, width: width}
}

// Events shows a plan's events as the named job's line.
func (l *Lines) Events(name string) func(plan.Event) {
	return func(ev plan.Event) {
		switch {
		case ev.Done:
			l.set(name, ev.Step+": "+ev.Message, "✓ "+ev.Step+": "+ev.Message)
		case ev.Percent >= 0:
			l.set(name, fmt.Sprintf("%s %3.0f%%: %s", ev.Step, min(ev.Percent, 100), ev.Message), "")
		default:
			l.set(name, ev.Step+": "+ev.Message, "")
		}
	}
}

// Finish sets the job's last line: its outcome.
func (l *Lines) Finish(name, outcome string) { l.set(name, outcome, outcome) }

// set changes a job's status; logged, when not "", is its log line.
func (l *Lines) set(name, status, logged string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	prefix := name + strings.Repeat(" ", l.width-len(name)) + "  "
	if !l.tty {
		if logged != "" {
			fmt.Fprintln(l.w, prefix+logged)
		}
		return
	}
	l.status[name] = status
	var b strings.Builder
	if l.drawn {
		fmt.Fprintf(&b, "\x1b[%dA", len(l.names))
	}
	for _, n := range l.names {
		fmt.Fprintf(&b, "\r\x1b[K%s%s\n", n+strings.Repeat(" ", l.width-len(n))+"  ", l.status[n])
	}
	l.drawn = true
	_, _ = io.WriteString(l.w, b.String())
}
