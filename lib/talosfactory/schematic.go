package talosfactory

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"gopkg.in/yaml.v3"
)

// Schematic is an Image Factory schematic: the customization baked into
// images. Its field layout and YAML tags follow the factory's own, because
// the schematic ID is the SHA-256 of its YAML encoding.
type Schematic struct {
	// Overlay is the board overlay (SBCs); unused on Proxmox.
	Overlay Overlay `yaml:"overlay,omitempty"`
	// Customization is the image customization.
	Customization Customization `yaml:"customization"`
}

// Customization is what a schematic changes in the image.
type Customization struct {
	// ExtraKernelArgs are appended to the kernel command line.
	ExtraKernelArgs []string `yaml:"extraKernelArgs,omitempty"`
	// Meta holds initial META values.
	Meta []MetaValue `yaml:"meta,omitempty"`
	// SystemExtensions are the extensions built into the image.
	SystemExtensions SystemExtensions `yaml:"systemExtensions,omitempty"`
	// SecureBoot holds the secure boot options.
	SecureBoot SecureBoot `yaml:"secureboot,omitempty"`
}

// MetaValue is one initial META key and value.
type MetaValue struct {
	Key   uint8  `yaml:"key"`
	Value string `yaml:"value"`
}

// SystemExtensions lists the official extensions to include; the factory
// picks the version matching the Talos release.
type SystemExtensions struct {
	OfficialExtensions []string `yaml:"officialExtensions,omitempty"`
}

// Overlay is a board overlay.
type Overlay struct {
	Image   string         `yaml:"image"`
	Name    string         `yaml:"name"`
	Options map[string]any `yaml:"options,omitempty"`
}

// SecureBoot holds secure boot options.
type SecureBoot struct {
	IncludeWellKnownCertificates bool `yaml:"includeWellKnownCertificates,omitempty"`
}

// NewSchematic is the schematic of a set of official extensions and extra
// kernel arguments, in the order given.
func NewSchematic(extensions, kernelArgs []string) Schematic {
	return Schematic{Customization: Customization{
		ExtraKernelArgs:  kernelArgs,
		SystemExtensions: SystemExtensions{OfficialExtensions: extensions},
	}}
}

// Marshal is the schematic's canonical YAML, the body POST /schematics takes.
func (s Schematic) Marshal() ([]byte, error) {
	b, err := yaml.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encode schematic: %w", err)
	}
	return b, nil
}

// ID is the schematic ID: the hex SHA-256 of the canonical YAML, as the
// factory computes it.
func (s Schematic) ID() (string, error) {
	b, err := s.Marshal()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// UnmarshalSchematic reads a schematic strictly: unknown fields are an error.
func UnmarshalSchematic(data []byte) (Schematic, error) {
	var s Schematic
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return Schematic{}, fmt.Errorf("invalid schematic: %w", err)
	}
	return s, nil
}
