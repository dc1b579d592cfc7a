package images

import (
	"context"
	"github.com/wdiazux/infra/lib/cloudimage"
	"io"
)

// CloudBuild is one concrete, verified build of a distribution's cloud
// image, as lib/cloudimage resolves it; lib/cloudimage's Resolver is a
// Sources as it is.
type CloudBuild = cloudimage.Build

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
