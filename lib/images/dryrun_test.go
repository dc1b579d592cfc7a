package images_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/images"
	"github.com/wdiazux/infra/lib/plan"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

// mark is where the simulators' request logs stood.
type mark struct{ pve, factory int }

func (r *rig) mark() mark { return mark{len(r.sim.Requests()), len(r.factory.Requests())} }

// sentSince lists the requests that could change something since m: PVE's
// and the factory's ("METHOD path").
func (r *rig) sentSince(m mark) (pve []pvesim.Request, factory []string) {
	for _, req := range r.sim.Requests()[m.pve:] {
		if req.Method != http.MethodGet {
			pve = append(pve, req)
		}
	}
	for _, req := range r.factory.Requests()[m.factory:] {
		if !strings.HasPrefix(req, "GET ") && !strings.HasPrefix(req, "HEAD ") {
			factory = append(factory, req)
		}
	}
	return pve, factory
}

// killAfter runs an import that a kill stops after step.
func killAfter(step string, opts images.TalosImportOptions) func(r *rig) {
	return func(r *rig) {
		killed := errors.New("killed")
		opts.AfterStep = func(s string) error {
			if s == step {
				return killed
			}
			return nil
		}
		_, err := r.run(opts)
		require.ErrorIs(r.t, err, killed)
	}
}

// imported runs a finished import.
func imported(opts images.TalosImportOptions) func(r *rig) {
	return func(r *rig) {
		_, err := r.run(opts)
		require.NoError(r.t, err)
	}
}

// TestTalosImportDryRunListsWhatTheRunSends is the contract of the plan:
// from every starting state, the calls a dry run lists are the requests
// that could change something which the real run then sends, in order,
// with the parameters listed, to PVE and to the factory; and the dry run
// itself sends none.
func TestTalosImportDryRunListsWhatTheRunSends(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(*pvesim.Setup)
		before func(r *rig)
		opts   images.TalosImportOptions
		action plan.Action
	}{
		{name: "fresh host", action: plan.Create},
		{name: "fresh host, -verify", opts: images.TalosImportOptions{Verify: true}, action: plan.Create},
		{name: "killed after enabling import content", before: killAfter(images.StepEnableImport, images.TalosImportOptions{}), action: plan.Create},
		{name: "killed after the download", before: killAfter(images.StepDownload, images.TalosImportOptions{}), action: plan.Create},
		{name: "killed after the download, then -verify", before: killAfter(images.StepDownload, images.TalosImportOptions{}),
			opts: images.TalosImportOptions{Verify: true}, action: plan.Create},
		{name: "killed after the download, then -replace", before: killAfter(images.StepDownload, images.TalosImportOptions{}),
			opts: images.TalosImportOptions{Replace: true}, action: plan.Create},
		{name: "killed after a verified download", before: killAfter(images.StepDownload, images.TalosImportOptions{Verify: true}), action: plan.Create},
		{name: "killed after creating the VM", before: killAfter(images.StepCreateVM, images.TalosImportOptions{}), action: plan.Repair},
		{name: "killed after the resize", before: killAfter(images.StepResize, images.TalosImportOptions{}), action: plan.Repair},
		{name: "a VM this project did not create, -replace", setup: func(s *pvesim.Setup) {
			s.VMs = []pvesim.VMSetup{{VMID: 9000, Name: "someones-vm", Tags: "prod"}}
		}, opts: images.TalosImportOptions{Replace: true}, action: plan.Replace},
		{name: "the template of another version, -replace", before: func(r *rig) {
			r.inv.Talos.Version = "v1.12.6"
			imported(images.TalosImportOptions{})(r)
			r.inv.Talos.Version = "v1.12.7"
		}, opts: images.TalosImportOptions{Replace: true}, action: plan.Replace},
		{name: "the template is there", before: imported(images.TalosImportOptions{}), action: plan.Unchanged},
		{name: "the template is there, -verify pins its checksum", before: imported(images.TalosImportOptions{}),
			opts: images.TalosImportOptions{Verify: true}, action: plan.Unchanged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, tt.setup)
			if tt.before != nil {
				tt.before(r)
			}

			m := r.mark()
			dryOpts := tt.opts
			dryOpts.DryRun = true
			dry, err := r.run(dryOpts)
			require.NoError(t, err)
			require.True(t, dry.DryRun)
			require.Equal(t, tt.action, dry.Action)
			pveSent, factorySent := r.sentSince(m)
			require.Empty(t, pveSent, "a dry run changes nothing on PVE")
			require.Empty(t, factorySent, "nor at the factory")

			m = r.mark()
			res, err := r.run(tt.opts)
			require.NoError(t, err)
			require.False(t, res.DryRun)
			require.Equal(t, tt.action, res.Action)
			require.Equal(t, dry.Calls, res.Calls, "the run reports the calls the dry run listed")
			r.requireTemplate()

			pveSent, factorySent = r.sentSince(m)
			var pveCalls []plan.Call
			var wantFactory []string
			for _, c := range dry.Calls {
				if c.Base == "" {
					pveCalls = append(pveCalls, c)
					continue
				}
				require.Equal(t, r.factory.URL(), c.Base)
				wantFactory = append(wantFactory, c.Method+" "+c.Path)
			}
			requireCallsSent(t, pveCalls, pveSent)
			require.Equal(t, wantFactory, factorySent, "the factory received what the dry run listed")
		})
	}
}
