//go:build mage

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/wdiazux/infra/internal/lint"
)

// Lint runs every linter and scanner over the repository, one row per step (-fix applies the formatters, -only=NAME[,NAME] runs those steps, -staged checks only the staged files).
func Lint(ctx context.Context,
	// rewrite what the formatters (gofmt, terraform fmt, packer fmt) would change
	fix *bool,
	// run only these steps, comma-separated (gofmt, vet, staticcheck, shellcheck, terraform, packer, ansible-lint, yamllint, actionlint, trivy, kubeconform, docs, versions)
	only *string,
	// check only the files staged in git (the pre-commit hook)
	staged *bool,
	// chart mirror the add-on manifests are rendered from, a folder or URL with index.yaml (default: $INFRA_CHART_MIRROR, else a shared/charts folder above the repository, else the inventory's repositories)
	mirror *string,
) error {
	root, err := os.Getwd()
	if err != nil {
		return fmt.Errorf("find the repository root (the working directory): %w", err)
	}
	var names []string
	if v := value(only); v != "" {
		names = strings.Split(v, ",")
	}
	err = lint.Check(ctx, root, lint.WithFix(isSet(fix)), lint.WithOnly(names...), lint.WithStaged(isSet(staged)), lint.WithChartMirror(value(mirror)),
		lint.WithBuildTools(true), lint.WithLogger(logger()))
	var failed *lint.FailedError
	if errors.As(err, &failed) && !isSet(fix) {
		fmt.Println("To fix: the findings above name file and line; go run mage.go lint -fix rewrites what gofmt, terraform fmt and packer fmt would change.")
	}
	return err
}
