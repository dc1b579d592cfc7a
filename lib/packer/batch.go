package packer

import (
	"context"
	"errors"
	"fmt"

	"github.com/wdiazux/infra/lib/inventory"
)

// Client is what BuildTemplates asks the Proxmox host: the builds' checks
// (API) and the Windows template's firmware step (FirmwareClient).
// *proxmox.Client has it.
type Client interface {
	API
	FirmwareClient
}

// Batch is what BuildTemplates needs besides the templates.
type Batch struct {
	// Root is the repository's root: packer/<os>/ and secrets/.
	Root string
	// Inventory is the inventory the templates read.
	Inventory *inventory.Inventory
	// Replace and DryRun are BuildRequest's, for every template.
	Replace, DryRun bool
	// SkipWithoutMedia skips a template whose installation media the
	// inventory does not name (ErrNoMedia: images.windows.media) instead
	// of failing the batch, and reports it to OnSkip: what building
	// every template wants, where naming one template wants the error.
	SkipWithoutMedia bool
	// Options returns the Runner options for a template (binary,
	// connection, output, events); the template's Inputs add theirs.
	Options func(tpl Template) []Option
	// OnWarning receives each warning of a template's Inputs.
	OnWarning func(tpl Template, warning string)
	// OnSkip receives each template skipped under SkipWithoutMedia.
	OnSkip func(tpl Template, err error)
}

// BatchError is a template of BuildTemplates that failed: its inputs, its
// runner or its build.
type BatchError struct {
	// Template is the template that failed.
	Template Template
	// Err is why.
	Err error
}

// Error names the template.
func (e *BatchError) Error() string { return fmt.Sprintf("template %s: %v", e.Template.Name, e.Err) }

// Unwrap returns why.
func (e *BatchError) Unwrap() error { return e.Err }

// BuildTemplates builds templates one after another: each one's
// TemplateInputs, a Runner with b.Options and the inputs' options, then
// BuildTemplate. It stops at the first template that fails and returns the
// results of those before it with a *BatchError.
func BuildTemplates(ctx context.Context, client Client, b Batch, templates []Template) ([]BuildResult, error) {
	var results []BuildResult
	for _, tpl := range templates {
		res, err := b.build(ctx, client, tpl)
		if b.SkipWithoutMedia && errors.Is(err, ErrNoMedia) {
			if b.OnSkip != nil {
				b.OnSkip(tpl, err)
			}
			continue
		}
		if err != nil {
			return results, &BatchError{Template: tpl, Err: err}
		}
		results = append(results, res)
	}
	return results, nil
}

// build builds one template of the batch.
func (b Batch) build(ctx context.Context, client Client, tpl Template) (BuildResult, error) {
	in, err := TemplateInputs(ctx, b.Root, b.Inventory, client, tpl)
	if err != nil {
		return BuildResult{}, err
	}
	if b.OnWarning != nil {
		for _, w := range in.Warnings {
			b.OnWarning(tpl, w)
		}
	}
	var opts []Option
	if b.Options != nil {
		opts = b.Options(tpl)
	}
	r, err := New(append(opts, in.Options...)...)
	if err != nil {
		return BuildResult{}, err
	}
	return r.BuildTemplate(ctx, client, BuildRequest{Template: tpl, Inventory: b.Inventory,
		Replace: b.Replace, DryRun: b.DryRun, Vars: in.Vars, AfterBuild: in.AfterBuild})
}
