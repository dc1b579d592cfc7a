package magerun

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/magefile/mage/mage"
	"github.com/magefile/mage/mg"
)

// Exit codes of Main. Through `go run`, every non-zero code becomes 1 and
// go run prints "exit status N"; the compiled runner keeps them.
const (
	ExitOK      = 0
	ExitFailed  = 1
	ExitUsage   = 2
	usageHeader = `Usage: ` + Command + ` [-v] [-t DURATION] [-w DIR] <target> [arguments] [-flag=value] [<target> …]
       ` + Command + ` -l            list the targets
       ` + Command + ` -h <target>   explain a target and its flags

Runner flags:
`
)

// runner holds the runner's own flags, those before the first target.
type runner struct {
	list, help, verbose, debug, force bool
	timeout                           time.Duration
	workDir                           string
}

func parseRunner(args []string, stderr io.Writer) (runner, []string, error) {
	var r runner
	fs := flag.NewFlagSet(Command, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&r.list, "l", false, "list the targets")
	fs.BoolVar(&r.help, "h", false, "explain the target that follows")
	fs.BoolVar(&r.verbose, "v", mg.Verbose(), "log debug detail while targets run (also MAGEFILE_VERBOSE=1)")
	fs.BoolVar(&r.debug, "debug", mg.Debug(), "have Mage log what it does (also MAGEFILE_DEBUG=1)")
	fs.BoolVar(&r.force, "f", false, "rebuild the targets from scratch")
	fs.DurationVar(&r.timeout, "t", 0, "cancel the targets after this long (e.g. 30m)")
	fs.StringVar(&r.workDir, "w", "", "directory the targets run in (default: the current one)")
	fs.Usage = func() {
		fmt.Fprint(stderr, usageHeader)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return r, nil, err
	}
	return r, fs.Args(), nil
}

// gnuFlags lets a person type --json or --dry-run: Mage spells a target's
// flag with one dash and the Go parameter's name (-json, -dryrun).
func gnuFlags(args []string) []string {
	out := make([]string, len(args))
	for i, arg := range args {
		out[i] = arg
		if strings.HasPrefix(arg, "--") && len(arg) > 2 {
			name, value, hasValue := strings.Cut(arg[2:], "=")
			out[i] = "-" + strings.ReplaceAll(name, "-", "")
			if hasValue {
				out[i] += "=" + value
			}
		}
	}
	return out
}

// Main runs the command line args (without the program name) from the
// current directory, which must hold magefiles/, and returns the exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	r, rest, err := parseRunner(gnuFlags(args), stderr)
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	if err != nil {
		return ExitUsage
	}
	root, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(stderr, "Error: the current directory: %v\n", err)
		return ExitFailed
	}
	goCmd := mg.GoCmd()
	targets, err := LoadTargets(goCmd, filepath.Join(root, mage.MagefilesDirName))
	if err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return ExitFailed
	}
	switch {
	case r.list || (len(rest) == 0 && !r.help):
		if err := targets.WriteList(stdout); err != nil {
			return ExitFailed
		}
		return ExitOK
	case r.help && len(rest) == 0:
		fmt.Fprint(stderr, usageHeader)
		return ExitOK
	case r.help:
		return report(stderr, targets.WriteHelp(stdout, rest[0]))
	}
	group, err := targets.GroupFor(rest)
	if err != nil {
		return report(stderr, err)
	}
	canonical, err := targets.Canonical(rest)
	if err != nil {
		return report(stderr, err)
	}
	cache := mg.CacheDir()
	if r.force {
		if err := os.Remove(Executable(cache, root, group)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return report(stderr, err)
		}
	}
	exe, err := targets.Build(root, group, BuildOptions{GoCmd: goCmd, CacheDir: cache, Progress: stderr}, stdout, stderr)
	if err != nil {
		return report(stderr, err)
	}
	workDir := root
	if r.workDir != "" {
		workDir = r.workDir
	}
	code, err := Run{
		Args: canonical, Dir: workDir, Verbose: r.verbose, Debug: r.debug, Timeout: r.timeout, GoCmd: goCmd,
		Stdin: stdin, Stdout: stdout, Stderr: stderr,
	}.Exec(exe)
	if err != nil {
		return report(stderr, err)
	}
	return code
}

// report prints err and returns its exit code: 2 for a command line that
// cannot run, 1 for anything else.
func report(stderr io.Writer, err error) int {
	if err == nil {
		return ExitOK
	}
	fmt.Fprintf(stderr, "Error: %v\n", err)
	var usage *UsageError
	if errors.As(err, &usage) {
		return ExitUsage
	}
	return ExitFailed
}
