package helmdeploy

import "time"

// Release is one Helm release kept at a declared state.
type Release struct {
	// Name is the release name, unique in a set; DependsOn refers to it.
	Name string
	// Namespace holds the release and its objects; it is created when
	// missing.
	Namespace string
	// NamespaceLabels are set on the namespace, e.g.
	// pod-security.kubernetes.io/enforce: privileged.
	NamespaceLabels map[string]string
	// Chart is the chart installed from a repository. Exactly one of Chart
	// and Manifests is set.
	Chart *ChartRef
	// Manifests are rendered Kubernetes objects (YAML documents) installed
	// as the release of a chart built in memory, so they get revisions,
	// rollback and pruning like any chart.
	Manifests []byte
	// Values are the chart's values; nil for Manifests.
	Values map[string]any
	// DependsOn names the releases that must be deployed and ready before
	// this one is installed or upgraded.
	DependsOn []string
	// Timeout bounds the wait for this release's objects; zero takes the
	// deployer's default.
	Timeout time.Duration
}

// ChartRef pins a chart in a repository.
type ChartRef struct {
	// Repository is the repository URL: https://… for a classic Helm
	// repository (index.yaml), oci://… for an OCI registry.
	Repository string
	// Name is the chart's name in the repository.
	Name string
	// Version is the exact chart version.
	Version string
}
