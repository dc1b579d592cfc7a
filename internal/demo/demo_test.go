package demo_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/demo"
	"github.com/wdiazux/infra/lib/inventory"
)

func TestDemo(t *testing.T) {
	inv, err := inventory.Load("../../homelab.yaml")
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, demo.Run(context.Background(), inv, &out, demo.WithImagePayload(1<<20), demo.WithDownloadBandwidth(0)))
	text := out.String()
	for _, want := range []string{
		"Created the Talos template.",
		"template                          9000 talos-v1-12-7",
		"Nothing to do: the template already holds this image.",
		"requests that could change the host: 0",
		"  efidisk0  local-zfs:base-9000-disk-0,efitype=4m,pre-enrolled-keys=0,size=1M", // PVE allocates drives sorted by name
		"  scsi0     local-zfs:base-9000-disk-1,discard=on,iothread=1,size=150G,ssd=1",
		"  template  1",
	} {
		require.Contains(t, text, want)
	}
	require.Regexp(t, `installer +127\.0\.0\.1:\d+/installer/[0-9a-f]{64}:v1\.12\.7`, text)
}

// The demo on a smaller image, keeping only the lines that do not change
// between runs.
func ExampleRun() {
	inv, err := inventory.Load("../../homelab.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	var out bytes.Buffer
	if err := demo.Run(context.Background(), inv, &out, demo.WithImagePayload(64<<10), demo.WithDownloadBandwidth(0)); err != nil {
		fmt.Println(err)
		return
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(line, "Created") || strings.HasPrefix(line, "Nothing to do") || strings.HasPrefix(line, "requests that could") {
			fmt.Println(line)
		}
	}
	// Output:
	// Created the Talos template.
	// Nothing to do: the template already holds this image.
	// requests that could change the host: 0
}
