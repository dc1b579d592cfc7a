package packer_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/inventory"
	"github.com/wdiazux/infra/lib/packer"
	"github.com/wdiazux/infra/lib/proxmox"
)

// TestBuildTemplatesStopsAtTheFirstFailureAndNamesIt: a batch stops at the
// first template that fails and names it in a *BatchError; a template
// without installation media is skipped and reported only when the batch
// asks for that (building every template), and is an error otherwise.
func TestBuildTemplatesStopsAtTheFirstFailureAndNamesIt(t *testing.T) {
	root := filepath.Join("..", "..")
	inv, err := inventory.Load(filepath.Join(root, inventory.DefaultFile))
	require.NoError(t, err)
	require.Empty(t, inv.Images["windows"].Media.ISO, "the repository's inventory names no Windows ISO")
	find := func(names ...string) []packer.Template {
		var out []packer.Template
		for _, n := range names {
			tpl, err := packer.FindTemplate(root, n)
			require.NoError(t, err)
			out = append(out, tpl)
		}
		return out
	}
	var client *proxmox.Client    // never reached: every case fails before the host is asked
	t.Setenv("PATH", t.TempDir()) // no packer: a Linux template's runner cannot start

	tests := []struct {
		name        string
		skip        bool
		templates   []string
		wantSkipped []string
		wantFailed  string
		wantIs      error
		wantAs      any
	}{
		{name: "no media, named alone", templates: []string{"windows"}, wantFailed: "windows", wantIs: packer.ErrNoMedia},
		{name: "no media, building all", skip: true, templates: []string{"windows"}, wantSkipped: []string{"windows"}},
		{name: "stops at the first failure", skip: true, templates: []string{"windows", "ubuntu", "debian"},
			wantSkipped: []string{"windows"}, wantFailed: "ubuntu", wantAs: new(*packer.BinaryNotFoundError)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var skipped, optioned []string
			results, err := packer.BuildTemplates(context.Background(), client, packer.Batch{
				Root: root, Inventory: inv, SkipWithoutMedia: tt.skip,
				Options: func(tpl packer.Template) []packer.Option {
					optioned = append(optioned, tpl.Name)
					return nil
				},
				OnSkip: func(tpl packer.Template, err error) {
					require.ErrorIs(t, err, packer.ErrNoMedia)
					skipped = append(skipped, tpl.Name)
				},
			}, find(tt.templates...))
			require.Empty(t, results)
			require.Equal(t, tt.wantSkipped, skipped)
			if tt.wantFailed == "" {
				require.NoError(t, err)
				return
			}
			var batch *packer.BatchError
			require.ErrorAs(t, err, &batch)
			require.Equal(t, tt.wantFailed, batch.Template.Name)
			require.ErrorContains(t, err, "template "+tt.wantFailed+": ")
			if tt.wantIs != nil {
				require.ErrorIs(t, err, tt.wantIs)
			}
			if tt.wantAs != nil {
				require.ErrorAs(t, err, tt.wantAs)
			}
			require.NotContains(t, optioned, "debian", "nothing after the failed template is prepared")
		})
	}
}
