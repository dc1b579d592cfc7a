package versions_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/versions"
)

// renovateConfig is the part of renovate.json the tests read.
type renovateConfig struct {
	IgnorePaths    []string        `json:"ignorePaths"`
	CustomManagers []customManager `json:"customManagers"`
	PackageRules   []packageRule   `json:"packageRules"`
}

type customManager struct {
	CustomType          string   `json:"customType"`
	Description         string   `json:"description"`
	ManagerFilePatterns []string `json:"managerFilePatterns"`
	MatchStrings        []string `json:"matchStrings"`
	// Templates, by field (depNameTemplate → depName).
	Templates map[string]string `json:"-"`
}

type packageRule struct {
	MatchPackageNames []string `json:"matchPackageNames"`
	MatchFileNames    []string `json:"matchFileNames"`
	MatchDepTypes     []string `json:"matchDepTypes"`
	GroupName         string   `json:"groupName"`
	Enabled           *bool    `json:"enabled"`
}

// renovateFields are the fields a regex custom manager fills from a named
// group or a <field>Template (Renovate's validMatchFields).
var renovateFields = []string{"depName", "packageName", "currentValue", "currentDigest", "datasource",
	"versioning", "extractVersion", "registryUrl", "depType", "indentation"}

// dep is a dependency a custom manager extracts, as Renovate would.
type dep struct {
	File   string
	Line   int
	Fields map[string]string
}

func (d dep) get(f string) string {
	if f == "packageName" && d.Fields[f] == "" {
		return d.Fields["depName"]
	}
	return d.Fields[f]
}

func loadRenovate(t *testing.T, root string) renovateConfig {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "renovate.json"))
	require.NoError(t, err)
	var cfg renovateConfig
	require.NoError(t, json.Unmarshal(data, &cfg))
	var raw struct {
		CustomManagers []map[string]any `json:"customManagers"`
	}
	require.NoError(t, json.Unmarshal(data, &raw))
	for i, m := range raw.CustomManagers {
		cfg.CustomManagers[i].Templates = map[string]string{}
		for _, f := range renovateFields {
			if v, ok := m[f+"Template"].(string); ok {
				cfg.CustomManagers[i].Templates[f] = v
			}
		}
	}
	return cfg
}

// template renders the only Handlebars Renovate's templates here use:
// {{{group}}} substitutions; anything else fails the test.
var handlebars = regexp.MustCompile(`\{\{\{?([^{}]*)\}?\}\}`)

func render(t *testing.T, tmpl string, groups map[string]string) string {
	return handlebars.ReplaceAllStringFunc(tmpl, func(m string) string {
		name := strings.TrimSpace(handlebars.FindStringSubmatch(m)[1])
		require.Regexp(t, `^[A-Za-z]+$`, name, "template %q: only {{{group}}} is emulated", tmpl)
		v, ok := groups[name]
		require.True(t, ok, "template %q names %s, which its regex does not capture", tmpl, name)
		return v
	})
}

// ignored applies renovate.json's ignorePaths (the ** globs it uses).
func ignored(cfg renovateConfig, rel string) bool {
	for _, p := range cfg.IgnorePaths {
		inner := strings.TrimSuffix(strings.TrimPrefix(p, "**/"), "/**")
		switch {
		case strings.HasPrefix(p, "**/") && (strings.HasPrefix(rel, inner+"/") || strings.Contains(rel, "/"+inner+"/")):
			return true
		case !strings.HasPrefix(p, "**/") && strings.HasPrefix(rel, inner+"/"):
			return true
		}
	}
	return false
}

