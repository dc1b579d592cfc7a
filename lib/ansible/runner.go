package ansible

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/wdiazux/infra/internal/atomicfile"
	"github.com/wdiazux/infra/lib/inventory"
)

// DefaultDir is the Ansible directory, relative to the repository.
const DefaultDir = "ansible"

// Runner runs the playbooks and linters of an Ansible directory.
type Runner struct {
	dir         string
	out         io.Writer
	log         *slog.Logger
	generatedBy string
}

// Option configures a Runner.
type Option func(*Runner)

// WithOutput sets where the tools' output goes (default: stdout).
func WithOutput(w io.Writer) Option { return func(r *Runner) { r.out = w } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(r *Runner) { r.log = l } }

// WithGeneratedBy names, in the generated inventory's header, the command
// that makes it again (default: none).
func WithGeneratedBy(command string) Option { return func(r *Runner) { r.generatedBy = command } }

// New returns a runner for the Ansible directory dir (the one holding
// ansible.cfg).
func New(dir string, opts ...Option) *Runner {
	r := &Runner{dir: dir, out: os.Stdout, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(r)
	}
	return r
}

// WriteInventory renders inv's Ansible inventory into InventoryFile and
// reports whether the file changed.
func (r *Runner) WriteInventory(inv *inventory.Inventory) (string, bool, error) {
	data, err := Inventory(inv, r.generatedBy)
	if err != nil {
		return "", false, err
	}
	path := filepath.Join(r.dir, InventoryFile)
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return path, false, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return path, false, err
	}
	if err := atomicfile.Write(path, data, 0o644); err != nil {
		return path, false, err
	}
	return path, true, nil
}

