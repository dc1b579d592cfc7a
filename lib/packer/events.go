package packer

import (
	"strconv"
	"strings"
	"time"
)

// Event is one line of Packer's -machine-readable output:
// timestamp,target,type,data...
type Event struct {
	// Time is the line's timestamp.
	Time time.Time
	// Target is the build the line is about ("ubuntu.proxmox-clone.ubuntu"),
	// empty for ui lines.
	Target string
	// Type is the line's type: "ui", "artifact", "artifact-count", "error", ...
	Type string
	// Data are the remaining fields, unescaped (commas and newlines).
	Data []string
	// Step is what the build is doing, kept across lines: the last step
	// Packer announced ("Creating VM", "Provisioning with Ansible...").
	Step string
	// Provisioner is the provisioner running ("ansible", "shell", "file"),
	// empty outside the provisioning step.
	Provisioner string
}

// Text is a ui line's text (Data[1] of ui,say / ui,message / ui,error).
func (e Event) Text() string {
	if e.Type == "ui" && len(e.Data) > 1 {
		return e.Data[1]
	}
	return ""
}

// IsError reports a ui,error line.
func (e Event) IsError() bool { return e.Type == "ui" && len(e.Data) > 0 && e.Data[0] == "error" }

// unescape undoes the escaping of -machine-readable data fields.
var unescape = strings.NewReplacer("%!(PACKER_COMMA)", ",", `\n`, "\n", `\r`, "\r")

// ParseEvent reads one -machine-readable line; ok is false for a line that
// is not one (Packer's plugins may print others to stderr).
func ParseEvent(line string) (Event, bool) {
	fields := strings.Split(strings.TrimRight(line, "\r\n"), ",")
	if len(fields) < 3 {
		return Event{}, false
	}
	ts, err := strconv.ParseInt(fields[0], 10, 64)
	if err != nil || fields[2] == "" {
		return Event{}, false
	}
	e := Event{Time: time.Unix(ts, 0).UTC(), Target: fields[1], Type: fields[2]}
	for _, d := range fields[3:] {
		e.Data = append(e.Data, unescape.Replace(d))
	}
	return e, true
}

// progress follows the build's step through its ui lines.
type progress struct {
	step, provisioner string
}

// stepPrefix is how Packer's ui announces a step: "==> <build>: <step>".
const stepPrefix = "==> "

// provisioners maps how Packer announces a provisioner to its type.
var provisioners = []struct{ prefix, name string }{
	{"Provisioning with Ansible", "ansible"},
	{"Provisioning with shell script", "shell"},
	{"Provisioning with shell", "shell"},
	{"Uploading ", "file"},
}

// observe fills e.Step and e.Provisioner from the lines seen so far.
func (p *progress) observe(e *Event) {
	text := e.Text()
	if e.Type == "ui" && len(e.Data) > 0 && e.Data[0] == "say" && strings.HasPrefix(text, stepPrefix) {
		if _, step, ok := strings.Cut(strings.TrimPrefix(text, stepPrefix), ": "); ok {
			p.step, p.provisioner = step, ""
			for _, pr := range provisioners {
				if strings.HasPrefix(step, pr.prefix) {
					p.provisioner = pr.name
				}
			}
		}
	}
	e.Step, e.Provisioner = p.step, p.provisioner
}
