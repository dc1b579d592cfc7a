package versions

import (
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// version is a release with two or three numbers (the last may be x), v
// optional, and an optional pre-release.
const version = `v?\d+\.\d+(?:\.(?:\d+|x))?(?:-(?:alpha|beta|rc)[0-9.]*)?`

// before is what may precede a name: not part of a longer word, path or
// module (k8s.io/kubernetes is a Go module, not the cluster's release).
const before = `(?:^|[^A-Za-z0-9_./-])`

// beforeOrSlash is before, or a slash: a file or folder named after a
// tool and its version (infra-tools/tflint-vX.Y.Z/), which the prose
// rule takes only with the -v or _v separator.
const beforeOrSlash = `(?:^|[^A-Za-z0-9_.-])`

// sameRelease are the charts whose chart version is the project's own
// release, so "Cilium X.Y" in prose names the chart's version; the other
// charts' releases differ from their chart versions (Loki 3 ships in
// chart 6), so only chart contexts name those.
var sameRelease = map[string]bool{"cilium": true, "longhorn": true, "csi-driver-nfs": true, "nvidia-device-plugin": true}

// imageNames are the names prose gives an image's OS before its release.
var imageNames = map[string]string{"ubuntu": "Ubuntu", "debian": "Debian", "nixos": "NixOS", "windows": "Windows Server"}

// historical are the words after which a version states history or a
// bound, not a pin ("since Kubernetes 1.31", "before Talos v1.10").
var historical = []string{"since", "before", "after", "until", "till", "prior to", "older than", "newer than",
	"earlier than", "later than", "up to", "below", "above"}

// rangeAfter is a version followed by "to"/"–" and another: a window.
var rangeAfter = regexp.MustCompile(`^\s*(?:to|through|–|—|-|\.\.)\s*` + "`?" + `v?\d`)

// rules are the compiled rules for one inventory.
type rules struct {
	facts *Facts
	// prose matches a name and a version; names maps a lower-case name
	// to its fact.
	prose *regexp.Regexp
	names map[string]Fact
	// image matches an OS name and a release; images maps the lower-case
	// name to its fact.
	image  *regexp.Regexp
	images map[string]Fact
	// imageKeys maps the lower-case name to the image's key (debian): the
	// rule reads only files under a folder of that name (packer/debian/),
	// elsewhere "Debian 12" may be a machine's OS.
	imageKeys map[string]string
	// archive, chartFirst and chartAfter match a chart name and version;
	// charts maps a lower-case chart name to its fact.
	archive, chartFirst, chartAfter *regexp.Regexp
	charts                          map[string]Fact
	// provider matches a Terraform provider's source and a constraint in
	// prose ("bpg/proxmox `~> X.Y`"); providers maps its type (proxmox)
	// to tools.terraform-provider-<type>.
	provider  *regexp.Regexp
	providers map[string]Fact
	// containers are the container images whose tag is a version.
	containers []container
	// checked counts the versions compared, agreeing or not.
	checked int
}

// container is an image reference whose tag is the fact's version.
type container struct {
	re   *regexp.Regexp
	fact Fact
}

func newRules(f *Facts) *rules {
	r := &rules{facts: f, names: map[string]Fact{}, images: map[string]Fact{}, imageKeys: map[string]string{},
		charts: map[string]Fact{}, providers: map[string]Fact{}}
	r.names["talos"] = f.Talos
	r.names["kubernetes"] = f.Kubernetes
	for key, fact := range f.Charts {
		name := strings.ToLower(f.ChartNames[key])
		r.charts[name] = fact
		if sameRelease[name] {
			r.names[name] = fact
		}
	}
	for tool, fact := range f.Tools {
		r.names[strings.ToLower(tool)] = fact
	}
	for img, fact := range f.Images {
		if n, ok := imageNames[img]; ok && strings.Trim(fact.Version, "0123456789.") == "" {
			r.images[strings.ToLower(n)] = fact
			r.imageKeys[strings.ToLower(n)] = img
		}
	}
	r.prose = regexp.MustCompile(`(?i)` + beforeOrSlash + `(` + alternation(r.names) + `)([ \t]*(?:>=|~>)[ \t]*` + "`?" + `|[ \t]\(?` + "`?" + `|@|[-_]v)?` + `(` + version + `)`)
	providers := map[string]Fact{}
	for tool, fact := range f.Tools {
		if typ, ok := strings.CutPrefix(strings.ToLower(tool), "terraform-provider-"); ok {
			providers[typ] = fact
			r.providers[typ] = fact
		}
	}
	r.provider = regexp.MustCompile(`(?i)` + before + `([a-z0-9-]+/(` + alternation(providers) + `))` + "`?" + `[ \t]+` + "`?" + `(?:~>|>=)[ \t]*(` + version + `)`)
	r.image = regexp.MustCompile(`(?i)` + before + `(` + alternation(r.images) + `) (\d+(?:\.\d+)?)`)
	charts := alternation(r.charts)
	r.archive = regexp.MustCompile(`(?i)` + before + `(` + charts + `)-(` + version + `)\.tgz`)
	r.chartFirst = regexp.MustCompile(`(?i)\bchart[ :]+` + "`?" + `(` + charts + `)` + "`?" + `[ @]` + "`?" + `(` + version + `)`)
	r.chartAfter = regexp.MustCompile(`(?i)` + before + `(` + charts + `)` + "`?" + ` chart ` + "`?" + `(` + version + `)`)
	k8s := `(?:registry\.k8s\.io/kube-(?:apiserver|controller-manager|scheduler|proxy)|ghcr\.io/siderolabs/kubelet):(` + version + `)`
	talos := `(?:ghcr\.io/siderolabs/installer|factory\.talos\.dev/[a-z-]*installer/[0-9a-f]+):(` + version + `)`
	r.containers = []container{{regexp.MustCompile(k8s), f.Kubernetes}, {regexp.MustCompile(talos), f.Talos}}
	return r
}

// alternation is a regexp alternative of the map's keys, longest first
// so that talosctl is tried before talos.
func alternation[V any](m map[string]V) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, regexp.QuoteMeta(k))
	}
	sort.Slice(keys, func(i, j int) bool {
		if len(keys[i]) != len(keys[j]) {
			return len(keys[i]) > len(keys[j])
		}
		return keys[i] < keys[j]
	})
	if len(keys) == 0 {
		return `\x00never`
	}
	return strings.Join(keys, "|")
}

