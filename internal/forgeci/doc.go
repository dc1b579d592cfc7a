// Package forgeci describes the CI workflow for the operator's own Forgejo
// (.forgejo/workflows/ci.yaml, Forgejo Actions syntax) and the
// configuration actionlint checks it with (ActionlintConfig: the Forgejo
// runner labels). Its tests parse the workflow (it runs go run mage.go
// test with CI=true, caches the tool cache and the chart mirror under the
// right keys, uses only the actions Forgejo mirrors) and run the real
// actionlint, through internal/lint's actionlint step, on it with and
// without that configuration.
package forgeci
