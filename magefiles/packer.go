//go:build mage

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/wdiazux/infra/internal/toolchain"
	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/packer"
	"github.com/wdiazux/infra/lib/proxmox"
)

// Build builds golden templates with Packer from the base VMs: ubuntu, debian, arch, nixos, windows or all; a template that exists is left alone.
//
// Builds golden templates with Packer from `packer/<os>/<os>.pkr.hcl` (`all`:
// every template under `packer/`, one after another): `packer init`, `fmt
// -check`, `validate`, then — for a `proxmox-clone` template — checks that the
// base VM at `images.<os>.base_vm_id` is a template tagged `infra-managed` and
// listed by a unique name, then `packer build`, streaming each step (`==>
// ubuntu: Creating VM`) and Packer's lines. Afterwards it tags the template
// (`infra-managed;<os>;template`), drops the build's throw-away SSH key from
// its cloud-init settings and checks it through the API (template flag, disk,
// agent, `scsihw` and CPU type as the file sets them, name
// `<os>-<release>-template`, VM ID `images.<os>.template_id`, and in the VM's
// task list a start, a shutdown and the template conversion that ended OK
// during the build — the plugin goes on when the host refuses a start or
// shutdown) rather than trusting Packer's exit code. A template that exists is
// left alone; `-replace` rebuilds it (deleting it first, only when it is
// ours). `-dryrun` runs `fmt -check` and `validate`, checks the base VM and
// prints what would be built. Uses Packer and its plugins from the tool cache
// when `go run mage.go test` built them, else `packer` on PATH. The connection
// comes from the environment (token never in arguments or files; TLS verified
// unless `PROXMOX_TLS_INSECURE=1`; a CA file through `PROXMOX_CA_FILE`; a
// pinned fingerprint is refused, the plugin cannot check one).
// `PKR_VAR_communicator=none` builds without connecting to the guest and
// without provisioners (against `proxmox:sim`). The Windows template
// (`proxmox-iso`, no base VM) takes its ISOs from `images.windows.media` and
// its Administrator password from `secrets/windows.enc.yaml` (decrypted in
// memory, handed to Packer as a sensitive variable, scrubbed from its output),
// and gets its Secure Boot EFI disk and TPM 2.0 state through the API after
// Packer; `all` skips it when `media` is not set. See `packer/<os>/README.md`.
func (Images) Build(ctx context.Context, name string,
	// rebuild a template that already exists (it is deleted first, only when tagged infra-managed)
	replace *bool,
	// run packer fmt -check and validate, check the base VM and print what would be built; change nothing
	dryrun *bool,
	// inventory file (default: $INFRA_INVENTORY, else homelab.yaml)
	file *string,
) error {
	path, inv, err := loadInventory(file)
	if err != nil {
		return err
	}
	root, err := filepath.Abs(".")
	if err != nil {
		return err
	}
	templates, err := buildTemplates(root, name)
	if err != nil {
		return err
	}
	cfg, err := proxmox.ConfigFromEnv()
	if err != nil {
		return err
	}
	client, err := proxmox.New(cfg, proxmox.WithLogger(logger()))
	if err != nil {
		return err
	}
	results, err := packer.BuildTemplates(ctx, client, packer.Batch{
		Root: root, Inventory: inv, Replace: isSet(replace), DryRun: isSet(dryrun), SkipWithoutMedia: name == "all",
		Options: func(tpl packer.Template) []packer.Option {
			return append(packerTools(inv), packer.WithProxmox(cfg), packer.WithInventoryFile(path), packer.WithLogger(logger()),
				packer.WithOutput(prefixed(os.Stderr, tpl.Name+" | ")), packer.WithEvents(stepPrinter(os.Stderr, tpl.Name)))
		},
		OnWarning: func(tpl packer.Template, w string) { fmt.Fprintf(os.Stderr, "%s: warning: %s\n", tpl.Name, w) },
		OnSkip: func(tpl packer.Template, _ error) {
			fmt.Fprintf(os.Stderr, "%s: skipped: images.windows.media is not set (see packer/windows/README.md)\n", tpl.Name)
		},
	}, templates)
	if printErr := printBuilds(os.Stdout, results); printErr != nil && err == nil {
		err = printErr
	}
	return packerAdvice(err)
}

