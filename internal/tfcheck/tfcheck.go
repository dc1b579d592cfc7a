package tfcheck

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/wdiazux/infra/internal/toolchain"
	"github.com/wdiazux/infra/internal/trivyscan"
	"github.com/wdiazux/infra/lib/inventory"
)

const (
	// Dir is the directory below the repository root that holds the
	// Terraform code: the stacks and terraform/modules.
	Dir = "terraform"
	// TFLintConfig is tflint's configuration, at the repository root.
	TFLintConfig = ".tflint.hcl"
	// TrivyIgnore is trivy's ignore file, at the repository root: the
	// findings accepted on purpose, each with its reason.
	TrivyIgnore = ".trivyignore.yaml"
	// Severities are the severities of trivy's findings the checks report.
	Severities = trivyscan.Severities
)

// The checks, as a Finding names them.
const (
	CheckFmt      = "fmt"
	CheckValidate = "validate"
	CheckTFLint   = "tflint"
	CheckTrivy    = "trivy"
)

// Tools are the commands the checks run and the providers terraform init
// installs.
type Tools struct {
	// Terraform, TFLint and Trivy are the binaries' paths.
	Terraform, TFLint, Trivy string
	// Cache is the tool cache the providers are built in.
	Cache string
	// Providers are the Terraform providers, each a filesystem mirror in
	// Cache (toolchain.GoTool with TerraformProvider set).
	Providers []toolchain.GoTool
}

// Finding is one problem a check found.
type Finding struct {
	// Check is CheckFmt, CheckValidate, CheckTFLint or CheckTrivy.
	Check string
	// File is the file, relative to the repository root (a directory
	// when the tool names no file); Line is its line, 0 when unknown.
	File string
	Line int
	// Rule is the tool's name for the problem: tflint's rule, trivy's
	// check ID; empty for fmt and validate.
	Rule string
	// Severity is the tool's severity (validate: error or warning; tflint:
	// error, warning or notice; trivy: HIGH or CRITICAL).
	Severity string
	// Message says what is wrong.
	Message string
	// Exit is the exit status of the tool's run that reported it.
	Exit int
}

// String renders the finding as "file:line: check rule (severity): message".
func (f Finding) String() string {
	var b strings.Builder
	b.WriteString(f.File)
	if f.Line > 0 {
		b.WriteString(":" + strconv.Itoa(f.Line))
	}
	b.WriteString(": " + f.Check)
	if f.Rule != "" {
		b.WriteString(" " + f.Rule)
	}
	if f.Severity != "" {
		b.WriteString(" (" + f.Severity + ")")
	}
	b.WriteString(": " + f.Message)
	return b.String()
}

// FindingsError is the error of Check when the checks found problems.
type FindingsError struct {
	// Findings are the problems, sorted by file and line.
	Findings []Finding
}

// Error lists every finding, one a line.
func (e *FindingsError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d finding(s) in the Terraform code; fix them (terraform fmt rewrites the formatting) or, for trivy, accept one in %s with its reason:", len(e.Findings), TrivyIgnore)
	for _, f := range e.Findings {
		b.WriteString("\n  " + f.String())
	}
	return b.String()
}

// Checker runs the checks over one repository.
type Checker struct {
	root        string
	tools       Tools
	log         *slog.Logger
	tflintCfg   string
	trivyIgnore string
}

// Option configures a Checker.
type Option func(*Checker)

// WithLogger sets the logger that reports each check (default: discard).
func WithLogger(l *slog.Logger) Option { return func(c *Checker) { c.log = l } }

// WithTFLintConfig sets tflint's configuration file (default: TFLintConfig
// at the root).
func WithTFLintConfig(path string) Option { return func(c *Checker) { c.tflintCfg = path } }

// WithTrivyIgnore sets trivy's ignore file (default: TrivyIgnore at the
// root).
func WithTrivyIgnore(path string) Option { return func(c *Checker) { c.trivyIgnore = path } }

// New returns the checker of the repository at root.
func New(root string, tools Tools, opts ...Option) *Checker {
	c := &Checker{
		root:        root,
		tools:       tools,
		log:         slog.New(slog.DiscardHandler),
		tflintCfg:   filepath.Join(root, TFLintConfig),
		trivyIgnore: filepath.Join(root, TrivyIgnore),
	}
	for _, opt := range opts {
		opt(c)
	}
	return c
}

// Check runs every check over the repository at root (see Checker.Run)
// and returns a *FindingsError when they found problems. It is what a
// target linting the Terraform code calls.
func Check(ctx context.Context, root string, tools Tools, opts ...Option) error {
	findings, err := New(root, tools, opts...).Run(ctx)
	if err != nil {
		return err
	}
	if len(findings) > 0 {
		return &FindingsError{Findings: findings}
	}
	return nil
}

