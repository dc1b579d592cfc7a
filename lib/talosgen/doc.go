// Package talosgen owns the Talos machine configs of the cluster: it makes
// the cluster's secrets bundle once and keeps it SOPS-encrypted (through
// lib/secrets), builds one config per node of the inventory with Talos's
// machinery at the inventory's version contract, applies the inventory's
// facts and the patches under talos/patches in a fixed order, validates
// every config strictly for metal before anything is written, and writes
// them (0600) with a diff against what is on disk. Identical inputs give
// byte-identical configs.
package talosgen
