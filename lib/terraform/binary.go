package terraform

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// EnvBinary names the binary to run: "terraform", "tofu" or a path. Unset,
// terraform is preferred when both are on PATH.
const EnvBinary = "INFRA_TERRAFORM"

// Binary is the Terraform-compatible binary a Runner runs.
type Binary struct {
	// Name is "terraform" or "tofu" (the base name of Path for another
	// binary named by path).
	Name string
	// Path is the executable's path.
	Path string
	// Version is what the binary reports, e.g. 1.11.4 (empty until New
	// asked it).
	Version string
}

// String is "terraform 1.11.4 (/usr/local/bin/terraform)".
func (b Binary) String() string {
	return strings.TrimSpace(fmt.Sprintf("%s %s (%s)", b.Name, b.Version, b.Path))
}

// BinaryNotFoundError is no terraform or tofu binary to run.
type BinaryNotFoundError struct {
	// Wanted is what was looked for: the value of INFRA_TERRAFORM, or
	// "terraform or tofu".
	Wanted string
	// Err is the lookup's error.
	Err error
}

// Error says what is missing and what to install.
func (e *BinaryNotFoundError) Error() string {
	return fmt.Sprintf("no %s on PATH (%v): install Terraform >= 1.11 (the terraform binary) or OpenTofu (tofu), "+
		"or set %s to the binary's path", e.Wanted, e.Err, EnvBinary)
}

// Unwrap returns the lookup's error.
func (e *BinaryNotFoundError) Unwrap() error { return e.Err }

// FindBinary picks the binary: the one env's INFRA_TERRAFORM names
// ("terraform", "tofu" or a path), else terraform when lookPath finds it,
// else tofu. lookPath is exec.LookPath when nil.
func FindBinary(getenv func(string) string, lookPath func(string) (string, error)) (Binary, error) {
	if lookPath == nil {
		lookPath = exec.LookPath
	}
	if want := getenv(EnvBinary); want != "" {
		p, err := lookPath(want)
		if err != nil {
			return Binary{}, &BinaryNotFoundError{Wanted: fmt.Sprintf("%s=%s", EnvBinary, want), Err: err}
		}
		return Binary{Name: filepath.Base(want), Path: p}, nil
	}
	var errs []error
	for _, name := range []string{"terraform", "tofu"} {
		p, err := lookPath(name)
		if err == nil {
			return Binary{Name: name, Path: p}, nil
		}
		errs = append(errs, err)
	}
	return Binary{}, &BinaryNotFoundError{Wanted: "terraform or tofu", Err: errors.Join(errs...)}
}
