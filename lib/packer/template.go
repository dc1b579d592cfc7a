package packer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Source types of the proxmox plugin a template may build from.
const (
	SourceClone = "proxmox-clone"
	SourceISO   = "proxmox-iso"
)

// Template is one of the repository's Packer templates:
// packer/<Name>/<Name>.pkr.hcl and the files beside it.
type Template struct {
	// Name is the directory's name, the OS: "ubuntu", "windows", ...
	Name string
	// Dir is the template's directory, File its .pkr.hcl file.
	Dir, File string
	// SourceType and SourceName are the labels of its source block:
	// "proxmox-clone", "ubuntu".
	SourceType, SourceName string
	// SCSIController and CPUType are the literal values of the source's
	// scsi_controller and cpu_type: the plugin resets a VM's to lsi and
	// kvm64 when they are unset, so a template must set both.
	SCSIController, CPUType string
}

// TemplateError is a template file that cannot be used, with what to do.
type TemplateError struct {
	// File is the template file, Line the line (0 when the file as a whole).
	File string
	Line int
	// Problem says what is wrong and what to do.
	Problem string
}

// Error is "file:line: problem".
func (e *TemplateError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Problem)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Problem)
}

// ErrUnknownTemplate is a template name with no directory under packer/.
var ErrUnknownTemplate = errors.New("no such Packer template")

// Templates lists the templates under root's packer/ directory, sorted by
// name: every directory packer/<name>/ that holds <name>.pkr.hcl.
func Templates(root string) ([]Template, error) {
	dirs, err := os.ReadDir(filepath.Join(root, "packer"))
	if err != nil {
		return nil, fmt.Errorf("packer templates: %w", err)
	}
	var out []Template
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		file := filepath.Join(root, "packer", d.Name(), d.Name()+".pkr.hcl")
		if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		t, err := LoadTemplate(filepath.Dir(file))
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("packer templates: no packer/<name>/<name>.pkr.hcl under %s", root)
	}
	return out, nil
}

// FindTemplate returns the template called name under root, or an error
// wrapping ErrUnknownTemplate that lists the ones there are.
func FindTemplate(root, name string) (Template, error) {
	all, err := Templates(root)
	if err != nil {
		return Template{}, err
	}
	var names []string
	for _, t := range all {
		if t.Name == name {
			return t, nil
		}
		names = append(names, t.Name)
	}
	return Template{}, fmt.Errorf("%w %q under %s: there are %v", ErrUnknownTemplate, name, filepath.Join(root, "packer"), names)
}

// LoadTemplate reads the template in dir: <base name of dir>.pkr.hcl, which
// must hold exactly one source block of the proxmox plugin setting
// scsi_controller and cpu_type to literal strings.
func LoadTemplate(dir string) (Template, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return Template{}, fmt.Errorf("packer template %s: %w", dir, err)
	}
	name := filepath.Base(dir)
	t := Template{Name: name, Dir: dir, File: filepath.Join(dir, name+".pkr.hcl")}
	src, err := os.ReadFile(t.File)
	if err != nil {
		return Template{}, fmt.Errorf("packer template %s: %w", name, err)
	}
	f, diags := hclsyntax.ParseConfig(src, t.File, hcl.InitialPos)
	if diags.HasErrors() {
		return Template{}, &TemplateError{File: t.File, Problem: diags.Error()}
	}
	body := f.Body.(*hclsyntax.Body)
	var sources []*hclsyntax.Block
	for _, b := range body.Blocks {
		if b.Type == "source" && len(b.Labels) == 2 {
			sources = append(sources, b)
		}
	}
	if len(sources) != 1 {
		return Template{}, &TemplateError{File: t.File, Problem: fmt.Sprintf("has %d source blocks; a template builds from exactly one", len(sources))}
	}
	s := sources[0]
	t.SourceType, t.SourceName = s.Labels[0], s.Labels[1]
	line := s.DefRange().Start.Line
	if !slices.Contains([]string{SourceClone, SourceISO}, t.SourceType) {
		return Template{}, &TemplateError{File: t.File, Line: line,
			Problem: fmt.Sprintf("source %q: the templates build with %s or %s", t.SourceType, SourceClone, SourceISO)}
	}
	for attr, dst := range map[string]*string{"scsi_controller": &t.SCSIController, "cpu_type": &t.CPUType} {
		a, ok := s.Body.Attributes[attr]
		if !ok {
			return Template{}, &TemplateError{File: t.File, Line: line,
				Problem: fmt.Sprintf("source %s.%s does not set %s: plugin 1.1.0 then resets the VM's to its own default (lsi, kvm64); set it", t.SourceType, t.SourceName, attr)}
		}
		v, diags := a.Expr.Value(nil)
		if diags.HasErrors() || v.Type() != cty.String || v.IsNull() {
			return Template{}, &TemplateError{File: t.File, Line: a.SrcRange.Start.Line,
				Problem: fmt.Sprintf("%s must be a literal string, so the check after a build knows what to expect", attr)}
		}
		*dst = v.AsString()
	}
	return t, nil
}