// Dirs returns every directory below root/terraform that holds a *.tf
// file, relative to root and sorted; hidden directories (.terraform) are
// skipped.
func Dirs(root string) ([]string, error) {
	var dirs []string
	top := filepath.Join(root, Dir)
	err := filepath.WalkDir(top, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != top && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if filepath.Ext(d.Name()) != ".tf" {
			return nil
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		if !slices.Contains(dirs, rel) {
			dirs = append(dirs, rel)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("find the Terraform directories under %s: %w", top, err)
	}
	slices.Sort(dirs)
	return dirs, nil
}

// Run runs the checks over every directory of Dirs: terraform fmt -check,
// terraform validate and tflint in each, then trivy config over the whole
// terraform/ tree, and returns what they found, sorted by file and line.
// An error means a check could not run (a tool missing or failing, no
// Terraform directory, an ignore file without reasons), not that it found
// something.
func (c *Checker) Run(ctx context.Context) ([]Finding, error) {
	dirs, err := Dirs(c.root)
	if err != nil {
		return nil, err
	}
	if len(dirs) == 0 {
		return nil, fmt.Errorf("no directory with *.tf files under %s: nothing to check", filepath.Join(c.root, Dir))
	}
	all, err := c.Lint(ctx, dirs)
	if err != nil {
		return nil, err
	}
	found, err := c.Trivy(ctx, Dir)
	if err != nil {
		return nil, err
	}
	all = append(all, found...)
	sortFindings(all)
	c.log.Info("checked the Terraform code", "directories", len(dirs), "findings", len(all))
	return all, nil
}

// Lint runs terraform fmt -check, terraform validate and tflint in each
// of dirs (relative to the root; see Dirs) and returns what they found,
// sorted by file and line: the checks of Run but trivy, which runs on its
// own (Trivy). It needs the tools LookupTools returns for CheckFmt,
// CheckValidate and CheckTFLint.
func (c *Checker) Lint(ctx context.Context, dirs []string) ([]Finding, error) {
	var all []Finding
	for _, dir := range dirs {
		for _, check := range []func(context.Context, string) ([]Finding, error){c.Fmt, c.Validate, c.TFLint} {
			found, err := check(ctx, dir)
			if err != nil {
				return nil, err
			}
			all = append(all, found...)
		}
	}
	sortFindings(all)
	return all, nil
}

// FmtWrite runs terraform fmt on dir (relative to the root), rewriting
// the files it would change, and returns them, relative to the root.
func (c *Checker) FmtWrite(ctx context.Context, dir string) ([]string, error) {
	r, err := c.fmt(ctx, "-list=true", "-write=true", "-no-color", dir)
	if err != nil {
		return nil, err
	}
	if r.code != 0 {
		return nil, fmt.Errorf("terraform fmt %s exited with status %d: %s", dir, r.code, strings.TrimSpace(r.stdout+r.stderr))
	}
	var fixed []string
	for _, line := range strings.Split(r.stdout, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			fixed = append(fixed, filepath.Clean(line))
		}
	}
	return fixed, nil
}

// withExit sets the exit status of each finding to code.
func withExit(fs []Finding, code int) []Finding {
	for i := range fs {
		fs[i].Exit = code
	}
	return fs
}

// sortFindings orders findings by file, line and check.
func sortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Check, b.Check))
	})
}

// result is what a command printed and how it exited.
type result struct {
	stdout, stderr string
	code           int
}

// run runs name with args in dir (relative to the root) with env added to
// the environment. A command that does not start or is killed is an error;
// an exit status is not.
func (c *Checker) run(ctx context.Context, dir string, env []string, name string, args ...string) (result, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = filepath.Join(c.root, dir)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		r.code = exit.ExitCode()
	default:
		return r, fmt.Errorf("run %s %s in %s: %w: %s", name, strings.Join(args, " "), cmd.Dir, err, strings.TrimSpace(r.stderr))
	}
	return r, nil
}

// terraformEnv is the environment of every terraform command: the CLI
// configuration in dir that installs providers only from the tool cache,
// no prompts, no update check.
func (c *Checker) terraformEnv(dir string) ([]string, error) {
	rc := filepath.Join(dir, ".terraformrc")
	if err := toolchain.WriteTerraformCLIConfig(rc, c.tools.Cache, c.tools.Providers); err != nil {
		return nil, fmt.Errorf("terraform checks: %w", err)
	}
	return []string{"TF_CLI_CONFIG_FILE=" + rc, "TF_IN_AUTOMATION=1", "TF_INPUT=0", "CHECKPOINT_DISABLE=1"}, nil
}

