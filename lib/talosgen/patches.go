package talosgen

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	jsonpatch "github.com/evanphx/json-patch"
	"github.com/siderolabs/talos/pkg/machinery/config/configpatcher"
	"gopkg.in/yaml.v3"

	"github.com/wdiazux/infra/lib/inventory"
)

// DefaultPatchDir is where the patches live, relative to the repository.
const DefaultPatchDir = "talos/patches"

// The patch groups, in the order they apply after the inventory's facts.
const (
	GroupGlobal       = "global"
	GroupControlPlane = "controlplane"
	GroupWorker       = "worker"
	GroupGPU          = "gpu"
	GroupLonghorn     = "longhorn"
	GroupNodes        = "nodes"
)

// Patch is one patch file, loaded.
type Patch struct {
	// Path is the file the patch came from.
	Path  string
	patch configpatcher.Patch
}

// Patches are the patch files of a patch directory, by group; Nodes is
// keyed by node name.
type Patches struct {
	Dir   string
	Group map[string][]Patch
	Nodes map[string][]Patch
}

// PatchError says which patch file is wrong and where.
type PatchError struct {
	// Path is the patch file.
	Path string
	// Line is the line in the file, or 0.
	Line int
	// Field is the dotted field path, or "".
	Field string
	// Problem says what is wrong and what to do.
	Problem string
}

// Error formats "file:line: field: problem".
func (e *PatchError) Error() string {
	var b strings.Builder
	b.WriteString(e.Path)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Problem)
	return b.String()
}

// LoadPatches reads every patch of dir, checking each one, and every node
// directory against the inventory's nodes. All problems are reported.
func LoadPatches(dir string, inv *inventory.Inventory) (*Patches, error) {
	p := &Patches{Dir: dir, Group: map[string][]Patch{}, Nodes: map[string][]Patch{}}
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("read the Talos patches: %w", err)
	}
	known := map[string]bool{GroupGlobal: true, GroupControlPlane: true, GroupWorker: true, GroupGPU: true, GroupLonghorn: true, GroupNodes: true}
	nodes := map[string]bool{}
	for _, n := range inv.Talos.Nodes {
		nodes[n.Name] = true
	}
	var errs []error
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		switch {
		case !e.IsDir() && isDoc(e.Name()):
		case !e.IsDir():
			errs = append(errs, &PatchError{Path: path, Problem: "patches go in a group directory (global, controlplane, worker, gpu, longhorn, nodes/<node>)"})
		case !known[e.Name()]:
			errs = append(errs, &PatchError{Path: path, Problem: "not a patch group; the groups are global, controlplane, worker, gpu, longhorn and nodes"})
		case e.Name() == GroupNodes:
			sub, err := os.ReadDir(path)
			if err != nil {
				return nil, err
			}
			for _, s := range sub {
				spath := filepath.Join(path, s.Name())
				switch {
				case !s.IsDir() && isDoc(s.Name()):
				case !s.IsDir():
					errs = append(errs, &PatchError{Path: spath, Problem: "node patches go in nodes/<node name>/"})
				case !nodes[s.Name()]:
					errs = append(errs, &PatchError{Path: spath, Problem: fmt.Sprintf("no Talos node %q in the inventory (talos.nodes[].name)", s.Name())})
				default:
					list, err := loadGroup(spath)
					errs = append(errs, err)
					p.Nodes[s.Name()] = list
				}
			}
		default:
			list, err := loadGroup(path)
			errs = append(errs, err)
			p.Group[e.Name()] = list
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return p, nil
}

// isDoc reports files that document a directory rather than patch.
func isDoc(name string) bool {
	return strings.EqualFold(filepath.Ext(name), ".md") || name == ".gitkeep"
}

// loadGroup loads the *.yaml files of a directory in name order.
func loadGroup(dir string) ([]Patch, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []Patch
	var errs []error
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		switch {
		case e.IsDir():
			errs = append(errs, &PatchError{Path: path, Problem: "a directory inside a patch group; patches are the *.yaml files of the group"})
			continue
		case isDoc(e.Name()):
			continue
		case filepath.Ext(e.Name()) != ".yaml":
			errs = append(errs, &PatchError{Path: path, Problem: "patch files end in .yaml; rename it, or move it out of " + DefaultPatchDir})
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		patch, err := LoadPatch(path, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, patch)
	}
	return out, errors.Join(errs...)
}

