package packer

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/wdiazux/infra/lib/proxmox"
)

// Environment variables the Runner sets for Packer.
const (
	// EnvPluginPath is Packer's plugin directory.
	EnvPluginPath = "PACKER_PLUGIN_PATH"
	// EnvSSLCertFile is the CA file Go's TLS (the plugin's) trusts.
	EnvSSLCertFile = "SSL_CERT_FILE"
	// VarPrefix is how Packer takes a variable from the environment:
	// PKR_VAR_<name>.
	VarPrefix = "PKR_VAR_"
)

// The templates' variables the Runner fills.
const (
	VarInventoryFile = "inventory_file"
	VarProxmoxURL    = "proxmox_url"
	VarTokenID       = "proxmox_token_id"
	VarTokenSecret   = "proxmox_token_secret"
	VarInsecure      = "insecure_skip_tls_verify"
	VarCommunicator  = "communicator"
	VarBaseVMName    = "base_vm_name"
)

// BinaryNotFoundError is no packer binary to run.
type BinaryNotFoundError struct {
	// Err is the lookup's error.
	Err error
}

// Error says what to install.
func (e *BinaryNotFoundError) Error() string {
	return fmt.Sprintf("no packer on PATH (%v): install Packer >= 1.12 (the Nix shell has it) or point the runner at a binary", e.Err)
}

// Unwrap returns the lookup's error.
func (e *BinaryNotFoundError) Unwrap() error { return e.Err }

// FingerprintError is a connection pinned by fingerprint only, which the
// Packer plugin cannot check: it needs a CA file or an explicit insecure.
type FingerprintError = proxmox.PinUnsupportedError

// ConnectionEnv translates the Go client's connection into the templates'
// variables (PKR_VAR_proxmox_url, PKR_VAR_proxmox_token_id,
// PKR_VAR_proxmox_token_secret, PKR_VAR_insecure_skip_tls_verify) and, for
// a CA file, SSL_CERT_FILE. TLS is verified unless cfg skips it. The values
// hold the secret: pass them only to the child process.
func ConnectionEnv(cfg proxmox.Config) (map[string]string, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	env := map[string]string{
		VarPrefix + VarProxmoxURL:  cfg.URL,
		VarPrefix + VarTokenID:     cfg.TokenID,
		VarPrefix + VarTokenSecret: cfg.TokenSecret,
		VarPrefix + VarInsecure:    strconv.FormatBool(cfg.InsecureSkipVerify),
	}
	switch {
	case cfg.InsecureSkipVerify:
	case cfg.CAFile != "":
		env[EnvSSLCertFile] = cfg.CAFile
	case cfg.Fingerprint != "":
		return nil, &FingerprintError{Tool: "Packer's proxmox plugin", Fingerprint: cfg.Fingerprint}
	}
	return env, nil
}

// Option configures a Runner.
type Option func(*options)

type options struct {
	binary    string
	pluginDir string
	proxmox   *proxmox.Config
	inventory string
	vars      map[string]string
	secrets   []string
	tempDir   string
	logger    *slog.Logger
	out       io.Writer
	events    func(Event)
}

// WithBinary runs the packer binary at path instead of the one on PATH.
func WithBinary(path string) Option { return func(o *options) { o.binary = path } }

// WithPluginDir sets Packer's plugin directory (PACKER_PLUGIN_PATH), e.g.
// the tool cache's, where packer init then finds the plugins offline.
func WithPluginDir(dir string) Option { return func(o *options) { o.pluginDir = dir } }

// WithProxmox gives the templates the connection cfg, through ConnectionEnv.
func WithProxmox(cfg proxmox.Config) Option { return func(o *options) { o.proxmox = &cfg } }

// WithInventoryFile sets the templates' inventory_file (made absolute);
// unset, each template reads the repository's homelab.yaml.
func WithInventoryFile(path string) Option { return func(o *options) { o.inventory = path } }

// WithVar sets a template variable through PKR_VAR_<name>, e.g.
// communicator=none for a build against the simulator, or the ISO paths a
// proxmox-iso template takes. Never pass a secret this way that a
// template does not mark sensitive.
func WithVar(name, value string) Option { return func(o *options) { o.vars[name] = value } }

