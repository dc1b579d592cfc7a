package images

import (
	"context"
	"errors"
	"io"

	"github.com/wdiazux/infra/lib/proxmox"
)

// Uploader streams a file into a storage (lib/proxmox's Client.Upload).
type Uploader interface {
	Upload(ctx context.Context, req proxmox.UploadRequest, progress proxmox.Progress) (*proxmox.TaskResult, error)
}

// vmaJob is one NixOS image to convert and upload: the zstd-compressed VMA
// stream, and the import file it becomes.
type vmaJob struct {
	Node, Storage, File string
	Source              io.Reader
	TempDir             string
	Progress            func(stage string, done, total int64)
}

// vmaStage converts a NixOS VMA stream to a qcow2 image and uploads it as
// import content with its sha256; it returns that sha256. It is the seam
// between the cloud import and lib/images' VMA stage (vma_stage.go's
// uploadVMA): a test replaces it with a fake.
type vmaStage func(ctx context.Context, up Uploader, job vmaJob) (sha256 string, err error)

// ErrNoVMAStage is returned (wrapped) by a NixOS import in a build that
// has no VMA stage yet; it is refused before anything changes.
var ErrNoVMAStage = errors.New("no VMA conversion in this build")

// realVMAStage is lib/images' VMA stage, or nil while vma_stage.go is not
// merged. At the merge it becomes:
//
//	return func(ctx context.Context, up Uploader, job vmaJob) (string, error) {
//		res, err := uploadVMA(ctx, up, vmaUpload{Node: job.Node, Storage: job.Storage, File: job.File,
//			Source: job.Source, TempDir: job.TempDir, Progress: job.Progress})
//		return res.SHA256, err
//	}
func realVMAStage() vmaStage { return nil }
