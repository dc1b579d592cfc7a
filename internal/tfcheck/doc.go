// Package tfcheck runs the static checks of the repository's Terraform
// code, with the real tools, over every directory under terraform/ that
// holds a *.tf file (Dirs discovers them; nothing is listed by hand):
// terraform fmt -check, terraform validate (after init -backend=false in a
// copy of the tree, providers from the tool cache's filesystem mirrors),
// tflint with the repository's .tflint.hcl (the terraform ruleset bundled
// in tflint, offline) and trivy config with its built-in checks, offline,
// for HIGH and CRITICAL misconfigurations. Every problem is a Finding
// naming the file, the line and the rule. A finding accepted on purpose is
// listed in .trivyignore.yaml with the reason for it (trivyscan.LoadIgnore
// refuses an entry without one).
package tfcheck
