//go:build mage

package main

import (
	"context"
	"fmt"
	"os"

	"github.com/magefile/mage/mg"

	"github.com/wdiazux/infra/internal/chartmirror"
	"github.com/wdiazux/infra/internal/kubetest"
	"github.com/wdiazux/infra/lib/helmdeploy"
)

// Charts fills the offline chart repository the tests use.
type Charts mg.Namespace

// Mirror downloads every chart homelab.yaml pins and Cilium's L2/LB CRDs into DIR, the offline chart repository the tests read from $INFRA_TEST_CHARTS.
func (Charts) Mirror(ctx context.Context, dir string,
	// take the charts from this chart mirror (folder or URL; default $INFRA_CHART_MIRROR, else each chart's own repository)
	from *string,
	// read Cilium's CRD files from this copy of its source (default: Cilium's public repository)
	crds *string,
	// the inventory file (default: $INFRA_INVENTORY, else homelab.yaml)
	file *string,
) error {
	path, inv, err := loadInventory(file)
	if err != nil {
		return err
	}
	timeouts, err := netTimeouts()
	if err != nil {
		return err
	}
	chartOpts := []helmdeploy.Option{helmdeploy.WithRepositoryTimeouts(timeouts)}
	mirror := value(from)
	if mirror == "" {
		mirror = os.Getenv(helmdeploy.EnvChartMirror)
	}
	if mirror != "" {
		chartOpts = append(chartOpts, helmdeploy.WithMirror(mirror))
	}
	opts := []chartmirror.Option{chartmirror.WithChartOptions(chartOpts...)}
	if value(crds) != "" {
		opts = append(opts, chartmirror.WithCRDSource(value(crds)))
	}
	res, err := chartmirror.Build(ctx, inv, dir, opts...)
	if err != nil {
		return fmt.Errorf("%w\nthe charts are those of %s; a chart mirror: -from=FOLDER|URL; a copy of Cilium's source: -crds=URL", err, path)
	}
	for _, c := range res.Charts {
		from := c.From
		if mirror != "" {
			from = mirror
		}
		fmt.Printf("%-24s %s %s from %s\n", c.Name, c.Chart, c.Version, from)
	}
	fmt.Printf("%-24s Cilium %s's CiliumLoadBalancerIPPool and CiliumL2AnnouncementPolicy\n", chartmirror.CRDFile, res.CiliumVersion)
	fmt.Printf("wrote the offline chart repository %s; point the tests at it:\nexport %s=%s\n", res.Dir, kubetest.EnvCharts, res.Dir)
	return nil
}
