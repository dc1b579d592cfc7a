package progress

import "github.com/wdiazux/infra/lib/plan"

// PrintEvents shows a plan's events (lib/plan) on a printer: a line when a
// step starts, its progress as a bar or its notes, and its result when it
// is done.
func PrintEvents(p *Printer) func(plan.Event) {
	current := ""
	return func(ev plan.Event) {
		if ev.Step != current {
			current = ev.Step
			p.Step(ev.Step)
		}
		switch {
		case ev.Done:
			p.Done(ev.Message)
			current = ""
		case ev.Percent >= 0:
			p.Update(ev.Percent, ev.Message)
		default:
			p.Note(ev.Message)
		}
	}
}
