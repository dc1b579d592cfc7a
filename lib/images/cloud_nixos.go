package images

import (
	"context"

	"github.com/wdiazux/infra/lib/proxmox"
)

// Uploader streams a file into a storage (lib/proxmox's Client.Upload).
type Uploader interface {
	Upload(ctx context.Context, req proxmox.UploadRequest, progress proxmox.Progress) (*proxmox.TaskResult, error)
}

// vmaStage converts a NixOS VMA stream to a qcow2 image and uploads it as
// import content with its sha256; it returns that sha256. A real import
// uses convertAndUploadVMA; a test replaces it with a fake.
type vmaStage func(ctx context.Context, up Uploader, req vmaUpload) (sha256 string, err error)

// convertAndUploadVMA is the vmaStage of a real import: uploadVMA
// (vma_stage.go).
func convertAndUploadVMA(ctx context.Context, up Uploader, req vmaUpload) (string, error) {
	res, err := uploadVMA(ctx, up, req)
	return res.SHA256, err
}
