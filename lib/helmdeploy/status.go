package helmdeploy

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"helm.sh/helm/v4/pkg/action"
	release "helm.sh/helm/v4/pkg/release/v1"
)

// ReleaseStatus is a release as the cluster records it.
type ReleaseStatus struct {
	// Name and Namespace name the release.
	Name, Namespace string
	// Chart and Version are the chart of the latest revision.
	Chart, Version string
	// AppVersion is the chart's appVersion.
	AppVersion string
	// Revision is the latest revision.
	Revision int
	// State is Helm's status of it: deployed, failed, pending-upgrade, …
	State string
	// Updated is when it was last deployed.
	Updated time.Time
}

// Status lists the latest revision of every Helm release on the cluster
// (all namespaces, any state), sorted by namespace and name.
func (d *Deployer) Status(ctx context.Context) ([]ReleaseStatus, error) {
	if err := d.opts.cluster.reachable(ctx, d.opts.reachTimeout); err != nil {
		return nil, err
	}
	cfg, err := d.actionConfig("", "")
	if err != nil {
		return nil, err
	}
	list := action.NewList(cfg)
	list.All, list.AllNamespaces = true, true
	list.SetStateMask()
	rels, err := list.Run()
	if err != nil {
		return nil, fmt.Errorf("list releases on %s: %w", d.host, err)
	}
	out := make([]ReleaseStatus, 0, len(rels))
	for _, x := range rels {
		r, ok := x.(*release.Release)
		if !ok || r == nil {
			continue
		}
		s := ReleaseStatus{Name: r.Name, Namespace: r.Namespace, Revision: r.Version}
		if r.Chart != nil && r.Chart.Metadata != nil {
			s.Chart, s.Version, s.AppVersion = r.Chart.Metadata.Name, r.Chart.Metadata.Version, r.Chart.Metadata.AppVersion
		}
		if r.Info != nil {
			s.State, s.Updated = string(r.Info.Status), r.Info.LastDeployed
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b ReleaseStatus) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return out, nil
}

// LoadBalancer is a Service of type LoadBalancer and its addresses.
type LoadBalancer struct {
	// Namespace and Name name the Service.
	Namespace, Name string
	// Requested is the address asked for (the lbipam.cilium.io/ips
	// annotation, else spec.loadBalancerIP); empty when none.
	Requested string
	// IPs are the addresses assigned (status.loadBalancer.ingress); empty
	// while pending.
	IPs []string
	// Ports are "80/TCP"-style ports.
	Ports []string
}

// LoadBalancers lists the Services of type LoadBalancer, sorted by
// namespace and name.
func (d *Deployer) LoadBalancers(ctx context.Context) ([]LoadBalancer, error) {
	svcs, err := d.opts.cluster.loadBalancers(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]LoadBalancer, 0, len(svcs))
	for _, s := range svcs {
		lb := LoadBalancer{Namespace: s.Namespace, Name: s.Name, Requested: s.Annotations["lbipam.cilium.io/ips"]}
		if lb.Requested == "" {
			lb.Requested = s.Spec.LoadBalancerIP //nolint:staticcheck // still what many charts set
		}
		for _, in := range s.Status.LoadBalancer.Ingress {
			if in.IP != "" {
				lb.IPs = append(lb.IPs, in.IP)
			}
		}
		for _, p := range s.Spec.Ports {
			lb.Ports = append(lb.Ports, fmt.Sprintf("%d/%s", p.Port, p.Protocol))
		}
		out = append(out, lb)
	}
	slices.SortFunc(out, func(a, b LoadBalancer) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return out, nil
}
