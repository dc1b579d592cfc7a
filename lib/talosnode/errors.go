package talosnode

import (
	"fmt"
	"io/fs"
)

// GeneratedFile says which file of the output directory an error is about.
type GeneratedFile int

// The files of the output directory the cluster reads.
const (
	// NodeConfig is a node's machine config, generated with the others
	// from the inventory (lib/talosgen).
	NodeConfig GeneratedFile = iota + 1
	// Talosconfig is the client config the authenticated calls use,
	// generated with the node configs.
	Talosconfig
	// Kubeconfig is the admin kubeconfig Cluster.Kubeconfig fetches from
	// the cluster.
	Kubeconfig
)

// MissingFileError means a file the cluster reads from the output
// directory does not exist yet. It wraps fs.ErrNotExist.
type MissingFileError struct {
	// Path is the file.
	Path string
	// Node is the node whose config it is ("" for the other files).
	Node string
	// File says which file it is, and so what makes it.
	File GeneratedFile
}

// Error names the file and what makes it.
func (e *MissingFileError) Error() string {
	switch e.File {
	case NodeConfig:
		return fmt.Sprintf("%s: %s does not exist: generate the node configs first", e.Node, e.Path)
	case Talosconfig:
		return fmt.Sprintf("%s does not exist: generate the node configs and the talosconfig first", e.Path)
	case Kubeconfig:
		return fmt.Sprintf("%s does not exist: fetch the kubeconfig from the cluster first", e.Path)
	}
	return fmt.Sprintf("%s does not exist", e.Path)
}

// Unwrap returns fs.ErrNotExist.
func (e *MissingFileError) Unwrap() error { return fs.ErrNotExist }

// ForeignConfigError means a node's config file holds a config generated
// for another node, or one not generated at all.
type ForeignConfigError struct {
	// Node is the node the file is named for, Path the file.
	Node, Path string
	// FirstLine is the file's first line, which names the node a
	// generated config is for.
	FirstLine string
}

// Error names the file, what it holds and what to do.
func (e *ForeignConfigError) Error() string {
	return fmt.Sprintf("%s: %s is not the config generated for this node (its first line is %q); generate the node configs again", e.Node, e.Path, e.FirstLine)
}
