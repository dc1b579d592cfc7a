package inventory

import (
	"fmt"
	"os"
	"reflect"
)

// DefaultFile is the inventory's file name at the repository root.
const DefaultFile = "homelab.yaml"

// EnvFile is the environment variable that points the tools at another
// inventory file.
const EnvFile = "INFRA_INVENTORY"

// FileFromEnv returns the inventory path to use: $INFRA_INVENTORY when set,
// otherwise DefaultFile.
func FileFromEnv() string {
	if p := os.Getenv(EnvFile); p != "" {
		return p
	}
	return DefaultFile
}

// Load reads and validates the inventory at path. An invalid inventory
// returns an *Error listing every problem.
func Load(path string) (*Inventory, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read inventory: %w (set %s or run from the repository root)", err, EnvFile)
	}
	return Parse(path, data)
}

// Parse decodes and validates inventory data; name is the file name used in
// problem reports. An invalid inventory returns an *Error listing every
// problem.
func Parse(name string, data []byte) (*Inventory, error) {
	ps := &problems{file: name, pos: positions{}, failed: map[string]bool{}}
	d := &decoder{problems: ps, fields: map[reflect.Type][]fieldInfo{}}
	var inv Inventory
	if d.decodeDocument(data, &inv) {
		validate(&inv, ps)
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	return &inv, nil
}
