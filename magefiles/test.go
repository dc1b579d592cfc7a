//go:build mage

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/wdiazux/infra/internal/lint"
	"github.com/wdiazux/infra/internal/testsuite"
)

// Test runs every check (what CI runs): installs and builds the tools the tests need, then lint (every step; each must check at least one file), secrets:check and go test -race -timeout 30m ./... (without internal/lint's TestTheRepositoryIsClean, which runs the steps the lint step just ran); every check runs even after one failed, then a summary table names each with its result and time.
func Test(ctx context.Context) error {
	s, err := suite()
	if err != nil {
		return err
	}
	return s.Run(ctx)
}

// Fuzz runs each fuzz test for -fuzztime (default 60s; go run mage.go fuzz -fuzztime=5m for longer).
func Fuzz(ctx context.Context,
	// how long to run each fuzz test (default 60s)
	fuzztime *time.Duration,
) error {
	d := 60 * time.Second
	if fuzztime != nil {
		d = *fuzztime
	}
	s, err := suite()
	if err != nil {
		return err
	}
	return s.Fuzz(ctx, d)
}

// suite is the suite of the repository the target runs in.
func suite() (*testsuite.Suite, error) {
	root, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("find the repository root (the working directory): %w", err)
	}
	log := logger()
	linter := func(ctx context.Context, out io.Writer) error {
		return lint.Check(ctx, root, lint.WithOutput(out), lint.WithLogger(log))
	}
	return testsuite.New(root, testsuite.WithLogger(log), testsuite.WithCI(os.Getenv("CI") == "true"), testsuite.WithLint(linter),
		testsuite.WithLintCovers(lint.RepositoryTest)), nil
}
