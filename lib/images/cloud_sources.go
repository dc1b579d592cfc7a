package images

import (
	"context"
	"io"
)

// CloudBuild is one concrete, verified build of a distribution's cloud
// image, as lib/cloudimage resolves it. Its fields are lib/cloudimage's
// Build; it becomes an alias of that type when the package lands
// (type CloudBuild = cloudimage.Build), so lib/cloudimage's Resolver is a
// Sources as it is.
type CloudBuild struct {
	// OS and Release: "ubuntu", "24.04".
	OS, Release string
	// Serial is the publisher's build name: "20261120", "20261118-2301".
	Serial string
	// URL is the image itself, a concrete build (never a "latest" alias).
	URL string
	// File is the publisher's file name.
	File string
	// Format is "qcow2" or "vma.zst".
	Format string
	// Checksum (lower-case hex) and Algorithm ("sha256" or "sha512") are
	// the publisher's.
	Checksum  string
	Algorithm string
	// ChecksumURL is the file the sum was read from.
	ChecksumURL string
	// SignedBy is the fingerprint of the key whose signature was verified;
	// "" only where the publisher signs nothing.
	SignedBy string
}

// Sources is what a cloud import needs from the distributions' download
// sites (lib/cloudimage's Resolver). Latest and Build return builds whose
// checksum file's signature was verified against the distribution's pinned
// key; any error (a bad signature, an unknown key, a missing entry, an
// unknown OS or release) stops the import before it changes anything.
type Sources interface {
	// Latest is the newest build of an OS release.
	Latest(ctx context.Context, os, release string) (CloudBuild, error)
	// Build is a known build (the one images.lock records).
	Build(ctx context.Context, os, release, serial string) (CloudBuild, error)
	// Open streams the image's bytes; a Read at the end fails when they
	// differ from b.Checksum. Only NixOS, converted here, needs it.
	Open(ctx context.Context, b CloudBuild) (io.ReadCloser, error)
}
