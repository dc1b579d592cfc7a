package helmdeploy

import "context"

// Check does what Apply does before it changes anything, and nothing
// more: it validates and orders the set, loads every chart, checks every
// release's values against its chart's schema, checks the API server
// answers and, with Only, that the selection's dependencies are deployed.
// A caller that must change something else on the cluster before Apply
// (a Secret the releases use) calls it first, so a wrong value or an
// unreachable cluster leaves the cluster untouched.
func (d *Deployer) Check(ctx context.Context, releases []Release, opts ...ApplyOption) error {
	_, err := d.prepare(ctx, releases, opts)
	return err
}
