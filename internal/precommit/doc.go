// Package precommit holds the checks every commit runs, in order, as one
// list (Hooks): the secrets guard, the formatters and the linters on the
// staged files, each a Mage target. .pre-commit-config.yaml (Config, for
// the pre-commit framework) and the git hook secrets:hook installs
// (GitHook) are both made from it, so the two ways of installing the
// checks run the same commands; the package's tests hold the committed
// file to the list and each entry to a target that exists.
package precommit
