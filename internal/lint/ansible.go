package lint

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/wdiazux/infra/lib/ansible"
)

// AnsibleDir is the directory of the Ansible code, below the root.
const AnsibleDir = "ansible"

// AnsibleLint is the ansible-lint step: ansible-lint with the production
// profile over ansible/ (its .ansible-lint), through lib/ansible, each
// violation a finding with ansible-lint's rule (fqcn[action-core], …). It
// runs when any file under ansible/ is staged (ansible-lint reads the
// playbooks with their roles). A finding accepted on purpose is listed
// with its reason in ansible/.ansible-lint (skip_list) or silenced on its
// line with "# noqa: rule".
func AnsibleLint() Step {
	return Step{Name: "ansible-lint", Run: func(ctx context.Context, env *Env) (Result, error) {
		_, res, done, err := env.start(ctx, func(path string) bool {
			return strings.HasPrefix(path, AnsibleDir+"/") && hasExt(".yml", ".yaml")(path)
		}, "no Ansible YAML")
		if done {
			return res, err
		}
		if _, err := env.tool("ansible-lint"); err != nil {
			return res, err
		}
		var out bytes.Buffer
		r := ansible.New(filepath.Join(env.Root, AnsibleDir), ansible.WithOutput(&out), ansible.WithLogger(env.Log))
		err = r.AnsibleLint(ctx, "-p")
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			return res, err
		}
		res.Findings = parseAnsibleLint(out.String())
		if err != nil {
			res.Exit = exit.ExitCode()
			if len(res.Findings) == 0 {
				return res, silentFailure("ansible-lint", output{stdout: out.String(), code: res.Exit})
			}
		}
		return res, nil
	}}
}

// ansibleLintLine is a violation of ansible-lint -p: "file:line[:col]:
// rule: message", the file relative to ansible/.
var ansibleLintLine = regexp.MustCompile(`^(\S+?):(\d+)(?::\d+)?: (\S+): (.*)$`)

// parseAnsibleLint reads ansible-lint -p's violations.
func parseAnsibleLint(out string) []Finding {
	return scanFindings(out, ansibleLintLine, func(m []string) Finding {
		n, _ := strconv.Atoi(m[2])
		return Finding{Tool: "ansible-lint", File: filepath.Join(AnsibleDir, m[1]), Line: n, Rule: m[3], Message: m[4]}
	})
}

// YAMLConfig is yamllint's configuration, at the root.
const YAMLConfig = ".yamllint"

// Yamllint is the yamllint step: yamllint --strict with the root's
// .yamllint over every YAML file of the repository (RepoFiles: no
// fixture, nothing generated, which git ignores), each problem a finding
// with yamllint's rule. An exception lives in .yamllint (a rule's ignore
// patterns, with the reason in a comment) or on its line as "#
// yamllint disable-line rule:NAME".
func Yamllint() Step {
	return Step{Name: "yamllint", Run: func(ctx context.Context, env *Env) (Result, error) {
		files, res, done, err := env.start(ctx, hasExt(".yml", ".yaml"), "no YAML file")
		if done {
			return res, err
		}
		o, err := env.run(ctx, ".", nil, "yamllint", append([]string{"--strict", "-f", "parsable", "-c", YAMLConfig}, files...)...)
		if err != nil {
			return res, err
		}
		res.Findings = parseYamllint(o.stdout)
		res.Exit = o.code
		if o.code != 0 && len(res.Findings) == 0 {
			return res, silentFailure("yamllint", o)
		}
		return res, nil
	}}
}

// yamllintLine is a problem of yamllint -f parsable: "file:line:col:
// [level] message (rule)".
var yamllintLine = regexp.MustCompile(`^(.+?):(\d+):\d+: \[(\w+)\] (.*?)(?: \(([\w-]+)\))?$`)

// parseYamllint reads yamllint -f parsable's problems.
func parseYamllint(out string) []Finding {
	return scanFindings(out, yamllintLine, func(m []string) Finding {
		n, _ := strconv.Atoi(m[2])
		return Finding{Tool: "yamllint", File: filepath.Clean(m[1]), Line: n, Rule: m[5], Message: m[4] + " (" + m[3] + ")"}
	})
}
