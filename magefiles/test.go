//go:build mage

package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/wdiazux/infra/internal/testsuite"
)

// Test runs every check (what CI runs): installs and builds the tools the tests need, then gofmt, go vet, secrets:check and go test -race.
func Test(ctx context.Context) error {
	return suite().Run(ctx)
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
	return suite().Fuzz(ctx, d)
}

func suite() *testsuite.Suite {
	root, err := os.Getwd()
	if err != nil {
		panic(fmt.Sprintf("working directory: %v", err))
	}
	return testsuite.New(root, testsuite.WithLogger(logger()), testsuite.WithCI(os.Getenv("CI") == "true"))
}
