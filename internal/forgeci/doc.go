// Package forgeci describes the CI workflow for the operator's own Forgejo
// (.forgejo/workflows/ci.yaml, Forgejo Actions syntax) and how actionlint
// checks it: ActionlintArgs adds the configuration that declares the
// Forgejo runner labels. Its tests parse the workflow (it runs go run
// mage.go test with CI=true, caches the tool cache and the chart mirror
// under the right keys, uses only the actions Forgejo mirrors) and run the
// real actionlint on it and on a known-bad workflow.
package forgeci
