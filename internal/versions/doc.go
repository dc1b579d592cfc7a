// Package versions holds the repository to its one list of versions: it
// scans the tracked files (docs, Terraform and Packer constraints, the
// pinned tools modules, values files, Go code, READMEs) for every Talos,
// Kubernetes, chart, tool and image release a line names, and reports each
// one that disagrees with the inventory (homelab.yaml), with the file and
// line, the version found, the inventory's version and its field.
//
// The rules, which docs/operations/quality.md lists for a person:
//
//   - prose: a known name (Talos, Kubernetes, a tool of tools:, a chart
//     of kubernetes.charts whose release is its chart version, an image's
//     OS) immediately followed by a version ("Talos vX.Y.Z",
//     "talosctl X.Y", "kubectl@vX.Y.Z", "tflint-vX.Y.Z/", "Helm `vX.Y.Z`",
//     "Packer >= X.Y"), and a Terraform provider's source before a
//     constraint ("bpg/proxmox `~> X.Y`", against
//     tools.terraform-provider-<type>);
//     a version written with fewer numbers (X.Y) agrees when the
//     inventory's starts with them. A mention that states history or a
//     window rather than a pin (after "since", "before", "until", …, or
//     followed by "to"/"–" another version) is not a pin and is left
//     alone; "X or later" is a floor and must agree like a pin.
//   - chart: "<chart>-<version>.tgz", "chart <chart> <version>", and in
//     YAML a mapping whose chart (or name) is a chart of the inventory and
//     whose version is another.
//   - image: the Kubernetes component images (registry.k8s.io/kube-*,
//     the kubelet) against kubernetes.version, the Talos installer
//     images against talos.version.
//   - terraform / packer: required_version, required_providers and
//     required_plugins constraints; the lowest version a constraint
//     admits (>=, ~>, =) must be the inventory's tool, provider or plugin
//     version at the precision written.
//   - gomod: a pinned tools module (internal/toolchain/modules/<tool>)
//     requires the tool's module at tools.<tool>.
//
// Skipped: homelab.yaml itself, docs/research/, go.sum, Go test files
// (their fixtures are theirs; those that read the real inventory fail on
// their own), and testdata/ except the fixtures rendered from the real
// inventory (a testdata path with a homelab/ folder, the golden files of
// homelab.yaml).
package versions
