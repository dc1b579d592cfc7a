package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Printer shows steps and their progress on a writer (usually stderr).
type Printer struct {
	mu      sync.Mutex
	w       io.Writer
	tty     bool
	step    string
	started time.Time
	last    float64 // last percentage shown
	drawn   bool    // a bar is on the current line
	now     func() time.Time
}

// New returns a printer. On a terminal it redraws one bar in place;
// otherwise it prints a line at every 10%.
func New(w io.Writer) *Printer {
	return &Printer{w: w, tty: isTerminal(w), last: -1, now: time.Now}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Step starts a step.
func (p *Printer) Step(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.endLine()
	p.step, p.started, p.last = name, p.now(), -1
	fmt.Fprintf(p.w, "→ %s\n", name)
}

// Update reports the current step's progress, 0 to 100, with a detail.
func (p *Printer) Update(percent float64, detail string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if percent < 0 {
		return
	}
	percent = min(percent, 100)
	if p.tty {
		fmt.Fprintf(p.w, "\r  %s %5.1f%% %s\x1b[K", bar(percent, 30), percent, detail)
		p.drawn = true
		return
	}
	if decile(percent) > decile(p.last) || (percent == 100 && p.last < 100) {
		fmt.Fprintf(p.w, "  %s %5.1f%% %s\n", bar(percent, 30), percent, detail)
	}
	p.last = percent
}

// Done ends the current step with a result.
func (p *Printer) Done(result string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.endLine()
	took := p.now().Sub(p.started).Round(100 * time.Millisecond)
	fmt.Fprintf(p.w, "  ✓ %s (%s)\n", result, took)
}

// Note prints a line within the current step.
func (p *Printer) Note(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.endLine()
	fmt.Fprintf(p.w, "  %s\n", line)
}

func (p *Printer) endLine() {
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

// decile is the 10% band of a percentage; -1 before the first update.
func decile(percent float64) int {
	if percent < 0 {
		return -1
	}
	return int(percent / 10)
}

// bar renders a bar of width cells.
func bar(percent float64, width int) string {
	full := int(percent / 100 * float64(width))
	return "[" + strings.Repeat("#", full) + strings.Repeat("-", width-full) + "]"
}
