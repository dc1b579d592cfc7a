// Package chartmirror fills a folder with the offline chart repository the
// tests use (internal/kubetest's ChartsDir, shared/charts beside a
// checkout), from the real repositories, for a machine that has none, such
// as an operator's CI runner: every chart the inventory pins, downloaded
// from its own repository or OCI registry through lib/helmdeploy (digests
// checked), as a Helm repository (index.yaml and <chart>-<version>.tgz),
// and crds/cilium-l2-lb.yaml, the CRDs of CiliumLoadBalancerIPPool and
// CiliumL2AnnouncementPolicy, which the Cilium chart does not ship (the
// operator creates them at start-up), taken from Cilium's source at the
// version its chart carries.
package chartmirror
