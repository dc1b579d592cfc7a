package images

import (
	"context"
	"io"
)

// WithVMAStage replaces the NixOS VMA stage with f (tests: a fake). f gets the uploader, the target and the VMA
// stream, and returns the sha256 of what it uploaded.
func WithVMAStage(o CloudImportOptions, f func(ctx context.Context, up Uploader, node, storage, file string, src io.Reader) (string, error)) CloudImportOptions {
	o.stageVMA = func(ctx context.Context, up Uploader, req vmaUpload) (string, error) {
		return f(ctx, up, req.Node, req.Storage, req.File, req.Source)
	}
	return o
}
