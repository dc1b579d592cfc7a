//go:build mage

package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/wdiazux/infra/lib/cloudimage"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/magefile/mage/mg"

	"github.com/wdiazux/infra/internal/progress"
	"github.com/wdiazux/infra/lib/images"
	"github.com/wdiazux/infra/lib/plan"
	"github.com/wdiazux/infra/lib/proxmox"
)

// Images builds the base VMs and golden templates of the traditional VMs.
type Images mg.Namespace

// Import builds the base VM of <ubuntu|debian|arch|nixos|all> from the distribution's official cloud image through the Proxmox API; re-running changes nothing.
//
// Builds the base VM (`images.<os>.base_vm_id`) of `ubuntu`, `debian`, `arch`
// or `nixos` — or of `all` four, in parallel, one progress line each — from
// the distribution's official cloud image through the Proxmox API: the build
// `images.lock` records (else the newest, resolved to a concrete build
// serial), its checksum taken from the publisher's signed checksum file
// (signature verified against the pinned key; a bad signature, unknown key or
// missing entry stops before any change) and passed to PVE, which downloads
// the image itself (NixOS: the VMA is converted on the workstation and
// uploaded); a template with the image imported, a cloud-init drive, serial
// console and the agent. Idempotent (a re-run asks no publisher), repairs what
// a killed run left, removes a half-made VM after any failure; `-update` moves
// to the newest build. See the base VMs (docs/deployment/base-images.md).
func (Images) Import(ctx context.Context,
	// ubuntu, debian, arch, nixos, or all (in parallel)
	name string,
	// move to the newest build (replacing the base VM this project made) and record it in images.lock
	update *bool,
	// replace what holds images.<os>.base_vm_id (another VM, or another build than images.lock's)
	replace *bool,
	// print the planned API calls and change nothing
	dryrun *bool,
	// inventory file (default: $INFRA_INVENTORY, else homelab.yaml)
	file *string,
) error {
	oses, err := importOSes(name)
	if err != nil {
		return err
	}
	path, inv, err := loadInventory(file)
	if err != nil {
		return err
	}
	limits, err := netTimeouts()
	if err != nil {
		return err
	}
	sources, err := cloudimage.NewResolver(cloudimage.WithTimeouts(limits), cloudimage.WithLogger(logger()))
	if err != nil {
		return err
	}
	pveClient, err := proxmox.NewFromEnv(proxmox.WithLogger(logger()))
	if err != nil {
		return err
	}
	lock, err := images.LoadLockFile(filepath.Join(filepath.Dir(path), images.DefaultLockFile))
	if err != nil {
		return err
	}
	opts := images.CloudImportOptions{Update: isSet(update), Replace: isSet(replace), DryRun: isSet(dryrun), Logger: logger()}
	lines := progress.NewLines(os.Stderr, oses)
	opts.Events = func(osName string, ev plan.Event) { lines.Events(osName)(ev) }
	results, err := images.ImportClouds(ctx, inv, pveClient, sources, lock, oses, opts)
	var reports []*images.CloudImportReport
	for _, r := range results {
		if r.Err != nil {
			lines.Finish(r.OS, "✗ failed")
			continue
		}
		lines.Finish(r.OS, "✓ "+r.Report.Action.String())
		reports = append(reports, r.Report)
	}
	if len(reports) > 0 {
		if werr := images.WriteCloudSummary(os.Stdout, reports...); werr != nil {
			return werr
		}
	}
	if err != nil {
		return imagesImportAdvice(results)
	}
	return nil
}

// importOSes is the target's argument as the OSes to import.
func importOSes(name string) ([]string, error) {
	if name == "all" {
		return images.CloudOSes(), nil
	}
	if slices.Contains(images.CloudOSes(), name) {
		return []string{name}, nil
	}
	return nil, fmt.Errorf("images:import %q: want one of %s or all (Windows has no cloud image: go run mage.go images:build windows)\nrun: go run mage.go images:import all",
		name, strings.Join(images.CloudOSes(), ", "))
}

// imagesImportAdvice is the failed imports' errors, each with what to run.
func imagesImportAdvice(results []images.CloudResult) error {
	var errs []error
	for _, r := range results {
		if r.Err == nil {
			continue
		}
		run := ""
		switch {
		case errors.Is(r.Err, images.ErrVMIDTaken):
			run = "go run mage.go images:import " + r.OS + " -replace (or -update, to move the base VM this project made to the newest build)"
		case errors.Is(r.Err, proxmox.ErrChecksumMismatch):
			run = "go run mage.go images:import " + r.OS + " -update, once you know why the sums differ"
		case errors.Is(r.Err, images.ErrSource):
			run = "go run mage.go images:import " + r.OS + " -update, if the publisher no longer serves the build images.lock records; a signature or key error means the download site is not the publisher's: do not work around it"
		}
		err := proxmoxAdvice(r.Err)
		if run != "" {
			err = fmt.Errorf("%w\nrun: %s", err, run)
		}
		errs = append(errs, fmt.Errorf("%s: %w", r.OS, err))
	}
	return errors.Join(errs...)
}
