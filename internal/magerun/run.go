package magerun

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"
)

// Run is one run of the built targets.
type Run struct {
	// Args are the target words, checked by Targets.Check.
	Args []string
	// Dir is where the targets run.
	Dir string
	// Verbose, Debug and Timeout become MAGEFILE_VERBOSE, MAGEFILE_DEBUG
	// and MAGEFILE_TIMEOUT, which the built binary reads.
	Verbose, Debug bool
	Timeout        time.Duration
	// GoCmd becomes MAGEFILE_GOCMD.
	GoCmd string

	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// Exec runs the binary at exe and returns its exit code. It runs a private
// hard link to the binary, removed as soon as the process has started, so
// a build by another run in this checkout, which replaces exe, can never
// hand this run a half-written file.
func (r Run) Exec(exe string) (int, error) {
	private := fmt.Sprintf("%s.run-%d", exe, os.Getpid())
	if err := os.Link(exe, private); err != nil {
		return ExitFailed, fmt.Errorf("link the built targets for this run: %w", err)
	}
	cmd := exec.Command(private, r.Args...)
	cmd.Dir = r.Dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = r.Stdin, r.Stdout, r.Stderr
	cmd.Env = os.Environ()
	if r.Verbose {
		cmd.Env = append(cmd.Env, "MAGEFILE_VERBOSE=1")
	}
	if r.Debug {
		cmd.Env = append(cmd.Env, "MAGEFILE_DEBUG=1")
	}
	if r.GoCmd != "" {
		cmd.Env = append(cmd.Env, "MAGEFILE_GOCMD="+r.GoCmd)
	}
	if r.Timeout > 0 {
		cmd.Env = append(cmd.Env, "MAGEFILE_TIMEOUT="+r.Timeout.String())
	}
	// Ctrl-C reaches the targets, which cancel their context and clean up;
	// this process waits for them instead of dying first.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT)
	defer signal.Stop(sig)
	err := cmd.Start()
	if rmErr := os.Remove(private); rmErr != nil && err == nil {
		err = rmErr
	}
	if err != nil {
		return ExitFailed, fmt.Errorf("start the built targets: %w", err)
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), nil
	}
	if err != nil {
		return ExitFailed, fmt.Errorf("run the built targets: %w", err)
	}
	return ExitOK, nil
}
