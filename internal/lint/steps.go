package lint

// Steps returns every lint step, in the order Run runs them.
func Steps() []Step {
	return []Step{
		Gofmt(),
		Vet(),
		Staticcheck(),
		Shellcheck(),
		Terraform(),
		Packer(),
		AnsibleLint(),
		Yamllint(),
		Actionlint(),
		Trivy(),
		Kubeconform(),
		Docs(),
		Versions(),
	}
}
