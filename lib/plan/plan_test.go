package plan_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/plan"
)

func TestActionString(t *testing.T) {
	for a, want := range map[plan.Action]string{plan.Unchanged: "unchanged", plan.Create: "create", plan.Repair: "repair",
		plan.Replace: "replace", plan.Action(9): "Action(9)"} {
		require.Equal(t, want, a.String())
	}
	var zero plan.Plan
	require.Equal(t, plan.Unchanged, zero.Action, "a zero plan changes nothing")
}

func TestCallString(t *testing.T) {
	tests := []struct {
		call plan.Call
		want string
	}{
		{plan.Call{Method: "POST", Path: "/nodes/pve/qemu/9000/template"}, "POST /nodes/pve/qemu/9000/template"},
		{plan.Call{Method: "POST", Path: "/nodes/pve/qemu", Params: []plan.Param{{"vmid", "9000"}, {"name", "talos"}}},
			"POST /nodes/pve/qemu vmid=9000 name=talos"},
		{plan.Call{Method: "POST", Base: "http://127.0.0.1:8080", Path: "/schematics", Note: "schematic abc"},
			"POST http://127.0.0.1:8080/schematics (schematic abc)"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, tt.call.String())
	}
}

// recorder is a plan whose steps record what ran.
type recorder struct {
	ran, undone []string
	undoCause   error
	undoCtxErr  error
}

func (r *recorder) step(name string, calls int, fail error) plan.Step {
	s := plan.Step{Name: name, Detail: "on " + name}
	for i := range calls {
		s.Calls = append(s.Calls, plan.Call{Method: "POST", Path: fmt.Sprintf("/%s/%d", name, i)})
	}
	s.Run = func(ctx context.Context, progress plan.Progress) (string, error) {
		r.ran = append(r.ran, name)
		return name + " done", fail
	}
	return s
}

func (r *recorder) withUndo(s plan.Step) plan.Step {
	s.Undo = func(ctx context.Context, cause error) error {
		r.undone = append(r.undone, s.Name)
		r.undoCause, r.undoCtxErr = cause, ctx.Err()
		return fmt.Errorf("%w (cleaned up)", cause)
	}
	return s
}

func TestExecute(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name       string
		steps      func(r *recorder) []plan.Step
		cancelAt   string // the step whose Run cancels the context
		wantRan    []string
		wantSent   int
		wantUndone []string
		wantErr    string
	}{
		{name: "every step runs in order", steps: func(r *recorder) []plan.Step {
			return []plan.Step{r.step("a", 1, nil), r.step("b", 0, nil), r.step("c", 2, nil)}
		}, wantRan: []string{"a", "b", "c"}, wantSent: 3},
		{name: "a failure before any Undo stops the run, nothing is undone", steps: func(r *recorder) []plan.Step {
			return []plan.Step{r.step("a", 1, nil), r.step("b", 1, boom), r.withUndo(r.step("c", 1, nil))}
		}, wantRan: []string{"a", "b"}, wantSent: 1, wantErr: "boom"},
		{name: "the failing step's own Undo runs", steps: func(r *recorder) []plan.Step {
			return []plan.Step{r.step("a", 1, nil), r.withUndo(r.step("b", 1, boom)), r.step("c", 1, nil)}
		}, wantRan: []string{"a", "b"}, wantSent: 1, wantUndone: []string{"b"}, wantErr: "boom (cleaned up)"},
		{name: "a later failure runs the latest Undo once", steps: func(r *recorder) []plan.Step {
			return []plan.Step{r.withUndo(r.step("a", 1, nil)), r.withUndo(r.step("b", 1, nil)), r.step("c", 1, nil), r.step("d", 1, boom)}
		}, wantRan: []string{"a", "b", "c", "d"}, wantSent: 3, wantUndone: []string{"b"}, wantErr: "boom (cleaned up)"},
		{name: "a cancelled context stops before the next step and still undoes", steps: func(r *recorder) []plan.Step {
			return []plan.Step{r.withUndo(r.step("a", 1, nil)), r.step("b", 1, nil), r.step("c", 1, nil)}
		}, cancelAt: "b", wantRan: []string{"a", "b"}, wantSent: 2, wantUndone: []string{"a"}, wantErr: "context canceled (cleaned up)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{}
			p := plan.Plan{Action: plan.Create, Steps: tt.steps(r)}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancelAt != "" {
				for i, s := range p.Steps {
					if s.Name == tt.cancelAt {
						run := s.Run
						p.Steps[i].Run = func(ctx context.Context, progress plan.Progress) (string, error) {
							cancel()
							return run(ctx, progress)
						}
					}
				}
			}
			sent, err := p.Execute(ctx, plan.Options{})
			require.Equal(t, tt.wantRan, r.ran)
			require.Equal(t, p.Calls()[:tt.wantSent], sent, "the calls of the steps that succeeded")
			require.Equal(t, tt.wantUndone, r.undone)
			if tt.wantErr == "" {
				require.NoError(t, err)
				require.Equal(t, p.Calls(), sent)
				return
			}
			require.EqualError(t, err, tt.wantErr)
			if tt.wantUndone != nil {
				require.Error(t, r.undoCause)
				require.NoError(t, r.undoCtxErr, "Undo runs on a context that is not cancelled")
			}
		})
	}
}

func TestExecuteStopsAfterAStepWithoutUndo(t *testing.T) {
	r := &recorder{}
	p := plan.Plan{Steps: []plan.Step{r.withUndo(r.step("a", 1, nil)), r.step("b", 0, nil), r.step("c", 1, nil), r.step("d", 1, nil)}}
	killed := errors.New("killed")
	var asked []string
	sent, err := p.Execute(context.Background(), plan.Options{AfterStep: func(step string) error {
		asked = append(asked, step)
		if step == "c" {
			return killed
		}
		return nil
	}})
	require.ErrorIs(t, err, plan.ErrStopped)
	require.ErrorIs(t, err, killed)
	require.EqualError(t, err, `stopped after "c": killed`)
	require.Equal(t, []string{"a", "c"}, asked, "asked only after steps that sent calls")
	require.Equal(t, []string{"a", "b", "c"}, r.ran)
	require.Len(t, sent, 2)
	require.Empty(t, r.undone, "a stop is a crash: nothing is undone")
}

func TestExecuteEvents(t *testing.T) {
	p := plan.Plan{Steps: []plan.Step{
		{Name: "download", Detail: "image.qcow2", Metered: true, Run: func(ctx context.Context, progress plan.Progress) (string, error) {
			progress(50, "half")
			return "downloaded", nil
		}},
		{Name: "check", Detail: "the host", Run: func(context.Context, plan.Progress) (string, error) { return "fine", nil }},
	}}
	var events []plan.Event
	_, err := p.Execute(context.Background(), plan.Options{Events: func(ev plan.Event) { events = append(events, ev) }})
	require.NoError(t, err)
	require.Equal(t, []plan.Event{
		{Step: "download", Message: "image.qcow2", Percent: 0},
		{Step: "download", Message: "half", Percent: 50},
		{Step: "download", Message: "downloaded", Percent: 100, Done: true},
		{Step: "check", Message: "the host", Percent: -1},
		{Step: "check", Message: "fine", Percent: -1, Done: true},
	}, events)
}
