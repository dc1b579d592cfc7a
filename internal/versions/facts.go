package versions

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Fact is one version the inventory pins.
type Fact struct {
	// Field is its path in the inventory, e.g. talos.version,
	// kubernetes.charts.cilium.version, tools.tflint, images.ubuntu.release.
	Field string
	// Version is the value as written, e.g. v1.12.7 or 1.19.5.
	Version string
	// Line is the line of homelab.yaml that holds it.
	Line int
}

// Facts are the versions of one inventory file.
type Facts struct {
	// File is the inventory file's name as findings print it.
	File string
	// Talos is talos.version; Kubernetes is kubernetes.version.
	Talos, Kubernetes Fact
	// Charts maps a chart's key under kubernetes.charts to its version,
	// and ChartNames the same key to the chart's name in its repository.
	Charts     map[string]Fact
	ChartNames map[string]string
	// Tools maps a tool of tools: to its version.
	Tools map[string]Fact
	// Images maps an image of images: (ubuntu, debian, …) to its release.
	Images map[string]Fact
}

// ErrInventory says the inventory's versions could not be read.
var ErrInventory = errors.New("cannot read the inventory's versions")

// LoadFacts reads the versions of the inventory file path; name is how
// findings name it (e.g. homelab.yaml).
func LoadFacts(path, name string) (*Facts, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInventory, err)
	}
	return ParseFacts(name, data)
}

// ParseFacts reads the versions of an inventory's text; name is how
// findings name it.
func ParseFacts(name string, data []byte) (*Facts, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInventory, name, err)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%w: %s is empty", ErrInventory, name)
	}
	root := doc.Content[0]
	f := &Facts{File: name, Charts: map[string]Fact{}, ChartNames: map[string]string{},
		Tools: map[string]Fact{}, Images: map[string]Fact{}}
	scalar := func(n *yaml.Node, field string) (Fact, bool) {
		if n == nil || n.Kind != yaml.ScalarNode || n.Value == "" {
			return Fact{}, false
		}
		return Fact{Field: field, Version: n.Value, Line: n.Line}, true
	}
	var ok bool
	if f.Talos, ok = scalar(lookup(root, "talos", "version"), "talos.version"); !ok {
		return nil, fmt.Errorf("%w: %s: talos.version is missing", ErrInventory, name)
	}
	if f.Kubernetes, ok = scalar(lookup(root, "kubernetes", "version"), "kubernetes.version"); !ok {
		return nil, fmt.Errorf("%w: %s: kubernetes.version is missing", ErrInventory, name)
	}
	each(lookup(root, "kubernetes", "charts"), func(key string, v *yaml.Node) {
		if fact, ok := scalar(lookup(v, "version"), "kubernetes.charts."+key+".version"); ok {
			f.Charts[key] = fact
			f.ChartNames[key] = key
			if c := lookup(v, "chart"); c != nil && c.Value != "" {
				f.ChartNames[key] = c.Value
			}
		}
	})
	each(lookup(root, "tools"), func(key string, v *yaml.Node) {
		if fact, ok := scalar(v, "tools."+key); ok {
			f.Tools[key] = fact
		}
	})
	each(lookup(root, "images"), func(key string, v *yaml.Node) {
		if fact, ok := scalar(lookup(v, "release"), "images."+key+".release"); ok {
			f.Images[key] = fact
		}
	})
	return f, nil
}

// All returns every fact, ordered by field.
func (f *Facts) All() []Fact {
	out := []Fact{f.Talos, f.Kubernetes}
	for _, m := range []map[string]Fact{f.Charts, f.Tools, f.Images} {
		for _, fact := range m {
			out = append(out, fact)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}

// lookup follows keys down mappings; nil when one is missing.
func lookup(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if strings.EqualFold(n.Content[i].Value, k) {
				next = n.Content[i+1]
				break
			}
		}
		n = next
	}
	return n
}

// each calls fn for every entry of a mapping.
func each(n *yaml.Node, fn func(key string, v *yaml.Node)) {
	if n == nil || n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		fn(n.Content[i].Value, n.Content[i+1])
	}
}
