package lint

// ManifestSteps are the steps of the Terraform code's and the Kubernetes
// manifests' scanners, in order: trivy, kubeconform. Steps lists them.
func ManifestSteps() []Step {
	return []Step{Trivy(), Kubeconform()}
}
