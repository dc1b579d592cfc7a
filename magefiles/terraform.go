//go:build mage

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/magefile/mage/mg"

	"github.com/wdiazux/infra/lib/preflight"
	"github.com/wdiazux/infra/lib/proxmox"
	"github.com/wdiazux/infra/lib/terraform"
)

// Tf runs the Terraform stacks (talos, vms) with terraform or tofu.
type Tf mg.Namespace

// Init runs terraform init in every stack (terraform/talos, terraform/traditional-vms).
//
// Runs `terraform init -input=false` in `terraform/talos` and
// `terraform/traditional-vms` with `terraform` or `tofu` (see Terraform
// (docs/operations/terraform.md)); providers come from the registry, or from
// the mirror `TF_CLI_CONFIG_FILE` names.
func (Tf) Init(ctx context.Context,
	// inventory file (default: $INFRA_INVENTORY, else homelab.yaml); the stacks are those beside it
	file *string,
) error {
	run, err := tfRunner(ctx, file, false)
	if err != nil {
		return err
	}
	for _, s := range terraform.Stacks() {
		if err := run.Init(ctx, s); err != nil {
			return tfAdvice(s, err)
		}
		fmt.Printf("%s: initialised %s\n", s, run.StackDir(s))
	}
	return nil
}

// Plan shows what tf:apply STACK would change (talos or vms): counts and each resource; changes nothing.
//
// Plans `talos` or `vms` into a saved plan and prints its summary:
// create/update/replace/destroy counts, each resource with its action, the
// attributes an update changes. Says which binary ran. Checks the host first
// (templates, GPU mapping, disk storage with `images` content) with read-only
// calls. Initialises a stack that never was. Changes nothing on the host.
func (Tf) Plan(ctx context.Context, stack string,
	// inventory file (default: $INFRA_INVENTORY, else homelab.yaml)
	file *string,
) error {
	return tfApply(ctx, stack, file, false, terraform.ApplyOptions{DryRun: true})
}

// Apply applies STACK (talos or vms) exactly as planned, asking nothing; a plan that destroys or replaces a VM needs -allowdestroy.
//
// Plans and applies exactly that saved plan, asking nothing; `-dryrun` is
// `tf:plan`. A plan with no change prints `nothing to do` and runs no apply; a
// plan that destroys or replaces a VM is refused, naming the VMs, unless
// `-allowdestroy`.
func (Tf) Apply(ctx context.Context, stack string,
	// apply a plan that destroys or replaces VMs
	allowdestroy *bool,
	// only show the plan
	dryrun *bool,
	// inventory file (default: $INFRA_INVENTORY, else homelab.yaml)
	file *string,
) error {
	return tfApply(ctx, stack, file, false, terraform.ApplyOptions{AllowDestroy: isSet(allowdestroy), DryRun: isSet(dryrun)})
}

// Destroy removes every resource of STACK (talos or vms); it prints what it removes and needs -allowdestroy to remove VMs.
//
// Prints the destroy plan (what it removes), then applies it only with
// `-allowdestroy`; `-dryrun` only prints it.
func (Tf) Destroy(ctx context.Context, stack string,
	// remove the VMs the destroy plan lists
	allowdestroy *bool,
	// only show the destroy plan
	dryrun *bool,
	// inventory file (default: $INFRA_INVENTORY, else homelab.yaml)
	file *string,
) error {
	return tfApply(ctx, stack, file, true, terraform.ApplyOptions{AllowDestroy: isSet(allowdestroy), DryRun: isSet(dryrun)})
}

// Output prints the outputs of STACK (talos or vms) as a table, or as JSON with -json.
//
// Prints the stack's outputs as a table, or JSON with `-json`; sensitive
// values are hidden.
func (Tf) Output(ctx context.Context, stack string,
	// print JSON
	json *bool,
	// inventory file (default: $INFRA_INVENTORY, else homelab.yaml); the stacks are those beside it
	file *string,
) error {
	s, err := terraform.ParseStack(stack)
	if err != nil {
		return err
	}
	run, err := tfRunner(ctx, file, false)
	if err != nil {
		return err
	}
	outs, err := run.Output(ctx, s)
	if err != nil {
		return tfAdvice(s, err)
	}
	return printOutputs(outs, isSet(json))
}

