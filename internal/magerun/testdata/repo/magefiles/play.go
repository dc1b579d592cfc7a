//go:build mage

package main

import (
	"context"
	"fmt"

	"github.com/magefile/mage/mg"
)

// Play runs and configures plays.
type Play mg.Namespace

// Run runs PLAYBOOK, e.g. site, against every host. It prints what it ran.
func (Play) Run(ctx context.Context, playbook string,
	// only these hosts
	limit *string,
	// change nothing
	check *bool,
) error {
	fmt.Printf("ran %s limit=%q check=%v\n", playbook, deref(limit), check != nil && *check)
	return nil
}
