package progress

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/plan"
)

// TestLinesOnePerName: several parallel jobs, one status line each. In a
// log every finished step is a line prefixed with its job; on a terminal
// the lines are redrawn in place, one per job, whatever the order of the
// events.
func TestLinesOnePerName(t *testing.T) {
	events := []struct {
		name string
		ev   plan.Event
	}{
		{"ubuntu", plan.Event{Step: "download the image", Message: "x.qcow2", Percent: 0}},
		{"debian", plan.Event{Step: "download the image", Message: "y.qcow2", Percent: 0}},
		{"ubuntu", plan.Event{Step: "download the image", Message: "PVE downloads x.qcow2", Percent: 50}},
		{"debian", plan.Event{Step: "download the image", Message: "PVE downloaded y.qcow2", Percent: 100, Done: true}},
		{"ubuntu", plan.Event{Step: "create the VM", Message: "VM 9100 created", Percent: 100, Done: true}},
	}

	var log bytes.Buffer
	l := newLines(&log, []string{"debian", "ubuntu"}, false)
	for _, e := range events {
		l.Events(e.name)(e.ev)
	}
	l.Finish("debian", "done")
	require.Equal(t, "debian  ✓ download the image: PVE downloaded y.qcow2\n"+
		"ubuntu  ✓ create the VM: VM 9100 created\n"+
		"debian  done\n", log.String())

	var tty bytes.Buffer
	l = newLines(&tty, []string{"debian", "ubuntu"}, true)
	for _, e := range events {
		l.Events(e.name)(e.ev)
	}
	frames := strings.Split(tty.String(), "\x1b[2A")
	require.Len(t, frames, len(events), "every redraw moves up over the two lines it drew")
	last := frames[len(frames)-1]
	require.Equal(t, "\r\x1b[Kdebian  download the image: PVE downloaded y.qcow2\n\r\x1b[Kubuntu  create the VM: VM 9100 created\n", last)
	require.Contains(t, frames[2], "ubuntu  download the image  50%: PVE downloads x.qcow2")
}
