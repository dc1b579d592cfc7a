package trivyscan

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// Accepted is one finding trivy is told to ignore, with the reason.
type Accepted struct {
	// Kind is the ignore file's section: misconfigurations, vulnerabilities,
	// secrets or licenses.
	Kind string
	// ID is the check's ID, e.g. AWS-0107 (trivy 0.74 names its checks so; older releases said AVD-AWS-0107).
	ID string
	// Paths limit the entry to these files: doublestar patterns relative
	// to the repository root, under a scanned folder's name
	// (terraform/talos/main.tf, rendered/longhorn/**); none means every
	// file of every folder.
	Paths []string
	// Statement is why the finding is accepted.
	Statement string
	// Line is the entry's line in the ignore file.
	Line int
}

// ignoreEntry is one entry of trivy's YAML ignore file, as trivy reads it.
type ignoreEntry struct {
	ID        string   `yaml:"id"`
	Paths     []string `yaml:"paths"`
	PURLs     []string `yaml:"purls"`
	ExpiredAt string   `yaml:"expired_at"`
	Statement string   `yaml:"statement"`
}

// LoadIgnore reads trivy's YAML ignore file and returns its entries.
// The file must exist (an empty one accepts nothing) and hold only
// trivy's sections and fields; every entry needs an id and a statement
// saying why the finding is accepted. A bad entry is refused naming the
// file, its line and what is missing.
func LoadIgnore(file string) ([]Accepted, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("trivy's ignore file: %w; it lists the findings accepted on purpose (an empty file accepts none)", err)
	}
	var doc struct {
		Misconfigurations []yaml.Node `yaml:"misconfigurations"`
		Vulnerabilities   []yaml.Node `yaml:"vulnerabilities"`
		Secrets           []yaml.Node `yaml:"secrets"`
		Licenses          []yaml.Node `yaml:"licenses"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w (trivy's ignore file has the sections misconfigurations, vulnerabilities, secrets and licenses)", file, err)
	}
	var out []Accepted
	var problems []string
	for _, sec := range []struct {
		kind  string
		nodes []yaml.Node
	}{{"misconfigurations", doc.Misconfigurations}, {"vulnerabilities", doc.Vulnerabilities}, {"secrets", doc.Secrets}, {"licenses", doc.Licenses}} {
		for i := range sec.nodes {
			n := &sec.nodes[i]
			e, err := decodeEntry(n)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s:%d: %s[%d]: %v", file, n.Line, sec.kind, i, err))
				continue
			}
			if strings.TrimSpace(e.ID) == "" {
				problems = append(problems, fmt.Sprintf("%s:%d: %s[%d] has no id: name the check it accepts", file, n.Line, sec.kind, i))
			}
			if strings.TrimSpace(e.Statement) == "" {
				problems = append(problems, fmt.Sprintf("%s:%d: %s[%d] (%s) has no statement: say why the finding is accepted", file, n.Line, sec.kind, i, e.ID))
			}
			out = append(out, Accepted{Kind: sec.kind, ID: e.ID, Paths: e.Paths, Statement: strings.TrimSpace(e.Statement), Line: n.Line})
		}
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "; "))
	}
	return out, nil
}

// decodeEntry decodes one entry, refusing a field trivy does not know (a
// misspelt statement would otherwise pass unseen).
func decodeEntry(n *yaml.Node) (ignoreEntry, error) {
	var e ignoreEntry
	data, err := yaml.Marshal(n)
	if err != nil {
		return e, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err = dec.Decode(&e)
	return e, err
}
