package toolchain

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// Output is what a command printed and how it exited.
type Output struct {
	// Stdout and Stderr are what it printed.
	Stdout, Stderr []byte
	// Code is its exit status.
	Code int
}

// RunOutput runs name with args and returns what it printed and its exit
// status, for a checker that reads a report and whose non-zero status
// means "found something". Only a command that does not start or is
// killed is an error, naming the command and its stderr.
func RunOutput(ctx context.Context, name string, args ...string) (Output, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	out := Output{Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		out.Code = exit.ExitCode()
	default:
		return out, fmt.Errorf("run %s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}
