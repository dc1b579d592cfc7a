package progress

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/lib/plan"
)

func TestPrinterOutsideATerminal(t *testing.T) {
	var buf bytes.Buffer
	p := New(&buf)
	clock := time.Unix(0, 0)
	p.now = func() time.Time { return clock }
	p.Step("download talos.qcow2")
	for _, pct := range []float64{0, 3, 12, 19, 50, 99, 100, 100} {
		p.Update(pct, "via PVE")
	}
	clock = clock.Add(1500 * time.Millisecond)
	p.Done("downloaded")
	require.Equal(t, `→ download talos.qcow2
  [------------------------------]   0.0% via PVE
  [###---------------------------]  12.0% via PVE
  [###############---------------]  50.0% via PVE
  [#############################-]  99.0% via PVE
  [##############################] 100.0% via PVE
  ✓ downloaded (1.5s)
`, buf.String())
}

func TestPrinterOnATerminalRedraws(t *testing.T) {
	var buf bytes.Buffer
	p := New(&buf)
	p.tty = true
	p.Step("create VM")
	p.Update(50, "")
	p.Note("importing")
	require.Equal(t, "→ create VM\n\r  [###############---------------]  50.0% \x1b[K\n  importing\n", buf.String())
}

func ExamplePrinter() {
	var out bytes.Buffer
	p := New(&out)
	p.Step("convert to template")
	p.Update(100, "qmtemplate")
	p.Done("template 9000")
	fmt.Print(out.String()[:len("→ convert to template\n")])
	// Output: → convert to template
}

func TestPrintEvents(t *testing.T) {
	var buf bytes.Buffer
	p := New(&buf)
	clock := time.Unix(0, 0)
	p.now = func() time.Time { return clock }
	show := PrintEvents(p)
	for _, ev := range []plan.Event{
		{Step: "check the image factory", Message: "Talos v1.12.7", Percent: -1},
		{Step: "check the image factory", Message: "offered", Percent: -1, Done: true},
		{Step: "download the image", Message: "talos.qcow2", Percent: 0},
		{Step: "download the image", Message: "PVE downloads talos.qcow2", Percent: 55},
		{Step: "download the image", Message: "downloaded", Percent: 100, Done: true},
	} {
		show(ev)
	}
	require.Equal(t, `→ check the image factory
  Talos v1.12.7
  ✓ offered (0s)
→ download the image
  [------------------------------]   0.0% talos.qcow2
  [################--------------]  55.0% PVE downloads talos.qcow2
  ✓ downloaded (0s)
`, buf.String())
}
