// Package lint runs every linter and scanner this repository's assets need
// (Go, shell, Terraform, Packer, Ansible, YAML, Kubernetes manifests, the
// CI workflow, the generated docs) as named steps, each reporting how many
// files it checked and its findings as file:line: rule: message. It is the
// engine of the lint target and of the first step of the test target; it
// lints this repository, so it lives under internal/.
//
// Steps lists the steps in order; Run runs them, each even after another
// failed, prints the findings and a summary table and returns a
// *FailedError naming the failed steps; Check is the whole run over a
// repository (tools from the tool cache, -only, -staged, -fix) that the
// targets call.
package lint