// Playbooks lists the playbooks, by name without ".yml".
func (r *Runner) Playbooks() ([]string, error) {
	files, err := filepath.Glob(filepath.Join(r.dir, "playbooks", "*.yml"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range files {
		out = append(out, strings.TrimSuffix(filepath.Base(f), ".yml"))
	}
	slices.Sort(out)
	return out, nil
}

// ErrUnknownPlaybook means a playbook name matches no file of playbooks/.
var ErrUnknownPlaybook = errors.New("no such playbook")

// playbook resolves a playbook name ("day1_all_vms", with or without .yml).
func (r *Runner) playbook(name string) (string, error) {
	name = strings.TrimSuffix(filepath.Base(name), ".yml")
	all, err := r.Playbooks()
	if err != nil {
		return "", err
	}
	if !slices.Contains(all, name) {
		return "", fmt.Errorf("%w %q in %s/playbooks; the playbooks are %s", ErrUnknownPlaybook, name, r.dir, strings.Join(all, ", "))
	}
	return filepath.Join("playbooks", name+".yml"), nil
}

// RunOptions are the settings of Run.
type RunOptions struct {
	// Limit restricts the run to hosts or groups (ansible-playbook --limit).
	Limit string
	// Check and Diff are ansible-playbook's --check and --diff: report what
	// would change, and how.
	Check, Diff bool
	// Inventory replaces the generated inventory (a path, or "host,").
	Inventory string
	// ExtraVars are passed with -e, in key order.
	ExtraVars map[string]string
}

// Recap is one host's line of the play recap.
type Recap struct {
	Host                                                        string
	OK, Changed, Unreachable, Failed, Skipped, Rescued, Ignored int
}

// RunError is a failed ansible-playbook run, with the recap it printed.
type RunError struct {
	// Playbook is the playbook run.
	Playbook string
	// Recaps are the hosts' results, if the run got that far.
	Recaps []Recap
	// Err is the process's error.
	Err error
}

// Error names the playbook and the hosts that failed.
func (e *RunError) Error() string {
	var bad []string
	for _, r := range e.Recaps {
		if r.Failed > 0 || r.Unreachable > 0 {
			bad = append(bad, fmt.Sprintf("%s (failed=%d unreachable=%d)", r.Host, r.Failed, r.Unreachable))
		}
	}
	if len(bad) == 0 {
		return fmt.Sprintf("ansible-playbook %s: %v", e.Playbook, e.Err)
	}
	return fmt.Sprintf("ansible-playbook %s: %v: %s; the output above shows each failed task", e.Playbook, e.Err, strings.Join(bad, ", "))
}

// Unwrap returns the process's error.
func (e *RunError) Unwrap() error { return e.Err }

// ErrNoInventory means Run found no generated inventory (InventoryFile) to
// run against, and was given none.
var ErrNoInventory = errors.New("no generated inventory")

// Run runs a playbook with the directory's ansible.cfg, streaming its
// output, and returns each host's recap. Without RunOptions.Inventory it
// needs the generated one (ErrNoInventory).
func (r *Runner) Run(ctx context.Context, name string, o RunOptions) ([]Recap, error) {
	pb, err := r.playbook(name)
	if err != nil {
		return nil, err
	}
	args := []string{pb}
	if o.Inventory != "" {
		args = append(args, "-i", o.Inventory)
	} else if _, err := os.Stat(filepath.Join(r.dir, InventoryFile)); err != nil {
		return nil, fmt.Errorf("%w: %s: %w; write it from the inventory first (WriteInventory)", ErrNoInventory, filepath.Join(r.dir, InventoryFile), err)
	}
	if o.Limit != "" {
		args = append(args, "--limit", o.Limit)
	}
	if o.Check {
		args = append(args, "--check")
	}
	if o.Diff {
		args = append(args, "--diff")
	}
	for _, k := range slices.Sorted(maps.Keys(o.ExtraVars)) {
		args = append(args, "-e", k+"="+o.ExtraVars[k])
	}
	var captured bytes.Buffer
	r.log.Info("running a playbook", "playbook", pb, "args", strings.Join(args[1:], " "))
	err = r.command(ctx, io.MultiWriter(r.out, &captured), "ansible-playbook", args...)
	recaps := ParseRecap(captured.String())
	if err != nil {
		return recaps, &RunError{Playbook: pb, Recaps: recaps, Err: err}
	}
	return recaps, nil
}

// command runs a tool in the directory with its ansible.cfg.
func (r *Runner) command(ctx context.Context, out io.Writer, name string, args ...string) error {
	if _, err := exec.LookPath(name); err != nil {
		return fmt.Errorf("%s is not installed: %w (the Nix shell has it; on Debian: apt-get install ansible ansible-lint yamllint)", name, err)
	}
	cfg, err := filepath.Abs(filepath.Join(r.dir, "ansible.cfg"))
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(), "ANSIBLE_CONFIG="+cfg, "ANSIBLE_NOCOLOR=1", "ANSIBLE_FORCE_COLOR=0", "PY_COLORS=0")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return nil
}

var recapLine = regexp.MustCompile(`^(\S+)\s+:\s+((?:\w+=\d+\s*)+)$`)

// ParseRecap reads the PLAY RECAP section of ansible-playbook's output.
func ParseRecap(output string) []Recap {
	var out []Recap
	sc := bufio.NewScanner(strings.NewReader(output))
	in := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "PLAY RECAP") {
			in = true
			continue
		}
		m := recapLine.FindStringSubmatch(line)
		if !in || m == nil {
			continue
		}
		rc := Recap{Host: m[1]}
		for _, kv := range strings.Fields(m[2]) {
			k, v, _ := strings.Cut(kv, "=")
			n, _ := strconv.Atoi(v)
			switch k {
			case "ok":
				rc.OK = n
			case "changed":
				rc.Changed = n
			case "unreachable":
				rc.Unreachable = n
			case "failed":
				rc.Failed = n
			case "skipped":
				rc.Skipped = n
			case "rescued":
				rc.Rescued = n
			case "ignored":
				rc.Ignored = n
			}
		}
		out = append(out, rc)
	}
	return out
}

// AnsibleLint runs ansible-lint with the production profile over the
// directory, with args added (-p prints one violation a line, "file:line:
// rule: message", for a program to read), its output going to the
// Runner's output. The error wraps the command's (an *exec.ExitError
// with ansible-lint's exit status when it refused something).
func (r *Runner) AnsibleLint(ctx context.Context, args ...string) error {
	return r.command(ctx, r.out, "ansible-lint", append([]string{"--nocolor", "--profile", "production"}, args...)...)
}

// Lint runs yamllint and ansible-lint (production profile) over the
// directory, and ansible-playbook --syntax-check over every playbook. Every
// check runs; the error joins the failures.
func (r *Runner) Lint(ctx context.Context, inv *inventory.Inventory) error {
	var errs []error
	if _, _, err := r.WriteInventory(inv); err != nil {
		return err
	}
	errs = append(errs, r.command(ctx, r.out, "yamllint", "--strict", "-c", ".yamllint", "."))
	errs = append(errs, r.AnsibleLint(ctx))
	pbs, err := r.Playbooks()
	if err != nil {
		return err
	}
	for _, pb := range pbs {
		errs = append(errs, r.command(ctx, r.out, "ansible-playbook", "--syntax-check", filepath.Join("playbooks", pb+".yml")))
	}
	return errors.Join(errs...)
}