// file applies every rule that fits the file.
func (r *rules) file(root, rel string, data []byte) ([]Finding, error) {
	switch {
	case path.Base(rel) == "go.mod":
		return r.gomod(root, rel, data)
	case strings.HasSuffix(rel, ".tf"):
		return r.hcl(rel, data, "terraform")
	case strings.HasSuffix(rel, ".pkr.hcl"):
		return r.hcl(rel, data, "packer")
	}
	var out []Finding
	if strings.HasSuffix(rel, ".yaml") || strings.HasSuffix(rel, ".yml") {
		out = append(out, r.yamlCharts(rel, data)...)
	}
	return append(out, r.lines(rel, data)...), nil
}

// lines applies the line rules: prose, image OS, chart, container image.
func (r *rules) lines(rel string, data []byte) []Finding {
	var out []Finding
	lines := strings.Split(string(data), "\n")
	for i, line := range lines {
		if !strings.ContainsAny(line, "0123456789") {
			continue // no version
		}
		lower := strings.ToLower(line)
		prev, next := "", ""
		if i > 0 {
			prev = lines[i-1]
		}
		if i+1 < len(lines) {
			next = strings.TrimLeft(lines[i+1], " \t/#*>-")
		}
		add := func(rule string, text, found string, fact Fact) {
			r.checked++
			if !agrees(found, fact.Version) {
				out = append(out, Finding{File: rel, Line: i + 1, Rule: rule, Text: text, Found: found, Fact: fact})
			}
		}
		for _, m := range r.matches(r.prose, r.names, lower, line) {
			name, sep, v := line[m[2]:m[3]], "", line[m[6]:m[7]]
			if m[4] >= 0 {
				sep = line[m[4]:m[5]]
			}
			if m[2] > 0 && line[m[2]-1] == '/' && sep != "-v" && sep != "_v" {
				continue // a module path (k8s.io/kubernetes vX.Y.Z), not a release of ours
			}
			if !endsVersion(line, m[7]) || r.notAPin(line, m[2], m[7], prev, next) {
				continue
			}
			add("prose", strings.TrimSpace(line[m[2]:m[7]]), v, r.names[strings.ToLower(name)])
		}
		for _, m := range r.matches(r.image, r.images, lower, line) {
			name, v := line[m[2]:m[3]], line[m[4]:m[5]]
			if !inFolder(rel, r.imageKeys[strings.ToLower(name)]) || !endsVersion(line, m[5]) || r.notAPin(line, m[2], m[5], prev, next) {
				continue
			}
			add("prose", line[m[2]:m[5]], v, r.images[strings.ToLower(name)])
		}
		for _, m := range r.matches(r.provider, r.providers, lower, line) {
			if endsVersion(line, m[7]) {
				add("prose", line[m[2]:m[7]], line[m[6]:m[7]], r.providers[strings.ToLower(line[m[4]:m[5]])])
			}
		}
		for _, re := range []*regexp.Regexp{r.archive, r.chartFirst, r.chartAfter} {
			for _, m := range r.matches(re, r.charts, lower, line) {
				name, v := line[m[2]:m[3]], line[m[4]:m[5]]
				if re != r.archive && !endsVersion(line, m[5]) {
					continue
				}
				add("chart", strings.TrimSpace(line[m[0]:m[1]]), v, r.charts[strings.ToLower(name)])
			}
		}
		for _, c := range r.containers {
			for _, m := range c.re.FindAllStringSubmatchIndex(line, -1) {
				if endsVersion(line, m[3]) {
					add("image", line[m[0]:m[1]], line[m[2]:m[3]], c.fact)
				}
			}
		}
	}
	return out
}