// buildTemplates are the templates name means: one of packer/<name>/, or
// every one for "all".
func buildTemplates(root, name string) ([]packer.Template, error) {
	if name == "all" {
		return packer.Templates(root)
	}
	tpl, err := packer.FindTemplate(root, name)
	if err != nil {
		return nil, fmt.Errorf("%w\nrun: go run mage.go images:build <ubuntu|debian|arch|nixos|windows|all>", err)
	}
	return []packer.Template{tpl}, nil
}

// packerTools points the runner at Packer and its plugins in the tool
// cache when `go run mage.go test` built them there (at the inventory's
// tools.packer); otherwise packer comes from PATH (the Nix shell) and
// packer init installs the plugins as usual.
func packerTools(inv *inventory.Inventory) []packer.Option {
	cache, err := toolchain.CacheDir()
	if err != nil {
		return nil
	}
	var opts []packer.Option
	bin := filepath.Join(cache, "packer-v"+strings.TrimPrefix(inv.Tools["packer"], "v"), "packer")
	if _, err := os.Stat(bin); err == nil {
		opts = append(opts, packer.WithBinary(bin))
	}
	if dir := toolchain.PackerPluginDir(cache); dirExists(dir) {
		opts = append(opts, packer.WithPluginDir(dir))
	}
	return opts
}

func dirExists(dir string) bool {
	fi, err := os.Stat(dir)
	return err == nil && fi.IsDir()
}

// stepPrinter prints a line each time a template's build moves to another
// step or provisioner.
func stepPrinter(w io.Writer, name string) func(packer.Event) {
	last := ""
	return func(e packer.Event) {
		if e.Step == "" || e.Step == last {
			return
		}
		last = e.Step
		if e.Provisioner != "" {
			fmt.Fprintf(w, "==> %s: provisioner %s: %s\n", name, e.Provisioner, e.Step)
			return
		}
		fmt.Fprintf(w, "==> %s: %s\n", name, e.Step)
	}
}

// prefixed writes each line after prefix.
func prefixed(w io.Writer, prefix string) io.Writer { return &prefixWriter{w: w, prefix: prefix} }

type prefixWriter struct {
	w      io.Writer
	prefix string
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if line == "" {
			continue
		}
		if _, err := io.WriteString(p.w, p.prefix+line); err != nil {
			return 0, err
		}
	}
	return len(b), nil
}

// packerAdvice adds what to run to the errors a person fixes with a target.
func packerAdvice(err error) error {
	var batch *packer.BatchError
	if !errors.As(err, &batch) {
		return err
	}
	tpl := batch.Template
	var base *packer.BaseVMError
	var verify *packer.VerifyError
	var binary *packer.BinaryNotFoundError
	var pwErr *packer.WindowsPasswordError
	switch {
	case errors.Is(err, packer.ErrNoMedia):
		return fmt.Errorf("%w\nsee: packer/windows/README.md (what to provide)", err)
	case errors.As(err, &pwErr):
		return fmt.Errorf("%w\nrun: go run mage.go secrets:edit %s", err, packer.WindowsSecretFile)
	case errors.As(err, &base):
		return fmt.Errorf("%w\nrun: go run mage.go images:import %s", err, tpl.Name)
	case errors.As(err, &verify):
		return fmt.Errorf("%w\nrun: go run mage.go images:build %s -replace", err, tpl.Name)
	case errors.As(err, &binary):
		return fmt.Errorf("%w\nrun: nix-shell (it has packer), or go run mage.go test (builds it into the tool cache)", err)
	}
	return proxmoxAdvice(err)
}

// printBuilds prints what each build did.
func printBuilds(w io.Writer, results []packer.BuildResult) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nTEMPLATE\tRESULT\tVM\tNAME\tFROM\tPACKER BUILD")
	for _, r := range results {
		from, took := "ISO", "-"
		if r.BaseVMID != 0 {
			from = fmt.Sprintf("%d %s", r.BaseVMID, r.BaseName)
		}
		if r.Took > 0 {
			took = r.Took.Round(100 * 1e6).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", r.Template.Name, r.Action, r.VMID, r.Name, from, took)
	}
	return tw.Flush()
}