// LoadPatch parses one strategic-merge patch. JSON6902 patches are refused:
// Talos v1.12 configs are multi-document, which JSON6902 cannot patch.
func LoadPatch(path string, data []byte) (Patch, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return Patch{}, &PatchError{Path: path, Problem: "empty patch; delete the file"}
	}
	p, err := configpatcher.LoadPatch(data)
	if err != nil {
		return Patch{}, explainLoadError(path, data, err)
	}
	if _, ok := p.(jsonpatch.Patch); ok {
		return Patch{}, &PatchError{Path: path, Line: 1, Problem: "a JSON6902 patch (a list of operations): Talos v1.12 machine configs are multi-document, which JSON6902 cannot patch; write it as a strategic merge patch, a partial config document such as \"machine:\\n  install:\\n    disk: /dev/sda\""}
	}
	return Patch{Path: path, patch: p}, nil
}

var (
	unknownKeysRe = regexp.MustCompile(`(?s)unknown keys found during decoding:\n(.*)$`)
	lineRe        = regexp.MustCompile(`line (\d+): (.*)`)
)

// explainLoadError turns a machinery decode error into the file, line and
// field it is about.
func explainLoadError(path string, data []byte, err error) error {
	msg := err.Error()
	if m := unknownKeysRe.FindStringSubmatch(msg); m != nil {
		var errs []error
		for _, field := range leafPaths(m[1]) {
			errs = append(errs, &PatchError{Path: path, Line: lineOf(data, field), Field: field,
				Problem: "unknown field for this Talos version (check the spelling against the Talos v1.12 configuration reference)"})
		}
		if len(errs) > 0 {
			return errors.Join(errs...)
		}
	}
	if m := lineRe.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &PatchError{Path: path, Line: line, Field: fieldAt(data, line), Problem: strings.TrimSpace(m[2])}
	}
	return &PatchError{Path: path, Problem: "not a Talos config patch: " + msg}
}

// leafPaths lists the dotted paths of the leaves of a YAML snippet.
func leafPaths(snippet string) []string {
	var root yaml.Node
	if yaml.Unmarshal([]byte(snippet), &root) != nil || len(root.Content) == 0 {
		return nil
	}
	var out []string
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
			out = append(out, path)
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			walk(n.Content[i+1], strings.TrimPrefix(path+"."+n.Content[i].Value, "."))
		}
	}
	walk(root.Content[0], "")
	slices.Sort(out)
	return out
}

// lineOf returns the line of a dotted field path in a patch, or 0.
func lineOf(data []byte, field string) int {
	line := 0
	eachField(data, func(path string, key *yaml.Node) bool {
		if path == field {
			line = key.Line
			return false
		}
		return true
	})
	return line
}

// fieldAt returns the dotted path of the field whose key or value is on a
// line of a patch, or "".
func fieldAt(data []byte, line int) string {
	field := ""
	eachField(data, func(path string, key *yaml.Node) bool {
		if key.Line <= line {
			field = path
		}
		return key.Line < line
	})
	return field
}

// eachField walks the mapping keys of every document in a patch, in file
// order, until visit returns false.
func eachField(data []byte, visit func(path string, key *yaml.Node) bool) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var walk func(n *yaml.Node, path string) bool
	walk = func(n *yaml.Node, path string) bool {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				p := strings.TrimPrefix(path+"."+n.Content[i].Value, ".")
				if !visit(p, n.Content[i]) || !walk(n.Content[i+1], p) {
					return false
				}
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				if !walk(c, path+"["+strconv.Itoa(i)+"]") {
					return false
				}
			}
		case yaml.DocumentNode:
			for _, c := range n.Content {
				if !walk(c, path) {
					return false
				}
			}
		}
		return true
	}
	for {
		var doc yaml.Node
		if dec.Decode(&doc) != nil {
			return
		}
		if !walk(&doc, "") {
			return
		}
	}
}

// forNode returns the patches that apply to a node, in order.
func (p *Patches) forNode(n inventory.TalosNode) []Patch {
	var out []Patch
	out = append(out, p.Group[GroupGlobal]...)
	if n.Role == inventory.RoleControlPlane {
		out = append(out, p.Group[GroupControlPlane]...)
	} else {
		out = append(out, p.Group[GroupWorker]...)
	}
	if n.GPU.Enabled {
		out = append(out, p.Group[GroupGPU]...)
	}
	if n.DataDiskGiB > 0 {
		out = append(out, p.Group[GroupLonghorn]...)
	}
	return append(out, p.Nodes[n.Name]...)
}
