package proxmox_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/wdiazux/infra/internal/testtool"
	"github.com/wdiazux/infra/lib/proxmox"
)

// BenchmarkEnsureDownloaded measures a server-side download of a 64 MiB
// qcow2 through the simulator: the API calls, the task, the transfer over
// loopback, the checksum and the image check.
//
//	go test -run '^$' -bench EnsureDownloaded -benchtime 20x ./lib/proxmox
func BenchmarkEnsureDownloaded(b *testing.B) {
	img := testtool.QCOW2(b, 1<<30, bytes.Repeat([]byte{0xAB}, 64<<20))
	srv := testtool.ServeFiles(b, map[string][]byte{"img.qcow2": img})
	e := newEnv(b)
	ctx := context.Background()
	if _, err := e.client.EnsureStorageContent(ctx, "local", "import"); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(img)))
	b.ResetTimer()
	for i := range b.N {
		_, err := e.client.EnsureDownloaded(ctx, proxmox.DownloadRequest{Node: "pve", Storage: "local", URL: srv.URL + "/img.qcow2",
			Content: "import", Filename: fmt.Sprintf("img-%d.qcow2", i)}, nil)
		if err != nil {
			b.Fatal(err)
		}
	}
}
