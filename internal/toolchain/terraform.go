package toolchain

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/wdiazux/infra/internal/atomicfile"
)

// TerraformCLIConfig returns a Terraform CLI configuration (the file
// TF_CLI_CONFIG_FILE names) that installs each provider from its
// filesystem mirror in the tool cache, and no provider from anywhere else,
// with the update check off: terraform init then works offline. Each tool
// must be a Terraform provider (TerraformProvider set).
func TerraformCLIConfig(cache string, providers []GoTool) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("# Written by internal/toolchain: providers come only from the tool cache.\n")
	b.WriteString("disable_checkpoint = true\n\nprovider_installation {\n")
	for _, p := range providers {
		if p.TerraformProvider == "" {
			return nil, fmt.Errorf("terraform CLI configuration: %s is not a Terraform provider (its TerraformProvider is empty)", p)
		}
		fmt.Fprintf(&b, "  filesystem_mirror {\n    path    = %s\n    include = [%s]\n  }\n",
			strconv.Quote(p.Dir(cache)), strconv.Quote(p.TerraformProvider))
	}
	b.WriteString("}\n")
	return b.Bytes(), nil
}

// WriteTerraformCLIConfig writes TerraformCLIConfig to path, atomically.
func WriteTerraformCLIConfig(path, cache string, providers []GoTool) error {
	data, err := TerraformCLIConfig(cache, providers)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, data, 0o644)
}
