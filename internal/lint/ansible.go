package lint

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
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
		files, err := env.files(ctx, func(path string) bool {
			return strings.HasPrefix(path, AnsibleDir+"/") && hasExt(".yml", ".yaml")(path)
		})
		if err != nil {
			return Result{}, err
		}
		res := Result{Files: len(files)}
		if len(files) == 0 {
			if env.Files != nil {
				res.Note = NoneStaged
				return res, nil
			}
			return res, fmt.Errorf("no Ansible YAML under %s: nothing to check", filepath.Join(env.Root, AnsibleDir))
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
	var found []Finding
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		m := ansibleLintLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[2])
		found = append(found, Finding{Tool: "ansible-lint", File: filepath.Join(AnsibleDir, m[1]), Line: n, Rule: m[3], Message: m[4]})
	}
	return found
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
		files, err := env.files(ctx, hasExt(".yml", ".yaml"))
		if err != nil {
			return Result{}, err
		}
		res := Result{Files: len(files)}
		if len(files) == 0 {
			if env.Files != nil {
				res.Note = NoneStaged
			}
			return res, nil
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
	var found []Finding
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		m := yamllintLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[2])
		found = append(found, Finding{Tool: "yamllint", File: filepath.Clean(m[1]), Line: n, Rule: m[5], Message: m[4] + " (" + m[3] + ")"})
	}
	return found
}
