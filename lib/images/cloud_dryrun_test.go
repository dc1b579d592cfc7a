package images_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/images"
	"github.com/wdiazux/infra/lib/plan"
	"github.com/wdiazux/infra/lib/proxmox/pvesim"
)

// cloudKillAfter runs an import of osName that a kill stops after step.
func cloudKillAfter(osName, step string) func(r *cloudRig) {
	return func(r *cloudRig) {
		killed := errors.New("killed")
		_, err := r.importOS(osName, images.CloudImportOptions{AfterStep: func(_, s string) error {
			if s == step {
				return killed
			}
			return nil
		}})
		require.ErrorIs(r.t, err, killed)
	}
}

// mutatingSince lists PVE's requests that could change something since
// the n-th.
func (r *cloudRig) mutatingSince(n int) []pvesim.Request {
	var out []pvesim.Request
	for _, req := range r.sim.Requests()[n:] {
		if req.Method != http.MethodGet {
			out = append(out, req)
		}
	}
	return out
}

// requireSentWhatWasPlanned: the mutating requests since n are the calls
// listed, in order, with the parameters listed.
func (r *cloudRig) requireSentWhatWasPlanned(n int, calls []plan.Call) {
	r.t.Helper()
	requireCallsSent(r.t, calls, r.mutatingSince(n))
}

// requireCallsSent: PVE received the calls, in order, with their
// parameters.
func requireCallsSent(t testing.TB, calls []plan.Call, sent []pvesim.Request) {
	t.Helper()
	var want, got []string
	for _, c := range calls {
		want = append(want, c.Method+" "+c.Path)
	}
	for _, req := range sent {
		got = append(got, req.Method+" "+req.Path)
	}
	require.Equal(t, want, got, "PVE received what the dry run listed, in order")
	for i, c := range calls {
		for _, p := range c.Params {
			require.Equal(t, p.Value, sent[i].Params[p.Key], "%s: parameter %s", c.Method+" "+c.Path, p.Key)
		}
	}
}

// TestCloudImportDryRunListsWhatTheRunSends is the plan's contract for the
// cloud imports, from every starting state: the dry run sends nothing that
// changes anything, and its calls are what the real run then sends.
func TestCloudImportDryRunListsWhatTheRunSends(t *testing.T) {
	tests := []struct {
		name, os string
		setup    func(*pvesim.Setup)
		before   func(r *cloudRig)
		opts     images.CloudImportOptions
		action   plan.Action
	}{
		{name: "fresh host", os: "ubuntu", action: plan.Create},
		{name: "fresh host, nixos", os: "nixos", action: plan.Create},
		{name: "killed after enabling import content", os: "debian", before: cloudKillAfter("debian", images.StepEnableImport), action: plan.Create},
		{name: "killed after the download", os: "arch", before: cloudKillAfter("arch", images.StepDownload), action: plan.Create},
		{name: "killed after the upload", os: "nixos", before: cloudKillAfter("nixos", images.StepUpload), action: plan.Create},
		{name: "killed after creating the VM", os: "ubuntu", before: cloudKillAfter("ubuntu", images.StepCreateVM), action: plan.Repair},
		{name: "a VM this project did not create, -replace", os: "debian", setup: func(s *pvesim.Setup) {
			s.VMs = []pvesim.VMSetup{{VMID: 9110, Name: "someones-vm", Tags: "prod"}}
		}, opts: images.CloudImportOptions{Replace: true}, action: plan.Replace},
		{name: "a newer build, -update", os: "arch", before: func(r *cloudRig) {
			_, err := r.importOS("arch", images.CloudImportOptions{})
			require.NoError(r.t, err)
			r.site.publish(r.t, "arch", "20261120.400000", 64<<10)
		}, opts: images.CloudImportOptions{Update: true}, action: plan.Replace},
		{name: "the base VM is there", os: "ubuntu", before: func(r *cloudRig) {
			_, err := r.importOS("ubuntu", images.CloudImportOptions{})
			require.NoError(r.t, err)
		}, action: plan.Unchanged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newCloudRig(t, tt.setup)
			if tt.before != nil {
				tt.before(r)
			}
			n := len(r.sim.Requests())
			dryOpts := tt.opts
			dryOpts.DryRun = true
			dry, err := r.importOS(tt.os, dryOpts)
			require.NoError(t, err)
			require.True(t, dry.DryRun)
			require.Equal(t, tt.action, dry.Action)
			require.Empty(t, r.mutatingSince(n), "a dry run changes nothing")

			n = len(r.sim.Requests())
			res, err := r.importOS(tt.os, tt.opts)
			require.NoError(t, err)
			require.Equal(t, tt.action, res.Action)
			require.Equal(t, dry.Calls, res.Calls, "the run reports the calls the dry run listed")
			r.requireBaseVM(tt.os)
			r.requireSentWhatWasPlanned(n, dry.Calls)
		})
	}
}