// Fmt runs terraform fmt -check -diff on dir (relative to the root): one
// finding per file that is not formatted, at its first line that changes,
// with the diff; a file that does not parse is one finding with
// terraform's error.
func (c *Checker) Fmt(ctx context.Context, dir string) ([]Finding, error) {
	r, err := c.fmt(ctx, "-check", "-diff", "-no-color", dir)
	if err != nil {
		return nil, err
	}
	switch r.code {
	case 0:
		return nil, nil
	case 3: // files not formatted
		return withExit(ParseFmt(r.stdout), r.code), nil
	default:
		return []Finding{{Check: CheckFmt, File: dir, Severity: "error", Exit: r.code,
			Message: fmt.Sprintf("terraform fmt -check exited with status %d: %s", r.code, strings.TrimSpace(r.stderr))}}, nil
	}
}

// fmt runs terraform fmt with args from the root, with the checker's
// terraform environment.
func (c *Checker) fmt(ctx context.Context, args ...string) (result, error) {
	tmp, err := os.MkdirTemp("", "tfcheck-fmt-")
	if err != nil {
		return result{}, fmt.Errorf("terraform fmt: %w", err)
	}
	defer os.RemoveAll(tmp)
	env, err := c.terraformEnv(tmp)
	if err != nil {
		return result{}, err
	}
	return c.run(ctx, ".", env, c.tools.Terraform, append([]string{"fmt"}, args...)...)
}

// ParseFmt reads terraform fmt -check -diff's output (packer fmt prints
// the same): each file's name, then its unified diff; each file is a
// finding at its first changed line, with the diff.
func ParseFmt(out string) []Finding {
	var findings []Finding
	var cur *Finding
	hunkLine, inHunk := 0, false
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "--- ") || strings.HasPrefix(line, "+++ "):
		case strings.HasPrefix(line, "@@ "):
			hunkLine, inHunk = hunkStart(line), true
		case inHunk && strings.HasPrefix(line, `\`): // "\ No newline at end of file"
		case inHunk && (strings.HasPrefix(line, " ") || strings.HasPrefix(line, "+") || line == ""):
			if !strings.HasPrefix(line, "+") {
				hunkLine++
			}
		case inHunk && strings.HasPrefix(line, "-"):
			if cur != nil && cur.Line == 0 {
				cur.Line = hunkLine
			}
			hunkLine++
		default: // a file's name
			findings = append(findings, Finding{Check: CheckFmt, File: filepath.Clean(line), Severity: "error", Message: "not formatted (run terraform fmt); the change:"})
			cur, inHunk = &findings[len(findings)-1], false
			continue
		}
		if cur != nil {
			cur.Message += "\n    " + line
		}
	}
	return findings
}

// hunkStart returns the old file's first line of a "@@ -L,N +L,N @@" header.
func hunkStart(header string) int {
	old, _, _ := strings.Cut(strings.TrimPrefix(header, "@@ -"), " ")
	start, _, _ := strings.Cut(old, ",")
	n, _ := strconv.Atoi(start)
	return n
}

// Validate runs terraform init -backend=false and terraform validate in dir
// (relative to the root), in a copy of the root's terraform/ tree and its
// inventory file, so the checkout gets no .terraform directory and no lock
// file hashing the locally built providers. Providers come only from the
// tool cache. A failed init is one finding with terraform's output; each
// diagnostic of validate is a finding.
func (c *Checker) Validate(ctx context.Context, dir string) ([]Finding, error) {
	tmp, err := os.MkdirTemp("", "tfcheck-validate-")
	if err != nil {
		return nil, fmt.Errorf("terraform validate: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := copyTree(filepath.Join(c.root, Dir), filepath.Join(tmp, Dir)); err != nil {
		return nil, err
	}
	if err := copyFile(filepath.Join(c.root, inventory.DefaultFile), filepath.Join(tmp, inventory.DefaultFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	env, err := c.terraformEnv(tmp)
	if err != nil {
		return nil, err
	}
	copied := New(tmp, c.tools)
	r, err := copied.run(ctx, dir, env, c.tools.Terraform, "init", "-backend=false", "-input=false", "-no-color")
	if err != nil {
		return nil, err
	}
	if r.code != 0 {
		return []Finding{{Check: CheckValidate, File: dir, Severity: "error", Exit: r.code,
			Message: "terraform init -backend=false failed:\n" + strings.TrimSpace(r.stdout+r.stderr)}}, nil
	}
	r, err = copied.run(ctx, dir, env, c.tools.Terraform, "validate", "-json", "-no-color")
	if err != nil {
		return nil, err
	}
	return parseValidate(dir, r)
}

// copyTree copies the regular files below src to dst, but no hidden
// directory (.terraform), state, plan or lock file.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != src && strings.HasPrefix(name, ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || name == ".terraform.lock.hcl" || strings.Contains(name, ".tfstate") || strings.HasSuffix(name, ".tfplan") {
			return nil
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		return copyFile(path, filepath.Join(dst, rel))
	})
}

// copyFile copies the file src to dst, creating dst's directory.
func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("copy the Terraform code: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("copy the Terraform code: %w", err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		return fmt.Errorf("copy the Terraform code: %w", err)
	}
	return nil
}