// WithSecretVar sets a sensitive template variable through
// PKR_VAR_<name> (the Windows template's windows_admin_password): like the
// token secret, its value is scrubbed from every line of Packer's output.
func WithSecretVar(name string, s Secret) Option {
	return func(o *options) {
		o.vars[name] = s.Reveal()
		o.secrets = append(o.secrets, s.Reveal())
	}
}

// WithTempDir sets Packer's temporary directory (TMPDIR), e.g.
// MemoryTempDir's, so the files Packer writes there while it builds (the
// Windows answer files with the password, before they go on a CD) never
// reach a disk.
func WithTempDir(dir string) Option { return func(o *options) { o.tempDir = dir } }

// WithLogger receives progress (what runs, with which binary); the secret
// is never in it.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithOutput receives Packer's output, one line at a time: the text of
// its ui lines, and anything it prints that is not machine-readable.
func WithOutput(w io.Writer) Option { return func(o *options) { o.out = w } }

// WithEvents receives every machine-readable line of a build, with the
// step and provisioner it belongs to.
func WithEvents(f func(Event)) Option { return func(o *options) { o.events = f } }

// Runner runs Packer on the repository's templates.
type Runner struct {
	bin     string
	env     map[string]string
	secrets []string // scrubbed from Packer's output
	opts    options
	log     *slog.Logger
}

// New finds the packer binary (WithBinary, else packer on PATH) and
// prepares the child's environment.
func New(opts ...Option) (*Runner, error) {
	o := options{vars: map[string]string{}, logger: slog.New(slog.DiscardHandler), out: io.Discard}
	for _, opt := range opts {
		opt(&o)
	}
	bin := o.binary
	if bin == "" {
		p, err := exec.LookPath("packer")
		if err != nil {
			return nil, &BinaryNotFoundError{Err: err}
		}
		bin = p
	}
	env := map[string]string{"CHECKPOINT_DISABLE": "1", "PACKER_NO_COLOR": "1"}
	if o.pluginDir != "" {
		env[EnvPluginPath] = o.pluginDir
	}
	if o.tempDir != "" {
		env["TMPDIR"] = o.tempDir
	}
	r := &Runner{bin: bin, env: env, opts: o, log: o.logger, secrets: slices.Clone(o.secrets)}
	if o.proxmox != nil {
		penv, err := ConnectionEnv(*o.proxmox)
		if err != nil {
			return nil, err
		}
		maps.Copy(env, penv)
		r.secrets = append(r.secrets, o.proxmox.TokenSecret)
	}
	if o.inventory != "" {
		abs, err := filepath.Abs(o.inventory)
		if err != nil {
			return nil, err
		}
		env[VarPrefix+VarInventoryFile] = abs
	}
	for k, v := range o.vars {
		env[VarPrefix+k] = v
	}
	r.log.Info("packer binary", "binary", bin, "env", envNames(env))
	return r, nil
}

// Binary is the packer binary the Runner runs.
func (r *Runner) Binary() string { return r.bin }

// Env is the environment the Runner adds for Packer (its values hold the
// token secret: never print them).
func (r *Runner) Env() map[string]string { return maps.Clone(r.env) }

// envNames lists the names of the variables of env a log line may show
// (never their values), sorted.
func envNames(env map[string]string) []string {
	return slices.Sorted(maps.Keys(env))
}

// RunError is a packer command that failed.
type RunError struct {
	// Template is the template, Command the packer subcommand ("build").
	Template Template
	Command  string
	// ExitCode is packer's exit status (-1 when it did not run).
	ExitCode int
	// Errors are the error lines packer printed, last first kept.
	Errors []string
	// Err is the cause.
	Err error
}

// Error names the command, the template file, packer's errors and what to do.
func (e *RunError) Error() string {
	what := map[string]string{
		"init":     "check the template's required_plugins and the plugin directory (" + EnvPluginPath + ")",
		"fmt":      "run packer fmt on " + e.Template.Dir + " and commit the result",
		"validate": "fix the template at the place packer names",
		"build":    "read packer's output above; the VM it was building is removed unless the error says otherwise",
	}[e.Command]
	msg := fmt.Sprintf("packer %s of %s exited with status %d", e.Command, e.Template.File, e.ExitCode)
	if e.Err != nil && e.ExitCode < 0 {
		msg = fmt.Sprintf("packer %s of %s: %v", e.Command, e.Template.File, e.Err)
	}
	if len(e.Errors) > 0 {
		msg += ": " + strings.Join(e.Errors, "; ")
	}
	return msg + "; " + what
}