// matches runs re over line only when its lower-case form holds one of
// the names re looks for: most lines name none, and a regexp of many
// case-insensitive alternatives is slow.
func (r *rules) matches(re *regexp.Regexp, names map[string]Fact, lower, line string) [][]int {
	for n := range names {
		if strings.Contains(lower, n) {
			return re.FindAllStringSubmatchIndex(line, -1)
		}
	}
	return nil
}

// inFolder says whether rel lies under a folder named dir.
func inFolder(rel, dir string) bool {
	segs := strings.Split(rel, "/")
	return slices.Contains(segs[:len(segs)-1], dir)
}

// isLetter says whether c is an ASCII letter.
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// endsVersion says whether the version that ends at end is whole: not
// followed by another digit, letter or ".digit".
func endsVersion(line string, end int) bool {
	if end >= len(line) {
		return true
	}
	c := line[end]
	if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' {
		return false
	}
	return !(c == '.' && end+1 < len(line) && line[end+1] >= '0' && line[end+1] <= '9')
}

// notAPin says whether the mention from start to end states history or
// a window: a historical word before it (on its line, or ending the line
// before when it starts one), another version after it (on its line, or
// starting the next when it ends one).
func (r *rules) notAPin(line string, start, end int, prev, next string) bool {
	const marks = " \t`*(\"'"
	pre := strings.TrimRight(line[:start], marks)
	if strings.TrimLeft(pre, " \t/#*>-") == "" {
		pre = strings.TrimRight(prev, marks)
	}
	pre = strings.ToLower(pre)
	for _, w := range historical {
		if strings.HasSuffix(pre, w) && (len(pre) == len(w) || !isLetter(pre[len(pre)-len(w)-1])) {
			return true
		}
	}
	rest := strings.TrimLeft(line[end:], "`*")
	if strings.TrimSpace(rest) == "" {
		rest = " " + next
	}
	return rangeAfter.MatchString(rest)
}
