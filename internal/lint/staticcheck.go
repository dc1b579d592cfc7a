package lint

import (
	"bufio"
	"context"
	"encoding/json"
	"strings"
)

// Staticcheck is the staticcheck step: staticcheck (from the tool cache)
// over ./..., then over the Mage targets' files named together (they
// carry the "mage" tag, which cannot be passed for the same reason as to
// go vet; see Vet). Each problem of its -f json output is a finding with
// staticcheck's code as the rule. A finding accepted on purpose is
// silenced in the code with a //lint:ignore CODE reason comment.
func Staticcheck() Step {
	return Step{Name: "staticcheck", Tools: []string{"staticcheck"}, Run: func(ctx context.Context, env *Env) (Result, error) {
		_, res, done, err := env.start(ctx, hasExt(".go"), "no Go file")
		if done {
			return res, err
		}
		sets, err := MageFileSets(env.Root)
		if err != nil {
			return res, err
		}
		runs := [][]string{{"./..."}}
		if len(sets) > 0 {
			runs = append(runs, sets[0]) // every target file together
		}
		err = env.runEach(ctx, &res, "staticcheck", []string{"-f", "json"}, runs, func(o output) []Finding {
			return parseStaticcheck(env.Root, o.stdout)
		})
		return res, err
	}}
}

// parseStaticcheck reads staticcheck -f json's output, one JSON object
// a line.
func parseStaticcheck(root, out string) []Finding {
	var found []Finding
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		var p struct {
			Code     string `json:"code"`
			Severity string `json:"severity"`
			Location struct {
				File string `json:"file"`
				Line int    `json:"line"`
			} `json:"location"`
			Message string `json:"message"`
		}
		if json.Unmarshal(sc.Bytes(), &p) != nil || p.Code == "" {
			continue
		}
		found = append(found, Finding{Tool: "staticcheck", File: relTo(root, p.Location.File), Line: p.Location.Line, Rule: p.Code, Message: p.Message})
	}
	return found
}
