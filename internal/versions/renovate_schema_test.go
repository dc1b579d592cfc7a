package versions_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"

	"github.com/wdiazux/infra/internal/testsuite"
	"github.com/wdiazux/infra/internal/testtool"
	"github.com/wdiazux/infra/internal/toolchain"
)

// renovateValidator returns Renovate's renovate-config-validator and the
// JSON schema its package ships, at homelab.yaml's tools.renovate, from
// the tool cache (go run mage.go test installs them; CI=true makes their
// absence a failure).
func renovateValidator(t *testing.T) (validator, schema string) {
	t.Helper()
	tools, err := testsuite.NPMTools(filepath.Join(repoRoot(t), "homelab.yaml"))
	require.NoError(t, err)
	validator = testtool.RequireNPMTool(t, tools[0])
	cache, err := toolchain.CacheDir()
	require.NoError(t, err)
	return validator, filepath.Join(tools[0].PackageDir(cache), "renovate-schema.json")
}

// requireNode skips the test when the node on PATH is older than major:
// Renovate's validator runs on Node 20 (its package asks for 24; 20 only
// warns) but not on Debian 12's Node 18 (a SyntaxError: its regexps use
// the v flag). TestRenovateConfigMatchesTheSchema validates renovate.json
// against the same release's schema on any Node.
func requireNode(t *testing.T, major int) {
	t.Helper()
	node := testtool.Require(t, "node")
	out, err := exec.Command(node, "--version").Output()
	require.NoError(t, err)
	v := strings.TrimSpace(string(out))
	n, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(v, "v"), ".", 2)[0])
	require.NoError(t, err, "node --version said %q", v)
	if n < major {
		t.Skipf("node %s cannot run Renovate's renovate-config-validator (it needs Node %d or later); "+
			"TestRenovateConfigMatchesTheSchema validates renovate.json against the release's JSON schema instead", v, major)
	}
}

// validate runs renovate-config-validator --strict on the renovate.json of
// dir (as Renovate reads a repository's config) and returns its output
// and whether it passed.
func validate(t *testing.T, validator, dir string) (string, bool) {
	cmd := exec.Command(validator, "--strict")
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit, out.String())
	}
	return out.String(), err == nil
}

// TestRenovateConfigValidates runs the real renovate-config-validator on
// the repository's renovate.json (strict: a migration it would make is an
// error too) and on a config with an unknown option, which it refuses.
func TestRenovateConfigValidates(t *testing.T) {
	validator, _ := renovateValidator(t)
	requireNode(t, 20)
	out, ok := validate(t, validator, repoRoot(t))
	require.True(t, ok, out)
	require.Contains(t, out, "Config validated successfully")

	bad := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(bad, "renovate.json"), []byte(`{"schedule": ["weekly"], "grupName": "x"}`), 0o644))
	out, ok = validate(t, validator, bad)
	require.False(t, ok, out)
	require.Contains(t, out, "Invalid configuration option: grupName")
}

// TestRenovateConfigMatchesTheSchema validates renovate.json against the
// JSON schema of the same Renovate release, and holds every key it uses
// (top level, customManagers; packageRules: their own or any top-level
// option) to one the schema defines, as the validator does; a config of
// the wrong type fails the schema.
func TestRenovateConfigMatchesTheSchema(t *testing.T) {
	_, schemaFile := renovateValidator(t)
	f, err := os.Open(schemaFile)
	require.NoError(t, err)
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource("renovate-schema.json", doc))
	sch, err := c.Compile("renovate-schema.json")
	require.NoError(t, err)

	data, err := os.ReadFile(filepath.Join(repoRoot(t), "renovate.json"))
	require.NoError(t, err)
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	require.NoError(t, err)
	require.NoError(t, sch.Validate(inst))

	wrong, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(`{"schedule": 5, "packageRules": [{"groupName": ["x"]}]}`)))
	require.NoError(t, err)
	require.Error(t, sch.Validate(wrong))

	var schema struct {
		Properties  map[string]json.RawMessage `json:"properties"`
		Definitions map[string]struct {
			Items struct {
				AllOf []struct {
					Properties map[string]json.RawMessage `json:"properties"`
				} `json:"allOf"`
			} `json:"items"`
		} `json:"definitions"`
	}
	raw, err := os.ReadFile(schemaFile)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &schema))
	var cfg map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(data, &cfg))
	for key := range cfg {
		_, ok := schema.Properties[key]
		require.True(t, ok || key == "$schema", "renovate.json: %s is no option of this Renovate", key)
	}
	for _, list := range []string{"customManagers", "packageRules"} {
		allowed := schema.Definitions[list].Items.AllOf[0].Properties
		require.NotEmpty(t, allowed, list)
		var items []map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(cfg[list], &items))
		for i, item := range items {
			for key := range item {
				_, ok := allowed[key]
				if list == "packageRules" {
					// A package rule may set any option besides its matchers.
					_, top := schema.Properties[key]
					ok = ok || top
				}
				require.True(t, ok, "renovate.json: %s[%d].%s is no option of this Renovate", list, i, key)
			}
		}
	}
}