// Unwrap returns the cause.
func (e *RunError) Unwrap() error { return e.Err }

// Init runs packer init on the template's directory.
func (r *Runner) Init(ctx context.Context, t Template) error {
	_, err := r.runWith(ctx, t, "init", nil, ".")
	return err
}

// FmtCheck runs packer fmt -check -diff on the template's directory.
func (r *Runner) FmtCheck(ctx context.Context, t Template) error {
	_, err := r.runWith(ctx, t, "fmt", nil, "-check", "-diff", ".")
	return err
}

// Validate runs packer validate on the template's directory, with extra
// variables (PKR_VAR_<name>) as Build takes them.
func (r *Runner) Validate(ctx context.Context, t Template, vars map[string]string) error {
	_, err := r.runWith(ctx, t, "validate", varEnv(vars), ".")
	return err
}

// varEnv is template variables as Packer's environment variables.
func varEnv(vars map[string]string) map[string]string {
	env := make(map[string]string, len(vars))
	for k, v := range vars {
		env[VarPrefix+k] = v
	}
	return env
}

// Built is what a packer build reported.
type Built struct {
	// ArtifactID is the artifact's ID: for the proxmox builders, the
	// template's VM ID.
	ArtifactID string
	// Events are the machine-readable lines, in order.
	Events []Event
}

// Build runs packer build -machine-readable in the template's directory,
// with extra variables (PKR_VAR_<name>) added for this build only. Its
// exit status alone proves little (the proxmox plugin swallows start and
// shutdown errors): check the VM afterwards (see Runner.BuildTemplate).
func (r *Runner) Build(ctx context.Context, t Template, vars map[string]string) (Built, error) {
	args := []string{"-machine-readable", "-color=false", "-timestamp-ui=false", "."}
	return r.runWith(ctx, t, "build", varEnv(vars), args...)
}

// runWith runs packer command args in the template's directory with the
// Runner's environment and extra, streaming its output.
func (r *Runner) runWith(ctx context.Context, t Template, command string, extra map[string]string, args ...string) (Built, error) {
	cmd := exec.CommandContext(ctx, r.bin, append([]string{command}, args...)...)
	cmd.Dir = t.Dir
	env := os.Environ()
	for k, v := range r.env {
		env = append(env, k+"="+v)
	}
	for k, v := range extra {
		env = append(env, k+"="+v)
	}
	cmd.Env = env
	r.log.Info("packer", "command", command, "template", t.File, "args", args)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	var built Built
	var errs []string
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var p progress
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			line := r.scrub(sc.Text())
			e, ok := ParseEvent(line)
			if !ok {
				fmt.Fprintln(r.opts.out, line)
				if strings.HasPrefix(line, "Error: ") || strings.HasPrefix(line, "Error ") {
					errs = append(errs, strings.TrimSpace(line))
				}
				continue
			}
			p.observe(&e)
			built.Events = append(built.Events, e)
			if text := e.Text(); text != "" {
				fmt.Fprintln(r.opts.out, text)
			}
			if e.IsError() {
				errs = append(errs, strings.TrimSpace(e.Text()))
			}
			if e.Type == "artifact" && len(e.Data) == 3 && e.Data[1] == "id" {
				built.ArtifactID = e.Data[2]
			}
			if r.opts.events != nil {
				r.opts.events(e)
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	err := cmd.Run()
	_ = pw.Close()
	wg.Wait()
	if err != nil {
		code := -1
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		}
		return built, &RunError{Template: t, Command: command, ExitCode: code, Errors: errs, Err: err}
	}
	return built, nil
}

// scrub removes the secrets (the token, WithSecretVar's values) from a
// line of output, should a plugin print them.
func (r *Runner) scrub(line string) string {
	for _, s := range r.secrets {
		if s != "" {
			line = strings.ReplaceAll(line, s, "<sensitive>")
		}
	}
	return line
}
