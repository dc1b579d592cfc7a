package lint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// StepFailure is one step that failed: it found problems, or it could
// not run (Err).
type StepFailure struct {
	// Step is the step's name.
	Step string
	// Findings is how many problems it found.
	Findings int
	// Err is why it could not run; nil when it ran and found problems.
	Err error
}

// FailedError is the error of Run when steps failed; it names each.
type FailedError struct {
	// Failed are the failed steps, in run order.
	Failed []StepFailure
}

// Error names every failed step with its findings or its error.
func (e *FailedError) Error() string {
	parts := make([]string, len(e.Failed))
	for i, f := range e.Failed {
		if f.Err != nil {
			parts[i] = fmt.Sprintf("%s could not run: %v", f.Step, f.Err)
		} else {
			parts[i] = fmt.Sprintf("%s found %d problem(s)", f.Step, f.Findings)
		}
	}
	return "lint failed: " + strings.Join(parts, "; ") + " (each finding is printed above as file:line: tool rule: message)"
}

// Unwrap returns the errors of the steps that could not run.
func (e *FailedError) Unwrap() []error {
	var errs []error
	for _, f := range e.Failed {
		if f.Err != nil {
			errs = append(errs, f.Err)
		}
	}
	return errs
}

// Steps returns the names of the failed steps.
func (e *FailedError) Steps() []string {
	names := make([]string, len(e.Failed))
	for i, f := range e.Failed {
		names[i] = f.Step
	}
	return names
}

// ErrUnknownStep says -only named a step that does not exist.
var ErrUnknownStep = errors.New("no such lint step")

// Select returns the steps named in only, in the order of steps; none
// named returns every step. A name that is no step is refused with the
// names there are.
func Select(steps []Step, only []string) ([]Step, error) {
	if len(only) == 0 {
		return steps, nil
	}
	names := make([]string, len(steps))
	for i, s := range steps {
		names[i] = s.Name
	}
	var unknown []string
	for _, n := range only {
		if !slices.Contains(names, n) {
			unknown = append(unknown, strconv.Quote(n))
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("%w: %s; the steps are %s", ErrUnknownStep, strings.Join(unknown, ", "), strings.Join(names, ", "))
	}
	var out []Step
	for _, s := range steps {
		if slices.Contains(only, s.Name) {
			out = append(out, s)
		}
	}
	return out, nil
}

// Run runs every step, each even after another failed, prints each
// finding on its own line (Finding.String) and then a summary table
// (STEP, FILES, FINDINGS, RESULT, TIME, and FIXED with Env.Fix) to
// env.Out, and returns a *FailedError naming the steps that found
// problems or could not run. The steps over the rendered add-on manifests
// (trivy, kubeconform) share one rendering, removed when Run returns.
func Run(ctx context.Context, env *Env, steps []Step) error {
	if env.Out == nil {
		env.Out = io.Discard
	}
	if env.Log == nil {
		env.Log = slog.New(slog.DiscardHandler)
	}
	if env.renders == nil {
		// The manifest steps (trivy, kubeconform) render the add-on
		// charts once for the run; the folder goes when the run ends.
		c := &renderCache{}
		env.renders = c
		defer func() {
			c.close()
			env.renders = nil
		}()
	}
	type row struct {
		name   string
		res    Result
		err    error
		took   time.Duration
		result string
	}
	var rows []row
	var failed []StepFailure
	for _, step := range steps {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("lint interrupted before %s: %w", step.Name, err)
		}
		env.Log.Info("lint step", "step", step.Name)
		start := time.Now()
		res, err := step.Run(ctx, env)
		r := row{name: step.Name, res: res, err: err, took: time.Since(start), result: "ok"}
		for _, f := range res.Findings {
			fmt.Fprintln(env.Out, f.String())
		}
		switch {
		case err != nil:
			r.result = "ERROR"
			fmt.Fprintf(env.Out, "%s: could not run: %v\n", step.Name, err)
			failed = append(failed, StepFailure{Step: step.Name, Findings: len(res.Findings), Err: err})
		case len(res.Findings) > 0:
			r.result = "FAIL"
			failed = append(failed, StepFailure{Step: step.Name, Findings: len(res.Findings)})
		case env.RequireFiles && res.Files == 0 && res.Note == "":
			r.result = "FAIL"
			err := errors.New("checked no file: the repository has none of the files this step checks, or the step did not find them")
			fmt.Fprintf(env.Out, "%s: %v\n", step.Name, err)
			failed = append(failed, StepFailure{Step: step.Name, Err: err})
		case res.Note != "":
			r.result = "ok (" + res.Note + ")"
		}
		rows = append(rows, r)
	}
	tw := tabwriter.NewWriter(env.Out, 0, 0, 2, ' ', 0)
	header := "\nSTEP\tFILES\tFINDINGS\tRESULT\tTIME"
	if env.Fix {
		header += "\tFIXED"
	}
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		line := fmt.Sprintf("%s\t%d\t%d\t%s\t%s", r.name, r.res.Files, len(r.res.Findings), r.result, r.took.Round(100*time.Millisecond))
		if env.Fix {
			line += "\t" + strconv.Itoa(len(r.res.Fixed))
		}
		fmt.Fprintln(tw, line)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write the lint summary: %w", err)
	}
	if len(failed) > 0 {
		return &FailedError{Failed: failed}
	}
	return nil
}
