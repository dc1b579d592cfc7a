package lint

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Shellcheck is the shellcheck step: every shell script of the
// repository (IsShellScript) through shellcheck -f json1, each comment a
// finding with its SC code as the rule. A finding accepted on purpose is
// silenced in the script with a "# shellcheck disable=SCnnnn" comment
// that says why.
func Shellcheck() Step {
	return Step{Name: "shellcheck", Run: func(ctx context.Context, env *Env) (Result, error) {
		files, res, done, err := env.start(ctx, func(path string) bool { return IsShellScript(filepath.Join(env.Root, path)) }, "no shell script")
		if done {
			return res, err
		}
		o, err := env.run(ctx, ".", nil, "shellcheck", append([]string{"-f", "json1", "-x"}, files...)...)
		if err != nil {
			return res, err
		}
		var out struct {
			Comments []struct {
				File    string `json:"file"`
				Line    int    `json:"line"`
				Level   string `json:"level"`
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"comments"`
		}
		if err := json.Unmarshal([]byte(o.stdout), &out); err != nil {
			return res, silentFailure("shellcheck", o)
		}
		seen := map[Finding]bool{}
		for _, c := range out.Comments {
			f := Finding{Tool: "shellcheck", File: relTo(env.Root, c.File), Line: c.Line,
				Rule: "SC" + strconv.Itoa(c.Code), Message: c.Message + " (" + c.Level + ")"}
			if !seen[f] { // the same problem at several columns of a line is one finding
				seen[f] = true
				res.Findings = append(res.Findings, f)
			}
		}
		res.Exit = o.code
		if o.code != 0 && len(res.Findings) == 0 {
			return res, silentFailure("shellcheck", o)
		}
		return res, nil
	}}
}

// shebang matches the first line of a sh or bash script.
var shebang = regexp.MustCompile(`^#!\s*(?:\S*/)?(?:env\s+(?:-\S+\s+)*)?(?:ba|da|k)?sh\b`)

// IsShellScript reports whether the file at path is a shell script: its
// name ends with .sh, or its first line is a sh or bash shebang.
func IsShellScript(path string) bool {
	if strings.HasSuffix(path, ".sh") {
		return true
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && line == "" {
		return false
	}
	return shebang.MatchString(line)
}