// tfRunner is the Runner of the repository's stacks; with proxmox it
// gets the connection from the environment, the inventory file and the
// host check.
func tfRunner(ctx context.Context, file *string, withHost bool) (*terraform.Runner, error) {
	// The stacks are those beside the inventory (terraform/ next to homelab.yaml).
	path, inv, err := loadInventory(file)
	if err != nil {
		return nil, err
	}
	opts := []terraform.Option{terraform.WithLogger(logger()), terraform.WithStdout(os.Stderr)}
	if withHost {
		cfg, err := proxmox.ConfigFromEnv()
		if err != nil {
			return nil, fmt.Errorf("%w\nrun: go run mage.go proxmox:preflight once the connection is set (see docs/operations/terraform.md)", err)
		}
		client, err := proxmox.New(cfg, proxmox.WithLogger(logger()))
		if err != nil {
			return nil, err
		}
		opts = append(opts, terraform.WithProxmox(cfg), terraform.WithInventoryFile(path), terraform.WithHostCheck(client, inv))
	}
	run, err := terraform.New(ctx, filepath.Dir(path), opts...)
	if err != nil {
		return nil, err
	}
	fmt.Printf("using %s\n", run.Binary())
	return run, nil
}

// tfApply plans STACK (a destroy plan when destroy), prints the plan and
// applies it as opts says.
func tfApply(ctx context.Context, stack string, file *string, destroy bool, opts terraform.ApplyOptions) error {
	s, err := terraform.ParseStack(stack)
	if err != nil {
		return err
	}
	run, err := tfRunner(ctx, file, true)
	if err != nil {
		return err
	}
	var res terraform.Result
	if destroy {
		res, err = run.Destroy(ctx, s, opts)
	} else {
		res, err = run.Apply(ctx, s, opts)
	}
	if res.Summary.Stack != "" {
		printSummary(res.Summary)
	}
	if err != nil {
		return tfAdvice(s, err)
	}
	switch {
	case res.Summary.NothingToDo():
		fmt.Printf("%s: nothing to do (%s)\n", s, res.Binary.Name)
	case res.Applied:
		fmt.Printf("%s: applied with %s\n", s, res.Binary)
	default:
		verb := "apply"
		if destroy {
			verb = "destroy"
		}
		fmt.Printf("%s: nothing changed (dry run); run: go run mage.go tf:%s %s\n", s, verb, s)
	}
	return nil
}

// printSummary prints the plan's counts and each resource it changes.
func printSummary(sum terraform.Summary) {
	kind := "plan"
	if sum.Destroy {
		kind = "destroy plan"
	}
	fmt.Printf("%s %s: %s\n", sum.Stack, kind, sum)
	for _, c := range sum.Changes {
		line := fmt.Sprintf("  %-8s %s", c.Action, c.Address)
		if len(c.Attributes) > 0 {
			line += " (" + strings.Join(c.Attributes, ", ") + ")"
		}
		fmt.Println(line)
	}
}

// printOutputs prints a stack's outputs, sensitive values hidden.
func printOutputs(outs map[string]terraform.Output, asJSON bool) error {
	names := make([]string, 0, len(outs))
	for k := range outs {
		names = append(names, k)
	}
	slices.Sort(names)
	if asJSON {
		values := map[string]json.RawMessage{}
		for _, k := range names {
			values[k] = outs[k].Value
			if outs[k].Sensitive {
				values[k] = json.RawMessage(`"(sensitive)"`)
			}
		}
		b, err := json.MarshalIndent(values, "", "  ")
		if err != nil {
			return err
		}
		fmt.Println(string(b))
		return nil
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "OUTPUT\tVALUE")
	for _, k := range names {
		v := string(outs[k].Value)
		if outs[k].Sensitive {
			v = "(sensitive)"
		}
		fmt.Fprintf(tw, "%s\t%s\n", k, v)
	}
	return tw.Flush()
}

// tfAdvice adds to err the command a person should run next.
func tfAdvice(s terraform.Stack, err error) error {
	var refused *terraform.DestroyRefusedError
	var host *terraform.HostCheckError
	var runErr *terraform.RunError
	switch {
	case errors.As(err, &refused):
		return fmt.Errorf("%w\nreview the plan above; if removing those VMs is intended, run: go run mage.go tf:%s %s -allowdestroy",
			err, map[bool]string{true: "destroy", false: "apply"}[refused.Destroy], s)
	case errors.As(err, &host):
		next := "go run mage.go proxmox:preflight"
		if slices.ContainsFunc(host.Failed, func(c preflight.Check) bool { return c.Field == "talos.template_id" }) {
			next = "go run mage.go talos:import"
		}
		return fmt.Errorf("%w\nrun: %s", err, next)
	case errors.As(err, &runErr) && strings.Contains(runErr.Err.Error(), "init"):
		return fmt.Errorf("%w\nrun: go run mage.go tf:init", err)
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%w\nthe stack's directory %s is missing: check out the whole repository", err, filepath.Join(".", s.Dir()))
	}
	return err
}
