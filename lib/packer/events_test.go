package packer_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/packer"
)

func TestParseEvent(t *testing.T) {
	tests := []struct {
		line  string
		ok    bool
		want  packer.Event
		text  string
		isErr bool
	}{
		{line: "1795749030,,ui,say,==> ubuntu.proxmox-clone.ubuntu: Creating VM", ok: true,
			want: packer.Event{Time: time.Unix(1795749030, 0).UTC(), Type: "ui", Data: []string{"say", "==> ubuntu.proxmox-clone.ubuntu: Creating VM"}},
			text: "==> ubuntu.proxmox-clone.ubuntu: Creating VM"},
		{line: "1795749032,ubuntu.proxmox-clone.ubuntu,artifact,0,id,9102\n", ok: true,
			want: packer.Event{Time: time.Unix(1795749032, 0).UTC(), Target: "ubuntu.proxmox-clone.ubuntu", Type: "artifact", Data: []string{"0", "id", "9102"}}},
		{line: `1795749032,,ui,error,Error creating VM%!(PACKER_COMMA) retry\nlater`, ok: true,
			want: packer.Event{Time: time.Unix(1795749032, 0).UTC(), Type: "ui", Data: []string{"error", "Error creating VM, retry\nlater"}},
			text: "Error creating VM, retry\nlater", isErr: true},
		{line: "2026/11/27 03:10:11 packer-plugin-ansible plugin: panic", ok: false},
		{line: "", ok: false},
		{line: "12,x", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			e, ok := packer.ParseEvent(tt.line)
			require.Equal(t, tt.ok, ok)
			if !ok {
				return
			}
			require.Equal(t, tt.want, e)
			require.Equal(t, tt.text, e.Text())
			require.Equal(t, tt.isErr, e.IsError())
		})
	}
}
