// Package factorysim is a loopback stand-in for the Talos Image Factory, for
// tests and the demo: it lists versions and official extensions, registers
// schematics by their content ID, and serves a small, valid qcow2 for every
// registered schematic and version (deterministic, so its checksum can be
// pinned). Faults can be injected and the image bytes it serves are counted.
package factorysim
