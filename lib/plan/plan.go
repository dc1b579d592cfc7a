package plan

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Action is what a run does to the object it manages, decided by
// inspecting it before anything changes.
type Action int

// The actions. The zero value is Unchanged: a plan with nothing to do.
const (
	// Unchanged: the object is as wanted.
	Unchanged Action = iota
	// Create: there is no object yet.
	Create
	// Repair: the object is this project's but half-made (an earlier run
	// stopped part-way); it is rebuilt.
	Repair
	// Replace: something else holds the object's place (another version,
	// or an object this project did not make) and is replaced.
	Replace
)

// String is the action's name: unchanged, create, repair or replace.
func (a Action) String() string {
	switch a {
	case Unchanged:
		return "unchanged"
	case Create:
		return "create"
	case Repair:
		return "repair"
	case Replace:
		return "replace"
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// Param is one key parameter of a call, as it is sent.
type Param struct {
	Key, Value string
}

// Call is one request a step sends that can change something.
type Call struct {
	// Method is the HTTP method.
	Method string
	// Base is the address of a service other than the main API (e.g. the
	// Image Factory's URL); "" for the main API, whose paths are relative
	// to its root (for Proxmox VE, /api2/json).
	Base string
	// Path is the API path, unescaped, without the query.
	Path string
	// Params are the key parameters, with the values sent.
	Params []Param
	// Note says, for people, what the call is about.
	Note string
}

// String is the call as a dry run shows it:
// "POST /nodes/pve/qemu vmid=9000 name=talos (note)".
func (c Call) String() string {
	var b strings.Builder
	b.WriteString(c.Method + " " + c.Base + c.Path)
	for _, p := range c.Params {
		b.WriteString(" " + p.Key + "=" + p.Value)
	}
	if c.Note != "" {
		b.WriteString(" (" + c.Note + ")")
	}
	return b.String()
}

// Progress reports a running step's progress: a percentage from 0 to 100,
// and what is happening.
type Progress func(percent float64, message string)

// Step is one unit of work of a plan.
type Step struct {
	// Name says what the step does, e.g. "download the image".
	Name string
	// Detail says what it works on, shown when it starts.
	Detail string
	// Metered steps report their progress in percent; they start at 0.
	Metered bool
	// Calls are the requests that can change something which Run sends
	// when it succeeds, in order.
	Calls []Call
	// Run does the step and returns what it did, for people.
	Run func(ctx context.Context, progress Progress) (string, error)
	// Undo, when set, removes what a failed run half-made: when this step
	// or a later one fails, Execute calls the Undo of the latest step that
	// started and has one, with the failure, on a context that is not
	// cancelled, and returns its error.
	Undo func(ctx context.Context, cause error) error
}

// Plan is what a run will do: the action, and the steps in order.
type Plan struct {
	Action Action
	Steps  []Step
}

// Calls are the requests the plan sends, in order: the dry run.
func (p Plan) Calls() []Call {
	var calls []Call
	for _, s := range p.Steps {
		calls = append(calls, s.Calls...)
	}
	return calls
}

// Event reports a step's progress.
type Event struct {
	// Step is the step's Name.
	Step string
	// Message says what happens, or happened when Done.
	Message string
	// Percent is the step's progress, or -1 when it reports none.
	Percent float64
	// Done marks the end of the step.
	Done bool
}

// Options are the optional settings of Execute.
type Options struct {
	// Events receives progress; nil drops it.
	Events func(Event)
	// AfterStep is called after each step that sent calls. An error stops
	// the run at once, without Undo, as if the process had been killed
	// there; tests use it to prove the next run repairs.
	AfterStep func(step string) error
}

// ErrStopped is wrapped in Execute's error when AfterStep stopped the run.
var ErrStopped = errors.New("stopped")

// Execute runs the steps in order and returns the calls of the steps that
// succeeded. A step that fails, or a context cancelled before a step
// starts, ends the run: the latest Undo of the steps started runs, and its
// error (or else the step's) is returned.
func (p Plan) Execute(ctx context.Context, o Options) ([]Call, error) {
	emit := o.Events
	if emit == nil {
		emit = func(Event) {}
	}
	var sent []Call
	undo := -1
	for i, s := range p.Steps {
		err := ctx.Err()
		if err == nil {
			if s.Undo != nil {
				undo = i
			}
			err = run(ctx, s, emit)
		}
		if err != nil {
			if undo >= 0 {
				err = p.Steps[undo].Undo(context.WithoutCancel(ctx), err)
			}
			return sent, err
		}
		sent = append(sent, s.Calls...)
		if len(s.Calls) > 0 && o.AfterStep != nil {
			if err := o.AfterStep(s.Name); err != nil {
				return sent, fmt.Errorf("%w after %q: %w", ErrStopped, s.Name, err)
			}
		}
	}
	return sent, nil
}

// run runs one step between its start and done events.
func run(ctx context.Context, s Step, emit func(Event)) error {
	start, end := -1.0, -1.0
	if s.Metered {
		start, end = 0, 100
	}
	emit(Event{Step: s.Name, Message: s.Detail, Percent: start})
	done, err := s.Run(ctx, func(percent float64, message string) {
		emit(Event{Step: s.Name, Message: message, Percent: percent})
	})
	if err != nil {
		return err
	}
	emit(Event{Step: s.Name, Message: done, Percent: end, Done: true})
	return nil
}
