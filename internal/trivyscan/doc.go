// Package trivyscan runs trivy config, with the checks built into trivy
// and nothing downloaded (no check bundle, no vulnerability database, no
// version check), over one folder for HIGH and CRITICAL
// misconfigurations, and reads them as findings naming the file, the line
// and the check. It is the one way the repository runs trivy: over the
// Terraform code (internal/tfcheck), kubernetes/ and the rendered add-on
// manifests (internal/lint's trivy step).
//
// The findings accepted on purpose are listed in one file, the
// repository's .trivyignore.yaml (trivy's YAML ignore format), each with
// an id and a statement saying why (LoadIgnore refuses an entry without
// them). Its paths are relative to the repository root, each under a
// scanned folder's name (terraform/…, kubernetes/…, rendered/<release>/…
// for the rendered manifests); Scan gives trivy, for the folder it scans,
// the entries that concern it with their paths made relative to it.
package trivyscan