// extract runs every custom manager over the tracked files the way
// Renovate's regex manager does (each matchString with the g flag, the
// named groups, the templates) and returns the dependencies by manager.
func extract(t *testing.T, root string, cfg renovateConfig) [][]dep {
	t.Helper()
	files, err := versions.TrackedFiles(context.Background(), root)
	require.NoError(t, err)
	out := make([][]dep, len(cfg.CustomManagers))
	for i, m := range cfg.CustomManagers {
		require.Equal(t, "regex", m.CustomType, m.Description)
		var patterns []*regexp.Regexp
		for _, p := range m.ManagerFilePatterns {
			require.True(t, strings.HasPrefix(p, "/") && strings.HasSuffix(p, "/"), "%s: managerFilePatterns %q is a /regex/", m.Description, p)
			patterns = append(patterns, regexp.MustCompile(p[1:len(p)-1]))
		}
		for _, rel := range files {
			if ignored(cfg, rel) || !slices.ContainsFunc(patterns, func(re *regexp.Regexp) bool { return re.MatchString(rel) }) {
				continue
			}
			data, err := os.ReadFile(filepath.Join(root, rel))
			require.NoError(t, err)
			for _, ms := range m.MatchStrings {
				// Renovate compiles matchStrings with RE2 (JavaScript
				// syntax); Go's regexp is RE2 and reads (?<name>…) too.
				re, err := regexp.Compile(ms)
				require.NoError(t, err, "%s: matchString %q is not RE2", m.Description, ms)
				for _, loc := range re.FindAllStringSubmatchIndex(string(data), -1) {
					groups := map[string]string{}
					for gi, name := range re.SubexpNames() {
						if name != "" && loc[2*gi] >= 0 {
							groups[name] = string(data[loc[2*gi]:loc[2*gi+1]])
						}
					}
					d := dep{File: rel, Fields: map[string]string{}}
					for _, f := range renovateFields {
						if tmpl, ok := m.Templates[f]; ok {
							d.Fields[f] = render(t, tmpl, groups)
						} else if groups[f] != "" {
							d.Fields[f] = groups[f]
						}
					}
					at := loc[0]
					if gi := re.SubexpIndex("currentValue"); gi > 0 && loc[2*gi] >= 0 {
						at = loc[2*gi]
					}
					d.Line = strings.Count(string(data[:at]), "\n") + 1
					require.True(t, (d.get("depName") != "" || d.get("packageName") != "") &&
						(d.get("currentValue") != "" || d.get("currentDigest") != "") && d.get("datasource") != "",
						"%s:%d: %s extracts %v, which Renovate discards (it needs a name, a value and a datasource)", rel, d.Line, m.Description, d.Fields)
					out[i] = append(out[i], d)
				}
			}
		}
	}
	return out
}

func repoRoot(t *testing.T) string {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	return root
}

// TestRenovateCoversEveryInventoryVersion: the custom managers extract
// every version homelab.yaml pins (Talos, Kubernetes, each chart, each
// tool; the images' OS releases are chosen by hand), each exactly once, at
// its line, with the datasource and name Renovate looks it up by.
func TestRenovateCoversEveryInventoryVersion(t *testing.T) {
	root := repoRoot(t)
	cfg := loadRenovate(t, root)
	facts, err := versions.LoadFacts(filepath.Join(root, "homelab.yaml"), "homelab.yaml")
	require.NoError(t, err)
	byLine := map[int][]dep{}
	for _, deps := range extract(t, root, cfg) {
		for _, d := range deps {
			if d.File == "homelab.yaml" {
				byLine[d.Line] = append(byLine[d.Line], d)
			}
		}
	}
	covered := map[string]dep{}
	for _, f := range facts.All() {
		if strings.HasPrefix(f.Field, "images.") {
			continue
		}
		deps := byLine[f.Line]
		require.Len(t, deps, 1, "homelab.yaml:%d %s (%s): one custom manager extracts it", f.Line, f.Field, f.Version)
		require.Equal(t, f.Version, deps[0].get("currentValue"), "homelab.yaml:%d %s", f.Line, f.Field)
		covered[f.Field] = deps[0]
	}
	require.Len(t, byLine, len(covered), "every dependency extracted from homelab.yaml is a version of it")

	for field, want := range map[string]map[string]string{
		"talos.version":                    {"datasource": "github-releases", "depName": "siderolabs/talos"},
		"tools.talosctl":                   {"datasource": "github-releases", "depName": "siderolabs/talos", "extractVersion": `^v(?<version>.+)$`},
		"kubernetes.version":               {"datasource": "github-releases", "depName": "kubernetes/kubernetes"},
		"tools.kubectl":                    {"datasource": "github-releases", "depName": "kubernetes/kubernetes"},
		"kubernetes.charts.cilium.version": {"datasource": "helm", "depName": "cilium", "registryUrl": "https://helm.cilium.io"},
		"kubernetes.charts.csi-driver-nfs.version": {"datasource": "helm", "depName": "csi-driver-nfs",
			"registryUrl": "https://raw.githubusercontent.com/kubernetes-csi/csi-driver-nfs/master/charts"},
		"kubernetes.charts.forgejo.version": {"datasource": "docker", "depName": "forgejo", "packageName": "code.forgejo.org/forgejo-helm/forgejo"},
		"tools.tflint":                      {"datasource": "go", "packageName": "github.com/terraform-linters/tflint"},
		"tools.terraform":                   {"datasource": "github-releases", "depName": "hashicorp/terraform"},
		"tools.ansible-core":                {"datasource": "repology", "depName": "debian_12/ansible-core", "versioning": "loose"},
		"tools.renovate":                    {"datasource": "npm", "depName": "renovate"},
	} {
		d, ok := covered[field]
		require.True(t, ok, field)
		for k, v := range want {
			require.Equal(t, v, d.get(k), "%s: %s", field, k)
		}
	}
	// A release tagged vX.Y.Z for a version written X.Y.Z needs
	// extractVersion, or Renovate would compare v-less with v-ful.
	for field, d := range covered {
		if d.get("datasource") == "go" || d.get("datasource") == "github-releases" {
			v := d.get("currentValue")
			require.Equal(t, !strings.HasPrefix(v, "v"), d.get("extractVersion") == `^v(?<version>.+)$`, "%s: %s", field, v)
		}
	}
}

// TestRenovateMovesToolsModulesWithTheirInventoryLine: each pinned tools
// module's go.mod and its tools.<tool> line name the same module, so
// Renovate proposes the same new version for both, and one packageRule
// gives both one groupName, so they move in one pull request.
func TestRenovateMovesToolsModulesWithTheirInventoryLine(t *testing.T) {
	root := repoRoot(t)
	cfg := loadRenovate(t, root)
	facts, err := versions.LoadFacts(filepath.Join(root, "homelab.yaml"), "homelab.yaml")
	require.NoError(t, err)
	mods, err := versions.ToolsModules(root)
	require.NoError(t, err)
	require.NotEmpty(t, mods)
	deps := extract(t, root, cfg)
	inventoryDep := func(line int) dep {
		for _, ds := range deps {
			for _, d := range ds {
				if d.File == "homelab.yaml" && d.Line == line {
					return d
				}
			}
		}
		t.Fatalf("homelab.yaml:%d has no dependency", line)
		return dep{}
	}
	groupOf := func(name string) string {
		group := ""
		for _, r := range cfg.PackageRules {
			if slices.Contains(r.MatchPackageNames, name) && r.GroupName != "" && len(r.MatchFileNames) == 0 {
				group = r.GroupName
			}
		}
		return group
	}
	for _, m := range mods {
		fact, ok := facts.Tools[m.Tool]
		require.True(t, ok, m.Tool)
		d := inventoryDep(fact.Line)
		require.Equal(t, "go", d.get("datasource"), m.Tool)
		require.Equal(t, m.Module, d.get("packageName"), "tools.%s names the module %s requires", m.Tool, m.GoMod)
		require.NotEmpty(t, groupOf(m.Module), "%s: a packageRule groups %s (go.mod and homelab.yaml)", m.Tool, m.Module)
	}
	// The Packer templates' constraints are extracted, as the plugin's and
	// Packer's modules, at the inventory's versions and in their tools' groups.
	var packer []dep
	for i, m := range cfg.CustomManagers {
		if strings.HasPrefix(m.Description, "Packer templates") {
			packer = append(packer, deps[i]...)
		}
	}
	var pkrFiles []string
	for _, d := range packer {
		pkrFiles = append(pkrFiles, d.File)
		tool := strings.TrimPrefix(d.get("packageName"), "github.com/hashicorp/")
		fact, ok := facts.Tools[tool]
		require.True(t, ok, "%s:%d: %s", d.File, d.Line, tool)
		require.Equal(t, fact.Version, d.get("currentValue"), "%s:%d", d.File, d.Line)
		require.Equal(t, inventoryDep(fact.Line).get("packageName"), d.get("packageName"))
		require.NotEmpty(t, groupOf(d.get("packageName")))
	}
	for _, f := range []string{"packer/clone.pkr.hcl", "packer/windows/windows.pkr.hcl", "packer/ansible.pkr.hcl"} {
		require.Contains(t, pkrFiles, f)
	}
	// The Terraform providers (the terraform manager) share their tool's group.
	require.Equal(t, groupOf("github.com/bpg/terraform-provider-proxmox"), groupOf("bpg/proxmox"))
}

// TestRenovateFindsTheNpinsPin: the npins manager extracts nixpkgs with
// its branch and revision.
func TestRenovateFindsTheNpinsPin(t *testing.T) {
	root := repoRoot(t)
	cfg := loadRenovate(t, root)
	var found []dep
	for i, ds := range extract(t, root, cfg) {
		if strings.HasPrefix(cfg.CustomManagers[i].Description, "npins") {
			found = append(found, ds...)
		}
	}
	var sources struct {
		Pins map[string]struct {
			Branch, Revision string
		}
	}
	data, err := os.ReadFile(filepath.Join(root, "npins", "sources.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &sources))
	require.Len(t, found, len(sources.Pins))
	for _, d := range found {
		pin := sources.Pins[d.get("depName")]
		require.Equal(t, pin.Branch, d.get("currentValue"))
		require.Equal(t, pin.Revision, d.get("currentDigest"))
		require.Equal(t, "git-refs", d.get("datasource"))
		require.Equal(t, "https://github.com/NixOS/nixpkgs", d.get("packageName"))
	}
}
